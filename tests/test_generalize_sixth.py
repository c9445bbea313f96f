"""Tests of the sixth infant EEG generator (benchmarks/generalize/sixth.py): regime-switching
multivariate autoregressive models fitted to real EEG, with a library of waveform atoms, held out
from every fit and choice of hypsa."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "generalize"))

import sixth  # noqa: E402
from generated_files import rows  # noqa: E402


@pytest.mark.parametrize("background", ["hyps_attenuation", "single_focus", "normal_sleep"])
def test_truth_matches_the_files(tmp_path: Path, background: str) -> None:
    case = sixth.generate(tmp_path, seed=5, background=background, minutes=4, emg=False)
    truth = json.loads(case.truth.read_text())
    events, dis = rows(case.events), rows(case.discharges)
    assert truth["generator"] == "sixth" and truth["background"] == background
    assert truth["hypsarrhythmic"] == sixth.BACKGROUNDS[background]
    assert truth["n_spasms"] == len(events) > 0
    assert truth["n_discharges"] == len(dis)
    assert truth["n_clusters"] >= 1
    onsets = [float(e["onset"]) for e in events]
    assert onsets == sorted(onsets) and 0 < onsets[0] and onsets[-1] < 240
    for e in events:
        assert e["trial_type"] in {"spasm", "spasm_wave_only", "spasm_decrement_only"}
        assert e["emg"].lower() == "false"  # no EMG channel, no burst
    for d in dis:
        assert d["channel"] in sixth.CHANNELS and d["kind"] in {"spike", "sharp"}
        assert 0.02 <= float(d["duration"]) <= 0.2
    if background == "hyps_attenuation":
        assert truth["intended_based"] >= 4 and rows(case.attenuations)
        assert np.median([float(a["depth"]) for a in rows(case.attenuations)]) < 0.5
        assert 120.0 <= np.median([float(d["peak_uv"]) for d in dis]) <= 400.0
    if background == "normal_sleep":
        assert truth["intended_based"] == 0 and not dis
        assert truth["n_spindles"] > 0
    if background == "single_focus":
        assert truth["intended_based"] == 2 and len({d["focus"] for d in dis}) == 1


def test_the_labels_are_what_the_files_hold(tmp_path: Path) -> None:
    sixth.generate(tmp_path, seed=2, background="hyps_classic", minutes=3, emg=False)
    df = sixth.check_labels(tmp_path)
    s = sixth.summarize_check(df)
    # measured back from the written EDF: the wave's size, the decrement's depth and length
    assert s["n"] > 0 and s["onsets_in_range"] == 1.0
    assert s["ratio_edf_vs_label_median_relerr"] < 0.01
    assert s["depth_edf_vs_label_median_abserr"] < 0.01
    assert s["dec_s_edf_vs_label_median_abserr"] < 0.05
    assert s["field_channel_agreement"] > 0.95
    # and close to what was drawn
    assert s["depth_label_vs_target_median_abserr"] < 0.08
    assert 1.0 < s["ratio_label_over_wave_component_median"] < 2.5


def test_plain_spasms_are_clear(tmp_path: Path) -> None:
    case = sixth.generate(tmp_path, seed=1, background="hyps_classic", minutes=4, emg=False,
                          plain=True)
    ev = rows(case.events)
    assert ev and all(e["trial_type"] == "spasm" and e["field"] == "generalized" for e in ev)
    assert {int(e["cluster"]) for e in ev} <= {1, 2, 3}
    assert np.median([float(e["wave_ratio"]) for e in ev]) >= 2.0
    depth = np.median([float(e["decrement_depth"]) for e in ev])
    assert 0.1 < depth < 0.45
    assert 1.2 < np.median([float(e["decrement_s"]) for e in ev]) < 3.6


def test_the_background_is_fitted_to_real_eeg() -> None:
    lib, tag = sixth._library(256.0)
    if tag.startswith("synthetic"):
        pytest.skip("the real recordings are not present")
    assert tag.startswith("real:") and len(lib) >= 50
    assert {s for _, _, s in lib} >= {"neonatal", "tuh_adult"}
    a, cov, _ = lib[0]
    assert a.shape == (19, 19 * sixth.ORDER) and cov.shape == (19, 19)
