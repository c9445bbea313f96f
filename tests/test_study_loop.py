"""The whole loop on simulated recordings: hypsa analyses them, simulated readers score them,
``hypsa study agreement`` puts hypsa among the readers; ``hypsa calibrate`` on the same
recordings (their truth as the reviews) and ``hypsa analyze --model`` naming the site model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("krippendorff")
pytest.importorskip("pingouin")

from hypsa.study.agreement import read_study, write_study  # noqa: E402
from hypsa.study.calibrate import SiteModel  # noqa: E402
from hypsa.study.simulate import ReaderProfile, simulate_study, truth_from_simulations  # noqa: E402

CASES = [("classic", 5), ("none", 0), ("classic", 5), ("none", 0)]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from hypsa.cli import app; app()", *args],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four 2-minute simulated recordings (EDF + their true spasms as ``_events.tsv``) and
    hypsa's analysis of them."""
    from hypsa.simulate import simulate

    d = tmp_path_factory.mktemp("loop")
    rec = d / "reviewed"
    rec.mkdir()
    sims = {}
    for k, (form, _) in enumerate(CASES):
        s = simulate(120, hypsarrhythmia=form, n_clusters=1, seed=40 + k)
        s.write_edf(rec / f"rec{k}.edf")
        sims[f"rec{k}"] = s
        # the reviewers confirmed two spasms in three (and rejected the others)
        ev = s.events[["onset", "duration"]]
        ev[[i % 3 != 2 for i in range(len(ev))]].to_csv(rec / f"rec{k}.reviewed.tsv", sep="\t",
                                                       index=False)
    pd.DataFrame({"recording": list(sims), "patient": ["A", "A", "B", "B"]}).to_csv(
        rec / "patients.tsv", sep="\t", index=False)
    r = _cli("analyze", str(rec), "--out", str(d / "study" / "hypsa"), "--no-report", "-q",
             "-j", "1")
    assert r.returncode == 0, r.stderr
    truth = truth_from_simulations(sims, {f"rec{k}": g for k, (_, g) in enumerate(CASES)})
    st = simulate_study(truth, [ReaderProfile("A", 0.1, 2.0, 0.2, 0.0, 0.4),
                                ReaderProfile("B", 0.2, 4.0, 0.3, -0.3, 0.6)], seed=1)
    write_study(st, d / "study")
    return d


@pytest.mark.slow
def test_hypsa_joins_the_study(folder):
    st = read_study(folder / "study")
    assert st.algorithm == "hypsa" and st.readers == ["A", "B"]
    r = _cli("study", "agreement", str(folder / "study"), "--n-boot", "100")
    assert r.returncode == 0, r.stderr
    ev = pd.read_csv(folder / "study" / "agreement" / "events_pairs.csv")
    assert {"reader-reader", "hypsa-reader", "hypsa-majority"} <= set(ev["kind"])
    assert "hypsa" in r.stdout


@pytest.mark.slow
def test_calibrate_and_analyze_with_a_site_model(folder, tmp_path):
    r = _cli("calibrate", str(folder / "reviewed"), "--out", str(tmp_path / "site"), "--no-refit")
    # accepted or refused: either way the card holds both decisions' held-out numbers
    card = json.loads((tmp_path / "site" / "card.json").read_text())
    assert r.returncode in (0, 2), r.stderr
    assert (r.returncode == 0) == (card["status"] == "accepted")
    assert {"shipped", "site"} <= set(card["held_out"]) and card["data"]["patients"] == 2
    if r.returncode == 2:
        assert "refused" in r.stderr and r.stderr.count("\n") == 1
    # a site model file, used by analyze --model and named in its output
    m = SiteModel(name="test site", kind="calibration", threshold=0.3, coef=[1.0])
    m.save(tmp_path / "m")
    out = tmp_path / "out"
    r = _cli("analyze", str(folder / "reviewed" / "rec0.edf"), "--model", str(tmp_path / "m"),
             "--out", str(out), "--no-report", "-q", "-j", "1")
    assert r.returncode == 0, r.stderr
    s = json.loads((out / "rec0.summary.json").read_text())
    assert s["spasms"]["model"]["name"] == "test site"
    assert s["spasms"]["model"]["sha256"] == m.sha256()
    ev = pd.read_csv(out / "rec0.events.tsv", sep="\t")
    spasm = ev[ev["trial_type"].astype(str).str.startswith("spasm")] if "trial_type" in ev \
        else ev
    assert (spasm["confidence"] >= 0.3).all()
    r = _cli("analyze", str(folder / "reviewed" / "rec0.edf"), "--model", str(tmp_path / "m"),
             "--spasm-threshold", "0.5", "--out", str(out))
    assert r.returncode == 2 and "--model" in r.stderr
