"""The spasm window score (:mod:`hypsa.spasm_window`): windows with each electrode against its own
background, so no microvolt enters, and the candidate's onset at a fixed place; the numpy network
the same as the training code's; the shipped weights checked and telling a spasm from background."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "generalize"))

import window_model as wm  # noqa: E402

from hypsa import spasm_window as sw  # noqa: E402
from hypsa.spasms import frame_measures  # noqa: E402

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
    a = sw.windows(frame_measures(x, FS), np.array([on])).astype(float)
    b = sw.windows(frame_measures(x * 7.5, FS), np.array([on])).astype(float)
    assert a.shape == (1, 3, 3, sw.T)
    assert np.allclose(a, b, atol=2e-2)
    # the three electrodes differ fourfold in microvolts but read alike against their own level
    assert np.ptp(np.abs(a[0, :, 0]).max(axis=1)) < 0.5 * np.abs(a[0, :, 0]).max()


def test_the_onset_sits_at_a_fixed_sample_with_the_wave_after_it_and_the_decrement_after():
    x, on = _eeg()
    w = sw.windows(frame_measures(x, FS), np.array([on]))[0].astype(float)
    at = int(sw.PRE * sw.FRAMES_PER_S)
    wave = np.abs(w[:, 0, at:at + int(sw.FRAMES_PER_S)]).max(axis=1)
    before = np.abs(w[:, 0, :at - int(sw.FRAMES_PER_S)]).max(axis=1)
    assert (wave > 2 * before).all()
    # the 1-45 Hz RMS (log, against its own background) is lower in the decrement than before
    dec = w[:, 1, at + int(1.2 * sw.FRAMES_PER_S):at + int(2.8 * sw.FRAMES_PER_S)].mean(axis=1)
    pre = w[:, 1, :at - int(sw.FRAMES_PER_S)].mean(axis=1)
    assert (dec < pre - 0.8).all()


def test_a_window_past_the_recording_is_padded_not_shifted():
    x, _ = _eeg()
    w = sw.windows(frame_measures(x, FS), np.array([2.0]))[0].astype(float)
    assert np.all(w[:, 0, :int((sw.PRE - 2.0) * sw.FRAMES_PER_S) - 1] == 0.0)
    assert np.any(w[:, 0, int(sw.PRE * sw.FRAMES_PER_S):] != 0.0)


@pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                    reason="torch (the research extra) is not installed")
def test_the_network_reads_any_number_of_electrodes():
    import torch

    net = wm._net()
    net.eval()
    x = torch.zeros((2, wm.N_CH, wm.N_S, sw.T))
    m = torch.zeros((2, wm.N_CH), dtype=torch.bool)
    m[0, :9] = True
    m[1, :19] = True
    with torch.no_grad():
        out = net(x, m)
    assert out.shape == (2,) and torch.isfinite(out).all()


@pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                    reason="torch (the research extra) is not installed")
def test_the_numpy_network_is_the_training_network():
    import torch

    torch.manual_seed(3)
    net = wm._net()
    net.eval()
    rng = np.random.default_rng(3)
    x = rng.normal(0, 2, (5, wm.N_CH, wm.N_S, sw.T)).astype(np.float32)
    m = rng.uniform(size=(5, wm.N_CH)) > 0.3
    m[:, 0] = True
    with torch.no_grad():
        ref = net(torch.from_numpy(x), torch.from_numpy(m)).numpy()
    w = {k: v.numpy() for k, v in net.state_dict().items()}
    assert np.allclose(sw.forward(w, x, m), ref, atol=1e-4 * max(1.0, np.abs(ref).max()))
    # an absent electrode changes nothing, present or dropped from the array
    keep = np.flatnonzero(m[0])
    assert np.allclose(sw.forward(w, x[:1, keep], m[:1, keep]), ref[:1], atol=1e-4)


def test_the_shipped_network_is_checked_against_its_card(tmp_path):
    import shutil

    from hypsa.model_files import models_dir

    w = sw.load_weights()
    assert w["enc.0.weight"].shape == (8, len(sw.STREAMS), 5)
    info = sw.window_info()
    assert len(info["sha256"]) == 64 and info["parameters"] == sum(v.size for v in w.values())
    for f in (sw.WEIGHTS_FILE, sw.CARD_FILE):
        shutil.copy(models_dir() / f, tmp_path / f)
    raw = bytearray((tmp_path / sw.WEIGHTS_FILE).read_bytes())
    raw[-20] ^= 0xFF
    (tmp_path / sw.WEIGHTS_FILE).write_bytes(bytes(raw))
    with pytest.raises(sw.WindowModelError, match="differs from its card"):
        sw.load_weights(str(tmp_path))


def test_the_shipped_network_scores_a_spasm_above_the_background_around_it():
    x, on = _eeg(seed=5, minutes=4.0)
    x = np.vstack([x] * 3)  # nine electrodes
    s = sw.window_logit(frame_measures(x, FS), np.array([on, 40.0, 150.0, 200.0]))
    assert s.shape == (4,) and np.isfinite(s).all()
    assert s[0] > s[1:].max() + 1.0


def test_curves_at_another_frame_rate_are_refused_not_misread():
    from hypsa.spasms import SpasmParams

    x, on = _eeg()
    fm = frame_measures(x, FS, SpasmParams(frame_s=0.25))
    with pytest.raises(sw.WindowModelError, match="frames a second"):
        sw.windows(fm, np.array([on]))
