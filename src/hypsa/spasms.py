"""Epileptic spasms: detection of the ictal EEG (and EMG) pattern, and grouping into clusters.

The ictal pattern of a spasm (Fusco & Vigevano 1993; see docs/methods.md) is a generalized
high-voltage slow wave, with or without a preceding sharp transient, followed by an
electrodecrement (attenuation, often with low-voltage fast activity); in deltoid EMG a
0.5-2 s diamond-shaped burst. The detector measures each candidate on three facts:

* **generalization** — in 1/8-s frames, the slow (0.5-4 Hz) amplitude of each channel relative
  to that channel's own background (median over ~90 s): the median over channels must exceed
  ``k_slow`` and most channels must take part. Blinks (frontopolar), focal spikes and the
  asynchronous slow waves of hypsarrhythmia do not raise the median of all channels at once.
* **electrodecrement** — the 1-45 Hz RMS after the slow wave relative to before it, median over
  channels: well below 1 after a spasm, near 1 after a K-complex or vertex wave.
* **EMG burst** (when a deltoid EMG channel exists) — the 20 Hz high-passed envelope relative to
  its background during the event, and the burst's length (a spasm's burst is a short
  diamond).

and on the background it stands on (how synchronous the stretch is anyway, how often it
attenuates with no wave before). One score over all the measurements, the pattern score of
:mod:`hypsa.spasm_score`, is the event's confidence and decides; the classic rules (generalized
slow wave + decrement, or with EMG a strong burst with a decrement) name the parts that fired.
A candidate must be followed by an electrodecrement, except, with EMG, a clear generalized slow
wave with a strong, short burst (:func:`eligible`): where the background is already attenuated,
the decrement does not show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import signal as sps
from scipy.ndimage import maximum_filter1d

from hypsa.errors import ParameterError
from hypsa.kernels import (
    band_share_change,
    candidate_channels,
    frames_absmax,
    frames_rms,
    median,
    span_share_below,
)
from hypsa.signal import bandpass
from hypsa.spasm_score import MODEL_FEATURES, THRESHOLD, spasm_probability
from hypsa.spasm_window import window_logit
from hypsa.vigilance import WAKING_WINDOW_S

__all__ = ["SpasmParams", "detect_spasms", "cluster_spasms", "refractory_merge", "eligible",
           "FrameMeasures", "frame_measures", "find_candidates", "measure_candidates", "decide",
           "decrement_only", "spasm_decision", "to_events", "SPASM_EEG_MOVEMENT", "SPASM_EEG",
           "EEG_DECREMENT", "SPASM_TYPES", "EVENT_TYPES", "EMG_EVENT", "EEG_EVENT",
           "FEATURE_COLUMNS", "FEATURE_VERSION", "CANDIDATE_VERSION", "FAST_BAND", "fast_band"]

#: What is measured on each candidate (columns of the candidate and event tables).
FEATURE_COLUMNS = [
    "slow_ratio", "fraction", "slow_uv", "smoothness", "synchrony", "sync_all", "wave_s",
    "decrement", "dip_s", "mid_decrement", "gap_s", "pre", "emg_ratio", "emg_burst_s",
    "emg_lag_s", "background_synchrony", "orphan_rate",
    # shares of channels and ranks within the surrounding minutes (see measure_candidates)
    "n_wave", "n_dec", "n_dec_mid", "slow_rank", "dec_rank", "wave_rank_ch", "dec_rank_ch",
    # the wave against the seconds just before it and against the active (not attenuated)
    # activity around it; attenuations of the background around it; fast activity in the dip;
    # other movement bursts around it
    "wave_pre", "slow_rank_active", "wave_rank_active", "dips_ctx", "orphans_ctx", "fast_dec",
    "emg_bursts_ctx",
    # the movement burst's width at half its height on the unsmoothed envelope (a spasm's
    # diamond lasts 0.5-2 s; a startle's or a myoclonic jerk is briefer)
    "emg_half_s",
]
#: Bumped whenever a measurement changes (cached candidate tables of the benchmarks key on it).
FEATURE_VERSION = 8
#: Bumped whenever the candidate stage or the frame curves change (which candidates there are,
#: and the curves :mod:`hypsa.spasm_window` reads: the window score's cached inputs key on it).
#: Version 8 of the measurements changed how ``fast_dec`` is filtered only, not this.
CANDIDATE_VERSION = 7
#: The band of the low-voltage fast activity measured in an electrodecrement (Hz; the upper edge
#: is kept below 0.45 of the sampling rate, and the band is skipped where that leaves < 20 Hz).
FAST_BAND = (15.0, 40.0)

#: ``trial_type`` of a spasm whose ictal EEG pattern comes with a movement burst (deltoid EMG or
#: video movement, through ``emg_env``).
SPASM_EEG_MOVEMENT = "spasm_eeg_movement"
#: ``trial_type`` of a spasm shown by its EEG pattern alone (no movement channel, or none moved).
SPASM_EEG = "spasm_eeg"
#: ``trial_type`` of a generalized electrodecrement with an ictal-looking onset that neither a
#: slow wave nor a movement supports: reported, never counted as a spasm.
EEG_DECREMENT = "eeg_decrement"
#: The two ``trial_type`` values counted as spasms.
SPASM_TYPES = (SPASM_EEG_MOVEMENT, SPASM_EEG)
#: ``eventType`` (HED-SCORE / SzCORE vocabulary) of each ``trial_type``: a generalized motor
#: spasm where movement is seen; a generalized seizure, without a claim on its motor part, from
#: the EEG alone; the decrement is no seizure claim at all, so it keeps its own name.
EVENT_TYPES = {SPASM_EEG_MOVEMENT: "sz_gen_m_spasms", SPASM_EEG: "sz_gen",
               EEG_DECREMENT: EEG_DECREMENT}
#: HED-SCORE / SzCORE label of a generalized epileptic spasm.
EEG_EVENT = EVENT_TYPES[SPASM_EEG_MOVEMENT]
EMG_EVENT = EEG_EVENT


@dataclass(frozen=True)
class SpasmParams:
    """Documented detector parameters.

    Attributes
    ----------
    frame_s : float
        Time resolution of the scores (s).
    k_slow : float
        Median-over-channels ratio of slow amplitude to background for a generalized slow wave.
    min_fraction : float
        Fraction of channels whose ratio exceeds ``k_slow / 1.5`` (generalization).
    min_slow_uv : float
        Absolute floor of the median slow-wave peak amplitude (µV) of the slow-wave rule. Every
        candidate, including one anchored on an electrodecrement, needs at least half of it: on
        a background of a few µV (the suppression of burst suppression) nothing before a dip is
        a high-voltage wave.
    min_smoothness : float
        Share of the event's broadband peak-to-peak carried by the slow band (median over
        channels): high for a slow wave, low for sharp artifacts (movement, electrode pops).
    max_decrement : float
        Depth of the dip of the normalised 1-45 Hz RMS within 3 s of the slow wave, relative to
        the long background and to the seconds before (the larger of the two): activity must
        fall below this fraction (an attenuation to less than half).
    max_shallow_decrement : float
        The dip that is enough after a full generalized slow wave (``k_slow`` on
        ``min_fraction`` of the channels) for a candidate to be measured and scored: a shallow
        (to 60 %) or brief (under 1 s) decrement reads no deeper than this on the 1-s RMS.
    min_synchrony : float
        Mean absolute correlation of the slow wave across channels (±0.25 s): a generalized
        wave has one shape everywhere; coincident asynchronous waves do not.
    k_sync_slow, strong_synchrony : float
        The second way to a generalized slow wave, for high-voltage backgrounds where the ictal
        wave is no larger than the ongoing delta: a median ratio of at least ``k_sync_slow``
        with a mean absolute correlation across channels of at least ``strong_synchrony``
        (always together with an electrodecrement).
    max_wave_s : float
        Longest generalized slow wave (s); longer high-voltage stretches are bursts, not spasms.
    max_mid_decrement : float
        The 4-12 Hz RMS, measured the same way, must also fall to this fraction during the dip:
        an electrodecrement attenuates all activity, while the lull after a delta wave
        (K-complex, sleep or hypsarrhythmic delta) leaves theta and alpha untouched.
    max_gap_s : float
        Longest time (s) from the end of the slow wave to the start of the decrement.
    deep_decrement, k_deep_slow, deep_synchrony : float
        The third way, for a deep electrodecrement: broadband and 4-12 Hz activity both fall to
        ``deep_decrement`` (+0.1 for 4-12 Hz) or less for 1 to ``max_dip_s`` + 1 s, starting
        within ``max_gap_s`` / 2 of the end of a moderate generalized slow wave (median ratio
        >= ``k_deep_slow``, >= half of the channels, correlation >= ``deep_synchrony`` over
        the channels it reaches).
    min_dip_s, max_dip_s : float
        Shortest and longest electrodecrement (s); shorter dips are chance fluctuations, longer
        attenuation is suppression or an attenuation
        episode of the background.
    emg_ratio : float
        EMG envelope / background for an EMG burst.
    emg_max_burst_s : float
        With a deltoid EMG channel, a generalized slow wave that no decrement follows is a
        spasm only with an EMG burst of at least twice ``emg_ratio`` that lasts at most this
        (s; where its envelope, smoothed over 0.5 s, stays above a fifth of its peak): the
        short, diamond-shaped burst of a spasm (about 1-2 s, shorter than a tonic seizure), not
        an ordinary movement, which is longer and irregular. The burst must start with the wave
        (``emg_lag_s``), the wave must be clear (median ratio >= 1.25 ``k_slow``, correlation
        >= ``min_synchrony``), and the pattern score must still reach ``min_confidence``.
    emg_lag_s : (float, float)
        Earliest and latest start of that EMG burst relative to the start of the slow wave
        (s): a spasm's burst is time-locked to its EEG, a movement that happens to meet a
        slow wave (an arousal with a K-complex) is not.
    refractory_s : float
        Minimum time between two spasms (s); spasms in a cluster are seconds apart.
    min_confidence : float
        The decision: every candidate is measured, and its spasm probability
        (:mod:`hypsa.spasm_score`, a gradient-boosted model of the measurements trained across
        four independent generators, calibrated, 0..1) is its ``confidence``; a spasm is an
        :func:`eligible` candidate whose probability reaches this. The default is the model
        card's threshold (``benchmarks/train_spasm_model.py``): the lowest probability at which
        every training generator keeps out-of-fold false detections on hypsarrhythmic
        background, EEG only, at or under one per hour. The rules above do not decide: they
        name the parts of the pattern an event shows (``features``).
    movement_confidence : float
        The probability that suffices for a candidate with the movement path's burst (a clear
        generalized wave with a strong, short burst that starts with it; or an
        electrodecrement with a strong burst of at most ``movement_burst_s`` starting within
        ``movement_lag_s`` of the candidate; see :func:`spasm_decision`).
    movement_min_slow_uv : float
        The slow wave's median amplitude (µV) that suffices on the movement path, in place of
        half ``min_slow_uv``: a strong, short, time-locked burst with the pattern's shape
        relative to the channel's own background is a spasm at low gain too (a recording at a
        quarter of the usual voltage); a "wave" of a few µV (a dip in suppression) is not.
    movement_burst_s, movement_lag_s : float
        Longest burst (s) and largest distance (s) between the burst's start and the
        candidate's start for a candidate with an electrodecrement to take the movement path.
    min_cluster_size : int
        Spasms come in series: a group of fewer spasms than this (a single one, by default) is
        counted in the spasms but not as a cluster (``isolated`` in the summary).
    cluster_gap_s : float
        Spasms less than this apart belong to one cluster. There is no consensus definition of
        a cluster; 120 s keeps a cluster whole when a spasm inside it is missed (intra-cluster
        intervals are seconds to a minute).
    waking_window_s : float
        Where the recording carries sleep-stage annotations, a cluster that starts awake at
        most this long (s) after the end of sleep is reported as on waking
        (:mod:`hypsa.vigilance`).
    """

    frame_s: float = 0.125
    k_slow: float = 2.0
    min_fraction: float = 0.6
    min_slow_uv: float = 40.0
    min_smoothness: float = 0.5
    min_synchrony: float = 0.6
    k_sync_slow: float = 0.8
    strong_synchrony: float = 0.75
    max_wave_s: float = 2.5
    max_decrement: float = 0.45
    max_shallow_decrement: float = 0.8
    max_mid_decrement: float = 0.6
    max_gap_s: float = 1.0
    deep_decrement: float = 0.3
    k_deep_slow: float = 1.4
    deep_synchrony: float = 0.5
    min_dip_s: float = 0.5
    max_dip_s: float = 5.0
    emg_ratio: float = 5.0
    emg_max_burst_s: float = 2.0
    emg_lag_s: tuple[float, float] = (-0.5, 0.75)
    refractory_s: float = 3.0
    min_confidence: float = THRESHOLD
    movement_confidence: float = 0.5
    movement_burst_s: float = 2.5
    movement_lag_s: float = 1.5
    movement_min_slow_uv: float = 5.0
    cluster_gap_s: float = 120.0
    min_cluster_size: int = 2
    waking_window_s: float = WAKING_WINDOW_S

    def __post_init__(self) -> None:
        # the two a user sets most (``hypsa analyze --spasm-threshold / --cluster-gap``)
        if not 0.0 < self.min_confidence < 1.0:
            raise ParameterError(f"min_confidence must be between 0 and 1 (exclusive), got "
                                 f"{self.min_confidence:g}")
        if not self.cluster_gap_s > 0.0:
            raise ParameterError(f"cluster_gap_s must be a positive number of seconds, got "
                                 f"{self.cluster_gap_s:g}")
        if not self.waking_window_s >= 0.0:
            raise ParameterError(f"waking_window_s must be zero or more seconds, got "
                                 f"{self.waking_window_s:g}")


def _background(fr: np.ndarray, block: int) -> np.ndarray:
    """Per channel background level: median over blocks of ``block`` frames, smoothed over three
    neighbouring blocks, held constant within each block."""
    nch, nf = fr.shape
    nb = max(1, math.ceil(nf / block))
    pad = nb * block - nf
    v = np.pad(fr, ((0, 0), (0, pad)), mode="edge").reshape(nch, nb, block)
    med = median(v, axis=-1)
    if pad:
        # the last, partial block: its own frames only (padding with its final frame would let
        # one artifact at the very end set the level of up to a whole block before it)
        med[:, -1] = median(fr[:, (nb - 1) * block:], axis=-1)
    if nb >= 3:
        stacked = np.stack([np.r_["-1", med[:, :1], med[:, :-1]], med,
                            np.r_["-1", med[:, 1:], med[:, -1:]]])
        med = median(stacked, axis=0)
    return np.repeat(med, block, axis=1)[:, :nf]


@dataclass
class FrameMeasures:
    """What the candidate and measurement stages read, per 1/8-s frame of one stretch of EEG
    (from :func:`frame_measures`).

    Attributes
    ----------
    fs_fr : float
        Frames per second.
    spf, w, block : int
        Samples per frame; frames of the 0.5-s running windows; frames of one background block.
    slow, eeg : ndarray, shape (n_channels, n_samples)
        The 0.5-4 Hz band and the EEG itself.
    sa : ndarray, shape (n_channels, n_frames)
        Slow-band absolute maximum per frame.
    ratio_w : ndarray, shape (n_channels, n_frames)
        Slow amplitude over the channel's own background, 0.5-s running maximum.
    g, frac, amp : ndarray, shape (n_frames,)
        Median of ``ratio_w`` over channels; share of channels above ``k_slow / 1.5``; median
        slow amplitude (µV).
    rms_n, mid_n : ndarray, shape (n_channels, n_frames)
        1-45 Hz and 4-12 Hz RMS over each channel's own background.
    rn, rm : ndarray, shape (n_frames,)
        Their medians over channels, smoothed over 0.5 s.
    emg_env, env_sm, emg_near : ndarray or None
        The movement envelope, smoothed over 0.5 s, and its largest ratio to its background
        from 1 s before to 2 s after each frame (zeros without a movement channel).
    slow_bg : ndarray, shape (n_channels, n_frames)
        The slow band's background level per channel (the denominator of ``ratio_w``).
    fast : ndarray, shape (n_channels, n_samples), or None
        The EEG in :data:`FAST_BAND` (None where the sampling rate leaves no such band).
    """

    fs_fr: float
    spf: int
    w: int
    block: int
    slow: np.ndarray
    eeg: np.ndarray
    sa: np.ndarray
    ratio_w: np.ndarray
    g: np.ndarray
    frac: np.ndarray
    amp: np.ndarray
    rms_n: np.ndarray
    mid_n: np.ndarray
    rn: np.ndarray
    rm: np.ndarray
    emg_env: np.ndarray | None
    env_sm: np.ndarray
    emg_near: np.ndarray
    slow_bg: np.ndarray | None = None
    fast: np.ndarray | None = None

    @property
    def nf(self) -> int:
        """Number of frames."""
        return int(self.g.size)


def fast_band(sfreq: float) -> tuple[float, float] | None:
    """The edges of :data:`FAST_BAND` at ``sfreq`` (the upper one below 0.45 ``sfreq``), or
    None where less than 20 Hz would be left."""
    hi = min(FAST_BAND[1], 0.45 * sfreq)
    return (FAST_BAND[0], hi) if hi > 20.0 else None


def frame_measures(eeg: np.ndarray, sfreq: float, params: SpasmParams = SpasmParams(), *,
                   bands: tuple[np.ndarray, ...] | None = None,
                   emg_env: np.ndarray | None = None) -> FrameMeasures:
    """Stage 0: the per-frame curves every later stage reads, each relative to each channel's
    own local background (median over ~90 s).

    Parameters
    ----------
    eeg : ndarray, shape (n_channels, n_samples)
        Band-passed referential EEG (µV).
    sfreq : float
        Sampling rate (Hz).
    params : SpasmParams
        Frame length and thresholds.
    bands : tuple of ndarray, optional
        ``eeg`` filtered to 0.5-4 Hz, 1-45 Hz and 4-12 Hz, when already computed, and
        optionally to :func:`fast_band` (order 4) as a fourth.
    emg_env : ndarray, optional
        Movement envelope per frame (see :func:`detect_spasms`).

    Returns
    -------
    FrameMeasures
    """
    spf = max(1, int(round(params.frame_s * sfreq)))
    fs_fr = sfreq / spf
    slow, bb, mid = bands[:3] if bands is not None else (
        bandpass(eeg, sfreq, 0.5, 4.0, order=2), bandpass(eeg, sfreq, 1.0, 45.0, order=2),
        bandpass(eeg, sfreq, 4.0, 12.0, order=2))
    edges = fast_band(sfreq)
    if edges is None:
        fast = None
    elif bands is not None and len(bands) > 3:
        fast = bands[3]
    else:
        fast = bandpass(eeg, sfreq, edges[0], edges[1], order=4)
    sa = frames_absmax(slow, spf)
    block = int(round(30.0 / params.frame_s))
    bg = np.maximum(_background(sa, block), 1.0)
    ratio = sa / bg
    # 0.5-s running max per channel to tolerate small latency differences across channels
    w = max(1, int(round(0.5 * fs_fr)))
    ratio_w = maximum_filter1d(ratio, size=w, axis=1)
    g = median(ratio_w, axis=0)
    frac = (ratio_w > params.k_slow / 1.5).mean(axis=0)
    amp = median(maximum_filter1d(sa, size=w, axis=1), axis=0)
    rms = frames_rms(bb, spf)
    rms_n = rms / np.maximum(_background(rms, block), 1e-3)
    # normalised broadband RMS (median over channels of RMS / own background), smoothed 0.5 s:
    # an electrodecrement is a dip of this curve right after the slow wave
    kernel = np.ones(w) / w
    rn = np.convolve(median(rms_n, axis=0), kernel, mode="same")
    # the same in 4-12 Hz: an electrodecrement attenuates all activity, while the lull after a
    # delta wave (K-complex, sleep or hypsarrhythmic delta) leaves theta and alpha as they were
    rms_mid = frames_rms(mid, spf)
    mid_n = rms_mid / np.maximum(_background(rms_mid, block), 1e-3)
    rm = np.convolve(median(mid_n, axis=0), kernel, mode="same")
    nf = g.size
    env = None
    emg_near = env_sm = np.zeros(nf)
    if emg_env is not None and emg_env.size >= nf:
        env = np.asarray(emg_env[:nf], dtype=float)
        env_sm = np.convolve(env, kernel, mode="same")
        emg_r = env / np.maximum(_background(env[None, :], block)[0], 1e-3)
        # the largest ratio from 1 s before to 2 s after each frame
        emg_near = maximum_filter1d(emg_r, size=int(round(3 * fs_fr)),
                                    origin=-int(round(0.5 * fs_fr)))
    return FrameMeasures(fs_fr, spf, w, block, slow, eeg, sa, ratio_w, g, frac, amp, rms_n,
                         mid_n, rn, rm, env, env_sm, emg_near, bg, fast)


def find_candidates(fm: FrameMeasures, params: SpasmParams = SpasmParams()
                    ) -> tuple[np.ndarray, float]:
    """Stage 1: the frames where a spasm may stand, anchored on a generalized slow wave OR on a
    generalized electrodecrement.

    A slow-wave anchor is a peak of the median slow ratio (at least 0.8 ``k_slow``, on
    ``min_fraction`` of the channels, ``min_slow_uv`` high); a decrement anchor is the most
    synchronous slow activity from 2 s before to 1 s into each dip of the normalised broadband
    RMS below ``max_decrement`` for ``min_dip_s`` or longer (on a high-voltage background the
    ictal wave may be no larger than the ongoing delta). A candidate is kept when the
    activity dips (to ``max_decrement`` + 0.15) within 3 s; after a full generalized slow wave
    (``k_slow`` on ``min_fraction`` of the channels) a shallower dip is enough
    (``max_shallow_decrement``: a decrement to 60 % of the background, or one of under a second,
    reads no deeper on the 1-s RMS); with a movement channel, a generalized slow wave with a
    strong burst is kept too.

    Parameters
    ----------
    fm : FrameMeasures
        From :func:`frame_measures`.
    params : SpasmParams
        Thresholds.

    Returns
    -------
    frames : ndarray of int
        Candidate frames (sorted).
    orphan_rate : float
        Dips per minute with no slow wave before them (how often this background attenuates
        on its own).
    """
    g, rn, nf, fs_fr, spf = fm.g, fm.rn, fm.nf, fm.fs_fr, fm.spf
    peaks, _ = sps.find_peaks(g, height=params.k_slow * 0.8, distance=max(1, int(fs_fr)))
    peaks = peaks[(fm.frac[peaks] >= params.min_fraction) & (fm.amp[peaks] >= params.min_slow_uv)]
    low = np.r_[False, rn < params.max_decrement, False].astype(np.int8)
    starts = np.flatnonzero(np.diff(low) == 1)
    stops = np.flatnonzero(np.diff(low) == -1)
    half_w = max(1, int(round(0.5 * fs_fr)))
    anchored = []
    n_orphans = 0
    for a, b in zip(starts, stops, strict=True):
        if (b - a) / fs_fr < params.min_dip_s or a < 1:
            continue
        # a dip with no slow wave before it: the background attenuating on its own
        before = g[max(0, a - 2 * int(fs_fr)):a + half_w]
        n_orphans += int(before.size > 0 and before.max() < params.k_slow)
        qs = np.arange(max(half_w, a - 2 * int(fs_fr)), min(nf - half_w, a + int(fs_fr)), 2)
        if qs.size == 0:
            continue
        score = [_mean_correlation(fm.slow[:, (q - half_w) * spf:(q + half_w) * spf])
                 if g[q] >= params.k_sync_slow else 0.0 for q in qs]
        anchored.append(int(qs[int(np.argmax(score))]))
    orphan_rate = n_orphans / (nf / fs_fr / 60.0)
    peaks = np.unique(np.r_[peaks, np.array(anchored, dtype=int)])
    look = int(round(3.0 * fs_fr))
    if nf <= look:
        return np.zeros(0, dtype=int), orphan_rate
    post_all = np.lib.stride_tricks.sliding_window_view(rn, look).min(-1)
    peaks = peaks[peaks + look < nf]
    strong = 2.0 * params.emg_ratio
    full = (g[peaks] >= params.k_slow) & (fm.frac[peaks] >= params.min_fraction)
    peaks = peaks[(post_all[peaks] <= params.max_decrement + 0.15)
                  | (full & (post_all[peaks] <= params.max_shallow_decrement))
                  | ((fm.emg_near[peaks] >= strong) & (g[peaks] >= params.k_slow))]
    if fm.emg_env is not None:
        peaks = np.unique(np.r_[peaks, _movement_anchors(fm, params, peaks, nf - look)])
    return peaks.astype(int), float(orphan_rate)


def _movement_anchors(fm: FrameMeasures, params: SpasmParams, peaks: np.ndarray,
                      last: int) -> np.ndarray:
    """With a movement channel, a candidate at each strong movement burst (smoothed envelope at
    twice ``emg_ratio`` over its background or more) that no EEG anchor is near: the frame of
    the largest median slow ratio from 0.25 s before the burst starts to 1 s after (a spasm's
    wave comes with its movement; a faint one may not have made an anchor of its own)."""
    env, fs_fr = fm.emg_env, fm.fs_fr
    base = _movement_base(fm)
    bursts = _movement_bursts(fm, 2.0 * params.emg_ratio, 1.0, base)
    near = int(round(1.5 * fs_fr))
    out = []
    for b in bursts:
        k, _ = _extent(env, b, base[b] + 0.25 * (env[b] - base[b]), max(0, b - int(2 * fs_fr)),
                       b)
        a0, a1 = max(0, k - int(round(0.25 * fs_fr))), min(last, k + int(round(fs_fr)))
        if a1 <= a0:
            continue
        q = a0 + int(np.argmax(fm.g[a0:a1]))
        if (peaks.size and np.abs(peaks - q).min() <= near) or \
                fm.amp[q] < 0.5 * params.min_slow_uv:
            continue
        out.append(q)
    return np.array(out, dtype=int)


def measure_candidates(fm: FrameMeasures, frames: np.ndarray, params: SpasmParams = SpasmParams(),
                       *, orphan_rate: float = 0.0, excluded: np.ndarray | None = None,
                       ch_names: list[str] | None = None) -> pd.DataFrame:
    """Stage 2: every measurement of each candidate (:data:`FEATURE_COLUMNS`), each relative to
    the channel's own local background: ratios, ranks within the surrounding ±60 s, and shares
    of channels that show the wave or the decrement.

    Parameters
    ----------
    fm : FrameMeasures
        From :func:`frame_measures`.
    frames : ndarray of int
        Candidate frames from :func:`find_candidates`.
    params : SpasmParams
        Thresholds.
    orphan_rate : float
        From :func:`find_candidates`.
    excluded : ndarray of bool, optional
        1-s bins with artifact: no candidate there.
    ch_names : list of str, optional
        Channel names for the ``channels`` column.

    Returns
    -------
    DataFrame
        ``onset``, ``duration`` (s from the array start), the feature columns and ``channels``.
    """
    g, rn, rm, nf, fs_fr, spf, w = fm.g, fm.rn, fm.rm, fm.nf, fm.fs_fr, fm.spf, fm.w
    eeg, slow, ratio_w, block = fm.eeg, fm.slow, fm.ratio_w, fm.block
    names = list(ch_names) if ch_names is not None else [str(i) for i in range(eeg.shape[0])]
    rows = []
    chans: list[str] = []
    pre_a, pre_b = int(round(6.0 * fs_fr)), int(round(1.0 * fs_fr))
    look = int(round(3.0 * fs_fr))
    reach = int(round(60.0 * fs_fr))
    guard = int(round(3.0 * fs_fr))
    post_all = np.lib.stride_tricks.sliding_window_view(rn, look).min(-1) if nf > look else \
        np.zeros(0)
    # how synchronous the slow activity of this background is anyway (a common reference, a
    # synchronous hypsarrhythmia): the median over consecutive 1.5-s stretches
    # (the 0.5-4 Hz band taken at ~16 Hz is enough for a correlation)
    sfreq = fs_fr * spf
    step = max(1, int(sfreq // 16))
    bg_sync = _background_synchrony(slow[:, ::step], int(round(1.5 * sfreq / step))) \
        if frames.size else 0.0
    dips, orphans = _dip_starts(fm, params) if frames.size else (np.zeros(0), np.zeros(0))
    bursts = _movement_bursts(fm) if frames.size and fm.emg_env is not None else np.zeros(0)
    active_all = rn >= 0.7  # frames where activity is not attenuated
    for p in frames:
        # extent of the slow wave: where the median ratio stays above 40 % of the peak excess
        half = 1.0 + (g[p] - 1.0) * 0.4
        s = p
        while s > 0 and g[s - 1] > half and p - s < 2 * fs_fr:
            s -= 1
        e = p
        while e < nf - 1 and g[e + 1] > half and e - p < 2 * fs_fr:
            e += 1
        # the wave starts where it rises, at most 0.75 s before its peak (a high-voltage
        # background can keep the ratio up for longer before it)
        onset_f = max(min(p, s + w // 2), p - int(round(0.75 * fs_fr)))
        end_f = min(nf - 1, max(e - w // 2, p))
        a0, a1 = max(0, onset_f - pre_a), max(1, onset_f - pre_b)
        if p + look >= nf or a1 - a0 < 2:
            continue
        if excluded is not None and excluded.size and \
                excluded[min(int(onset_f / fs_fr), excluded.size - 1)]:
            continue
        post = float(post_all[p])
        pre = float(median(rn[a0:a1]))
        # what the dip is measured against: the 6-1 s before the wave, or the last 2 s before it
        # if higher (where the background has only just come out of an attenuation of its own,
        # the longer stretch mixes both and understates the activity the spasm cut)
        spans = ((a0, a1), (max(0, onset_f - 2 * int(fs_fr)), max(1, onset_f - w // 2)))
        ref = _level_before(rn, spans)
        # the dip must be low against the long background AND against the seconds before, so
        # neither the quiet end of a run of artifacts nor an already attenuated stretch counts
        dec = max(post, post / max(ref, 1e-3))
        # how long the activity stays attenuated: a spasm's decrement lasts seconds; longer
        # flat stretches are suppression (burst-suppression) or attenuation episodes
        k0 = p + int(np.argmin(rn[p:p + look]))
        thr = 0.6 * max(ref, 0.5)
        k1 = k0
        while k1 < nf - 1 and rn[k1 + 1] < thr:
            k1 += 1
        while k0 > p and rn[k0 - 1] < thr:
            k0 -= 1
        dip_s = (k1 - k0 + 1) / fs_fr
        pre_m = _level_before(rm, spans)
        mid_post = float(rm[k0:k1 + 1].min())
        mid_dec = max(mid_post, mid_post / max(pre_m, 1e-3))
        wave_s = (e - s) / fs_fr
        # a spasm's slow wave is smooth: most of its peak-to-peak is in the slow band
        w0, w1 = onset_f * spf, min(eeg.shape[1], (end_f + 1) * spf)
        sm = float(median(np.ptp(slow[:, w0:w1], axis=1)
                          / np.maximum(np.ptp(eeg[:, w0:w1], axis=1), 1e-3))) if w1 > w0 else 0.0
        # generalized = synchronous: the slow wave has one shape on the channels it reaches
        seg = slow[:, max(0, w0 - spf * 2):min(eeg.shape[1], w1 + spf * 2)]
        sync_all = _mean_correlation(seg) if seg.shape[1] > 4 else 0.0
        part = ratio_w[:, p] >= params.k_slow / 1.5
        sync = _mean_correlation(seg[part]) if part.sum() >= 3 and seg.shape[1] > 4 else \
            sync_all
        # measurements that do not depend on how a wave or a background is drawn: the share of
        # channels where the wave is twice the channel's own background, and where activity
        # (1-45 Hz, 4-12 Hz) stays at half or less of the channel's own level before (the
        # larger of the two spans, as for the median curve); ranks within the surrounding
        # ±60 s (the event itself left out): how unusual the wave and the dip are for this
        # background, on each channel and over all, and the same among the frames of the
        # context where activity is not attenuated (where the background attenuates often,
        # its median is low and any ordinary wave looks high); the wave against the same
        # channel's slow activity in the 6-1 s before it (one compiled pass:
        # hypsa.kernels.candidate_channels)
        n_wave = float((ratio_w[:, p] >= params.k_slow).mean())
        lo, hi = max(0, p - reach), min(nf, p + reach)
        ctx = [(lo, max(lo, onset_f - guard)), (min(hi, k1 + guard), hi)]
        dec_ch, dec_mid_ch, rank_w, rank_d, rank_wa, wave_pre_ch, n_ctx, n_act = \
            candidate_channels(fm.rms_n, fm.mid_n, ratio_w, fm.sa, spans, (k0, k1 + 1),
                               (onset_f, end_f + 1), p, ctx, active_all)
        n_dec_mid = float(dec_mid_ch.mean())
        if n_ctx >= 8 * fs_fr:
            slow_rank = float(span_share_below(g[None], g[p:p + 1], ctx)[0])
            dec_rank = float(span_share_below(rn[None], rn[k0:k1 + 1].min(keepdims=True),
                                              ctx)[0])
            wave_rank_ch, dec_rank_ch = float(median(rank_w)), float(median(rank_d))
        else:
            slow_rank, dec_rank, wave_rank_ch, dec_rank_ch = 0.5, 0.5, 0.5, 0.5
        if n_act >= 4 * fs_fr:
            slow_rank_active = float(span_share_below(g[None], g[p:p + 1], ctx, active_all)[0])
            wave_rank_active = float(median(rank_wa))
        else:
            slow_rank_active, wave_rank_active = slow_rank, wave_rank_ch
        wave_pre = float(median(wave_pre_ch))
        # how often this background attenuates around the candidate (per minute of context),
        # and how often with no slow wave before
        span_min = max((hi - lo) / fs_fr / 60.0, 1e-3)
        far = np.abs(dips - k0) > guard
        near = (dips >= lo) & (dips < hi) & far
        dips_ctx = float(near.sum() / span_min)
        orphans_ctx = float((near & orphans).sum() / span_min)
        fast_dec = _fast_share(eeg, fm.fast, spf, (a0, a1), (k0, k1 + 1))
        if bursts.size:
            db = bursts - onset_f
            emg_bursts_ctx = float(((db >= -4 * fs_fr) & (db <= 6 * fs_fr)
                                    & (np.abs(db) > fs_fr)).sum())
        else:
            emg_bursts_ctx = float("nan")
        er = emg_s = emg_lag = emg_half = float("nan")
        onset = onset_f / fs_fr
        if fm.emg_env is not None:
            er, emg_s, k, emg_half = _emg_burst(fm.emg_env, fm.env_sm, onset_f, end_f, block,
                                                fs_fr)
            if er >= params.emg_ratio:
                # the spasm starts with its EMG burst (within ~0.1 s of the slow wave): a burst
                # times the event better than a wave buried in a high-voltage background
                onset = k / fs_fr
                emg_lag = (k - onset_f) / fs_fr
        # the event runs from the slow wave into the start of the electrodecrement
        dur = float(np.clip((max(end_f, k0) - onset_f + 1) / fs_fr + 0.3, 0.5, 3.0))
        # the decrement follows the wave at once (it starts before the wave has ended or just
        # after); a dip seconds later belongs to a later event
        gap_s = (k0 - max(e, p)) / fs_fr
        rows.append((onset, dur, float(g[p]), float(fm.frac[p]), float(fm.amp[p]), sm, sync,
                     sync_all, wave_s, dec, dip_s, mid_dec, gap_s, pre, er, emg_s, emg_lag,
                     bg_sync, orphan_rate, n_wave, float(dec_ch.mean()), n_dec_mid, slow_rank,
                     dec_rank, wave_rank_ch, dec_rank_ch, wave_pre, slow_rank_active,
                     wave_rank_active, dips_ctx, orphans_ctx, fast_dec, emg_bursts_ctx,
                     emg_half))
        # the channels involved: the wave is twice the channel's background there, or activity
        # stays at half or less through the dip
        involved = ratio_w[:, p] >= params.k_slow
        if dec <= params.max_decrement + 0.15:
            involved |= dec_ch
        chans.append(",".join(n for n, m in zip(names, involved, strict=True) if m))
    cols = ["onset", "duration", *FEATURE_COLUMNS]
    out = pd.DataFrame(np.array(rows, dtype=float).reshape(-1, len(cols)), columns=cols)
    out["channels"] = chans
    return out


def decide(cand: pd.DataFrame, params: SpasmParams = SpasmParams()) -> pd.DataFrame:
    """Stage 3: the decision on each measured candidate.

    The spasm probability (:func:`hypsa.spasm_score.spasm_probability`, a gradient-boosted
    model trained across independent generators, calibrated) is the ``confidence``; a
    candidate is a spasm when it reaches ``min_confidence`` and is :func:`eligible`. A
    candidate that is not a spasm but shows a generalized electrodecrement right where it
    starts (:func:`decrement_only`) is an :data:`EEG_DECREMENT`.

    Parameters
    ----------
    cand : DataFrame
        From :func:`measure_candidates`.
    params : SpasmParams
        Thresholds.

    Returns
    -------
    DataFrame
        ``cand`` with ``confidence``, ``rules``, ``features`` (the parts of the pattern that
        fired), ``keep`` (a spasm) and ``decrement`` candidates marked in ``eeg_decrement``.
    """
    if not len(cand):
        return cand.assign(confidence=[], rules=[], features=[], keep=[], eeg_decrement=[])
    # every rule reads the columns as arrays: taken out of the frame once
    c = {k: cand[k].to_numpy() for k in cand.columns if k != "channels"}
    rules, feats = _rules(c, params)
    conf = spasm_probability(c)
    keep = spasm_decision(c, conf, params)
    return cand.assign(confidence=conf, rules=rules, features=feats, keep=keep,
                       eeg_decrement=~keep & decrement_only(c, params))


def spasm_decision(c, confidence: np.ndarray, params: SpasmParams = SpasmParams()) -> np.ndarray:
    """Which candidates are spasms: those that are :func:`eligible` and whose probability
    reaches ``min_confidence``, and, from the lower ``movement_confidence``, those whose clear
    generalized wave (the movement path of :func:`eligible`) or electrodecrement comes with a
    strong, short, time-locked movement burst: the burst is evidence the EEG model weighs only
    in part, and movement with the ictal EEG pattern is what a spasm is. For those the slow-wave
    amplitude floor of :func:`eligible` is the lower ``movement_min_slow_uv``: the pattern is
    judged relative to the recording's own background, whatever its gain.

    Parameters
    ----------
    c : DataFrame or mapping of str to ndarray
        Candidates with the columns of :data:`FEATURE_COLUMNS`.
    confidence : ndarray
        Their spasm probabilities.
    params : SpasmParams
        Thresholds.

    Returns
    -------
    ndarray of bool
    """
    conf = np.asarray(confidence, dtype=float)
    moved = _emg_slow_wave(c, params) | _emg_decrement(c, params)
    # with the movement path's burst the wave's absolute size is barely a condition (a
    # recording at low gain shows the same pattern relative to its own background)
    return (eligible(c, params) & (conf >= params.min_confidence)) | \
        (moved & eligible(c, params, min_uv=params.movement_min_slow_uv)
         & (conf >= params.movement_confidence))


def _emg_decrement(c, p: SpasmParams) -> np.ndarray:
    """A candidate followed by an electrodecrement with a strong (twice ``emg_ratio``), short
    (``movement_burst_s``) movement burst starting within ``movement_lag_s`` of it: the EEG
    pattern with the movement of a spasm."""
    er, width, lag = _burst(c)
    dec = np.asarray(c["decrement"], dtype=float)
    return (er >= 2.0 * p.emg_ratio) & (width <= p.movement_burst_s) & \
        (np.abs(lag) <= p.movement_lag_s) & (dec <= p.max_decrement + 0.15)


def decrement_only(c, params: SpasmParams = SpasmParams()) -> np.ndarray:
    """Candidates that show a generalized electrodecrement with an abrupt onset: broadband and
    4-12 Hz activity both fall to ``max_decrement`` / ``max_mid_decrement`` of their level
    before, on at least half of the channels, for ``min_dip_s`` to ``max_dip_s`` + 1 s,
    starting within ``max_gap_s`` of the anchor. Those that are not spasms are reported as
    :data:`EEG_DECREMENT` events (possible subclinical spasms, attenuation episodes).

    Parameters
    ----------
    c : DataFrame or mapping of str to ndarray
        Candidates with the columns of :data:`FEATURE_COLUMNS`.
    params : SpasmParams
        Thresholds.

    Returns
    -------
    ndarray of bool
    """
    def col(k: str) -> np.ndarray:
        return np.asarray(c[k], dtype=float)

    dip = col("dip_s")
    return (col("decrement") <= params.max_decrement) & \
        (col("mid_decrement") <= params.max_mid_decrement) & (col("n_dec") >= 0.5) & \
        (dip >= params.min_dip_s) & (dip <= params.max_dip_s + 1.0) & \
        (col("gap_s") <= params.max_gap_s)


def to_events(dec: pd.DataFrame, params: SpasmParams = SpasmParams(), *,
              core: tuple[float, float] | None = None) -> pd.DataFrame:
    """Stage 4: the events: the refractory merge of the spasms (over the context too, so that a
    window and its neighbour agree on which of two close events stands), their type
    (:data:`SPASM_EEG_MOVEMENT` with a movement burst of at least ``emg_ratio``, else
    :data:`SPASM_EEG`), and the electrodecrements that are not spasms (:data:`EEG_DECREMENT`,
    none within ``refractory_s`` of a spasm), in time order.

    Parameters
    ----------
    dec : DataFrame
        From :func:`decide`.
    params : SpasmParams
        Thresholds.
    core : (float, float), optional
        Only events whose onset falls in ``[core[0], core[1])`` seconds are returned.

    Returns
    -------
    DataFrame
        One row per event with ``trial_type`` and ``eventType``.
    """
    if not len(dec):
        return dec.assign(trial_type=[], eventType=[]).drop(
            columns=["keep", "eeg_decrement"], errors="ignore")
    onset = dec["onset"].to_numpy(float)
    conf = dec["confidence"].to_numpy(float)
    keep = dec["keep"].to_numpy(bool)
    idx = refractory_merge(onset, conf, keep, params.refractory_s)
    sp_on = onset[idx]
    cand_d = dec["eeg_decrement"].to_numpy(bool).copy()  # written below (pandas may share it)
    if sp_on.size:
        near = np.min(np.abs(onset[:, None] - sp_on[None, :]), axis=1) < params.refractory_s
        cand_d &= ~near
    # among overlapping decrements the deepest stands
    didx = refractory_merge(onset, -dec["decrement"].to_numpy(float), cand_d, params.refractory_s)
    rows = np.r_[idx, didx].astype(int)
    er = np.nan_to_num(dec["emg_ratio"].to_numpy(float)[rows], nan=0.0)
    spasm = np.r_[np.ones(idx.size, bool), np.zeros(didx.size, bool)]
    tt = np.where(~spasm, EEG_DECREMENT,
                  np.where(er >= params.emg_ratio, SPASM_EEG_MOVEMENT, SPASM_EEG))
    on = onset[rows]
    sel = np.ones(rows.size, bool) if core is None else (on >= core[0]) & (on < core[1])
    order = np.argsort(on[sel], kind="stable")
    out = dec.iloc[rows[sel][order]].drop(columns=["keep", "eeg_decrement"])
    tt = tt[sel][order]
    out["trial_type"] = tt
    out["eventType"] = [EVENT_TYPES[t] for t in tt]
    return out.reset_index(drop=True)


def detect_spasms(
    eeg: np.ndarray,
    sfreq: float,
    *,
    emg_env: np.ndarray | None = None,
    excluded: np.ndarray | None = None,
    core: tuple[float, float] | None = None,
    params: SpasmParams = SpasmParams(),
    bands: tuple[np.ndarray, ...] | None = None,
    candidates: bool = False,
    ch_names: list[str] | None = None,
    with_candidates: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Detect epileptic spasms (and electrodecrements that are not spasms) in one stretch of EEG.

    The four stages, each testable alone: :func:`find_candidates` (on the curves of
    :func:`frame_measures`), :func:`measure_candidates` (with the window score of
    :func:`hypsa.spasm_window.window_logit` where the shipped model uses it), :func:`decide`,
    :func:`to_events`.

    Parameters
    ----------
    eeg : ndarray, shape (n_channels, n_samples)
        Band-passed (0.5-45 Hz) referential EEG in µV, usable channels only.
    sfreq : float
        Sampling rate in Hz.
    emg_env : ndarray, shape (n_frames,), optional
        Movement envelope per frame of ``params.frame_s``, in any unit (it is judged against
        its own background): the deltoid EMG envelope (:func:`emg_envelope`), or a movement
        signal from video.
    excluded : ndarray of bool, shape (n_bins,), optional
        1-s bins with artifact: no event is reported there.
    core : (float, float), optional
        Only events whose onset falls in ``[core[0], core[1])`` seconds are returned (the rest of
        the array is context).
    params : SpasmParams
        Thresholds.
    bands : tuple of ndarray, optional
        ``eeg`` filtered to 0.5-4 Hz, 1-45 Hz and 4-12 Hz, when already computed, and
        optionally to :func:`fast_band` as a fourth (see :func:`frame_measures`).
    candidates : bool
        Return every candidate examined, with its features, the rules' verdict (``rules``),
        the decision (``keep``) and ``eeg_decrement``, before the refractory merge: for
        inspection and for training :mod:`hypsa.spasm_score`.
    ch_names : list of str, optional
        Names of the rows of ``eeg``, for the ``channels`` column (row numbers without them).
    with_candidates : bool
        Also return the decided candidates of the core (as with ``candidates``), for the
        recording-level reading (:mod:`hypsa.spasm_recording`): ``(events, candidates)``.

    Returns
    -------
    DataFrame or (DataFrame, DataFrame)
        One row per event: ``onset``, ``duration`` (s, from the array start), ``confidence``
        (the spasm probability), the measured features (:data:`FEATURE_COLUMNS`),
        ``features`` (which parts of the pattern fired: ``generalized_slow_wave``,
        ``electrodecrement``, ``emg_burst``, joined by ``+``; or ``pattern_score``), ``channels``
        (where the slow wave reaches twice the channel's own background, or where activity
        stays at half or less through the electrodecrement), ``trial_type``
        (:data:`SPASM_EEG_MOVEMENT`, :data:`SPASM_EEG` or :data:`EEG_DECREMENT`) and
        ``eventType`` (:data:`EVENT_TYPES`).
    """
    cols = ["onset", "duration", "confidence", *FEATURE_COLUMNS, "rules", "features",
            "channels", "trial_type", "eventType"]
    def empty() -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
        return (_empty(cols, False), _empty(cols, True)) if with_candidates else \
            _empty(cols, candidates)

    if eeg.shape[1] < 20 * sfreq or eeg.shape[0] < 3:
        return empty()
    fm = frame_measures(eeg, sfreq, params, bands=bands, emg_env=emg_env)
    frames, orphan_rate = find_candidates(fm, params)
    cand = measure_candidates(fm, frames, params, orphan_rate=orphan_rate, excluded=excluded,
                              ch_names=ch_names)
    if not len(cand):
        return empty()
    if "window" in MODEL_FEATURES:
        cand = cand.assign(window=window_logit(fm, cand["onset"].to_numpy(float)))
    dec = decide(cand, params)
    in_core = dec
    if core is not None:
        on = dec["onset"].to_numpy(float)
        in_core = dec[(on >= core[0]) & (on < core[1])].reset_index(drop=True)
    if candidates:
        return in_core
    events = to_events(dec, params, core=core)
    return (events, in_core) if with_candidates else events


