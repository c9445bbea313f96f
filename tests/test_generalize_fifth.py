"""Tests of the fifth infant EEG generator (benchmarks/generalize/fifth.py): coupled neural
masses through a smooth lead field, held out from every fit and choice of hypsa."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "generalize"))

import fifth  # noqa: E402
from generated_files import rows  # noqa: E402


@pytest.mark.parametrize("background", ["hyps_attenuation", "single_focus", "normal_sleep"])
def test_truth_matches_the_files(tmp_path: Path, background: str) -> None:
    case = fifth.generate(tmp_path, seed=5, background=background, minutes=4, emg=False)
    truth = json.loads(case.truth.read_text())
    events, dis = rows(case.events), rows(case.discharges)
    assert truth["generator"] == "fifth" and truth["background"] == background
    assert truth["hypsarrhythmic"] == fifth.BACKGROUNDS[background]
    assert truth["n_spasms"] == len(events) > 0
    assert truth["n_discharges"] == len(dis)
    onsets = [float(e["onset"]) for e in events]
    assert onsets == sorted(onsets) and 0 < onsets[0] and onsets[-1] < 240
    for e in events:
        assert e["trial_type"] in {"spasm", "spasm_wave_only", "spasm_decrement_only"}
        assert e["emg"].lower() == "false"  # no EMG channel, no burst
    if background == "hyps_attenuation":
        assert truth["intended_based"] >= 4 and rows(case.attenuations)
    if background == "normal_sleep":
        assert truth["intended_based"] == 0 and not dis
    if background == "single_focus":
        assert truth["intended_based"] == 2 and len({d["focus"] for d in dis}) == 1


def test_the_labels_are_what_the_files_hold(tmp_path: Path) -> None:
    fifth.generate(tmp_path, seed=2, background="hyps_classic", minutes=3, emg=False)
    s = fifth.summarize_check(fifth.check_labels(tmp_path))
    # measured back from the written EDF: the wave's size, the decrement's depth and length
    assert s["n"] > 0 and s["onsets_in_range"] == 1.0
    assert s["ratio_edf_vs_label_median_relerr"] < 0.01
    assert s["depth_edf_vs_label_median_abserr"] < 0.01
    assert s["dec_s_edf_vs_label_median_abserr"] < 0.05
