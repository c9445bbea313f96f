"""The recording-level reading of the spasm candidates: each candidate against the others of its
recording.

A generator, an amplifier or a montage changes how large, how synchronous and how deep every
candidate of a recording looks, spasm or not. Most candidates of a recording are not spasms
(high-voltage delta waves, attenuations of the background, transients), so the recording's own
candidates are the reference that moves with it. After every window has been analysed,
:func:`recording_relative` adds, for each candidate, ten of the model's inputs
(:data:`RECORDING_RELATIVE`) less their median over the candidates within
:data:`SPAN_S` of it, over their interquartile range; a second model (``spasm_lgbm_recording``,
trained on the same four generators with these inputs beside the others) gives the probability,
and :func:`hypsa.spasms.spasm_decision` and :func:`hypsa.spasms.to_events` make the events again,
over the whole recording. Where fewer than :data:`MIN_CANDIDATES` candidates lie within
:data:`SPAN_S` (a short recording) the window's own decision stands.

The model's card holds two thresholds, both chosen on out-of-fold probabilities of the training
generators at one false detection an hour (EEG only): ``threshold`` on their hypsarrhythmic
recordings, whose attenuations and high-voltage delta mimic spasms, and ``threshold_other``
(never higher) on their other recordings. :func:`threshold_for` reads a recording at the
second only where its own grades call it not hypsarrhythmic (:func:`called_hypsarrhythmic`).

The per-window decision (:func:`hypsa.spasms.decide`) is unchanged and still sets the spasms
aside from the interictal grading, window by window. docs/methods.md ("The recording-level
reading") and docs/validation.md give the reasons and the numbers.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np
import pandas as pd

from hypsa.model_files import load_booster
from hypsa.spasm_score import THRESHOLD, ModelError, calibrate, design
from hypsa.spasms import decrement_only, spasm_decision, to_events

__all__ = ["RECORDING_RELATIVE", "SUFFIX", "SPAN_S", "MIN_CANDIDATES", "MODEL_FILE",
           "CARD_FILE", "recording_relative", "load_model", "probability", "reread",
           "model_info", "called_hypsarrhythmic", "threshold_for"]

MODEL_FILE = "spasm_lgbm_recording.txt"
CARD_FILE = "spasm_lgbm_recording.json"

#: The inputs (:func:`hypsa.spasm_score.design` columns) also read against the recording's
#: other candidates: the wave's size and extent, its synchrony above the recording's, the window
#: score, the decrement's depth and extent, the wave against the seconds before it, smoothness.
RECORDING_RELATIVE = ["log_slow_ratio", "sync_excess", "sync_all_excess", "window",
                      "log_decrement", "mid_decrement", "fraction", "n_dec", "log_wave_pre",
                      "smoothness"]
#: Suffix of the recording-relative columns.
SUFFIX = "_rec"
#: Candidates this close (s, onset to onset) are the reference of a candidate: the whole of a
#: 10-minute recording (the training recordings), 20 minutes of a long one.
SPAN_S = 600.0
#: Fewer candidates than this within ``SPAN_S``: no recording-level reading.
MIN_CANDIDATES = 20


def recording_relative(c: pd.DataFrame, span_s: float = SPAN_S,
                       inputs: list[str] | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Each candidate's inputs against the candidates within ``span_s`` of it.

    Parameters
    ----------
    c : DataFrame
        Candidates with ``onset`` (s) and the columns of
        :data:`hypsa.spasms.FEATURE_COLUMNS` (and ``window`` where the model reads it).
    span_s : float
        Half-width of the reference span (s).
    inputs : list of str, optional
        :func:`hypsa.spasm_score.design` columns (default :data:`RECORDING_RELATIVE`).

    Returns
    -------
    (DataFrame, ndarray of int)
        ``c`` with a column ``<input>_rec`` per input: (value - median) / (interquartile range
        + 0.001) over the reference candidates (the candidate included; missing values left
        out), clipped to +-20; and the number of reference candidates of each.
    """
    inputs = list(inputs or RECORDING_RELATIVE)
    n = len(c)
    if n == 0:
        return c.assign(**{f + SUFFIX: np.zeros(0) for f in inputs}), np.zeros(0, dtype=int)
    x = design(c)[inputs].to_numpy(float)
    on = np.asarray(c["onset"], dtype=float)
    order = np.argsort(on, kind="stable")
    s, v = on[order], x[order]
    lo = np.searchsorted(s, s - span_s, side="left")
    hi = np.searchsorted(s, s + span_s, side="right")
    out = np.empty_like(v)
    prev = (-1, -1)
    q = np.empty((3, v.shape[1]))
    for i in range(n):
        if (lo[i], hi[i]) != prev:  # neighbours share their reference in short recordings
            q = _quartiles(v[lo[i]:hi[i]])
            prev = (lo[i], hi[i])
        out[i] = (v[i] - q[1]) / (q[2] - q[0] + 1e-3)
    rel = np.empty_like(out)
    rel[order] = np.clip(out, -20.0, 20.0)
    count = np.empty(n, dtype=int)
    count[order] = hi - lo
    return c.assign(**{f + SUFFIX: rel[:, k] for k, f in enumerate(inputs)}), count