def _dip_starts(fm: FrameMeasures, params: SpasmParams) -> tuple[np.ndarray, np.ndarray]:
    """Start frames of every dip of the normalised broadband curve below ``max_decrement`` for
    ``min_dip_s`` or longer, and whether no slow wave (median ratio >= ``k_slow``) came in the
    2 s before it."""
    low = np.r_[False, fm.rn < params.max_decrement, False].astype(np.int8)
    starts = np.flatnonzero(np.diff(low) == 1)
    stops = np.flatnonzero(np.diff(low) == -1)
    keep = (stops - starts) / fm.fs_fr >= params.min_dip_s
    starts = starts[keep]
    two = 2 * int(fm.fs_fr)
    orphan = np.array([fm.g[max(0, a - two):a + 1].max() < params.k_slow for a in starts],
                      dtype=bool)
    return starts, orphan


def _movement_base(fm: FrameMeasures) -> np.ndarray:
    """The movement envelope's background level per frame (median of its blocks)."""
    return np.maximum(_background(fm.emg_env[None, :], fm.block)[0], 1e-3)


def _movement_bursts(fm: FrameMeasures, height: float = 3.0, apart_s: float = 0.5,
                     base: np.ndarray | None = None) -> np.ndarray:
    """Peak frames of the movement bursts (smoothed envelope at ``height`` times its
    background level or more, at least ``apart_s`` apart)."""
    base = _movement_base(fm) if base is None else base
    peaks, _ = sps.find_peaks(fm.env_sm / base, height=height,
                              distance=max(1, int(apart_s * fm.fs_fr)))
    return peaks


