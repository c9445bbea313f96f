"""BASED grading rules on hand-made evidence (each row of the table)."""

from __future__ import annotations

import numpy as np
import pytest

from hypsa.channels import DOUBLE_BANANA
from hypsa.hypsarrhythmia import GradingParams, grade_epoch, probability

NAMES = [f"{a}-{b}" for a, b in DOUBLE_BANANA]
NB = 300


def _grade(amp_uv: float, n_foci: int, spike_frac: float, *, atten: int = 0,
           usable: np.ndarray | None = None, eye: np.ndarray | None = None):
    ptp = np.full((len(NAMES), NB), amp_uv)
    # spike bins: first `spike_frac` of each 15-s page
    sb = np.zeros(NB, dtype=bool)
    per_page = int(round(spike_frac * 15))
    for p in range(NB // 15):
        sb[p * 15 : p * 15 + per_page] = True
    for k in range(atten):  # 2-s attenuations
        ptp[:, 20 + 40 * k : 22 + 40 * k] = 0.05 * amp_uv
    foci = [["C3"], ["O2"], ["F8"], ["T7"], ["Fz"]][:n_foci]
    return grade_epoch(0.0, ptp, NAMES, np.ones(NB, bool) if usable is None else usable,
                       np.zeros(NB, bool) if eye is None else eye, sb, foci, 100)


@pytest.mark.parametrize(
    ("amp", "foci", "frac", "grade"),
    [
        (80, 0, 0.0, 0),     # normal
        (260, 0, 0.0, 1),    # high amplitude, no discharges: non-epileptiform abnormality
        (80, 1, 0.2, 2),     # one focus
        (80, 2, 0.2, 2),     # two foci
        (80, 3, 0.2, 3),     # multifocal, not high, < 50 % of bins
        (260, 1, 0.2, 3),    # < 3 foci with a high-amplitude channel
        (260, 3, 0.2, 4),    # multifocal in < 50 % of bins + high amplitude
        (80, 3, 0.6, 5),     # multifocal in >= 50 % of bins (9 of 15 bins in every page)
        (260, 4, 0.6, 5),
    ],
)
def test_based_table(amp, foci, frac, grade):
    g = _grade(amp, foci, frac)
    assert g.grade == grade, g.criteria
    assert g.criteria


def test_page_rule_needs_eight_of_fifteen_bins():
    assert _grade(80, 3, 7 / 15).grade == 3  # 7 bins a page: not >= 50 %
    assert _grade(80, 3, 8 / 15).grade == 5


def test_attenuations_in_multifocal_background_give_four():
    g = _grade(80, 3, 0.2, atten=4)
    assert g.n_attenuations == 4
    assert g.grade == 4


def test_too_little_usable_eeg_is_not_graded():
    usable = np.zeros(NB, dtype=bool)
    usable[:30] = True
    g = _grade(260, 4, 0.6, usable=usable)
    assert g.grade is None
    assert "not graded" in g.criteria[0]


def test_eye_bins_ignore_frontopolar_amplitude():
    ptp = np.full((len(NAMES), NB), 80.0)
    fp = [i for i, n in enumerate(NAMES) if n.startswith("Fp")]
    ptp[fp] = 400.0  # blinks
    eye = np.ones(NB, dtype=bool)
    g = grade_epoch(0.0, ptp, NAMES, np.ones(NB, bool), eye, np.zeros(NB, bool), [], 0)
    assert g.high_amplitude_channels == []
    g2 = grade_epoch(0.0, ptp, NAMES, np.ones(NB, bool), ~eye, np.zeros(NB, bool), [], 0)
    assert len(g2.high_amplitude_channels) == len(fp)


def test_threshold_is_a_parameter():
    g = _grade(150, 3, 0.2)
    assert g.grade == 3
    ptp = np.full((len(NAMES), NB), 150.0)
    sb = np.zeros(NB, bool)
    g = grade_epoch(0.0, ptp, NAMES, np.ones(NB, bool), np.zeros(NB, bool), sb,
                    [["C3"], ["O2"], ["F8"]], 50, GradingParams(high_uv=120.0))
    assert g.grade == 4


def test_probability_monotone_in_grade():
    ps = [probability(k, 250.0, 0.4, 3) for k in range(6)]
    assert all(a < b for a, b in zip(ps, ps[1:], strict=False))
    assert ps[3] < 0.5 < ps[4]
    assert np.isnan(probability(None, 0.0, 0.0, 0))


def test_slow_variant_needs_diffuse_high_voltage_and_asynchrony():
    from hypsa.hypsarrhythmia import slow_variant

    assert slow_variant(3, 1, 2.0, 18, 18, 0.15)
    assert not slow_variant(1, 0, 3.0, 17, 18, 0.15)  # no focus: BASED 1 stays absent
    assert not slow_variant(3, 1, 0.5, 18, 18, 0.15)  # too few discharges
    assert not slow_variant(3, 1, 3.0, 18, 18, 0.7)   # synchronous: sleep slow waves
    assert not slow_variant(3, 1, 3.0, 9, 18, 0.15)   # high voltage on half the derivations
    assert not slow_variant(2, 1, 3.0, 18, 18, 0.15)  # grade 2: no high amplitude
    assert not slow_variant(3, 1, 3.0, 18, 18, float("nan"))
