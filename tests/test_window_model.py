"""The window model bench's windows (``benchmarks/generalize/window_model.py``): each electrode
against its own background, so no microvolt enters, and the candidate's onset at a fixed place."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "generalize"))

import window_model as wm  # noqa: E402

FS = 256.0


def _eeg(seed: int = 0, minutes: float = 3.0) -> tuple[np.ndarray, float]:
    """Three channels of noise-like background with, on every channel, a 1-s slow wave at 90 s
    followed by 2 s at 20 % of the background."""
    from scipy.signal import butter, sosfiltfilt

    rng = np.random.default_rng(seed)
    n = int(minutes * 60 * FS)
    x = sosfiltfilt(butter(4, [1.0, 30.0], "bandpass", fs=FS, output="sos"),
                    rng.normal(0, 1, (3, n)), axis=1)
    x = x / x.std(axis=1, keepdims=True) * np.array([[20.0], [40.0], [80.0]])
    on = int(90 * FS)
    t = np.arange(int(FS)) / FS
    x[:, on:on + int(FS)] += 8 * x.std(axis=1, keepdims=True) * np.sin(np.pi * t)[None, :]
    x[:, on + int(FS):on + int(3 * FS)] *= 0.2
    return x, 90.0


def test_a_window_is_the_same_at_any_gain():
    x, on = _eeg()
    a = wm.windows(x, FS, np.array([on])).astype(float)
    b = wm.windows(x * 7.5, FS, np.array([on])).astype(float)
    assert a.shape == (1, 3, 2, wm.T)
    assert np.allclose(a, b, atol=2e-2)
    # the three electrodes differ fourfold in microvolts but read alike against their own level
    assert np.ptp(np.abs(a[0, :, 0]).max(axis=1)) < 0.5 * np.abs(a[0, :, 0]).max()


def test_the_onset_sits_at_a_fixed_sample_with_the_wave_after_it_and_the_decrement_after():
    x, on = _eeg()
    w = wm.windows(x, FS, np.array([on]))[0].astype(float)
    at = int(wm.PRE * wm.RATE)
    wave = np.abs(w[:, 0, at:at + int(wm.RATE)]).max(axis=1)
    before = np.abs(w[:, 0, :at - int(wm.RATE)]).max(axis=1)
    assert (wave > 2 * before).all()
    # the 12-40 Hz envelope (log, against its own median) is lower in the decrement than before
    dec = w[:, 1, at + int(1.2 * wm.RATE):at + int(2.8 * wm.RATE)].mean(axis=1)
    pre = w[:, 1, :at - int(wm.RATE)].mean(axis=1)
    assert (dec < pre - 0.8).all()


def test_a_window_past_the_recording_is_padded_not_shifted():
    x, _ = _eeg()
    w = wm.windows(x, FS, np.array([2.0]))[0].astype(float)
    assert np.all(w[:, 0, :int((wm.PRE - 2.0) * wm.RATE) - 1] == 0.0)
    assert np.any(w[:, 0, int(wm.PRE * wm.RATE):] != 0.0)


@pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                    reason="torch (the research extra) is not installed")
def test_the_network_reads_any_number_of_electrodes():
    import torch

    net = wm._net()
    net.eval()
    x = torch.zeros((2, wm.N_CH, 2, wm.T))
    m = torch.zeros((2, wm.N_CH), dtype=torch.bool)
    m[0, :9] = True
    m[1, :19] = True
    with torch.no_grad():
        out = net(x, m)
    assert out.shape == (2,) and torch.isfinite(out).all()