def _fast_share(eeg: np.ndarray, fast: np.ndarray | None, spf: int, pre: tuple[int, int],
                dip: tuple[int, int]) -> float:
    """How much the :data:`FAST_BAND` share of activity grows in the dip over the seconds before
    it (median over channels; ``fast`` is ``eeg`` in that band, filtered once for the whole
    stretch): above 1 where low-voltage fast activity fills an electrodecrement, about 1 where
    all activity is scaled down together."""
    if fast is None:
        return float("nan")
    a, b = pre[0] * spf, min(dip[1] * spf, eeg.shape[1])
    if b - a < 64 or dip[1] <= dip[0] or pre[1] <= pre[0]:
        return float("nan")
    share = band_share_change(eeg, fast, (a, min(pre[1] * spf, b)), (min(dip[0] * spf, b), b))
    return float(median(share))


def _level_before(curve: np.ndarray, spans: tuple[tuple[int, int], ...]) -> float:
    """The level of a normalised activity curve before a wave: the highest of its medians over
    the frame ``spans`` (what an electrodecrement is measured against)."""
    return max(float(median(curve[i:j])) for i, j in spans)


def _emg_burst(env: np.ndarray, env_sm: np.ndarray, onset_f: int, end_f: int, block: int,
               fs_fr: float) -> tuple[float, float, int, float]:
    """The EMG burst of one candidate (frames of the envelope ``env``; ``env_sm`` smoothed over
    0.5 s): its peak over the background (median of the ``block`` frames each side), its
    length in s (where ``env_sm`` stays above a fifth of its peak over the background: 0.4-3 s
    for a spasm's diamond, longer for a tonic or an ordinary, irregular movement), the frame
    where it starts (where ``env`` first rises above a quarter of its peak) and its width in s
    at half its peak over the background on ``env`` itself."""
    nf = env_sm.size
    e0, e1 = max(0, onset_f - int(fs_fr)), min(nf, end_f + int(2 * fs_fr))
    base = max(median(env[max(0, onset_f - block):min(nf, end_f + block)]), 1e-3)
    kp = e0 + int(np.argmax(env[e0:e1]))
    ks = e0 + int(np.argmax(env_sm[e0:e1]))
    level = base + 0.2 * (env_sm[ks] - base)
    reach = int(round(10 * fs_fr))
    b0, b1 = _extent(env_sm, ks, level, max(0, ks - reach), min(nf - 1, ks + reach))
    k, _ = _extent(env, kp, base + 0.25 * (env[kp] - base), e0, kp)
    h0, h1 = _extent(env, kp, base + 0.5 * (env[kp] - base), max(0, kp - reach),
                     min(nf - 1, kp + reach))
    return float(env[kp] / base), (b1 - b0 + 1) / fs_fr, k, (h1 - h0 + 1) / fs_fr


