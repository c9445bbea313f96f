"""Tests of the fourth infant EEG generator (benchmarks/generalize/fourth.py): cortical sources
through a spherical head model, and real children's EEG with the patterns injected."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import mne
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "generalize"))

import fourth  # noqa: E402

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "children_19ch"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _eeg_uv(case: fourth.Case) -> tuple[np.ndarray, list[str], float]:
    raw = mne.io.read_raw_edf(case.edf, preload=True, verbose="error")
    return raw.get_data() * 1e6, raw.ch_names, float(raw.info["sfreq"])


def test_deterministic_and_seeded(tmp_path: Path) -> None:
    a = fourth.generate(tmp_path / "a", seed=3, background="hyps_classic", minutes=1, emg=True)
    b = fourth.generate(tmp_path / "b", seed=3, background="hyps_classic", minutes=1, emg=True)
    c = fourth.generate(tmp_path / "c", seed=4, background="hyps_classic", minutes=1, emg=True)
    for x, y in ((a.edf, b.edf), (a.events, b.events), (a.truth, b.truth)):
        assert x.read_bytes() == y.read_bytes()
    assert a.edf.read_bytes() != c.edf.read_bytes()


def test_channels_voltages_and_emg(tmp_path: Path) -> None:
    hyps = fourth.generate(tmp_path, seed=1, background="hyps_classic", minutes=1, emg=True)
    normal = fourth.generate(tmp_path, seed=1, background="normal_wake", minutes=1)
    x, names, fs = _eeg_uv(hyps)
    assert names[:19] == [f"EEG {c}-REF" for c in fourth.CHANNELS]
    assert names[19:] and all(n.startswith("EMG DELT") for n in names[19:])
    assert fs == 256.0 and x.shape[1] == 60 * 256
    y, names_n, _ = _eeg_uv(normal)
    assert len(names_n) == 19

    def ptp(z: np.ndarray) -> float:  # median 1-s peak-to-peak over channels and seconds
        z = z[:19, : z.shape[1] // 256 * 256].reshape(19, -1, 256)
        return float(np.median(np.ptp(z, axis=-1)))

    # hypsarrhythmia is very high voltage (> 200 µV), a normal infant background is not
    assert ptp(x) > 200.0 > ptp(y) > 20.0


@pytest.mark.parametrize("background", ["hyps_attenuation", "focal_spikes", "normal_sleep"])
def test_truth_matches_the_files(tmp_path: Path, background: str) -> None:
    case = fourth.generate(tmp_path, seed=5, background=background, minutes=4)
    truth = json.loads(case.truth.read_text())
    events, dis = _rows(case.events), _rows(case.discharges)
    assert truth["generator"] == "fourth" and truth["background"] == background
    assert truth["hypsarrhythmic"] == fourth.BACKGROUNDS[background]
    assert truth["n_spasms"] == len(events) > 0
    assert truth["n_discharges"] == len(dis)
    for e in events:
        assert e["trial_type"] in {"spasm", "spasm_wave_only", "spasm_decrement_only"}
        assert 0 < float(e["onset"]) < 240
        if e["trial_type"] != "spasm_wave_only":
            assert 0.1 <= float(e["decrement_depth"]) <= 0.6
    if background == "hyps_attenuation":
        assert truth["intended_based"] >= 4 and _rows(case.attenuations)
    if background == "normal_sleep":
        assert truth["intended_based"] == 0 and not dis
    if background == "focal_spikes":
        assert truth["intended_based"] == 2


def test_gain_scales_the_eeg(tmp_path: Path) -> None:
    a = fourth.generate(tmp_path / "a", seed=2, background="diffuse_slowing", minutes=1)
    b = fourth.generate(tmp_path / "b", seed=2, background="diffuse_slowing", minutes=1,
                        gain=2.0)
    xa, xb = _eeg_uv(a)[0], _eeg_uv(b)[0]
    assert np.allclose(xb, 2 * xa, atol=0.1)


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/data/real is absent")
def test_real_child_background(tmp_path: Path) -> None:
    case = fourth.generate(tmp_path, seed=2, background="hyps_real", minutes=2, emg=True)
    truth = json.loads(case.truth.read_text())
    assert truth["hypsarrhythmic"] and truth["n_spasms"] > 0
    assert _eeg_uv(case)[0].shape[1] == 120 * 256
