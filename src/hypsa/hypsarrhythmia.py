"""Hypsarrhythmia: the BASED grade (0-5) of one 5-minute epoch, and the recording-level verdict.

The BASED score (Mytinger et al. 2021; see docs/methods.md) reads almost as an algorithm:

==== ====================================================================================
5    >= 3 spike foci, spikes in >= 50 % of 1-s bins (>= 10 of the twenty 15-s pages hold
     >= 8 one-second bins with a spike)
4    >= 3 foci in < 50 % of bins plus >= 1 high-amplitude channel; or paroxysmal voltage
     attenuations in a multifocal background
3    >= 3 foci and no high-amplitude channel; or 1-2 foci with >= 1 high-amplitude channel
2    1-2 spike foci and no high-amplitude channel
1    a definite non-epileptiform abnormality (high amplitude without spikes, discontinuity)
0    normal
==== ====================================================================================

Amplitude is peak-to-peak per 1-s bin on the longitudinal bipolar montage; a channel is "high
amplitude" when its median bin amplitude over the usable bins exceeds ``high_uv`` (200 µV).
Grades 4-5 are hypsarrhythmia.

One form escapes the grade: Hrachovy's modified hypsarrhythmia made of "mostly high-voltage slow
waves with few spikes" has too few discharges for three foci and grades 3. The
recording-level verdict therefore also calls hypsarrhythmia present in such an epoch when its
very high
voltage is *diffuse* (at least 85 % of the derivations above ``high_uv``) and *disorganised*
(channels not synchronous: mean absolute correlation below ``max_connectivity``; synchronous
high-voltage sleep slow waves are the hard negative this excludes) and a few discharges are
there. See :func:`slow_variant`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["GradingParams", "EpochGrade", "grade_epoch", "probability", "slow_variant",
           "PRESENT_FROM"]

#: Grades at or above this are hypsarrhythmia.
PRESENT_FROM = 4


@dataclass(frozen=True)
class GradingParams:
    """Documented thresholds of the BASED grading (all in the units named).

    Attributes
    ----------
    high_uv : float
        Bipolar peak-to-peak (µV) above which a channel is "abnormally high amplitude" (BASED
        uses > 200 µV; the exact value is unverified in the published text, so it is a parameter).
    page_s, pages_needed, bins_per_page : float, int, int
        The ">= 50 % of 1-s bins" rule: >= ``pages_needed`` 15-s pages each holding >=
        ``bins_per_page`` one-second bins with a spike.
    min_foci : int
        Foci that make a background "multifocal".
    attenuation_frac : float
        A 1-s bin is attenuated when its median channel amplitude falls below this fraction of
        the epoch's median amplitude.
    min_attenuations : int
        Attenuation episodes needed for the "paroxysmal voltage attenuation" criterion.
    discontinuity_frac : float
        Fraction of attenuated bins above which the background is discontinuous (grade 1 at least).
    min_usable_s : float
        Usable seconds an epoch needs to be graded at all.
    diffuse_fraction : float
        Share of bipolar derivations above ``high_uv`` that makes high voltage "diffuse"
        (:func:`slow_variant`).
    max_connectivity : float
        Mean absolute inter-channel correlation below which a background is disorganised rather
        than synchronous (:func:`slow_variant`).
    min_detections_per_min : float
        Discharges a minute (in a focus or not) that count as "few spikes"
        (:func:`slow_variant`).
    """

    high_uv: float = 200.0
    page_s: float = 15.0
    pages_needed: int = 10
    bins_per_page: int = 8
    min_foci: int = 3
    attenuation_frac: float = 0.25
    min_attenuations: int = 3
    discontinuity_frac: float = 0.2
    min_usable_s: float = 60.0
    diffuse_fraction: float = 0.85
    max_connectivity: float = 0.3
    min_detections_per_min: float = 1.0


@dataclass
class EpochGrade:
    """The BASED grade of one epoch with the counts that produced it."""

    onset_s: float
    duration_s: float
    grade: int | None
    usable_s: float
    n_discharges: int
    n_foci: int
    foci: list[list[str]] = field(default_factory=list)
    spike_bin_fraction: float = 0.0
    positive_pages: int = 0
    n_pages: int = 0
    high_amplitude_channels: list[str] = field(default_factory=list)
    median_amplitude_uv: float = 0.0
    max_channel_amplitude_uv: float = 0.0
    n_attenuations: int = 0
    attenuated_fraction: float = 0.0
    criteria: list[str] = field(default_factory=list)
    severity: float = 0.0
    n_bipolar: int = 0

    def to_dict(self) -> dict:
        """Plain-JSON dictionary."""
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _runs(mask: np.ndarray) -> int:
    """Number of runs of True."""
    if mask.size == 0:
        return 0
    return int(np.count_nonzero(np.diff(np.r_[0, mask.astype(np.int8)]) == 1))


def grade_epoch(
    onset_s: float,
    ptp_bip: np.ndarray,
    bip_names: list[str],
    usable: np.ndarray,
    eye: np.ndarray,
    spike_bins: np.ndarray,
    foci: list[list[str]],
    n_discharges: int,
    params: GradingParams = GradingParams(),
) -> EpochGrade:
    """Grade one epoch (normally 5 minutes) on the BASED scale.

    Parameters
    ----------
    onset_s : float
        Epoch onset in recording time.
    ptp_bip : ndarray, shape (n_bipolar, n_bins)
        Peak-to-peak per bipolar derivation and 1-s bin (µV).
    bip_names : list of str
        Names of the derivations (``"Fp1-F7"`` ...).
    usable : ndarray of bool, shape (n_bins,)
        Bins free of artifact.
    eye : ndarray of bool, shape (n_bins,)
        Bins with eye artifact: derivations from Fp1, Fp2, F7 and F8 are ignored there.
    spike_bins : ndarray of bool, shape (n_bins,)
        Bins holding at least one discharge (from a counted focus).
    foci : list of list of str
        Channels of each spike focus found in the epoch.
    n_discharges : int
        Discharges counted in the epoch.
    params : GradingParams
        Thresholds.

    Returns
    -------
    EpochGrade
    """
    nb = ptp_bip.shape[1]
    usable_s = float(usable.sum())
    g = EpochGrade(onset_s=onset_s, duration_s=float(nb), grade=None, usable_s=usable_s,
                   n_discharges=int(n_discharges), n_foci=len(foci), foci=foci)
    if usable_s < params.min_usable_s or ptp_bip.shape[0] == 0:
        g.criteria.append(f"not graded: {usable_s:.0f} s usable < {params.min_usable_s:.0f} s")
        return g
    amp = ptp_bip.astype(float).copy()
    fp = np.array([n.startswith(("Fp1", "Fp2", "F7", "F8")) for n in bip_names])
    amp[np.ix_(fp, eye)] = np.nan
    amp[:, ~usable] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ch_med = np.nanmedian(amp, axis=1)
    ch_med = np.nan_to_num(ch_med)
    high = [bip_names[i] for i in np.flatnonzero(ch_med > params.high_uv)]
    g.high_amplitude_channels = high
    g.n_bipolar = int(len(bip_names))
    g.max_channel_amplitude_uv = float(ch_med.max())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN bins (artifact) are expected
        bin_med = np.nanmedian(amp, axis=0)
        g.median_amplitude_uv = float(np.nan_to_num(np.nanmedian(bin_med)))
    att = usable & (bin_med < params.attenuation_frac * g.median_amplitude_uv)
    g.n_attenuations = _runs(att)
    g.attenuated_fraction = float(att.sum() / max(usable.sum(), 1))
    sb = spike_bins & usable
    g.spike_bin_fraction = float(sb.sum() / max(usable.sum(), 1))
    bpp = int(round(params.page_s))
    n_pages = nb // bpp
    pages = sb[: n_pages * bpp].reshape(n_pages, bpp).sum(1) if n_pages else np.zeros(0)
    g.n_pages = int(n_pages)
    g.positive_pages = int((pages >= params.bins_per_page).sum())
    # scale the page criterion to shorter epochs (10 of 20 pages = half of them)
    pages_needed = math.ceil(params.pages_needed * n_pages / 20) if n_pages < 20 else \
        params.pages_needed
    multi = g.n_foci >= params.min_foci
    is_high = bool(high)
    # paroxysmal: brief attenuations in a continuous background, not a discontinuous one
    attenuations = (g.n_attenuations >= params.min_attenuations and multi
                    and g.attenuated_fraction <= params.discontinuity_frac)
    crit = g.criteria
    if multi and n_pages and g.positive_pages >= max(pages_needed, 1):
        grade = 5
        crit.append(f">= {params.min_foci} foci ({g.n_foci}) with spikes in >= 50 % of bins "
                    f"({g.positive_pages}/{n_pages} pages with >= {params.bins_per_page} "
                    "spike bins)")
    elif multi and is_high:
        grade = 4
        crit.append(f">= {params.min_foci} foci ({g.n_foci}) and {len(high)} high-amplitude "
                    f"channel(s) > {params.high_uv:.0f} µV")
    elif attenuations:
        grade = 4
        crit.append(f"paroxysmal voltage attenuations ({g.n_attenuations}) in a multifocal "
                    f"background ({g.n_foci} foci)")
    elif multi:
        grade = 3
        crit.append(f">= {params.min_foci} foci ({g.n_foci}), no high-amplitude channel")
    elif g.n_foci >= 1 and is_high:
        grade = 3
        crit.append(f"{g.n_foci} focus/foci with {len(high)} high-amplitude channel(s)")
    elif g.n_foci >= 1:
        grade = 2
        crit.append(f"{g.n_foci} spike focus/foci, no high-amplitude channel")
    elif is_high or g.attenuated_fraction > params.discontinuity_frac:
        grade = 1
        if is_high:
            crit.append(f"high amplitude ({len(high)} channel(s) > {params.high_uv:.0f} µV) "
                        "without epileptiform discharges")
        else:
            crit.append(f"discontinuous background ({g.attenuated_fraction:.0%} attenuated bins)")
    else:
        grade = 0
        crit.append("no criterion met")
    g.grade = grade
    # continuous severity within a grade, for ranking epochs of equal grade
    g.severity = grade + 0.5 * min(g.spike_bin_fraction, 1.0) + 0.25 * min(
        g.max_channel_amplitude_uv / (2 * params.high_uv), 1.0) + 0.05 * min(g.n_foci, 5) / 5
    return g


def slow_variant(grade: int | None, n_foci: int, detections_per_min: float, n_high: int,
                 n_bipolar: int, connectivity: float | None,
                 params: GradingParams = GradingParams()) -> bool:
    """Whether an epoch graded 3 is the slow-wave form of modified hypsarrhythmia.

    "Mostly high-voltage slow waves with few spikes" (Hrachovy, Frost & Kellaway 1984): too few
    discharges for three foci, so BASED gives 3 (1-2 foci with high amplitude). Called when the
    very high voltage is diffuse (``n_high / n_bipolar >= params.diffuse_fraction``), the
    background disorganised and asynchronous (``connectivity < params.max_connectivity``) and
    discharges, though few, are there (a focus, and at least
    ``params.min_detections_per_min`` discharges a minute). Synchronous high-voltage sleep
    slow waves fail the connectivity condition; a high-voltage background without any spike
    focus (BASED 1) is not called.

    Parameters
    ----------
    grade : int or None
        BASED grade of the epoch.
    n_foci : int
        Spike foci found.
    detections_per_min : float
        Discharges detected per usable minute, counted in a focus or not.
    n_high, n_bipolar : int
        High-amplitude derivations and derivations.
    connectivity : float or None
        Mean absolute inter-channel correlation of the epoch (:func:`hypsa.features.
        mean_abs_correlation`, averaged over its feature epochs).
    params : GradingParams
        Thresholds.

    Returns
    -------
    bool
    """
    if grade != 3 or n_foci < 1 or n_bipolar <= 0 or connectivity is None:
        return False
    if not np.isfinite(connectivity):
        return False
    return bool(detections_per_min >= params.min_detections_per_min
                and n_high / n_bipolar >= params.diffuse_fraction
                and connectivity < params.max_connectivity)


def probability(
    grade: int | None,
    max_channel_amplitude_uv: float,
    spike_bin_fraction: float,
    n_foci: int,
    perm_entropy: float | None = None,
    connectivity: float | None = None,
    high_uv: float = 200.0,
    slow_form: bool = False,
) -> float:
    """Probability (0..1) that the graded epoch shows hypsarrhythmia.

    A pre-specified logistic model (not fitted to any data set): the BASED grade dominates and
    the published quantitative markers move the probability within a grade: amplitude relative
    to the high-amplitude threshold, the share of 1-s bins with spikes, the number of foci, and,
    when given, permutation entropy (lower in hypsarrhythmia; reference 0.80 at order 3 on 128 Hz
    EEG) and connectivity strength (mean absolute correlation; stronger in hypsarrhythmia).
    A grade-3 epoch that meets :func:`slow_variant` (``slow_form``) counts as a grade 4.
    """
    if grade is None:
        return float("nan")
    z = 2.0 * ((PRESENT_FROM if slow_form else grade) - (PRESENT_FROM - 0.5))
    z += 1.0 * float(np.clip(np.log2(max(max_channel_amplitude_uv, 1.0) / high_uv), -2, 2))
    z += 1.0 * float(np.clip(spike_bin_fraction - 0.3, -0.3, 0.5))
    z += 0.3 * float(np.clip(n_foci - 3, -2, 2))
    if perm_entropy is not None and np.isfinite(perm_entropy):
        z += 0.5 * float(np.clip((0.80 - perm_entropy) / 0.05, -1, 1))
    if connectivity is not None and np.isfinite(connectivity):
        z += 0.3 * float(np.clip((connectivity - 0.4) / 0.2, -1, 1))
    return float(1.0 / (1.0 + math.exp(-z)))
