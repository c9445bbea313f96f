"""Treatment response across serial recordings: ``hypsa response VISITS.csv``.

Each visit's recording is analysed (or its saved analysis reused); the per-visit markers (spasm
count and rate, clusters, hypsarrhythmia verdict and BASED grade, amplitude, permutation entropy,
connectivity) are tabulated, and the response is judged by a named, published definition
(:data:`DEFINITIONS`; docs/response.md gives each one's source wording beside its implementation).

The evidence is judged as a clinician would:

- a day is **spasm-free** only when a record of witnessed spasms (the caregiver diary) covers it
  and shows none; a day the diary does not cover is *missing*, never spasm-free;
- **spasms seen** on a day come from the diary or from EEG events a clinician has *reviewed*; an
  EEG can show spasms but cannot show that a day (let alone 28) was free of them, so an EEG alone
  gives "insufficient data", with what is missing;
- **unreviewed** EEG detections decide nothing: inside a window or after a response they raise a
  flag ("EEG events after response: review"), never "no response" or a relapse;
- **relapse** is clinical: recurrence of witnessed (or reviewed EEG) spasms after the response.

Days are counted from the first treatment ``start`` (day 0). A recording made on day 0 or before is
the pre-treatment baseline. Definitions are data evaluated by pure functions on per-day evidence, so
they can be tested without EEG.
"""

from __future__ import annotations

import base64
import io
import json
import math
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hypsa import DISCLAIMER, __version__
from hypsa.errors import InputError, ParameterError
from hypsa.verdict import ABSENT, NOT_ASSESSABLE, PRESENT, PRESENT_FROM, hypsarrhythmia_verdict

__all__ = [
    "Definition",
    "DEFINITIONS",
    "Visit",
    "Treatment",
    "REVIEW_FLAG",
    "read_visits",
    "read_diary",
    "spasm_days",
    "window_state",
    "evaluate",
    "visit_from_analysis",
    "response",
    "write_response_html",
]

#: The flag raised by unreviewed EEG detections after a response (never a relapse by itself).
REVIEW_FLAG = "EEG events after response: review"
#: The flag raised by unreviewed EEG detections inside a spasm-free window.
WINDOW_FLAG = "EEG events inside the spasm-free window: review"


# ----------------------------------------------------------------------------- definitions
@dataclass(frozen=True)
class Definition:
    """A published definition of treatment response, as data.

    Attributes
    ----------
    key, name : str
        Identifier (``--definition``) and display name.
    source : str
        The publication.
    wording : str
        The source's own wording of the outcome (abstract), quoted.
    text : str
        The definition as hypsa applies it, every boundary stated.
    free_from : int
        Spasm-free window start (fixed windows); for the dynamic West Delphi window, the day by
        which the spasm-free run must have begun (the last spasm is on ``free_from - 1`` at the
        latest).
    free_to : int or None
        Last day of a fixed window (inclusive); ``None`` = dynamic (``sustain_days`` from the day
        after the last spasm).
    sustain_days : int or None
        Consecutive spasm-free days required after the last spasm (dynamic window only).
    requires_eeg : bool
        Whether resolution of hypsarrhythmia is part of the primary outcome (electroclinical);
        otherwise it is reported as a secondary outcome.
    eeg_windows : tuple of (int, int)
        Day ranges (inclusive); in each, the first visit's EEG must have the verdict "absent".
    eeg_sustained_to : int or None
        Every later EEG up to this day must also be "absent" (NISC: sustained to 3 months).
    choices : tuple of str
        hypsa's reading where the wording leaves a boundary open.
    """

    key: str
    name: str
    source: str
    wording: str
    text: str
    free_from: int
    free_to: int | None
    sustain_days: int | None
    requires_eeg: bool
    eeg_windows: tuple[tuple[int, int], ...]
    eeg_sustained_to: int | None = None
    choices: tuple[str, ...] = ()


_COMMON = (
    "Day 0 is the calendar day of the first treatment start; days are calendar days and every "
    "window includes both of its end days.",
    "A day is spasm-free only when the diary covers it (a row for that day, or a spasm-free "
    "range through it) and neither the diary nor a reviewed EEG shows a spasm on it.",
)

