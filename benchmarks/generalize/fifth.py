"""Synthetic infant EEG from coupled Jansen-Rit neural masses, for held-out validation.

Each cortical patch holds two noise-driven Jansen-Rit neural masses: a slow one (delta) and a
faster one (theta, the posterior rhythm and, when given a brief excitatory input, a spike or sharp
wave followed by an inhibitory after-wave).  Patches are coupled to their neighbours through the
afferent input and projected to the 19 electrodes of the 10-20 system by a smooth distance-based
lead field on a sphere.  Hypsarrhythmia is a pathological regime (high excitatory gain, weak
coupling, large slow fluctuations of patch amplitude, frequent discharges from shifting foci);
normal wake and sleep are physiological regimes.  A spasm is a synchronous input pulse to a set of
quiescent "wave" masses (the high-voltage slow wave) followed by a transient loss of afferent drive
and synchronous output of all patches (the electrodecrement).  Every label is measured back from
the produced signals.

Usage::

    python benchmarks/generalize/fifth.py OUT --n 20 --seed 0 [--minutes 10] [--backgrounds a,b]
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import edfio
import numpy as np
import pandas as pd
from numba import njit
from scipy.signal import butter, lfilter, sosfiltfilt

# --------------------------------------------------------------------------------------------
# Montage and geometry
# --------------------------------------------------------------------------------------------

CHANNELS: list[str] = [
    "Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T3", "C3", "Cz",
    "C4", "T4", "T5", "P3", "Pz", "P4", "T6", "O1", "O2",
]  # fmt: skip

#: (polar angle from the vertex, azimuth from the nose, positive towards the left), degrees.
_ELEC_ANGLES: dict[str, tuple[float, float]] = {
    "Fp1": (90, 18), "Fp2": (90, -18), "F7": (90, 54), "F3": (62, 38), "Fz": (45, 0),
    "F4": (62, -38), "F8": (90, -54), "T3": (90, 90), "C3": (45, 90), "Cz": (0, 0),
    "C4": (45, -90), "T4": (90, -90), "T5": (90, 126), "P3": (62, 142), "Pz": (45, 180),
    "P4": (62, -142), "T6": (90, -126), "O1": (90, 162), "O2": (90, -162),
}  # fmt: skip

#: Longitudinal bipolar ("double banana") montage used for the BASED amplitude criterion.
BIPOLAR: list[tuple[str, str]] = [
    ("Fp1", "F7"), ("F7", "T3"), ("T3", "T5"), ("T5", "O1"),
    ("Fp2", "F8"), ("F8", "T4"), ("T4", "T6"), ("T6", "O2"),
    ("Fp1", "F3"), ("F3", "C3"), ("C3", "P3"), ("P3", "O1"),
    ("Fp2", "F4"), ("F4", "C4"), ("C4", "P4"), ("P4", "O2"),
    ("Fz", "Cz"), ("Cz", "Pz"),
]  # fmt: skip

#: Background name -> hypsarrhythmic.
BACKGROUNDS: dict[str, bool] = {
    "hyps_classic": True,
    "hyps_asymmetric": True,
    "hyps_attenuation": True,
    "hyps_focus": True,
    "hyps_fragmented": True,
    "hyps_slow": True,
    "hyps_synchronous": True,
    "normal_wake": False,
    "normal_sleep": False,
    "hv_slow_sleep": False,
    "single_focus": False,
    "burst_suppression": False,
    "diffuse_slowing": False,
    "multifocal_sparse": False,
}

N_PATCHES = 24
HIGH_AMP_UV = 200.0
_FIELDS = ["generalized", "vertex", "lateralized_left", "lateralized_right", "focal"]
_FIELD_P = [0.5, 0.2, 0.1, 0.1, 0.1]


def _unit(theta_deg: float, phi_deg: float) -> np.ndarray:
    """Unit vector from polar and azimuth angles in degrees (x front, y left, z up)."""
    t, p = math.radians(theta_deg), math.radians(phi_deg)
    return np.array([math.sin(t) * math.cos(p), math.sin(t) * math.sin(p), math.cos(t)])


ELEC_XYZ = np.array([_unit(*_ELEC_ANGLES[c]) for c in CHANNELS])


def _patches(n: int) -> np.ndarray:
    """Patch centres spread evenly (Fibonacci lattice) over the upper head down to ~105 deg."""
    i = np.arange(n) + 0.5
    z = 1.0 - i / n * 1.26
    phi = math.pi * (1.0 + 5.0**0.5) * i
    r = np.sqrt(1.0 - z**2)
    return np.c_[r * np.cos(phi), r * np.sin(phi), z]


PATCH_XYZ = _patches(N_PATCHES)


def _angdist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle distance (rad) between rows of a and rows of b."""
    return np.arccos(np.clip(a @ b.T, -1.0, 1.0))


# --------------------------------------------------------------------------------------------
# Neural-mass core
# --------------------------------------------------------------------------------------------

_FM = {"nsz", "arcp", "contract", "afn", "reassoc"}
_P_DROP = 60.0  # fall of the mean afferent drive at full loss of input (*choice*)


@njit(cache=True, fastmath=_FM)
def _simulate(
    n_out: int,
    sub: int,
    fs_out: float,
    kw: np.ndarray,
    ks: np.ndarray,
    ew: np.ndarray,
    es: np.ndarray,
    p0: np.ndarray,
    psd: np.ndarray,
    kc: np.ndarray,
    nbr: np.ndarray,
    nbw: np.ndarray,
    sleep: np.ndarray,
    gin: np.ndarray,
    pulse: np.ndarray,
    seed: int,
) -> np.ndarray:
    """Euler integration of coupled Jansen-Rit masses; returns y1 - y2 (mV) at fs_out.

    Rates are a = 100 k, b = 50 k with gains A = 3.25 k eps, B = 22 k (time scaling that keeps
    A/a and B/b); k and eps are interpolated between wake and sleep values by ``sleep``.  The
    afferent input is p0 + psd * noise (held for one output sample), reduced by ``gin`` (loss of
    input), plus coupling from the neighbours' pyramidal firing (one output sample of delay) and
    the external ``pulse``.  The output is the mean over the ``sub`` integration steps.
    """
    np.random.seed(seed)  # noqa: NPY002  (numba's own generator)
    n = kw.shape[0]
    dt = 1.0 / (fs_out * sub)
    y0 = np.full(n, 0.1)
    y1 = np.full(n, 20.0)
    y2 = np.full(n, 15.0)
    y3 = np.zeros(n)
    y4 = np.zeros(n)
    y5 = np.zeros(n)
    out = np.zeros((n, n_out), dtype=np.float32)
    fr = np.zeros(n)
    acc = np.zeros(n)
    pin = np.zeros(n)
    a = np.zeros(n)
    b = np.zeros(n)
    aa = np.zeros(n)
    bb = np.zeros(n)
    nn = nbr.shape[1]
    for t in range(n_out):
        s = sleep[t]
        g = gin[t]
        for i in range(n):
            k = kw[i] + s * (ks[i] - kw[i])
            e = ew[i] + s * (es[i] - ew[i])
            a[i] = 100.0 * k
            b[i] = 50.0 * k
            aa[i] = 3.25 * k * e * a[i]
            bb[i] = 22.0 * k * b[i] * 33.75
            fr[i] = 5.0 / (1.0 + np.exp(0.56 * (6.0 - (y1[i] - y2[i]))))
        for i in range(n):
            cin = 0.0
            for j in range(nn):
                idx = nbr[i, j]
                if idx >= 0:
                    cin += nbw[i, j] * fr[idx]
            acc[i] = 0.0
            pin[i] = (
                p0[i]
                - (1.0 - g) * _P_DROP
                + g * psd[i] * np.random.standard_normal()  # noqa: NPY002
                + kc[i] * cin
                + pulse[i, t]
            )
        for _ in range(sub):
            for i in range(n):
                f = 5.0 / (1.0 + np.exp(0.56 * (6.0 - (y1[i] - y2[i]))))
                ex = np.exp(min(-18.9 * y0[i], 60.0))
                e4 = ex * ex
                e4 = e4 * e4
                s1 = 5.0 / (1.0 + 28.7892 * e4)
                s3 = 5.0 / (1.0 + 28.7892 * ex)
                ai = a[i]
                bi = b[i]
                d3 = aa[i] * f - 2.0 * ai * y3[i] - ai * ai * y0[i]
                d4 = aa[i] * (pin[i] + 108.0 * s1) - 2.0 * ai * y4[i] - ai * ai * y1[i]
                d5 = bb[i] * s3 - 2.0 * bi * y5[i] - bi * bi * y2[i]
                y0[i] += dt * y3[i]
                y1[i] += dt * y4[i]
                y2[i] += dt * y5[i]
                y3[i] += dt * d3
                y4[i] += dt * d4
                y5[i] += dt * d5
                acc[i] += y1[i] - y2[i]
        for i in range(n):
            out[i, t] = acc[i] / sub
    return out


# --------------------------------------------------------------------------------------------
# Background profiles: every range is a *choice* unless README_fifth.md names a source
# --------------------------------------------------------------------------------------------

