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
        (260, 0, 0.0, 0),    # high amplitude alone is not a definite abnormality
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


def test_page_rule_is_judged_on_the_usable_bins():
    """A page is positive when more than half of its interictal, artifact-free bins hold a
    spike; a page with fewer than 8 usable bins is left out and the 10-of-20 rule scaled."""
    usable = np.ones(NB, dtype=bool)
    for pg in range(NB // 15):  # the last 5 bins of every page set aside (spasms, artifact)
        usable[pg * 15 + 10: pg * 15 + 15] = False
    # 6 spike bins a page: 6 of its 10 usable bins (> 50 %), 6 of 15 bins of the page
    g = _grade(80, 3, 6 / 15, usable=usable)
    assert (g.grade, g.positive_pages, g.n_pages) == (5, 20, 20)
    assert _grade(80, 3, 4 / 15, usable=usable).grade == 3  # 4 of 10: less than half
    # half of the pages almost entirely set aside: judged on the ten others (5 needed)
    usable2 = np.ones(NB, dtype=bool)
    for pg in range(0, NB // 15, 2):
        usable2[pg * 15 + 5: pg * 15 + 15] = False
    g = _grade(80, 3, 8 / 15, usable=usable2)
    assert g.n_pages == 10 and g.grade == 5


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
    assert slow_variant(3, 1, 3.0, 9, 18, 0.15)       # high voltage on half the derivations
    assert not slow_variant(3, 1, 3.0, 8, 18, 0.15)   # on fewer than half
    assert not slow_variant(2, 1, 3.0, 18, 18, 0.15)  # grade 2: no high amplitude
    assert not slow_variant(3, 1, 3.0, 18, 18, float("nan"))
    # mostly slow waves: a high-voltage background with its faster rhythms is not the slow form
    assert slow_variant(3, 1, 2.0, 18, 18, 0.15, rel_delta=0.9)
    assert not slow_variant(3, 1, 2.0, 18, 18, 0.15, rel_delta=0.6)
    assert not slow_variant(3, 1, 2.0, 18, 18, 0.15, rel_delta=float("nan"))


# ---------------------------------------------------------------- BASED as published


def test_grouped_multifocal_spikes_give_four_without_high_amplitude():
    sb = np.zeros(NB, dtype=bool)
    g = grade_epoch(0.0, np.full((len(NAMES), NB), 80.0), NAMES, np.ones(NB, bool),
                    np.zeros(NB, bool), sb, [["C3"], ["O2"], ["F8"]], 60, n_grouped=12)
    assert g.grade == 4 and "grouped multifocal" in g.criteria[0]
    g = grade_epoch(0.0, np.full((len(NAMES), NB), 80.0), NAMES, np.ones(NB, bool),
                    np.zeros(NB, bool), sb, [["C3"], ["O2"], ["F8"]], 60, n_grouped=3)
    assert g.grade == 3


def test_attenuations_count_in_a_multifocal_background_only():
    g = _grade(80, 3, 0.2, atten=3)
    assert g.grade == 4 and "attenuation" in g.criteria[0]
    assert _grade(80, 3, 0.2, atten=2).grade == 3  # two episodes are not enough
    # two foci: a normal child's waking EEG can hold two small clusters of sharp transients
    assert _grade(80, 2, 0.2, atten=3).grade == 2
    assert _grade(80, 1, 0.2, atten=3).grade == 2  # one focus: a normal sleep can do that
    assert _grade(80, 0, 0.0, atten=3).grade == 0  # attenuations alone: not epileptiform


def test_amplitude_is_that_of_the_background_waves():
    """Bins with a discharge are left out of the amplitude: spikes riding on a 150 µV
    background do not make it 'high amplitude'."""
    ptp = np.full((len(NAMES), NB), 150.0)
    sb = np.zeros(NB, dtype=bool)
    sb[::2] = True
    ptp[:, sb] = 400.0
    g = grade_epoch(0.0, ptp, NAMES, np.ones(NB, bool), np.zeros(NB, bool), sb, [["C3"]], 150)
    assert g.high_amplitude_channels == []
    assert g.grade == 2


def test_find_attenuations_unaligned_one_second_episode():
    from hypsa.hypsarrhythmia import find_attenuations

    fs = 128.0
    rng = np.random.default_rng(0)
    x = rng.standard_normal((9, int(120 * fs))) * 50
    for on, dur in ((20.4, 1.2), (61.7, 3.0)):
        x[:, int(on * fs):int((on + dur) * fs)] *= 0.15
    x[:, int(90 * fs):int(90.5 * fs)] *= 0.15  # 0.5 s: too short
    eps, bins = find_attenuations(x, fs, np.ones(120, bool))
    assert len(eps) == 2
    assert abs(eps[0][0] - 20.4) < 0.5 and abs(eps[1][0] - 61.7) < 0.5
    assert bins[20] and bins[62] and not bins[90]


def test_montage_pairs_full_and_reduced():
    from hypsa.channels import STANDARD_19
    from hypsa.hypsarrhythmia import montage_pairs

    assert montage_pairs(list(STANDARD_19)) == list(DOUBLE_BANANA)
    nine = ["Fp1", "Fp2", "C3", "C4", "T7", "T8", "O1", "O2", "Cz"]
    p9 = montage_pairs(nine)
    for pair in [("Fp1", "T7"), ("T7", "O1"), ("Fp1", "C3"), ("C3", "O1"), ("Fp2", "C4"),
                 ("C4", "O2"), ("Fp2", "T8"), ("T8", "O2"), ("T7", "C3"), ("C3", "Cz"),
                 ("Cz", "C4"), ("C4", "T8")]:
        assert pair in p9
    assert len(p9) == 12
    p11 = montage_pairs([*nine, "F3", "F4"])
    assert ("Fp1", "F3") in p11 and ("F3", "C3") in p11 and ("C3", "O1") in p11


def test_ictal_stretches_are_set_aside():
    """Discharges inside a spasm (and its margin) count for nothing; the time is reported."""
    from hypsa.channels import POSITIONS, STANDARD_19
    from hypsa.hypsarrhythmia import grade_window, montage_pairs

    fs = 128.0
    rng = np.random.default_rng(1)
    n = int(120 * fs)
    x = rng.standard_normal((19, n)) * 10
    pos = np.array([POSITIONS[c] for c in STANDARD_19])
    for t in np.arange(40.0, 60.0, 0.5):  # a burst of spikes at P4, inside the "spasm"
        d2 = ((pos - np.array(POSITIONS["P4"])) ** 2).sum(1)
        i0 = int(t * fs)
        x[:, i0:i0 + 8] -= 200 * np.exp(-d2 / 0.3)[:, None] * np.hanning(8)[None, :]
    pairs = montage_pairs(list(STANDARD_19))
    idx = {c: i for i, c in enumerate(STANDARD_19)}
    bip = np.array([x[idx[a]] - x[idx[b]] for a, b in pairs])
    ptp = np.stack([np.ptp(bip[:, i * 128:(i + 1) * 128], axis=1) for i in range(120)], axis=1)
    kw = dict(usable=np.ones(120, bool), eye=np.zeros(120, bool), ptp_bip=ptp,
              bip_names=[f"{a}-{b}" for a, b in pairs],
              params=GradingParams(min_usable_s=30.0))
    free = grade_window(x, fs, list(STANDARD_19), 0.0, **kw)
    assert len(free.discharges) >= 20
    held = grade_window(x, fs, list(STANDARD_19), 0.0, ictal_events=[(39.0, 22.0)], **kw)
    assert len(held.discharges) == 0
    assert held.grade.ictal_s >= 22.0


def test_recording_evidence_warnings():
    import pandas as pd

    from hypsa.hypsarrhythmia import recording_evidence

    base = {"grade": 4, "median_amplitude_uv": 900.0, "max_channel_amplitude_uv": 1500.0,
            "criteria": [">= 3 foci (4) and 18 high-amplitude channel(s) > 200 µV"],
            "derivations": ["Fp1-T7"], "assessed": ["amplitude"], "not_assessed": [],
            "ictal_s": 12.0}
    g = pd.DataFrame([{**base, "state": "wake_or_rem"}])
    ev = recording_evidence(g, g)
    assert any("NREM" in w for w in ev["warnings"])
    assert any("implausible amplitude" in w for w in ev["warnings"])
    assert ev["amplitude"]["grade_rests_on_voltage"]
    assert ev["ictal_set_aside_s"] == 12.0
    assert any(w.startswith("reduced montage") for w in ev["warnings"])
    ok = pd.DataFrame([{**base, "state": "nrem", "median_amplitude_uv": 150.0,
                        "max_channel_amplitude_uv": 400.0, "derivations": NAMES}])
    assert recording_evidence(ok, ok)["warnings"] == []
    assert recording_evidence(ok, ok)["by_state"] == {"nrem": 4}


def test_sliding_window_finds_the_five_minutes_across_two_windows():
    from hypsa.hypsarrhythmia import Span, grade_span, sliding_grades

    names = ["Fp1", "Fp2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "T7", "T8", "Cz"]
    bip = ["Fp1-F3", "F3-C3", "C3-P3", "P3-O1", "Fp2-F4", "F4-C4", "C4-P4", "P4-O2"]
    rng = np.random.default_rng(0)

    def span(onset, spiky):
        t = np.concatenate([b + rng.uniform(0, 1, 1) for b in range(NB) if spiky(b)])
        ch = rng.choice([names.index(c) for c in ("F3", "O2", "T7", "C4")], t.size)
        ones = np.ones(NB, bool)
        return Span(onset, names, bip, np.full((len(bip), NB), 100.0, np.float32), ones,
                    ~ones, ~ones, t, ch, ~ones, np.zeros(0))

    # spikes in 9 of 15 bins of each page, in the last 9 pages of A and the first 9 of B
    a = span(0.0, lambda b: b >= 165 and b % 15 < 9)
    b = span(300.0, lambda b: b < 135 and b % 15 < 9)
    ga, gb = grade_span(a)[0], grade_span(b)[0]
    assert ga.grade == 3 and gb.grade == 3  # 9 positive pages each: not >= 50 %
    found = sliding_grades([a, b], [ga.grade, gb.grade])
    assert len(found) == 1
    i, g = found[0]
    assert i == 0 and g.grade == 5 and g.onset_s % 15 == 0 and 0 < g.onset_s < 300
    assert "sliding window" in g.criteria[-1]
    assert sliding_grades([a, None], [ga.grade, None]) == []


def test_short_stretch_filled_with_spasms_is_graded_whole_and_says_so():
    from hypsa.hypsarrhythmia import grade_window

    fs = 128.0
    x = np.random.default_rng(2).standard_normal((19, int(90 * fs))) * 20
    from hypsa.channels import STANDARD_19

    kw = dict(usable=np.ones(90, bool), eye=np.zeros(90, bool),
              ptp_bip=np.full((len(NAMES), 90), 80.0), bip_names=NAMES)
    g = grade_window(x, fs, list(STANDARD_19), 0.0, ictal_events=[(10.0, 50.0)], **kw).grade
    assert g.grade is not None and g.ictal_s == 0.0
    assert "graded with the" in g.criteria[-1]


def test_electrodecrements_that_are_not_spasms_still_show_their_attenuations():
    """An eeg_decrement event is kept out of the discharges like a spasm, but the attenuation
    inside it is still found (it may be a paroxysmal attenuation); inside a spasm it is not."""
    from hypsa.channels import STANDARD_19
    from hypsa.hypsarrhythmia import grade_window
    from hypsa.signal import bandpass

    fs = 128.0
    nb = 120
    rng = np.random.default_rng(3)
    x = bandpass(rng.standard_normal((19, int(nb * fs))) * 60, fs, 1.0, 20.0)
    onsets = (20.0, 50.0, 80.0)
    for t in onsets:  # 2-s generalized attenuations to 10 %
        x[:, int(t * fs):int((t + 2) * fs)] *= 0.1
    kw = dict(usable=np.ones(nb, bool), eye=np.zeros(nb, bool),
              ptp_bip=np.full((len(NAMES), nb), 80.0), bip_names=NAMES,
              params=GradingParams(min_usable_s=30.0))
    events = [(t, 2.0) for t in onsets]
    free = grade_window(x, fs, list(STANDARD_19), 0.0, **kw)
    assert len(free.attenuations) == 3
    dec = grade_window(x, fs, list(STANDARD_19), 0.0, decrement_events=events, **kw)
    assert len(dec.attenuations) == 3
    assert dec.grade.ictal_s >= 3 * 8.0  # set aside from the discharges all the same
    spasm = grade_window(x, fs, list(STANDARD_19), 0.0, ictal_events=events, **kw)
    assert len(spasm.attenuations) == 0


def test_weaker_discharges_count_only_inside_a_focus():
    """Discharges between ``k_in_focus`` and ``k_local`` join the spike burden on the electrodes
    of a focus made of the stronger ones; elsewhere they are not counted."""
    from dataclasses import replace

    from hypsa.hypsarrhythmia import Span, grade_span
    from hypsa.spikes import SpikeParams

    names = ["Fp1", "Fp2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "T7", "T8", "Cz"]
    bip = ["Fp1-F3", "F3-C3", "C3-P3", "P3-O1", "Fp2-F4", "F4-C4", "C4-P4", "P4-O2"]
    strong_t = np.arange(0, NB, 10) + 0.5          # 30 strong discharges at C3: a focus
    weak_c3 = np.arange(3, NB, 10) + 0.5           # 30 weaker ones at C3
    weak_o2 = np.arange(6, NB, 10) + 0.5           # 30 weaker ones at O2 (no focus there)
    t = np.r_[strong_t, weak_c3, weak_o2]
    ch = np.r_[np.full(30, names.index("C3")), np.full(30, names.index("C3")),
               np.full(30, names.index("O2"))]
    con = np.r_[np.full(30, 9.0), np.full(60, 5.0)]
    ones = np.ones(NB, bool)
    span = Span(0.0, names, bip, np.full((len(bip), NB), 100.0, np.float32), ones, ~ones, ~ones,
                t, ch, ~ones, np.zeros(0), dis_con=con)
    off = grade_span(span, replace(SpikeParams(), k_in_focus=SpikeParams().k_local))
    g, label, bins = grade_span(span, replace(SpikeParams(), k_in_focus=4.5))
    assert off[0].n_discharges == 30 and off[2].sum() == 30
    assert g.n_foci == 1 and g.n_discharges == 60 and bins.sum() == 60
    assert (label[30:60] == 0).all() and (label[60:] == -2).all()


def test_a_focus_whose_discharges_lack_a_field_of_their_polarity_is_dropped():
    """With ``focus_min_polar``, a focus most of whose discharges rest on a field seen only
    inverted (one electrode's transients through the average reference) is not a focus; its
    discharges still count towards the burden. A focus whose discharges keep their field stays,
    and without the setting both count."""
    from dataclasses import replace

    from hypsa.hypsarrhythmia import Span, grade_span
    from hypsa.spikes import SpikeParams

    names = ["Fp1", "Fp2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "T7", "T8", "Cz"]
    bip = ["Fp1-F3", "F3-C3", "C3-P3", "P3-O1", "Fp2-F4", "F4-C4", "C4-P4", "P4-O2"]
    t = np.r_[np.arange(0, NB, 10) + 0.5, np.arange(5, NB, 10) + 0.5]
    ch = np.r_[np.full(30, names.index("C3")), np.full(30, names.index("F4"))]
    polar = np.r_[np.ones(30, bool), np.arange(30) % 4 == 0]  # F4: a quarter keep their field
    ones = np.ones(NB, bool)
    span = Span(0.0, names, bip, np.full((len(bip), NB), 100.0, np.float32), ones, ~ones, ~ones,
                t, ch, ~ones, np.zeros(0), dis_con=np.full(60, 9.0), dis_polar=polar)
    both, _, _ = grade_span(span, replace(SpikeParams(), focus_min_polar=None))
    g, label, bins = grade_span(span, replace(SpikeParams(), focus_min_polar=0.5))
    assert both.n_foci == 2
    # each focus's share of discharges with a field of their own polarity, for the reader
    assert dict(zip([f[0] for f in both.foci], both.focus_polar, strict=True)) == \
        {"F4": 0.27, "C3": 1.0}
    assert g.n_foci == 1 and g.foci[0][0] == "C3" and "F4" not in sum(g.foci, [])
    assert (label[30:] == -1).all() and g.n_discharges == 60 and bins.sum() == 60
    # a span that has not been told the polarity keeps every focus
    plain = Span(0.0, names, bip, span.ptp_bip, ones, ~ones, ~ones, t, ch, ~ones, np.zeros(0),
                 dis_con=np.full(60, 9.0))
    assert grade_span(plain, replace(SpikeParams(), focus_min_polar=0.5))[0].n_foci == 2


def test_a_focus_whose_field_is_mostly_inverted_is_flagged_for_review():
    """The recording's evidence warns of a graded focus fewer than half of whose discharges keep
    a field of their own polarity (one electrode's artifact through the average reference, or
    a reversing field), naming its electrode; the focus still counts."""
    import pandas as pd

    from hypsa.hypsarrhythmia import FOCUS_POLAR_WARN, recording_evidence

    row = {"grade": 2, "foci": [["P3", "P7"], ["C4"]], "focus_polar": [0.2, 0.9],
           "criteria": ["2 spike focus/foci, no high-amplitude channel"],
           "max_channel_amplitude_uv": 120.0, "median_amplitude_uv": 60.0}
    out = recording_evidence(pd.DataFrame([row]), pd.DataFrame([row]))
    flagged = [w for w in out["warnings"] if w.startswith("focus at")]
    assert len(flagged) == 1 and flagged[0].startswith("focus at P3: only 20%")
    assert FOCUS_POLAR_WARN == 0.5
    clean = recording_evidence(pd.DataFrame([{**row, "focus_polar": [0.6, 0.9]}]),
                               pd.DataFrame([row]))
    assert not [w for w in clean["warnings"] if w.startswith("focus at")]


def test_the_grade_without_the_flagged_foci_is_given_where_it_differs():
    """Where a graded focus is flagged (most of its discharges lack a field of their polarity),
    the epoch also carries the grade it would have without the flagged foci, and the evidence
    warns when the grade, and above all the grade of hypsarrhythmia, rests on them."""
    import pandas as pd

    from hypsa.hypsarrhythmia import PRESENT_FROM, Span, grade_span, recording_evidence

    names = ["Fp1", "Fp2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "T7", "T8", "Cz"]
    bip = ["Fp1-F3", "F3-C3", "C3-P3", "P3-O1", "Fp2-F4", "F4-C4", "C4-P4", "P4-O2"]
    t = np.r_[np.arange(0, NB, 10), np.arange(3, NB, 10), np.arange(6, NB, 10)] + 0.5
    ch = np.r_[np.full(30, names.index("C3")), np.full(30, names.index("O2")),
               np.full(30, names.index("F4"))]
    polar = np.r_[np.ones(60, bool), np.arange(30) % 4 == 0]  # F4: a quarter keep their field
    ones = np.ones(NB, bool)
    high = np.full((len(bip), NB), 260.0, np.float32)  # every derivation above 200 µV
    span = Span(0.0, names, bip, high, ones, ~ones, ~ones, t, ch, ~ones, np.zeros(0),
                dis_con=np.full(90, 9.0), dis_polar=polar)
    g = grade_span(span)[0]
    assert g.n_foci == 3 and g.grade == PRESENT_FROM
    assert g.grade_unflagged == 3  # two foci and high amplitude
    # every focus keeps its field: nothing is flagged, nothing to give
    clean = Span(0.0, names, bip, high, ones, ~ones, ~ones, t, ch, ~ones, np.zeros(0),
                 dis_con=np.full(90, 9.0), dis_polar=np.ones(90, bool))
    assert grade_span(clean)[0].grade_unflagged is None

    row = {**g.to_dict(), "criteria": g.criteria}
    out = recording_evidence(pd.DataFrame([row]), pd.DataFrame([row]))
    rests = [w for w in out["warnings"] if w.startswith("without the focus")]
    assert rests == ["without the focus/foci flagged for review this epoch grades BASED 3, not 4:"
                     " the grade of hypsarrhythmia rests on them"]
    same = recording_evidence(pd.DataFrame([{**row, "grade_unflagged": 4}]),
                              pd.DataFrame([row]))
    assert not [w for w in same["warnings"] if w.startswith("without the focus")]
