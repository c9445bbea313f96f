"""One hypsarrhythmia verdict: the rule that decides it, and the same verdict everywhere."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from hypsa.verdict import (
    ABSENT,
    NOT_ASSESSABLE,
    PRESENT,
    SCORE_LABEL,
    grade_label,
    hypsarrhythmia_verdict,
)


def block(grade: int | None, slow: bool = False, present: bool | None = None) -> dict:
    return {"based_score": grade, "probability": None if grade is None else 0.9,
            "present": bool(present if present is not None else (grade or 0) >= 4 or slow),
            "evidence": {"graded_epoch": {"slow_variant": slow}, "epochs_graded": 3}}


@pytest.mark.parametrize(("grade", "slow", "verdict"), [
    (None, False, NOT_ASSESSABLE), (0, False, ABSENT), (2, False, ABSENT), (3, False, ABSENT),
    (3, True, PRESENT), (4, False, PRESENT), (5, False, PRESENT)])
def test_verdict_rules(grade: int | None, slow: bool, verdict: str) -> None:
    v = hypsarrhythmia_verdict(block(grade, slow))
    assert v["verdict"] == verdict
    assert v["verdict_rule"]
    assert v["probability_label"] == SCORE_LABEL and "not a probability" in SCORE_LABEL
    if slow:
        assert "slow-wave form" in v["verdict_rule"]


def test_the_rule_names_what_could_not_be_assessed() -> None:
    nog = {**block(None), "evidence": {"criteria_met": ["not graded: fewer than 3 usable EEG "
                                                        "channels"]}}
    v = hypsarrhythmia_verdict(nog)
    assert v["verdict"] == NOT_ASSESSABLE and "fewer than 3 usable" in v["verdict_rule"]
    reduced = block(2)
    reduced["evidence"]["montage"] = {"not_assessed": ["multifocality: needs >= 2 electrodes "
                                                       "on each side (0 left, 4 right)"]}
    v = hypsarrhythmia_verdict(reduced)
    assert v["verdict"] == NOT_ASSESSABLE and "multifocality" in v["verdict_rule"]
    reduced["based_score"] = 4  # what is found stands
    assert hypsarrhythmia_verdict(reduced)["verdict"] == PRESENT


def test_grade_label_never_contradicts_the_verdict() -> None:
    for grade in range(6):
        for slow in (False, True):
            label = grade_label(block(grade, slow and grade == 3))
            assert "not hypsarrhythmia" not in label
            v = hypsarrhythmia_verdict(block(grade, slow and grade == 3))["verdict"]
            if v == ABSENT:
                assert "hypsarrhythmia" not in label
    assert "slow-wave form" in grade_label(block(3, True))
    assert grade_label(block(None)) is None


def test_a_stored_verdict_is_read_back_as_written() -> None:
    stored = {**block(3), "verdict": PRESENT, "verdict_rule": "reviewed"}
    assert hypsarrhythmia_verdict(stored)["verdict"] == PRESENT
    # an older summary without the field: decided from its grade and slow-form flag
    assert hypsarrhythmia_verdict(block(3, True))["verdict"] == PRESENT
    # a verdict set on review over the machine's rule says so, and the label follows the grade
    machine = {**block(5), **hypsarrhythmia_verdict(block(5))}
    reviewed = {**machine, "based_score": 3, "verdict": ABSENT, "present": False}
    v = hypsarrhythmia_verdict(reviewed)
    assert v["verdict"] == ABSENT and v["verdict_rule"].startswith("highest BASED grade 3")
    assert v["grade_label"].startswith("epileptiform")
    v = hypsarrhythmia_verdict({**machine, "verdict": ABSENT, "present": False})
    assert v["verdict_rule"].startswith("set on review") and "present" in v["verdict_rule"]


# ------------------------------------------------------------------ the slow-wave form, end to end
@pytest.fixture(scope="module")
def slow_form(tmp_path_factory: pytest.TempPathFactory):
    """A 10-min modified hypsarrhythmia of the slow-wave form, analysed. Where the grading finds
    more than grade 3 in it, its grade result is set to the slow-form case as the grading reports
    it (BASED 3, ``graded_epoch.slow_variant``) and the verdict decided again, as
    :meth:`hypsa.results.Analysis.build` does: the verdict is a function of the grade result."""
    from hypsa.analysis import analyze
    from hypsa.simulate import simulate

    d = tmp_path_factory.mktemp("slow")
    edf = simulate(600, hypsarrhythmia="modified", variant="slow", n_clusters=0, seed=0,
                   emg=True).write_edf(d / "slow_form.edf")
    res = analyze(edf)
    h = res.summary_["hypsarrhythmia"]
    if h["based_score"] != 3 or not h["evidence"]["graded_epoch"].get("slow_variant"):
        for k in ("verdict", "verdict_rule", "grade_label", "probability_label"):
            h.pop(k, None)
        h["based_score"] = 3
        h["evidence"]["graded_epoch"]["slow_variant"] = True
        h.update(hypsarrhythmia_verdict(h))
        h["present"] = h["verdict"] == PRESENT
    res.save(d)
    return res, d, edf


def test_slow_wave_form_shows_one_verdict_everywhere(slow_form) -> None:
    from hypsa.report import write_report
    from hypsa.response import Treatment, evaluate, visit_from_analysis

    res, d, edf = slow_form
    h = json.loads((d / "slow_form.summary.json").read_text())["hypsarrhythmia"]
    assert h["based_score"] == 3
    assert h["verdict"] == PRESENT and h["present"] is True
    assert "slow-wave form" in h["verdict_rule"]
    assert "not hypsarrhythmia" not in h["grade_label"]
    # the text summary
    text = res.summary()
    assert "Hypsarrhythmia PRESENT" in text and "absent" not in text.split("\n")[1]
    # the report: the verdict box and the grade line agree
    html = write_report(res, d, source=edf).read_text(encoding="utf-8")
    assert "Hypsarrhythmia PRESENT" in html
    assert "not hypsarrhythmia" not in html and "hypsarrhythmia absent" not in html.lower()
    # the response: the visit counts as hypsarrhythmic
    v = visit_from_analysis(res, date(2024, 1, 1))
    assert v.verdict == PRESENT and v.grade == 3
    doc = evaluate("west-delphi", [v], [Treatment(date(2024, 1, 1), "start", "ACTH")])
    assert doc["visits"][0]["hypsarrhythmia"] == PRESENT


def test_summary_json_carries_the_fields(slow_form) -> None:
    res, d, _ = slow_form
    s = json.loads((Path(d) / "slow_form.summary.json").read_text())
    h = s["hypsarrhythmia"]
    for k in ("verdict", "verdict_rule", "grade_label", "probability_label"):
        assert h[k], k
    rate = s["spasms"]["rate"]
    assert rate["per_24h"] is None and s["spasms"]["per_24h"] is None  # 10 minutes: < 1 h
    assert rate["min_hours_for_24h"] == 1.0


def test_cohort_row_reads_the_verdict_old_summaries_included(tmp_path: Path) -> None:
    """The batch cohort table shows the verdict; a summary written before the field existed
    gets it from its grade and slow-form flag."""
    from hypsa.batch import BatchItem, cohort_row

    item = BatchItem(path=tmp_path / "a.edf", rel="a.edf", out_dir=tmp_path, stem="a")
    old = {"duration_s": 600.0, "recorded_s": 600.0, "analysed_s": 600.0, "excluded_s": 0.0,
           "hypsarrhythmia": {**block(3, slow=True), "present": True, "probability": 0.6},
           "spasms": {"count": 2, "per_hour": 12.0, "per_24h": 288.0, "n_clusters": 1},
           "quality": {"bad_channels": []}}
    item.marker.write_text(json.dumps(old))
    row = cohort_row(item, "skipped")
    assert row["verdict"] == PRESENT and row["present"] is True and row["based_score"] == 3
    old["hypsarrhythmia"] = block(None)
    item.marker.write_text(json.dumps(old))
    row = cohort_row(item, "skipped")
    assert row["verdict"] == NOT_ASSESSABLE and row["present"] is False