_BASE: dict[str, Any] = {
    "amp": (50.0, 110.0),  # typical referential p2p, uV (median channel, median 1-s bin)
    "kD": (0.20, 0.32), "kDs": (0.15, 0.24),  # slow mass: ~2-3 Hz wake, ~1.5-2.4 Hz sleep
    "kF": (0.55, 0.75), "kFs": (0.45, 0.65), "kPost": (0.42, 0.55),  # 5.5-7.5, 4.5-6.5, 4-5.5 Hz
    "eD": (1.0, 1.06), "eF": (1.0, 1.04),
    "K": (8.0, 13.0), "KF": (2.0, 6.0), "noise": (70.0, 100.0),
    "rF": (0.35, 0.6), "rFs": (0.25, 0.4), "post": (1.5, 2.5),
    "sig": (0.12, 0.25), "tau": (3.0, 10.0),
    "p_sleep": 0.35, "rate": (0.0, 0.0), "nfoci": (0, 0), "bilat": 0.0,
    "posterior": True, "spindles": True, "vertex": True, "blinks": True,
    "att": None, "frag": False, "bs": False, "asym": False, "focus": False,
    "phys_hv": False, "abnormal": False,
}  # fmt: skip

_HYPS: dict[str, Any] = {
    **_BASE,
    "amp": (250.0, 500.0),
    "kD": (0.18, 0.30), "kDs": (0.14, 0.22), "kF": (0.5, 0.8), "kFs": (0.45, 0.7),
    "eD": (1.02, 1.15), "eF": (1.05, 1.15), "K": (0.0, 7.0), "KF": (0.0, 5.0),
    "noise": (90.0, 130.0), "rF": (0.7, 1.1), "rFs": (0.6, 0.9), "post": (1.0, 1.2),
    "sig": (0.45, 0.75), "tau": (1.5, 6.0),
    "p_sleep": 0.4, "rate": (50.0, 120.0), "nfoci": (5, 10), "bilat": 0.05,
    "posterior": False, "spindles": False, "vertex": False,
}  # fmt: skip

PROFILES: dict[str, dict[str, Any]] = {
    "hyps_classic": _HYPS,
    "hyps_asymmetric": {**_HYPS, "asym": True},
    "hyps_attenuation": {**_HYPS, "att": ((10.0, 60.0), (1.0, 10.0), (0.05, 0.35))},
    "hyps_focus": {**_HYPS, "focus": True, "nfoci": (4, 8)},
    "hyps_fragmented": {**_HYPS, "p_sleep": 0.85, "frag": True, "rate": (40.0, 100.0)},
    "hyps_slow": {
        **_HYPS, "amp": (300.0, 550.0), "kD": (0.14, 0.22), "kDs": (0.12, 0.18),
        "rate": (6.0, 20.0), "nfoci": (3, 6), "rF": (0.25, 0.4),
    },
    "hyps_synchronous": {
        **_HYPS, "K": (13.0, 17.0), "KF": (6.0, 12.0), "sig": (0.3, 0.5), "bilat": 0.45,
        "amp": (280.0, 520.0),
    },
    "normal_wake": {**_BASE, "p_sleep": 0.1},
    "normal_sleep": {**_BASE, "amp": (80.0, 150.0), "p_sleep": 0.9},
    "hv_slow_sleep": {
        **_BASE, "amp": (150.0, 260.0), "p_sleep": 1.0, "K": (12.0, 16.0), "kDs": (0.12, 0.18),
        "eD": (1.05, 1.12), "rFs": (0.15, 0.25), "phys_hv": True,
    },
    "single_focus": {**_BASE, "rate": (2.0, 10.0), "nfoci": (1, 1)},
    "burst_suppression": {
        **_BASE, "amp": (100.0, 250.0), "bs": True, "p_sleep": 0.5, "eD": (1.1, 1.25),
        "eF": (1.05, 1.12), "posterior": False, "spindles": False, "vertex": False,
        "abnormal": True, "K": (4.0, 10.0), "sig": (0.3, 0.5),
    },
    "diffuse_slowing": {
        **_BASE, "amp": (80.0, 170.0), "kD": (0.13, 0.2), "kDs": (0.12, 0.18),
        "kF": (0.4, 0.5), "rF": (0.2, 0.35), "rFs": (0.15, 0.25), "posterior": False,
        "spindles": False, "vertex": False, "abnormal": True, "eD": (1.05, 1.15),
    },
    "multifocal_sparse": {**_BASE, "amp": (60.0, 140.0), "rate": (3.0, 15.0), "nfoci": (3, 5)},
}


# --------------------------------------------------------------------------------------------
# Result container and helpers
# --------------------------------------------------------------------------------------------


@dataclass
class Case:
    """Paths of one generated recording."""

    edf: Path
    events: Path
    discharges: Path
    attenuations: Path
    truth: Path


def _u(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
    """Uniform draw from a (low, high) pair."""
    return float(rng.uniform(lo_hi[0], lo_hi[1]))


def _logu(rng: np.random.Generator, lo: float, hi: float) -> float:
    """Log-uniform draw."""
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _band(
    x: np.ndarray, lo: float | None, hi: float | None, fs: float, order: int = 2
) -> np.ndarray:
    """Zero-phase Butterworth band-, high- or low-pass along the last axis."""
    nyq = fs / 2.0
    if lo is not None and hi is not None:
        sos = butter(order, [lo / nyq, min(hi / nyq, 0.99)], btype="band", output="sos")
    elif lo is not None:
        sos = butter(order, lo / nyq, btype="high", output="sos")
    else:
        sos = butter(order, min(hi / nyq, 0.99), btype="low", output="sos")  # type: ignore[operator]
    return sosfiltfilt(sos, x, axis=-1)


def _cos_ramp(n: int) -> np.ndarray:
    """Half-cosine ramp from 0 to 1 over n samples."""
    if n <= 0:
        return np.zeros(0)
    return 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)


def _dip(env: np.ndarray, fs: float, t_on: float, fall: float, plateau: float, rec: float,
         depth: float) -> None:
    """Multiply env in place by a dip to ``depth`` (fall, plateau, recovery in seconds)."""
    n = env.size
    i0 = int(round(t_on * fs))
    nf, npl, nr = max(1, int(fall * fs)), max(1, int(plateau * fs)), max(1, int(rec * fs))
    shape = np.concatenate([1 - _cos_ramp(nf), np.zeros(npl), _cos_ramp(nr)])
    m = 1.0 - (1.0 - depth) * (1.0 - shape)
    i1 = min(n, i0 + m.size)
    if i1 > i0 >= 0:
        env[i0:i1] = np.minimum(env[i0:i1], m[: i1 - i0])


def _ou(rng: np.random.Generator, n_series: int, n: int, dt: float, tau: float) -> np.ndarray:
    """Unit-variance Ornstein-Uhlenbeck series (n_series x n) with time constant tau."""
    a = math.exp(-dt / tau)
    w = rng.standard_normal((n_series, n)) * math.sqrt(1 - a * a)
    w[:, 0] = rng.standard_normal(n_series)
    return _ar1(w, a)


def _ar1(w: np.ndarray, a: float) -> np.ndarray:
    """First-order autoregression y[t] = a y[t-1] + w[t] along the last axis."""
    return lfilter([1.0], [1.0, -a], w, axis=-1)


def _interp_rows(x: np.ndarray, step: int, n: int) -> np.ndarray:
    """Linear interpolation of rows sampled every ``step`` samples to length n."""
    src = np.arange(x.shape[-1]) * step
    dst = np.arange(n)
    return np.vstack([np.interp(dst, src, r) for r in np.atleast_2d(x)])


# --------------------------------------------------------------------------------------------
# Measurement (shared by the generator and by check_labels)
# --------------------------------------------------------------------------------------------


def _pre_window(onset: float, fs: float) -> tuple[int, int]:
    """Sample range of the 10 s before an onset (ending 0.25 s before it)."""
    return max(0, int((onset - 10.0) * fs)), max(1, int((onset - 0.25) * fs))


def measure_wave(xb: np.ndarray, fs: float, onset: float, wave_end: float) -> tuple[float, int]:
    """Wave ratio: peak-to-peak at the field maximum over the median channel's 5-95 % range.

    ``xb`` is the 0.5-30 Hz band-passed EEG of the good channels.  The wave window runs from the
    onset to ``wave_end``; the background is the 10 s before the onset.
    """
    a, b = _pre_window(onset, fs)
    pre = np.percentile(xb[:, a:b], 95, axis=1) - np.percentile(xb[:, a:b], 5, axis=1)
    i0, i1 = int(onset * fs), int(wave_end * fs)
    ptp = np.ptp(xb[:, i0:max(i1, i0 + 2)], axis=1)
    ch = int(np.argmax(ptp))
    return float(ptp[ch] / max(np.median(pre), 1e-9)), ch


