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
channels). Discharges whose locations lie within 1.5 inter-electrode distances of a focus's
centre *on the same side of the head* join that focus (foci are never merged across the
midline), unless their electrode is itself the maximum of a recurrent focus beside it
(:func:`group_foci`).

A shape model can judge the candidate peaks instead of the thresholds (``SpikeParams.model``;
:mod:`hypsa.discharge_model`). It is not the default and no model is shipped: measured
leave-one-generator-out it found more discharges at fewer false detections on two of the three
generators, but the BASED grading built on it was worse (docs/validation.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy import signal as sps

from hypsa.kernels import median
from hypsa.signal import bandpass

__all__ = ["SpikeParams", "Discharges", "detect_discharges", "group_foci", "side_of", "local_mean",
           "RULE"]

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
        to ``k_local``: none (as :data:`hypsa.discharge_model.MODEL` sets it). The default,
        5.5 (:data:`RULE`), was chosen leave-one-generator-out on the BASED grade's weighted
        kappa (docs/validation.md).
    focus_min_events, focus_min_per_min, focus_min_fraction : int, float, float
        A focus counts when it fires recurrently: at least ``focus_min_events`` discharges and
        ``focus_min_per_min`` per minute of usable EEG (15 in a 5-minute epoch), and this share
        of all discharges.
    focus_peak_fraction : float, optional
        A neighbouring electrode that is the maximum of at least this share of a focus
        centre's discharges is the centre of a focus of its own, where both hold enough
        discharges to count as foci (:func:`group_foci`); None: neighbours always join the
        focus. 0.5 left the grade of every recording of the tuning seeds unchanged
        (docs/validation.md).
    laplacian_factor : float, optional
        The discharge is also looked for on the local (Hjorth) Laplacian: each channel minus
        the mean of its neighbours (within 1.6 inter-electrode distances; needs the electrode
        positions). A focal discharge that a widespread high-voltage background hides on the
        average reference stands out there, as a reader sees it on a local montage. A peak of
        the Laplacian's 8-45 Hz envelope counts when its contrast against that channel's own
        local Laplacian level reaches ``laplacian_factor`` times the threshold (``k_local``,
        and the in-focus tier in the same ratio), with the morphology floors measured on the
        Laplacian too; the field, symmetry and generalization tests are the average
        reference's, and every discharge of the average reference is kept. None (the default):
        the average reference only. Chosen leave-one-generator-out, 1.0 found more discharges
        on all four generators but merged two foci of one recording and lowered its grade
        (docs/validation.md), so it is not on.
    field_min_corr : float, optional
        A channel that sees the discharge by its envelope (``k_field``) supports the field only
        when its 8-45 Hz waveform around the peak correlates with the location's above this
        (None, the default: whatever its waveform). On the average reference a transient of
        one electrode (an electrode artifact, a muscle potential) reaches every other electrode
        inverted, as minus its share of the mean; where the neighbours are quiet that leak
        stands above their own level and looks like a field: its waveform is the location's,
        inverted. The envelope cannot tell the two apart; the waveform can. A discharge whose
        field reverses across its neighbours (a tangential source) is lost with it, and at 0
        the grade of hypsarrhythmia on real backgrounds fell (docs/validation.md), so it is
        not on.
    focus_min_polar : float, optional
        A focus counts only where at least this share of its discharges (those at
        ``k_local``) have a field of the location's polarity (:attr:`Discharges.polar`): most
        discharges of a focus whose field is seen only inverted are one electrode's transients
        (a faulty contact, a muscle potential) leaking through the average reference. The
        discharges themselves still count towards the spike burden. None (the default): every
        focus counts. At 0.5 it removed false foci of real children's EEG but also set aside a
        true focus whose field reverses polarity across its neighbours, and lowered a grade
        (docs/validation.md), so it is not on.
    model : bool
        Judge the candidate peaks with a discharge model (:mod:`hypsa.discharge_model`; none
        is shipped, so ``model_dir`` names one) instead of the thresholds: every peak at
        ``k_local`` robust SD or more that passes the morphology floors (``min_ptp_uv``,
        ``k_slope``) is measured (:func:`hypsa.discharge_model.candidate_features`) and kept
        when the model's score reaches ``model_threshold``; ``k_field``, ``field_corr``,
        ``field_gain`` and ``field_ms`` then define the field measurements, and the symmetry
        and generalization thresholds are not used (the model weighs those measurements).
        :data:`RULE` is the rule.
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
    focus_peak_fraction: float | None = 0.5
    laplacian_factor: float | None = None
    field_min_corr: float | None = None
    focus_min_polar: float | None = None
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
    polar : ndarray of bool
        Whether its field holds with the location's polarity required of the channels that see
        it by their envelope (the field test of ``SpikeParams.field_min_corr`` at 0): False
        where the field rests on channels showing the location's waveform inverted, as one
        electrode's transient reaches the others through the average reference.
    """

    time_s: np.ndarray
    channel: np.ndarray
    n_channels: np.ndarray
    amplitude: np.ndarray
    contrast: np.ndarray | None = None
    polar: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.contrast is None:
            self.contrast = np.zeros(self.time_s.size)
        if self.polar is None:
            self.polar = np.ones(self.time_s.size, dtype=bool)

    def __len__(self) -> int:
        return int(self.time_s.size)

    def select(self, keep: np.ndarray) -> Discharges:
        """Subset by a boolean mask."""
        con = self.contrast if self.contrast is not None else np.zeros(self.time_s.size)
        pol = self.polar if self.polar is not None else np.ones(self.time_s.size, dtype=bool)
        return Discharges(self.time_s[keep], self.channel[keep], self.n_channels[keep],
                          self.amplitude[keep], con[keep], pol[keep])

    def merge(self, other: Discharges) -> Discharges:
        """These discharges and ``other``'s, in time order."""
        if not len(other):
            return self
        if not len(self):
            return other
        order = np.argsort(np.r_[self.time_s, other.time_s], kind="stable")
        parts = [np.r_[getattr(self, k), getattr(other, k)][order]
                 for k in ("time_s", "channel", "n_channels", "amplitude", "contrast", "polar")]
        return Discharges(*parts)


def _empty() -> Discharges:
    e = np.zeros(0)
    return Discharges(e, e.astype(int), e.astype(int), e, e.copy(), e.astype(bool))


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


def local_mean(positions: np.ndarray) -> np.ndarray:
    """The (n_channels, n_channels) matrix that averages each channel's neighbours (within 1.6
    inter-electrode distances; the nearest one where none is that close): ``x - M @ x`` is the
    local (Hjorth) Laplacian of ``x``."""
    pos = np.asarray(positions, dtype=float)
    d = np.sqrt(((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    nn = float(median(d.min(axis=1)))
    near = (d <= 1.6 * nn) | (d <= d.min(axis=1, keepdims=True))
    return near / near.sum(axis=1, keepdims=True)


def _channel_peaks(x: np.ndarray, hp: np.ndarray, sfreq: float, p: SpikeParams, factor: float,
                   excluded: np.ndarray | None) -> tuple[list, np.ndarray, np.ndarray, int]:
    """Per channel, the candidate peaks (samples) of one derivation and their contrast on the
    threshold's scale (the derivation's own contrast / ``factor``): 8-45 Hz envelope peaks at
    ``factor * k_local`` robust SD of the channel's local level, the morphology floors passed,
    outside ``excluded``. Also returns the envelope, its local level (robust SD) and the
    level's block length."""
    n_ch, n = x.shape
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
    out = []
    for c in range(n_ch):
        pk, _ = sps.find_peaks(env[c], height=max(p.k_global * float(sig_glob[c]), p.floor_uv),
                               distance=dist)
        pk = pk[(pk >= half) & (pk < n - half)]
        bk = np.minimum(pk // blk, nbk - 1)
        pk = pk[env[c, pk] >= factor * p.k_local * loc_b[c, bk]]
        if pk.size == 0:
            out.append((pk, np.zeros(0)))
            continue
        bk = np.minimum(pk // blk, nbk - 1)
        seg = x[c][pk[:, None] + win[None, :]]
        ptp = seg.max(axis=1) - seg.min(axis=1)
        steep = slope[c][pk[:, None] + win_s[None, :]].max(axis=1)
        keep = (ptp >= p.min_ptp_uv) & (steep >= p.k_slope * slope_b[c, bk])
        if excluded is not None:
            b = np.minimum((pk / sfreq).astype(int), excluded.shape[-1] - 1)
            keep &= ~(excluded[c, b] if excluded.ndim == 2 else excluded[b])
        out.append((pk[keep], env[c, pk[keep]] / np.maximum(loc_b[c, bk[keep]], 1e-6) / factor))
    return out, env, loc_b, blk


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
        from hypsa.discharge_model import detect_with_model

        return detect_with_model(data, sfreq, p, excluded, band, positions)
    x = data - data.mean(axis=0, keepdims=True)
    hp = bandpass(x, sfreq, 8.0, 45.0, order=3) if band is None else \
        band - band.mean(axis=0, keepdims=True)
    n_ch, n = x.shape
    if n < int(sfreq):
        return _empty()
    derivations = [(x, hp, 1.0)]
    if p.laplacian_factor is not None and positions is not None and n_ch > 2:
        m = local_mean(positions)
        # the filter is linear: the Laplacian's band is the band's Laplacian
        derivations.append((x - m @ x, hp - m @ hp, float(p.laplacian_factor)))
    found = [_channel_peaks(dx, dhp, sfreq, p, factor, excluded)
             for dx, dhp, factor in derivations]
    peaks = [f[0] for f in found]
    _, env, loc_b, blk = found[0]
    base = _judge(peaks[0], x, hp, env, loc_b, blk, sfreq, p, positions)
    if len(peaks) == 1:
        return base
    # the Laplacian's peaks where the average reference has none on that channel, judged the
    # same way; its discharges add to the average reference's, never replace them
    dist = max(1, int(round(p.min_interval_ms / 1000.0 * sfreq)))
    extra = []
    for c in range(n_ch):
        pk = peaks[0][c][0]
        lk, lc = peaks[1][c]
        if pk.size and lk.size:
            far = np.abs(lk[:, None] - pk[None, :]).min(axis=1) >= dist
            lk, lc = lk[far], lc[far]
        extra.append((lk, lc))
    more = _judge(extra, x, hp, env, loc_b, blk, sfreq, p, positions)
    if len(base) and len(more):
        near = np.abs(more.time_s[:, None] - base.time_s[None, :]) < p.group_ms / 1000.0
        more = more.select(~near.any(axis=1))
    return base.merge(more)


def _judge(peaks: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray, hp: np.ndarray,
           env: np.ndarray, loc_b: np.ndarray, blk: int, sfreq: float, p: SpikeParams,
           positions: np.ndarray | None) -> Discharges:
    """Candidate peaks (per channel: samples, contrast) grouped across channels into
    discharges, each located at its largest peak and kept when its field, judged on the
    average reference (``x``, its 8-45 Hz band ``hp`` and envelope ``env``), is neither
    confined to one electrode nor bilateral-symmetric nor generalized."""
    n_ch, n = x.shape
    nbk = loc_b.shape[1]
    half = int(round(0.1 * sfreq))
    q = max(1, int(round(0.05 * sfreq)))
    win = np.arange(-half, half + 1)
    times, chans, amps, cons = [], [], [], []
    for c in range(n_ch):
        pk, co = peaks[c]
        if pk.size == 0:
            continue
        seg = x[c][pk[:, None] + win[None, :]]
        times.append(pk / sfreq)
        chans.append(np.full(pk.size, c))
        amps.append(seg.max(axis=1) - seg.min(axis=1))
        cons.append(co)
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
    # the field: a neighbour above its own local level, or showing the same waveform, smaller,
    # whatever the neighbour's own background level. On the average reference a transient of
    # one electrode also reaches every other one inverted (minus its share of the mean), so a
    # neighbour seen only by its envelope may be that leak: ``polar`` asks it for the
    # location's polarity (reported), ``field_min_corr`` for a correlation (an option)
    by_shape = (corr >= p.field_corr) & (gain >= p.field_gain)
    near_pol = (seen & (corr > 0.0)) | by_shape
    near_seen = (seen & (corr > p.field_min_corr) if p.field_min_corr is not None else seen) \
        | by_shape
    n_seen = seen.sum(axis=0)
    keep = near_seen.sum(axis=0) >= p.min_channels
    polar = near_pol.sum(axis=0) >= p.min_channels
    if positions is not None and n_ch > 1:
        d = np.sqrt(((positions[:, None, :] - positions[None, :, :]) ** 2).sum(-1))
        nn = float(median(np.sort(d, axis=1)[:, 1]))
        near = (d <= 1.6 * nn) & ~np.eye(n_ch, dtype=bool)
        keep &= (near[loc] & near_seen.T).any(axis=1)
        polar &= (near[loc] & near_pol.T).any(axis=1)
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
                      amplitude=a[fb], contrast=co[fb], polar=polar[keep])



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
    peak_fraction: float | None = None,
) -> tuple[list[list[int]], np.ndarray]:
    """Group discharge locations into spatially separate foci.

    Greedy: the electrode with most discharges seeds a focus that absorbs every location within
    ``radius`` on the same side of the head (a midline seed takes midline electrodes only; a
    lateral seed takes its own side and the midline), never across the midline; repeat on what
    is left. With ``peak_fraction``, a neighbour that is itself the maximum of at least that
    share of the seed's discharges is not absorbed: it is the maximum of a focus beside this
    one, not this focus's spread (a focus's discharges peak on its centre and only now and then
    on a neighbour), and seeds its own; only where the seed and that neighbour each hold
    enough discharges to count as a focus alone. A focus counts when it holds at least
    ``min_events`` discharges and ``min_fraction`` of all.

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
    peak_fraction : float, optional
        Neighbours with at least this share of the seed's discharges stay foci of their own
        (None: every neighbour is absorbed).

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
    need = max(min_events, min_fraction * total)  # what a focus holds at least
    while remaining.sum() > 0:
        seed = int(np.argmax(remaining))
        same = (side == side[seed]) if side[seed] == 0 else (side != -side[seed])
        near = (d[seed] <= radius) & (remaining > 0) & (chan_focus < 0) & same
        if peak_fraction is not None:
            # only where both would count as foci on their own: splitting a sparse focus would
            # leave two groups below the recurrence threshold, and no focus at all
            own = (counts >= peak_fraction * counts[seed]) & (counts >= need)
            if counts[seed] >= need:
                near &= ~own | (np.arange(n_ch) == seed)
        members = np.flatnonzero(near)
        n_ev = counts[members].sum()
        remaining[members] = 0
        if n_ev >= need:
            chan_focus[members] = len(foci)
            foci.append([int(m) for m in members])
        else:
            chan_focus[members] = -2
    label = chan_focus[channel] if channel.size else np.zeros(0, dtype=int)
    label = np.where(label < 0, -1, label)
    return foci, label


#: The thresholds' detector (before the model): 6.5 robust SD, weaker discharges down to 5.5
#: counted on a focus's electrodes, chosen leave-one-generator-out (docs/validation.md).
RULE = SpikeParams(k_local=6.5, k_in_focus=5.5, model=False)
