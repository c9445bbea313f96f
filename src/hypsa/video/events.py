"""Sudden, brief, bilateral whole-body movements in a :class:`~hypsa.video.motion.MotionTrack`.

A spasm seen on video is a sudden flexion, extension or mixed contraction of neck, trunk and limbs,
usually bilateral and symmetric, 0.5-2 s (a brief phasic jerk, then a tonic phase), recurring in
clusters every 5-30 s (docs/video.md gives the sources). An event here is a stretch of body
movement that

- rises far above the body's own ongoing movement (``k_background`` times its running median) out
  of relative stillness, and settles again (ordinary kicking, writhing and crying are continuous);
- lasts ``min_s``-``max_s`` seconds (a startle is a single fling and back, shorter; being carried
  lasts longer);
- involves both sides and both halves of the body (symmetry, extent);
- deforms the body rather than shifting it whole (being handled), and is not shared by the
  picture outside the body (a passing hand, camera motion left over) nor by a change of light.

Each criterion gives a score from 0 to 1 and an event's ``confidence`` is its weakest score;
movements at or above ``min_confidence`` are reported. Spasms recur in series, while their
commonest mimics, startles and Moro reflexes, come alone: a movement that is not one of at least
``min_series`` each less than ``series_gap_s`` after the one before is reported apart as an
isolated sudden movement (:data:`ISOLATED_TYPE`), not as an event. Clusters are
``min_cluster`` or more events each less than ``cluster_gap_s`` after the previous one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage

from hypsa.errors import ParameterError
from hypsa.spasms import cluster_spasms
from hypsa.video.motion import MotionTrack

__all__ = ["EventParams", "detect_events", "find_clusters", "clusters_table", "in_series",
           "EVENT_TYPE", "ISOLATED_TYPE", "EVENT_COLUMNS"]

#: ``trial_type`` of a detected event (it is a movement, not a diagnosis).
EVENT_TYPE = "sudden_symmetric_movement"
#: ``trial_type`` of a movement that passes every criterion but recurs in no series (a startle,
#: a Moro reflex; an isolated spasm looks the same).
ISOLATED_TYPE = "isolated_sudden_movement"
EVENT_COLUMNS = ["onset", "duration", "trial_type", "magnitude", "symmetry", "extent",
                 "suddenness", "confidence", "cluster", "weakest"]


@dataclass(frozen=True)
class EventParams:
    """Parameters of the movement-event decision (defaults chosen on the tuning clips of
    ``benchmarks/validate_video.py``: seeds 0-7 and 20-31 with spasms, 12-15 and 40-45 without).

    Attributes
    ----------
    k_background : float
        Body movement must exceed this multiple of its running median.
    min_speed : float
        ... and this speed (body-lengths per second).
    background_s : float
        Window of the running median (s).
    merge_s : float
        Movement bursts less than this apart are one event (the tonic phase between the jerk and
        the release is nearly still).
    min_s, max_s : float
        Duration range of an event (s).
    context_s : float
        Stretch before and after an event that must be relatively still (s).
    min_confidence : float
        Reported events have at least this confidence.
    cluster_gap_s : float
        Largest interval between consecutive events of a cluster (s).
    min_cluster : int
        Fewest events in a cluster.
    series_gap_s : float
        Largest interval between consecutive movements of a series (s): spasms recur every
        5-30 s, so twice the longest usual interval (one unseen between two does not break the
        series).
    min_series : int
        Fewest movements in a series; a movement in none is reported apart
        (:data:`ISOLATED_TYPE`: startles and Moro reflexes come alone). 1 reports every
        movement as an event.
    series_confidence : float
        Least confidence of a movement that counts toward a series.
    """

    k_background: float = 3.0
    min_speed: float = 0.015
    background_s: float = 60.0
    merge_s: float = 1.75
    min_s: float = 0.3
    max_s: float = 3.0
    context_s: float = 1.5
    min_confidence: float = 0.5
    cluster_gap_s: float = 90.0
    min_cluster: int = 3
    series_gap_s: float = 60.0
    min_series: int = 3
    series_confidence: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.min_s < self.max_s:
            raise ParameterError(f"need 0 < min_s < max_s, got {self.min_s}, {self.max_s}")
        if not 0 <= self.min_confidence <= 1:
            raise ParameterError(f"min_confidence must be 0-1, got {self.min_confidence}")
        if self.cluster_gap_s <= 0 or self.min_cluster < 2:
            raise ParameterError("cluster_gap_s must be > 0 and min_cluster >= 2")
        if self.series_gap_s <= 0 or self.min_series < 1:
            raise ParameterError("series_gap_s must be > 0 and min_series >= 1")


CAM = (6.0, 3.0)
FLOOR = (1.0, 0.5)
AROUND = (100.0, 50.0)
SYNC = (0.4, 0.6)
LOOK = (20.0, 12.0)
RIGID = (0.5, 0.3)
WHOLE = (0.7, 0.6)
# balance of the halves' movement (each the mean of its most moving quarter of cells, which
# exaggerates an imbalance; asymmetric spasms keep one side at 30-60 %)
SYM = (0.05, 0.12)
EXTENT = (0.05, 0.12)


def _corr(x: np.ndarray, y: np.ndarray, a: int, b: int) -> float:
    """Correlation of two signals over frames ``a:b`` widened by a frame each side (0 when
    either is flat)."""
    a, b = max(0, a - 1), min(x.size, b + 1)
    u, v = x[a:b] - x[a:b].mean(), y[a:b] - y[a:b].mean()
    d = float(np.sqrt((u * u).sum() * (v * v).sum()))
    return float((u * v).sum()) / d if d > 1e-12 else 0.0


def _score(x: float, lo: float, hi: float) -> float:
    """0 at ``lo``, 1 at ``hi``, linear between (either direction)."""
    if not np.isfinite(x):
        return 0.0
    return float(np.clip((x - lo) / (hi - lo), 0.0, 1.0))


def _running_median(x: np.ndarray, n: int) -> np.ndarray:
    """Running median over ``n`` frames, computed on blocks of n/8 frames for speed."""
    step = max(1, n // 8)
    nb = int(np.ceil(x.size / step))
    pad = nb * step - x.size
    blocks = np.median(np.pad(x, (0, pad), mode="edge").reshape(nb, step), axis=1)
    k = max(1, n // step) | 1
    med = ndimage.median_filter(blocks, size=k, mode="nearest")
    return np.repeat(med, step)[: x.size]


def detect_events(track: MotionTrack, params: EventParams = EventParams(),
                  *, all_candidates: bool = False) -> pd.DataFrame:
    """Find sudden, brief, bilateral whole-body movements.

    Parameters
    ----------
    track : MotionTrack
        From :func:`hypsa.video.motion.measure_motion`.
    params : EventParams
        Decision parameters.
    all_candidates : bool
        Return every candidate with its scores, not only those reaching ``min_confidence``.

    Returns
    -------
    DataFrame
        :data:`EVENT_COLUMNS` (onset and duration in seconds of the clip; magnitude in
        body-lengths per second; ``weakest`` names the criterion that set the confidence), plus
        the score of each criterion. ``cluster`` is filled by :func:`find_clusters` (-1: none).
    """
    s = track.signals
    fs = track.frame_s
    if not len(s) or not track.subject:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    body = ndimage.uniform_filter1d(s["body"].to_numpy(float), 2)
    bg = np.maximum(_running_median(body, int(round(params.background_s / fs))), 0.005)
    high = (body > params.k_background * bg) & (body > params.min_speed)
    low = body > 0.5 * params.k_background * bg
    gap = int(round(params.merge_s / fs))
    if gap > 0:
        high = ndimage.binary_closing(np.r_[np.zeros(gap, bool), high, np.zeros(gap, bool)],
                                      structure=np.ones(gap + 1, bool))[gap:-gap]
    # each stretch of high movement, widened to where the movement falls back to half that level
    lab, n = ndimage.label(low | high)
    keep = np.unique(lab[high & (lab > 0)])
    lab = np.where(np.isin(lab, keep), lab, 0)
    lab, n = ndimage.label(lab > 0)
    if n == 0:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    sl = ndimage.find_objects(lab)
    cols = {c: s[c].to_numpy(float) if c in s else np.zeros(len(s))
            for c in ("left", "right", "upper", "lower", "outside", "shift", "coherence", "camera",
                      "floor",
                      "light", "change_body", "change_outside")}
    nbg = int(round(params.background_s / fs))
    for c in ("change_body", "change_outside", "light"):  # the excess over the clip's own noise
        cols[c] = np.maximum(cols[c] - _running_median(cols[c], nbg), 0.0)
    ctx = int(round(params.context_s / fs))
    rows = []
    for (sli,) in sl:
        a, b = sli.start, sli.stop
        dur = (b - a) * fs
        seg = slice(a, b)
        peak = float(body[seg].max())
        tot = float(body[seg].sum())
        pre = body[max(0, a - ctx - 1): max(0, a - 1)]
        post = body[min(len(body), b + 1): min(len(body), b + ctx + 1)]
        level = max(float(np.median(pre)) if pre.size else 0.0,
                    float(np.median(post)) if post.size else 0.0)
        left, right = cols["left"][seg].sum(), cols["right"][seg].sum()
        up, lo = cols["upper"][seg].sum(), cols["lower"][seg].sum()
        symmetry = min(left, right) / max(left, right, 1e-9)
        extent = min(up, lo) / max(up, lo, 1e-9)
        outside = max(cols["outside"][seg].sum() / max(tot, 1e-9),
                      cols["change_outside"][seg].sum()
                      / max(cols["change_body"][seg].sum(), 1e-9))
        shift = cols["shift"][seg].sum() / max(tot, 1e-9)
        # both sides and both halves move together in time (a spasm is one contraction of the
        # whole body; kicks alternate, a hand or a shadow passes over one part after another)
        sync = min(_corr(cols["left"], cols["right"], a, b),
                   _corr(cols["upper"], cols["lower"], a, b))
        # change of appearance per movement: a shadow or a plain hand changes what is seen far
        # more than it moves
        look = cols["change_body"][seg].sum() / max(tot, 1e-9)
        whole = float((cols["coherence"][seg] * body[seg]).sum()) / max(tot, 1e-9)
        camera = float(cols["camera"][seg].max()) / max(peak, 1e-9)
        floor = float(cols["floor"][seg].max()) / max(peak, 1e-9)
        light = float(cols["light"][seg].max())
        sudden = peak / max(level, float(bg[a]), 1e-3)
        sc = {
            "s_sudden": _score(sudden, 2.0, 4.0),
            "s_duration": min(_score(dur, 0.1, 0.25),
                              _score(-dur, -params.max_s - 0.5, -params.max_s)),
            "s_symmetry": _score(symmetry, SYM[0], SYM[1]),
            "s_extent": _score(extent, EXTENT[0], EXTENT[1]),
            "s_outside": _score(-outside, -0.6, -0.3),
            "s_rigid": _score(-shift, -RIGID[0], -RIGID[1]),
            "s_camera": _score(-camera, -CAM[0], -CAM[1]),
            "s_floor": _score(-floor, -FLOOR[0], -FLOOR[1]),
            "s_synchrony": _score(sync, SYNC[0], SYNC[1]),
            "s_look": _score(-look, -LOOK[0], -LOOK[1]),
            "s_whole": _score(-whole, -WHOLE[0], -WHOLE[1]),
            "s_light": _score(-light, -60.0, -25.0),
        }
        weakest = min(sc, key=sc.get)
        rows.append({"onset": a * fs, "duration": dur, "trial_type": EVENT_TYPE,
                     "magnitude": peak, "symmetry": symmetry, "extent": extent,
                     "suddenness": sudden,
                     "synchrony": sync, "look": look, "whole": whole,
                     "confidence": sc[weakest], "cluster": -1,
                     "weakest": weakest[2:], **sc})
    ev = pd.DataFrame(rows)
    # spasms recur in series; a startle or a Moro reflex comes alone
    conf = ev["confidence"].to_numpy(float)
    kept = conf >= params.min_confidence
    ev.loc[kept & ~in_series(ev["onset"].to_numpy(float), conf, params), "trial_type"] = \
        ISOLATED_TYPE
    if not all_candidates:
        ev = ev[kept].reset_index(drop=True)
        kept = np.ones(len(ev), bool)
    ser = (kept & (ev["trial_type"] == EVENT_TYPE).to_numpy()) if len(ev) else kept
    ev["cluster"] = -1
    if ser.any():
        ev.loc[ser, "cluster"] = find_clusters(ev["onset"].to_numpy(float)[ser], params)
    return ev


def in_series(onsets: np.ndarray, confidence: np.ndarray,
              params: EventParams = EventParams()) -> np.ndarray:
    """Whether each movement belongs to a series.

    A series is ``min_series`` or more movements of at least ``series_confidence``, each less
    than ``series_gap_s`` after the one before.

    Parameters
    ----------
    onsets : ndarray
        Onsets (s), sorted.
    confidence : ndarray
        Each movement's confidence.
    params : EventParams
        ``series_gap_s``, ``min_series``, ``series_confidence``.

    Returns
    -------
    ndarray of bool
    """
    onsets = np.asarray(onsets, dtype=float)
    out = np.zeros(onsets.size, bool)
    if params.min_series <= 1:
        out[:] = True
        return out
    sure = np.flatnonzero(np.asarray(confidence, dtype=float) >= params.series_confidence)
    if sure.size == 0:
        return out
    run = np.cumsum(np.r_[True, np.diff(onsets[sure]) > params.series_gap_s])
    size = np.bincount(run)[run]
    out[sure[size >= params.min_series]] = True
    return out


def find_clusters(onsets: np.ndarray, params: EventParams = EventParams()) -> np.ndarray:
    """Cluster index of each event (-1 for events in no cluster).

    Parameters
    ----------
    onsets : ndarray
        Event onsets (s), sorted.
    params : EventParams
        ``cluster_gap_s`` and ``min_cluster``.

    Returns
    -------
    ndarray of int
    """
    onsets = np.asarray(onsets, dtype=float)
    run = cluster_spasms(onsets, params.cluster_gap_s)
    out = np.full(onsets.size, -1)
    k = 0
    for r in np.unique(run):
        m = run == r
        if m.sum() >= params.min_cluster:
            out[m] = k
            k += 1
    return out


def clusters_table(events: pd.DataFrame) -> pd.DataFrame:
    """One row per cluster: ``cluster, onset, offset, count, min_interval_s, max_interval_s``."""
    rows = []
    if len(events):
        for c, g in events[events["cluster"] >= 0].groupby("cluster"):
            iv = np.diff(g["onset"].to_numpy())
            rows.append({"cluster": int(c), "onset": float(g["onset"].min()),
                         "offset": float((g["onset"] + g["duration"]).max()),
                         "count": len(g),
                         "min_interval_s": float(iv.min()) if iv.size else None,
                         "max_interval_s": float(iv.max()) if iv.size else None})
    return pd.DataFrame(rows, columns=["cluster", "onset", "offset", "count", "min_interval_s",
                                       "max_interval_s"])