def measure_decrement(xr: np.ndarray, fs: float, onset: float, dec_on: float,
                      plateau: float) -> tuple[float, float]:
    """Residual fraction and half-depth duration of a decrement.

    ``xr`` is the 2-30 Hz band-passed EEG of the good channels.  Residual = median over channels
    of SD(core) / SD(10 s before the spasm onset), core = [dec_on + 0.15, + max(0.3, plateau)] s.
    Half-depth duration: the channel-median RMS ratio in sliding 0.5-s windows (starting at
    dec_on) is compared with h = (1 + residual) / 2; the duration runs from its first fall below
    h to its next rise to h or above.
    """
    a, b = _pre_window(onset, fs)
    sd_pre = np.maximum(xr[:, a:b].std(axis=1), 1e-9)
    c0 = int((dec_on + 0.15) * fs)
    c1 = c0 + max(int(0.3 * fs), int(plateau * fs))
    resid = float(np.median(xr[:, c0:c1].std(axis=1) / sd_pre))
    h = 0.5 * (1.0 + resid)
    w = int(0.5 * fs)
    i0 = int(dec_on * fs)
    seg = xr[:, i0: i0 + int(12 * fs)] ** 2
    if seg.shape[1] <= w:
        return resid, 0.0
    cs = np.cumsum(np.pad(seg, ((0, 0), (1, 0))), axis=1)
    rms = np.sqrt((cs[:, w:] - cs[:, :-w]) / w)  # window starting at each sample
    ratio = np.median(rms / sd_pre[:, None], axis=0)
    below = np.nonzero(ratio < h)[0]
    if below.size == 0:
        return resid, 0.0
    down = int(below[0])
    above = np.nonzero(ratio[down:] >= h)[0]
    up = down + int(above[0]) if above.size else ratio.size
    return resid, float((up - down) / fs)


def measure_spasm(xb: np.ndarray, xr: np.ndarray, fs: float, d: dict[str, Any],
                  plateau: float) -> tuple[float, int, float, float]:
    """Wave ratio and its field-maximum channel (0 and -1 without a wave), residual depth and
    half-depth duration (1 and 0 without a decrement) of one drawn spasm ``d`` (its ``onset``,
    ``wave_end``, ``dec_on``, ``has_wave`` and ``has_dec``)."""
    ratio, ch = (measure_wave(xb, fs, d["onset"], d["wave_end"]) if d["has_wave"]
                 else (0.0, -1))
    depth, dec_s = (measure_decrement(xr, fs, d["onset"], d["dec_on"], plateau)
                    if d["has_dec"] else (1.0, 0.0))
    return ratio, ch, depth, dec_s


def measure_attenuation(xa: np.ndarray, fs: float, onset: float, dur: float) -> float:
    """Residual fraction of an attenuation episode (0.5-30 Hz SD, core over 10 s before)."""
    a, b = _pre_window(onset, fs)
    sd_pre = np.maximum(xa[:, a:b].std(axis=1), 1e-9)
    c0 = int((onset + min(0.3, dur / 4)) * fs)
    c1 = max(c0 + 8, int((onset + dur - min(0.3, dur / 4)) * fs))
    return float(np.median(xa[:, c0:c1].std(axis=1) / sd_pre))


