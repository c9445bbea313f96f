"""Hypsarrhythmia: the BASED grade (0-5) of one 5-minute epoch, and the recording-level verdict.

The BASED score (Mytinger et al. 2021; see docs/methods.md) reads almost as an algorithm:

==== ====================================================================================
5    >= 3 spike foci, spikes in >= 50 % of 1-s bins (>= 10 of the twenty 15-s pages hold
     >= 8 one-second bins with a spike)
4    >= 3 foci in < 50 % of bins plus >= 1 high-amplitude channel; or grouped multifocal
     spikes; or paroxysmal voltage attenuations (in a background with spikes)
3    >= 3 foci and no high-amplitude channel; or 1-2 foci with >= 1 high-amplitude channel
2    1-2 spike foci and no high-amplitude channel
1    a definite non-epileptiform abnormality (a discontinuous background; high amplitude
     alone is not one: normal infant sleep and hypnagogic hypersynchrony exceed 200 µV)
0    normal
==== ====================================================================================

Amplitude is peak-to-peak per 1-s bin on the longitudinal bipolar montage, measured on the
background waves (bins holding a discharge left out); a channel is "high amplitude" when its
median bin amplitude over the usable bins exceeds ``high_uv`` (200 µV). The spike burden counts
1-s bins holding any discharge. Grades 4-5 are hypsarrhythmia. :func:`grade_window` builds the
evidence of one window from its EEG (discharges, foci, attenuation episodes, the montage actually
recorded, the stretches set aside as ictal) and grades it with :func:`grade_epoch`.

One form escapes the grade: Hrachovy's modified hypsarrhythmia made of "mostly high-voltage slow
waves with few spikes" has too few discharges for three foci and grades 3. The
recording-level verdict therefore also calls hypsarrhythmia present in such an epoch when its
very high
voltage is *diffuse* (at least half of the derivations above ``high_uv``), *slow* (most of the
power below 4 Hz: relative delta power at least ``min_rel_delta``, a share of the recording's own
power, whatever its gain), *disorganised* (channels not synchronous: mean absolute correlation
below ``max_connectivity``; synchronous high-voltage sleep slow waves are the hard negative this
excludes) and a few discharges are there. See :func:`slow_variant`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy import signal as sps

from hypsa.channels import POSITIONS
from hypsa.kernels import frames_rms, median
from hypsa.spikes import Discharges, SpikeParams, detect_discharges, group_foci, side_of

__all__ = ["GradingParams", "EpochGrade", "WindowGrade", "grade_epoch", "grade_window",
           "montage_pairs", "find_attenuations", "probability", "slow_variant", "PRESENT_FROM",
           "CHAINS", "TRANSVERSE", "PLAUSIBLE_UV", "Span", "grade_span", "sliding_grades",
           "sliding_rows", "with_sliding",
           "recording_evidence", "not_graded_reason"]

#: Longitudinal chains of the 10-20 system, front to back (the double banana joins neighbours).
CHAINS: tuple[tuple[str, ...], ...] = (
    ("Fp1", "F7", "T7", "P7", "O1"), ("Fp1", "F3", "C3", "P3", "O1"), ("Fz", "Cz", "Pz"),
    ("Fp2", "F4", "C4", "P4", "O2"), ("Fp2", "F8", "T8", "P8", "O2"),
)
#: The central transverse chain, added when the longitudinal chains skip electrodes (the
#: reduced infant montage: Fp1-T7, T7-O1, Fp1-C3, C3-O1, ..., T7-C3, C3-Cz, Cz-C4, C4-T8).
TRANSVERSE: tuple[str, ...] = ("T7", "C3", "Cz", "C4", "T8")

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
        The whole head is attenuated when the median channel's RMS falls below this fraction of
        its own median over the epoch (:func:`find_attenuations`).
    min_attenuations, attenuation_min_foci : int
        Attenuation episodes needed for the "paroxysmal voltage attenuation" criterion, and the
        spike foci the background must hold for them to count: a multifocal one, as for
        grouped multifocal spikes (a normal infant's sleep attenuates too, and a normal child's
        waking EEG can show three quiet seconds and two small clusters of sharp transients).
    discontinuity_frac : float
        Fraction of attenuated bins above which the background is discontinuous (grade 1 at least).
    min_usable_s : float
        Usable seconds an epoch needs to be graded at all.
    diffuse_fraction : float
        Share of bipolar derivations above ``high_uv`` that makes high voltage "diffuse"
        (:func:`slow_variant`): half of them, chosen leave-one-generator-out
        (docs/validation.md, "The slow-wave form's spread of high voltage").
    max_connectivity : float
        Mean absolute inter-channel correlation below which a background is disorganised rather
        than synchronous (:func:`slow_variant`); chosen leave-one-generator-out between the
        slow-wave form and synchronous high-voltage sleep (docs/validation.md).
    min_rel_delta : float
        Relative 0.5-4 Hz power from which a high-voltage background is "mostly slow waves"
        (:func:`slow_variant`): three quarters of the power; a normal waking background scaled
        to high voltage keeps its faster rhythms and stays below.
    min_detections_per_min : float
        Discharges a minute (in a focus or not) that count as "few spikes"
        (:func:`slow_variant`).
    attenuation_min_s : float
        Shortest paroxysmal attenuation episode (BASED: 1 s and longer).
    grouped_span_s, grouped_min_foci, grouped_min : float, int, int
        Grouped multifocal spikes: at least ``grouped_min`` stretches of ``grouped_span_s``
        holding discharges from ``grouped_min_foci`` different foci.
    ictal_margin_s : float
        Seconds set aside on each side of a spasm or electrodecrement (the grade is interictal).
    min_electrodes : int
        Electrodes a window needs to be graded at all.
    """

    high_uv: float = 200.0
    page_s: float = 15.0
    pages_needed: int = 10
    bins_per_page: int = 8
    min_foci: int = 3
    attenuation_frac: float = 0.35
    min_attenuations: int = 3
    attenuation_min_foci: int = 3
    discontinuity_frac: float = 0.35
    min_usable_s: float = 60.0
    diffuse_fraction: float = 0.5
    max_connectivity: float = 0.5
    min_rel_delta: float = 0.75
    min_detections_per_min: float = 1.0
    attenuation_min_s: float = 1.0
    grouped_span_s: float = 2.0
    grouped_min_foci: int = 3
    grouped_min: int = 10
    ictal_margin_s: float = 3.0
    min_electrodes: int = 5


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
    n_grouped: int = 0
    ictal_s: float = 0.0
    derivations: list[str] = field(default_factory=list)
    assessed: list[str] = field(default_factory=list)
    not_assessed: list[str] = field(default_factory=list)
    focus_polar: list[float] = field(default_factory=list)
    grade_unflagged: int | None = None

    def to_dict(self) -> dict:
        """Plain-JSON dictionary."""
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _nanmedian(a: np.ndarray, axis: int) -> np.ndarray:
    """Median ignoring NaN along ``axis`` (NaN where all are NaN), by one sort: numpy's
    ``nanmedian`` goes through masked arrays and is many times slower on these shapes."""
    s = np.sort(a, axis=axis)
    k = np.sum(~np.isnan(a), axis=axis)
    lo = np.expand_dims(np.maximum((k - 1) // 2, 0), axis)
    hi = np.expand_dims(np.maximum(k // 2, 0), axis)
    m = 0.5 * (np.take_along_axis(s, lo, axis) + np.take_along_axis(s, hi, axis))
    m = np.squeeze(m, axis)
    return np.where(k > 0, m, np.nan)


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
    *,
    attenuated: np.ndarray | None = None,
    n_attenuations: int | None = None,
    n_grouped: int = 0,
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
        Bins free of artifact (and outside spasms).
    eye : ndarray of bool, shape (n_bins,)
        Bins with eye artifact: derivations from Fp1, Fp2, F7 and F8 are ignored there.
    spike_bins : ndarray of bool, shape (n_bins,)
        Bins holding at least one discharge. Their amplitude is left out of the background
        amplitude when at least ``min_usable_s`` bins without a discharge remain.
    foci : list of list of str
        Channels of each spike focus found in the epoch.
    n_discharges : int
        Discharges counted in the epoch.
    params : GradingParams
        Thresholds.
    attenuated : ndarray of bool, shape (n_bins,), optional
        Bins inside a paroxysmal attenuation episode (:func:`find_attenuations`); when absent,
        bins whose median derivation falls below ``attenuation_frac`` of the epoch's median.
    n_attenuations : int, optional
        Attenuation episodes (default: runs of ``attenuated``).
    n_grouped : int
        Stretches with grouped multifocal spikes (:func:`grade_window`).

    Returns
    -------
    EpochGrade
    """
    nb = ptp_bip.shape[1]
    usable_s = float(usable.sum())
    g = EpochGrade(onset_s=onset_s, duration_s=float(nb), grade=None, usable_s=usable_s,
                   n_discharges=int(n_discharges), n_foci=len(foci), foci=foci,
                   n_grouped=int(n_grouped), derivations=list(bip_names))
    if usable_s < params.min_usable_s or ptp_bip.shape[0] == 0:
        why = (f"{usable_s:.0f} s usable < {params.min_usable_s:.0f} s"
               if ptp_bip.shape[0] else "no bipolar derivation can be formed")
        g.criteria.append(f"not graded: {why}")
        return g
    amp = ptp_bip.astype(float).copy()
    fp = np.array([n.startswith(("Fp1", "Fp2", "F7", "F8")) for n in bip_names])
    amp[np.ix_(fp, eye)] = np.nan
    amp[:, ~usable] = np.nan
    quiet = usable & ~spike_bins
    bg = amp.copy()
    if quiet.sum() >= params.min_usable_s:
        bg[:, spike_bins] = np.nan  # background waves: the bins without a discharge
    ch_med = np.nan_to_num(_nanmedian(bg, axis=1))
    high = [bip_names[i] for i in np.flatnonzero(ch_med > params.high_uv)]
    g.high_amplitude_channels = high
    g.n_bipolar = int(len(bip_names))
    g.max_channel_amplitude_uv = float(ch_med.max())
    bin_med = _nanmedian(amp, axis=0)
    g.median_amplitude_uv = float(np.nan_to_num(_nanmedian(_nanmedian(bg, axis=0), axis=0)))
    if attenuated is None:
        ref = float(np.nan_to_num(_nanmedian(bin_med, axis=0)))
        attenuated = usable & (bin_med < params.attenuation_frac * ref)
    att = attenuated & usable
    g.n_attenuations = _runs(att) if n_attenuations is None else int(n_attenuations)
    # discontinuity (burst suppression) against the epoch's active level, its 75th percentile
    # of bin amplitudes: suppression may fill more than half of the epoch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        active = float(np.nan_to_num(np.nanpercentile(bin_med[usable], 75))) \
            if usable.any() else 0.0
    low = usable & (np.nan_to_num(bin_med, nan=np.inf) < params.attenuation_frac * active)
    g.attenuated_fraction = float(max(att.sum(), low.sum()) / max(usable.sum(), 1))
    sb = spike_bins & usable
    g.spike_bin_fraction = float(sb.sum() / max(usable.sum(), 1))
    bpp = int(round(params.page_s))
    n_all = nb // bpp
    pages = sb[: n_all * bpp].reshape(n_all, bpp).sum(1) if n_all else np.zeros(0)
    # a page is judged on its interictal, artifact-free bins (>= 8 of its 15 bins = more than
    # half of them; with fewer usable bins, the same share of those there are): a page with
    # fewer usable bins than ``bins_per_page`` cannot be judged and is left out, and the
    # criterion is scaled to the pages left (10 of 20 pages = half of them)
    up = usable[: n_all * bpp].reshape(n_all, bpp).sum(1) if n_all else np.zeros(0)
    judged = up >= params.bins_per_page
    n_pages = int(judged.sum())
    g.n_pages = n_pages
    g.positive_pages = int((judged & (pages * bpp >= params.bins_per_page * up)).sum())
    pages_needed = math.ceil(params.pages_needed * n_pages / 20) if n_pages < 20 else \
        params.pages_needed
    multi = g.n_foci >= params.min_foci
    is_high = bool(high)
    grouped = multi and g.n_grouped >= params.grouped_min
    # paroxysmal: brief attenuations in a continuous background with spikes, not a
    # discontinuous one (burst suppression) nor a background without discharges
    attenuations = (g.n_attenuations >= params.min_attenuations
                    and g.n_foci >= params.attenuation_min_foci
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
    elif grouped:
        grade = 4
        crit.append(f"grouped multifocal spikes ({g.n_grouped} stretches of "
                    f"{params.grouped_span_s:g} s with discharges from >= "
                    f"{params.grouped_min_foci} foci; {g.n_foci} foci)")
    elif attenuations:
        grade = 4
        crit.append(f"paroxysmal voltage attenuations ({g.n_attenuations} episodes >= "
                    f"{params.attenuation_min_s:g} s) in a multifocal background "
                    f"({g.n_foci} foci)")
    elif multi:
        grade = 3
        crit.append(f">= {params.min_foci} foci ({g.n_foci}), no high-amplitude channel")
    elif g.n_foci >= 1 and is_high:
        grade = 3
        crit.append(f"{g.n_foci} focus/foci with {len(high)} high-amplitude channel(s)")
    elif g.n_foci >= 1:
        grade = 2
        crit.append(f"{g.n_foci} spike focus/foci, no high-amplitude channel")
    elif g.attenuated_fraction > params.discontinuity_frac:
        grade = 1
        crit.append(f"discontinuous background ({g.attenuated_fraction:.0%} attenuated bins)")
    else:
        # high amplitude alone is not a definite abnormality in infancy (normal sleep slow
        # waves and hypnagogic hypersynchrony exceed 200 µV); BASED uses it with spike foci
        grade = 0
        crit.append("no criterion met" if not is_high else
                    f"no criterion met ({len(high)} channel(s) > {params.high_uv:.0f} µV "
                    "without epileptiform discharges: high amplitude alone is not graded)")
    g.grade = grade
    # continuous severity within a grade, for ranking epochs of equal grade
    g.severity = grade + 0.5 * min(g.spike_bin_fraction, 1.0) + 0.25 * min(
        g.max_channel_amplitude_uv / (2 * params.high_uv), 1.0) + 0.05 * min(g.n_foci, 5) / 5
    return g


def montage_pairs(names: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    """The longitudinal bipolar montage that the recorded electrodes allow.

    Each 10-20 chain (:data:`CHAINS`) joins its successive *recorded* electrodes, so a full
    montage gives the double banana and a reduced infant montage (Fp1/2, C3/4, T7/8, O1/2, Cz)
    gives Fp1-T7, T7-O1, Fp1-C3, C3-O1 ...; when a chain skips an electrode the central
    transverse chain (:data:`TRANSVERSE`) is added, as in the reduced neonatal-infant montage.

    Parameters
    ----------
    names : sequence of str
        Normalised 10-20 names of the recorded, usable electrodes.

    Returns
    -------
    list of (str, str)
    """
    have = set(names)
    pairs: list[tuple[str, str]] = []
    skipped = False
    for chain in CHAINS:
        present = [e for e in chain if e in have]
        if len(present) < len(chain) and len(present) >= 2:
            first, last = chain.index(present[0]), chain.index(present[-1])
            skipped |= (last - first + 1) > len(present)
        pairs += list(zip(present[:-1], present[1:], strict=True))
    if skipped:
        tr = [e for e in TRANSVERSE if e in have]
        pairs += [p for p in zip(tr[:-1], tr[1:], strict=True) if p not in pairs]
    return pairs


def find_attenuations(
    x: np.ndarray,
    sfreq: float,
    usable: np.ndarray,
    *,
    frac: float = 0.35,
    min_s: float = 1.0,
    frame_s: float = 0.125,
    ref_s: float = 21.0,
) -> tuple[list[tuple[float, float]], np.ndarray]:
    """Paroxysmal voltage attenuation episodes: the whole head's activity drops for >= ``min_s``.

    Each channel's analytic amplitude (Hilbert), averaged (RMS) in ``frame_s`` frames, is
    divided by its level over the ``ref_s`` seconds around (the mean of 1-s medians, usable
    bins only);
    a frame is attenuated when the median channel falls below ``frac`` (averaged over 0.25 s,
    so one quiet frame does not make an episode); runs of at least ``min_s`` are episodes,
    within the 0.25 s the frames and the averaging blur an episode's edges by. The measure is
    relative to the recording's own level, not to absolute µV.

    Parameters
    ----------
    x : ndarray, shape (n_channels, n_samples)
        Filtered EEG (µV).
    sfreq : float
        Sampling rate (Hz).
    usable : ndarray of bool, shape (n_bins,)
        1-s bins to consider (artifact and spasms excluded).
    frac, min_s, frame_s, ref_s : float
        Depth, shortest episode, frame length, span of the reference level.

    Returns
    -------
    episodes : list of (onset_s, duration_s)
        From the start of ``x``.
    bins : ndarray of bool, shape (n_bins,)
        1-s bins overlapped by an episode.
    """
    nb = usable.size
    bins = np.zeros(nb, dtype=bool)
    spf = max(1, int(round(frame_s * sfreq)))
    if x.shape[0] == 0 or x.shape[1] < 4 * spf:
        return [], bins
    # the analytic amplitude follows a wave through its zero crossings, so slow waves do not
    # dip into "attenuation" between their peaks as a short-frame RMS would
    # (at a quarter of the rate, >= 32 Hz: an envelope needs no more; the folded power of the
    # little activity above 16 Hz still counts in it)
    step = max(1, int(sfreq // 32))
    xs = x[:, ::step]
    amp = np.abs(sps.hilbert(xs - xs.mean(axis=1, keepdims=True), axis=1)).astype(np.float32)
    rms = frames_rms(amp, max(1, spf // step))
    nf = rms.shape[1]
    fpb = max(1, int(round(1.0 / frame_s)))
    fu = np.repeat(usable, fpb)[:nf]
    if fu.size < nf:
        fu = np.pad(fu, (0, nf - fu.size))
    if fu.sum() < 8:
        return [], bins
    # the reference is the activity around each moment (median over ``ref_s``), so a change of
    # state (sleep to wake) is not an attenuation, only a sudden, brief drop is
    lvl = np.where(fu[None, :], rms, np.nan)
    blk = max(1, int(round(1.0 / frame_s)))
    nbk = nf // blk
    bm = _nanmedian(lvl[:, : nbk * blk].reshape(lvl.shape[0], nbk, blk), axis=2)
    glob = _nanmedian(lvl, axis=1)[:, None]
    bm = np.where(np.isfinite(bm), bm, glob)
    bm = ndimage.uniform_filter1d(bm, size=max(1, min(int(round(ref_s)), bm.shape[1])), axis=1,
                                  mode="nearest")
    ref = bm[:, np.minimum(np.arange(nf) // blk, nbk - 1)]
    rel = median(rms / np.maximum(ref, 1e-6), axis=0)
    k = max(1, int(round(0.25 / frame_s)))
    rel = np.convolve(rel, np.ones(k) / k, mode="same")
    low = (rel < frac) & fu
    edges = np.diff(np.r_[0, low.astype(np.int8), 0])
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    episodes = []
    for a, b in zip(starts, stops, strict=True):
        if (b - a) * frame_s >= min_s - 0.25 - 1e-9:
            episodes.append((a * frame_s, (b - a) * frame_s))
            bins[int(a * frame_s): min(nb, int(np.ceil(b * frame_s)))] = True
    return episodes, bins


@dataclass
class WindowGrade:
    """The grade of one window with the evidence it was built from.

    Attributes
    ----------
    grade : EpochGrade
        Grade, counts and criteria.
    discharges : Discharges
        Every discharge found (times from the window start).
    in_focus : ndarray of bool
        Whether each discharge lies in a counted focus.
    spike_bins : ndarray of bool
        1-s bins holding a discharge (outside the ictal stretches).
    attenuations : list of (onset_s, duration_s)
        Paroxysmal attenuation episodes (from the window start).
    ictal : ndarray of bool
        1-s bins set aside around spasms and electrodecrements.
    span : Span
        The per-second evidence, for the sliding window (:func:`sliding_grades`).
    """

    grade: EpochGrade
    discharges: Discharges
    in_focus: np.ndarray
    spike_bins: np.ndarray
    attenuations: list[tuple[float, float]]
    ictal: np.ndarray
    span: Span | None = None


def _ictal_bins(events: list[tuple[float, float]], n_bins: int, margin_s: float) -> np.ndarray:
    out = np.zeros(n_bins, dtype=bool)
    for on, dur in events:
        a = max(0, int(np.floor(on - margin_s)))
        b = min(n_bins, int(np.ceil(on + max(dur, 0.0) + margin_s)))
        if b > a:
            out[a:b] = True
    return out


def _grouped(d: Discharges, label: np.ndarray, n_bins: int, span_s: float,
             min_foci: int) -> int:
    """Stretches of ``span_s`` (aligned on the bins) with discharges from >= ``min_foci``
    different foci."""
    span = max(1, int(round(span_s)))
    n_sp = n_bins // span
    if n_sp == 0 or not len(d):
        return 0
    inf = label >= 0
    if not inf.any():
        return 0
    k = np.minimum((d.time_s[inf] // span).astype(int), n_sp - 1)
    pairs = np.unique(np.c_[k, label[inf]], axis=0)
    return int((np.bincount(pairs[:, 0], minlength=n_sp) >= min_foci).sum())


def grade_window(
    x: np.ndarray,
    sfreq: float,
    names: list[str],
    onset_s: float,
    *,
    usable: np.ndarray,
    eye: np.ndarray,
    ptp_bip: np.ndarray,
    bip_names: list[str],
    band: np.ndarray | None = None,
    ptp_ref: np.ndarray | None = None,
    eye_channels: tuple[str, ...] = ("Fp1", "Fp2", "F7", "F8"),
    ictal_events: list[tuple[float, float]] | None = None,
    decrement_events: list[tuple[float, float]] | None = None,
    spikes: SpikeParams = SpikeParams(),
    params: GradingParams = GradingParams(),
) -> WindowGrade:
    """Find the interictal evidence of one window and grade it.

    Parameters
    ----------
    x : ndarray, shape (n_channels, n_samples)
        Conditioned (0.5-45 Hz) referential EEG of the usable electrodes.
    sfreq : float
        Sampling rate (Hz).
    names : list of str
        10-20 names of the rows of ``x``.
    onset_s : float
        Recording time of the first sample.
    usable : ndarray of bool, shape (n_bins,)
        1-s bins free of artifact.
    eye : ndarray of bool, shape (n_bins,)
        Bins with eye artifact.
    ptp_bip, bip_names : ndarray (n_bipolar, n_bins), list of str
        Bipolar peak-to-peak per 1-s bin and the derivations' names (:func:`montage_pairs`).
    band : ndarray, optional
        ``x`` filtered to 8-45 Hz.
    ptp_ref : ndarray (n_channels, n_bins), optional
        Referential peak-to-peak per bin (for the per-channel outlier gate).
    eye_channels : tuple of str
        Electrodes ignored during eye artifact.
    ictal_events : list of (onset_s, duration_s), optional
        Spasms and electrodecrements found in the window (s from its start); they and
        ``params.ictal_margin_s`` on each side are set aside, unless that would leave less
        than ``params.min_usable_s`` (a short recording filled with spasms): then the window is
        graded whole and the criteria say so.
    decrement_events : list of (onset_s, duration_s), optional
        Generalized electrodecrements that were not spasms (``eeg_decrement`` events): set
        aside like the spasms from the discharges, foci and amplitudes, but not from the search
        for paroxysmal attenuations, since such an event may be one.
    spikes, params : SpikeParams, GradingParams
        Thresholds.

    Returns
    -------
    WindowGrade
    """
    n_bins = usable.size
    spasm_bins = _ictal_bins(ictal_events or [], n_bins, params.ictal_margin_s)
    ictal = spasm_bins | _ictal_bins(decrement_events or [], n_bins, params.ictal_margin_s)
    note = None
    if ictal.any() and (usable & ~ictal).sum() < params.min_usable_s <= usable.sum():
        # a short stretch filled with spasms: grade it whole rather than not at all, and say so
        note = (f"too little interictal EEG ({int((usable & ~ictal).sum())} s outside spasms "
                f"and their {params.ictal_margin_s:g}-s margins): graded with the "
                f"{int((ictal & usable).sum())} s around spasms included")
        ictal = np.zeros(n_bins, dtype=bool)
        spasm_bins = ictal
    clean = usable & ~ictal
    excl = np.zeros((len(names), n_bins), dtype=bool) | ~clean[None, :]
    fp = [i for i, n in enumerate(names) if n in eye_channels]
    excl[fp] |= eye[None, :]
    if ptp_ref is not None and ptp_ref.shape[1] >= n_bins:
        pr = ptp_ref[:, :n_bins]
        excl |= pr > spikes.outlier_factor * median(pr, axis=1, keepdims=True)
    pos = np.array([POSITIONS[n] for n in names], dtype=float) if names else np.zeros((0, 2))
    # discharges down to the in-focus threshold; those below ``k_local`` count only inside a
    # focus made of the others (grade_span)
    dp = spikes if spikes.k_in_focus >= spikes.k_local else replace(spikes,
                                                                     k_local=spikes.k_in_focus)
    dis = detect_discharges(x, sfreq, params=dp, excluded=excl, band=band, positions=pos)
    # attenuations are searched outside the spasms only: an electrodecrement that was not a
    # spasm may itself be a paroxysmal attenuation
    episodes, att_bins = find_attenuations(x, sfreq, usable & ~spasm_bins,
                                           frac=params.attenuation_frac,
                                           min_s=params.attenuation_min_s)
    span = Span(onset_s=onset_s, names=list(names), bip_names=list(bip_names),
                ptp_bip=np.asarray(ptp_bip, dtype=np.float32), clean=clean, eye=eye,
                ictal=ictal & usable, dis_t=dis.time_s, dis_ch=dis.channel,
                att_bins=att_bins, att_onsets=np.array([e[0] for e in episodes]),
                dis_con=dis.contrast, dis_polar=dis.polar)
    g, label, spike_bins = grade_span(span, spikes, params)
    if note and g.grade is not None:
        g.criteria.append(note)
    counted = label > -2
    return WindowGrade(g, dis.select(counted), label[counted] >= 0, spike_bins, episodes, ictal,
                       span)


@dataclass
class Span:
    """Per-second evidence of a stretch of EEG, enough to grade any part of it again (the
    sliding window joins two neighbouring windows' spans).

    Attributes
    ----------
    onset_s : float
        Recording time of the first bin.
    names, bip_names : list of str
        Electrodes and bipolar derivations.
    ptp_bip : ndarray (n_bipolar, n_bins)
        Bipolar peak-to-peak per 1-s bin.
    clean, eye, ictal, att_bins : ndarray of bool (n_bins,)
        Usable interictal bins, eye-artifact bins, bins set aside as ictal, attenuated bins.
    dis_t, dis_ch : ndarray
        Discharge times (s from ``onset_s``) and location (index into ``names``).
    att_onsets : ndarray
        Attenuation episode onsets (s from ``onset_s``).
    dis_con : ndarray, optional
        Each discharge's contrast (8-45 Hz peak over its channel's local level, robust SD);
        below ``SpikeParams.k_local`` a discharge counts only inside a focus. Absent: all count.
    dis_polar : ndarray of bool, optional
        Whether each discharge's field holds with the location's polarity
        (:attr:`hypsa.spikes.Discharges.polar`). Absent: every one does.
    """

    onset_s: float
    names: list[str]
    bip_names: list[str]
    ptp_bip: np.ndarray
    clean: np.ndarray
    eye: np.ndarray
    ictal: np.ndarray
    dis_t: np.ndarray
    dis_ch: np.ndarray
    att_bins: np.ndarray
    att_onsets: np.ndarray
    dis_con: np.ndarray | None = None
    dis_polar: np.ndarray | None = None

    @property
    def n_bins(self) -> int:
        """Number of 1-s bins."""
        return int(self.clean.size)

    def join(self, other: Span) -> Span:
        """This span followed by ``other`` (same electrodes and derivations)."""
        nb = self.n_bins
        return Span(self.onset_s, self.names, self.bip_names,
                    np.concatenate([self.ptp_bip, other.ptp_bip], axis=1),
                    np.r_[self.clean, other.clean], np.r_[self.eye, other.eye],
                    np.r_[self.ictal, other.ictal], np.r_[self.dis_t, other.dis_t + nb],
                    np.r_[self.dis_ch, other.dis_ch], np.r_[self.att_bins, other.att_bins],
                    np.r_[self.att_onsets, other.att_onsets + nb],
                    None if self.dis_con is None or other.dis_con is None else
                    np.r_[self.dis_con, other.dis_con],
                    None if self.dis_polar is None or other.dis_polar is None else
                    np.r_[self.dis_polar, other.dis_polar])

    def cut(self, start: int, n: int) -> Span:
        """Bins ``start`` to ``start + n``."""
        sl = slice(start, start + n)
        inside = (self.dis_t >= start) & (self.dis_t < start + n)
        ai = (self.att_onsets >= start) & (self.att_onsets < start + n)
        return Span(self.onset_s + start, self.names, self.bip_names, self.ptp_bip[:, sl],
                    self.clean[sl], self.eye[sl], self.ictal[sl], self.dis_t[inside] - start,
                    self.dis_ch[inside], self.att_bins[sl], self.att_onsets[ai] - start,
                    None if self.dis_con is None else self.dis_con[inside],
                    None if self.dis_polar is None else self.dis_polar[inside])


def grade_span(span: Span, spikes: SpikeParams = SpikeParams(),
               params: GradingParams = GradingParams()) -> tuple[EpochGrade, np.ndarray,
                                                                  np.ndarray]:
    """Foci, spike burden, grouped spikes and the BASED grade of one span of evidence.

    Returns
    -------
    grade : EpochGrade
    label : ndarray of int
        Focus of each discharge (-1: none; -2: below ``spikes.k_local`` and outside every
        focus, so not counted).
    spike_bins : ndarray of bool
        1-s bins holding a counted discharge.
    """
    names, n_bins, clean = span.names, span.n_bins, span.clean
    pos = np.array([POSITIONS[n] for n in names], dtype=float) if names else np.zeros((0, 2))
    minutes = max(float(clean.sum()) / 60.0, 1e-3)
    # the foci are made of the discharges at the detection threshold; a weaker one (down to
    # ``k_in_focus``) counts when it arises on a focus's electrodes: once a focus is there,
    # its smaller discharges are its discharges too
    n_dis = span.dis_t.size
    strong = np.ones(n_dis, dtype=bool) if span.dis_con is None else \
        span.dis_con >= spikes.k_local
    foci_idx, lab_s = group_foci(span.dis_ch[strong], pos,
                                 min_events=max(spikes.focus_min_events,
                                                int(np.ceil(spikes.focus_min_per_min
                                                            * minutes))),
                                 min_fraction=spikes.focus_min_fraction,
                                 peak_fraction=spikes.focus_peak_fraction)
    if spikes.focus_min_polar is not None and span.dis_polar is not None and foci_idx:
        foci_idx, lab_s = _polar_foci(foci_idx, lab_s, span.dis_polar[strong],
                                      spikes.focus_min_polar)
    foci = [[names[i] for i in f] for f in foci_idx]
    chan_focus = np.full(len(names), -1)
    for k, f in enumerate(foci_idx):
        chan_focus[f] = k
    label = np.full(n_dis, -2)
    label[strong] = lab_s
    weak_in = ~strong & (chan_focus[span.dis_ch] >= 0) if n_dis else np.zeros(0, dtype=bool)
    if span.dis_con is not None:
        weak_in &= span.dis_con >= spikes.k_in_focus
    label[weak_in] = chan_focus[span.dis_ch[weak_in]]
    counted = label > -2
    spike_bins = np.zeros(n_bins, dtype=bool)
    if counted.any():
        spike_bins[np.minimum(span.dis_t[counted].astype(int), n_bins - 1)] = True
    spike_bins &= clean
    dis = Discharges(span.dis_t, span.dis_ch, np.zeros(n_dis, dtype=int), np.zeros(n_dis))
    n_grouped = _grouped(dis, label, n_bins, params.grouped_span_s, params.grouped_min_foci)
    g = grade_epoch(span.onset_s, span.ptp_bip, span.bip_names, clean, span.eye, spike_bins,
                    foci, int(counted.sum()), params, attenuated=span.att_bins,
                    n_attenuations=int(span.att_onsets.size), n_grouped=n_grouped)
    g.ictal_s = float(span.ictal.sum())
    if span.dis_polar is not None:
        # each focus's share of discharges whose field keeps the location's polarity (a
        # reader's check: a low share is one electrode's transients, or a reversing field)
        pol = span.dis_polar[strong]
        g.focus_polar = [round(float(pol[lab_s == k].mean()), 2) if (lab_s == k).any()
                         else 1.0 for k in range(len(foci_idx))]
        if spikes.focus_min_polar is None and min(g.focus_polar, default=1.0) < FOCUS_POLAR_WARN:
            # what the epoch grades without the foci flagged for review: the reader sees
            # whether the grade rests on them
            g.grade_unflagged = grade_span(span, replace(spikes, focus_min_polar=FOCUS_POLAR_WARN),
                                           params)[0].grade
    g.assessed, g.not_assessed = _assessed(names, span.bip_names)
    if len(names) < params.min_electrodes:
        g.grade, g.severity = None, 0.0
        g.criteria = [f"not graded: {len(names)} usable electrodes "
                      f"(< {params.min_electrodes})"
                      + "".join(f"; {m}" for m in g.not_assessed)]
    return g, label, spike_bins


def _polar_foci(foci_idx: list[list[int]], label: np.ndarray, polar: np.ndarray,
                min_share: float) -> tuple[list[list[int]], np.ndarray]:
    """The foci at least ``min_share`` of whose discharges have a field of the location's
    polarity, relabelled in order (a dropped focus's discharges belong to none)."""
    kept = [k for k in range(len(foci_idx))
            if (label == k).any() and float(polar[label == k].mean()) >= min_share]
    new = np.full(label.shape, -1)
    for j, k in enumerate(kept):
        new[label == k] = j
    return [foci_idx[k] for k in kept], new


def sliding_grades(spans: list[Span | None], grades: list[int | None],
                   spikes: SpikeParams = SpikeParams(),
                   params: GradingParams = GradingParams()) -> list[tuple[int, EpochGrade]]:
    """The most epileptic 5 minutes found with a window sliding by whole 15-s pages.

    The fixed windows start at the recording's (or segment's) beginning, so the most epileptic
    5 minutes can straddle two of them. Between every two contiguous windows with the same
    electrodes where either holds spikes (grade >= 2), the window is moved page by page across
    the boundary and regraded; where a position grades higher than both fixed windows, its grade
    is returned (the recording's grade then comes from it).

    Parameters
    ----------
    spans : list of Span or None
        The windows' evidence, in recording order.
    grades : list of int or None
        Their grades.
    spikes, params : SpikeParams, GradingParams
        Thresholds.

    Returns
    -------
    list of (int, EpochGrade)
        At most one per pair of windows (the index of the first): its best position, when
        better than both.
    """
    out: list[tuple[int, EpochGrade]] = []
    page = int(round(params.page_s))
    for i in range(len(spans) - 1):
        a, b = spans[i], spans[i + 1]
        ga, gb = grades[i], grades[i + 1]
        if a is None or b is None or ga is None or gb is None or not 2 <= max(ga, gb) < 5:
            continue
        if a.names != b.names or a.bip_names != b.bip_names or \
                abs(a.onset_s + a.n_bins - b.onset_s) > 0.5 or a.n_bins < 2 * page:
            continue
        both = a.join(b)
        best: EpochGrade | None = None
        for k in range(1, a.n_bins // page):
            start = k * page
            if start > b.n_bins:
                break
            g, _, _ = grade_span(both.cut(start, a.n_bins), spikes, params)
            if g.grade is not None and (best is None or (g.grade, g.severity)
                                        > (best.grade, best.severity)):
                best = g
        if best is not None and best.grade is not None and best.grade > max(ga, gb):
            best.criteria = [*best.criteria, f"sliding window: {best.onset_s:.0f} s, "
                             f"across the boundary of two fixed 5-minute windows"]
            out.append((i, best))
    return out


def sliding_rows(spans: list[Span | None], rows: list[dict],
                 spikes: SpikeParams = SpikeParams(),
                 params: GradingParams = GradingParams()) -> list[dict]:
    """:func:`sliding_grades` as rows like the fixed windows' ones (``sliding`` true, no
    ``epoch``; state, entropy and connectivity taken from the two windows it straddles)."""
    out = []
    for i, g in sliding_grades(spans, [r.get("grade") for r in rows], spikes, params):
        a, b = rows[i], rows[i + 1]
        d = g.to_dict()
        d.update(sliding=True, n_detections=d["n_discharges"],
                 state=a.get("state") if a.get("state") == b.get("state") else
                 f"{a.get('state')}/{b.get('state')}",
                 perm_entropy=float(np.nanmean([a.get("perm_entropy", np.nan),
                                                b.get("perm_entropy", np.nan)])),
                 connectivity=float(np.nanmean([a.get("connectivity", np.nan),
                                                b.get("connectivity", np.nan)])),
                 rel_delta=float(np.nanmean([a.get("rel_delta", np.nan),
                                             b.get("rel_delta", np.nan)])),
                 mains_hz=a.get("mains_hz"))
        out.append(d)
    return out


def with_sliding(graded: pd.DataFrame, sliding: list[dict] | None) -> pd.DataFrame:
    """The graded fixed windows plus the sliding ones, each marked ``_hyps`` (grade >= 4 or
    the slow-wave form), for choosing the most epileptic 5 minutes."""
    if not sliding:
        return graded
    sl = pd.DataFrame(sliding)
    sl = sl[sl["grade"].notna()]
    if not len(sl):
        return graded
    sv = sl["slow_variant"].fillna(False).astype(bool) if "slow_variant" in sl else False
    sl = sl.assign(_hyps=(sl["grade"] >= PRESENT_FROM) | sv)
    return pd.concat([graded, sl], ignore_index=True)


def _assessed(names: list[str], bip_names: list[str]) -> tuple[list[str], list[str]]:
    """Which BASED criteria the recorded electrodes allow, and what is missing for the rest."""
    side = side_of(np.array([POSITIONS[n] for n in names], dtype=float)) if names else np.zeros(0)
    left, right = int((side < 0).sum()), int((side > 0).sum())
    ok, missing = [], []
    if bip_names:
        ok.append(f"amplitude on {len(bip_names)} bipolar derivations")
    else:
        missing.append("amplitude: no bipolar derivation (needs two electrodes of one chain)")
    if left >= 2 and right >= 2:
        ok.append(f"spike foci and multifocality ({left} left, {right} right electrodes)")
    else:
        missing.append(f"multifocality: needs >= 2 electrodes on each side ({left} left, "
                       f"{right} right)")
    ok += ["spike burden (1-s bins)", "paroxysmal attenuations"]
    return ok, missing


def slow_variant(grade: int | None, n_foci: int, detections_per_min: float, n_high: int,
                 n_bipolar: int, connectivity: float | None,
                 params: GradingParams = GradingParams(), *,
                 rel_delta: float | None = None) -> bool:
    """Whether an epoch graded 3 is the slow-wave form of modified hypsarrhythmia.

    "Mostly high-voltage slow waves with few spikes" (Hrachovy, Frost & Kellaway 1984): too few
    discharges for three foci, so BASED gives 3 (1-2 foci with high amplitude). Called when the
    very high voltage is diffuse (``n_high / n_bipolar >= params.diffuse_fraction``), mostly
    slow (``rel_delta >= params.min_rel_delta``, when given), the
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
    rel_delta : float, optional
        Relative 0.5-4 Hz power of the epoch (averaged over its feature epochs); the slowness
        test is skipped when absent.

    Returns
    -------
    bool
    """
    if rel_delta is not None and not (np.isfinite(rel_delta)
                                      and rel_delta >= params.min_rel_delta):
        return False
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


#: Median bipolar background amplitude (µV) below or above which a recording's gain is doubtful:
#: infant EEG, awake or asleep, normal or hypsarrhythmic, lies well within these bounds.
PLAUSIBLE_UV: tuple[float, float] = (15.0, 600.0)


def recording_evidence(graded: pd.DataFrame, grades: pd.DataFrame,
                       high_uv: float = 200.0) -> dict:
    """What the recording-level verdict adds to the graded epoch's evidence.

    Parameters
    ----------
    graded : DataFrame
        The graded 5-minute epochs (``grades.tsv`` rows with a grade), the most epileptic first.
    grades : DataFrame
        Every epoch, graded or not.
    high_uv : float
        The high-amplitude threshold in force.

    Returns
    -------
    dict
        ``by_state`` (highest grade per sleep-wake state), ``montage`` (derivations, criteria
        assessed and not), ``ictal_set_aside_s``, ``amplitude`` (the background level, the
        threshold's margin and whether the grade rests on absolute voltage) and ``warnings``.
    """
    out: dict = {"warnings": []}
    warn = out["warnings"]
    if "ictal_s" in grades:
        out["ictal_set_aside_s"] = float(pd.to_numeric(grades["ictal_s"],
                                                       errors="coerce").fillna(0).sum())
    if not len(graded):
        return out
    worst = graded.iloc[0]
    fixed = graded[~graded["sliding"].fillna(False).astype(bool)] if "sliding" in graded \
        else graded
    if "state" in fixed and len(fixed):
        st = fixed.assign(state=fixed["state"].fillna("unknown").astype(str))
        out["by_state"] = {s: int(g["grade"].max()) for s, g in st.groupby("state")}
        if not (st["state"] == "nrem").any():
            warn.append("no NREM sleep among the graded epochs: BASED grades the most "
                        "epileptic 5 minutes of sleep, so the grade may understate")
    out["montage"] = {k: _as_list(worst.get(k)) for k in ("derivations", "assessed",
                                                          "not_assessed")}
    mont = out["montage"]
    if mont["derivations"] and set(mont["derivations"]) != _FULL:
        warn.append(f"reduced montage: graded on {len(mont['derivations'])} derivations ("
                    + ", ".join(mont["derivations"]) + "); assessed: "
                    + "; ".join(mont["assessed"])
                    + "".join(f"; not assessed: {m}" for m in mont["not_assessed"])
                    + "; derivations spanning two electrode distances read higher than the "
                    "double banana")
    for focus, share in zip(_as_list(worst.get("foci")), _as_list(worst.get("focus_polar")),
                            strict=False):
        if isinstance(share, int | float) and share < FOCUS_POLAR_WARN:
            where = focus[0] if isinstance(focus, list | tuple) and focus else focus
            warn.append(
                f"focus at {where}: only {share:.0%} of its discharges have a field of their own "
                "polarity on a neighbouring electrode; the others rest on neighbours showing the "
                "waveform inverted, as one electrode's transients (a faulty contact, muscle) do "
                "through the average reference, or a source whose field reverses: review that "
                "electrode before reading it as a focus")
    unflagged, graded_as = (_as_float(worst.get(k)) for k in ("grade_unflagged", "grade"))
    if unflagged < graded_as:  # False where either is missing (NaN)
        rests = (" the grade of hypsarrhythmia rests on them" if unflagged < PRESENT_FROM
                 <= graded_as else " the grade rests on them")
        warn.append(f"without the focus/foci flagged for review this epoch grades BASED "
                    f"{int(unflagged)}, not {int(graded_as)}:{rests}")
    amp = pd.to_numeric(graded.get("median_amplitude_uv"), errors="coerce")
    level = float(amp.median()) if amp is not None and amp.notna().any() else float("nan")
    mx = float(worst.get("max_channel_amplitude_uv") or 0.0)
    crit = " ".join(_as_list(worst.get("criteria")))
    rests = "high-amplitude" in crit or "high amplitude" in crit
    out["amplitude"] = {"background_median_uv": level, "max_channel_uv": mx,
                        "high_uv": high_uv, "ratio_to_threshold": mx / high_uv,
                        "grade_rests_on_voltage": bool(rests)}
    if np.isfinite(level) and not PLAUSIBLE_UV[0] <= level <= PLAUSIBLE_UV[1]:
        warn.append(f"implausible amplitude: the background's median bipolar amplitude is "
                    f"{level:.0f} µV (infant EEG: {PLAUSIBLE_UV[0]:.0f}-{PLAUSIBLE_UV[1]:.0f}); "
                    "check the recording's gain and units: the > 200 µV criterion depends on it")
    elif rests and 0.8 < mx / high_uv < 1.25:
        warn.append(f"the grade rests on the > {high_uv:.0f} µV criterion with a narrow margin "
                    f"(largest channel {mx:.0f} µV): a gain error of 25 % would change it")
    return out


#: A focus fewer of whose discharges than this keep a field of their own polarity is flagged
#: for review (``recording_evidence``); it still counts (``SpikeParams.focus_min_polar``).
FOCUS_POLAR_WARN = 0.5

_FULL = {f"{a}-{b}" for a, b in zip(CHAINS[0][:-1], CHAINS[0][1:], strict=True)} | {
    f"{a}-{b}" for c in CHAINS[1:] for a, b in zip(c[:-1], c[1:], strict=True)}


def not_graded_reason(grades: pd.DataFrame) -> str:
    """Why no epoch was graded (the most common reason among the epochs)."""
    if "criteria" not in grades or not len(grades):
        return "not graded: no epoch had enough usable EEG"
    reasons = [c[0] for c in grades["criteria"] if isinstance(c, list | tuple) and c]
    return pd.Series(reasons).mode().iat[0] if reasons else \
        "not graded: no epoch had enough usable EEG"


def _as_float(v) -> float:
    """``v`` as a float, NaN where it is missing or not a number."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _as_list(v) -> list:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return []
    return list(v) if isinstance(v, list | tuple | np.ndarray) else [v]