def _extent(x: np.ndarray, i: int, level: float, lo: int, hi: int) -> tuple[int, int]:
    """First and last index of the run around ``i`` where ``x`` stays above ``level``, within
    ``lo``..``hi``."""
    a = b = i
    while a > lo and x[a - 1] > level:
        a -= 1
    while b < hi and x[b + 1] > level:
        b += 1
    return a, b


def _empty(cols: list[str], candidates: bool) -> pd.DataFrame:
    return pd.DataFrame({c: [] for c in cols + (["keep"] if candidates else [])})


def _correlations(x: np.ndarray) -> np.ndarray:
    """Mean absolute pairwise zero-lag correlation of the rows of each ``x[i]`` (absolute: a
    generalized wave may reverse polarity across the scalp); ``x`` is (n_stretches, n_rows,
    n_samples), all stretches in one batched product."""
    m = x.shape[1]
    if m < 2:
        return np.zeros(x.shape[0])
    z = x - x.mean(axis=2, keepdims=True)
    z /= np.maximum(np.sqrt((z**2).sum(axis=2, keepdims=True)), 1e-9)
    c = np.abs(z @ z.transpose(0, 2, 1))
    return (c.sum(axis=(1, 2)) - m) / (m * (m - 1))


def _mean_correlation(x: np.ndarray) -> float:
    """:func:`_correlations` of one stretch ``x`` (n_rows, n_samples)."""
    return float(_correlations(x[None])[0])


