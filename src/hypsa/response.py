"""Treatment response across serial recordings: ``hypsa response VISITS.csv``.

Each visit's recording is analysed (or its saved analysis reused); the per-visit markers (spasms
per 24 h, clusters, BASED grade, probability, amplitude, permutation entropy, connectivity) are
tabulated, and the electroclinical response is judged by a named, published definition. The
definitions are data (:data:`DEFINITIONS`) evaluated by small pure functions on per-day spasm
evidence (caregiver diary and/or the EEG of each visit), so they can be tested without EEG.

Days are counted from the first treatment ``start`` (day 0). A recording made on day 0 is taken as
the pre-treatment baseline.
"""

from __future__ import annotations

import base64
import io
import json
import math
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hypsa import DISCLAIMER, __version__
from hypsa.errors import InputError, ParameterError

__all__ = [
    "Definition",
    "DEFINITIONS",
    "Visit",
    "Treatment",
    "read_visits",
    "read_diary",
    "spasm_days",
    "evaluate",
    "visit_from_analysis",
    "response",
    "write_response_html",
]

#: BASED grade from which hypsarrhythmia is present (resolution = graded and below this).
PRESENT_FROM = 4


# ----------------------------------------------------------------------------- definitions
@dataclass(frozen=True)
class Definition:
    """A published definition of treatment response, as data.

    Attributes
    ----------
    key, name : str
        Identifier (``--definition``) and display name.
    source : str
        Where the definition comes from (docs/clinical-background.md).
    text : str
        The definition in words, as hypsa applies it.
    free_from : int
        First day (since treatment start) of the spasm-free window.
    free_to : int or None
        Last day of the window; ``None`` = dynamic (West Delphi: ``sustain_days`` after the last
        spasm, which must fall before ``free_from``).
    sustain_days : int or None
        Consecutive spasm-free days required after the last spasm (dynamic window only).
    requires_eeg : bool
        Whether resolution of hypsarrhythmia is part of the primary definition (electroclinical);
        otherwise it is reported as a secondary outcome.
    eeg_windows : tuple of (int, int)
        Day ranges; in each, the first visit's EEG must show no hypsarrhythmia (grade < 4).
    """

    key: str
    name: str
    source: str
    text: str
    free_from: int
    free_to: int | None
    sustain_days: int | None
    requires_eeg: bool
    eeg_windows: tuple[tuple[int, int], ...]


DEFINITIONS: dict[str, Definition] = {
    d.key: d
    for d in (
        Definition(
            "west-delphi", "West Delphi consensus",
            "Lux & Osborne 2004, Epilepsia (West Delphi group)",
            "Cessation of spasms: no spasms from day 14 after treatment start (the last spasm "
            "before day 14), lasting >= 28 consecutive days after the last spasm, by diary and "
            "EEG; electroclinical response = cessation + resolution of hypsarrhythmia (BASED < 4) "
            "on the first EEG from day 14 to day 42.",
            14, None, 28, True, ((14, 42),)),
        Definition(
            "ukiss", "UKISS", "Lux et al. 2004, Lancet (UKISS)",
            "No spasms on days 13 and 14 after treatment start; resolution of hypsarrhythmia on "
            "the first EEG from day 13 to day 42 is reported as a secondary outcome.",
            13, 14, None, False, ((13, 42),)),
        Definition(
            "iciss", "ICISS", "O'Callaghan et al. 2017, Lancet Neurol (ICISS)",
            "No witnessed spasms on and between days 14 and 42 after treatment start; "
            "electroclinical response (resolution on the first EEG from day 14 to 42) secondary.",
            14, 42, None, False, ((14, 42),)),
        Definition(
            "nisc", "US National Infantile Spasms Consortium",
            "Knupp et al. 2016, Ann Neurol (NISC)",
            "Clinical remission (no spasms from day 14) and resolution of hypsarrhythmia, "
            "sustained at 3 months: spasm-free days 14-90 and BASED < 4 on the first EEG from "
            "day 14 to 42 and on the first EEG from day 84 to 120.",
            14, 90, None, True, ((14, 42), (84, 120))),
    )
}


# ----------------------------------------------------------------------------- inputs
@dataclass
class Treatment:
    """One treatment event: ``start``, ``stop`` or ``change`` of a drug on a date."""

    date: date
    event: str
    drug: str
    dose: str = ""