DEFINITIONS: dict[str, Definition] = {
    d.key: d
    for d in (
        Definition(
            "west-delphi", "West Delphi consensus",
            "Lux & Osborne 2004, Epilepsia 45:1416-28 (West Delphi group)",
            "\"the primary clinical outcome, cessation of spasms, should denote absence of "
            "witnessed spasms from within 14 days of commencement of treatment, and for >= 28 "
            "consecutive days from the last witnessed spasm. Primary electroclinical outcome "
            "denotes cessation of spasms with resolution of hypsarrhythmia.\"",
            "Cessation: a run of 28 consecutive days, all covered and spasm-free, that begins "
            "after the last spasm recorded on days 1-13 and no later than day 14 (the first "
            "such run counts). Electroclinical response (primary here): cessation and the "
            "verdict 'absent' on the first EEG from day 14 to day 42.",
            14, None, 28, True, ((14, 42),),
            choices=(*_COMMON,
                     "'From within 14 days' is read as: the spasm-free run has begun by day 14, "
                     "so a spasm on day 14 or later inside the run means no response.",
                     "Spasms on day 0 (the day of the first dose) do not set the run's start; "
                     "the run is counted from day 1 at the earliest.",
                     "The consensus fixes no EEG day; hypsa takes the first EEG on days 14-42.")),
        Definition(
            "ukiss", "UKISS", "Lux et al. 2004, Lancet 364:1773-8 (UKISS)",
            "\"The primary outcome was cessation of spasms on days 13 and 14.\"",
            "Clinical response: days 13 and 14 both covered and spasm-free. Resolution of "
            "hypsarrhythmia on the first EEG from day 13 to day 42 is reported as a secondary "
            "outcome.",
            13, 14, None, False, ((13, 42),),
            choices=(*_COMMON, "The EEG window (days 13-42) is hypsa's choice.")),
        Definition(
            "iciss", "ICISS", "O'Callaghan et al. 2017, Lancet Neurol 16:33-42 (ICISS)",
            "\"The early primary outcome measure was cessation of spasms on and between days 14 "
            "and 42.\"",
            "Clinical response: every day from day 14 to day 42 covered and spasm-free. "
            "Electroclinical response (verdict 'absent' on the first EEG from day 14 to day 42) "
            "is reported as a secondary outcome.",
            14, 42, None, False, ((14, 42),),
            choices=(*_COMMON, "The EEG window (days 14-42) is hypsa's choice.")),
        Definition(
            "nisc", "US National Infantile Spasms Consortium",
            "Knupp et al. 2016, Ann Neurol 79:475-84 (NISC)",
            "\"Children were considered responders if there was clinical remission and "
            "resolution of hypsarrhythmia that was sustained at 3 months after first treatment "
            "initiation.\"",
            "Clinical remission sustained: every day from day 14 to day 90 covered and "
            "spasm-free. Resolution: the verdict 'absent' on the first EEG from day 14 to day 42, "
            "and no later EEG up to day 90 with the verdict 'present'. No second EEG at 3 months "
            "is required: as published, the 3-month assessment is clinical.",
            14, 90, None, True, ((14, 42),), eeg_sustained_to=90,
            choices=(*_COMMON,
                     "'3 months' is read as day 90; 'clinical remission' as no spasm from day 14.",
                     "The first post-treatment EEG is taken from days 14-42 (2-6 weeks).")),
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
        EEG-detected spasm events (None = not analysed).
    per_24h : float or None
        Spasms per 24 h (None below an hour of analysed EEG, :mod:`hypsa.rates`).
    grade : int or None
        BASED grade (None = not graded).
    hours : float
        Recorded duration (h).
    markers : dict
        ``n_clusters, probability, median_amplitude_uv, perm_entropy, connectivity`` and the
        per-epoch medians.
    reviewed : bool
        Whether a clinician reviewed the EEG events of this visit (the count is then confirmed).
    reviewed_spasms : int or None
        Spasms confirmed on review (implies ``reviewed``); otherwise ``spasms`` when reviewed.
    verdict : str or None
        Hypsarrhythmia verdict (``present``, ``absent``, ``not_assessable``); from ``grade``
        when None.
    rate : dict or None
        The ``spasms.rate`` block (count, analysed hours, rate per hour with its interval).
    """

    date: date
    label: str = ""
    recording: str | None = None
    spasms: int | None = None
    per_24h: float | None = None
    grade: int | None = None
    hours: float = 0.0
    markers: dict = field(default_factory=dict)
    reviewed: bool = False
    reviewed_spasms: int | None = None
    verdict: str | None = None
    rate: dict | None = None

    def __post_init__(self) -> None:
        if self.verdict is None:
            self.verdict = (NOT_ASSESSABLE if self.grade is None else
                            PRESENT if int(self.grade) >= PRESENT_FROM else ABSENT)
        if self.reviewed_spasms is not None:
            self.reviewed = True

    @property
    def confirmed_spasms(self) -> int | None:
        """Spasms a clinician confirmed on this EEG (None when its events are not reviewed)."""
        if self.reviewed_spasms is not None:
            return int(self.reviewed_spasms)
        if self.reviewed and self.spasms is not None:
            return int(self.spasms)
        return None

    @property
    def unreviewed_events(self) -> int:
        """EEG-detected events nobody has reviewed yet."""
        return 0 if self.reviewed or not self.spasms else int(self.spasms)


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

    - ``kind=recording``: ``recording`` (path, relative to the CSV), optional ``label``,
      ``reviewed`` (yes when a clinician reviewed the recording's detected events and the count
      stands) and ``reviewed_spasms`` (spasms confirmed on review);
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
        rs = str(r.get("reviewed_spasms", "")).strip()
        try:
            rsn = int(float(rs)) if rs else None
        except ValueError as exc:
            raise InputError(p, f"row {i + 2}: reviewed_spasms {rs!r} is not a number") from exc
        recs.append({"date": _date(r["date"], p, i + 2), "recording": fp,
                     "label": str(r.get("label", "")).strip(),
                     "reviewed": _yes(r.get("reviewed", "")) or rsn is not None,
                     "reviewed_spasms": rsn})
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



def _yes(v: Any) -> bool:
    return str(v).strip().lower() in ("1", "true", "yes", "y", "reviewed")


def read_diary(path: str | Path) -> pd.DataFrame:
    """Read a seizure diary: ``date, spasms`` (and optional ``time``, ``to_date``).

    One row per witnessed cluster (``spasms`` > 0) or per observed spasm-free day (``spasms`` =
    0); a spasm-free row may carry ``to_date`` to cover every day from ``date`` to ``to_date``
    (inclusive). **A day without a row is missing**, not spasm-free.

    Returns
    -------
    DataFrame
        ``date`` (datetime.date) and ``spasms`` (int), one row per row or per day of a range.
    """
    p, df = _read_csv(path)
    if "spasms" not in df:
        raise InputError(p, "needs a 'spasms' column (spasms in the cluster, 0 for an observed "
                            "spasm-free day)")
    rows = []
    for i, r in df.iterrows():
        try:
            n = int(float(r["spasms"]))
        except ValueError as exc:
            raise InputError(p, f"row {i + 2}: spasms {r['spasms']!r} is not a number") from exc
        if n < 0:
            raise InputError(p, f"row {i + 2}: negative spasm count")
        d0 = _date(r["date"], p, i + 2)
        to = str(r.get("to_date", "")).strip()
        if to:
            if n:
                raise InputError(p, f"row {i + 2}: to_date goes with spasms = 0 (a spasm-free "
                                    "range), not with a cluster")
            d1 = _date(to, p, i + 2)
            if d1 < d0:
                raise InputError(p, f"row {i + 2}: to_date {d1} before date {d0}")
            rows += [{"date": d0 + timedelta(days=k), "spasms": 0}
                     for k in range((d1 - d0).days + 1)]
        else:
            rows.append({"date": d0, "spasms": n})
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
        Visits with EEG event counts (reviewed or not).
    diary : DataFrame or None
        From :func:`read_diary` (``date, spasms``; optional ``to_date`` ranges are expanded).
    start : date
        Treatment start (day 0).

    Returns
    -------
    dict
        ``day -> {"covered": bool, "spasms": int, "sources": [...], "unreviewed": int}``:
        ``covered`` when the diary has a row for the day; ``spasms`` witnessed (diary) or
        confirmed on a reviewed EEG (the larger when both); ``unreviewed`` EEG detections nobody
        reviewed. A day absent from the dict has no evidence at all.
    """
    days: dict[int, dict] = {}

    def day(d: int) -> dict:
        return days.setdefault(d, {"covered": False, "spasms": 0, "sources": [],
                                   "unreviewed": 0})

    if diary is not None and len(diary):
        dia = diary
        if "to_date" in dia.columns:
            rows = []
            for r in dia.itertuples(index=False):
                to = getattr(r, "to_date", None)
                if to is not None and not pd.isna(to) and str(to).strip():
                    d1 = pd.Timestamp(str(to)).date()
                    rows += [{"date": r.date + timedelta(days=k), "spasms": 0}
                             for k in range((d1 - r.date).days + 1)]
                else:
                    rows.append({"date": r.date, "spasms": int(r.spasms)})
            dia = pd.DataFrame(rows)
        per = dia.groupby("date")["spasms"].sum()
        for dt, n in per.items():
            e = day((pd.Timestamp(dt).date() - start).days)
            e["covered"] = True
            e["spasms"] += int(n)
            e["sources"] = ["diary"]
    for v in visits:
        d = (v.date - start).days
        conf = v.confirmed_spasms
        if conf is not None:
            e = day(d)
            e["sources"] = [*e["sources"], "reviewed EEG"]
            e["spasms"] = max(e["spasms"], conf)
        elif v.unreviewed_events:
            day(d)["unreviewed"] += v.unreviewed_events
    return days


def _ranges(days: list[int]) -> str:
    """``[3, 4, 5, 9]`` -> ``"3-5, 9"``."""
    out: list[str] = []
    for d in sorted(days):
        if out and "-" not in out[-1].split(", ")[-1] and int(out[-1]) == d - 1:
            out[-1] = f"{out[-1]}-{d}"
        elif out and "-" in out[-1] and int(out[-1].split("-")[1]) == d - 1:
            out[-1] = f"{out[-1].split('-')[0]}-{d}"
        else:
            out.append(str(d))
    return ", ".join(out)


def window_state(days: dict[int, dict], lo: int, hi: int) -> tuple[str, list[int], list[int]]:
    """Spasm state of days ``lo..hi`` (inclusive): ``"spasms"``, ``"free"`` or ``"not covered"``.

    Returns
    -------
    state : str
        ``"spasms"`` when a day holds witnessed or reviewed spasms; ``"free"`` when every day is
        covered by the diary and spasm-free; ``"not covered"`` otherwise.
    spasm_days : list of int
        Days in the window with spasms.
    missing : list of int
        Days in the window the diary does not cover.
    """
    pos = [d for d in range(lo, hi + 1) if d in days and days[d]["spasms"] > 0]
    missing = [d for d in range(lo, hi + 1) if d not in days or not days[d]["covered"]]
    if pos:
        return "spasms", pos, missing
    if not missing:
        return "free", [], []
    return "not covered", [], missing


def _first_visit(visits: list[Visit], start: date, lo: int, hi: int) -> Visit | None:
    for v in visits:
        if lo <= (v.date - start).days <= hi:
            return v
    return None


def _eeg_check(defn: Definition, visits: list[Visit], start: date
               ) -> tuple[str, list[str], list[str]]:
    """``"resolved"``, ``"persists"`` or ``"not covered"`` over the definition's EEG windows,
    with notes and what is missing."""
    notes: list[str] = []
    last = 0
    for lo, hi in defn.eeg_windows:
        v = _first_visit(visits, start, lo, hi)
        if v is None:
            return "not covered", [f"no EEG between day {lo} and day {hi}"], [
                f"an EEG between day {lo} and day {hi}"]
        d = (v.date - start).days
        last = max(last, d)
        if v.verdict == NOT_ASSESSABLE:
            return "not covered", [f"EEG of {v.date} (day {d}) not assessable"], [
                f"an assessable EEG between day {lo} and day {hi}"]
        g = f"BASED {v.grade}" if v.grade is not None else "not graded"
        if v.verdict == PRESENT:
            return "persists", [f"hypsarrhythmia present ({g}) on the EEG of {v.date} "
                                f"(day {d})"], []
        notes.append(f"hypsarrhythmia absent ({g}) on the EEG of {v.date} (day {d})")
    if defn.eeg_sustained_to is not None:
        for v in visits:
            d = (v.date - start).days
            if last < d <= defn.eeg_sustained_to and v.verdict == PRESENT:
                return "persists", [f"hypsarrhythmia present again on the EEG of {v.date} "
                                    f"(day {d}), before day {defn.eeg_sustained_to}"], []
    return "resolved", notes, []


def _window(defn: Definition, days: dict[int, dict]
            ) -> tuple[int, int, str, list[int], list[int], str | None]:
    """The spasm-free window (inclusive), its state, spasm days and missing days, and for the
    dynamic West Delphi window a note on the last spasm.

    The dynamic window is a run of ``sustain_days`` covered, spasm-free days that begins after
    the last spasm recorded on days 1 to ``free_from - 1`` and no later than day ``free_from``:
    the first such run counts. When none is free, a run with a spasm in every candidate means
    no response; otherwise the candidate with the fewest missing days is shown.
    """
    if defn.free_to is not None:
        lo, hi = defn.free_from, defn.free_to
        return (lo, hi, *window_state(days, lo, hi), None)
    n = defn.sustain_days or 0
    before = [d for d, e in days.items() if 1 <= d < defn.free_from and e["spasms"] > 0]
    last = max(before) if before else 0
    note = (f"last spasm before day {defn.free_from}: day {last}" if before else
            f"no spasm recorded on days 1-{defn.free_from - 1}")
    best = None
    spasm_all = True
    for start in range(last + 1, defn.free_from + 1):
        state, pos, missing = window_state(days, start, start + n - 1)
        if state == "free":
            return start, start + n - 1, state, pos, missing, note
        if state != "spasms":
            spasm_all = False
            if best is None or len(missing) < len(best[4]):
                best = (start, start + n - 1, state, pos, missing)
    if spasm_all:
        lo, hi = last + 1, last + n
        return (lo, hi, *window_state(days, lo, hi), note)
    return (*best, note)


def evaluate(defn: Definition | str, visits: list[Visit], treatments: list[Treatment],
             diary: pd.DataFrame | None = None) -> dict:
    """Judge response and relapse by a definition (pure function of its inputs).

    Parameters
    ----------
    defn : Definition or str
        A definition or its key in :data:`DEFINITIONS`.
    visits : list of Visit
        Visits with EEG event counts (reviewed or not) and hypsarrhythmia verdicts.
    treatments : list of Treatment
        Treatment events; day 0 is the first ``start``.
    diary : DataFrame, optional
        Caregiver diary (:func:`read_diary`): the only source of spasm-free days. Without it
        every definition gives "insufficient data" unless reviewed EEG events show spasms in the
        window.

    Returns
    -------
    dict
        ``definition, evidence, treatment_start, outcome ("response" | "no response" |
        "insufficient data"), clinical, electroclinical, reasons, missing (what would decide an
        insufficient outcome), flags (review prompts), spasm_free_window, eeg, response_visit,
        relapse (clinical only), visits`` (per-visit ``day, status, hypsarrhythmia, flags``).
    """
    if isinstance(defn, str):
        if defn not in DEFINITIONS:
            raise ParameterError(f"unknown definition {defn!r}; choose one of "
                                 f"{', '.join(DEFINITIONS)}")
        defn = DEFINITIONS[defn]
    visits = sorted(visits, key=lambda v: v.date)
    has_diary = diary is not None and len(diary) > 0
    n_rev = sum(1 for v in visits if v.reviewed)
    evidence = ("caregiver diary" if has_diary else "no diary") + (
        f"; EEG events reviewed at {n_rev} of {len(visits)} visit(s)" if visits else "")
    res: dict[str, Any] = {"definition": {**asdict(defn)}, "evidence": evidence,
                           "treatment_start": None, "outcome": "insufficient data",
                           "clinical": None, "electroclinical": None, "reasons": [],
                           "missing": [], "flags": [], "spasm_free_window": None, "eeg": None,
                           "response_visit": None, "relapse": None}
    starts = [t for t in treatments if t.event == "start"]
    if not starts:
        res["reasons"].append("no treatment start given: response cannot be judged")
        res["missing"].append("the date treatment started")
        res["visits"] = [{"date": v.date.isoformat(), "day": None, "label": v.label,
                          "status": "no treatment", "hypsarrhythmia": v.verdict, "flags": []}
                         for v in visits]
        return res
    start = starts[0].date
    res["treatment_start"] = {"date": start.isoformat(), "drug": starts[0].drug,
                              "dose": starts[0].dose}
    days = spasm_days(visits, diary, start)
    # ---- spasm-free window
    lo, hi, state, pos, missing, last_note = _window(defn, days)
    res["spasm_free_window"] = {"from_day": lo, "to_day": hi, "state": state,
                                "spasm_days": pos, "missing_days": missing}
    if last_note:
        res["reasons"].append(last_note)
    if state == "spasms":
        clinical = "no response"
        src = sorted({s for d in pos for s in days[d]["sources"]})
        res["reasons"].append(f"spasms on day(s) {_ranges(pos[:20])} within the spasm-free "
                              f"window (days {lo}-{hi}; {', '.join(src)})")
    elif state == "not covered":
        clinical = "insufficient data"
        what = ("a caregiver diary (or another record of witnessed spasms)" if not has_diary
                else "diary entries")
        res["reasons"].append(f"{len(missing)} of {hi - lo + 1} day(s) of the spasm-free window "
                              f"(days {lo}-{hi}) have no diary entry: {_ranges(missing)}")
        res["missing"].append(f"{what} for day(s) {_ranges(missing)} (an EEG can show spasms "
                              "but not that a day was free of them)")
    else:
        clinical = "response"
        res["reasons"].append(f"no spasm on days {lo}-{hi}, every day covered by the diary")
    win_unrev = [d for d in range(lo, hi + 1) if d in days and days[d]["unreviewed"]]
    if win_unrev and clinical != "no response":
        n = sum(days[d]["unreviewed"] for d in win_unrev)
        res["flags"].append(f"{WINDOW_FLAG} ({n} unreviewed EEG event(s) on day(s) "
                            f"{_ranges(win_unrev)})")
    eeg_state, eeg_notes, eeg_missing = _eeg_check(defn, visits, start)
    res["eeg"] = {"state": eeg_state, "notes": eeg_notes}
    if clinical == "no response":
        electro = "no response"
    elif eeg_state == "persists":
        electro = "no response" if clinical == "response" else "insufficient data"
    elif eeg_state == "not covered":
        electro = "insufficient data"
    else:
        electro = clinical
    if defn.requires_eeg:
        res["reasons"] += eeg_notes
        if electro == "insufficient data":
            res["missing"] += eeg_missing
        outcome = electro
    else:
        outcome = clinical
    res["clinical"], res["electroclinical"], res["outcome"] = clinical, electro, outcome
    # ---- response visit, relapse (clinical) and review flags
    resp_visit = None
    relapse = None
    if outcome == "response":
        for v in visits:
            d = (v.date - start).days
            if d <= 0 or d < lo:
                continue
            if not v.confirmed_spasms and (not defn.requires_eeg or v.verdict == ABSENT):
                resp_visit = v
                break
        rd = (resp_visit.date - start).days if resp_visit else hi
        if resp_visit is not None:
            res["response_visit"] = {"date": resp_visit.date.isoformat(), "day": rd,
                                     "label": resp_visit.label}
        after = max(hi, rd)
        rel = next(((d, e) for d, e in sorted(days.items()) if d > after and e["spasms"] > 0),
                   None)
        if rel is not None:
            rday, e = rel
            rvis = next((v for v in visits if (v.date - start).days >= rday), None)
            relapse = {"day": rday, "date": (start + timedelta(days=rday)).isoformat(),
                       "evidence": [f"{e['spasms']} spasm(s) on day {rday} "
                                    f"({', '.join(e['sources'])})"],
                       "visit": rvis.date.isoformat() if rvis else None,
                       "visit_day": (rvis.date - start).days if rvis else None}
        late = [(v, (v.date - start).days) for v in visits if (v.date - start).days > rd]
        unrev = [(v, d) for v, d in late if v.unreviewed_events and d > hi]
        if unrev:
            where = "; ".join(f"{v.unreviewed_events} event(s) on day {d}" for v, d in unrev)
            res["flags"].append(f"{REVIEW_FLAG} ({where}); not a relapse unless a clinician "
                                "confirms them")
        hyps = [(v, d) for v, d in late if v.verdict == PRESENT
                and (defn.eeg_sustained_to is None or d > defn.eeg_sustained_to)]
        if hyps:
            v, d = hyps[0]
            res["flags"].append(f"hypsarrhythmia present again on the EEG of day {d}: review "
                                "(an EEG finding, not a clinical relapse)")
    res["relapse"] = relapse
    vis_out = []
    for v in visits:
        d = (v.date - start).days
        flags = []
        if v.unreviewed_events and d > 0:
            flags.append(f"{v.unreviewed_events} EEG event(s) not reviewed")
        if d <= 0:
            st = "baseline (before treatment)"
        elif outcome in ("insufficient data", "no response"):
            st = outcome
        elif resp_visit is None or v.date < resp_visit.date:
            st = "on treatment"
        elif v.date == resp_visit.date:
            st = "response"
        elif relapse and relapse["visit"] and v.date >= date.fromisoformat(relapse["visit"]):
            st = "relapse"
        else:
            st = "response sustained"
        if st in ("response", "response sustained") and v.unreviewed_events and d > hi:
            st += " (EEG events: review)"
        vis_out.append({"date": v.date.isoformat(), "day": d, "label": v.label, "status": st,
                        "hypsarrhythmia": v.verdict, "flags": flags})
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
                        recording: str | None = None, reviewed: bool = False,
                        reviewed_spasms: int | None = None) -> Visit:
    """The markers of one visit from a :class:`hypsa.results.Analysis`.

    ``reviewed`` / ``reviewed_spasms`` say whether a clinician reviewed the visit's EEG events
    (and how many spasms were confirmed); without them the events count as unreviewed.
    """
    from hypsa.rates import spasm_rate

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

    rate = sp.get("rate") or spasm_rate(int(sp.get("count", 0)),
                                        float(s.get("analysed_s", 0.0)) / 3600)
    markers = {
        "n_clusters": int(sp.get("n_clusters", 0)),
        "per_hour": _f(rate.get("per_hour")),
        "per_hour_ci95": rate.get("per_hour_ci95"),
        "analysed_h": _f(rate.get("analysed_h")),
        "count_eeg_only": sp.get("count_eeg_only"),
        "count_with_movement": sp.get("count_with_movement"),
        "probability": _f(h.get("probability")),
        "median_amplitude_uv": _f(ge.get("median_amplitude_uv")),
        "perm_entropy": _f(ge.get("perm_entropy")),
        "connectivity": _f(ge.get("connectivity")),
        "epochs_amp_bipolar_median_uv": med("amp_bipolar_median_uv"),
        "epochs_perm_entropy": med("perm_entropy"),
        "epochs_connectivity": med("connectivity"),
    }
    return Visit(date=when, label=label or when.isoformat(), recording=recording,
                 spasms=int(sp.get("count", 0)), per_24h=_f(rate.get("per_24h")),
                 grade=h.get("based_score"), hours=float(s.get("recorded_s", 0.0)) / 3600,
                 markers=markers, reviewed=reviewed, reviewed_spasms=reviewed_spasms,
                 verdict=hypsarrhythmia_verdict(h)["verdict"], rate=rate)


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
        visits.append(visit_from_analysis(res, r["date"], r["label"], str(r["recording"]),
                                          reviewed=r.get("reviewed", False),
                                          reviewed_spasms=r.get("reviewed_spasms")))
    result = evaluate(definition, visits, trs, dia)
    others = {k: evaluate(k, visits, trs, dia)["outcome"] for k in DEFINITIONS if k != definition}
    base = visits[0]
    rows = []
    for v, st, was in zip(visits, result["visits"], reused, strict=True):
        row = {"date": v.date.isoformat(), "day": st["day"], "label": v.label,
               "recording": Path(v.recording).name if v.recording else None,
               "status": st["status"], "flags": st["flags"], "spasms": v.spasms,
               "reviewed": v.reviewed, "confirmed_spasms": v.confirmed_spasms,
               "per_24h": v.per_24h, "rate": v.rate, "based_grade": v.grade,
               "hypsarrhythmia": v.verdict, "hours": round(v.hours, 3), "reused_analysis": was,
               **v.markers}
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
        "missing": result["missing"],
        "flags": result["flags"],
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
    """EEG spasm rate per hour (95 % interval) and diary spasms per day, hypsarrhythmia verdict
    and BASED grade per visit over dates, treatments as horizontal bars underneath."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 6))
    FigureCanvasAgg(fig)
    trs = doc["treatments"]
    drugs = list(dict.fromkeys(t["drug"] for t in trs))
    ax1, ax2, ax3 = fig.subplots(3, 1, sharex=True, gridspec_kw={
        "height_ratios": [2.0, 1.4, 0.35 + 0.3 * max(1, len(drugs))], "hspace": 0.1})
    vd = pd.to_datetime([v["date"] for v in doc["visits"]])
    per = np.array([v.get("per_hour") if v.get("per_hour") is not None else np.nan
                    for v in doc["visits"]], dtype=float)
    ci = [v.get("per_hour_ci95") or [np.nan, np.nan] for v in doc["visits"]]
    err = np.array([[max(0.0, p - c[0]) if np.isfinite(p) else np.nan for p, c in zip(per, ci,
                                                                                      strict=True)],
                    [max(0.0, c[1] - p) if np.isfinite(p) else np.nan for p, c in zip(per, ci,
                                                                                      strict=True)]])
    ax1.errorbar(vd, per, yerr=err, fmt="o-", color="crimson", capsize=3,
                 label="EEG events per hour (95 % CI)")
    ax1.set_ylabel("EEG events / h", fontsize=8, color="crimson")
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
    for x, v, gi in zip(vd, doc["visits"], g, strict=True):
        if v.get("hypsarrhythmia") == PRESENT:
            ax2.plot([x], [gi if np.isfinite(gi) else 3], "o", ms=11, mfc="none",
                     mec="crimson", mew=1.5)
    ax2.axhline(PRESENT_FROM - 0.5, color="crimson", ls="--", lw=0.8)
    ax2.set_ylim(-0.3, 5.5)
    ax2.set_ylabel("BASED grade\n(red ring: verdict\npresent)", fontsize=7)
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
.flag{border-left:5px solid #e8590c;background:#fff4e6;padding:6px 10px;font-weight:bold}
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
{% for f in d.flags %}<p class="flag">{{ f }}</p>{% endfor %}
<p>Clinical: {{ d.clinical }} · electroclinical: {{ d.electroclinical }}</p>
<ul>{% for r in d.reasons %}<li>{{ r }}</li>{% endfor %}</ul>
{% if d.missing %}<p><b>Missing to decide:</b></p>
<ul>{% for m in d.missing %}<li>{{ m }}</li>{% endfor %}</ul>{% endif %}
</div>
<p><b>Definition.</b> {{ d.definition.source }}: {{ d.definition.wording }}</p>
<p><b>As applied.</b> {{ d.definition.text }}</p>
<ul class="muted">{% for c in d.definition.choices %}<li>{{ c }}</li>{% endfor %}</ul>
<p>Other definitions on the same data:
{% for k, v in d.other_definitions.items() %}{{ k }}: {{ v }}{% if not loop.last %};
{% endif %}{% endfor %}.</p>
{% if d.treatment_start %}<p>Treatment start (day 0): {{ d.treatment_start.date }},
{{ d.treatment_start.drug }} {{ d.treatment_start.dose }}.</p>{% endif %}
<h2>Timeline</h2><img alt="course timeline" src="{{ img }}">
<h2>Visits</h2>
<table><tr><th>date</th><th>day</th><th>label</th><th>status</th><th>hypsarrhythmia</th>
<th>BASED</th><th>EEG events (reviewed?)</th><th>rate per hour (95 % CI)</th><th>clusters</th>
<th>score</th><th>amplitude µV (Δ%)</th><th>perm. entropy (Δ%)</th><th>connectivity (Δ%)</th>
<th>recording (h)</th></tr>
{% for v in d.visits %}<tr><td>{{ v.date }}</td><td>{{ v.day }}</td><td>{{ v.label }}</td>
<td><b>{{ v.status }}</b>{% for f in v.flags %}<br><span class="muted">{{ f }}</span>
{% endfor %}</td><td>{{ v.hypsarrhythmia|replace("_", " ") }}</td><td>{{ v.based_grade }}</td>
<td>{{ v.spasms }} ({{ "reviewed: %s confirmed"|format(v.confirmed_spasms)
  if v.reviewed else "not reviewed" }})</td><td>{{ rate_short(v.rate) }}</td>
<td>{{ v.n_clusters }}</td><td>{{ fmt(v.probability, 2) }}</td>
<td>{{ fmt(v.median_amplitude_uv, 0) }} ({{ fmt(v.median_amplitude_uv_change_pct, 0) }})</td>
<td>{{ fmt(v.perm_entropy, 3) }} ({{ fmt(v.perm_entropy_change_pct, 0) }})</td>
<td>{{ fmt(v.connectivity, 3) }} ({{ fmt(v.connectivity_change_pct, 0) }})</td>
<td>{{ fmt(v.hours, 2) }}</td></tr>{% endfor %}</table>
<p class="muted">Hypsarrhythmia: the one verdict of each analysis (hypsa.verdict), beside the
BASED grade. Score: an uncalibrated hypsarrhythmia score (0-1), not a probability. Rates are per
analysed hour with a 95 % Poisson interval; a per-24-h figure is given only from 1 h of analysed
EEG. Markers from the graded (most epileptic) 5-minute epoch; Δ% against the first visit.
Falling amplitude and connectivity and rising permutation entropy accompany response
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

    from hypsa.rates import rate_short

    fig = timeline_figure(doc)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    img = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")

    def fmt(v: Any, nd: int) -> str:
        return "n/a" if v is None else f"{v:.{nd}f}"

    env = jinja2.Environment(autoescape=True)
    text = env.from_string(_HTML).render(d=doc, img=img, fmt=fmt, rate_short=rate_short)
    path = Path(path)
    path.write_text(text, encoding="utf-8")
    return path