def _background_synchrony(x: np.ndarray, n: int) -> float:
    """Median of :func:`_correlations` over consecutive ``n``-sample stretches of ``x``."""
    k = x.shape[1] // n
    if k < 1:
        return 0.0
    stretches = x[:, :k * n].reshape(x.shape[0], k, n).transpose(1, 0, 2).astype(np.float64)
    return float(np.median(_correlations(stretches)))


def refractory_merge(onset: np.ndarray, confidence: np.ndarray, keep: np.ndarray,
                     refractory_s: float) -> np.ndarray:
    """Indices of the events kept after the refractory merge, in time order.

    Among the events marked ``keep``, the most confident stands and every other within
    ``refractory_s`` of it goes (spasms in a cluster are seconds apart).

    Parameters
    ----------
    onset, confidence : ndarray
        Onsets (s) and confidences of the candidates.
    keep : ndarray of bool
        Candidates that are spasms before the merge.
    refractory_s : float
        Minimum time between two spasms.

    Returns
    -------
    ndarray of int
    """
    kept: list[int] = []
    for i in np.flatnonzero(keep)[np.argsort(-confidence[keep], kind="stable")]:
        if all(abs(onset[i] - onset[k]) >= refractory_s for k in kept):
            kept.append(int(i))
    return np.array(sorted(kept, key=lambda k: onset[k]), dtype=int)


