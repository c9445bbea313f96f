"""The recording-level reading of the spasm candidates (:mod:`hypsa.spasm_recording`)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

import hypsa
from hypsa import spasm_recording as RR
from hypsa.analysis import AnalysisParams
from hypsa.model_files import models_dir
from hypsa.report.html import METHODS_TEXT, report_context
from hypsa.simulate import simulate_to_edf
from hypsa.spasm_score import INPUTS, ModelError, model_info
from hypsa.spasms import FEATURE_COLUMNS, SpasmParams


def _candidates(n: int, onset: np.ndarray, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c = pd.DataFrame({k: rng.uniform(0.2, 0.9, n) for k in FEATURE_COLUMNS})
    return c.assign(onset=onset, slow_ratio=rng.uniform(1.0, 4.0, n), emg_ratio=np.nan,
                    window=rng.normal(0.0, 2.0, n))


def test_the_shipped_recording_model_loads_and_its_hash_matches_its_card():
    booster, card = RR.load_model()
    text = (models_dir() / RR.MODEL_FILE).read_bytes()
    assert hashlib.sha256(text).hexdigest() == card["sha256"]
    assert booster.num_trees() > 10 and 0.0 < card["threshold"] < 1.0
    rec = [f for f in card["features"] if f.endswith(RR.SUFFIX)]
    assert rec == [f + RR.SUFFIX for f in RR.RECORDING_RELATIVE]
    assert set(card["features"]) - set(rec) <= set(INPUTS)
    assert card["recording_relative"]["span_s"] == RR.SPAN_S
    assert card["recording_relative"]["min_candidates"] == RR.MIN_CANDIDATES
    assert model_info()["recording"]["sha256"] == card["sha256"]
    # the second threshold, for a recording not called hypsarrhythmic, is never the stricter
    assert 0.0 < card["threshold_other"] <= card["threshold"]
    assert model_info()["recording"]["threshold_other"] == card["threshold_other"]


def test_a_recording_model_that_differs_from_its_card_is_refused(tmp_path):
    for f in (RR.MODEL_FILE, RR.CARD_FILE):
        (tmp_path / f).write_bytes((models_dir() / f).read_bytes())
    RR.load_model.__wrapped__(str(tmp_path))
    (tmp_path / RR.MODEL_FILE).write_text((tmp_path / RR.MODEL_FILE).read_text() + "\n")
    with pytest.raises(ModelError, match="sha256"):
        RR.load_model.__wrapped__(str(tmp_path))


def test_each_candidate_is_read_against_the_candidates_around_it():
    # two stretches 2000 s apart, the second at twice the wave size: each against its own
    on = np.r_[np.linspace(0.0, 500.0, 30), np.linspace(2500.0, 3000.0, 30)]
    a = _candidates(30, on[:30])
    b = a.assign(onset=on[30:], slow_ratio=a["slow_ratio"] * 2.0)
    c, count = RR.recording_relative(pd.concat([b, a], ignore_index=True))  # any order
    col = c["log_slow_ratio" + RR.SUFFIX].to_numpy()
    assert np.allclose(col[:30], col[30:]) and col.std() > 0.1
    assert (count == 30).all()
    # a span that joins them reads them together: the doubled stretch stands out
    c2, count2 = RR.recording_relative(pd.concat([b, a], ignore_index=True), span_s=5000.0)
    col2 = c2["log_slow_ratio" + RR.SUFFIX].to_numpy()
    assert (count2 == 60).all() and col2[:30].mean() > col2[30:].mean() + 0.5


def test_the_grades_decide_which_threshold_reads_a_recording():
    _, card = RR.load_model()
    low = {"grade": 1, "slow_variant": False, "not_assessed": []}
    assert RR.called_hypsarrhythmic([]) is None
    assert RR.called_hypsarrhythmic([{"grade": None}]) is None
    assert RR.called_hypsarrhythmic([low, {"grade": 4}]) is True
    assert RR.called_hypsarrhythmic([low, {"grade": 3, "slow_variant": True}]) is True
    assert RR.called_hypsarrhythmic([low, {"grade": 2}]) is False
    # a reduced montage that could not assess a criterion may hide hypsarrhythmia
    assert RR.called_hypsarrhythmic([{**low, "not_assessed": ["grouped spikes"]}]) is None
    assert RR.threshold_for(False)[0] == card["threshold_other"]
    assert "do not call" in RR.threshold_for(False)[1]
    assert RR.threshold_for(True)[0] == RR.threshold_for(None)[0] == card["threshold"]
    # a minimum confidence set by the user is the threshold, whatever the grades say
    assert RR.threshold_for(False, 0.5)[0] == RR.threshold_for(True, 0.5)[0] == 0.5
    assert "asked for" in RR.threshold_for(False, 0.5)[1]


def test_too_few_candidates_leave_the_windows_decision():
    c = _candidates(RR.MIN_CANDIDATES - 1, np.linspace(0.0, 300.0, RR.MIN_CANDIDATES - 1))
    c = c.assign(confidence=0.5, keep=False, eeg_decrement=False)
    assert RR.reread(c, SpasmParams()) is None


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    out = simulate_to_edf(tmp_path_factory.mktemp("rr") / "sim.edf", 900, n_clusters=3,
                          seed=5, emg=False)
    truth = pd.read_csv(str(out).replace(".edf", "_events.tsv"), sep="\t")
    return out, truth


def test_the_recording_level_reading_finds_plain_spasms(simulated):
    path, truth = simulated
    truth = truth[truth["eventType"] == "sz_gen_m_spasms"]
    res = hypsa.analyze(path)
    assert res.summary_["spasms"]["model"]["recording"]["sha256"]
    on = res.events.loc[res.events["trial_type"].str.startswith("spasm"), "onset"].to_numpy()
    found = [bool(on.size) and np.min(np.abs(on - t)) <= 1.0 for t in truth["onset"]]
    assert len(truth) >= 10 and np.mean(found) >= 0.9
    assert len(on) <= len(truth) + 1
    # read window by window, the same recording gives its own answer (the reading is used)
    win = hypsa.analyze(path, params=AnalysisParams(recording_level=False))
    assert not res.events[["onset", "confidence"]].equals(win.events[["onset", "confidence"]])
    # hypsarrhythmic: read at the first threshold, and the summary says so
    assert res.present
    assert res.summary_["spasms"]["recording_threshold"] == RR.load_model()[1]["threshold"]
    assert "call the recording hypsarrhythmic" in res.summary_["spasms"][
        "recording_threshold_rule"]


def test_a_normal_background_is_read_at_the_second_threshold(tmp_path):
    path = simulate_to_edf(tmp_path / "normal.edf", 900, hypsarrhythmia="none", n_clusters=3,
                           seed=7, emg=False)
    truth = pd.read_csv(str(path).replace(".edf", "_events.tsv"), sep="\t")
    truth = truth[truth["eventType"] == "sz_gen_m_spasms"]
    res = hypsa.analyze(path)
    sp = res.summary_["spasms"]
    assert not res.present
    assert sp["recording_threshold"] == RR.load_model()[1]["threshold_other"]
    assert "do not call" in sp["recording_threshold_rule"]
    methods = METHODS_TEXT.format(**report_context(res))
    assert f"this recording was read at {sp['recording_threshold']:.2f}" in methods
    on = res.events.loc[res.events["trial_type"].str.startswith("spasm"), "onset"].to_numpy()
    found = [bool(on.size) and np.min(np.abs(on - t)) <= 1.0 for t in truth["onset"]]
    assert len(truth) >= 10 and np.mean(found) >= 0.8
    assert len(on) <= len(truth) + 1


def test_the_quartiles_are_numpys_to_the_last_bit():
    import warnings

    rng = np.random.default_rng(3)
    for k in range(300):
        v = rng.normal(size=(int(rng.integers(1, 80)), 10)) * 5.0
        if k % 3 == 0:
            v[rng.random(v.shape) < 0.3] = np.nan
        if k % 7 == 0:
            v[:, 3] = np.nan  # an input missing over the whole span
        if k % 5 == 0:
            v = np.round(v)  # ties
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ref = np.nanpercentile(v, [25.0, 50.0, 75.0], axis=0)
        assert np.array_equal(RR._quartiles(v), ref, equal_nan=True)