def _typical_p2p(x: np.ndarray, fs: float, mask: np.ndarray | None = None) -> np.ndarray:
    """Per channel, the median over 1-s bins of (max - min); bins with masked samples skipped."""
    n = int(x.shape[1] // fs)
    w = int(fs)
    xs = x[:, : n * w].reshape(x.shape[0], n, w)
    p = xs.max(axis=2) - xs.min(axis=2)
    if mask is not None:
        ok = mask[: n * w].reshape(n, w).all(axis=1)
        if ok.sum() >= 3:
            p = p[:, ok]
    return np.median(p, axis=1)


# --------------------------------------------------------------------------------------------
# BASED from drawn truth
# --------------------------------------------------------------------------------------------


def based_from_truth(
    disc_onsets: np.ndarray,
    disc_foci: np.ndarray,
    att_onsets: np.ndarray,
    high_amp_epochs: dict[int, bool],
    abnormal: bool,
    duration_s: float,
) -> tuple[int, dict[str, Any]]:
    """BASED grade of the worst 5-min epoch from the drawn discharges and attenuations.

    Epochs start every 15 s (page boundaries).  Foci = distinct focus ids >= 0 with a discharge in
    the epoch (bilateral synchronous discharges, focus -1, fill 1-s bins but are not a focus).
    "≥ 50 %": at least half of the epoch's 15-s pages have >= 8 of 15 one-s bins with a
    discharge onset.  High amplitude: ``high_amp_epochs[start]``.  Grades: 5 if >= 3 foci and
    >= 50 %; 4 if >= 3 foci with high amplitude, or an attenuation episode; 3 if >= 3 foci, or
    < 3 foci with high amplitude; 2 if 1-2 foci; 1 if the background is abnormal; else 0.
    """
    ep = min(300.0, duration_s)
    starts = np.arange(0.0, max(duration_s - ep, 0.0) + 1e-6, 15.0)
    best, info = -1, {}
    n_pages = max(1, int(ep // 15))
    for s0 in starts:
        sel = (disc_onsets >= s0) & (disc_onsets < s0 + ep)
        foci = {int(f) for f in disc_foci[sel] if f >= 0}
        bins = np.unique(np.floor(disc_onsets[sel] - s0).astype(int))
        pages = np.bincount(bins // 15, minlength=n_pages)[:n_pages]
        full = int((pages >= 8).sum())
        half = full >= math.ceil(n_pages / 2)
        att = bool(((att_onsets >= s0) & (att_onsets < s0 + ep)).any())
        high = bool(high_amp_epochs.get(int(s0), False))
        nf = len(foci)
        if nf >= 3 and half:
            g = 5
        elif (nf >= 3 and high) or att:
            g = 4
        elif nf >= 3 or high:
            g = 3
        elif nf >= 1:
            g = 2
        elif abnormal:
            g = 1
        else:
            g = 0
        if g > best:
            best = g
            info = {"epoch_start_s": float(s0), "n_foci": nf, "pages_ge8": full,
                    "n_pages": n_pages, "high_amplitude": high, "attenuation": att}
    return best, info


# --------------------------------------------------------------------------------------------
# Scheduling
# --------------------------------------------------------------------------------------------


def _sleep_course(rng: np.random.Generator, p_sleep: float, dur: float, fs: float) -> tuple[
        np.ndarray, list[tuple[float, float, str]]]:
    """Sleep depth s(t) in [0, 1] from alternating wake/NREM segments with 20-s transitions."""
    segs: list[tuple[float, float, str]] = []
    t = 0.0
    state = "nrem" if rng.random() < p_sleep else "wake"
    while t < dur:
        if p_sleep >= 0.999:
            d = dur
        elif p_sleep <= 0.001:
            d = dur
        else:
            mean = 240.0 * (p_sleep if state == "nrem" else 1 - p_sleep) / 0.5
            d = float(np.clip(rng.exponential(mean), 40.0, 600.0))
        segs.append((t, min(dur, t + d), state))
        t += d
        state = "wake" if state == "nrem" else "nrem"
    n = int(round(dur * fs))
    step = np.zeros(n)
    for a, b, st in segs:
        if st == "nrem":
            step[int(a * fs): int(b * fs)] = 1.0
    w = int(20 * fs)
    k = np.ones(w) / w
    s = np.convolve(np.pad(step, (w // 2, w - w // 2 - 1), mode="edge"), k, mode="valid")
    return s[:n], segs


def _spasm_schedule(rng: np.random.Generator, dur: float, minutes: float,
                    plain: bool) -> list[dict[str, Any]]:
    """Onsets and cluster ids of spasms: clusters of 3-20 (5-40 s apart) and a few isolated."""
    lo, hi = 12.0, dur - 12.0
    if hi - lo < 20:
        return []
    if plain:
        n_cl = 3
        clusters = [[float(rng.uniform(8, 14)) for _ in range(int(rng.integers(4, 7)) - 1)]
                    for _ in range(n_cl)]
        n_iso = 0
    else:
        n_cl = max(1, int(round(rng.integers(1, 5) * minutes / 10.0)))
        clusters = []
        for _ in range(n_cl):
            ns = int(rng.integers(3, 21))
            gm = rng.uniform(5.0, 25.0)
            clusters.append([float(np.clip(gm * rng.uniform(0.6, 1.5), 5.0, 40.0))
                             for _ in range(ns - 1)])
        n_iso = int(rng.integers(0, 4) * minutes / 10.0 + rng.random())
    sep = 30.0
    while sum(sum(c) + 8.0 for c in clusters) + sep * (len(clusters) - 1) > hi - lo:
        j = int(np.argmax([len(c) for c in clusters]))
        if len(clusters[j]) > 2:
            clusters[j].pop()
        elif len(clusters) > 1:
            clusters.pop(j)
        else:
            clusters[j] = clusters[j][:1]
            break
    lengths = [sum(c) + 8.0 for c in clusters]
    slack = (hi - lo) - sum(lengths) - sep * (len(clusters) - 1)
    parts = rng.dirichlet(np.ones(len(clusters) + 1)) * max(slack, 0.0)
    out: list[dict[str, Any]] = []
    t = lo
    order = rng.permutation(len(clusters))
    for ci, j in enumerate(order):
        t += parts[ci]
        ts = t
        out.append({"onset": ts, "cluster": ci + 1})
        for g in clusters[j]:
            ts += g
            out.append({"onset": ts, "cluster": ci + 1})
        t += lengths[j] + sep
    for _ in range(n_iso):
        for _try in range(50):
            c = float(rng.uniform(lo, hi - 8.0))
            if all(abs(c - e["onset"]) > 30.0 for e in out):
                out.append({"onset": c, "cluster": 0})
                break
    out.sort(key=lambda e: e["onset"])
    return out


def _draw_spasm(rng: np.random.Generator, plain: bool) -> dict[str, Any]:
    """Morphology of one spasm."""
    if plain:
        return {"type": "spasm", "ratio": 2.5, "wave_s": 0.8, "polarity": 1.0,
                "biphasic": False, "field": "generalized", "lag_ms": 0.0, "sharp": False,
                "depth": 0.25, "dec_s": 2.0, "fast": False, "U": 40.0,
                "fast_f": 0.0, "rec": 1.0}
    u = rng.random()
    typ = "spasm" if u < 0.75 else ("spasm_wave_only" if u < 0.90 else "spasm_decrement_only")
    dec_s = _logu(rng, 0.5, 6.0)
    return {
        "type": typ,
        "ratio": _logu(rng, 0.8, 4.0),
        "wave_s": float(rng.uniform(0.5, 2.0)),
        "polarity": 1.0 if rng.random() < 0.7 else -1.0,
        "biphasic": bool(rng.random() < 0.35),
        "field": str(rng.choice(_FIELDS, p=_FIELD_P)),
        "lag_ms": float(rng.uniform(0.0, 50.0)),
        "sharp": bool(rng.random() < 0.3),
        "depth": float(rng.uniform(0.1, 0.6)),
        "dec_s": dec_s,
        "fast": bool(rng.random() < 0.4),
        "U": _logu(rng, 15.0, 55.0),
        "fast_f": float(rng.uniform(10.0, 25.0)),
        "rec": float(min(rng.uniform(0.5, 2.0), 2 * max(dec_s - 0.2, 0.1))),
    }


# --------------------------------------------------------------------------------------------
# EMG and artifacts
# --------------------------------------------------------------------------------------------


def _emg(rng: np.random.Generator, n: int, fs: float, n_ch: int, bursts: list[dict[str, Any]],
         moves: list[dict[str, Any]], cries: list[tuple[float, float]],
         stretches: list[tuple[float, float]]) -> np.ndarray:
    """Deltoid surface EMG: baseline, ECG pickup, spasm bursts, movements, crying, stretches."""
    hi = min(120.0, 0.45 * fs)
    env = np.full((n_ch, n), rng.uniform(1.0, 3.0))
    for b in bursts:
        i0, m = int(b["onset"] * fs), max(4, int(b["dur"] * fs))
        peak = rng.uniform(0.3, 0.5)
        x = np.arange(m) / m
        dia = np.where(x < peak, x / peak, (1 - x) / (1 - peak))
        for c in range(n_ch):
            amp = b["amp"] * (1.0 if c == 0 else rng.uniform(0.5, 1.0))
            i1 = min(n, i0 + m)
            env[c, i0:i1] += amp * dia[: i1 - i0]
    for mv in moves:
        i0, m = int(mv["onset"] * fs), max(4, int(mv["dur"] * fs))
        i1 = min(n, i0 + m)
        bumps = np.abs(_ar1(rng.standard_normal((n_ch, m)), 0.995))
        bumps = bumps / max(bumps.max(), 1e-9) * rng.uniform(20.0, 200.0)
        env[:, i0:i1] += bumps[:, : i1 - i0]
    for c0, c1 in cries:
        t = c0
        while t < c1:
            on = rng.uniform(0.5, 1.5)
            i0, i1 = int(t * fs), min(n, int((t + on) * fs))
            arc = np.sin(np.linspace(0, np.pi, max(i1 - i0, 1)))
            env[:, i0:i1] += rng.uniform(30.0, 150.0) * arc
            t += on + rng.uniform(0.3, 1.0)
    for s0, s1 in stretches:
        i0, i1 = int(s0 * fs), min(n, int(s1 * fs))
        m = i1 - i0
        r = max(1, min(m // 3, int(0.8 * fs)))
        tr = np.concatenate([_cos_ramp(r), np.ones(max(m - 2 * r, 0)), _cos_ramp(r)[::-1]])
        env[:, i0:i1] += rng.uniform(30.0, 150.0) * tr[:m]
    noise = _band(rng.standard_normal((n_ch, n)), 20.0, hi, fs, order=4)
    noise /= noise.std(axis=1, keepdims=True)
    out = env * noise
    hr = rng.uniform(110.0, 160.0) / 60.0  # infant heart rate
    beats = np.cumsum(1.0 / hr * (1 + 0.04 * rng.standard_normal(int(n / fs * hr) + 5)))
    t = np.arange(n) / fs
    ecg = np.zeros(n)
    for bt in beats[beats < n / fs]:
        i0, i1 = int((bt - 0.05) * fs), int((bt + 0.05) * fs)
        tt = t[max(i0, 0):min(i1, n)] - bt
        ecg[max(i0, 0):min(i1, n)] += -tt / 0.008 * np.exp(-(tt**2) / (2 * 0.008**2))
    for c in range(n_ch):
        out[c] += rng.uniform(3.0, 25.0) * (1 if rng.random() < 0.5 else -1) * ecg
    return out


# --------------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------------


def _stem(background: str, seed: int, minutes: float, emg: bool, spasms: bool, gain: float,
          plain: bool) -> str:
    """File stem from the arguments."""
    s = f"f5_{background}_s{seed}"
    if minutes != 10:
        s += f"_m{minutes:g}"
    if emg:
        s += "_emg"
    if not spasms:
        s += "_nosp"
    if gain != 1:
        s += f"_g{gain:g}"
    if plain:
        s += "_plain"
    return s


def _neighbours(n_nb: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-neighbour lists and equal weights for patch coupling."""
    d = _angdist(PATCH_XYZ, PATCH_XYZ)
    nbr = np.argsort(d, axis=1)[:, 1: n_nb + 1].astype(np.int64)
    return nbr, np.full(nbr.shape, 1.0 / n_nb)


def _pick_foci(rng: np.random.Generator, lf: np.ndarray, n_f: int,
               side: float | None = None) -> list[int]:
    """Patches with distinct field-maximum channels (optionally biased to one hemisphere)."""
    chmax = np.argmax(lf, axis=0)
    order = list(rng.permutation(N_PATCHES))
    if side is not None:
        order.sort(key=lambda p: -side * PATCH_XYZ[p, 1] + rng.uniform(0, 0.6))
    used: set[int] = set()
    foci: list[int] = []
    for p in order:
        if chmax[p] not in used:
            used.add(int(chmax[p]))
            foci.append(int(p))
        if len(foci) == n_f:
            break
    return foci


def _bilateral(rng: np.random.Generator) -> list[int]:
    """Patches of a bilateral synchronous discharge: a patch, its mirror and their neighbours."""
    c = PATCH_XYZ[int(rng.integers(N_PATCHES))]
    m = c * np.array([1.0, -1.0, 1.0])
    d = np.minimum(_angdist(PATCH_XYZ, c[None])[:, 0], _angdist(PATCH_XYZ, m[None])[:, 0])
    return [int(p) for p in np.nonzero(d < 0.45)[0]] or [int(np.argmin(d))]


def generate(out_dir: str | Path, seed: int = 0, background: str = "hyps_classic",
             minutes: float = 10.0, emg: bool = True, spasms: bool = True, sfreq: float = 256.0,
             gain: float = 1.0, plain: bool = False) -> Case:
    """Generate one recording and its label files; returns their paths."""
    if background not in BACKGROUNDS:
        raise ValueError(f"unknown background {background!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    prof = PROFILES[background]
    fs = float(sfreq)
    dur = float(max(1, round(minutes * 60.0)))
    n = int(round(dur * fs))
    bg_idx = list(BACKGROUNDS).index(background)
    ss = np.random.SeedSequence([int(seed), bg_idx, int(round(minutes * 1000))])
    r_eeg, r_sp, r_art, r_emg, r_plain = (np.random.default_rng(s) for s in ss.spawn(5))
    r_spasm = r_plain if plain else r_sp
    np_ = N_PATCHES

    # ---- geometry and parameters ------------------------------------------------------------
    sigma_lf = r_eeg.uniform(0.35, 0.5)
    dist_ep = _angdist(ELEC_XYZ, PATCH_XYZ)
    lf = np.exp(-(dist_ep**2) / (2 * sigma_lf**2))
    nbr, nbw = _neighbours()
    sleep, segs = _sleep_course(r_eeg, prof["p_sleep"], dur, fs)
    posterior = np.clip(-PATCH_XYZ[:, 0] - 0.2, 0, None) / 0.8  # 0 front .. ~1 occipital
    kD = r_eeg.uniform(*prof["kD"], np_)
    kDs = r_eeg.uniform(*prof["kDs"], np_)
    kF = r_eeg.uniform(*prof["kF"], np_)
    if prof["posterior"]:
        kpost = r_eeg.uniform(*prof["kPost"])
        kF = np.where(posterior > 0.3, kpost * r_eeg.uniform(0.97, 1.03, np_), kF)
    kFs = r_eeg.uniform(*prof["kFs"], np_)
    eD = r_eeg.uniform(*prof["eD"], np_)
    eF = r_eeg.uniform(*prof["eF"], np_)
    K = _u(r_eeg, prof["K"])
    KF = _u(r_eeg, prof["KF"])
    fr_mean = 3.55  # mean pyramidal firing of a mass at p = 220 (model units)
    kw = np.concatenate([kD, kF])
    ks = np.concatenate([kDs, kFs])
    ew = np.concatenate([eD, eF])
    es = ew.copy()
    p0 = np.concatenate([np.full(np_, 220.0 - K * fr_mean), np.full(np_, 220.0 - KF * fr_mean)])
    psd = np.concatenate([np.full(np_, _u(r_eeg, prof["noise"])), np.full(np_, 60.0)])
    kc = np.concatenate([np.full(np_, K), np.full(np_, KF)])
    nbr2 = np.vstack([nbr, nbr + np_])
    nbw2 = np.vstack([nbw, nbw])

    # ---- global envelopes: spasm decrements, attenuation episodes, burst-suppression -------
    env_sp = np.ones(n)
    env_att = np.ones(n)
    env_bs = np.ones(n)
    att_list: list[dict[str, float]] = []
    if prof["att"] is not None:
        every, length, depth = prof["att"]
        t = _u(r_eeg, (8.0, every[1]))
        while t < dur - 12:
            d = _u(r_eeg, length)
            if t + d > dur - 2:
                break
            att_list.append({"onset": t, "duration": d, "target": _u(r_eeg, depth)})
            t += d + _u(r_eeg, every)
    if prof["frag"]:
        t = 12.0
        while t < dur - 12:
            t += _u(r_eeg, (5.0, 20.0))
            j = min(n - 1, int(t * fs))
            if sleep[j] > 0.7 and t < dur - 8:
                d = _u(r_eeg, (1.0, 4.0))
                att_list.append({"onset": t, "duration": d, "target": _u(r_eeg, (0.1, 0.4))})
                t += d
    att_list.sort(key=lambda a: a["onset"])
    for a in att_list:
        r = min(0.3, a["duration"] / 4)
        _dip(env_att, fs, a["onset"], r, a["duration"] - 2 * r, r, a["target"])
    bs_on: list[tuple[float, float]] = []
    if prof["bs"]:
        t = 0.0
        while t < dur:
            b = _u(r_eeg, (1.0, 4.0))
            bs_on.append((t, min(dur, t + b)))
            s = _u(r_eeg, (2.0, 10.0))
            _dip(env_bs, fs, t + b, 0.1, max(s - 0.2, 0.1), 0.1, _u(r_eeg, (0.02, 0.06)))
            t += b + s

    # ---- spasms ------------------------------------------------------------------------------
    sp_list: list[dict[str, Any]] = []
    if spasms:
        for e in _spasm_schedule(r_spasm, dur, minutes, plain):
            e.update(_draw_spasm(r_spasm, plain))
            has_wave = e["type"] != "spasm_decrement_only"
            has_dec = e["type"] != "spasm_wave_only"
            e["has_wave"], e["has_dec"] = has_wave, has_dec
            e["dec_on"] = e["onset"] + (e["wave_s"] if has_wave else 0.0)
            e["plateau"] = max(0.2, e["dec_s"] - e["rec"] / 2)
            end = e["dec_on"] + (0.15 + e["plateau"] + e["rec"] if has_dec else 0.0)
            e["end"] = end
            if e["end"] > dur - 2.0:
                continue
            # EMG burst and EEG spasm artifacts are drawn whether or not EMG is written.
            e["emg_drawn"] = bool(r_sp.random() < 0.9)
            e["emg_dur"] = (float(r_sp.uniform(0.4, 3.0)) if r_sp.random() < 0.86
                            else float(r_sp.uniform(3.0, 7.0)))
            e["emg_lead"] = float(r_sp.uniform(-0.2, 0.3))
            e["emg_amp"] = float(r_sp.uniform(50.0, 400.0))
            e["eeg_muscle"] = bool(r_sp.random() < 0.3)
            e["eeg_move"] = bool(r_sp.random() < 0.2)
            e["centre"] = int(r_sp.integers(np_))
            sp_list.append(e)
    for e in sp_list:
        if e["has_dec"]:
            _dip(env_sp, fs, e["dec_on"], 0.15, e["plateau"], e["rec"], e["depth"])

    gin = (env_sp * env_att * env_bs).astype(np.float64)

    # ---- discharges (pulses into the fast masses) and other pulses --------------------------
    pulse = np.zeros((2 * np_, n), dtype=np.float32)
    disc: list[dict[str, Any]] = []
    side = 1.0 if r_eeg.random() < 0.5 else -1.0
    nf_lo, nf_hi = prof["nfoci"]
    foci = _pick_foci(r_eeg, lf, int(r_eeg.integers(nf_lo, nf_hi + 1)),
                      side if prof["asym"] else None) if nf_hi > 0 else []
    rate = _u(r_eeg, prof["rate"]) / 60.0
    if foci:
        w = r_eeg.dirichlet(np.ones(len(foci)) * 2.0)
        if prof["focus"]:
            share = r_eeg.uniform(0.5, 0.7)
            w = np.concatenate([[share], (1 - share) * w[1:] / w[1:].sum()])
        bil = prof["bilat"]
        rates = list(rate * (1 - bil) * w) + ([rate * bil] if bil > 0 else [])
        ids = list(range(len(foci))) + ([-1] if bil > 0 else [])
        for fid, rr in zip(ids, rates, strict=True):
            t = float(r_eeg.exponential(1.0 / rr)) if rr > 0 else dur
            while t < dur - 1.0:
                j = int(t * fs)
                if r_eeg.random() < (1 + 0.5 * sleep[j]) / 1.5 and gin[j] > 0.5 and t > 1.0:
                    sharp = r_eeg.random() < 0.3
                    amp = _logu(r_eeg, 1300.0, 3000.0)
                    if prof["focus"] and fid == 0:
                        amp *= 1.2
                    pts = [foci[fid]] if fid >= 0 else _bilateral(r_eeg)
                    disc.append({"t": t, "focus": fid, "len": (_u(r_eeg, (0.04, 0.07)) if sharp
                                 else _u(r_eeg, (0.012, 0.03))), "amp": amp, "pts": pts})
                t += max(0.15, float(r_eeg.exponential(1.0 / rr)))
        disc.sort(key=lambda d: d["t"])
        for d in disc:
            i0 = int(d["t"] * fs)
            i1 = i0 + max(1, int(d["len"] * fs))
            if d["focus"] >= 0:
                pulse[np_ + foci[d["focus"]], i0:i1] += d["amp"]
            else:
                pulse[np_ + np.asarray(d["pts"]), i0:i1] += d["amp"]
    vt_count = 0
    if prof["vertex"]:
        near = np.nonzero(_angdist(PATCH_XYZ, np.array([[0.0, 0.0, 1.0]]))[:, 0] < 0.6)[0]
        t = _u(r_eeg, (5.0, 30.0))
        while t < dur - 1:
            if sleep[int(t * fs)] > 0.7:
                i0 = int(t * fs)
                pulse[np_ + near, i0:i0 + max(1, int(_u(r_eeg, (0.06, 0.1)) * fs))] += _u(
                    r_eeg, (800.0, 1500.0))
                vt_count += 1
            t += _u(r_eeg, (15.0, 60.0))
    for e in sp_list:
        if e["has_wave"] and e["sharp"]:
            i0 = int(e["onset"] * fs)
            pulse[np_:, i0:i0 + max(1, int(0.02 * fs))] += 1200.0

    # ---- integrate ---------------------------------------------------------------------------
    sub = max(1, int(round(1024.0 / fs)))
    seed_nb = int(r_eeg.integers(2**31 - 1))
    y = _simulate(n, sub, fs, kw, ks, ew, es, p0, psd, kc, nbr2, nbw2, sleep, gin, pulse,
                  seed_nb)
    y = _band(y.astype(np.float64), 0.3, None, fs, order=1)
    yD, yF = y[:np_], y[np_:]

    # ---- readout: slow patch-amplitude fluctuations, state, posterior rhythm, asymmetry ----
    step = max(1, int(fs // 4))
    nslow = n // step + 2
    sig = _u(r_eeg, prof["sig"])
    lnD = _interp_rows(_ou(r_eeg, np_, nslow, step / fs, _u(r_eeg, prof["tau"])), step, n)
    lnF = _interp_rows(_ou(r_eeg, np_, nslow, step / fs, _u(r_eeg, prof["tau"])), step, n)
    rF, rFs = _u(r_eeg, prof["rF"]), _u(r_eeg, prof["rFs"])
    postf = _u(r_eeg, prof["post"]) if prof["posterior"] else 1.0
    baseD = np.ones(np_)
    if prof["asym"]:
        hemi = np.clip(side * PATCH_XYZ[:, 1] / 0.5 + 0.5, 0, 1)
        baseD = 1.0 + (_u(r_eeg, (1.6, 2.5)) - 1.0) * hemi
    sleepD = 1.0 + 0.6 * sleep  # higher delta amplitude in NREM (*choice*)
    wD = baseD[:, None] * sleepD[None, :] * np.exp(sig * lnD - sig**2 / 2)
    fwake = rF * (1.0 + (postf - 1.0) * posterior)
    if foci and not BACKGROUNDS[background]:
        # an irritable patch: more synchronous pyramidal output at the focus (*choice*)
        baseF = np.ones(np_)
        baseF[foci] = _u(r_eeg, (2.0, 3.5))
    else:
        baseF = np.ones(np_)
    wF = baseD[:, None] * ((1 - sleep)[None, :] * fwake[:, None] + sleep[None, :] * rFs)
    wF = wF * baseF[:, None] * np.exp(0.5 * sig * lnF)
    sdD = np.median(yD.std(axis=1))
    sdF = np.median(yF.std(axis=1)) * float(np.median(baseF))
    wF *= sdD / max(sdF, 1e-9)
    env_read = (env_sp * env_att * env_bs)[None, :]
    src = env_read * (wD * yD - wF * yF)  # fast masses read out surface-negative
    eeg = lf @ src

    # amplitude calibration on the undisturbed stretches
    clean = np.ones(n, dtype=bool)
    for e in sp_list:
        clean[int((e["onset"] - 0.5) * fs): int((e["end"] + 0.5) * fs)] = False
    for a in att_list:
        clean[int(a["onset"] * fs): int((a["onset"] + a["duration"]) * fs)] = False
    if prof["bs"]:
        clean &= env_bs > 0.9
    target = _u(r_eeg, prof["amp"])
    scale = target / float(np.median(_typical_p2p(eeg, fs, clean)))
    eeg *= scale

    # spindles (NREM, central): bursts of 12-14 Hz thalamocortical input
    n_spindles = 0
    if prof["spindles"]:
        cen = np.exp(-(_angdist(PATCH_XYZ, np.array([[0.0, 0.0, 1.0]]))[:, 0] ** 2) / 0.3)
        field = lf @ cen
        field /= field.max()
        t = _u(r_eeg, (3.0, 15.0))
        while t < dur - 3:
            if sleep[int(t * fs)] > 0.8:
                d = _u(r_eeg, (0.7, 2.5))
                m = int(d * fs)
                f0 = _u(r_eeg, (12.0, 14.0))
                tt = np.arange(m) / fs
                burst = np.sin(2 * np.pi * f0 * tt + r_eeg.uniform(0, 6.3)) * np.hanning(m)
                i0 = int(t * fs)
                eeg[:, i0:i0 + m] += _u(r_eeg, (10.0, 25.0)) * field[:, None] * burst[None, :]
                n_spindles += 1
            t += _u(r_eeg, (4.0, 20.0))

    # ---- spasm waves, fast activity ------------------------------------------------------------
    def add_waves(eeg_in: np.ndarray, scales: list[float]) -> np.ndarray:
        x = eeg_in.copy()
        xb = _band(x, 0.5, 30.0, fs)
        for e, sc in zip(sp_list, scales, strict=True):
            if e["has_wave"]:
                a, b = _pre_window(e["onset"], fs)
                pre = np.median(np.percentile(xb[:, a:b], 95, axis=1)
                                - np.percentile(xb[:, a:b], 5, axis=1))
                wv = e["wave_ch"] * e["ratio"] * pre * sc
                i0 = int(e["onset"] * fs)
                i1 = min(n, i0 + wv.shape[1])
                x[:, i0:i1] += wv[:, : i1 - i0]
                xb[:, i0:i1] += _band(wv, 0.5, 30.0, fs)[:, : i1 - i0]
            if e["has_dec"] and e["fast"]:
                x[:, e["fast_sl"]] += e["fast_ch"]
        return x

    wave_fields = {
        "generalized": lambda c: np.full(np_, 1.0),
        "vertex": lambda c: np.exp(-_angdist(PATCH_XYZ, np.array([[0, 0, 1.0]]))[:, 0] ** 2 / 0.5),
        "lateralized_left": lambda c: 0.3 + 0.7 * np.clip(PATCH_XYZ[:, 1] / 0.4 + 0.5, 0, 1),
        "lateralized_right": lambda c: 0.3 + 0.7 * np.clip(-PATCH_XYZ[:, 1] / 0.4 + 0.5, 0, 1),
        "focal": lambda c: np.exp(-_angdist(PATCH_XYZ, PATCH_XYZ[c:c + 1])[:, 0] ** 2 / 0.25),
    }
    nb1 = -np.ones((np_, 1), dtype=np.int64)
    nw1 = np.zeros((np_, 1))
    kW = r_spasm.uniform(0.25, 0.45)
    for e in sp_list:
        if e["has_wave"]:
            fld = wave_fields[e["field"]](e["centre"])
            origin = int(np.argmax(fld + 1e-3 * PATCH_XYZ[:, 2]))
            dd = _angdist(PATCH_XYZ, PATCH_XYZ[origin:origin + 1])[:, 0]
            delay = e["lag_ms"] / 1000.0 * dd / max(dd.max(), 1e-9)
            m = int((e["wave_s"] + 0.06 + 1.5) * fs)
            mw = int(e["wave_s"] * fs)
            ph = np.arange(mw) / mw
            shape = np.sin(2 * np.pi * ph) if e["biphasic"] else np.sin(np.pi * ph)
            pw = np.zeros((np_, m), dtype=np.float32)
            for p in range(np_):
                j0 = int(round(delay[p] * fs))
                pw[p, j0:j0 + mw] = e["U"] * fld[p] * shape
            yw = _simulate(m, sub, fs, np.full(np_, kW), np.full(np_, kW), np.ones(np_),
                           np.ones(np_), np.full(np_, 20.0), np.zeros(np_), np.zeros(np_), nb1,
                           nw1, np.zeros(m), np.ones(m), pw, 0)
            yw = yw - yw[:, :1]
            # taper the return to baseline after the wave
            tail = int(e["wave_s"] * fs) + int(0.06 * fs)
            tp = np.ones(m)
            tp[tail:] = np.exp(-np.arange(m - tail) / (0.15 * fs))
            wch = lf @ (yw * tp[None, :])
            pk = np.ptp(wch, axis=1).max()
            e["wave_ch"] = e["polarity"] * wch / max(pk, 1e-12)
            e["wave_end"] = e["onset"] + e["wave_s"] + e["lag_ms"] / 1000.0 + 0.1
        if e["has_dec"] and e["fast"]:
            a, b = _pre_window(e["onset"], fs)
            i0 = int((e["dec_on"] + 0.05) * fs)
            m = int((e["plateau"] + e["rec"] * 0.5 + 0.1) * fs)
            lo_f = e["fast_f"] - 2.0
            fa = _band(r_spasm.standard_normal(m + int(fs)), lo_f, lo_f + 4.0, fs)[: m]
            fa = fa / max(fa.std(), 1e-9) * np.hanning(m)
            pre_sd = float(np.median(_band(eeg[:, a:b], 2.0, 30.0, fs).std(axis=1)))
            fld = lf.sum(axis=1) / lf.sum(axis=1).max()
            e["fast_ch"] = _u(r_spasm, (0.1, 0.3)) * pre_sd * fld[:, None] * fa[None, :]
            e["fast_sl"] = slice(i0, i0 + m)

    # the wave component is scaled to ratio x local background; one correction pass brings the
    # measured decrement residuals to the drawn ones
    scales = [1.0] * len(sp_list)
    eeg_base = eeg
    if sp_list:
        trial = add_waves(eeg_base, scales)
        xr = _band(trial, 2.0, 30.0, fs, order=4)
        corr = np.ones(n)
        for e in sp_list:
            if e["has_dec"]:
                res, _ = measure_decrement(xr, fs, e["onset"], e["dec_on"], e["plateau"])
                f = float(np.clip(e["depth"] / max(res, 1e-6), 0.3, 3.0))
                bump = np.ones(n)
                _dip(bump, fs, e["dec_on"], 0.15, e["plateau"], e["rec"], 0.0)
                corr *= 1.0 + (f - 1.0) * (1.0 - bump)
        eeg_base = eeg_base * corr[None, :]
    brain = add_waves(eeg_base, scales) if sp_list else eeg_base

    # ---- artifacts -------------------------------------------------------------------------
    x = brain.copy()
    t_ax = np.arange(n) / fs
    art_log: dict[str, Any] = {}
    hum_f = 50.0 if r_art.random() < 0.5 else 60.0
    if hum_f < fs / 2:
        x += r_art.uniform(0.3, 3.0, (19, 1)) * np.sin(2 * np.pi * hum_f * t_ax[None, :]
                                                       + r_art.uniform(0, 6.3, (19, 1)))
    art_log["mains_hz"] = hum_f
    fp = np.array([1.0 if c in ("Fp1", "Fp2") else 0.35 if c in ("F7", "F8", "F3", "F4") else
                   0.15 if c == "Fz" else 0.0 for c in CHANNELS])
    n_blinks = 0
    if prof["blinks"]:
        t = _u(r_art, (2.0, 20.0))
        while t < dur - 1:
            if sleep[int(t * fs)] < 0.3:
                m = int(_u(r_art, (0.2, 0.5)) * fs)
                x[:, int(t * fs):int(t * fs) + m] += (_u(r_art, (80.0, 250.0)) * fp[:, None]
                                                      * np.hanning(m)[None, :])
                n_blinks += 1
            t += _u(r_art, (4.0, 30.0))
    art_log["blinks"] = n_blinks
    moves: list[dict[str, Any]] = []
    t = _u(r_art, (5.0, 60.0))
    while t < dur - 5:
        awake = sleep[int(t * fs)] < 0.5
        if awake or r_art.random() < 0.3:
            moves.append({"onset": t, "dur": _u(r_art, (0.3, 4.0))})
        t += _u(r_art, (20.0, 120.0))
    cries: list[tuple[float, float]] = []
    for _ in range(int(r_art.integers(0, 3) * minutes / 10.0 + r_art.random() * 0.5)):
        c0 = _u(r_art, (10.0, max(11.0, dur - 70.0)))
        cries.append((c0, c0 + _u(r_art, (10.0, 60.0))))
    stretches: list[tuple[float, float]] = []
    for _ in range(int(r_art.integers(0, 4) * minutes / 10.0)):
        s0 = _u(r_art, (5.0, max(6.0, dur - 20.0)))
        stretches.append((s0, s0 + _u(r_art, (3.0, 15.0))))
    temporal = np.array([1.0 if c in ("F7", "F8", "T3", "T4", "T5", "T6") else
                         0.4 if c in ("Fp1", "Fp2", "O1", "O2") else 0.1 for c in CHANNELS])
    for mv in moves:
        i0, m = int(mv["onset"] * fs), int(mv["dur"] * fs)
        m = min(m, n - i0)
        slow = _band(r_art.standard_normal((19, m + int(fs))), None, 3.0, fs)[:, :m]
        slow = slow / max(slow.std(), 1e-9) * _u(r_art, (40.0, 200.0)) * np.hanning(m)[None, :]
        mus = _band(r_art.standard_normal((19, m + int(fs))), 30.0, min(100.0, 0.45 * fs), fs)
        x[:, i0:i0 + m] += slow + _u(r_art, (5.0, 30.0)) * temporal[:, None] * mus[:, :m]
    for c0, c1 in cries:
        i0, i1 = int(c0 * fs), min(n, int(c1 * fs))
        mus = _band(r_art.standard_normal((19, i1 - i0)), 30.0, min(100.0, 0.45 * fs), fs)
        x[:, i0:i1] += _u(r_art, (10.0, 40.0)) * temporal[:, None] * mus
    pops = []
    for _ in range(int(r_art.integers(0, 6) * minutes / 10.0)):
        c = int(r_art.integers(19))
        t0 = _u(r_art, (1.0, dur - 3.0))
        i0 = int(t0 * fs)
        m = n - i0
        tau = _u(r_art, (0.2, 1.0))
        x[c, i0:] += (_u(r_art, (50.0, 300.0)) * (1 if r_art.random() < 0.5 else -1)
                      * np.exp(-np.arange(m) / (tau * fs)))
        pops.append({"onset": t0, "channel": CHANNELS[c]})
    art_log["pops"] = pops
    bad: dict[str, str] = {}
    u = r_art.random()
    if u < 0.3:
        c = int(r_art.integers(19))
        if u < 0.15:
            x[c] = 0.01 * x[c] + 0.3 * r_art.standard_normal(n)
            bad[CHANNELS[c]] = "flat"
        else:
            x[c] += _u(r_art, (20.0, 60.0)) * _band(r_art.standard_normal(n), 1.0, None, fs)
            if hum_f < fs / 2:
                x[c] += _u(r_art, (10.0, 30.0)) * np.sin(2 * np.pi * hum_f * t_ax)
            bad[CHANNELS[c]] = "noisy"
    # spasm-related artifacts on the EEG (muscle on temporal leads, movement)
    for e in sp_list:
        if not e["emg_drawn"]:
            continue
        i0 = int(max(0.0, e["onset"] + e["emg_lead"]) * fs)
        m = min(int(e["emg_dur"] * fs), n - i0)
        if e["eeg_muscle"]:
            mus = _band(r_sp.standard_normal((19, m + int(fs))), 30.0, min(100.0, 0.45 * fs), fs)
            x[:, i0:i0 + m] += (_u(r_sp, (5.0, 25.0)) * temporal[:, None] * mus[:, :m]
                                * np.hanning(m)[None, :])
        if e["eeg_move"]:
            slow = _band(r_sp.standard_normal((19, m + int(fs))), None, 2.0, fs)[:, :m]
            x[:, i0:i0 + m] += (slow / max(slow.std(), 1e-9) * _u(r_sp, (30.0, 120.0))
                                * np.hanning(m)[None, :])
    x *= gain

    # ---- measured labels ---------------------------------------------------------------------
    good = [i for i, c in enumerate(CHANNELS) if c not in bad]
    xb = _band(x[good], 0.5, 30.0, fs)
    xr = _band(x[good], 2.0, 30.0, fs, order=4)
    rows = []
    details = []
    for e in sp_list:
        ratio, ch, depth, dec_s = measure_spasm(xb, xr, fs, e, e["plateau"])
        onset = e["onset"] if e["has_wave"] else e["dec_on"]
        end = e["end"] if e["has_dec"] else e["wave_end"]
        rows.append({
            "onset": round(onset, 4), "duration": round(end - onset, 4),
            "trial_type": e["type"], "cluster": e["cluster"],
            "wave_ratio": round(ratio, 4),
            "field": e["field"] if e["has_wave"] else "generalized",
            "lag_ms": round(e["lag_ms"], 2) if e["has_wave"] else 0.0,
            "sharp": "true" if (e["sharp"] and e["has_wave"]) else "false",
            "decrement_depth": round(depth, 4), "decrement_s": round(dec_s, 3),
            "fast_activity": "true" if (e["fast"] and e["has_dec"]) else "false",
            "emg": "true" if (emg and e["emg_drawn"]) else "false",
        })
        details.append({
            "onset": onset, "has_wave": e["has_wave"], "has_dec": e["has_dec"],
            "wave_end": e.get("wave_end"), "dec_on": e["dec_on"], "plateau_s": e["plateau"],
            "recovery_s": e["rec"], "target_ratio": e["ratio"] if e["has_wave"] else None,
            "target_depth": e["depth"] if e["has_dec"] else None,
            "polarity": e["polarity"], "biphasic": e["biphasic"],
            "field_max_channel": CHANNELS[good[ch]] if ch >= 0 else None,
        })
    ev_cols = ["onset", "duration", "trial_type", "cluster", "wave_ratio", "field", "lag_ms",
               "sharp", "decrement_depth", "decrement_s", "fast_activity", "emg"]
    events = pd.DataFrame(rows, columns=ev_cols)

    # discharges: measured from the fast masses' responses through the readout
    drows = []
    lf_s = lf * scale
    for d in disc:
        i0 = int(d["t"] * fs)
        a0, a1 = max(0, i0 - int(0.1 * fs)), min(n, i0 + int(0.3 * fs))
        pts = d["pts"]
        seg = yF[pts, a0:a1] - yF[pts, max(0, i0 - int(0.1 * fs)):i0 + 1].mean(axis=1,
                                                                                 keepdims=True)
        contrib = -lf_s[:, pts] @ (seg * wF[pts, a0:a1] * env_read[:, a0:a1]) * gain
        post = np.abs(contrib[:, i0 - a0:])
        c = int(np.unravel_index(np.argmax(post), post.shape)[0])
        tr = np.abs(contrib[c])
        k = int(np.argmax(tr[i0 - a0:])) + i0 - a0
        pk = tr[k]
        lo_i = k
        while lo_i > i0 - a0 and tr[lo_i - 1] >= 0.2 * pk:
            lo_i -= 1
        hi_i = k
        while hi_i < tr.size - 1 and tr[hi_i + 1] >= 0.2 * pk:
            hi_i += 1
        dur_d = float(np.clip((hi_i - lo_i + 1) / fs, 0.02, 0.2))
        drows.append({"onset": round((a0 + lo_i) / fs, 4), "duration": round(dur_d, 4),
                      "channel": CHANNELS[c], "peak_uv": round(float(pk), 2),
                      "focus": int(d["focus"]), "kind": "spike" if dur_d < 0.07 else "sharp"})
    discharges = pd.DataFrame(drows, columns=["onset", "duration", "channel", "peak_uv", "focus",
                                              "kind"])
    xa = _band(x[good], 0.5, 30.0, fs)
    arows = [{"onset": round(a["onset"], 4), "duration": round(a["duration"], 4),
              "depth": round(measure_attenuation(xa, fs, a["onset"], a["duration"]), 4)}
             for a in att_list]
    atts = pd.DataFrame(arows, columns=["onset", "duration", "depth"])

    # ---- intended BASED (gain-1 brain signal, outside spasms) ------------------------------
    ci = {c: i for i, c in enumerate(CHANNELS)}
    bip = np.vstack([eeg_base[ci[a]] - eeg_base[ci[b]] for a, b in BIPOLAR])
    ep = min(300.0, dur)
    high_ep: dict[int, bool] = {}
    bip_max = 0.0
    for s0 in np.arange(0.0, max(dur - ep, 0.0) + 1e-6, 15.0):
        i0, i1 = int(s0 * fs), int((s0 + ep) * fs)
        v = float(_typical_p2p(bip[:, i0:i1], fs, clean[i0:i1]).max())
        bip_max = max(bip_max, v)
        high_ep[int(s0)] = (v > HIGH_AMP_UV) and not prof["phys_hv"]
    d_on = np.array([r["onset"] for r in drows]) if drows else np.zeros(0)
    d_fo = np.array([r["focus"] for r in drows]) if drows else np.zeros(0)
    a_on = np.array([a["onset"] for a in att_list]) if att_list else np.zeros(0)
    based, based_info = based_from_truth(d_on, d_fo, a_on, high_ep, prof["abnormal"], dur)

    # ---- EMG -------------------------------------------------------------------------------
    signals = []
    for i, c in enumerate(CHANNELS):
        signals.append(_edf_signal(x[i], fs, f"EEG {c}-REF"))
    n_emg = 0
    if emg:
        n_emg = 2 if r_emg.random() < 0.7 else 1
        bursts = [{"onset": max(0.0, e["onset"] + e["emg_lead"]), "dur": e["emg_dur"],
                   "amp": e["emg_amp"]} for e in sp_list if e["emg_drawn"]]
        extra = [{"onset": _u(r_emg, (1.0, dur - 6.0)), "dur": _u(r_emg, (0.2, 3.0))}
                 for _ in range(int(r_emg.integers(2, 10) * minutes / 10.0))]
        em = _emg(r_emg, n, fs, n_emg, bursts, moves + extra, cries, stretches)
        for i, lab in enumerate(["EMG DELT-L", "EMG DELT-R"][:n_emg]):
            signals.append(_edf_signal(em[i], fs, lab))

    # ---- write -------------------------------------------------------------------------------
    stem = _stem(background, seed, minutes, emg, spasms, gain, plain)
    case = Case(out / f"{stem}_eeg.edf", out / f"{stem}_events.tsv",
                out / f"{stem}_discharges.tsv", out / f"{stem}_attenuations.tsv",
                out / f"{stem}_truth.json")
    edfio.Edf(signals, data_record_duration=1.0).write(case.edf)
    events.to_csv(case.events, sep="\t", index=False)
    discharges.to_csv(case.discharges, sep="\t", index=False)
    atts.to_csv(case.attenuations, sep="\t", index=False)
    ref_p2p = float(np.median(_typical_p2p(eeg_base, fs, clean)))
    truth = {
        "generator": "fifth", "background": background,
        "hypsarrhythmic": BACKGROUNDS[background], "intended_based": int(based),
        "based_detail": based_info, "gain": gain, "sfreq": fs, "minutes": minutes,
        "emg": emg, "spasms": spasms, "plain": plain, "n_spasms": len(rows),
        "n_clusters": len({r["cluster"] for r in rows if r["cluster"] > 0}),
        "n_discharges": len(drows), "n_attenuations": len(arows), "seed": seed,
        "channels": CHANNELS + (["DELT-L", "DELT-R"][:n_emg] if emg else []),
        "n_emg": n_emg, "bad_channels": bad, "foci_channels": [
            CHANNELS[int(np.argmax(lf[:, p]))] for p in foci],
        "ref_p2p_uv_gain1": round(ref_p2p, 1), "bipolar_p2p_max_uv_gain1": round(bip_max, 1),
        "sleep_segments": [[round(a, 1), round(b, 1), s] for a, b, s in segs],
        "n_spindles": n_spindles, "n_vertex_transients": vt_count,
        "burst_suppression_bursts": [[round(a, 2), round(b, 2)] for a, b in bs_on],
        "artifacts": {**art_log, "movements": [[round(m["onset"], 2), round(m["dur"], 2)]
                                               for m in moves],
                      "cries": cries, "stretches": stretches},
        "model": {"n_patches": np_, "lead_field_sigma_rad": round(sigma_lf, 3),
                  "coupling_slow": round(K, 2), "coupling_fast": round(KF, 2),
                  "integration_hz": fs * sub, "scale_uv_per_mv": round(scale, 3)},
        "spasm_details": details,
    }
    case.truth.write_text(json.dumps(truth, indent=1, default=_json_default))
    return case


def _json_default(o: Any) -> Any:
    """JSON conversion of numpy scalars."""
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(type(o))


def _edf_signal(x: np.ndarray, fs: float, label: str) -> edfio.EdfSignal:
    """An EDF signal in uV with a symmetric physical range that does not clip."""
    lim = float(max(10.0, math.ceil(np.abs(x).max() * 1.05 + 1.0)))
    return edfio.EdfSignal(x.astype(np.float64), fs, label=label, physical_dimension="uV",
                           physical_range=(-lim, lim))


# --------------------------------------------------------------------------------------------
# Self-check
# --------------------------------------------------------------------------------------------


def check_labels(out_dir: str | Path) -> pd.DataFrame:
    """Re-measure every spasm from the written EDF and compare with the events table.

    Returns one row per spasm with the labelled and re-measured wave ratio, residual depth and
    half-depth duration, the drawn targets, and whether the field-maximum channel agrees.
    """
    rows = []
    for tp in sorted(Path(out_dir).glob("*_truth.json")):
        truth = json.loads(tp.read_text())
        stem = tp.name[: -len("_truth.json")]
        ev = pd.read_csv(tp.parent / f"{stem}_events.tsv", sep="\t")
        if ev.empty:
            continue
        edf = edfio.read_edf(tp.parent / f"{stem}_eeg.edf")
        fs = float(truth["sfreq"])
        sig = {s.label: s.data for s in edf.signals}
        good = [c for c in CHANNELS if c not in truth["bad_channels"]]
        x = np.vstack([sig[f"EEG {c}-REF"] for c in good])
        xb = _band(x, 0.5, 30.0, fs)
        xr = _band(x, 2.0, 30.0, fs, order=4)
        for (_, r), d in zip(ev.iterrows(), truth["spasm_details"], strict=True):
            wr, ch, dep, ds = measure_spasm(xb, xr, fs, d, d["plateau_s"])
            rows.append({
                "file": stem, "onset": r["onset"], "type": r["trial_type"],
                "ratio_label": r["wave_ratio"], "ratio_edf": wr,
                "ratio_target": d["target_ratio"],
                "depth_label": r["decrement_depth"], "depth_edf": dep,
                "depth_target": d["target_depth"],
                "dec_s_label": r["decrement_s"], "dec_s_edf": ds,
                "field_ch_ok": (ch < 0) or (good[ch] == d["field_max_channel"]),
                "onset_in_range": 0 <= r["onset"] < truth["minutes"] * 60,
            })
    return pd.DataFrame(rows)


def summarize_check(df: pd.DataFrame) -> dict[str, float]:
    """Summary statistics of a check_labels table."""
    if df.empty:
        return {"n": 0}
    w = df[df["type"] != "spasm_decrement_only"]
    dcm = df[df["type"] != "spasm_wave_only"]

    def rel(a: pd.Series, b: pd.Series) -> np.ndarray:
        return np.abs(a.astype(float) - b.astype(float)) / np.maximum(np.abs(b.astype(float)),
                                                                       1e-9)

    return {
        "n": int(len(df)),
        "ratio_edf_vs_label_median_relerr": float(np.median(rel(w["ratio_edf"],
                                                                w["ratio_label"]))),
        "ratio_label_over_wave_component_median": float(np.median(
            w["ratio_label"].astype(float) / w["ratio_target"].astype(float))),
        "depth_edf_vs_label_median_abserr": float(np.median(np.abs(dcm["depth_edf"]
                                                                   - dcm["depth_label"]))),
        "depth_label_vs_target_median_abserr": float(np.median(np.abs(
            dcm["depth_label"] - dcm["depth_target"]))),
        "dec_s_edf_vs_label_median_abserr": float(np.median(np.abs(dcm["dec_s_edf"]
                                                                   - dcm["dec_s_label"]))),
        "field_channel_agreement": float(df["field_ch_ok"].mean()),
        "onsets_in_range": float(df["onset_in_range"].mean()),
    }


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Write a varied set of recordings and OUT/manifest.tsv."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--backgrounds", default="")
    a = ap.parse_args(argv)
    bgs = [b for b in a.backgrounds.split(",") if b] or list(BACKGROUNDS)
    rng = np.random.default_rng(a.seed)
    rows = []
    for i in range(a.n):
        bg = bgs[i % len(bgs)]
        emg = bool(rng.random() < 0.7)
        sp = bool(rng.random() < 0.85)
        case = generate(a.out, seed=a.seed * 1000 + i, background=bg, minutes=a.minutes, emg=emg,
                        spasms=sp)
        t = json.loads(case.truth.read_text())
        rows.append({"edf": case.edf.name, "background": bg, "hypsarrhythmic": t["hypsarrhythmic"],
                     "intended_based": t["intended_based"], "seed": t["seed"], "emg": emg,
                     "spasms": sp, "n_spasms": t["n_spasms"], "n_discharges": t["n_discharges"],
                     "events": case.events.name, "discharges": case.discharges.name,
                     "attenuations": case.attenuations.name, "truth": case.truth.name})
        print(f"{case.edf.name}\tBASED={t['intended_based']}\tspasms={t['n_spasms']}")
    pd.DataFrame(rows).to_csv(Path(a.out) / "manifest.tsv", sep="\t", index=False)


if __name__ == "__main__":
    main()