_Q = np.array([0.25, 0.5, 0.75])


def _quartiles(block: np.ndarray) -> np.ndarray:
    """``np.nanpercentile(block, [25, 50, 75], axis=0)``, the same values to the last bit (the
    same index and interpolation arithmetic), without its per-call cost: one sort per block."""
    b = np.sort(block, axis=0)                                   # missing values sort last
    m = np.count_nonzero(~np.isnan(block), axis=0)
    pos = _Q[:, None] * m[None, :] + (1.0 - _Q[:, None]) - 1.0   # (m - 1) q, as numpy forms it
    lo = np.clip(np.floor(pos).astype(int), 0, None)
    hi = np.minimum(lo + 1, np.maximum(m - 1, 0)[None, :])
    t = pos - np.floor(pos)
    cols = np.arange(block.shape[1])[None, :]
    a, b_ = b[lo, cols], b[hi, cols]
    d = b_ - a
    out = np.where(t >= 0.5, b_ - d * (1.0 - t), a + d * t)
    return np.where(m[None, :] > 0, out, np.nan)


@lru_cache(maxsize=4)
def load_model(directory: str | None = None):
    """The shipped recording-level model and its card (cached), as
    :func:`hypsa.spasm_score.load_model` loads the per-window one (same argument, return and
    :class:`~hypsa.spasm_score.ModelError`)."""
    return load_booster(directory, MODEL_FILE, CARD_FILE, ModelError,
                        f"the recording-level spasm model ({MODEL_FILE}, {CARD_FILE}) is "
                        "missing; rebuild it with benchmarks/train_spasm_model.py")


def probability(c: pd.DataFrame) -> np.ndarray:
    """Calibrated spasm probability of each candidate under the recording-level model.

    Parameters
    ----------
    c : DataFrame
        Candidates with their ``<input>_rec`` columns (:func:`recording_relative`).

    Returns
    -------
    ndarray of float
    """
    booster, card = load_model()
    if not len(c):
        return np.zeros(0)
    d = design(c)
    cols = [np.asarray(c[f], dtype=float) if f.endswith(SUFFIX) else d[f].to_numpy(float)
            for f in card["features"]]
    raw = booster.predict(np.column_stack(cols), num_threads=1)
    return calibrate(np.asarray(raw, dtype=float), card["calibration"])


def called_hypsarrhythmic(grades: list[dict]) -> bool | None:
    """Whether a recording's 5-minute grades call it hypsarrhythmic, before its spasms are
    read at the recording level.

    Parameters
    ----------
    grades : list of dict
        The grade rows of the recording (fixed and sliding 5-minute windows): ``grade``,
        ``slow_variant``, ``not_assessed``.

    Returns
    -------
    bool or None
        True where one graded window is BASED >= 4 or the slow-wave form (the verdict's
        rule, :mod:`hypsa.verdict`); False where every window was graded below and the montage
        assessed every criterion; None where nothing was graded or a criterion could not be
        assessed (the verdict may then be "not assessable": read as hypsarrhythmic).
    """
    from hypsa.hypsarrhythmia import PRESENT_FROM

    graded = [g for g in grades if g.get("grade") is not None]
    if not graded:
        return None
    if any(int(g["grade"]) >= PRESENT_FROM or g.get("slow_variant") for g in graded):
        return True
    if any(g.get("not_assessed") is not None and len(g["not_assessed"]) for g in graded):
        return None
    return False


