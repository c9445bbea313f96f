"""Exports: SzCORE / BIDS events tables and EDF+ annotations that EEG viewers open."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from hypsa.errors import InputError, UnsupportedFormatError

__all__ = ["EVENTS_COLUMNS", "events_frame", "export_annotations", "read_events"]

#: Column order of ``events.tsv`` (SzCORE layout plus ``trial_type`` for mne-bids).
EVENTS_COLUMNS = ["onset", "duration", "eventType", "trial_type", "confidence", "channels",
                  "dateTime", "recordingDuration", "cluster", "features"]


def events_frame(events: pd.DataFrame, start_time: datetime | None,
                 recording_duration: float) -> pd.DataFrame:
    """Events in the SzCORE / BIDS layout.

    A recording without events gets a single ``bckg`` row spanning it, as SzCORE requires.

    Parameters
    ----------
    events : DataFrame
        Detected spasms with at least ``onset``, ``duration``, ``confidence``.
    start_time : datetime or None
        Recording start (for ``dateTime``).
    recording_duration : float
        Recording duration in seconds.

    Returns
    -------
    DataFrame with :data:`EVENTS_COLUMNS`.
    """
    def stamp(onset: float) -> str:
        if start_time is None:
            return "n/a"
        return (start_time + timedelta(seconds=float(onset))).strftime("%Y-%m-%d %H:%M:%S")

    if len(events) == 0:
        return pd.DataFrame([{
            "onset": 0.0, "duration": float(recording_duration), "eventType": "bckg",
            "trial_type": "bckg", "confidence": "n/a", "channels": "n/a",
            "dateTime": stamp(0.0), "recordingDuration": float(recording_duration),
            "cluster": "n/a", "features": "n/a",
        }], columns=EVENTS_COLUMNS)
    df = pd.DataFrame({
        "onset": events["onset"].astype(float).round(3),
        "duration": events["duration"].astype(float).round(3),
        "eventType": events.get("eventType", "sz_gen_m_spasms"),
        "trial_type": events["trial_type"] if "trial_type" in events
        else events.get("eventType", "sz_gen_m_spasms"),
        "confidence": events["confidence"].astype(float).round(3)
        if "confidence" in events else 1.0,
        "channels": events["channels"] if "channels" in events else "n/a",
        "dateTime": [stamp(o) for o in events["onset"]],
        "recordingDuration": float(recording_duration),
        # an eeg_decrement belongs to no cluster (cluster -1)
        "cluster": events["cluster"].astype(object).where(events["cluster"] != -1, "n/a")
        if "cluster" in events else "n/a",
        "features": events["features"] if "features" in events else "n/a",
    })
    return df[EVENTS_COLUMNS]


def read_events(path: str | Path) -> pd.DataFrame:
    """Read an events TSV (SzCORE/BIDS) and return its non-background rows.

    Raises
    ------
    InputError
        When the file is missing or lacks ``onset`` / ``duration`` columns.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "events file not found")
    try:
        df = pd.read_csv(p, sep="\t")
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(p, f"not a tab-separated events table ({exc})") from None
    missing = {"onset", "duration"} - set(df.columns)
    if missing:
        raise InputError(p, f"events table lacks column(s) {sorted(missing)}")
    kind = df["eventType"] if "eventType" in df else df.get("trial_type")
    if kind is not None:
        df = df[kind.astype(str) != "bckg"]
    df = df.copy()
    df["onset"] = pd.to_numeric(df["onset"], errors="coerce")
    df["duration"] = pd.to_numeric(df["duration"], errors="coerce")
    if df[["onset", "duration"]].isna().any().any():
        raise InputError(p, "onset/duration must be numbers (seconds)")
    return df.sort_values("onset").reset_index(drop=True)


def export_annotations(src: str | Path, events: pd.DataFrame, out: str | Path,
                       min_cluster_size: int = 2, note: str | None = None) -> Path:
    """Write an EDF+ file that opens in EDFbrowser and MNE with the detected spasms as
    annotations, and one annotation per cluster spanning it (``hypsa cluster N: K spasms``),
    so that a reader can step from cluster to cluster in the viewer's annotation list.

    For EDF/EDF+C/BDF sources the output is a copy of the recording with the annotations added
    (signals unchanged); otherwise (other formats, discontinuous EDF+D) it is an annotation-only
    EDF+ file to load beside the recording.

    Parameters
    ----------
    src : path
        The analysed recording (never modified).
    events : DataFrame
        Spasms with ``onset``, ``duration`` and optionally ``confidence`` and ``cluster``.
    out : path
        Output ``.edf`` (or ``.bdf`` for BDF sources).
    min_cluster_size : int
        Fewest spasms a cluster annotation is written for (``SpasmParams.min_cluster_size``).
    note : str, optional
        Text of one more annotation at the start of the recording (onset 0), e.g.
        ``hypsa reviewed by <user> <time>`` for an export of reviewed events.

    Returns
    -------
    Path
    """
    import edfio

    src = Path(src)
    out = Path(out)
    if out.resolve() == src.resolve():
        raise InputError(out, "refusing to overwrite the input recording")
    anns = [edfio.EdfAnnotation(0.0, None, note)] if note else []
    for _, e in events.iterrows():
        txt = "hypsa spasm"
        if "confidence" in e and pd.notna(e["confidence"]):
            txt += f" conf={float(e['confidence']):.2f}"
        if "cluster" in e and pd.notna(e["cluster"]):
            txt += f" cluster={int(e['cluster']) + 1}"
        anns.append(edfio.EdfAnnotation(float(e["onset"]), float(e["duration"]), txt))
    if "cluster" in events and len(events):
        clustered = events[pd.to_numeric(events["cluster"], errors="coerce").notna()]
        for c, grp in clustered.groupby(clustered["cluster"].astype(int)):
            if len(grp) < min_cluster_size:
                continue
            t0 = float(grp["onset"].min())
            t1 = float((grp["onset"] + grp["duration"]).max())
            anns.append(edfio.EdfAnnotation(t0, t1 - t0,
                                            f"hypsa cluster {int(c) + 1}: {len(grp)} spasms"))
    edf = None
    if src.suffix.lower() in (".edf", ".bdf"):
        try:
            edf = edfio.read_edf(src, lazy_load_data=True)
            if not edf.is_continuous:
                edf = None
        except Exception:  # noqa: BLE001 - fall back to an annotation-only file
            edf = None
    if edf is None:
        from hypsa.io import read

        rec = read(src)
        dur = max(1.0, float(rec.duration_s))
        n = int(dur) + 1
        sig = edfio.EdfSignal(np.zeros(n), 1.0, label="hypsa annotations",
                              physical_range=(-1, 1))
        start = rec.start_time
        edf = edfio.Edf([sig], annotations=anns,
                        starttime=start.time().replace(microsecond=0) if start else None)
        if start:
            edf.startdate = start.date()
    else:
        edf.add_annotations(anns)
    if out.suffix.lower() not in (".edf", ".bdf"):
        raise UnsupportedFormatError(out, "annotation export writes .edf (or .bdf for BDF)")
    edf.write(out)
    return out
