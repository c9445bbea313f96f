"""What every bench generator with the file interface of ``independent.py`` promises
(``benchmarks/generalize/fourth.py``, ``fifth.py``, ``sixth.py``): determinism, the same EEG
with and without the movement channel, the 10-20 channels in order, infant voltages, and a gain
that scales."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "generalize"))

from generated_files import eeg_uv  # noqa: E402

GENERATORS = ["fourth", "fifth", "sixth"]


def _ptp(z: np.ndarray) -> float:
    """Median 1-s peak-to-peak over the 19 EEG channels and the seconds (256 Hz)."""
    z = z[:19, : z.shape[1] // 256 * 256].reshape(19, -1, 256)
    return float(np.median(np.ptp(z, axis=-1)))


@pytest.mark.parametrize("name", GENERATORS)
def test_deterministic_seeded_and_the_same_eeg_with_emg(tmp_path: Path, name: str) -> None:
    g = importlib.import_module(name)
    a = g.generate(tmp_path / "a", seed=3, background="hyps_classic", minutes=1, emg=True)
    b = g.generate(tmp_path / "b", seed=3, background="hyps_classic", minutes=1, emg=True)
    c = g.generate(tmp_path / "c", seed=4, background="hyps_classic", minutes=1, emg=True)
    d = g.generate(tmp_path / "d", seed=3, background="hyps_classic", minutes=1, emg=False)
    for x, y in ((a.edf, b.edf), (a.events, b.events), (a.truth, b.truth)):
        assert x.read_bytes() == y.read_bytes()
    assert a.edf.read_bytes() != c.edf.read_bytes()
    assert np.allclose(eeg_uv(a.edf)[0][:19], eeg_uv(d.edf)[0], atol=0.05)


@pytest.mark.parametrize("name", GENERATORS)
def test_channels_voltages_and_emg(tmp_path: Path, name: str) -> None:
    g = importlib.import_module(name)
    hyps = g.generate(tmp_path, seed=1, background="hyps_classic", minutes=1, emg=True)
    normal = g.generate(tmp_path, seed=1, background="normal_wake", minutes=1, emg=False)
    x, names, fs = eeg_uv(hyps.edf)
    assert names[:19] == [f"EEG {c}-REF" for c in g.CHANNELS]
    assert names[19:] and all(n.startswith("EMG DELT") for n in names[19:])
    assert fs == 256.0 and x.shape[1] == 60 * 256
    y, names_n, _ = eeg_uv(normal.edf)
    assert len(names_n) == 19
    # hypsarrhythmia is very high voltage (> 200 µV), a normal infant background is not
    assert _ptp(x) > 200.0 > _ptp(y) > 20.0


@pytest.mark.parametrize("name", GENERATORS)
def test_gain_scales_the_eeg(tmp_path: Path, name: str) -> None:
    g = importlib.import_module(name)
    a = g.generate(tmp_path / "a", seed=2, background="diffuse_slowing", minutes=1, emg=False)
    b = g.generate(tmp_path / "b", seed=2, background="diffuse_slowing", minutes=1, emg=False,
                   gain=2.0)
    assert np.allclose(eeg_uv(b.edf)[0], 2 * eeg_uv(a.edf)[0], atol=0.1)
