"""Scoring with timescoring: a hand-computed example reproduced exactly."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from hypsa.cli import app
from hypsa.errors import InputError, ParameterError
from hypsa.evaluate import evaluate_files, evaluate_folders, score_events


def _tsv(path, rows, duration=600.0):
    df = pd.DataFrame(rows, columns=["onset", "duration"])
    df["eventType"] = "sz_gen_m_spasms"
    df["recordingDuration"] = duration
    df.to_csv(path, sep="\t", index=False)
    return path


REF = [(100.0, 1.0), (110.0, 1.0), (125.0, 1.0), (400.0, 1.0), (410.0, 1.0)]
HYP = [(100.5, 1.0), (125.0, 1.0), (126.5, 1.0), (300.0, 1.0), (405.0, 1.0)]


def test_hand_computed_example():
    ref = pd.DataFrame(REF, columns=["onset", "duration"])
    hyp = pd.DataFrame(HYP, columns=["onset", "duration"])
    s = score_events(ref, hyp, 600.0, "spasm")
    # per spasm (±1 s): 100 and 125 are hit (126.5 starts inside 125's tolerance: not a false
    # detection), 110, 400, 410 missed; 300 and 405 are false detections
    assert (s.n_ref, s.tp, s.fp) == (5, 2, 2)
    assert s.sensitivity == pytest.approx(2 / 5)
    assert s.precision == pytest.approx(2 / 4)
    assert s.f1 == pytest.approx(2 * 2 / (2 * 2 + 2 + 3))
    assert s.fp_per_hour == pytest.approx(2 / (600 / 3600))
    c = score_events(ref, hyp, 600.0, "cluster")
    # per cluster (SzCORE: merge < 90 s, 30 s / 60 s tolerance): ref = 2 clusters
    # [100, 126] and [400, 411], both hit; hyp 300 is 100 s from 405: a false detection
    assert (c.n_ref, c.tp, c.fp) == (2, 2, 1)


def test_files_and_cli(tmp_path):
    r = _tsv(tmp_path / "a_events.tsv", REF)
    h = _tsv(tmp_path / "a.events.tsv", HYP)
    sc = evaluate_files(r, h)
    assert sc["spasm"].tp == 2 and sc["cluster"].tp == 2
    res = CliRunner().invoke(app, ["evaluate", str(r), str(h), "--json"])
    assert res.exit_code == 0, res.output
    assert '"tp": 2' in res.output


def test_folders_pair_by_name(tmp_path):
    (tmp_path / "ref").mkdir()
    (tmp_path / "hyp").mkdir()
    _tsv(tmp_path / "ref" / "x_events.tsv", REF)
    _tsv(tmp_path / "hyp" / "x.events.tsv", HYP)
    _tsv(tmp_path / "ref" / "y_events.tsv", [(50.0, 1.0)])
    _tsv(tmp_path / "hyp" / "y.events.tsv", [(50.2, 1.0)])
    df = evaluate_folders(tmp_path / "ref", tmp_path / "hyp")
    allrow = df[(df.recording == "ALL") & (df.level == "spasm")].iloc[0]
    assert allrow.tp == 3 and allrow.n_ref == 6


def test_bckg_rows_are_ignored(tmp_path):
    r = tmp_path / "r.tsv"
    pd.DataFrame({"onset": [0.0], "duration": [600.0], "eventType": ["bckg"],
                  "recordingDuration": [600.0]}).to_csv(r, sep="\t", index=False)
    sc = evaluate_files(r, r)
    assert sc["spasm"].n_ref == 0 and sc["spasm"].fp == 0


def test_bad_inputs(tmp_path):
    with pytest.raises(InputError):
        evaluate_files(tmp_path / "missing.tsv", tmp_path / "missing.tsv")
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\n1\t2\n")
    with pytest.raises(InputError, match="onset"):
        evaluate_files(bad, bad)
    with pytest.raises(ParameterError):
        score_events(pd.DataFrame(REF, columns=["onset", "duration"]),
                     pd.DataFrame(HYP, columns=["onset", "duration"]), 600.0, "nope")
    res = CliRunner().invoke(app, ["evaluate", str(bad), str(bad)])
    assert res.exit_code == 2
    assert res.output.count("\n") == 1