def _rules(c, p: SpasmParams) -> tuple[np.ndarray, list[str]]:
    """The rule paths to a spasm (see :class:`SpasmParams`), on the candidate columns.

    Returns whether any path accepts each candidate, and which parts of the pattern fired.
    """
    g, frac, amp, sm, sync, sync_all, wave, dec, dip, mid, gap, er = (
        np.asarray(c[k], dtype=float) for k in (
            "slow_ratio", "fraction", "slow_uv", "smoothness", "synchrony", "sync_all", "wave_s",
            "decrement", "dip_s", "mid_decrement", "gap_s", "emg_ratio"))
    shape = (amp >= p.min_slow_uv) & (sm >= p.min_smoothness)
    gen = shape & (g >= p.k_slow) & (frac >= p.min_fraction) & (sync >= p.min_synchrony) & \
        (wave <= p.max_wave_s)
    # the synchronous path: a wave of at least background size, in phase on all channels
    gen |= shape & (g >= p.k_sync_slow) & (sync_all >= p.strong_synchrony) & (wave <= p.max_wave_s)
    decr = (dec <= p.max_decrement) & (dip >= p.min_dip_s) & (dip <= p.max_dip_s) & \
        (mid <= p.max_mid_decrement) & (gap <= p.max_gap_s)
    # a deep decrement (all bands) right after a moderate generalized slow wave: on a
    # high-voltage background the ictal wave may be little larger than the ongoing delta,
    # and its field may not reach every channel, but the attenuation that follows is plain
    deep = (dec <= p.deep_decrement) & (mid <= p.deep_decrement + 0.1) & \
        (dip >= 1.0) & (dip <= p.max_dip_s + 1.0) & (gap <= p.max_gap_s / 2) & \
        (g >= p.k_deep_slow) & (frac >= 0.5) & (sm >= p.min_smoothness) & \
        (sync >= p.deep_synchrony) & (wave <= p.max_wave_s + 0.5)
    emg_burst = np.isfinite(er) & (er >= p.emg_ratio)
    # with a clear EMG burst, the decrement alone is enough (the wave may be buried in a
    # high-voltage background), or a slightly weaker pattern; EMG alone never is, and EMG with
    # a slow wave but no decrement only when the burst is strong and short (a spasm's diamond;
    # an arousal K-complex with an ordinary movement has a longer, irregular one)
    near_gen = (g >= p.k_slow * 0.8) & (frac >= p.min_fraction) & (amp >= p.min_slow_uv) & \
        (sync >= 0.75 * p.min_synchrony)
    ok = (gen & decr) | deep | (emg_burst & (decr | (
        near_gen & (dec <= p.max_decrement + 0.15) & (mid <= p.max_mid_decrement + 0.15)))) | \
        (gen & _emg_slow_wave(c, p))
    names = np.array(["generalized_slow_wave", "electrodecrement", "emg_burst"])
    fired = np.c_[gen, decr | deep, emg_burst]
    # a candidate none of whose parts clears its rule can still score as a spasm: say so
    feats = ["+".join(names[f]) or "pattern_score" for f in fired]
    return ok, feats


