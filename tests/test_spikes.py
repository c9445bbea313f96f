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
    shape = -amp * np.hanning(w)
    c = np.array(POSITIONS[centre])
    for i, n in enumerate(STANDARD_19):
        d2 = float(((np.array(POSITIONS[n]) - c) ** 2).sum())
        i0 = int(t * FS)
        x[i, i0:i0 + w] += shape * np.exp(-d2 / 0.08)


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
