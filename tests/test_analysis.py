"""End-to-end analysis on simulated recordings with known truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hypsa.analysis import AnalysisParams, analyze
from hypsa.evaluate import score_events
from hypsa.io import Recording
from hypsa.results import load
from hypsa.simulate import simulate

DUR = 600.0

HYPS = [("classic", None), ("modified", "attenuation"), ("modified", "asymmetry"),
        ("modified", "focus"), ("modified", "synchronous"), ("modified", "fragmented")]
NEGATIVE = ["normal", "sleep_slow", "single_focus", "burst_suppression"]


@pytest.mark.parametrize(("form", "variant"), HYPS)
def test_hypsarrhythmia_forms_are_found(form, variant):
    sim = simulate(DUR, hypsarrhythmia=form, variant=variant, n_clusters=1, seed=11)
    a = analyze(sim.to_recording())
    h = a.summary_["hypsarrhythmia"]
    assert h["present"], h
    assert h["based_score"] >= 4
    assert h["probability"] > 0.5
    assert h["evidence"]["criteria_met"]
    assert h["evidence"]["graded_epoch"]["n_foci"] >= 3


@pytest.mark.parametrize("seed", [0, 2])
def test_slow_wave_form_is_found_though_graded_three(seed):
    """Mostly high-voltage slow waves with few spikes: BASED 3 at most, still hypsarrhythmia."""
    sim = simulate(DUR, hypsarrhythmia="modified", variant="slow", n_clusters=0, seed=seed)
    h = analyze(sim.to_recording()).summary_["hypsarrhythmia"]
    assert h["present"], h
    assert h["probability"] > 0.5
    if h["based_score"] == 3:
        assert h["evidence"]["graded_epoch"]["slow_variant"]
        assert any("slow-wave form" in c for c in h["evidence"]["criteria_met"])


@pytest.mark.parametrize("background", NEGATIVE)
def test_hard_negatives_are_not_hypsarrhythmia(background):
    sim = simulate(DUR, hypsarrhythmia="none", background=background, n_clusters=0, seed=12)
    a = analyze(sim.to_recording())
    h = a.summary_["hypsarrhythmia"]
    assert not h["present"], h
    assert h["based_score"] <= 3
    assert h["probability"] < 0.5


@pytest.fixture(scope="module")
def classic():
    sim = simulate(900.0, hypsarrhythmia="classic", n_clusters=2, emg=False, seed=5)
    return sim, analyze(sim.to_recording())


def test_spasms_found_on_hypsarrhythmic_background(classic):
    sim, a = classic
    s = score_events(sim.events, a.events, sim.duration, "spasm")
    assert s.sensitivity >= 0.85, s
    assert s.fp <= 2, s
    assert a.summary_["spasms"]["n_clusters"] == len(sim.clusters)
    assert set(a.events.columns) >= {"onset", "duration", "confidence", "cluster", "features"}
    assert a.events["confidence"].between(0, 1).all()
    # EEG alone: the count is said to be a lower bound, with the out-of-generator figures
    assert a.summary_["spasms"]["movement_channel"] is None
    note = a.summary_["spasms"]["detection_note"]
    assert "EEG alone" in note and "lower bound" in note and note in a.summary()
    # classic hypsarrhythmia: few attenuation episodes, no warning about them
    assert a.summary_["spasms"]["attenuated_background"] is False
    assert "attenuation episodes" not in note


def test_frequent_attenuation_episodes_are_flagged_from_eeg_alone():
    """Modified hypsarrhythmia with attenuation episodes: where the EEG alone finds fewest
    spasms out of generator, the summary and the note say so."""
    sim = simulate(600.0, hypsarrhythmia="modified", variant="attenuation", n_clusters=1,
                   emg=False, seed=3)
    sp = analyze(sim.to_recording()).summary_["spasms"]
    assert sp["attenuated_background"] is True
    assert sp["attenuations_per_min"] >= 1.5
    assert "frequent attenuation episodes" in sp["detection_note"]


def test_emg_improves_or_keeps_detection():
    sim = simulate(900.0, hypsarrhythmia="classic", n_clusters=2, emg=True, seed=5)
    a = analyze(sim.to_recording())
    s = score_events(sim.events, a.events, sim.duration, "spasm")
    assert s.sensitivity >= 0.9, s
    assert s.fp <= 2, s
    assert a.summary_["spasms"]["movement_channel"] == "EMG"
    assert "movement channel (EMG)" in a.summary_["spasms"]["detection_note"]


def test_a_flat_emg_channel_is_not_a_movement_channel():
    """An unconnected (flat) EMG channel, common in clinical exports, must not make the output
    claim the sensitivity of EEG with a movement channel."""
    sim = simulate(120.0, hypsarrhythmia="classic", n_clusters=1, emg=True, seed=2)
    rec = sim.to_recording()
    names = [c.name for c in rec.channels]
    kinds = [c.kind for c in rec.channels]
    data = rec.get_data(picks=names)
    emg = kinds.index("emg")
    data[emg] = 0.0
    a = analyze(data, sfreq=rec.channels[0].sfreq, ch_names=names, ch_types=kinds)
    sp = a.summary_["spasms"]
    assert sp["movement_channel"] is None
    assert "EEG alone" in sp["detection_note"] and "flat" in sp["detection_note"]


def test_epochs_table_and_save_load(classic, tmp_path):
    sim, a = classic
    ep = a.to_frame()
    assert len(ep) == int(900 / 15)
    for col in ("onset", "amp_bipolar_median_uv", "perm_entropy", "connectivity", "spikes",
                "artifact_fraction", "excluded", "grade", "state"):
        assert col in ep
    a.stem = "sim"
    paths = a.save(tmp_path)
    summary = json.loads(paths["summary"].read_text())
    for key in ("file", "duration_s", "analysed_s", "excluded_s", "hypsarrhythmia", "spasms",
                "quality", "hypsa_version"):
        assert key in summary
    spasm_rows = a.events["trial_type"].isin(["spasm_eeg", "spasm_eeg_movement"])
    assert summary["spasms"]["count"] == int(spasm_rows.sum())
    ev = pd.read_csv(paths["events"], sep="\t")
    assert list(ev.columns[:8]) == ["onset", "duration", "eventType", "trial_type", "confidence",
                                    "channels", "dateTime", "recordingDuration"]
    # EEG only: the EEG pattern of a generalized seizure (eventType sz_gen), no motor claim
    kinds = {"spasm_eeg": "sz_gen", "spasm_eeg_movement": "sz_gen_m_spasms",
             "eeg_decrement": "eeg_decrement"}
    assert (ev.eventType == ev.trial_type.map(kinds)).all()
    assert (ev.trial_type != "spasm_eeg_movement").all()
    b = load(tmp_path, "sim")
    assert b.based_score == a.based_score and len(b.events) == len(a.events)
    assert "hypsa" in a.summary()


def test_no_spasm_recording_gets_bckg_row(tmp_path):
    sim = simulate(300.0, hypsarrhythmia="none", n_clusters=0, seed=3)
    a = analyze(sim.to_recording())
    a.stem = "quiet"
    ev = pd.read_csv(a.save(tmp_path)["events"], sep="\t")
    if len(a.events) == 0:
        assert list(ev.eventType) == ["bckg"]
        assert ev.duration.iloc[0] == pytest.approx(300.0)


def test_artifact_windows_are_excluded_and_counted():
    rng = np.random.default_rng(0)
    fs = 128.0
    n = int(600 * fs)
    data = rng.standard_normal((19, n)).astype(np.float32) * 15
    data[:, : n // 2] = rng.standard_normal((19, n // 2)) * 2000  # non-physiological
    names = ["Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz", "C4", "T8", "P7",
             "P3", "Pz", "P4", "P8", "O1", "O2"]
    a = analyze(Recording.from_array(data, fs, names))
    assert a.summary_["excluded_s"] >= 250
    assert a.epochs["excluded"].sum() >= 18
    assert a.summary_["analysed_s"] <= 350


def test_dead_channel_reported_and_excluded():
    sim = simulate(300.0, hypsarrhythmia="classic", n_clusters=0, artifacts=False, seed=4)
    data = sim.data.copy()
    data[sim.ch_names.index("O2")] = 0.0
    rec = Recording.from_array(data, sim.sfreq, sim.ch_names, ch_types=sim.ch_types)
    a = analyze(rec)
    assert "O2" in a.summary_["quality"]["bad_channels"]
    assert a.present


def test_parallel_equals_serial(tmp_path):
    sim = simulate(700.0, hypsarrhythmia="classic", n_clusters=1, seed=9)
    edf = sim.write_edf(tmp_path / "par.edf")
    a1 = analyze(edf, n_jobs=1)
    a2 = analyze(edf, n_jobs=2)
    pd.testing.assert_frame_equal(a1.epochs, a2.epochs)
    pd.testing.assert_frame_equal(a1.events, a2.events)
    assert a1.summary_["hypsarrhythmia"] == a2.summary_["hypsarrhythmia"]


def test_params_are_plain_and_documented():
    p = AnalysisParams()
    assert p.grading.high_uv == 200.0
    assert p.spasms.cluster_gap_s > 60


def test_a_lone_spasm_is_counted_but_is_not_a_cluster():
    from dataclasses import asdict

    from hypsa.analysis import AnalysisParams
    from hypsa.results import Analysis
    from hypsa.spasms import cluster_spasms

    sim = simulate(1200.0, hypsarrhythmia="classic", n_clusters=1, seed=21)
    rec = sim.to_recording()
    a = analyze(rec)
    assert a.summary_["spasms"]["n_clusters"] >= 1
    on = a.events["onset"].to_numpy()
    free = [t for t in np.arange(5.0, 1190.0, 5.0) if np.abs(on - t).min() > 130.0]
    if not free:
        pytest.skip("no room for a lone spasm away from the cluster")
    lone = a.events.iloc[[0]].copy()
    lone["onset"] = free[0]
    ev = pd.concat([a.events, lone], ignore_index=True).sort_values("onset").reset_index(drop=True)
    ev["cluster"] = cluster_spasms(ev["onset"].to_numpy(), 120.0)
    b = Analysis.build(rec, epochs=a.epochs, grades=a.grades.to_dict("records"), events=ev,
                       bad_channels={}, analysed_s=a.summary_["analysed_s"], excluded_s=0.0,
                       mains=[], params=asdict(AnalysisParams()))
    sp = b.summary_["spasms"]
    assert sp["count"] == len(a.events) + 1
    assert sp["isolated"] == 1
    assert sp["n_clusters"] == a.summary_["spasms"]["n_clusters"]
    assert sum(c["count"] for c in sp["clusters"]) == len(a.events)


def test_spasm_counts_per_hour_and_per_day_by_hand():
    from datetime import datetime

    from hypsa.results import _by_period

    ev = pd.DataFrame({"onset": [10.0, 3700.0, 3800.0, 90000.0]})
    out = _by_period(ev, 26 * 3600.0, datetime(2025, 3, 1, 20, 0, 0))
    assert len(out["by_hour"]) == 26
    assert out["by_hour"][:3] == [1, 2, 0] and out["by_hour"][25] == 1 and sum(out["by_hour"]) == 4
    assert [(d["day"], d["count"], d["hours"]) for d in out["by_day"]] == [(1, 3, 24.0),
                                                                          (2, 1, 2.0)]
    assert out["by_day"][1]["start"] == "2025-03-02T20:00:00"
    empty = _by_period(ev.iloc[:0], 1800.0, None)
    assert empty == {"by_hour": [0], "by_day": [{"day": 1, "onset_s": 0.0, "start": None,
                                                 "hours": 0.5, "count": 0}]}


def test_emg_finds_spasms_whose_decrement_is_lost_in_suppression():
    """In burst-suppression the background is already attenuated, so a spasm's decrement does
    not show; a generalized slow wave with a strong, short deltoid burst still makes it."""
    from dataclasses import replace

    from hypsa.spasms import SpasmParams

    sim = simulate(600.0, hypsarrhythmia="none", background="burst_suppression", n_clusters=1,
                   emg=True, seed=5)
    rec = sim.to_recording()
    truth = sim.events[["onset", "duration"]]
    def spasms(ev):  # an eeg_decrement is listed, not counted
        return ev[ev["trial_type"] != "eeg_decrement"]

    on = spasms(analyze(rec).events)
    off = spasms(analyze(rec, params=AnalysisParams(spasms=replace(SpasmParams(),
                                                                   emg_max_burst_s=0.0))).events)
    s_on, s_off = score_events(truth, on, 600.0), score_events(truth, off, 600.0)
    assert s_on.tp >= s_off.tp + 4 and s_on.sensitivity >= 0.9
    assert s_on.fp <= s_off.fp
    path = on[on.decrement > SpasmParams().max_decrement + 0.15]
    assert len(path) >= 4
    assert (path.emg_burst_s <= 2.0).all() and (path.emg_ratio >= 10).all()
    assert path.features.str.contains("emg_burst").all()
    assert not path.features.str.contains("electrodecrement").any()
