"""Reviewed events and grade: a recording's detected spasms with the reviewers' decisions applied.

Pure functions of an :class:`~hypsa.web.db.AnalysisRow` and its :class:`~hypsa.web.db.Review`
rows, so counts, exports, the report and the patient view all use the same reviewed view; and
:func:`carry_over`, which moves a recording's decisions onto its next analysis.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hypsa.rates import MIN_HOURS_FOR_24H, spasm_rate
from hypsa.verdict import PRESENT_FROM, hypsarrhythmia_verdict

__all__ = [
    "effective_events", "effective_grade", "counted_frame", "reviewed_summary", "carry_over",
    "pending", "spasm_rate", "CARRY_TOLERANCE_S", "NOT_SPASM_TYPES", "MIN_HOURS_FOR_24H",
]

#: An event of the new analysis takes over a decision on an old one when their onsets differ
#: by at most this much (s).
CARRY_TOLERANCE_S = 1.0
#: Event types listed apart and not counted as spasms unless a reviewer confirms them.
NOT_SPASM_TYPES = ("eeg_decrement",)


def _who(names: dict[int, str], uid: int | None) -> str:
    return names.get(uid, f"user {uid}") if uid is not None else ""


def _at(r: Any) -> str:
    return r.created_at.isoformat(timespec="seconds")


def _ordered(reviews: list[Any], analysis: Any) -> list[Any]:
    return sorted((r for r in reviews if r.analysis_id == analysis.id),
                  key=lambda r: (r.created_at, r.id))


def effective_events(analysis: Any, reviews: list[Any], names: dict[int, str] | None = None
                     ) -> list[dict]:
    """Detected and added events with the latest decision on each.

    Parameters
    ----------
    analysis : AnalysisRow
        Its ``events`` are the detected events (``onset``, ``duration``, ``confidence``,
        ``cluster``, optionally ``trial_type``).
    reviews : list of Review
        Reviews of the recording, any order (those of other analyses are ignored).
    names : dict, optional
        ``user id -> user name`` for the ``reviewer`` field.

    Returns
    -------
    list of dict
        Sorted by onset: ``key, onset, duration, confidence, type, source ("detected" |
        "added"), status ("unreviewed" | "confirmed" | "rejected" | "added"), counted (bool),
        reviewer, reviewed_at, comment, carried`` (the decision came from an earlier analysis).
        Events whose ``type`` is in :data:`NOT_SPASM_TYPES` are not counted unless confirmed.
    """
    names = names or {}
    out: dict[str, dict] = {}
    for i, e in enumerate(analysis.events or []):
        typ = str(e.get("trial_type") or "spasm")
        out[f"d{i}"] = {"key": f"d{i}", "onset": float(e["onset"]),
                        "duration": float(e["duration"]),
                        "confidence": e.get("confidence"), "type": typ, "source": "detected",
                        "status": "unreviewed", "counted": typ not in NOT_SPASM_TYPES,
                        "reviewer": "", "reviewed_at": None, "comment": "", "carried": False}
    for r in _ordered(reviews, analysis):
        if r.kind == "add":
            key = f"a{r.id}"
            out[key] = {"key": key, "onset": float(r.onset), "duration": float(r.duration),
                        "confidence": None, "type": "spasm", "source": "added",
                        "status": "added", "counted": True,
                        "reviewer": _who(names, r.reviewer_id), "reviewed_at": _at(r),
                        "comment": r.comment, "carried": r.carried_from is not None}
        elif r.kind in ("confirm", "reject") and r.event_key in out:
            e = out[r.event_key]
            e["status"] = "confirmed" if r.kind == "confirm" else "rejected"
            e["counted"] = r.kind == "confirm"
            e["reviewer"] = _who(names, r.reviewer_id)
            e["reviewed_at"] = _at(r)
            e["comment"] = r.comment
            e["carried"] = r.carried_from is not None
    return sorted(out.values(), key=lambda e: (e["onset"], e["key"]))


def pending(analysis: Any, reviews: list[Any], names: dict[int, str] | None = None
            ) -> list[dict]:
    """Decisions of an earlier analysis that could not be carried and are not yet settled.

    Returns
    -------
    list of dict
        ``key ("u<id>"), onset, duration, was, reviewer, reviewed_at, comment``.
    """
    names = names or {}
    rows = _ordered(reviews, analysis)
    settled = {r.event_key for r in rows if r.kind == "resolve"}
    return [{"key": f"u{r.id}", "onset": r.onset, "duration": r.duration, "was": r.event_key,
             "reviewer": _who(names, r.reviewer_id), "reviewed_at": _at(r),
             "comment": r.comment}
            for r in rows if r.kind == "uncarried" and f"u{r.id}" not in settled]


def effective_grade(analysis: Any, reviews: list[Any], names: dict[int, str] | None = None
                    ) -> dict:
    """The BASED grade with the latest overrule applied, and both verdicts.

    Returns
    -------
    dict
        ``grade, detected, overruled, reviewed, present, verdict, machine_verdict,
        probability, comment, reviewer, reviewed_at, carried``. ``verdict`` is the reviewed
        one (``present`` when the reviewed grade is 4 or 5) where a reviewer graded, the
        machine's otherwise; ``machine_verdict`` is always the machine's.
    """
    names = names or {}
    detected = analysis.based_score
    h = (analysis.summary or {}).get("hypsarrhythmia") or {}
    machine = hypsarrhythmia_verdict({"based_score": detected, **h})["verdict"]
    out = {"grade": detected, "detected": detected, "overruled": False, "reviewed": False,
           "comment": "", "reviewer": "", "reviewed_at": None, "carried": False,
           "machine_verdict": machine, "probability": analysis.probability}
    for r in _ordered(reviews, analysis):
        if r.kind == "grade":
            out.update(grade=r.grade, overruled=r.grade != detected, reviewed=True,
                       comment=r.comment, reviewer=_who(names, r.reviewer_id),
                       reviewed_at=_at(r), carried=r.carried_from is not None)
    if out["reviewed"]:
        out["verdict"] = "present" if int(out["grade"]) >= PRESENT_FROM else "absent"
    else:
        out["verdict"] = machine
    out["present"] = out["verdict"] == "present"
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


def _analysed_hours(summary: dict) -> tuple[float, float]:
    sp = summary.get("spasms") or {}
    rate = sp.get("rate") or {}
    min_h = float(rate.get("min_hours_for_24h") or MIN_HOURS_FOR_24H)
    if rate.get("analysed_h") is not None:
        return float(rate["analysed_h"]), min_h
    s = summary.get("analysed_s") or summary.get("recorded_s") or summary.get("duration_s")
    return float(s or 0.0) / 3600.0, min_h


def reviewed_summary(analysis: Any, reviews: list[Any], names: dict[int, str] | None = None
                     ) -> dict:
    """Counts, rate and grade after review.

    Returns
    -------
    dict
        ``count, detected_count, rate`` (:func:`hypsa.rates.spasm_rate` of the reviewed
        count, on the analysed hours of ``summary.json``),
        ``per_hour, per_24h`` (from ``rate``; ``per_24h`` None below the minimum time),
        ``n_clusters, reviewed`` (any decision), ``events_reviewed`` (a decision on an event),
        ``pending, last_review {reviewer, at}, grade``.
    """
    names = names or {}
    ev = effective_events(analysis, reviews, names)
    s = analysis.summary or {}
    gap = float((s.get("spasms") or {}).get("cluster_gap_s") or 60.0)
    min_size = int((s.get("spasms") or {}).get("min_cluster_size") or 1)
    df = counted_frame(ev, gap)
    hours, min_h = _analysed_hours(s)
    n = int(len(df))
    rate = spasm_rate(n, hours, min_h)
    mine = _ordered(reviews, analysis)
    decisions = [r for r in mine if r.kind in ("confirm", "reject", "add", "grade")]
    last = decisions[-1] if decisions else None
    return {
        "count": n,
        "detected_count": int(analysis.n_spasms),
        "rate": rate,
        "per_hour": rate["per_hour"],
        "per_24h": rate["per_24h"],
        "n_clusters": int((df["cluster"].value_counts() >= min_size).sum()) if n else 0,
        "reviewed": bool(decisions),
        "events_reviewed": any(r.kind in ("confirm", "reject", "add") for r in decisions),
        "pending": len(pending(analysis, reviews, names)),
        "last_review": ({"reviewer": _who(names, last.reviewer_id), "at": _at(last)}
                        if last is not None else None),
        "grade": effective_grade(analysis, reviews, names),
    }


def carry_over(old: Any, reviews: list[Any], new: Any,
               tolerance_s: float = CARRY_TOLERANCE_S) -> list[dict]:
    """The decisions on ``old`` re-expressed on ``new`` (a later analysis of the same EEG).

    * the latest grade overrule is kept, with its comment;
    * a decision on a detected event goes to the new detected event nearest in onset within
      ``tolerance_s`` (each new event takes at most one); a *rejected* event the new analysis
      no longer detects needs nothing; a *confirmed* one becomes ``uncarried``;
    * an added event stays added, or confirms the new detected event that now covers it;
    * a decision that could not be carried before and is still unsettled stays ``uncarried``.

    Reviewer and time of every decision are kept; ``carried_from`` names the original row.

    Parameters
    ----------
    old, new : AnalysisRow
        The previous and the new analysis of one recording.
    reviews : list of Review
        The recording's reviews (those of ``old`` are used).
    tolerance_s : float
        Largest onset difference for two events to be taken as the same (s).

    Returns
    -------
    list of dict
        Keyword arguments of new :class:`~hypsa.web.db.Review` rows (without
        ``recording_id`` and ``analysis_id``).
    """
    rows = _ordered(reviews, old)
    old_ev = {e["key"]: e for e in effective_events(old, rows)}
    new_on = np.array([float(e["onset"]) for e in (new.events or [])], dtype=float)
    taken: set[int] = set()

    def match(onset: float) -> int | None:
        if not len(new_on):
            return None
        d = np.abs(new_on - onset)
        for i in np.argsort(d, kind="stable"):
            if d[i] > tolerance_s:
                return None
            if int(i) not in taken:
                taken.add(int(i))
                return int(i)
        return None

    def base(r: Any) -> dict:
        return {"reviewer_id": r.reviewer_id, "created_at": r.created_at,
                "carried_from": r.carried_from or r.id, "comment": r.comment or ""}

    out: list[dict] = []
    grades = [r for r in rows if r.kind == "grade"]
    if grades:
        out.append({**base(grades[-1]), "kind": "grade", "grade": grades[-1].grade})
    # the latest decision per detected event, in onset order (deterministic matching)
    latest: dict[str, Any] = {}
    for r in rows:
        if r.kind in ("confirm", "reject") and r.event_key in old_ev:
            latest[r.event_key] = r
    adds = {f"a{r.id}": r for r in rows if r.kind == "add"}
    for key in sorted(latest, key=lambda k: old_ev[k]["onset"]):
        r, e = latest[key], old_ev[key]
        if key in adds:  # a decision on an added event
            continue
        i = match(e["onset"])
        if i is not None:
            out.append({**base(r), "kind": r.kind, "event_key": f"d{i}"})
        elif r.kind == "confirm":
            out.append({**base(r), "kind": "uncarried", "event_key": key, "onset": e["onset"],
                        "duration": e["duration"],
                        "comment": f"confirmed {e['onset']:.2f} s, no longer detected "
                                   f"(nothing within {tolerance_s:g} s)"
                                   + (f"; comment: {r.comment}" if r.comment else "")})
    for key, r in sorted(adds.items(), key=lambda kv: float(kv[1].onset)):
        if not old_ev.get(key, {}).get("counted", True):
            continue  # added, then rejected
        i = match(float(r.onset))
        if i is not None:
            out.append({**base(r), "kind": "confirm", "event_key": f"d{i}",
                        "comment": (r.comment + " " if r.comment else "")
                        + "(added before; now detected)"})
        else:
            out.append({**base(r), "kind": "add", "onset": r.onset, "duration": r.duration})
    for p in pending(old, rows):
        src = next(r for r in rows if f"u{r.id}" == p["key"])
        out.append({**base(src), "kind": "uncarried", "event_key": src.event_key,
                    "onset": src.onset, "duration": src.duration})
    return out
