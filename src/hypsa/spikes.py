"""Epileptiform discharge (spike / sharp wave) detection and grouping into foci.

A discharge is a transient that stands out from the activity *around it on its own channel*:
peaks of the 8-45 Hz component of each average-referenced channel are candidates when they exceed
a multiple of that channel's **local** level (the median over the surrounding ~5 s, so a spike is
judged against the background it rides on, whatever the recording's gain or state) and, more
loosely, of the channel's level over the whole window (so that deep attenuation does not turn
small waves into spikes). A candidate is kept when its broadband deflection has the steep slope of
a spike or sharp wave, relative to the same local slope level. Detections on several channels
within ``group_ms`` are one discharge, located at the channel where it is largest; a discharge
needs a field (a neighbouring electrode shows it too: above its own local level, or the same
8-45 Hz waveform, smaller) and must not be generalized (seen at nearly equal amplitude on most
channels). Discharges whose locations lie within one
inter-electrode distance *on the same side of the head* form one focus (foci are never merged
across the midline).

A shape model can judge the candidate peaks instead of the thresholds (``SpikeParams.model``,
:data:`MODEL`; measurements in :func:`candidate_features`, a LightGBM model rebuilt with
``benchmarks/train_discharge_model.py``). It is not the default and no model is shipped:
measured leave-one-generator-out it found more discharges at fewer false detections on two of
the three generators, but the BASED grading built on it was worse (docs/validation.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from scipy import ndimage
from scipy import signal as sps

from hypsa.errors import HypsaError
from hypsa.kernels import median
from hypsa.signal import bandpass

__all__ = ["SpikeParams", "Discharges", "detect_discharges", "group_foci", "side_of",
           "candidate_features", "load_model", "DischargeModelError", "FEATURES",
           "RULE", "MODEL"]

#: The shipped discharge model (LightGBM text format) and its card (sha256, threshold, data).
MODEL_FILE = "discharge_lgbm.txt"
CARD_FILE = "discharge_lgbm.json"


class DischargeModelError(HypsaError):
    """The shipped discharge model is missing or does not match its card."""


@dataclass(frozen=True)
class SpikeParams:
    """Documented thresholds of the discharge detector.

    Attributes
    ----------
    k_local : float
        Threshold on the 8-45 Hz envelope in robust standard deviations of the channel's local
        level (median over ``local_s`` around the candidate); with ``model``, the lowest
        contrast of a candidate peak the model judges.
    k_global : float
        Threshold in robust standard deviations of the channel's level over the whole window
        (a looser floor that keeps deeply attenuated stretches from producing spikes).
    local_s : float
        Span of the local background level (s).
    floor_uv : float
        Absolute floor of the 8-45 Hz peak (µV): keeps low-voltage noise from counting.
    min_ptp_uv : float
        Minimum broadband peak-to-peak within ±100 ms (µV).
    k_slope : float
        The steepest broadband slope within ±50 ms must exceed this multiple of the channel's
        local median absolute slope (sharpness against the background, not absolute µV).
    group_ms : float
        Detections closer than this on different channels form one discharge.
    min_interval_ms : float
        Candidates closer than this on one channel: only the larger is kept.
    k_field : float
        A channel "sees" a discharge when its 8-45 Hz envelope within ±50 ms reaches this many
        robust SD of its own local level.
    field_corr, field_gain, field_ms : float, float, float
        The discharge's field, judged by shape: a channel also shares the discharge when its
        8-45 Hz waveform over ±``field_ms`` around the location's peak correlates with the
        location's at >= ``field_corr`` with >= ``field_gain`` of its RMS (the same wave,
        smaller, as a field falls off), whatever the neighbour's own background level; in a
        dense, high-voltage background a neighbour rarely stands ``k_field`` above its own
        level although it carries the field. ``field_corr`` above 1 turns this off.
    min_channels : int
        Channels that must share a discharge (``k_field`` or the shape test), a neighbour of
        its location among them: a "spike" confined to one electrode is an electrode artifact
        more often than a cerebral discharge.
    generalized_fraction : float
        A discharge seen on more than this share of the channels, with at least half of the
        location's amplitude on most of them, is a generalized transient (or a common artifact),
        not focal.
    symmetric_ratio : float
        A discharge seen on both sides of the head at the same moment (within 15 ms) with the
        same polarity, the weaker side at least this share of the stronger, is bilateral and
        symmetric (a vertex wave, a K-complex), not focal (needs the electrode positions).
    symmetric_corr : float
        ... and, on the other side, the same 8-45 Hz waveform (correlation over ±``field_ms``
        at least this): a vertex wave is one wave seen on both sides, whereas in a dense
        multifocal background some unrelated wave on the other side peaks at the same moment
        by chance. -1 leaves the shape out.
    symmetric_min_channels : int
        The symmetry test applies from this many channels: on a sparse montage a central focus
        reaches both central electrodes and cannot be told from a vertex transient.
    outlier_factor : float
        1-s bins whose peak-to-peak on a channel exceeds this multiple of the channel's median
        are artifact for that channel (electrode pops, movement).
    k_in_focus : float
        Discharges from this contrast up to ``k_local`` count only on the electrodes of a focus
        made of the discharges at ``k_local`` (:func:`hypsa.hypsarrhythmia.grade_span`); equal
        to ``k_local``: none (the default, with the model). For the rule (:data:`RULE`), 5.5
        was chosen leave-one-generator-out on the BASED grade's weighted kappa
        (docs/validation.md).
    focus_min_events, focus_min_per_min, focus_min_fraction : int, float, float
        A focus counts when it fires recurrently: at least ``focus_min_events`` discharges and
        ``focus_min_per_min`` per minute of usable EEG (15 in a 5-minute epoch), and this share
        of all discharges.
    model : bool
        Judge the candidate peaks with a discharge model (:func:`load_model`; none is shipped,
        so ``model_dir`` names one) instead of the thresholds: every peak at ``k_local``
        robust SD or more that passes the morphology floors (``min_ptp_uv``, ``k_slope``) is
        measured (:func:`candidate_features`) and kept when the model's score reaches
        ``model_threshold``; ``k_field``, ``field_corr``, ``field_gain`` and ``field_ms`` then
        define the field measurements, and the symmetry and generalization thresholds are
        not used (the model weighs those measurements). :data:`RULE` is the rule.
    model_threshold : float, optional
        Score threshold of the model (default: the one on its card).
    model_dir : str, optional
        Folder of the model and its card (default: ``hypsa/models``).
    """

    k_local: float = 6.5
    k_global: float = 3.0
    local_s: float = 5.0
    floor_uv: float = 12.0
    min_ptp_uv: float = 40.0
    k_slope: float = 4.0
    group_ms: float = 60.0
    min_interval_ms: float = 100.0
    k_field: float = 3.0
    field_corr: float = 0.5
    field_gain: float = 0.2
    field_ms: float = 60.0
    min_channels: int = 2
    generalized_fraction: float = 0.7
    symmetric_ratio: float = 0.5
    symmetric_corr: float = 0.5
    symmetric_min_channels: int = 15
    outlier_factor: float = 6.0
    k_in_focus: float = 5.5
    focus_min_events: int = 8
    focus_min_per_min: float = 3.0
    focus_min_fraction: float = 0.05
    model: bool = False
    model_threshold: float | None = None
    model_dir: str | None = None


@dataclass
class Discharges:
    """Discharges found in one stretch of EEG.

    Attributes
    ----------
    time_s : ndarray
        Time of each discharge (s from the start of the analysed array).
    channel : ndarray of int
        Index of the channel where it is largest (its location).
    n_channels : ndarray of int
        Number of channels on which it was seen.
    amplitude : ndarray
        Peak-to-peak broadband amplitude at the location (µV).
    contrast : ndarray
        Peak of the 8-45 Hz envelope at the location over the channel's local level (robust SD).
    """

    time_s: np.ndarray
    channel: np.ndarray
    n_channels: np.ndarray
    amplitude: np.ndarray
    contrast: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.contrast is None:
            self.contrast = np.zeros(self.time_s.size)

    def __len__(self) -> int:
        return int(self.time_s.size)

    def select(self, keep: np.ndarray) -> Discharges:
        """Subset by a boolean mask."""
        con = self.contrast if self.contrast is not None else np.zeros(self.time_s.size)
        return Discharges(self.time_s[keep], self.channel[keep], self.n_channels[keep],
                          self.amplitude[keep], con[keep])


def _empty() -> Discharges:
    e = np.zeros(0)
    return Discharges(e, e.astype(int), e.astype(int), e, e.copy())


def _local_level(a: np.ndarray, sfreq: float, span_s: float) -> tuple[np.ndarray, int]:
    """Level of ``a`` (n_channels, n_samples) over ``span_s`` around each 0.5-s block: the
    running mean of the blocks' medians (each robust to the transients in it). Returns the
    per-block level and the block length in samples."""
    blk = max(1, int(round(0.5 * sfreq)))
    n = a.shape[1]
    nb = max(1, n // blk)
    med = median(a[:, : nb * blk].reshape(a.shape[0], nb, blk), axis=2) if n >= blk else \
        median(a, axis=1, keepdims=True)
    k = max(1, int(round(span_s / 0.5)))
    if med.shape[1] > 1 and k > 1:
        med = ndimage.uniform_filter1d(med, size=min(k, med.shape[1]), axis=1, mode="nearest")
    return med, blk


def detect_discharges(
    data: np.ndarray,
    sfreq: float,
    *,
    params: SpikeParams | None = None,
    excluded: np.ndarray | None = None,
    band: np.ndarray | None = None,
    positions: np.ndarray | None = None,
) -> Discharges:
    """Detect spikes and sharp waves, each judged against its own channel's local background.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        Band-passed (0.5-45 Hz) EEG in µV, referential; it is average-referenced here.
    sfreq : float
        Sampling rate in Hz (>= 100).
    params : SpikeParams, optional
        Thresholds (defaults documented in :class:`SpikeParams`).
    excluded : ndarray of bool, shape (n_channels, n_bins) or (n_bins,), optional
        1-s bins (per channel or for all) where detections are ignored (artifact, spasms).
    band : ndarray, optional
        ``data`` already filtered to 8-45 Hz (referential); computed when absent.
    positions : ndarray, shape (n_channels, 2), optional
        Scalp positions; when given, a discharge needs a neighbouring electrode (within 1.6
        inter-electrode distances of its location) among the channels that see it.

    Returns
    -------
    Discharges
    """
    p = params or SpikeParams()
    if p.model:
        return _detect_model(data, sfreq, p, excluded, band, positions)
    x = data - data.mean(axis=0, keepdims=True)
    hp = bandpass(x, sfreq, 8.0, 45.0, order=3) if band is None else \
        band - band.mean(axis=0, keepdims=True)
    n_ch, n = x.shape
    if n < int(sfreq):
        return _empty()
    env = np.abs(hp)
    sig_glob = median(env, axis=1) / 0.6745
    loc_b, blk = _local_level(env, sfreq, p.local_s)
    loc_b = loc_b / 0.6745
    slope = np.abs(np.diff(x, axis=1, append=x[:, -1:])) * sfreq
    slope_b, _ = _local_level(slope, sfreq, p.local_s)
    nbk = loc_b.shape[1]
    half = int(round(0.1 * sfreq))
    q = max(1, int(round(0.05 * sfreq)))
    dist = max(1, int(round(p.min_interval_ms / 1000.0 * sfreq)))
    win = np.arange(-half, half + 1)
    win_s = np.arange(-q, q + 1)
    times, chans, amps, cons = [], [], [], []
    for c in range(n_ch):
        pk, _ = sps.find_peaks(env[c], height=max(p.k_global * float(sig_glob[c]), p.floor_uv),
                               distance=dist)
        pk = pk[(pk >= half) & (pk < n - half)]
        bk = np.minimum(pk // blk, nbk - 1)
        pk = pk[env[c, pk] >= p.k_local * loc_b[c, bk]]
        if pk.size == 0:
            continue
        bk = np.minimum(pk // blk, nbk - 1)
        seg = x[c][pk[:, None] + win[None, :]]
        ptp = seg.max(axis=1) - seg.min(axis=1)
        steep = slope[c][pk[:, None] + win_s[None, :]].max(axis=1)
        keep = (ptp >= p.min_ptp_uv) & (steep >= p.k_slope * slope_b[c, bk])
        if excluded is not None:
            b = np.minimum((pk / sfreq).astype(int), excluded.shape[-1] - 1)
            keep &= ~(excluded[c, b] if excluded.ndim == 2 else excluded[b])
        times.append(pk[keep] / sfreq)
        chans.append(np.full(int(keep.sum()), c))
        amps.append(ptp[keep])
        cons.append(env[c, pk[keep]] / np.maximum(loc_b[c, bk[keep]], 1e-6))
    if not times or not sum(t.size for t in times):
        return _empty()
    t = np.concatenate(times)
    ch = np.concatenate(chans)
    a = np.concatenate(amps)
    co = np.concatenate(cons)
    order = np.argsort(t, kind="stable")
    t, ch, a, co = t[order], ch[order], a[order], co[order]
    gid = _group_ids(t, p.group_ms / 1000.0)
    ng = int(gid[-1]) + 1
    best = np.full(ng, -1.0)
    np.maximum.at(best, gid, a)
    is_best = a >= best[gid]
    first_best = np.zeros(ng, dtype=int)
    idx = np.flatnonzero(is_best)
    first_best[gid[idx][::-1]] = idx[::-1]
    loc = ch[first_best]
    s0 = np.round(t[first_best] * sfreq).astype(int)
    # the field: how strongly every channel shows the transient at that moment, each against
    # its own local level (a neighbour need not cross the detection threshold itself)
    w = s0[None, :, None] + np.arange(-q, q + 1)[None, None, :]
    w = np.clip(w, 0, n - 1)
    seg = env[np.arange(n_ch)[:, None, None], w]
    pk = seg.max(axis=2)                                      # (n_ch, n_discharges)
    lag = np.abs(seg.argmax(axis=2) - q) / sfreq              # peak time from the location's
    ratio = pk / np.maximum(loc_b[:, np.minimum(s0 // blk, nbk - 1)], 1e-6)
    seen = ratio >= p.k_field
    # each channel's 8-45 Hz waveform over ±field_ms around the location's peak, against the
    # location's: correlation (same wave, same polarity, same moment) and RMS ratio
    h = max(1, int(round(p.field_ms / 1000.0 * sfreq)))
    wf = np.clip(s0[None, :, None] + np.arange(-h, h + 1)[None, None, :], 0, n - 1)
    segf = hp[np.arange(n_ch)[:, None, None], wf]              # (n_ch, n_dis, 2h+1)
    segf = segf - segf.mean(axis=2, keepdims=True)
    ref = segf[loc, np.arange(loc.size)]                         # (n_dis, 2h+1)
    e_ch = (segf ** 2).sum(axis=2)
    e_ref = np.maximum((ref ** 2).sum(axis=1), 1e-9)[None, :]
    corr = (segf * ref[None]).sum(axis=2) / (np.sqrt(e_ch * e_ref) + 1e-9)
    gain = np.sqrt(e_ch / e_ref)
    # the field: a neighbour above its own local level, or showing the same waveform, smaller
    # (an electrode artifact has neither), whatever the neighbour's own background level
    near_seen = seen | ((corr >= p.field_corr) & (gain >= p.field_gain))
    n_seen = seen.sum(axis=0)
    keep = near_seen.sum(axis=0) >= p.min_channels
    if positions is not None and n_ch > 1:
        d = np.sqrt(((positions[:, None, :] - positions[None, :, :]) ** 2).sum(-1))
        nn = float(median(np.sort(d, axis=1)[:, 1]))
        near = (d <= 1.6 * nn) & ~np.eye(n_ch, dtype=bool)
        keep &= (near[loc] & near_seen.T).any(axis=1)
        # bilateral and symmetric (vertex waves, K-complexes, generalized transients): not focal
        side = side_of(positions)
        # same polarity as the peak, at the same moment (within 15 ms), the same waveform
        same = (np.sign(x[:, s0]) == np.sign(x[loc, s0])[None, :]) & (lag <= 0.015) & \
            (corr >= p.symmetric_corr)
        lpk = np.where((side < 0)[:, None] & seen & same, pk, 0.0).max(axis=0)
        rpk = np.where((side > 0)[:, None] & seen & same, pk, 0.0).max(axis=0)
        sym = (lpk > 0) & (rpk > 0) & (np.minimum(lpk, rpk)
                                       >= p.symmetric_ratio * np.maximum(lpk, rpk))
        if n_ch >= p.symmetric_min_channels:  # on a sparse montage a central focus looks so
            keep &= ~sym
    # generalized: at least half the location's size on most channels
    strong = (pk >= 0.5 * pk[loc, np.arange(loc.size)][None, :]).sum(axis=0)
    keep &= strong <= p.generalized_fraction * n_ch
    fb = first_best[keep]
    return Discharges(time_s=t[fb], channel=ch[fb], n_channels=n_seen[keep],
                      amplitude=a[fb], contrast=co[fb])


def _detect_model(data: np.ndarray, sfreq: float, p: SpikeParams,
                  excluded: np.ndarray | None, band: np.ndarray | None,
                  positions: np.ndarray | None) -> Discharges:
    """The model's discharges: candidates scoring at or above the threshold; those on several
    channels within ``group_ms`` are one discharge, located at the highest-scoring one."""
    pk, ch, f = candidate_features(data, sfreq, params=p, excluded=excluded, band=band,
                                   positions=positions, k_candidate=p.k_local)
    if pk.size == 0:
        return _empty()
    booster, card = load_model(p.model_dir)
    col = [FEATURES.index(k) for k in card["features"]]
    score = np.asarray(booster.predict(f[:, col], num_threads=1), dtype=float)
    thr = float(card["threshold"] if p.model_threshold is None else p.model_threshold)
    keep = np.flatnonzero(score >= thr)
    if keep.size == 0:
        return _empty()
    keep = keep[np.argsort(pk[keep], kind="stable")]
    t = pk[keep] / sfreq
    gid = _group_ids(t, p.group_ms / 1000.0)
    best = np.full(int(gid[-1]) + 1, -np.inf)
    np.maximum.at(best, gid, score[keep])
    first = np.full(best.size, -1)
    idx = np.flatnonzero(score[keep] >= best[gid])[::-1]
    first[gid[idx]] = idx
    sel = keep[first]
    x = data - data.mean(axis=0, keepdims=True)
    half = int(round(0.1 * sfreq))
    w = np.clip(pk[sel][:, None] + np.arange(-half, half + 1)[None, :], 0, x.shape[1] - 1)
    seg = x[ch[sel][:, None], w]
    nb = f[sel, FEATURES.index("nb_seen")].astype(int)
    return Discharges(time_s=pk[sel] / sfreq, channel=ch[sel], n_channels=nb + 1,
                      amplitude=seg.max(axis=1) - seg.min(axis=1),
                      contrast=f[sel, FEATURES.index("contrast")])


def _models_dir() -> Path:
    return Path(str(resources.files("hypsa") / "models"))


@lru_cache(maxsize=4)
def load_model(directory: str | None = None):
    """A discharge model and its card (cached).

    Parameters
    ----------
    directory : str, optional
        Folder holding :data:`MODEL_FILE` and :data:`CARD_FILE` (default: ``hypsa/models``).

    Returns
    -------
    (lightgbm.Booster, dict)

    Raises
    ------
    DischargeModelError
        When a file is missing or the model's sha256 differs from its card's.
    """
    import lightgbm as lgb

    d = Path(directory) if directory else _models_dir()
    mf, cf = d / MODEL_FILE, d / CARD_FILE
    if not mf.is_file() or not cf.is_file():
        raise DischargeModelError(f"{d}: no discharge model ({MODEL_FILE}, {CARD_FILE}); build "
                                  "one with benchmarks/train_discharge_model.py --out DIR")
    text = mf.read_bytes()
    card = json.loads(cf.read_text())
    sha = hashlib.sha256(text).hexdigest()
    if sha != card.get("sha256"):
        raise DischargeModelError(f"{mf}: sha256 {sha[:12]} differs from its card "
                                  f"({card.get('sha256')})")
    unknown = [k for k in card.get("features", []) if k not in FEATURES]
    if unknown or "threshold" not in card:
        raise DischargeModelError(f"{cf}: the card names unknown measurements {unknown} or no "
                                  "threshold")
    return lgb.Booster(model_str=text.decode()), card


def _group_ids(t: np.ndarray, window_s: float) -> np.ndarray:
    """Group sorted times: a group takes every time within ``window_s`` of its first one
    (no chaining, so dense multifocal activity is not merged into one long group)."""
    gid = np.empty(t.size, dtype=np.int64)
    g, start = -1, -np.inf
    for i, ti in enumerate(t.tolist()):
        if ti - start > window_s:
            g += 1
            start = ti
        gid[i] = g
    return gid


def side_of(positions: np.ndarray, tol: float = 0.05) -> np.ndarray:
    """Side of the head of each position: -1 left, +1 right, 0 midline."""
    xs = np.asarray(positions, dtype=float)[:, 0]
    return np.where(xs < -tol, -1, np.where(xs > tol, 1, 0))


def group_foci(
    channel: np.ndarray,
    positions: np.ndarray,
    *,
    min_events: int = 3,
    min_fraction: float = 0.05,
    radius: float | None = None,
) -> tuple[list[list[int]], np.ndarray]:
    """Group discharge locations into spatially separate foci.

    Greedy: the electrode with most discharges seeds a focus that absorbs every location within
    ``radius`` on the same side of the head (a midline seed takes midline electrodes only; a
    lateral seed takes its own side and the midline), never across the midline; repeat on what
    is left. A focus counts when it holds at least ``min_events`` discharges and
    ``min_fraction`` of all.

    Parameters
    ----------
    channel : ndarray of int
        Location (channel index) of each discharge.
    positions : ndarray, shape (n_channels, 2)
        Scalp positions of the channels (x: left negative, right positive).
    min_events, min_fraction : int, float
        What it takes for a group to count as a focus.
    radius : float, optional
        Grouping radius; default 1.5 × the median nearest-neighbour electrode distance, so that
        a focus takes in the electrodes adjacent to its centre.

    Returns
    -------
    foci : list of list of int
        Channel indices of each focus, largest first.
    label : ndarray of int
        Focus index of each discharge (-1 when its group did not count).
    """
    n_ch = positions.shape[0]
    d = np.sqrt(((positions[:, None, :] - positions[None, :, :]) ** 2).sum(-1))
    if radius is None:
        nn = np.sort(d, axis=1)[:, 1] if n_ch > 1 else np.array([1.0])
        radius = 1.5 * float(median(nn))
    side = side_of(positions)
    counts = np.bincount(channel, minlength=n_ch).astype(float)
    remaining = counts.copy()
    total = counts.sum()
    chan_focus = np.full(n_ch, -1)
    foci: list[list[int]] = []
    while remaining.sum() > 0:
        seed = int(np.argmax(remaining))
        same = (side == side[seed]) if side[seed] == 0 else (side != -side[seed])
        members = np.flatnonzero((d[seed] <= radius) & (remaining > 0) & (chan_focus < 0)
                                 & same)
        n_ev = counts[members].sum()
        remaining[members] = 0
        if n_ev >= min_events and n_ev >= min_fraction * total:
            chan_focus[members] = len(foci)
            foci.append([int(m) for m in members])
        else:
            chan_focus[members] = -2
    label = chan_focus[channel] if channel.size else np.zeros(0, dtype=int)
    label = np.where(label < 0, -1, label)
    return foci, label


#: The measurements :func:`candidate_features` gives each candidate peak; each is relative to
#: the channel's own local background (or a count of electrodes), so that it means the same on
#: any recording, gain or montage.
FEATURES: tuple[str, ...] = (
    "contrast",          # 8-45 Hz envelope peak / the channel's local level (robust SD)
    "contrast_global",   # ... / the channel's level over the whole window
    "amplitude",         # apex height from the local baseline / local robust SD of the EEG
    "rise",              # steepest slope of the rising flank / local median absolute slope
    "fall",              # steepest slope of the falling flank / local median absolute slope
    "sharpness",         # second difference at the apex / its local median
    "duration_ms",       # width of the apex at half its height (ms)
    "asymmetry",         # log(falling-flank duration / rising-flank duration)
    "slow_after",        # 0.5-4 Hz wave 100-400 ms after the apex, same polarity, / local level
    "nb_seen",           # neighbours whose envelope peaks within ±20 ms above 3 local SD
    "nb_shape",          # neighbours with the same 8-45 Hz waveform, smaller (corr, RMS share)
    "nb_share",          # nb_seen / neighbours on the montage
    "best_nb_contrast",  # the largest neighbour's own contrast within ±20 ms
    "is_location",       # the largest 8-45 Hz peak of all channels within ±20 ms
    "strong_share",      # share of channels at >= half the peak within ±20 ms (generalized)
    "contra_same",       # channels on the other side with the same waveform at >= half size
    "rank_10s",          # peaks larger than this one on the channel within ±5 s
    "density_10s",       # candidate peaks on the channel within ±5 s
    "hf_share",          # 8-45 Hz envelope peak / broadband apex height (a spike's fast part)
    "isolation",         # envelope peak / the largest envelope 150-500 ms either side
)


def _level(a: np.ndarray, sfreq: float, span_s: float, robust: bool = True) -> tuple:
    lv, blk = _local_level(a, sfreq, span_s)
    return (lv / 0.6745 if robust else lv), blk


def candidate_features(
    data: np.ndarray,
    sfreq: float,
    *,
    params: SpikeParams | None = None,
    excluded: np.ndarray | None = None,
    band: np.ndarray | None = None,
    positions: np.ndarray | None = None,
    k_candidate: float = 3.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate peaks and their measurements, for the discharge model.

    A candidate is a peak of a channel's 8-45 Hz envelope at ``k_candidate`` robust SD of the
    channel's local level or more that passes the morphology floors of ``params``
    (``min_ptp_uv``, ``k_slope``) outside ``excluded``. Its measurements (:data:`FEATURES`)
    are taken against the channel's own local background or count electrodes.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        Band-passed EEG in µV, referential; it is average-referenced here.
    sfreq : float
        Sampling rate in Hz.
    params : SpikeParams, optional
        Spans and floors (``local_s``, ``k_global``, ``floor_uv``, ``min_ptp_uv``, ``k_slope``,
        ``min_interval_ms``, ``k_field``, ``field_corr``, ``field_gain``, ``field_ms``).
    excluded : ndarray of bool, shape (n_channels, n_bins) or (n_bins,), optional
        1-s bins where candidates are ignored.
    band : ndarray, optional
        ``data`` filtered to 8-45 Hz (referential); computed when absent.
    positions : ndarray, shape (n_channels, 2), optional
        Scalp positions (neighbours and sides); without them every other channel is a
        neighbour and none is on the other side.
    k_candidate : float
        Lowest local contrast of a candidate.

    Returns
    -------
    sample : ndarray of int
        Sample of each candidate's envelope peak.
    channel : ndarray of int
        Its channel.
    features : ndarray, shape (n_candidates, len(FEATURES))
    """
    p = params or SpikeParams()
    x = np.asarray(data, dtype=np.float64)
    x = x - x.mean(axis=0, keepdims=True)
    hp = bandpass(x, sfreq, 8.0, 45.0, order=3) if band is None else \
        np.asarray(band, dtype=np.float64) - band.mean(axis=0, keepdims=True)
    n_ch, n = x.shape
    empty = (np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros((0, len(FEATURES))))
    if n < 2 * int(sfreq) or n_ch < 2:
        return empty
    env = np.abs(hp)
    sig_glob = median(env, axis=1) / 0.6745
    loc_b, blk = _level(env, sfreq, p.local_s)
    nbk = loc_b.shape[1]
    dx = np.diff(x, axis=1, append=x[:, -1:]) * sfreq
    slope_b, _ = _level(np.abs(dx), sfreq, p.local_s, robust=False)
    d2 = np.abs(np.diff(x, n=2, axis=1, prepend=x[:, :1], append=x[:, -1:])) * sfreq ** 2
    d2_b, _ = _level(d2, sfreq, p.local_s, robust=False)
    lp = bandpass(x, sfreq, None, 4.0, order=2).astype(np.float64)
    lp_b, _ = _level(np.abs(lp), sfreq, p.local_s)
    amp_b, _ = _level(np.abs(x), sfreq, p.local_s)
    half = int(round(0.1 * sfreq))
    q = max(1, int(round(0.05 * sfreq)))
    dist = max(1, int(round(p.min_interval_ms / 1000.0 * sfreq)))
    win = np.arange(-half, half + 1)
    win_s = np.arange(-q, q + 1)
    ten = int(round(5.0 * sfreq))
    pks, chs, rank, dens = [], [], [], []
    for c in range(n_ch):
        allp, _ = sps.find_peaks(env[c], height=max(p.k_global * float(sig_glob[c]), p.floor_uv),
                                 distance=dist)
        pk = allp[(allp >= half) & (allp < n - half)]
        bk = np.minimum(pk // blk, nbk - 1)
        pk = pk[env[c, pk] >= k_candidate * loc_b[c, bk]]
        if pk.size == 0:
            continue
        bk = np.minimum(pk // blk, nbk - 1)
        seg = x[c][pk[:, None] + win[None, :]]
        steep = np.abs(dx[c])[pk[:, None] + win_s[None, :]].max(axis=1)
        keep = ((seg.max(axis=1) - seg.min(axis=1)) >= p.min_ptp_uv) & \
            (steep >= p.k_slope * slope_b[c, bk])
        if excluded is not None:
            b = np.minimum((pk / sfreq).astype(int), excluded.shape[-1] - 1)
            keep &= ~(excluded[c, b] if excluded.ndim == 2 else excluded[b])
        pk = pk[keep]
        if pk.size == 0:
            continue
        # rank among the channel's peaks within ±5 s; candidates within ±5 s
        lo = np.searchsorted(allp, pk - ten)
        hi = np.searchsorted(allp, pk + ten, side="right")
        ev = env[c, allp]
        rank.append(np.array([(ev[a:b] > env[c, i]).sum() for a, b, i in zip(
            lo.tolist(), hi.tolist(), pk.tolist(), strict=True)], dtype=float))
        dens.append((np.searchsorted(pk, pk + ten, side="right")
                     - np.searchsorted(pk, pk - ten)).astype(float))
        pks.append(pk)
        chs.append(np.full(pk.size, c))
    if not pks:
        return empty
    pk = np.concatenate(pks)
    ch = np.concatenate(chs)
    f = np.zeros((pk.size, len(FEATURES)))
    col = {k: i for i, k in enumerate(FEATURES)}
    f[:, col["rank_10s"]] = np.concatenate(rank)
    f[:, col["density_10s"]] = np.concatenate(dens)
    bk = np.minimum(pk // blk, nbk - 1)
    f[:, col["contrast"]] = env[ch, pk] / np.maximum(loc_b[ch, bk], 1e-6)
    f[:, col["contrast_global"]] = env[ch, pk] / np.maximum(sig_glob[ch], 1e-6)
    # the apex: the largest broadband deflection from the local baseline within ±40 ms
    w4 = max(1, int(round(0.04 * sfreq)))
    wb = int(round(0.25 * sfreq))
    idx = np.clip(pk[:, None] + np.arange(-wb, wb + 1)[None, :], 0, n - 1)
    base = median(x[ch[:, None], idx], axis=1)
    near_i = np.clip(pk[:, None] + np.arange(-w4, w4 + 1)[None, :], 0, n - 1)
    dev = x[ch[:, None], near_i] - base[:, None]
    off = np.abs(dev).argmax(axis=1)
    apex = np.clip(pk - w4 + off, 0, n - 1)
    s = np.sign(dev[np.arange(pk.size), off])
    s[s == 0] = 1.0
    h = np.abs(dev[np.arange(pk.size), off])
    abk = np.minimum(apex // blk, nbk - 1)
    f[:, col["amplitude"]] = h / np.maximum(amp_b[ch, abk], 1e-6)
    f[:, col["hf_share"]] = env[ch, pk] / np.maximum(h, 1e-6)
    w50, w15i = int(round(0.5 * sfreq)), int(round(0.15 * sfreq))
    ring = np.r_[np.arange(-w50, -w15i + 1), np.arange(w15i, w50 + 1)]
    ri = np.clip(pk[:, None] + ring[None, :], 0, n - 1)
    f[:, col["isolation"]] = env[ch, pk] / np.maximum(env[ch[:, None], ri].max(axis=1), 1e-6)
    w8 = max(2, int(round(0.08 * sfreq)))
    before = np.clip(apex[:, None] + np.arange(-w8, 0)[None, :], 0, n - 1)
    after = np.clip(apex[:, None] + np.arange(0, w8)[None, :], 0, n - 1)
    sb = np.maximum(slope_b[ch, abk], 1e-6)
    f[:, col["rise"]] = (s[:, None] * dx[ch[:, None], before]).max(axis=1) / sb
    f[:, col["fall"]] = (-s[:, None] * dx[ch[:, None], after]).max(axis=1) / sb
    f[:, col["sharpness"]] = d2[ch, apex] / np.maximum(d2_b[ch, abk], 1e-6)
    # duration at half height, and the two flanks' durations
    w15 = int(round(0.15 * sfreq))
    prof_i = np.clip(apex[:, None] + np.arange(-w15, w15 + 1)[None, :], 0, n - 1)
    prof = s[:, None] * (x[ch[:, None], prof_i] - base[:, None])
    below = prof < 0.5 * h[:, None]
    left_b = below[:, :w15][:, ::-1]
    right_b = below[:, w15 + 1:]
    rise_n = np.where(left_b.any(axis=1), left_b.argmax(axis=1) + 1, w15)
    fall_n = np.where(right_b.any(axis=1), right_b.argmax(axis=1) + 1, w15)
    f[:, col["duration_ms"]] = (rise_n + fall_n) / sfreq * 1000.0
    f[:, col["asymmetry"]] = np.log(fall_n / rise_n)
    # after-going slow wave, same polarity as the apex, against the local slow level
    sw = np.clip(apex[:, None] + np.arange(int(round(0.1 * sfreq)), int(round(0.4 * sfreq)))
                 [None, :], 0, n - 1)
    f[:, col["slow_after"]] = s * lp[ch[:, None], sw].mean(axis=1) / \
        np.maximum(lp_b[ch, abk], 1e-6)
    # the field: the other channels within ±20 ms, each against its own local level
    if positions is not None:
        pos = np.asarray(positions, dtype=float)
        d = np.sqrt(((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1))
        nn = float(median(np.sort(d, axis=1)[:, 1]))
        near = (d <= 1.6 * nn) & ~np.eye(n_ch, dtype=bool)
        side = side_of(pos)
        other = (side[:, None] * side[None, :]) < 0
    else:
        near = ~np.eye(n_ch, dtype=bool)
        other = np.zeros((n_ch, n_ch), dtype=bool)
    r = max(1, int(round(0.02 * sfreq)))
    hf = max(1, int(round(p.field_ms / 1000.0 * sfreq)))
    for a in range(0, pk.size, 4000):
        sl = slice(a, a + 4000)
        pa, ca, ba = pk[sl], ch[sl], bk[sl]
        m = pa.size
        wi = np.clip(pa[None, :, None] + np.arange(-r, r + 1)[None, None, :], 0, n - 1)
        epk = env[np.arange(n_ch)[:, None, None], wi].max(axis=2)          # (n_ch, m)
        ratio = epk / np.maximum(loc_b[:, ba], 1e-6)
        wf = np.clip(pa[None, :, None] + np.arange(-hf, hf + 1)[None, None, :], 0, n - 1)
        segf = hp[np.arange(n_ch)[:, None, None], wf]
        segf = segf - segf.mean(axis=2, keepdims=True)
        ref = segf[ca, np.arange(m)]
        e_ch = (segf ** 2).sum(axis=2)
        e_ref = np.maximum((ref ** 2).sum(axis=1), 1e-9)[None, :]
        corr = (segf * ref[None]).sum(axis=2) / (np.sqrt(e_ch * e_ref) + 1e-9)
        gain = np.sqrt(e_ch / e_ref)
        nb = near[ca].T                                                      # (n_ch, m)
        f[sl, col["nb_seen"]] = (nb & (ratio >= p.k_field)).sum(axis=0)
        f[sl, col["nb_shape"]] = (nb & (corr >= p.field_corr) & (gain >= p.field_gain)).sum(0)
        f[sl, col["nb_share"]] = f[sl, col["nb_seen"]] / np.maximum(nb.sum(axis=0), 1)
        f[sl, col["best_nb_contrast"]] = np.where(nb, ratio, 0.0).max(axis=0)
        own = env[ca, pa]
        f[sl, col["is_location"]] = (epk.max(axis=0) <= own + 1e-9).astype(float)
        f[sl, col["strong_share"]] = (epk >= 0.5 * own[None, :]).mean(axis=0)
        f[sl, col["contra_same"]] = (other[ca].T & (corr >= p.field_corr)
                                     & (epk >= 0.5 * own[None, :])).sum(axis=0)
    return pk, ch, f


#: Direction of each measurement where the clinical sense is clear: standing out from the
#: background (8-45 Hz contrast, apex height), a pointed apex and a field make a discharge
#: likelier (+1); a transient as large on most channels (generalized) or mirrored on the other
#: side (vertex wave, K-complex) less (-1). Left free, the apex height learned from real
#: backgrounds that tall broadband transients are rarely discharges, and textbook spikes were
#: missed (docs/validation.md).
MONOTONE: dict[str, int] = {
    "contrast": 1, "contrast_global": 1, "amplitude": 1, "sharpness": 1, "nb_seen": 1,
    "nb_shape": 1, "best_nb_contrast": 1, "strong_share": -1, "contra_same": -1,
}

#: LightGBM settings of the discharge model (small, deterministic, one thread).
MODEL_PARAMS: dict = {
    "objective": "binary", "num_leaves": 15, "learning_rate": 0.05, "min_data_in_leaf": 100,
    "lambda_l2": 1.0, "num_threads": 1, "deterministic": True, "force_row_wise": True,
    "seed": 0, "verbose": -1,
}
MODEL_ROUNDS = 200


#: The thresholds' detector (before the model): 6.5 robust SD, weaker discharges down to 5.5
#: counted on a focus's electrodes, chosen leave-one-generator-out (docs/validation.md).
RULE = SpikeParams(k_local=6.5, k_in_focus=5.5, model=False)
#: The model's detector: candidate peaks from 3.5 robust SD judged by the model (give its
#: folder as ``model_dir``), every one of its discharges counted (no weaker tier).
MODEL = SpikeParams(k_local=3.5, k_in_focus=3.5, model=True)


def monotone_constraints(features: list[str] | tuple[str, ...]) -> list[int]:
    """LightGBM's monotone constraints for ``features`` (:data:`MONOTONE`, 0 elsewhere)."""
    return [MONOTONE.get(f, 0) for f in features]
