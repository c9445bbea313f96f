"""Discharge detection and foci on synthetic signals with known spikes."""

from __future__ import annotations

import numpy as np

from hypsa.channels import POSITIONS, STANDARD_19
from hypsa.signal import bandpass
from hypsa.spikes import detect_discharges, group_foci

FS = 128.0


def _background(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((19, int(seconds * FS))).astype(np.float32) * 20
    return bandpass(x, FS, 0.5, 30.0)


def _add_spike(x: np.ndarray, t: float, centre: str, amp: float = 200.0) -> None:
    w = int(0.06 * FS)
    rise = int(0.02 * FS)  # a spike: steep 20-ms rise, 40-ms fall
    shape = -amp * np.r_[np.linspace(0, 1, rise, endpoint=False), np.linspace(1, 0, w - rise)]
    c = np.array(POSITIONS[centre])
    for i, n in enumerate(STANDARD_19):
        d2 = float(((np.array(POSITIONS[n]) - c) ** 2).sum())
        i0 = int(t * FS)
        x[i, i0:i0 + w] += shape * np.exp(-d2 / 0.3)  # neighbours at 0.5 see ~40 %


def test_detects_spikes_at_their_location():
    x = _background(60)
    times = np.arange(2, 58, 2.0)
    for t in times:
        _add_spike(x, t, "C4")
    d = detect_discharges(x, FS)
    assert len(d) >= 0.9 * len(times)
    assert np.mean([STANDARD_19[c] in ("C4", "T8", "P4", "F4", "Cz") for c in d.channel]) > 0.9
    # every true spike matched within 100 ms
    hits = [np.min(np.abs(d.time_s - t)) < 0.1 for t in times]
    assert np.mean(hits) >= 0.9


def test_no_spikes_in_background():
    d = detect_discharges(_background(60, seed=2), FS)
    assert len(d) <= 2


def test_excluded_bins_are_ignored():
    x = _background(20)
    for t in (3.0, 7.0, 13.0):
        _add_spike(x, t, "O1")
    excluded = np.zeros(20, dtype=bool)
    excluded[7] = True
    d = detect_discharges(x, FS, excluded=excluded)
    assert not np.any((d.time_s >= 7) & (d.time_s < 8))
    assert np.any(np.abs(d.time_s - 3.0) < 0.2)


def test_group_foci_single_vs_multifocal():
    pos = np.array([POSITIONS[n] for n in STANDARD_19])
    idx = {n: i for i, n in enumerate(STANDARD_19)}
    single = np.array([idx["C4"]] * 40 + [idx["T8"]] * 5 + [idx["P4"]] * 5)
    foci, label = group_foci(single, pos)
    assert len(foci) == 1 and np.all(label == 0)
    multi = np.array([idx["Fp1"]] * 20 + [idx["O2"]] * 20 + [idx["T7"]] * 20 + [idx["F8"]] * 20)
    foci, _ = group_foci(multi, pos)
    assert len(foci) == 4
    # a location with too few discharges is not a focus
    foci, label = group_foci(np.array([idx["O1"]] * 30 + [idx["Fp2"]]), pos, min_events=3)
    assert len(foci) == 1 and label[-1] == -1


def test_adjacent_maxima_are_two_foci_where_each_recurs():
    """Two neighbouring electrodes that are each the maximum of many discharges are two foci
    (a focus's spread reaches a neighbour only now and then); a sparse pair stays one focus
    (split, neither part would recur enough to count), and a focus with a few discharges
    peaking on its neighbours stays one."""
    pos = np.array([POSITIONS[n] for n in STANDARD_19])
    idx = {n: i for i, n in enumerate(STANDARD_19)}
    pair = np.array([idx["C3"]] * 40 + [idx["P3"]] * 30 + [idx["O2"]] * 40)
    assert len(group_foci(pair, pos, min_events=8)[0]) == 2  # neighbours merged
    foci, label = group_foci(pair, pos, min_events=8, peak_fraction=0.5)
    assert len(foci) == 3 and np.all(label >= 0)
    assert label[0] != label[40]  # C3's discharges and P3's in different foci
    sparse = np.array([idx["C3"]] * 10 + [idx["P3"]] * 6)
    assert len(group_foci(sparse, pos, min_events=8, peak_fraction=0.5)[0]) == 1
    spread = np.array([idx["C4"]] * 40 + [idx["T8"]] * 9 + [idx["P4"]] * 9)
    assert len(group_foci(spread, pos, min_events=8, peak_fraction=0.5)[0]) == 1


def test_judged_against_local_background():
    """A spike on a high-voltage slow background is found; the same deflection inside an
    equally large rhythmic 10 Hz burst is not (it does not stand out from its surroundings)."""
    rng = np.random.default_rng(4)
    n = int(40 * FS)
    t = np.arange(n) / FS
    x = _background(40, seed=4)
    x += 150 * np.sin(2 * np.pi * 1.0 * t + rng.uniform(0, 6, (19, 1)))  # high-voltage delta
    for tt in (5.0, 12.0, 19.0):
        _add_spike(x, tt, "P3", amp=150.0)
    burst = (t > 25) & (t < 35)
    x[:, burst] += 60 * np.sin(2 * np.pi * 10 * t[burst])  # alpha-like rhythm everywhere
    pos = np.array([POSITIONS[n] for n in STANDARD_19])
    d = detect_discharges(x, FS, positions=pos)
    assert all(np.any(np.abs(d.time_s - tt) < 0.15) for tt in (5.0, 12.0, 19.0))
    assert not np.any((d.time_s > 25) & (d.time_s < 35))


def test_needs_a_field_and_is_not_generalized():
    x = _background(20, seed=5)
    i0 = int(5 * FS)
    x[STANDARD_19.index("O1"), i0:i0 + 8] += 300 * np.hanning(8)  # one electrode only
    x[:, int(12 * FS):int(12 * FS) + 8] += 300 * np.hanning(8)     # every electrode alike
    pos = np.array([POSITIONS[n] for n in STANDARD_19])
    d = detect_discharges(x, FS, positions=pos)
    assert not np.any(np.abs(d.time_s - 5.0) < 0.2)
    assert not np.any(np.abs(d.time_s - 12.0) < 0.2)


def test_foci_not_merged_across_midline():
    names = ["C3", "Cz", "C4"]
    pos = np.array([POSITIONS[n] for n in names])
    loc = np.array([0] * 20 + [2] * 20)
    foci, _ = group_foci(loc, pos, radius=10.0)  # a radius that spans the head
    assert len(foci) == 2
    assert not any(0 in f and 2 in f for f in foci)


def test_bilateral_symmetric_vertex_transient_is_not_focal():
    """A vertex wave (maximal at Cz, equal on C3 and C4, same polarity) is a normal sleep
    transient, not a focal discharge; the same wave off to one side is."""
    x = _background(20, seed=6)
    _add_spike(x, 5.0, "Cz", amp=250.0)
    _add_spike(x, 12.0, "C4", amp=250.0)
    pos = np.array([POSITIONS[n] for n in STANDARD_19])
    d = detect_discharges(x, FS, positions=pos)
    assert not np.any(np.abs(d.time_s - 5.0) < 0.2)
    assert np.any(np.abs(d.time_s - 12.0) < 0.2)


def test_field_judged_by_shape_on_busy_neighbours():
    """A spike whose field reaches neighbours that carry much fast background of their own (so
    they do not stand out against their own level) still has a field: the same waveform,
    smaller, at the same moment. With the shape test off it is lost."""
    from dataclasses import replace

    from hypsa.spikes import SpikeParams

    rng = np.random.default_rng(7)
    x = _background(40, seed=7)
    busy = [STANDARD_19.index(n) for n in ("F4", "P4", "T8", "Cz")]  # C4's neighbours
    x[busy] += bandpass(rng.standard_normal((len(busy), x.shape[1])) * 60, FS, 8.0, 30.0)
    times = np.arange(3.0, 38.0, 3.0)
    w = int(0.06 * FS)
    shape = -220 * np.r_[np.linspace(0, 1, 3, endpoint=False), np.linspace(1, 0, w - 3)]
    c4 = STANDARD_19.index("C4")
    for t in times:
        i0 = int(t * FS)
        x[c4, i0:i0 + w] += shape
        x[busy, i0:i0 + w] += 0.3 * shape
    pos = np.array([POSITIONS[n] for n in STANDARD_19])
    found = detect_discharges(x, FS, positions=pos)
    hits = np.mean([np.any(np.abs(found.time_s - t) < 0.15) for t in times])
    off = detect_discharges(x, FS, positions=pos, params=replace(SpikeParams(), field_corr=2.0))
    hits_off = np.mean([np.any(np.abs(off.time_s - t) < 0.15) for t in times])
    assert hits >= 0.6
    assert hits_off <= 0.3


def test_focal_spike_under_a_widespread_background_is_found_on_the_laplacian():
    """A widespread fast background whose size changes smoothly across the head (a gradient
    from left to right) survives the average reference, where it hides a focal spike at C3, but
    not the local Laplacian. With the Laplacian tier the spikes are found, and the background
    alone gains no detection; the average reference alone finds none of them."""
    from dataclasses import replace

    from hypsa.spikes import SpikeParams, local_mean

    rng = np.random.default_rng(11)
    pos = np.array([POSITIONS[n] for n in STANDARD_19])
    common = bandpass(rng.standard_normal(int(60 * FS)) * 100.0, FS, 8.0, 30.0)
    bg = 0.25 * _background(60, seed=11) + pos[:, 0][:, None] * common[None, :]
    x = bg.copy()
    times = np.arange(3.0, 58.0, 3.0)
    for t in times:
        _add_spike(x, t, "C3", amp=200.0)
    lap = replace(SpikeParams(), laplacian_factor=1.0)
    on = detect_discharges(x, FS, positions=pos, params=lap)
    off = detect_discharges(x, FS, positions=pos)
    hits_on = np.mean([np.any(np.abs(on.time_s - t) < 0.1) for t in times])
    hits_off = np.mean([np.any(np.abs(off.time_s - t) < 0.1) for t in times])
    assert hits_on >= 0.8
    assert hits_off <= 0.1
    assert np.mean([STANDARD_19[c] in ("C3", "F3", "P3", "T7", "Cz") for c in on.channel]) > 0.9
    assert len(detect_discharges(bg, FS, positions=pos, params=lap)) == 0
    # every discharge of the average reference is kept
    assert set(np.round(off.time_s, 3)) <= set(np.round(on.time_s, 3))
    # the matrix averages each electrode's neighbours, itself excluded
    m = local_mean(pos)
    assert np.allclose(m.sum(axis=1), 1.0) and np.allclose(np.diag(m), 0.0)


def test_one_electrodes_transient_leaking_through_the_average_is_not_a_field():
    """Sharp transients of one electrode (a faulty contact) reach every other electrode inverted
    through the average reference; where the background is quiet that leak stands above the
    neighbours' own level. Judged by the envelope alone it makes a field and a run of
    discharges, each marked as such (``Discharges.polar``); with the neighbours' waveform
    required not to be the location's inverted, none. A true focal spike, whose field has the
    same polarity, is found either way."""
    from dataclasses import replace

    from hypsa.spikes import SpikeParams

    pos = np.array([POSITIONS[n] for n in STANDARD_19])
    x = _background(60, seed=12)
    f4 = STANDARD_19.index("F4")
    times = np.arange(2.0, 58.0, 2.0)
    w = int(0.05 * FS)
    for t in times:
        i0 = int(t * FS)
        x[f4, i0:i0 + w] += 800.0 * np.r_[np.linspace(0, 1, 2, endpoint=False),
                                          np.linspace(1, 0, w - 2)]
    blind = replace(SpikeParams(), field_min_corr=None)
    polar = replace(SpikeParams(), field_min_corr=-0.3)
    leak = detect_discharges(x, FS, positions=pos, params=blind)
    assert len(leak) >= 0.5 * times.size
    assert leak.polar.mean() <= 0.1  # each is marked: its field is the leak's
    assert len(detect_discharges(x, FS, positions=pos, params=polar)) <= 1
    y = _background(60, seed=12)
    for t in times:
        _add_spike(y, t, "C4")
    for p in (blind, polar):
        d = detect_discharges(y, FS, positions=pos, params=p)
        assert np.mean([np.any(np.abs(d.time_s - t) < 0.1) for t in times]) >= 0.9
        assert d.polar.mean() >= 0.9