def threshold_for(hypsarrhythmic: bool | None, min_confidence: float = THRESHOLD
                  ) -> tuple[float, str]:
    """The recording-level model's threshold for a recording, and why.

    Parameters
    ----------
    hypsarrhythmic : bool or None
        :func:`called_hypsarrhythmic` of the recording.
    min_confidence : float
        The spasm parameters' ``min_confidence``: one set by the user (not the default) is
        the threshold.

    Returns
    -------
    (float, str)
        The user's ``min_confidence`` where set; else the card's ``threshold_other`` where
        ``hypsarrhythmic`` is False (and the card has one), else its ``threshold``; and a
        sentence saying which and why.
    """
    if float(min_confidence) != THRESHOLD:
        return float(min_confidence), f"{min_confidence:.2f}: the minimum confidence asked for"
    card = load_model()[1]
    first = float(card["threshold"])
    other = card.get("threshold_other")
    if hypsarrhythmic is False and other is not None and float(other) < first:
        return float(other), (
            f"{float(other):.2f}: the grades do not call the recording hypsarrhythmic, and a "
            "background without hypsarrhythmia has fewer spasm mimics (the threshold "
            f"with hypsarrhythmia is {first:.2f})")
    why = "the grades call the recording hypsarrhythmic" if hypsarrhythmic else \
        "the recording could not be called free of hypsarrhythmia"
    return first, f"{first:.2f}: {why}"


def reread(cands: pd.DataFrame, params, hypsarrhythmic: bool | None = None
           ) -> pd.DataFrame | None:
    """The spasm and electrodecrement events of a whole recording from its candidates, read at
    the recording level where enough candidates surround them.

    Parameters
    ----------
    cands : DataFrame
        Every candidate of the recording as :func:`hypsa.spasms.decide` left it (``confidence``,
        ``keep``, ``eeg_decrement``), each once, ``onset`` in recording seconds.
    params : hypsa.spasms.SpasmParams
        Thresholds; a ``min_confidence`` left at its default takes the recording-level model's
        own threshold for the recording (:func:`threshold_for`).
    hypsarrhythmic : bool or None
        :func:`called_hypsarrhythmic` of the recording (False: the second threshold).

    Returns
    -------
    DataFrame or None
        The events (:func:`hypsa.spasms.to_events`), or None where no candidate has
        :data:`MIN_CANDIDATES` around it (the windows' events stand).
    """
    if len(cands) < MIN_CANDIDATES:
        return None
    c, count = recording_relative(cands.reset_index(drop=True))
    enough = count >= MIN_CANDIDATES
    if not enough.any():
        return None
    p = replace(params, min_confidence=threshold_for(hypsarrhythmic,
                                                     params.min_confidence)[0])
    prob = probability(c)
    cols = {k: c[k].to_numpy() for k in c.columns if k != "channels"}
    keep = np.where(enough, spasm_decision(cols, prob, p), c["keep"].to_numpy(bool))
    conf = np.where(enough, prob, c["confidence"].to_numpy(float))
    dec = c.assign(confidence=conf, keep=keep, eeg_decrement=~keep & decrement_only(cols, p))
    ev = to_events(dec, p)
    return ev.drop(columns=[k for k in ev.columns if k.endswith(SUFFIX)])


def model_info() -> dict | None:
    """The recording-level model's file, sha256, thresholds (with hypsarrhythmia, and
    without) and reference span, for ``summary.json`` and the report (None where it is not
    installed)."""
    try:
        card = load_model()[1]
    except ModelError:
        return None
    return {"file": f"hypsa/models/{MODEL_FILE}", "sha256": card.get("sha256"),
            "threshold": card.get("threshold"),
            "threshold_other": card.get("threshold_other", card.get("threshold")),
            "span_s": SPAN_S, "min_candidates": MIN_CANDIDATES}