def eligible(c, params: SpasmParams = SpasmParams(), *, min_uv: float | None = None
             ) -> np.ndarray:
    """Which candidates the pattern score may make spasms: those followed by an
    electrodecrement (a shallower one, to ``SpasmParams.max_shallow_decrement``, after a full
    generalized slow wave), and, with a deltoid EMG channel, a clear generalized slow wave with a
    strong, short EMG burst and no decrement (``SpasmParams.emg_max_burst_s``); in both cases
    with a median slow-wave amplitude of at least half ``SpasmParams.min_slow_uv``.

    Parameters
    ----------
    c : DataFrame or mapping of str to ndarray
        Candidates with the columns of :data:`FEATURE_COLUMNS`.
    params : SpasmParams
        Thresholds.
    min_uv : float, optional
        The slow-wave amplitude floor (µV) in place of half ``SpasmParams.min_slow_uv``
        (:func:`spasm_decision` gives candidates on the movement path a lower one).

    Returns
    -------
    ndarray of bool
    """
    dec = np.asarray(c["decrement"], dtype=float)
    uv = np.asarray(c["slow_uv"], dtype=float)
    full = (np.asarray(c["slow_ratio"], dtype=float) >= params.k_slow) & \
        (np.asarray(c["fraction"], dtype=float) >= params.min_fraction)
    shape = (dec <= params.max_decrement + 0.15) | (full & (dec <= params.max_shallow_decrement)) \
        | _emg_slow_wave(c, params)
    return shape & (uv >= (0.5 * params.min_slow_uv if min_uv is None else min_uv))