@dataclass
class Visit:
    """One visit: its recording and the markers hypsa measured on it.

    Attributes
    ----------
    date : date
        Day of the recording.
    label : str
        Display label.
    recording : str or None
        Path of the EEG.
    spasms : int or None
        EEG-detected spasms (None = not analysed).
    per_24h : float or None
        Spasms per 24 h of recording.
    grade : int or None
        BASED grade (None = not graded).
    hours : float
        Recorded duration (h).
    markers : dict
        ``n_clusters, probability, median_amplitude_uv, perm_entropy, connectivity`` and the
        per-epoch medians.
    """

    date: date
    label: str = ""
    recording: str | None = None
    spasms: int | None = None
    per_24h: float | None = None
    grade: int | None = None
    hours: float = 0.0
    markers: dict = field(default_factory=dict)


def _date(v: Any, path: Path, row: int) -> date:
    try:
        return pd.Timestamp(str(v).strip()).date()
    except (ValueError, TypeError) as exc:
        raise InputError(path, f"row {row}: date {v!r} is not an ISO date (YYYY-MM-DD)") from exc


def _read_csv(path: str | Path) -> tuple[Path, pd.DataFrame]:
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "file not found")
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True,
                         comment="#")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(p, f"not a readable CSV ({exc})") from exc
    df.columns = [c.strip().lower() for c in df.columns]
    if "date" not in df:
        raise InputError(p, f"needs a 'date' column (found: {', '.join(df.columns)})")
    return p, df


def _treatment_rows(p: Path, df: pd.DataFrame, offset: int = 2) -> list[Treatment]:
    out = []
    for i, r in df.iterrows():
        ev = str(r.get("event", "")).strip().lower()
        if ev not in ("start", "stop", "change"):
            raise InputError(p, f"row {i + offset}: event must be start, stop or change, not "
                                f"{ev!r}")
        drug = str(r.get("drug", "")).strip()
        if not drug:
            raise InputError(p, f"row {i + offset}: treatment row without a drug")
        out.append(Treatment(_date(r["date"], p, i + offset), ev, drug,
                             str(r.get("dose", "")).strip()))
    return out


def read_visits(path: str | Path, treatments: str | Path | None = None
                ) -> tuple[list[dict], list[Treatment]]:
    """Read VISITS.csv (and an optional treatments CSV).

    VISITS.csv has a ``date`` column and rows of two kinds (column ``kind``; when absent a row
    with a ``recording`` is a recording and a row with an ``event`` a treatment):

    - ``kind=recording``: ``recording`` (path, relative to the CSV), optional ``label``;
    - ``kind=treatment``: ``event`` (start/stop/change), ``drug``, optional ``dose``.

    Parameters
    ----------
    path : str or Path
        VISITS.csv.
    treatments : str or Path, optional
        A CSV of treatment rows only (``date, event, drug, dose``).

    Returns
    -------
    recordings : list of dict
        ``date, recording (absolute path), label`` sorted by date.
    treatments : list of Treatment
        Sorted by date.
    """
    p, df = _read_csv(path)
    if "kind" not in df:
        rec = df["recording"] if "recording" in df else pd.Series("", index=df.index)
        df["kind"] = np.where(rec.str.strip() != "", "recording", "treatment")
    df["kind"] = df["kind"].str.strip().str.lower()
    bad = sorted(set(df["kind"]) - {"recording", "treatment"})
    if bad:
        raise InputError(p, f"kind must be recording or treatment, not {bad[0]!r}")
    recs = []
    for i, r in df[df["kind"] == "recording"].iterrows():
        f = str(r.get("recording", "")).strip()
        if not f:
            raise InputError(p, f"row {i + 2}: recording row without a 'recording' path")
        fp = Path(f) if Path(f).is_absolute() else p.parent / f
        recs.append({"date": _date(r["date"], p, i + 2), "recording": fp,
                     "label": str(r.get("label", "")).strip()})
    tr = _treatment_rows(p, df[df["kind"] == "treatment"]) if (df["kind"] == "treatment").any() \
        else []
    if treatments is not None:
        tp, tdf = _read_csv(treatments)
        tr += _treatment_rows(tp, tdf)
    if not recs:
        raise InputError(p, "no recording row (kind=recording with a 'recording' path)")
    recs.sort(key=lambda r: r["date"])
    tr.sort(key=lambda t: t.date)
    return recs, tr


