"""Spasms seen on video-EEG: a sudden symmetric movement in a series with the ictal EEG pattern.

In a video-EEG the clinical answer to an ambiguous EEG is the child: an epileptic spasm is a
sudden, brief, symmetric movement that recurs in a series, together with a generalized
high-voltage slow wave and/or an electrodecrement. The spasm model (:mod:`hypsa.spasm_score`)
weighs a movement burst only as one input among the EEG's, and a generalized wave without a
decrement that the model scores low is not a spasm for it. Where the video shows a movement of
the kind only spasms make (the clip's own sudden symmetric movements that recur in a series,
:meth:`hypsa.video.align.Movement.sudden_movements`; isolated startles are not among them),
:func:`movement_spasms` counts it when an EEG candidate at the same moment shows the pattern in
measures read against each channel's own background and counted over channels:

* a clear generalized slow wave: :data:`CLEAR_WAVE` times ``SpasmParams.k_slow`` times the
  channel's background (median over channels), on at least ``SpasmParams.min_fraction`` of the
  channels, of at least ``SpasmParams.movement_min_slow_uv``; or
* a generalized slow wave (``k_slow``, same extent and floor) followed by an attenuation of
  activity to :data:`PARTIAL_DECREMENT` of its level before or less: both parts of the pattern,
  the decrement shallow; or
* a generalized electrodecrement (:func:`hypsa.spasms.decrement_only`).

Movement alone never makes a spasm: a sudden movement with none of these is listed for review
(:func:`movements_without_spasm`), never counted. A deltoid EMG channel does not take this path:
an EMG burst does not tell a spasm's movement from an ordinary one the way a series of sudden
symmetric movements does, and on the generalization bench the same rule with EMG bursts doubled
the false detections (docs/validation.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hypsa.spasms import (
    EEG_DECREMENT,
    EVENT_TYPES,
    SPASM_EEG_MOVEMENT,
    SPASM_TYPES,
    SpasmParams,
    decrement_only,
)

__all__ = ["MOVEMENT_MATCH_S", "MOVEMENT_BEFORE_S", "MOVEMENT_AFTER_S", "CLEAR_WAVE",
           "PARTIAL_DECREMENT", "VIDEO_FEATURE", "pattern_with_movement",
           "movement_spasms", "movements_without_spasm"]

#: A detected spasm this close (s, onset to onset) to a sudden movement is that movement's spasm.
MOVEMENT_MATCH_S = 2.0
#: An EEG candidate may start this long (s) before the movement's onset (the wave leads)...
MOVEMENT_BEFORE_S = 1.5
#: ... or this long after it (the decrement, and the video's timing, follow).
MOVEMENT_AFTER_S = 3.0
#: A wave without a decrement must be this many times ``SpasmParams.k_slow`` (a clear wave, as on
#: the EMG path of :func:`hypsa.spasms.eligible`): on a hypsarrhythmic background an ordinary
#: movement often meets a high-voltage delta wave of twice the background.
CLEAR_WAVE = 1.25
#: A wave of ``k_slow`` is enough when activity after it falls to this share of its level before
#: (``decrement``, the broadband dip): the shallowest decrement of the clinical descriptions
#: (to 60 %), where a generalized electrodecrement alone needs ``SpasmParams.max_decrement``.
PARTIAL_DECREMENT = 0.6
#: ``features`` part naming the video's evidence.
VIDEO_FEATURE = "video_sudden_movement_series"


def _spasm_onsets(events: pd.DataFrame) -> np.ndarray:
    if not len(events):
        return np.zeros(0)
    kinds = events["trial_type"] if "trial_type" in events else pd.Series(
        SPASM_TYPES[0], index=events.index)
    return np.sort(events.loc[kinds.isin(SPASM_TYPES).to_numpy(), "onset"].to_numpy(float))


def movements_without_spasm(movements: list[dict], events: pd.DataFrame) -> list[dict]:
    """The video's sudden symmetric movements (in a series) with no detected spasm within
    :data:`MOVEMENT_MATCH_S`: listed for review beside the count, never counted (movement alone
    never makes a spasm; the EEG may show its pattern too faintly to be detected).

    Parameters
    ----------
    movements : list of dict
        ``onset`` (recording seconds) and ``duration`` of each movement
        (:meth:`hypsa.video.align.Movement.sudden_movements`).
    events : DataFrame
        The analysis events (``onset``, ``trial_type``).

    Returns
    -------
    list of dict
        The movements without a spasm.
    """
    on = _spasm_onsets(events)
    return [m for m in movements
            if on.size == 0 or np.min(np.abs(on - float(m["onset"]))) > MOVEMENT_MATCH_S]


def pattern_with_movement(cands, params: SpasmParams = SpasmParams()) -> np.ndarray:
    """Which candidates show the ictal EEG pattern in the channel-counted sense this path needs:
    a clear generalized slow wave (:data:`CLEAR_WAVE` times ``k_slow`` times the background, on
    ``min_fraction`` of the channels, of at least ``movement_min_slow_uv``), a generalized slow
    wave of ``k_slow`` followed by a decrement to :data:`PARTIAL_DECREMENT` or less, or a
    generalized electrodecrement (:func:`hypsa.spasms.decrement_only`).

    Parameters
    ----------
    cands : DataFrame or mapping of str to ndarray
        The spasm candidates (``slow_ratio``, ``fraction``, ``slow_uv`` and the decrement
        columns of :data:`hypsa.spasms.FEATURE_COLUMNS`).
    params : SpasmParams
        ``k_slow``, ``min_fraction``, ``movement_min_slow_uv`` and the decrement thresholds.

    Returns
    -------
    ndarray of bool
        One per candidate: True where it shows the pattern.
    """
    def col(k: str, missing: float = 0.0) -> np.ndarray:
        return np.nan_to_num(np.asarray(cands[k], dtype=float), nan=missing)

    wide = (col("fraction") >= params.min_fraction) & \
        (col("slow_uv") >= params.movement_min_slow_uv)
    ratio = col("slow_ratio")
    clear = wide & (ratio >= CLEAR_WAVE * params.k_slow)
    both = wide & (ratio >= params.k_slow) & (col("decrement", 1.0) <= PARTIAL_DECREMENT)
    return clear | both | decrement_only(cands, params)


def movement_spasms(events: pd.DataFrame, cands: pd.DataFrame | None, movements: list[dict],
                    params: SpasmParams = SpasmParams()) -> pd.DataFrame:
    """The events with the spasms the video shows added: each sudden symmetric movement of a
    series without a detected spasm within :data:`MOVEMENT_MATCH_S` whose moment (from
    :data:`MOVEMENT_BEFORE_S` before its onset to :data:`MOVEMENT_AFTER_S` after) holds an EEG
    candidate with the pattern (:func:`pattern_with_movement`) becomes a
    :data:`hypsa.spasms.SPASM_EEG_MOVEMENT` event: that candidate's row (the most probable one),
    its ``features`` ending in :data:`VIDEO_FEATURE`. An ``eeg_decrement`` event within
    ``refractory_s`` of it is the same event and is dropped.

    Parameters
    ----------
    events : DataFrame
        The analysis events (candidate rows with ``trial_type``).
    cands : DataFrame or None
        Every spasm candidate of the recording, each once, ``onset`` in recording seconds
        (None or empty: the events are returned unchanged).
    movements : list of dict
        ``onset`` and ``duration`` (recording seconds) of the video's sudden symmetric movements
        that recur in a series.
    params : SpasmParams
        Thresholds.

    Returns
    -------
    DataFrame
        The events, in time order.
    """
    if cands is None or not len(cands) or not movements:
        return events
    on = cands["onset"].to_numpy(float)
    ok = pattern_with_movement(cands, params)
    conf = np.nan_to_num(cands["confidence"].to_numpy(float), nan=0.0) \
        if "confidence" in cands else np.zeros(on.size)
    taken = list(_spasm_onsets(events))
    rows = []
    for m in movements:
        t = float(m["onset"])
        if taken and np.min(np.abs(np.asarray(taken) - t)) <= MOVEMENT_MATCH_S:
            continue
        k = np.flatnonzero(ok & (on >= t - MOVEMENT_BEFORE_S) & (on <= t + MOVEMENT_AFTER_S))
        if not k.size:
            continue
        i = int(k[np.argmax(conf[k])])
        if taken and np.min(np.abs(np.asarray(taken) - on[i])) < params.refractory_s:
            continue
        rows.append(i)
        taken.append(on[i])
    if not rows:
        return events
    new = cands.iloc[rows].drop(columns=["keep", "eeg_decrement"], errors="ignore").copy()
    feats = new["features"].astype(str) if "features" in new else pd.Series("", index=new.index)
    new["features"] = [f"{f}+{VIDEO_FEATURE}" if f and f != "pattern_score" else VIDEO_FEATURE
                       for f in feats]
    new["trial_type"] = SPASM_EEG_MOVEMENT
    new["eventType"] = EVENT_TYPES[SPASM_EEG_MOVEMENT]
    always = {"trial_type", "eventType"}
    new = new[[c for c in new.columns if c in events.columns or c in always or not len(events)]]
    keep = events
    if len(events) and "trial_type" in events:
        de = (events["trial_type"] == EEG_DECREMENT).to_numpy()
        ev_on = events["onset"].to_numpy(float)
        near = np.min(np.abs(ev_on[:, None] - new["onset"].to_numpy(float)[None, :]), axis=1) \
            < params.refractory_s
        keep = events[~(de & near)]
    out = pd.concat([keep, new], ignore_index=True) if len(keep) else new.reset_index(drop=True)
    return out.sort_values("onset", kind="stable").reset_index(drop=True)
