"""Tests of the independent infant EEG generator (benchmarks/generalize/independent.py)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import mne
import numpy as np
import pytest
from edfio import read_edf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "generalize"))

import independent as ind  # noqa: E402


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _read(case: ind.Case) -> mne.io.BaseRaw:
    return mne.io.read_raw_edf(case.edf, preload=True, verbose="error")


def test_deterministic_per_seed(tmp_path: Path) -> None:
    a = ind.generate(tmp_path / "a", seed=3, background="hyps_classic", minutes=2, emg=True)
    b = ind.generate(tmp_path / "b", seed=3, background="hyps_classic", minutes=2, emg=True)
    c = ind.generate(tmp_path / "c", seed=4, background="hyps_classic", minutes=2, emg=True)
    for x, y in ((a.edf, b.edf), (a.events, b.events), (a.discharges, b.discharges),
                 (a.truth, b.truth)):
        assert x.read_bytes() == y.read_bytes()
    assert a.edf.read_bytes() != c.edf.read_bytes()


def test_channels_units_and_emg(tmp_path: Path) -> None:
    case = ind.generate(tmp_path, seed=1, background="normal_wake", minutes=1, emg=True)
    raw = _read(case)
    truth = json.loads(case.truth.read_text())
    assert raw.ch_names[:19] == [f"EEG {c}-REF" for c in ind.CHANNELS]
    assert raw.ch_names[19:] == truth["emg_channels"]
    assert 1 <= len(truth["emg_channels"]) <= 2
    assert raw.info["sfreq"] == 256.0
    assert raw.n_times == 60 * 256
    assert {s.physical_dimension for s in read_edf(case.edf).signals} == {"uV"}
    eeg_uv = raw.get_data(picks=list(range(19))) * 1e6
    # infant awake EEG: tens of microvolts, not volts nor nanovolts
    assert 5 < float(np.median(eeg_uv.std(axis=1))) < 200
    no_emg = ind.generate(tmp_path, seed=1, background="normal_wake", minutes=1, emg=False)
    assert _read(no_emg).ch_names == [f"EEG {c}-REF" for c in ind.CHANNELS]


@pytest.mark.parametrize("background", ["hyps_attenuation", "single_focus", "normal_sleep"])
def test_truth_consistent_with_files(tmp_path: Path, background: str) -> None:
    case = ind.generate(tmp_path, seed=5, background=background, minutes=4)
    truth = json.loads(case.truth.read_text())
    events = _rows(case.events)
    dis = _rows(case.discharges)
    att = _rows(case.attenuations)
    assert truth["generator"] == "independent"
    assert truth["background"] == background
    assert truth["n_spasms"] == len(events) > 0
    assert truth["n_discharges"] == len(dis)
    assert truth["n_attenuations"] == len(att)
    clusters = {int(e["cluster"]) for e in events} - {0}
    assert truth["n_clusters"] == len(clusters)
    assert truth["hypsarrhythmic"] == (background in ind.HYPS_BACKGROUNDS)
    dur = truth["minutes"] * 60
    for e in events:
        assert e["trial_type"] in {"spasm", "spasm_wave_only", "spasm_decrement_only"}
        assert 0 < float(e["onset"]) < float(e["onset"]) + float(e["duration"]) < dur
        if e["trial_type"] != "spasm_wave_only":
            assert 0.1 <= float(e["decrement_depth"]) <= 0.6
            assert 0.5 <= float(e["decrement_s"]) <= 6.0
        if e["trial_type"] != "spasm_decrement_only":
            assert 0.8 <= float(e["wave_ratio"]) <= 4.0
    for d in dis:
        assert d["channel"] in ind.CHANNELS
        assert 0.02 <= float(d["duration"]) <= 0.2
    if background == "hyps_attenuation":
        assert truth["hypsarrhythmic"] and len(att) >= 2
        for a in att:
            assert 0.1 <= float(a["depth"]) <= 0.25 and 1.0 <= float(a["duration"]) <= 4.0
    if background == "single_focus":
        assert truth["intended_based"] == 2
        assert len({d["channel"] for d in dis}) == 1
    if background == "normal_sleep":
        assert truth["intended_based"] == 0 and not dis
        assert any(s["state"] == "nrem" for s in truth["states"])


@pytest.mark.parametrize("background", [b for b in ind.HYPS_BACKGROUNDS
                                        if b not in ind.REAL_BACKGROUNDS])
def test_hypsarrhythmic_backgrounds_are_graded_4_or_5(tmp_path: Path, background: str) -> None:
    case = ind.generate(tmp_path, seed=2, background=background, minutes=5, spasms=False)
    truth = json.loads(case.truth.read_text())
    assert truth["hypsarrhythmic"] and truth["intended_based"] >= 4, truth
    assert truth["n_spasms"] == 0 and not _rows(case.events)


def test_plain_spasm_is_plain(tmp_path: Path) -> None:
    case = ind.generate(tmp_path, seed=0, background="hyps_classic", minutes=4, plain=True)
    events = _rows(case.events)
    assert events and all(e["trial_type"] == "spasm" for e in events)
    assert {float(e["wave_ratio"]) for e in events} == {2.5}
    assert {float(e["decrement_depth"]) for e in events} == {0.25}
    assert {float(e["decrement_s"]) for e in events} == {2.0}
    raw = _read(case)
    fs = raw.info["sfreq"]
    x = raw.get_data(picks=list(range(19))) * 1e6
    ratios, drops = [], []
    for e in events:
        i = int(float(e["onset"]) * fs)
        before = x[:, i - int(10 * fs): i]
        pp_bg = np.percentile(before, 95, axis=1) - np.percentile(before, 5, axis=1)
        wave = x[:, i: i + int(0.8 * fs)]
        ratios.append(np.median(np.ptp(wave, axis=1) / pp_bg))
        j = int(float(e["decrement_onset"]) * fs)
        dec = x[:, j + int(0.5 * fs): j + int(1.8 * fs)]
        drops.append(np.median(dec.std(axis=1) / before.std(axis=1)))
    # the wave stands out about 2.5x, the decrement leaves about a quarter of the background
    assert 1.8 < float(np.median(ratios)) < 4.0
    assert 0.1 < float(np.median(drops)) < 0.45


def test_gain_scales_eeg(tmp_path: Path) -> None:
    a = ind.generate(tmp_path / "a", seed=1, background="diffuse_slowing", minutes=1)
    b = ind.generate(tmp_path / "b", seed=1, background="diffuse_slowing", minutes=1, gain=2.0)
    xa, xb = _read(a).get_data(), _read(b).get_data()
    assert np.allclose(xb, 2 * xa, atol=2e-6)
    assert json.loads(b.truth.read_text())["gain"] == 2.0


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown background"):
        ind.generate(tmp_path, seed=0, background="nope")
    with pytest.raises(ValueError, match="sfreq"):
        ind.generate(tmp_path, seed=0, background="normal_wake", sfreq=200.5)


def test_cli_writes_manifest(tmp_path: Path) -> None:
    assert ind.main([str(tmp_path), "--n", "2", "--seed", "1", "--minutes", "2",
                     "--backgrounds", "hyps_slow,burst_suppression"]) == 0
    rows = _rows(tmp_path / "manifest.tsv")
    assert len(rows) == 2
    for r in rows:
        for key in ("edf", "events", "discharges", "attenuations", "truth"):
            assert (tmp_path / r[key]).is_file()
        truth = json.loads((tmp_path / r["truth"]).read_text())
        assert int(r["intended_based"]) == truth["intended_based"]
        assert int(r["n_spasms"]) == truth["n_spasms"]


@pytest.mark.real
def test_real_child_background(tmp_path: Path) -> None:
    if not any(ind.real_data_dir().glob("*.edf")):
        pytest.skip("real recordings (../shared/data/real) not available")
    case = ind.generate(tmp_path, seed=2, background="real_child_hyps", minutes=3, emg=True)
    truth = json.loads(case.truth.read_text())
    assert truth["real_files"] and truth["hypsarrhythmic"]
    raw = _read(case)
    assert raw.n_times == 180 * 256
    plain = ind.generate(tmp_path, seed=2, background="real_child", minutes=3)
    assert json.loads(plain.truth.read_text())["intended_based"] == 0


def test_labels_measured_back_from_the_file(tmp_path: Path) -> None:
    (row,) = ind.check_labels(tmp_path, seeds=(3,), backgrounds=("normal_wake",), minutes=5)
    assert row["spasms_with_wave"] >= 5 and row["spasms_with_decrement"] >= 3
    # the drawn wave size and decrement depth are what the file shows, within a third
    assert 0.7 < row["wave_measured_over_drawn"] < 1.4
    assert 0.7 < row["residual_measured_over_drawn"] < 1.5
    assert row["wave_spearman"] > 0.5