def read_diary(path: str | Path) -> pd.DataFrame:
    """Read a seizure diary: ``date, time, spasms`` (one row per witnessed cluster).

    The diary is taken to cover every day from its first to its last date: a day without a row
    is a day without spasms. Write a row with ``spasms=0`` to extend the covered period.

    Returns
    -------
    DataFrame
        ``date`` (datetime.date) and ``spasms`` (int).
    """
    p, df = _read_csv(path)
    if "spasms" not in df:
        raise InputError(p, "needs a 'spasms' column (spasms in the cluster)")
    rows = []
    for i, r in df.iterrows():
        try:
            n = int(float(r["spasms"]))
        except ValueError as exc:
            raise InputError(p, f"row {i + 2}: spasms {r['spasms']!r} is not a number") from exc
        if n < 0:
            raise InputError(p, f"row {i + 2}: negative spasm count")
        rows.append({"date": _date(r["date"], p, i + 2), "spasms": n})
    if not rows:
        raise InputError(p, "diary has no rows")
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- evidence
def spasm_days(visits: list[Visit], diary: pd.DataFrame | None, start: date
               ) -> dict[int, dict]:
    """Per-day spasm evidence, keyed by day since treatment start.

    Parameters
    ----------
    visits : list of Visit
        Visits with EEG spasm counts.
    diary : DataFrame or None
        From :func:`read_diary`.
    start : date
        Treatment start (day 0).

    Returns
    -------
    dict
        ``day -> {"spasms": int, "sources": [...]}`` for every observed day (diary coverage and
        visit days). A day absent from the dict was not observed.
    """
    days: dict[int, dict] = {}
    if diary is not None and len(diary):
        per = diary.groupby("date")["spasms"].sum()
        d0 = (min(per.index) - start).days
        d1 = (max(per.index) - start).days
        for d in range(d0, d1 + 1):
            days[d] = {"spasms": 0, "sources": ["diary"]}
        for dt, n in per.items():
            days[(dt - start).days]["spasms"] += int(n)
    for v in visits:
        if v.spasms is None:
            continue
        d = (v.date - start).days
        e = days.setdefault(d, {"spasms": 0, "sources": []})
        e["sources"] = [*e["sources"], "eeg"]
        e["spasms"] = max(e["spasms"], int(v.spasms)) if "diary" in e["sources"] else \
            e["spasms"] + int(v.spasms)
    return days


def window_state(days: dict[int, dict], lo: int, hi: int, sampled: bool) -> tuple[str, list[int]]:
    """Spasm state of days ``lo..hi``: ``"spasms"``, ``"free"`` or ``"not covered"``.

    With ``sampled`` (EEG-only evidence) one observed day inside the window is enough to call it
    free; otherwise every day must be observed.

    Returns
    -------
    state : str
    spasm_days : list of int
        Days in the window with spasms.
    """
    inside = [d for d in range(lo, hi + 1) if d in days]
    pos = [d for d in inside if days[d]["spasms"] > 0]
    if pos:
        return "spasms", pos
    if (sampled and inside) or (not sampled and len(inside) == hi - lo + 1):
        return "free", []
    return "not covered", []


def _first_visit(visits: list[Visit], start: date, lo: int, hi: int) -> Visit | None:
    for v in visits:
        if lo <= (v.date - start).days <= hi:
            return v
    return None


def _eeg_check(defn: Definition, visits: list[Visit], start: date) -> tuple[str, list[str]]:
    """``"resolved"``, ``"persists"`` or ``"not covered"`` over the definition's EEG windows."""
    notes = []
    for lo, hi in defn.eeg_windows:
        v = _first_visit(visits, start, lo, hi)
        if v is None:
            return "not covered", [f"no EEG between day {lo} and day {hi}"]
        if v.grade is None:
            return "not covered", [f"EEG of {v.date} (day {(v.date - start).days}) not graded"]
        if v.grade >= PRESENT_FROM:
            return "persists", [f"hypsarrhythmia (BASED {v.grade}) on the EEG of {v.date} "
                                f"(day {(v.date - start).days})"]
        notes.append(f"no hypsarrhythmia (BASED {v.grade}) on the EEG of {v.date} "
                     f"(day {(v.date - start).days})")
    return "resolved", notes


