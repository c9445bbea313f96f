"""Scoring detections against reference annotations with the ``timescoring`` library.

Two levels, so that numbers compare with the seizure-detection literature (SzCORE, Dan et al.
2025):

* **per spasm**: tight tolerance (1 s before, 1 s after), no merging of neighbouring events, no
  splitting: every spasm must be found on its own.
* **per cluster**: the SzCORE defaults (30 s before / 60 s after, events < 90 s apart merged,
  events split at 300 s): a whole cluster counts as one event.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from timescoring import scoring
from timescoring.annotations import Annotation

from hypsa.errors import InputError, ParameterError
from hypsa.export import read_events

__all__ = ["LEVELS", "Score", "score_events", "evaluate_files", "evaluate_folders"]

#: timescoring parameters of each level.
LEVELS: dict[str, dict[str, float]] = {
    "spasm": {"toleranceStart": 1.0, "toleranceEnd": 1.0, "minOverlap": 0.0,
              "maxEventDuration": 1e9, "minDurationBetweenEvents": 0.0},
    "cluster": {"toleranceStart": 30.0, "toleranceEnd": 60.0, "minOverlap": 0.0,
                "maxEventDuration": 300.0, "minDurationBetweenEvents": 90.0},
}


@dataclass
class Score:
    """Event-based scores of one level."""

    level: str
    n_ref: int
    n_hyp: int
    tp: int
    fp: int
    sensitivity: float
    precision: float
    f1: float
    fp_per_hour: float
    hours: float

    def to_dict(self) -> dict:
        """Plain dictionary."""
        return asdict(self)


def _annotation(df: pd.DataFrame, duration_s: float, fs: int = 10) -> Annotation:
    n = int(round(duration_s * fs))
    events = []
    for on, du in zip(df["onset"].astype(float), df["duration"].astype(float), strict=True):
        start = max(0.0, on)
        stop = min(duration_s, on + max(du, 1.0 / fs))
        if stop > start:
            events.append((start, stop))
    return Annotation(events, fs, n)


def score_events(ref: pd.DataFrame, hyp: pd.DataFrame, duration_s: float,
                 level: str = "spasm") -> Score:
    """Score hypothesis events against reference events.

    Parameters
    ----------
    ref, hyp : DataFrame
        Events with ``onset`` and ``duration`` in seconds (background rows removed).
    duration_s : float
        Recording duration in seconds.
    level : {"spasm", "cluster"}
        Scoring level (see module docstring).

    Returns
    -------
    Score
    """
    if level not in LEVELS:
        raise ParameterError(f"level must be one of {sorted(LEVELS)}, not {level!r}")
    if duration_s <= 0:
        raise ParameterError("recording duration must be positive")
    p = scoring.EventScoring.Parameters(**LEVELS[level])
    s = scoring.EventScoring(_annotation(ref, duration_s), _annotation(hyp, duration_s), p)
    hours = duration_s / 3600.0
    return Score(level=level, n_ref=int(s.refTrue), n_hyp=int(len(s.hyp.events)), tp=int(s.tp),
                 fp=int(s.fp), sensitivity=float(s.sensitivity), precision=float(s.precision),
                 f1=float(s.f1), fp_per_hour=float(s.fp / hours), hours=hours)


def _duration(path: Path, *tables: pd.DataFrame) -> float:
    raw = pd.read_csv(path, sep="\t")
    if "recordingDuration" in raw and pd.to_numeric(raw["recordingDuration"],
                                                    errors="coerce").notna().any():
        return float(pd.to_numeric(raw["recordingDuration"], errors="coerce").max())
    ends = [float((t.onset + t.duration).max()) for t in tables if len(t)]
    if not ends:
        raise InputError(path, "no recordingDuration column and no events to infer the duration")
    return max(ends)


def evaluate_files(ref_path: str | Path, hyp_path: str | Path,
                   duration_s: float | None = None) -> dict[str, Score]:
    """Score one hypothesis events TSV against one reference TSV at both levels."""
    ref = read_events(ref_path)
    hyp = read_events(hyp_path)
    dur = duration_s if duration_s is not None else _duration(Path(ref_path), ref, hyp)
    return {lv: score_events(ref, hyp, dur, lv) for lv in LEVELS}


def evaluate_folders(ref_dir: str | Path, hyp_dir: str | Path) -> pd.DataFrame:
    """Score every reference ``*events.tsv`` against the hypothesis file of the same recording.

    Files are paired by the name before ``_events.tsv`` / ``.events.tsv``. Returns one row per
    recording and level, plus ``ALL`` rows that pool the counts (micro-average).
    """
    ref_dir, hyp_dir = Path(ref_dir), Path(hyp_dir)

    def key(p: Path) -> str:
        n = p.name
        for suf in ("_events.tsv", ".events.tsv"):
            if n.endswith(suf):
                return n[: -len(suf)]
        return p.stem

    hyps = {key(p): p for p in hyp_dir.rglob("*events.tsv")}
    rows = []
    for rp in sorted(ref_dir.rglob("*events.tsv")):
        k = key(rp)
        if k not in hyps:
            continue
        for sc in evaluate_files(rp, hyps[k]).values():
            rows.append({"recording": k, **sc.to_dict()})
    if not rows:
        raise InputError(ref_dir, f"no reference events.tsv matched a file in {hyp_dir}")
    df = pd.DataFrame(rows)
    for lv, g in df.groupby("level"):
        tp, fp, nref, hours = g.tp.sum(), g.fp.sum(), g.n_ref.sum(), g.hours.sum()
        sens = tp / nref if nref else np.nan
        prec = tp / (tp + fp) if tp + fp else np.nan
        f1 = 2 * tp / (2 * tp + fp + (nref - tp)) if (nref + fp) else np.nan
        rows.append({"recording": "ALL", "level": lv, "n_ref": int(nref),
                     "n_hyp": int(g.n_hyp.sum()), "tp": int(tp), "fp": int(fp),
                     "sensitivity": sens, "precision": prec, "f1": f1,
                     "fp_per_hour": fp / hours if hours else np.nan, "hours": hours})
    return pd.DataFrame(rows)