def _burst(c) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each candidate's movement burst: strength over its background (0 without one), length
    and lag to the candidate (infinite without one)."""
    def col(k: str, fill: float) -> np.ndarray:
        return np.nan_to_num(np.asarray(c[k], dtype=float), nan=fill)

    return col("emg_ratio", 0.0), col("emg_burst_s", np.inf), col("emg_lag_s", np.inf)


def _emg_slow_wave(c, p: SpasmParams) -> np.ndarray:
    """The EMG path without a decrement (see ``SpasmParams.emg_max_burst_s``)."""
    er, width, lag = _burst(c)
    return (er >= 2.0 * p.emg_ratio) & (width <= p.emg_max_burst_s) & \
        (lag >= p.emg_lag_s[0]) & (lag <= p.emg_lag_s[1]) & \
        (np.asarray(c["synchrony"], dtype=float) >= p.min_synchrony) & \
        (np.asarray(c["slow_ratio"], dtype=float) >= 1.25 * p.k_slow)


def emg_envelope(emg: np.ndarray, sfreq: float, frame_s: float = 0.125) -> np.ndarray:
    """Envelope (µV) of a surface EMG channel per frame: 20 Hz high-pass (below the mains notch
    already applied), rectified, mean per frame."""
    hp = bandpass(emg[None, :], sfreq, 20.0, None, order=4)[0]
    spf = max(1, int(round(frame_s * sfreq)))
    nf = hp.size // spf
    return np.abs(hp[: nf * spf]).reshape(nf, spf).mean(-1)


def cluster_spasms(onsets: np.ndarray, gap_s: float = SpasmParams.cluster_gap_s) -> np.ndarray:
    """Cluster index of each spasm: consecutive spasms less than ``gap_s`` apart share a cluster.

    Parameters
    ----------
    onsets : ndarray
        Spasm onsets in seconds, sorted.
    gap_s : float
        Largest inter-spasm interval inside a cluster.

    Returns
    -------
    ndarray of int
    """
    onsets = np.asarray(onsets, dtype=float)
    if onsets.size == 0:
        return np.zeros(0, dtype=int)
    return np.cumsum(np.r_[True, np.diff(onsets) > gap_s]) - 1