def evaluate(defn: Definition | str, visits: list[Visit], treatments: list[Treatment],
             diary: pd.DataFrame | None = None) -> dict:
    """Judge response and relapse by a definition (pure function of its inputs).

    Parameters
    ----------
    defn : Definition or str
        A definition or its key in :data:`DEFINITIONS`.
    visits : list of Visit
        Visits sorted by date, with EEG spasm counts and grades.
    treatments : list of Treatment
        Treatment events; day 0 is the first ``start``.
    diary : DataFrame, optional
        Caregiver diary (:func:`read_diary`); without it the EEG of each visit is the only spasm
        evidence and a window counts as spasm-free when the visits inside it show none.

    Returns
    -------
    dict
        ``definition, evidence, treatment_start, outcome ("response" | "no response" |
        "insufficient data"), reasons, spasm_free_window, eeg (resolved/persists/not covered),
        electroclinical, response_visit, relapse, visits`` (per-visit ``day`` and ``status``).
    """
    if isinstance(defn, str):
        if defn not in DEFINITIONS:
            raise ParameterError(f"unknown definition {defn!r}; choose one of "
                                 f"{', '.join(DEFINITIONS)}")
        defn = DEFINITIONS[defn]
    visits = sorted(visits, key=lambda v: v.date)
    sampled = diary is None or not len(diary)
    evidence = ("EEG of each visit only (no diary): spasm-free windows are judged from the "
                "visits inside them" if sampled else "caregiver diary and EEG of each visit")
    res: dict[str, Any] = {"definition": {**asdict(defn)}, "evidence": evidence,
                           "treatment_start": None, "outcome": "insufficient data",
                           "reasons": [], "spasm_free_window": None, "eeg": None,
                           "electroclinical": None, "response_visit": None, "relapse": None}
    starts = [t for t in treatments if t.event == "start"]
    if not starts:
        res["reasons"].append("no treatment start given: response cannot be judged")
        res["visits"] = [{"date": v.date.isoformat(), "day": None, "status": "no treatment"}
                         for v in visits]
        return res
    start = starts[0].date
    res["treatment_start"] = {"date": start.isoformat(), "drug": starts[0].drug,
                              "dose": starts[0].dose}
    days = spasm_days(visits, diary, start)
    # ---- spasm-free window
    if defn.free_to is None:
        before = [d for d, e in days.items() if 0 <= d < defn.free_from and e["spasms"] > 0]
        last = max(before) if before else -1
        lo, hi = last + 1, last + (defn.sustain_days or 0)
    else:
        lo, hi = defn.free_from, defn.free_to
    state, pos = window_state(days, lo, hi, sampled)
    res["spasm_free_window"] = {"from_day": lo, "to_day": hi, "state": state,
                                "spasm_days": pos}
    eeg_state, eeg_notes = _eeg_check(defn, visits, start)
    res["eeg"] = {"state": eeg_state, "notes": eeg_notes}
    if state == "spasms":
        outcome = "no response"
        res["reasons"].append(f"spasms on day(s) {', '.join(map(str, pos[:10]))} within the "
                              f"spasm-free window (days {lo}-{hi})")
    elif state == "not covered":
        outcome = "insufficient data"
        res["reasons"].append(f"the evidence does not cover days {lo}-{hi}")
    else:
        outcome = "response"
        res["reasons"].append(f"no spasms on days {lo}-{hi}")
    clinical = outcome
    electro = {"resolved": clinical, "persists": "no response" if clinical != "insufficient data"
               else clinical, "not covered": "insufficient data"}[eeg_state]
    if clinical == "no response":
        electro = "no response"
    if defn.requires_eeg:
        outcome = electro
        res["reasons"] += eeg_notes
    res["clinical"] = clinical
    res["electroclinical"] = electro
    res["outcome"] = outcome
    # ---- response visit and relapse
    vis_out = []
    resp_visit = None
    relapse = None
    if outcome == "response":
        for v in visits:
            d = (v.date - start).days
            if d <= 0 or d < min(lo, defn.free_from):
                continue
            if (v.spasms or 0) == 0 and (not defn.requires_eeg or (
                    v.grade is not None and v.grade < PRESENT_FROM)):
                resp_visit = v
                break
        if resp_visit is None:
            later = [v for v in visits if (v.date - start).days > 0]
            resp_visit = later[0] if later else None
        if resp_visit is not None:
            rd = (resp_visit.date - start).days
            res["response_visit"] = {"date": resp_visit.date.isoformat(), "day": rd,
                                     "label": resp_visit.label}
            found: list[tuple[int, str]] = []
            for d, e in sorted(days.items()):
                if d > max(hi, rd) and e["spasms"] > 0:
                    found.append((d, f"{e['spasms']} spasm(s) on day {d} "
                                     f"({'+'.join(e['sources'])})"))
                    break
            for v in visits:
                d = (v.date - start).days
                if d > rd and v.grade is not None and v.grade >= PRESENT_FROM:
                    found.append((d, f"hypsarrhythmia (BASED {v.grade}) on day {d}"))
                    break
            for v in visits:
                d = (v.date - start).days
                if d > rd and (v.spasms or 0) > 0:
                    found.append((d, f"{v.spasms} EEG-detected spasm(s) at the visit of day {d}"))
                    break
            if found:
                found.sort()
                rday = found[0][0]
                rvis = next((v for v in visits if (v.date - start).days >= rday and (
                    (v.spasms or 0) > 0 or (v.grade is not None and v.grade >= PRESENT_FROM))),
                    None)
                relapse = {"day": rday, "date": (pd.Timestamp(start) + pd.Timedelta(days=rday)
                                                 ).date().isoformat(),
                           "evidence": [t for _, t in found],
                           "visit": rvis.date.isoformat() if rvis else None,
                           "visit_day": (rvis.date - start).days if rvis else None}
    res["relapse"] = relapse
    for v in visits:
        d = (v.date - start).days
        if d <= 0:
            st = "baseline (before treatment)"
        elif outcome == "insufficient data":
            st = "insufficient data"
        elif outcome == "no response":
            st = "no response"
        elif resp_visit is None or v.date < resp_visit.date:
            st = "on treatment"
        elif v.date == resp_visit.date:
            st = "response"
        elif relapse and relapse["visit"] and v.date >= date.fromisoformat(relapse["visit"]):
            st = "relapse"
        else:
            st = "response sustained"
        vis_out.append({"date": v.date.isoformat(), "day": d, "label": v.label, "status": st})
    res["visits"] = vis_out
    return res


