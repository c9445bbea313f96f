"""Treatment response: the definitions on hand-written courses (diary coverage, reviewed and
unreviewed EEG events), then a simulated course end to end (analysis of three recordings,
response.json and response.html)."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from hypsa.errors import InputError, ParameterError
from hypsa.response import (
    DEFINITIONS,
    REVIEW_FLAG,
    Treatment,
    Visit,
    evaluate,
    read_diary,
    read_visits,
    spasm_days,
    window_state,
)

D0 = date(2024, 1, 1)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def visit(n: int, spasms: int, grade: int | None, reviewed: bool = True) -> Visit:
    return Visit(date=day(n), label=f"day {n}", spasms=spasms, grade=grade,
                 per_24h=None, hours=1.0, reviewed=reviewed)


START = [Treatment(D0, "start", "prednisolone", "40 mg/day")]
COURSE = [visit(0, 14, 5), visit(14, 0, 2), visit(42, 15, 5)]


def diary(spasm_days_: dict[int, int], last: int, first: int = 0,
          gaps: range | tuple = ()) -> pd.DataFrame:
    """A diary with a row for every day from ``first`` to ``last`` except ``gaps``."""
    rows = [{"date": day(d), "spasms": spasm_days_.get(d, 0)} for d in range(first, last + 1)
            if d not in gaps]
    return pd.DataFrame(rows)


RELAPSE_DIARY = diary({0: 12, 1: 10, 2: 8, 3: 5, 4: 2, 40: 5, 41: 9, 42: 11}, 42)


def statuses(res: dict) -> list[str]:
    return [v["status"] for v in res["visits"]]


def test_definitions_are_documented() -> None:
    assert set(DEFINITIONS) == {"west-delphi", "ukiss", "iciss", "nisc"}
    for d in DEFINITIONS.values():
        assert d.source and d.text and d.name and d.wording.startswith('"') and d.choices


def test_west_delphi_response_then_relapse() -> None:
    res = evaluate("west-delphi", COURSE, START, RELAPSE_DIARY)
    assert res["outcome"] == "response"
    assert res["spasm_free_window"] == {"from_day": 5, "to_day": 32, "state": "free",
                                        "spasm_days": [], "missing_days": []}
    assert res["response_visit"]["day"] == 14
    assert res["relapse"]["day"] == 40 and res["relapse"]["visit_day"] == 42
    assert statuses(res) == ["baseline (before treatment)", "response", "relapse"]


def test_ukiss_iciss_nisc_on_the_same_course() -> None:
    assert evaluate("ukiss", COURSE, START, RELAPSE_DIARY)["outcome"] == "response"
    # ICISS and NISC windows include day 40-42: spasms there mean no response
    assert evaluate("iciss", COURSE, START, RELAPSE_DIARY)["outcome"] == "no response"
    assert evaluate("nisc", COURSE, START, RELAPSE_DIARY)["outcome"] == "no response"


def test_one_hour_eeg_on_day_20_without_diary_is_insufficient_everywhere() -> None:
    """The EEG shows no spasm in one hour of day 20: that is not N spasm-free days."""
    visits = [visit(0, 12, 5, reviewed=False), visit(20, 0, 2, reviewed=False)]
    for key in DEFINITIONS:
        res = evaluate(key, visits, START, None)
        assert res["outcome"] == "insufficient data", key
        assert res["clinical"] == "insufficient data", key
        assert any("diary" in m for m in res["missing"]), key
        assert res["relapse"] is None
    # reviewed, spasm-free EEGs do not change that
    reviewed = [visit(0, 12, 5), visit(14, 0, 2), visit(20, 0, 2), visit(42, 0, 1)]
    assert {evaluate(k, reviewed, START, None)["outcome"] for k in DEFINITIONS} == {
        "insufficient data"}


def test_reviewed_eeg_spasms_can_show_no_response_without_a_diary() -> None:
    res = evaluate("iciss", [visit(0, 12, 5), visit(20, 6, 5)], START, None)
    assert res["outcome"] == "no response"
    # the same events unreviewed decide nothing, and say so
    res = evaluate("iciss", [visit(0, 12, 5), visit(20, 6, 5, reviewed=False)], START, None)
    assert res["outcome"] == "insufficient data"
    assert any("review" in f for f in res["flags"])


def test_one_unreviewed_eeg_event_on_day_60_is_a_review_flag_not_a_relapse() -> None:
    visits = [visit(0, 12, 5), visit(14, 0, 2), visit(60, 1, 2, reviewed=False)]
    res = evaluate("west-delphi", visits, START, diary({0: 9, 1: 4, 2: 1}, 60))
    assert res["outcome"] == "response"
    assert res["relapse"] is None
    assert any(f.startswith(REVIEW_FLAG) and "day 60" in f for f in res["flags"])
    assert statuses(res)[-1] == "response sustained (EEG events: review)"
    # once reviewed and confirmed, the spasm is a relapse
    visits[-1] = visit(60, 1, 2, reviewed=True)
    res = evaluate("west-delphi", visits, START, diary({0: 9, 1: 4, 2: 1}, 59))
    assert res["relapse"]["day"] == 60 and not res["flags"]


def test_a_diary_gap_cannot_be_spasm_free() -> None:
    """A 5-day gap inside the 28-day West Delphi window leaves it undecided."""
    gap = range(15, 20)
    dia = diary({0: 9, 1: 4, 2: 1}, 60, gaps=gap)
    res = evaluate("west-delphi", [visit(0, 12, 5), visit(14, 0, 2)], START, dia)
    assert res["outcome"] == "insufficient data"
    assert res["spasm_free_window"]["missing_days"] == list(gap)
    assert any("15-19" in m for m in res["missing"])
    # the same diary without the gap: response
    full = diary({0: 9, 1: 4, 2: 1}, 60)
    assert evaluate("west-delphi", [visit(0, 12, 5), visit(14, 0, 2)], START,
                    full)["outcome"] == "response"


def test_diary_ranges_cover_spasm_free_days(tmp_path: Path) -> None:
    f = tmp_path / "diary.csv"
    f.write_text("date,time,spasms,to_date\n2024-01-01,07:30,12,\n"
                 "2024-01-02,,0,2024-02-15\n")
    dia = read_diary(f)
    assert len(dia) == 1 + 45 and dia["spasms"].sum() == 12
    res = evaluate("west-delphi", [visit(0, 12, 5), visit(14, 0, 2)], START, dia)
    assert res["outcome"] == "response"
    f.write_text("date,spasms,to_date\n2024-01-02,3,2024-01-05\n")
    with pytest.raises(InputError, match="to_date"):
        read_diary(f)


def test_nisc_as_published_needs_no_second_eeg() -> None:
    free = diary({0: 12}, 95)
    res = evaluate("nisc", COURSE[:2], START, free)
    assert res["outcome"] == "response" and res["relapse"] is None
    # hypsarrhythmia again before 3 months: not sustained
    res = evaluate("nisc", [*COURSE[:2], visit(60, 0, 4)], START, free)
    assert res["outcome"] == "no response"
    # the diary stops on day 60: remission to day 90 not shown
    res = evaluate("nisc", COURSE[:2], START, diary({0: 12}, 60))
    assert res["outcome"] == "insufficient data" and any("61-90" in m for m in res["missing"])


def test_insufficient_data_when_the_window_is_not_covered() -> None:
    short = diary({0: 12, 1: 3}, 20)  # diary stops on day 20
    res = evaluate("west-delphi", COURSE[:2], START, short)
    assert res["outcome"] == "insufficient data"
    assert statuses(res)[1] == "insufficient data"


def test_west_delphi_run_may_start_after_unrecorded_days() -> None:
    """A diary that starts on day 5 can still show 28 spasm-free days begun by day 14."""
    dia = diary({}, 40, first=5)
    res = evaluate("west-delphi", [visit(0, 12, 5), visit(14, 0, 2)], START, dia)
    assert res["outcome"] == "response"
    assert res["spasm_free_window"]["from_day"] == 5 and res["spasm_free_window"]["to_day"] == 32
    # a diary that starts on day 15 cannot: the run had to begin by day 14
    res = evaluate("west-delphi", [visit(0, 12, 5), visit(14, 0, 2)], START,
                   diary({}, 60, first=15))
    assert res["outcome"] == "insufficient data" and res["spasm_free_window"]["missing_days"]


def test_west_delphi_boundaries() -> None:
    # a spasm on day 13 is the last one allowed: the run days 14-41 must then be free
    ok = diary({0: 12, 13: 2}, 45)
    res = evaluate("west-delphi", [visit(0, 10, 5), visit(20, 0, 2)], START, ok)
    assert res["spasm_free_window"]["from_day"] == 14 and res["outcome"] == "response"
    # a spasm on day 14 falls inside the run that had to begin by day 14
    late = diary({0: 12, 14: 3}, 60)
    res = evaluate("west-delphi", [visit(0, 10, 5), visit(30, 0, 2)], START, late)
    assert res["outcome"] == "no response"


def test_persisting_hypsarrhythmia_is_no_electroclinical_response() -> None:
    res = evaluate("west-delphi", [visit(0, 10, 5), visit(14, 0, 4), visit(42, 0, 3)], START,
                   diary({0: 5}, 45))
    assert res["clinical"] == "response"
    assert res["outcome"] == "no response"
    # UKISS: clinical primary, EEG reported as secondary
    res = evaluate("ukiss", [visit(0, 10, 5), visit(14, 0, 4)], START, diary({0: 5}, 20))
    assert res["outcome"] == "response" and res["electroclinical"] == "no response"


def test_the_verdict_not_the_grade_decides_resolution() -> None:
    """The slow-wave form: BASED 3 with the verdict present is not a resolution."""
    slow = Visit(date=day(14), label="d14", spasms=0, grade=3, verdict="present", reviewed=True)
    res = evaluate("west-delphi", [visit(0, 10, 5), slow], START, diary({0: 5}, 45))
    assert res["eeg"]["state"] == "persists" and res["outcome"] == "no response"
    assert res["visits"][1]["hypsarrhythmia"] == "present"


def test_no_treatment_start() -> None:
    res = evaluate("ukiss", COURSE, [], RELAPSE_DIARY)
    assert res["outcome"] == "insufficient data"
    with pytest.raises(ParameterError):
        evaluate("nope", COURSE, START, None)


def test_spasm_days_and_window() -> None:
    days = spasm_days([*COURSE, visit(16, 3, 5, reviewed=False)], diary({2: 3}, 5, first=1), D0)
    assert days[0]["spasms"] == 14 and not days[0]["covered"]
    assert days[2]["spasms"] == 3 and days[5]["covered"] and days[5]["spasms"] == 0
    assert 10 not in days and days[14]["sources"] == ["reviewed EEG"]
    assert days[16]["unreviewed"] == 3 and days[16]["spasms"] == 0
    assert window_state(days, 3, 5) == ("free", [], [])
    assert window_state(days, 3, 8)[0] == "not covered"
    assert window_state(days, 3, 8)[2] == [6, 7, 8]
    assert window_state(days, 0, 3)[:2] == ("spasms", [0, 2])


def test_csv_readers(tmp_path: Path) -> None:
    v = tmp_path / "visits.csv"
    v.write_text("date,recording,label,event,drug,dose,reviewed_spasms\n"
                 "2024-01-01,a.edf,base,,,,4\n2024-01-01,,,start,ACTH,150 U/m2,\n")
    recs, trs = read_visits(v)
    assert recs[0]["recording"] == tmp_path / "a.edf"
    assert recs[0]["reviewed"] and recs[0]["reviewed_spasms"] == 4
    assert trs[0].drug == "ACTH" and trs[0].event == "start"
    v.write_text("date,recording\n2024-13-01,a.edf\n")
    with pytest.raises(InputError, match="ISO date"):
        read_visits(v)
    v.write_text("date,kind,event,drug\n2024-01-01,treatment,begin,ACTH\n")
    with pytest.raises(InputError):
        read_visits(v)
    dfile = tmp_path / "diary.csv"
    dfile.write_text("date,time,spasms\n2024-01-01,07:00,x\n")
    with pytest.raises(InputError, match="not a number"):
        read_diary(dfile)


# ------------------------------------------------------------------ end to end (simulated)
@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Day 0 classic hypsarrhythmia + clusters (prednisolone starts), day 14 responder, day 42
    relapse; 10-min recordings and a consistent caregiver diary."""
    from hypsa.simulate import simulate

    d = tmp_path_factory.mktemp("course")
    for name, kw in [("v00", dict(hypsarrhythmia="classic", n_clusters=2, seed=11)),
                     ("v14", dict(hypsarrhythmia="none", n_clusters=0, seed=12)),
                     ("v42", dict(hypsarrhythmia="classic", n_clusters=2, seed=13))]:
        simulate(600, emg=True, **kw).write_edf(d / f"{name}.edf")
    (d / "visits.csv").write_text(
        "date,kind,recording,label,event,drug,dose\n"
        "2024-01-01,recording,v00.edf,baseline,,,\n"
        "2024-01-01,treatment,,,start,prednisolone,40 mg/day\n"
        "2024-01-15,recording,v14.edf,day 14,,,\n"
        "2024-01-29,treatment,,,change,prednisolone,20 mg/day\n"
        "2024-02-05,treatment,,,stop,prednisolone,\n"
        "2024-02-12,recording,v42.edf,day 42,,,\n")
    rows = ["date,time,spasms,to_date"] + [f"2024-01-0{k + 1},07:30,{n},"
                                   for k, n in enumerate([12, 10, 8, 6, 3])]
    rows += ["2024-01-06,,0,2024-02-09"]  # observed spasm-free days
    rows += ["2024-02-10,08:00,5,", "2024-02-11,07:45,9,", "2024-02-12,08:10,11,"]
    (d / "diary.csv").write_text("\n".join(rows) + "\n")
    return d


