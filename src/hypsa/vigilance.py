"""Sleep-wake state where the recording states it, and where each spasm cluster falls in it.

Spasms come in clusters, often on waking (see docs/methods.md). When a recording carries a
hypnogram (sleep-stage annotations scored by a technologist or written by the acquisition
system), each cluster is placed in it: the state at its first spasm, and for a cluster that
starts awake, how long after the end of the last sleep it began. A cluster that starts awake
within ``waking_window_s`` of the end of sleep is *on waking*.

hypsa does not stage sleep itself for this: the state of an infant with hypsarrhythmia is hard
to read from the EEG alone (the background fragments in NREM sleep and fades in REM sleep and
on arousal), and a guessed transition would put clusters on waking that are not. Where no stage
is annotated, the relation is reported as unknown.

Recognised labels (case and separators ignored): ``Sleep stage W/1/2/3/4/R/N1/N2/N3``
(Sleep-EDF, AASM exports), ``W``, ``Wake``, ``Awake``, ``N1``-``N4``, ``NREM``, ``R``, ``REM``,
``Stage 0-4``, ``Quiet sleep`` / ``QS`` (NREM), ``Active sleep`` / ``AS`` (REM), and
``state: wake|nrem|rem`` (``hypsa.simulate``). Other annotations are ignored; ``Sleep stage ?``
and ``Movement time`` leave the state unknown. A stage annotation without a duration lasts until
the next stage annotation (a list of transitions).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from hypsa.errors import InputError

__all__ = ["WAKING_WINDOW_S", "sleep_stages", "stage_rows", "state_at", "cluster_states",
           "read_hypnogram", "bids_events_stages", "STATES", "SOURCES"]

#: A cluster that starts awake at most this long after the end of sleep is "on waking" (s).
WAKING_WINDOW_S = 300.0

#: Where the sleep stages of an analysis came from (``spasms.sleep_wake.source``), in words.
SOURCES = {"annotations": "the recording's sleep-stage annotations",
           "bids_events": "the BIDS events file beside the recording"}

#: The states a stage label maps to (``unknown``: scored, but neither wake nor sleep).
STATES = ("wake", "nrem", "rem", "unknown")

_PREFIX = re.compile(r"^(sleep stage|sleep_stage|sleepstage|stage|state|sleep)\s*:?\s*")
_BARE = {
    "w": "wake", "wake": "wake", "awake": "wake", "wakefulness": "wake",
    "n1": "nrem", "n2": "nrem", "n3": "nrem", "n4": "nrem", "nrem": "nrem", "non rem": "nrem",
    "quiet sleep": "nrem", "qs": "nrem",
    "r": "rem", "rem": "rem", "active sleep": "rem", "as": "rem",
    "?": "unknown", "movement time": "unknown", "mt": "unknown", "unscored": "unknown",
    "indeterminate sleep": "unknown",
}
# digits mean a stage only after a "stage" prefix ("2" alone may be anything)
_STAGED = {"0": "wake", "1": "nrem", "2": "nrem", "3": "nrem", "4": "nrem", "s1": "nrem",
           "s2": "nrem", "s3": "nrem", "s4": "nrem", "n": "nrem"}


def _label(description: str) -> str | None:
    """The state a stage annotation names, or None when it is not a stage annotation."""
    text = re.sub(r"[_\-]+", " ", str(description).strip().lower())
    text = re.sub(r"\s+", " ", text)
    prefixed = _PREFIX.match(text)
    rest = text[prefixed.end():].strip() if prefixed else text
    if rest in _BARE:
        return _BARE[rest]
    if prefixed and rest in _STAGED:
        return _STAGED[rest]
    return None


def stage_rows(annotations: pd.DataFrame) -> np.ndarray:
    """Which rows of an annotation table are sleep-stage annotations.

    Parameters
    ----------
    annotations : DataFrame
        With a ``description`` column.

    Returns
    -------
    ndarray of bool
    """
    return np.array([_label(d) is not None for d in annotations["description"]], dtype=bool)


def sleep_stages(annotations: pd.DataFrame, duration_s: float) -> pd.DataFrame:
    """The hypnogram in a recording's annotations, as consecutive stretches of one state.

    Parameters
    ----------
    annotations : DataFrame
        ``onset``, ``duration`` (s) and ``description`` (as in
        :attr:`hypsa.io.Recording.annotations`).
    duration_s : float
        Length of the recording (s): the last stage annotation without a duration lasts until
        the end.

    Returns
    -------
    DataFrame
        ``onset``, ``duration``, ``state`` (one of :data:`STATES`), in time order, consecutive
        stretches of the same state merged; empty when the recording has no stage annotation.
    """
    cols = {"onset": pd.Series(dtype=float), "duration": pd.Series(dtype=float),
            "state": pd.Series(dtype=object)}
    if annotations is None or not len(annotations):
        return pd.DataFrame(cols)
    states = [_label(d) for d in annotations["description"]]
    keep = np.array([s is not None for s in states])
    if not keep.any():
        return pd.DataFrame(cols)
    a = annotations.loc[keep, ["onset", "duration"]].astype(float).assign(
        state=[s for s in states if s is not None]).sort_values("onset", kind="stable")
    onset = a["onset"].to_numpy()
    dur = np.nan_to_num(a["duration"].to_numpy(), nan=0.0)
    nxt = np.r_[onset[1:], max(float(duration_s), onset[-1])]
    # a stage lasts its own duration, or until the next stage when none is written; a later
    # stage always ends the one before
    end = np.where(dur > 0, np.minimum(onset + dur, nxt), nxt)
    end = np.maximum(end, onset)
    st = a["state"].to_numpy()
    rows: list[list] = []
    for o, e, s in zip(onset, end, st, strict=True):
        if rows and rows[-1][2] == s and abs(rows[-1][1] - o) < 1e-6:
            rows[-1][1] = e
        else:
            rows.append([o, e, s])
    out = pd.DataFrame(rows, columns=["onset", "end", "state"])
    out["duration"] = out["end"] - out["onset"]
    return out[["onset", "duration", "state"]].reset_index(drop=True)


def state_at(times: np.ndarray, stages: pd.DataFrame) -> np.ndarray:
    """The scored state at each time (s), ``unknown`` outside the scored stretches.

    Parameters
    ----------
    times : ndarray
        Seconds from the recording start.
    stages : DataFrame
        The output of :func:`sleep_stages`.

    Returns
    -------
    ndarray of str
    """
    k = _stretch(times, stages)
    out = np.full(k.size, "unknown", dtype=object)
    out[k >= 0] = stages["state"].to_numpy()[k[k >= 0]]
    return out


def _stretch(times, stages: pd.DataFrame) -> np.ndarray:
    """Index of the scored stretch of ``stages`` that holds each time, -1 outside them."""
    times = np.asarray(times, dtype=float)
    if not len(stages) or not times.size:
        return np.full(times.size, -1)
    s_on = stages["onset"].to_numpy(float)
    s_end = s_on + stages["duration"].to_numpy(float)
    k = np.searchsorted(s_on, times, side="right") - 1
    inside = (k >= 0) & (times < s_end[np.clip(k, 0, None)])
    return np.where(inside, k, -1)


def cluster_states(onsets: np.ndarray, stages: pd.DataFrame,
                   waking_window_s: float = WAKING_WINDOW_S) -> pd.DataFrame:
    """Where each cluster onset falls in the hypnogram.

    Parameters
    ----------
    onsets : ndarray
        Cluster onsets (s from the recording start).
    stages : DataFrame
        The output of :func:`sleep_stages`.
    waking_window_s : float
        Longest time from the end of sleep to a cluster that starts awake for it to count as
        on waking.

    Returns
    -------
    DataFrame
        One row per onset: ``state`` (the state at the onset; ``unknown`` outside the scored
        stretches), ``since_sleep_s`` (for a cluster that starts awake: seconds since the last
        sleep stretch ended, when wake was scored all the way in between; else NaN),
        ``after`` (the sleep state that ended: ``nrem`` or ``rem``; else None) and
        ``on_waking`` (bool).
    """
    onsets = np.asarray(onsets, dtype=float)
    n = onsets.size
    state = state_at(onsets, stages)
    since = np.full(n, np.nan)
    after: list[str | None] = [None] * n
    if len(stages):
        s_on = stages["onset"].to_numpy(float)
        s_end = s_on + stages["duration"].to_numpy(float)
        s_st = stages["state"].to_numpy()
        for i, k in enumerate(_stretch(onsets, stages)):
            if k < 0 or s_st[k] != "wake":
                continue
            # walk back through wake scored without a gap to the sleep that ended it
            j = k
            while j > 0 and s_st[j - 1] == "wake" and abs(s_end[j - 1] - s_on[j]) < 1e-6:
                j -= 1
            if j > 0 and s_st[j - 1] in ("nrem", "rem") and abs(s_end[j - 1] - s_on[j]) < 1e-6:
                since[i] = onsets[i] - s_on[j]
                after[i] = s_st[j - 1]
    on_waking = (state == "wake") & np.isfinite(since) & (np.nan_to_num(since, nan=np.inf)
                                                          <= waking_window_s)
    out = pd.DataFrame({"state": state, "since_sleep_s": since, "on_waking": on_waking})
    out.insert(2, "after", pd.Series(after, dtype=object))
    return out


def read_hypnogram(path: str | Path) -> pd.DataFrame:
    """Read a hypnogram kept beside the recording: a TSV (or ``.csv``) table with ``onset``
    (s from the recording start), optional ``duration`` (s; empty or ``n/a``: until the next
    stage), and the stage in a column named
    ``stage``, ``description``, ``trial_type`` or ``value`` (labels as in this module's
    docstring).

    Parameters
    ----------
    path : str or Path
        The table.

    Returns
    -------
    DataFrame
        ``onset``, ``duration``, ``description``: rows to add to the recording's annotations.

    Raises
    ------
    InputError
        The file is missing or unreadable, lacks a column, has a non-numeric onset or duration,
        or names no sleep stage.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "hypnogram not found")
    try:
        table = pd.read_csv(path, sep="," if path.suffix.lower() == ".csv" else "\t",
                            na_values=["n/a"])
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, f"cannot read the hypnogram as a table ({exc})") from None
    cols = {c.strip().lower(): c for c in table.columns.astype(str)}
    label = next((cols[c] for c in ("stage", "description", "trial_type", "value") if c in cols),
                 None)
    if "onset" not in cols or label is None:
        raise InputError(path, "a hypnogram needs an 'onset' column and a 'stage' (or "
                               "'description', 'trial_type', 'value') column; found: "
                               + ", ".join(map(str, table.columns)))
    onset = pd.to_numeric(table[cols["onset"]], errors="coerce")
    # a missing duration (empty, or BIDS "n/a") lasts until the next stage
    raw = table[cols["duration"]] if "duration" in cols else pd.Series(0.0, index=table.index)
    duration = pd.to_numeric(raw, errors="coerce")
    duration = duration.where(raw.notna(), 0.0)
    if onset.isna().any() or (onset < 0).any():
        raise InputError(path, "every onset must be a number of seconds from the recording "
                               "start (0 or more)")
    if duration.isna().any() or (duration < 0).any():
        raise InputError(path, "every duration must be a number of seconds (0 or more)")
    out = pd.DataFrame({"onset": onset.astype(float), "duration": duration.astype(float),
                        "description": table[label].astype(str)})
    if not any(_label(d) is not None for d in out["description"]):
        raise InputError(path, "no sleep stage recognised in column "
                               f"'{label}' (expected W, N1-N3, R, 'Sleep stage 2', ...)")
    return out


def bids_events_stages(path: str | Path | None) -> pd.DataFrame:
    """Sleep-stage rows of the BIDS events file beside a recording (``sub-01_task-x_eeg.edf`` ->
    ``sub-01_task-x_events.tsv``), as annotation rows; empty when there is no such file, it
    cannot be read, or it names no stage (its other rows are not this module's business).

    Parameters
    ----------
    path : str or Path or None
        The recording.

    Returns
    -------
    DataFrame
        ``onset``, ``duration``, ``description``.
    """
    empty = pd.DataFrame({"onset": pd.Series(dtype=float), "duration": pd.Series(dtype=float),
                          "description": pd.Series(dtype=object)})
    if path is None:
        return empty
    path = Path(path)
    base = path.name[: -len(path.suffix)] if path.suffix else path.name
    if not base.endswith("_eeg"):
        return empty
    sidecar = path.with_name(base[: -len("_eeg")] + "_events.tsv")
    if not sidecar.is_file():
        return empty
    try:
        rows = read_hypnogram(sidecar)
    except Exception:  # noqa: BLE001 - a sidecar must never stop the analysis of its recording
        return empty
    return rows[stage_rows(rows)].reset_index(drop=True)
