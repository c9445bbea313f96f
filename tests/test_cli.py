"""The main commands end to end: analyze (with a bad file among good ones), demo, export."""

from __future__ import annotations

import json

import mne
import pandas as pd
import pytest
from typer.testing import CliRunner

from hypsa.cli import app
from hypsa.simulate import simulate
from hypsa.spasms import SPASM_EEG, SPASM_TYPES, SpasmParams

runner = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("eeg")
    simulate(360, hypsarrhythmia="classic", n_clusters=1, emg=True, seed=21).write_edf(
        d / "infant.edf")
    simulate(360, hypsarrhythmia="classic", n_clusters=1, emg=False, seed=21).write_edf(
        d / "infant_eeg_only.edf")
    (d / "broken.edf").write_bytes(b"0       not an EDF header at all")
    return d


def test_analyze_reports_bad_file_and_writes_the_others(folder, tmp_path):
    before = (folder / "infant.edf").read_bytes()
    res = runner.invoke(app, ["analyze", str(folder), "--out", str(tmp_path), "--quiet"])
    assert res.exit_code == 2
    errors = [ln for ln in res.output.splitlines() if ln.startswith("hypsa: error")]
    assert len(errors) == 1 and "broken.edf" in errors[0]
    assert "Traceback" not in res.output
    summary = json.loads((tmp_path / "infant.summary.json").read_text())
    assert summary["hypsarrhythmia"]["present"] is True
    assert summary["spasms"]["count"] >= 1
    for ext in ("epochs.tsv", "grades.tsv", "events.tsv", "report.html"):
        assert (tmp_path / f"infant.{ext}").is_file()
    assert (folder / "infant.edf").read_bytes() == before  # input never written


def test_analyze_missing_file_one_line(tmp_path):
    res = runner.invoke(app, ["analyze", str(tmp_path / "nope.edf"), "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert res.output.strip().count("\n") == 0 and "nope.edf" in res.output


def test_the_operating_point_and_the_cluster_gap_are_set_on_the_command_line(folder, tmp_path):
    runs = {}
    for name, extra in (("default", []),
                        ("strict", ["--spasm-threshold", "0.999", "--cluster-gap", "5"])):
        out = tmp_path / name
        res = runner.invoke(app, ["analyze", str(folder / "infant.edf"), "--out", str(out),
                                  "--quiet", "--no-report", "--jobs", "1", *extra])
        assert res.exit_code == 0, res.output
        runs[name] = json.loads((out / "infant.summary.json").read_text())["spasms"]
        events = pd.read_csv(out / "infant.events.tsv", sep="\t")
        # EEG-only spasms meet the operating point; a spasm backed by a time-locked EMG burst
        # needs SpasmParams.movement_confidence; eeg_decrement rows are not spasms
        floor = runs[name]["min_confidence"]
        eeg_only = events[events["trial_type"] == SPASM_EEG]
        assert (eeg_only["confidence"] >= floor).all()
        spasm_rows = events[events["trial_type"].isin(SPASM_TYPES)]
        assert (spasm_rows["confidence"] >= min(floor, SpasmParams().movement_confidence)).all()
    assert runs["strict"]["min_confidence"] == 0.999
    assert runs["default"]["min_confidence"] < 0.999
    assert runs["strict"]["cluster_gap_s"] == 5.0 and runs["default"]["cluster_gap_s"] == 120.0
    assert runs["strict"]["count"] <= runs["default"]["count"]
    # from EEG alone the operating point alone decides: fewer spasms at 0.999
    counts = {}
    for name, thr in (("default", []), ("strict", ["--spasm-threshold", "0.999"])):
        out = tmp_path / f"eeg-{name}"
        res = runner.invoke(app, ["analyze", str(folder / "infant_eeg_only.edf"), "--out",
                                  str(out), "--quiet", "--no-report", "--jobs", "1", *thr])
        assert res.exit_code == 0, res.output
        counts[name] = json.loads((out / "infant_eeg_only.summary.json").read_text())["spasms"]
    assert counts["strict"]["count"] < counts["default"]["count"]


@pytest.mark.parametrize("option, value", [("--spasm-threshold", "1.5"),
                                           ("--spasm-threshold", "0"),
                                           ("--cluster-gap", "-3")])
def test_a_bad_operating_point_is_one_line(folder, tmp_path, option, value):
    res = runner.invoke(app, ["analyze", str(folder / "infant.edf"), "--out", str(tmp_path),
                              option, value])
    assert res.exit_code == 2
    assert res.output.strip().count("\n") == 0 and option in res.output
    assert "Traceback" not in res.output and not any(tmp_path.iterdir())


def test_export_annotations_open_in_mne(folder, tmp_path):
    out = tmp_path / "res"
    runner.invoke(app, ["analyze", str(folder / "infant.edf"), "--out", str(out), "--quiet",
                        "--no-report"])
    events = pd.read_csv(out / "infant.events.tsv", sep="\t")
    annotated = tmp_path / "annotated.edf"
    res = runner.invoke(app, ["export-annotations", str(folder / "infant.edf"),
                              str(out / "infant.events.tsv"), "--out", str(annotated)])
    assert res.exit_code == 0, res.output
    raw = mne.io.read_raw_edf(annotated, preload=False, verbose="error")
    spasm = [a for a in raw.annotations if a["description"].startswith("hypsa spasm")]
    assert len(spasm) == len(events)
    assert spasm[0]["onset"] == pytest.approx(events.onset.iloc[0], abs=0.01)
    # one annotation per cluster of two or more, spanning its spasms
    clusters = [a for a in raw.annotations if a["description"].startswith("hypsa cluster")]
    sizes = events.groupby("cluster").size()
    assert len(clusters) == int((sizes >= 2).sum()) >= 1
    first = events[events.cluster == sizes[sizes >= 2].index[0]]
    assert clusters[0]["onset"] == pytest.approx(first.onset.min(), abs=0.01)
    assert clusters[0]["description"] == f"hypsa cluster {first.cluster.iat[0] + 1}: " \
        f"{len(first)} spasms"
    assert len(raw.ch_names) >= 19  # a copy of the recording, signals kept


def test_demo_prints_report_path(tmp_path):
    res = runner.invoke(app, ["demo", "--out", str(tmp_path), "--hours", "0.1"])
    assert res.exit_code == 0, res.output
    assert "Report:" in res.output
    report = res.output.split("Report:")[1].strip().splitlines()[0]
    assert report.endswith(".report.html")
