"""Sleep-wake state from sleep-stage annotations, and where spasm clusters fall in it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hypsa.analysis import analyze
from hypsa.errors import ParameterError
from hypsa.report import write_report
from hypsa.simulate import simulate
from hypsa.spasms import SpasmParams
from hypsa.vigilance import _label, cluster_states, sleep_stages


@pytest.mark.parametrize("text,state", [
    ("Sleep stage W", "wake"), ("Sleep stage R", "rem"), ("Sleep stage 2", "nrem"),
    ("Sleep stage 4", "nrem"), ("Sleep stage N3", "nrem"), ("sleep_stage_n1", "nrem"),
    ("W", "wake"), ("Wake", "wake"), ("AWAKE", "wake"), ("N2", "nrem"), ("NREM", "nrem"),
    ("REM", "rem"), ("R", "rem"), ("Stage 0", "wake"), ("stage 3", "nrem"),
    ("Quiet sleep", "nrem"), ("Active Sleep", "rem"), ("state: nrem", "nrem"),
    ("Sleep stage ?", "unknown"), ("Movement time", "unknown"),
])
def test_stage_labels(text, state):
    assert _label(text) == state


@pytest.mark.parametrize("text", ["sz_gen_m_spasms", "artifact: blink Fp1,Fp2", "2", "Rec start",
                                  "spasm cluster 1 (16 spasms)", "Wakeup call", "bckg"])
def test_other_annotations_are_not_stages(text):
    assert _label(text) is None


def _ann(rows):
    return pd.DataFrame(rows, columns=["onset", "duration", "description"])


def test_transitions_only_hypnogram_lasts_until_next_stage_and_merges():
    ann = _ann([(0, 0, "Sleep stage W"), (100, 0, "Sleep stage 1"), (160, 0, "Sleep stage 2"),
                (400, 0, "Sleep stage W"), (50, 0, "sz_gen_m_spasms")])
    st = sleep_stages(ann, 600.0)
    assert st.to_dict("list") == {"onset": [0.0, 100.0, 400.0], "duration": [100.0, 300.0, 200.0],
                                  "state": ["wake", "nrem", "wake"]}


def test_scored_epochs_with_durations_and_gaps():
    ann = _ann([(0, 30, "Sleep stage 2"), (30, 30, "Sleep stage 2"), (60, 30, "Sleep stage W"),
                (200, 30, "Sleep stage W")])
    st = sleep_stages(ann, 1000.0)
    # 90-200 s is not scored: two wake stretches, not one
    assert st.to_dict("list") == {"onset": [0.0, 60.0, 200.0], "duration": [60.0, 30.0, 30.0],
                                  "state": ["nrem", "wake", "wake"]}


def test_no_stage_annotation_gives_an_empty_hypnogram():
    assert sleep_stages(_ann([(1, 0, "sz_gen_m_spasms")]), 100.0).empty
    assert sleep_stages(_ann([]), 100.0).empty


def test_cluster_states_by_hand():
    stages = pd.DataFrame({"onset": [0.0, 600.0, 1800.0, 2000.0, 2100.0, 2400.0],
                           "duration": [600.0, 1200.0, 200.0, 100.0, 300.0, 600.0],
                           "state": ["wake", "nrem", "wake", "unknown", "wake", "rem"]})
    rel = cluster_states(np.array([100.0, 900.0, 1830.0, 2150.0, 2500.0, 3500.0]), stages, 300.0)
    assert rel["state"].tolist() == ["wake", "nrem", "wake", "wake", "rem", "unknown"]
    # awake from the start: no sleep before; 30 s after NREM: on waking; after an unscored
    # stretch the end of sleep is not known
    assert np.isnan(rel["since_sleep_s"][0]) and rel["since_sleep_s"][2] == pytest.approx(30.0)
    assert np.isnan(rel["since_sleep_s"][3])
    assert rel["after"].tolist() == [None, None, "nrem", None, None, None]
    assert rel["on_waking"].tolist() == [False, False, True, False, False, False]
    # the window decides: 30 s after sleep is not "on waking" with a 20-s window
    assert not cluster_states(np.array([1830.0]), stages, 20.0)["on_waking"][0]


def test_bad_waking_window_is_refused():
    with pytest.raises(ParameterError, match="waking_window_s"):
        SpasmParams(waking_window_s=-1.0)


@pytest.fixture(scope="module")
def waking_analysis(tmp_path_factory):
    # seed 5: awake from the start with the first cluster; NREM from 457 s to 1330 s, then the
    # second cluster 6 s after waking
    sim = simulate(1800.0, hypsarrhythmia="classic", n_clusters=2, emg=False, seed=5)
    path = sim.write_edf(tmp_path_factory.mktemp("vig") / "waking.edf")
    return sim, analyze(path)


def test_clusters_are_placed_in_the_files_hypnogram(waking_analysis):
    sim, res = waking_analysis
    sp = res.summary_["spasms"]
    assert sp["n_clusters"] == 2
    first, second = sp["clusters"]
    truth = sim.states
    assert truth.state.tolist()[:3] == ["wake", "nrem", "wake"]
    assert first["state"] == "wake" and first["since_sleep_s"] is None and not first["on_waking"]
    assert second["state"] == "wake" and second["on_waking"]
    waking = float(truth.onset.iat[2])
    assert second["since_sleep_s"] == pytest.approx(second["onset"] - waking, abs=1e-3)
    clock = sim.start_time + pd.Timedelta(seconds=second["onset"])
    assert pd.Timestamp(second["start"]) == pd.Timestamp(clock)
    sw = sp["sleep_wake"]
    assert sw["source"] == "annotations" and sw["clusters_on_waking"] == 1
    assert sw["clusters_awake"] == 2 and sw["clusters_in_sleep"] == 0
    assert sw["scored_s"] == pytest.approx(1800.0, abs=1.0)
    assert "1 on waking, 0 in sleep" in res.summary()


def test_sleep_wake_in_saved_summary_and_report(waking_analysis, tmp_path):
    _, res = waking_analysis
    paths = res.save(tmp_path)
    doc = json.loads(paths["summary"].read_text())
    assert [c["on_waking"] for c in doc["spasms"]["clusters"]] == [False, True]
    html = write_report(res, tmp_path).read_text()
    assert "on waking (" in html and "1 of 2 cluster(s) began on waking" in html


def test_without_stage_annotations_the_state_is_unknown():
    sim = simulate(900.0, hypsarrhythmia="classic", n_clusters=2, emg=False, seed=5)
    rec = sim.to_recording()
    ann = rec.annotations
    rec.annotations = ann[~ann.description.str.startswith("state:")].reset_index(drop=True)
    sp = analyze(rec).summary_["spasms"]
    assert sp["n_clusters"] >= 1
    assert sp["sleep_wake"]["source"] is None
    assert "no sleep-stage annotations" in sp["sleep_wake"]["note"]
    assert all(c["state"] is None and c["on_waking"] is None for c in sp["clusters"])


# --- a hypnogram kept beside the recording (hypsa analyze --hypnogram)

@pytest.fixture(scope="module")
def unstaged_edf(tmp_path_factory):
    """The seed-5 recording as an EDF+ file whose sleep-stage annotations were removed, and the
    stages as a separate table (transitions only, Sleep-EDF labels)."""
    import edfio

    d = tmp_path_factory.mktemp("hyp")
    sim = simulate(1800.0, hypsarrhythmia="classic", n_clusters=2, emg=False, seed=5)
    path = sim.write_edf(d / "staged.edf")
    edf = edfio.read_edf(path)
    for state in ("wake", "nrem", "rem"):
        edf.drop_annotations(f"state: {state}")
    edf.write(d / "unstaged.edf")
    label = {"wake": "Sleep stage W", "nrem": "Sleep stage 2", "rem": "Sleep stage R"}
    pd.DataFrame({"onset": sim.states.onset.round(3), "stage": sim.states.state.map(label)}
                 ).to_csv(d / "stages.tsv", sep="\t", index=False)
    return d


def test_cli_hypnogram_places_clusters(unstaged_edf, tmp_path):
    from typer.testing import CliRunner

    from hypsa.cli import app

    edf = unstaged_edf / "unstaged.edf"
    before = edf.read_bytes()
    run = CliRunner().invoke(app, ["analyze", str(edf), "-o", str(tmp_path), "--no-report",
                                   "--hypnogram", str(unstaged_edf / "stages.tsv"), "-j", "1"])
    assert run.exit_code == 0, run.output
    sp = json.loads((tmp_path / "unstaged.summary.json").read_text())["spasms"]
    assert sp["sleep_wake"]["source"] == "annotations"
    assert [c["on_waking"] for c in sp["clusters"]] == [False, True]
    assert "1 on waking" in run.output
    assert edf.read_bytes() == before  # the input is never written
    # without the table, the same file says the state is not known
    run = CliRunner().invoke(app, ["analyze", str(edf), "-o", str(tmp_path / "b"), "-q",
                                   "--no-report", "-j", "1"])
    doc = json.loads((tmp_path / "b" / "unstaged.summary.json").read_text())
    assert doc["spasms"]["sleep_wake"]["source"] is None


@pytest.mark.parametrize("content,problem", [
    ("start\tstage\n0\tW\n", "needs an 'onset' column"),
    ("onset\tstage\nzero\tW\n", "every onset must be a number"),
    ("onset\tduration\tstage\n0\t-30\tW\n", "every duration must be a number"),
    ("onset\tstage\n0\tspasm\n", "no sleep stage recognised"),
])
def test_cli_bad_hypnogram_is_one_line_error(unstaged_edf, tmp_path, content, problem):
    from typer.testing import CliRunner

    from hypsa.cli import app

    bad = tmp_path / "bad.tsv"
    bad.write_text(content)
    run = CliRunner().invoke(app, ["analyze", str(unstaged_edf / "unstaged.edf"), "-o",
                                   str(tmp_path / "o"), "--hypnogram", str(bad)])
    assert run.exit_code == 2
    lines = [ln for ln in run.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "bad.tsv" in lines[0] and problem in lines[0]
    assert "Traceback" not in run.output and not (tmp_path / "o").exists()


def test_cli_hypnogram_goes_with_one_recording(unstaged_edf, tmp_path):
    from typer.testing import CliRunner

    from hypsa.cli import app

    run = CliRunner().invoke(app, ["analyze", str(unstaged_edf), "-o", str(tmp_path),
                                   "--hypnogram", str(unstaged_edf / "stages.tsv")])
    assert run.exit_code == 2 and "--hypnogram goes with one recording, not 2" in run.output


def test_bids_events_file_beside_the_recording_gives_the_stages(unstaged_edf, tmp_path):
    import shutil

    from hypsa.vigilance import bids_events_stages

    eeg = tmp_path / "sub-01_task-sleep_eeg.edf"
    shutil.copy(unstaged_edf / "unstaged.edf", eeg)
    stages = pd.read_csv(unstaged_edf / "stages.tsv", sep="\t")
    events = pd.concat([
        pd.DataFrame({"onset": stages.onset, "duration": "n/a", "trial_type": stages.stage}),
        pd.DataFrame({"onset": [12.0], "duration": [1.0], "trial_type": ["artifact"]})])
    events.to_csv(tmp_path / "sub-01_task-sleep_events.tsv", sep="\t", index=False)
    assert len(bids_events_stages(eeg)) == len(stages)
    res = analyze(eeg)
    sp = res.summary_["spasms"]
    assert sp["sleep_wake"]["source"] == "bids_events"
    assert [c["on_waking"] for c in sp["clusters"]] == [False, True]
    assert "BIDS events file" in res.summary()
    # an events file without stages, or none at all, leaves the state unknown
    pd.DataFrame({"onset": [1.0], "duration": [1.0], "trial_type": ["artifact"]}).to_csv(
        tmp_path / "sub-01_task-sleep_events.tsv", sep="\t", index=False)
    assert bids_events_stages(eeg).empty and bids_events_stages(None).empty
    assert bids_events_stages(unstaged_edf / "unstaged.edf").empty  # not a BIDS name


def test_no_annotation_of_the_real_recordings_is_taken_for_a_sleep_stage(real_dir):
    """Clinical and research exports carry free-text annotations (``T0``, ``type A``,
    ``Lights-Off#1``, ``+1.000000`` ...): none of them is a sleep stage."""
    from hypsa.io import read

    texts = set()
    for p in sorted(real_dir.rglob("*")):
        if p.suffix.lower() in (".edf", ".bdf"):
            try:
                texts |= set(read(p).annotations["description"])
            except Exception:  # noqa: BLE001 - unreadable files are other tests' business
                continue
    assert len(texts) >= 10
    assert [t for t in texts if _label(t) is not None] == []


def test_cli_hypnogram_replaces_the_stages_in_the_file(unstaged_edf, tmp_path):
    from typer.testing import CliRunner

    from hypsa.cli import app

    table = tmp_path / "awake.tsv"
    table.write_text("onset\tstage\n0\tW\n")
    run = CliRunner().invoke(app, ["analyze", str(unstaged_edf / "staged.edf"), "-o",
                                   str(tmp_path), "-q", "--no-report", "-j", "1",
                                   "--hypnogram", str(table)])
    assert run.exit_code == 0, run.output
    sp = json.loads((tmp_path / "staged.summary.json").read_text())["spasms"]
    # the file says NREM until 1330 s; the table says awake throughout, and it wins
    assert [c["state"] for c in sp["clusters"]] == ["wake", "wake"]
    assert [c["on_waking"] for c in sp["clusters"]] == [False, False]


def test_epochs_take_the_scored_state_where_it_is_known(waking_analysis):
    sim, res = waking_analysis
    ep = res.epochs
    truth = sim.states
    mid = ep.onset + ep.duration / 2
    expected = [truth.state[(truth.onset <= m) & (truth.onset + truth.duration > m)].iat[0]
                for m in mid]
    assert ep.state.tolist() == expected
    assert (ep.state_source == "annotations").all()
    # each graded 5-minute epoch reports the most common scored state of its epochs
    for g in res.grades.itertuples():
        sel = ep[(ep.onset >= g.onset_s) & (ep.onset < g.onset_s + g.duration_s)]
        assert g.state == sel.state.mode().iat[0]
    assert res.summary_["hypsarrhythmia"]["evidence"]["graded_epoch"]["state"] in {"wake",
                                                                                   "nrem"}


def test_without_stages_the_epoch_state_is_the_estimate():
    sim = simulate(300.0, hypsarrhythmia="classic", n_clusters=0, emg=False, seed=4)
    rec = sim.to_recording()
    ann = rec.annotations
    rec.annotations = ann[~ann.description.str.startswith("state:")].reset_index(drop=True)
    ep = analyze(rec).epochs
    assert (ep.state_source == "estimate").all()
    assert set(ep.state) <= {"nrem", "wake_or_rem"}
