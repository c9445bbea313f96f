"""Hypsarrhythmia graded on the reduced infant montages (9 and 11 electrodes) made from
simulated full recordings, and the refusal when too little is recorded."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from hypsa.analysis import analyze
from hypsa.io import Recording
from hypsa.simulate import simulate

NINE = ("Fp1", "Fp2", "C3", "C4", "T7", "T8", "O1", "O2", "Cz")
ELEVEN = (*NINE, "F3", "F4")


@pytest.fixture(scope="module")
def classic():
    return simulate(300, hypsarrhythmia="classic", n_clusters=0, sleep=False, seed=7)


def _reduced(sim, keep):
    idx = [i for i, n in enumerate(sim.ch_names) if n in keep]
    return Recording.from_array(sim.data[idx], sim.sfreq, [sim.ch_names[i] for i in idx])


@pytest.mark.parametrize("keep", [NINE, ELEVEN], ids=["9", "11"])
def test_classic_graded_present_on_reduced_montage(classic, keep):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = analyze(_reduced(classic, keep))
    h = a.summary_["hypsarrhythmia"]
    assert h["based_score"] is not None and h["based_score"] >= 4, h["evidence"]
    assert a.present
    mont = h["evidence"]["montage"]
    assert ("Fp1-T7" in mont["derivations"]) and ("C3-Cz" in mont["derivations"])
    assert any("foci" in c for c in mont["assessed"])
    assert any(w.startswith("reduced montage") for w in h["warnings"])
    assert "Montage:" in a.summary()


def test_one_side_only_says_what_is_missing(classic):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = analyze(_reduced(classic, ("Fp1", "C3", "T7", "O1")))
    h = a.summary_["hypsarrhythmia"]
    assert h["based_score"] is None
    text = h["evidence"]["criteria_met"][0]
    assert "not graded" in text and "electrodes" in text and "right" in text


def test_single_focus_is_graded_two():
    sim = simulate(300, hypsarrhythmia="none", background="single_focus", n_clusters=0,
                   sleep=False, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = analyze(sim.to_recording())
    assert a.based_score == 2, a.summary_["hypsarrhythmia"]["evidence"]["criteria_met"]
    foci = a.summary_["hypsarrhythmia"]["evidence"]["graded_epoch"]["foci"]
    assert len(foci) == 1 and "C4" in foci[0]
    assert not np.any([a.present])
