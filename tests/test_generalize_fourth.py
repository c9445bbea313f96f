"""Tests of the fourth infant EEG generator (benchmarks/generalize/fourth.py): cortical sources
through a spherical head model, and real children's EEG with the patterns injected."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "generalize"))

import fourth  # noqa: E402
from generated_files import eeg_uv, rows  # noqa: E402

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "children_19ch"


def _eeg_uv(case: fourth.Case) -> tuple[np.ndarray, list[str], float]:
    return eeg_uv(case.edf)


@pytest.mark.parametrize("background", ["hyps_attenuation", "focal_spikes", "normal_sleep"])
def test_truth_matches_the_files(tmp_path: Path, background: str) -> None:
    case = fourth.generate(tmp_path, seed=5, background=background, minutes=4)
    truth = json.loads(case.truth.read_text())
    events, dis = rows(case.events), rows(case.discharges)
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
        assert truth["intended_based"] >= 4 and rows(case.attenuations)
    if background == "normal_sleep":
        assert truth["intended_based"] == 0 and not dis
    if background == "focal_spikes":
        assert truth["intended_based"] == 2


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/data/real is absent")
def test_real_child_background(tmp_path: Path) -> None:
    case = fourth.generate(tmp_path, seed=2, background="hyps_real", minutes=2, emg=True)
    truth = json.loads(case.truth.read_text())
    assert truth["hypsarrhythmic"] and truth["n_spasms"] > 0
    assert _eeg_uv(case)[0].shape[1] == 120 * 256