def test_simulated_course_cli(course: Path) -> None:
    from typer.testing import CliRunner

    from hypsa.cli import app

    out = course / "out"
    r = CliRunner().invoke(app, ["response", str(course / "visits.csv"), "--diary",
                                 str(course / "diary.csv"), "--out", str(out),
                                 "--definition", "west-delphi"])
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "response.json").read_text())
    assert doc["outcome"] == "response"
    assert doc["response_visit"]["date"] == "2024-01-15"
    assert doc["relapse"]["visit"] == "2024-02-12"
    assert [v["status"] for v in doc["visits"]] == [
        "baseline (before treatment)", "response", "relapse"]
    v0, v14, v42 = doc["visits"]
    assert v0["based_grade"] >= 4 and v0["spasms"] > 0
    assert v14["based_grade"] < 4 and v14["spasms"] == 0
    assert v42["based_grade"] >= 4 and v42["spasms"] > 0
    for k in ("median_amplitude_uv", "perm_entropy", "connectivity", "per_hour", "n_clusters",
              "probability"):
        assert v14[k] is not None
    # 10-minute recordings: no per-24-h figure, a rate per hour with its interval
    assert all(v["per_24h"] is None and v["rate"]["per_hour_ci95"] for v in doc["visits"])
    assert v0["hypsarrhythmia"] == "present" and v14["hypsarrhythmia"] == "absent"
    assert not v42["reviewed"] and any(REVIEW_FLAG in f for f in doc["flags"])
    assert v14["median_amplitude_uv_change_pct"] < 0
    html = (out / "response.html").read_text(encoding="utf-8")
    assert "RESPONSE at 2024-01-15" in html and "RELAPSE from" in html
    assert "data:image/png;base64," in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert (out / "v14.report.html").is_file()
    # a second run reuses the saved analyses
    r = CliRunner().invoke(app, ["response", str(course / "visits.csv"), "--out", str(out),
                                 "--definition", "ukiss", "--no-reports"])
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "response.json").read_text())
    assert all(v["reused_analysis"] for v in doc["visits"])
    assert "no diary" in doc["evidence"] and doc["outcome"] == "insufficient data"
    assert doc["missing"] and "Missing to decide" in (out / "response.html").read_text()
    r = CliRunner().invoke(app, ["response", str(course / "visits.csv"), "--out", str(out),
                                 "--definition", "bogus"])
    assert r.exit_code == 2
