"""Reviewed events and grade: a recording's detected spasms with the reviewers' decisions applied.

Pure functions of an :class:`~hypsa.web.db.AnalysisRow` and its :class:`~hypsa.web.db.Review`
rows, so counts, exports and the patient view all use the same reviewed view.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["effective_events", "effective_grade", "counted_frame", "reviewed_summary"]


def _who(names: dict[int, str], uid: int | None) -> str:
    return names.get(uid, f"user {uid}") if uid is not None else ""


def effective_events(analysis: Any, reviews: list[Any], names: dict[int, str] | None = None
                     ) -> list[dict]:
    """Detected and added events with the latest decision on each.

    Parameters
    ----------
    analysis : AnalysisRow
        Its ``events`` are the detected spasms (``onset``, ``duration``, ``confidence``,
        ``cluster``).
    reviews : list of Review
        Reviews of the recording, any order.
    names : dict, optional
        ``user id -> user name`` for the ``reviewer`` field.

    Returns
    -------
    list of dict
        Sorted by onset: ``key, onset, duration, confidence, source ("detected" | "added"),
        status ("unreviewed" | "confirmed" | "rejected" | "added"), counted (bool), reviewer,
        reviewed_at, comment``.
    """
    names = names or {}
    out: dict[str, dict] = {}
    for i, e in enumerate(analysis.events or []):
        out[f"d{i}"] = {"key": f"d{i}", "onset": float(e["onset"]),
                        "duration": float(e["duration"]),
                        "confidence": e.get("confidence"), "source": "detected",
                        "status": "unreviewed", "counted": True, "reviewer": "",
                        "reviewed_at": None, "comment": ""}
    for r in sorted(reviews, key=lambda r: (r.created_at, r.id)):
        if r.analysis_id != analysis.id:
            continue
        if r.kind == "add":
            key = f"a{r.id}"
            out[key] = {"key": key, "onset": float(r.onset), "duration": float(r.duration),
                        "confidence": None, "source": "added", "status": "added",
                        "counted": True, "reviewer": _who(names, r.reviewer_id),
                        "reviewed_at": r.created_at.isoformat(timespec="seconds"),
                        "comment": r.comment}
        elif r.kind in ("confirm", "reject") and r.event_key in out:
            e = out[r.event_key]
            e["status"] = "confirmed" if r.kind == "confirm" else "rejected"
            e["counted"] = r.kind == "confirm"
            e["reviewer"] = _who(names, r.reviewer_id)
            e["reviewed_at"] = r.created_at.isoformat(timespec="seconds")
            e["comment"] = r.comment
    return sorted(out.values(), key=lambda e: (e["onset"], e["key"]))


def effective_grade(analysis: Any, reviews: list[Any], names: dict[int, str] | None = None
                    ) -> dict:
    """The BASED grade with the latest overrule applied.

    Returns
    -------
    dict
        ``grade, detected, overruled, present, comment, reviewer, reviewed_at``.
    """
    names = names or {}
    detected = analysis.based_score
    out = {"grade": detected, "detected": detected, "overruled": False, "comment": "",
           "reviewer": "", "reviewed_at": None}
    for r in sorted(reviews, key=lambda r: (r.created_at, r.id)):
        if r.kind == "grade" and r.analysis_id == analysis.id:
            out.update(grade=r.grade, overruled=r.grade != detected, comment=r.comment,
                       reviewer=_who(names, r.reviewer_id),
                       reviewed_at=r.created_at.isoformat(timespec="seconds"))
    out["present"] = out["grade"] is not None and int(out["grade"]) >= 4
    return out


def counted_frame(events: list[dict], cluster_gap_s: float = 60.0) -> pd.DataFrame:
    """The counted (not rejected) events as a DataFrame for :func:`hypsa.export`.

    Clusters are recomputed from the reviewed onsets.
    """
    from hypsa.spasms import cluster_spasms

    rows = [e for e in events if e["counted"]]
    df = pd.DataFrame({
        "onset": [float(e["onset"]) for e in rows],
        "duration": [float(e["duration"]) for e in rows],
        "confidence": [np.nan if e["confidence"] is None else float(e["confidence"])
                       for e in rows],
    })
    df["cluster"] = cluster_spasms(df["onset"].to_numpy(), cluster_gap_s) if len(df) else []
    return df


def reviewed_summary(analysis: Any, reviews: list[Any], names: dict[int, str] | None = None
                     ) -> dict:
    """Counts and grade after review: ``count, detected_count, per_hour, n_clusters, grade``."""
    ev = effective_events(analysis, reviews, names)
    s = analysis.summary or {}
    gap = float((s.get("spasms") or {}).get("cluster_gap_s") or 60.0)
    min_size = int((s.get("spasms") or {}).get("min_cluster_size") or 1)
    df = counted_frame(ev, gap)
    hours = float(s.get("recorded_s") or s.get("duration_s") or 0.0) / 3600.0
    n = int(len(df))
    return {
        "count": n,
        "detected_count": int(analysis.n_spasms),
        "per_hour": n / hours if hours > 0 else 0.0,
        "per_24h": n / hours * 24 if hours > 0 else 0.0,
        "n_clusters": int((df["cluster"].value_counts() >= min_size).sum()) if n else 0,
        "reviewed": any(e["status"] != "unreviewed" for e in ev),
        "grade": effective_grade(analysis, reviews, names),
    }