# ----------------------------------------------------------------------------- analysis
def _f(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def visit_from_analysis(analysis: Any, when: date, label: str = "",
                        recording: str | None = None) -> Visit:
    """The markers of one visit from a :class:`hypsa.results.Analysis`."""
    s = analysis.summary_
    h = s.get("hypsarrhythmia", {}) or {}
    ge = (h.get("evidence", {}) or {}).get("graded_epoch") or {}
    sp = s.get("spasms", {}) or {}
    ep = analysis.epochs
    if len(ep) and "excluded" in ep:
        ok = ~ep["excluded"].astype(str).str.lower().isin(["true", "1", "1.0"])
        ep = ep[ok]

    def med(col: str) -> float | None:
        return _f(ep[col].median()) if len(ep) and col in ep else None

    markers = {
        "n_clusters": int(sp.get("n_clusters", 0)),
        "per_hour": _f(sp.get("per_hour")),
        "probability": _f(h.get("probability")),
        "median_amplitude_uv": _f(ge.get("median_amplitude_uv")),
        "perm_entropy": _f(ge.get("perm_entropy")),
        "connectivity": _f(ge.get("connectivity")),
        "epochs_amp_bipolar_median_uv": med("amp_bipolar_median_uv"),
        "epochs_perm_entropy": med("perm_entropy"),
        "epochs_connectivity": med("connectivity"),
    }
    return Visit(date=when, label=label or when.isoformat(), recording=recording,
                 spasms=int(sp.get("count", 0)), per_24h=_f(sp.get("per_24h")),
                 grade=h.get("based_score"), hours=float(s.get("recorded_s", 0.0)) / 3600,
                 markers=markers)


def _analyse(path: Path, out: Path, n_jobs: int, report: bool) -> Any:
    from hypsa.results import load

    stem = path.name.split(".")[0]
    summ = out / f"{stem}.summary.json"
    if summ.is_file() and path.is_file() and summ.stat().st_mtime >= path.stat().st_mtime:
        try:
            return load(out, stem), True
        except (InputError, OSError, ValueError, KeyError):
            pass
    from hypsa.analysis import analyze

    res = analyze(path, n_jobs=n_jobs)
    res.save(out)
    if report:
        from hypsa.report import write_report

        write_report(res, out, source=path)
    return res, False


def response(visits_csv: str | Path, out_dir: str | Path, *, diary: str | Path | None = None,
             treatments: str | Path | None = None, definition: str = "west-delphi",
             n_jobs: int = 1, reports: bool = True) -> dict:
    """Analyse every visit, judge the response, write ``response.json`` and ``response.html``.

    Parameters
    ----------
    visits_csv : str or Path
        VISITS.csv (see :func:`read_visits` and docs/response.md).
    out_dir : str or Path
        Output folder; each visit's analysis is saved there as ``<stem>.*`` and reused when it is
        newer than the recording.
    diary : str or Path, optional
        Caregiver diary (:func:`read_diary`).
    treatments : str or Path, optional
        Treatment events in their own CSV.
    definition : str
        Key in :data:`DEFINITIONS`.
    n_jobs : int
        Worker processes per analysis.
    reports : bool
        Also write each visit's HTML report.

    Returns
    -------
    dict
        The content of ``response.json``.
    """
    if definition not in DEFINITIONS:
        raise ParameterError(f"unknown definition {definition!r}; choose one of "
                             f"{', '.join(DEFINITIONS)}")
    recs, trs = read_visits(visits_csv, treatments)
    dia = read_diary(diary) if diary is not None else None
    stems = [r["recording"].name.split(".")[0] for r in recs]
    dup = sorted({s for s in stems if stems.count(s) > 1})
    if dup:
        raise InputError(visits_csv, f"two visits share the file name {dup[0]!r}; their outputs "
                                     "would collide in the output folder: rename one")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    visits, reused = [], []
    for r in recs:
        res, was = _analyse(r["recording"], out, n_jobs, reports)
        reused.append(was)
        visits.append(visit_from_analysis(res, r["date"], r["label"], str(r["recording"])))
    result = evaluate(definition, visits, trs, dia)
    others = {k: evaluate(k, visits, trs, dia)["outcome"] for k in DEFINITIONS if k != definition}
    base = visits[0]
    rows = []
    for v, st, was in zip(visits, result["visits"], reused, strict=True):
        row = {"date": v.date.isoformat(), "day": st["day"], "label": v.label,
               "recording": Path(v.recording).name if v.recording else None,
               "status": st["status"], "spasms": v.spasms, "per_24h": v.per_24h,
               "based_grade": v.grade, "hypsarrhythmia": (v.grade is not None
                                                          and v.grade >= PRESENT_FROM),
               "hours": round(v.hours, 3), "reused_analysis": was, **v.markers}
        for k in ("median_amplitude_uv", "perm_entropy", "connectivity"):
            b, x = base.markers.get(k), v.markers.get(k)
            row[f"{k}_change_pct"] = (round(100 * (x - b) / abs(b), 1)
                                      if b not in (None, 0) and x is not None else None)
        rows.append(row)
    doc = {
        "hypsa_version": __version__,
        "definition": result["definition"],
        "evidence": result["evidence"],
        "treatment_start": result["treatment_start"],
        "outcome": result["outcome"],
        "clinical": result.get("clinical"),
        "electroclinical": result.get("electroclinical"),
        "reasons": result["reasons"],
        "spasm_free_window": result["spasm_free_window"],
        "eeg": result["eeg"],
        "response_visit": result["response_visit"],
        "relapse": result["relapse"],
        "other_definitions": others,
        "visits": rows,
        "treatments": [{**asdict(t), "date": t.date.isoformat()} for t in trs],
        "diary": ([{"date": d.isoformat(), "spasms": int(n)} for d, n in
                   dia.groupby("date")["spasms"].sum().items()] if dia is not None else None),
        "disclaimer": DISCLAIMER,
    }
    (out / "response.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False,
                                                  default=str))
    write_response_html(doc, out / "response.html")
    return doc


# ----------------------------------------------------------------------------- output
def timeline_figure(doc: dict) -> Any:
    """Spasms (EEG per 24 h, diary per day) and BASED grade per visit over dates, treatments
    as horizontal bars underneath."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 6))
    FigureCanvasAgg(fig)
    trs = doc["treatments"]
    drugs = list(dict.fromkeys(t["drug"] for t in trs))
    ax1, ax2, ax3 = fig.subplots(3, 1, sharex=True, gridspec_kw={
        "height_ratios": [2.0, 1.4, 0.35 + 0.3 * max(1, len(drugs))], "hspace": 0.1})
    vd = pd.to_datetime([v["date"] for v in doc["visits"]])
    per = [v["per_24h"] if v["per_24h"] is not None else np.nan for v in doc["visits"]]
    ax1.plot(vd, per, "o-", color="crimson", label="EEG: spasms per 24 h")
    ax1.set_ylabel("EEG spasms / 24 h", fontsize=8, color="crimson")
    if doc.get("diary"):
        ax1b = ax1.twinx()
        dd = pd.to_datetime([d["date"] for d in doc["diary"]])
        ax1b.bar(dd, [d["spasms"] for d in doc["diary"]], width=0.8, color="#f59f00",
                 alpha=0.6, label="diary: spasms per day")
        ax1b.set_ylabel("diary spasms / day", fontsize=8, color="#e67700")
        ax1b.tick_params(labelsize=7)
        ax1b.legend(loc="upper center", fontsize=7)
    ax1.legend(loc="upper right", fontsize=7)
    g = [v["based_grade"] if v["based_grade"] is not None else np.nan for v in doc["visits"]]
    ax2.plot(vd, g, "s-", color="#5f3dc4")
    ax2.axhline(PRESENT_FROM - 0.5, color="crimson", ls="--", lw=0.8)
    ax2.set_ylim(-0.3, 5.5)
    ax2.set_ylabel("BASED grade", fontsize=8)
    for x, v in zip(vd, doc["visits"], strict=True):
        ax2.annotate(v["status"], (x, 5.1), fontsize=6, ha="center", rotation=0)
    rel = doc.get("relapse")
    for ax in (ax1, ax2):
        if doc.get("treatment_start"):
            ax.axvline(pd.Timestamp(doc["treatment_start"]["date"]), color="k", lw=0.6, ls=":")
        if rel:
            ax.axvline(pd.Timestamp(rel["date"]), color="crimson", lw=0.8, ls="-.")
    end = max([*vd, *(pd.to_datetime([d["date"] for d in doc["diary"]]) if doc.get("diary")
                      else [])]) + pd.Timedelta(days=2)
    colors = ["#1c7ed6", "#2b8a3e", "#e8590c", "#862e9c", "#495057"]
    for k, drug in enumerate(drugs):
        ev = [t for t in trs if t["drug"] == drug]
        on, dose = None, ""
        segs = []
        for t in ev:
            d = pd.Timestamp(t["date"])
            if t["event"] in ("start", "change"):
                if on is not None:
                    segs.append((on, d, dose))
                on, dose = d, t["dose"] or dose
            elif t["event"] == "stop" and on is not None:
                segs.append((on, d, dose))
                on = None
        if on is not None:
            segs.append((on, end, dose))
        for a, b, ds in segs:
            ax3.barh(k, (b - a).days or 1, left=a, height=0.6, color=colors[k % len(colors)])
            ax3.text(a, k, f" {drug} {ds}", va="center", fontsize=7, color="white")
    ax3.set_yticks(range(len(drugs)))
    ax3.set_yticklabels(drugs, fontsize=7)
    ax3.set_ylim(-0.6, max(1, len(drugs)) - 0.4)
    ax3.invert_yaxis()
    ax3.set_xlabel("date", fontsize=8)
    for ax in (ax1, ax2, ax3):
        ax.tick_params(labelsize=7)
        ax.grid(axis="x", color="0.9", lw=0.5)
    fig.autofmt_xdate()
    ax1.set_title(f"Course under {doc['definition']['name']}: {doc['outcome']}"
                  + (f", relapse on {rel['date']}" if rel else ""), fontsize=9, loc="left")
    return fig


_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>hypsa treatment response</title>
<style>
body{font-family:"DejaVu Sans",Arial,sans-serif;color:#212529;max-width:1100px;margin:0 auto;
padding:16px 24px}
h2{border-bottom:2px solid #dee2e6;font-size:1.15em;margin-top:1.5em}
table{border-collapse:collapse;font-size:.88em}th,td{border:1px solid #dee2e6;padding:3px 7px}
th{background:#f1f3f5}.big{font-size:1.9em;font-weight:bold}
.box{border:3px solid #adb5bd;border-radius:8px;padding:10px 16px}
.relapse{color:#c92a2a;font-weight:bold}.muted{color:#6c757d;font-size:.9em}
.disclaimer{border-left:5px solid #f08c00;background:#fff9db;padding:8px 12px;font-weight:bold}
img{max-width:100%}
</style></head><body>
<h1>hypsa — treatment response</h1>
<p class="muted">hypsa {{ d.hypsa_version }} · definition: {{ d.definition.name }}
({{ d.definition.source }}) · evidence: {{ d.evidence }}</p>
<div class="box">
<div class="big">{{ d.outcome|upper }}{% if d.response_visit %} at {{ d.response_visit.date }}
(day {{ d.response_visit.day }}){% endif %}</div>
{% if d.relapse %}<div class="big relapse">RELAPSE from {{ d.relapse.date }}
(day {{ d.relapse.day }}){% if d.relapse.visit %}, seen at the visit of {{ d.relapse.visit }}
(day {{ d.relapse.visit_day }}){% endif %}</div>
<ul>{% for e in d.relapse.evidence %}<li>{{ e }}</li>{% endfor %}</ul>{% endif %}
<p>Clinical: {{ d.clinical }} · electroclinical: {{ d.electroclinical }}</p>
<ul>{% for r in d.reasons %}<li>{{ r }}</li>{% endfor %}</ul>
</div>
<p><b>Definition.</b> {{ d.definition.text }}</p>
<p>Other definitions on the same data:
{% for k, v in d.other_definitions.items() %}{{ k }}: {{ v }}{% if not loop.last %};
{% endif %}{% endfor %}.</p>
{% if d.treatment_start %}<p>Treatment start (day 0): {{ d.treatment_start.date }},
{{ d.treatment_start.drug }} {{ d.treatment_start.dose }}.</p>{% endif %}
<h2>Timeline</h2><img alt="course timeline" src="{{ img }}">
<h2>Visits</h2>
<table><tr><th>date</th><th>day</th><th>label</th><th>status</th><th>EEG spasms</th>
<th>per 24 h</th><th>clusters</th><th>BASED</th><th>probability</th><th>amplitude µV (Δ%)</th>
<th>perm. entropy (Δ%)</th><th>connectivity (Δ%)</th><th>recording (h)</th></tr>
{% for v in d.visits %}<tr><td>{{ v.date }}</td><td>{{ v.day }}</td><td>{{ v.label }}</td>
<td><b>{{ v.status }}</b></td><td>{{ v.spasms }}</td><td>{{ fmt(v.per_24h, 0) }}</td>
<td>{{ v.n_clusters }}</td><td>{{ v.based_grade }}</td><td>{{ fmt(v.probability, 2) }}</td>
<td>{{ fmt(v.median_amplitude_uv, 0) }} ({{ fmt(v.median_amplitude_uv_change_pct, 0) }})</td>
<td>{{ fmt(v.perm_entropy, 3) }} ({{ fmt(v.perm_entropy_change_pct, 0) }})</td>
<td>{{ fmt(v.connectivity, 3) }} ({{ fmt(v.connectivity_change_pct, 0) }})</td>
<td>{{ fmt(v.hours, 2) }}</td></tr>{% endfor %}</table>
<p class="muted">Markers from the graded (most epileptic) 5-minute epoch; Δ% against the first
visit. Falling amplitude and connectivity and rising permutation entropy accompany response
(Smith et al. 2021; Shrey et al.).</p>
<h2>Treatments</h2>
<table><tr><th>date</th><th>event</th><th>drug</th><th>dose</th></tr>
{% for t in d.treatments %}<tr><td>{{ t.date }}</td><td>{{ t.event }}</td><td>{{ t.drug }}</td>
<td>{{ t.dose }}</td></tr>{% endfor %}</table>
<p class="disclaimer">{{ d.disclaimer }}</p>
</body></html>
"""


def write_response_html(doc: dict, path: str | Path) -> Path:
    """Write the self-contained response page (inline CSS, figure as base64 PNG)."""
    import jinja2

    fig = timeline_figure(doc)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    img = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")

    def fmt(v: Any, nd: int) -> str:
        return "n/a" if v is None else f"{v:.{nd}f}"

    env = jinja2.Environment(autoescape=True)
    text = env.from_string(_HTML).render(d=doc, img=img, fmt=fmt)
    path = Path(path)
    path.write_text(text, encoding="utf-8")
    return path
