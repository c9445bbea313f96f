"""Synthetic infant EEG from regime-switching multivariate autoregressive models, for held-out
validation.

The background is a multivariate autoregressive model (MVAR, order 8, 19 channels) fitted by
ridge least squares on 2-s windows of real EEG (neonatal, clinical-export and adult TUH
recordings, resampled and mapped onto the 10-20 channels).  Each fitted model is written in its
companion (state-space) form and diagonalised; a *regime* keeps the fitted spatial mode shapes and
moves the poles (lower frequencies, broader bandwidths, a spectral tilt towards delta) and sets
the inter-channel coupling (off-diagonal coefficients and innovation correlation).  The modes are
driven by heavy-tailed (Student-t) innovations and their pole frequencies drift slowly; regimes
(wake, NREM, a low-power regime) are switched by power-complementary cross-fades, and per-channel
gains drift as a mean-reverting log-normal random walk.  Interictal discharges are atoms from a
morphological library placed by point processes per focus; a spasm is a high-voltage slow-wave
atom followed by a switch to the low-power regime (the electrodecrement).  Every label is measured
back from the written signal.

Usage::

    python benchmarks/generalize/sixth.py OUT --n 20 --seed 0 [--minutes 10] [--backgrounds a,b]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import edfio
import numpy as np
import pandas as pd
from numba import njit
from scipy.signal import butter, filtfilt, iirnotch, resample_poly, sosfiltfilt

try:  # one BLAS thread: the small eigen-problems are far slower with threads on a busy machine
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None

# --------------------------------------------------------------------------------------------
# Montage
# --------------------------------------------------------------------------------------------

CHANNELS: list[str] = [
    "Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T3", "C3", "Cz",
    "C4", "T4", "T5", "P3", "Pz", "P4", "T6", "O1", "O2",
]  # fmt: skip
NCH = len(CHANNELS)
CI = {c: i for i, c in enumerate(CHANNELS)}

#: idealised 10-20 positions: (angle from the vertex, azimuth from the nose, + to the left), deg.
_POS: dict[str, tuple[float, float]] = {
    "Fp1": (88, 17), "Fp2": (88, -17), "F7": (88, 52), "F3": (58, 42), "Fz": (44, 0),
    "F4": (58, -42), "F8": (88, -52), "T3": (90, 90), "C3": (44, 90), "Cz": (0, 0),
    "C4": (44, -90), "T4": (90, -90), "T5": (88, 128), "P3": (58, 138), "Pz": (44, 180),
    "P4": (58, -138), "T6": (88, -128), "O1": (88, 163), "O2": (88, -163),
}  # fmt: skip


def _xyz(theta: float, phi: float) -> np.ndarray:
    t, p = math.radians(theta), math.radians(phi)
    return np.array([math.sin(t) * math.cos(p), math.sin(t) * math.sin(p), math.cos(t)])


XYZ = np.array([_xyz(*_POS[c]) for c in CHANNELS])
DIST = np.arccos(np.clip(XYZ @ XYZ.T, -1.0, 1.0))  # great-circle distances between electrodes

#: Longitudinal bipolar montage for the BASED amplitude criterion.
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

HIGH_AMP_UV = 200.0
ORDER = 8
_FIELDS = ["generalized", "vertex", "frontal", "lateralized_left", "lateralized_right"]
_FIELD_P = [0.45, 0.25, 0.15, 0.075, 0.075]

# --------------------------------------------------------------------------------------------
# Background profiles (README_sixth.md gives the source of each range or marks it a choice)
# --------------------------------------------------------------------------------------------

# A regime: (frequency scale, bandwidth factor, spectral tilt, coupling), each a (lo, hi) range.
_WAKE_N = {"fsc": (0.5, 0.65), "bw": (1.0, 1.4), "tilt": (0.0, 0.5), "cpl": (0.8, 1.0)}
_NREM_N = {"fsc": (0.3, 0.45), "bw": (1.0, 1.5), "tilt": (1.3, 1.8), "cpl": (0.9, 1.15)}
_HYPS_W = {"fsc": (0.3, 0.5), "bw": (1.6, 3.0), "tilt": (1.2, 2.0), "cpl": (0.15, 0.4)}
_HYPS_S = {"fsc": (0.25, 0.4), "bw": (1.6, 3.0), "tilt": (1.5, 2.2), "cpl": (0.3, 0.6)}
_LOW = {"fsc": (0.8, 1.2), "bw": (1.0, 2.0), "tilt": (-0.6, 0.0), "cpl": (0.2, 0.4)}

_BASE: dict[str, Any] = {
    "amp": (50.0, 110.0), "p_sleep": 0.1, "wake": _WAKE_N, "nrem": _NREM_N,
    "nrem_amp": (1.2, 1.5), "gsig": (0.08, 0.15), "gtau": (5.0, 20.0), "gsmooth": 0.6,
    "pdrift": (0.02, 0.06), "rate": (0.0, 0.0), "nfoci": (0, 0), "damp": (50.0, 150.0),
    "bilat": (0.0, 0.0), "focus": False, "asym": False, "att": None, "frag": False,
    "bs": False, "spindles": True, "vertex": True, "blinks": True, "phys_hv": False,
    "abnormal": False, "shift": 0.0, "blur": (0.5, 0.8),
}  # fmt: skip

_HYPS: dict[str, Any] = {
    **_BASE, "amp": (250.0, 500.0), "p_sleep": 0.35, "wake": _HYPS_W, "nrem": _HYPS_S,
    "nrem_amp": (1.0, 1.3), "gsig": (0.35, 0.65), "gtau": (0.8, 4.0), "gsmooth": 0.3,
    "pdrift": (0.05, 0.12), "rate": (60.0, 150.0), "nfoci": (5, 10), "damp": (120.0, 320.0),
    "bilat": (0.0, 0.08), "spindles": False, "vertex": False, "shift": 0.15,
    "blur": (0.1, 0.3),
}  # fmt: skip

PROFILES: dict[str, dict[str, Any]] = {
    "hyps_classic": _HYPS,
    "hyps_asymmetric": {**_HYPS, "asym": True},
    "hyps_attenuation": {**_HYPS, "att": ((10.0, 40.0), (1.0, 4.0), (0.1, 0.3))},
    "hyps_focus": {**_HYPS, "focus": True, "nfoci": (4, 8)},
    "hyps_fragmented": {**_HYPS, "p_sleep": 0.85, "frag": True, "rate": (50.0, 120.0)},
    "hyps_slow": {**_HYPS, "amp": (300.0, 550.0), "rate": (6.0, 20.0), "nfoci": (3, 6),
                  "wake": {**_HYPS_W, "fsc": (0.2, 0.32), "tilt": (1.8, 2.5)},
                  "nrem": {**_HYPS_S, "fsc": (0.18, 0.3), "tilt": (2.0, 2.6)}},
    "hyps_synchronous": {**_HYPS, "amp": (280.0, 520.0), "bilat": (0.3, 0.5),
                         "wake": {**_HYPS_W, "cpl": (1.3, 1.6)},
                         "nrem": {**_HYPS_S, "cpl": (1.35, 1.65)}, "gsmooth": 0.8,
                         "blur": (0.4, 0.6)},
    "normal_wake": _BASE,
    "normal_sleep": {**_BASE, "amp": (70.0, 130.0), "p_sleep": 0.9},
    "hv_slow_sleep": {**_BASE, "amp": (150.0, 260.0), "p_sleep": 1.0, "phys_hv": True,
                      "nrem": {"fsc": (0.22, 0.32), "bw": (1.0, 1.4), "tilt": (1.8, 2.4),
                               "cpl": (1.3, 1.6)}, "nrem_amp": (1.0, 1.0)},
    "single_focus": {**_BASE, "rate": (2.0, 10.0), "nfoci": (1, 1), "damp": (60.0, 150.0)},
    "burst_suppression": {**_BASE, "amp": (100.0, 250.0), "p_sleep": 0.5, "bs": True,
                          "wake": _HYPS_W, "nrem": _HYPS_S, "spindles": False,
                          "vertex": False, "abnormal": True, "gsig": (0.2, 0.35),
                          "blur": (0.3, 0.5)},
    "diffuse_slowing": {**_BASE, "amp": (80.0, 150.0), "p_sleep": 0.3, "abnormal": True,
                        "wake": {"fsc": (0.25, 0.38), "bw": (1.2, 1.8), "tilt": (1.4, 2.0),
                                 "cpl": (0.8, 1.0)},
                        "nrem": {"fsc": (0.2, 0.3), "bw": (1.2, 1.8), "tilt": (1.6, 2.2),
                                 "cpl": (0.9, 1.1)}, "spindles": False, "vertex": False},
    "multifocal_sparse": {**_BASE, "amp": (60.0, 140.0), "rate": (3.0, 15.0), "nfoci": (3, 5),
                          "damp": (60.0, 150.0), "p_sleep": 0.3},
}


@dataclass
class Case:
    """Paths of one generated recording."""

    edf: Path
    events: Path
    discharges: Path
    attenuations: Path
    truth: Path


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _u(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
    return float(rng.uniform(lo_hi[0], lo_hi[1]))


def _logu(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


@functools.lru_cache(maxsize=64)
def _sos(lo: float | None, hi: float | None, fs: float, order: int) -> np.ndarray:
    nyq = fs / 2.0
    if lo is not None and hi is not None:
        return butter(order, [lo / nyq, min(hi / nyq, 0.99)], btype="band", output="sos")
    if lo is not None:
        return butter(order, lo / nyq, btype="high", output="sos")
    return butter(order, min(float(hi) / nyq, 0.99), btype="low", output="sos")


def _band(x: np.ndarray, lo: float | None, hi: float | None, fs: float,
          order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth filter along the last axis."""
    return sosfiltfilt(_sos(lo, hi, fs, order), x, axis=-1)


def _ramp(n: int) -> np.ndarray:
    """Raised-cosine ramp 0 -> 1 over n samples."""
    if n <= 0:
        return np.zeros(0)
    return 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)


def _window(n_total: int, fs: float, t_on: float, fall: float, plateau: float,
            rec: float) -> tuple[int, np.ndarray]:
    """A 0 -> 1 -> 0 weight (fall, plateau, recovery in s); returns start index and weights."""
    nf, npl, nr = max(1, int(fall * fs)), max(1, int(plateau * fs)), max(1, int(rec * fs))
    w = np.concatenate([_ramp(nf), np.ones(npl), _ramp(nr)[::-1]])
    i0 = int(round(t_on * fs))
    i1 = min(n_total, i0 + w.size)
    return i0, w[: max(0, i1 - i0)]


def _ou_log(rng: np.random.Generator, n_series: int, n: int, fs: float, tau: float,
            step: int) -> np.ndarray:
    """Unit-variance mean-reverting random walks (AR(1) at fs/step), linearly upsampled to n."""
    m = n // step + 2
    a = math.exp(-step / (fs * tau))
    w = rng.standard_normal((n_series, m))
    y = np.empty_like(w)
    y[:, 0] = w[:, 0]
    s = math.sqrt(1 - a * a)
    for i in range(1, m):  # m is n/step: a few thousand steps at most
        y[:, i] = a * y[:, i - 1] + s * w[:, i]
    src = np.arange(m) * step
    dst = np.arange(n)
    return np.vstack([np.interp(dst, src, r) for r in y])


# --------------------------------------------------------------------------------------------
# MVAR library fitted to real EEG
# --------------------------------------------------------------------------------------------

_REAL_FILES = [
    "neonatal/neonatal_burst_suppression_19ch_256hz.edf",
    "clinical_formats/nihon_kohden_MB0400FU_export.edf",
    "tuh_adult/00009578_s002_t001.edf",
    "tuh_adult/00009578_s006_t001.edf",
]


def _real_dir() -> Path | None:
    """The folder of the real recordings (HYPSA_REAL_DATA, or shared/data/real near the repo)."""
    here = Path(__file__).resolve()
    cands = [os.environ.get("HYPSA_REAL_DATA", "")] + [
        str(p / "shared" / "data" / "real") for p in here.parents]
    for c in cands:
        if c and (Path(c) / _REAL_FILES[0]).exists():
            return Path(c)
    return None


def _load_real(path: Path, fs: float) -> np.ndarray | None:
    """19 channels of a recording in the order of CHANNELS at fs, filtered, in arbitrary units."""
    import mne  # imported here: only needed to fit the library

    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    names = {n.upper().replace("EEG ", "").split("-")[0].strip(): i
             for i, n in enumerate(raw.ch_names)}
    idx = [names.get(c.upper()) for c in CHANNELS]
    if any(i is None for i in idx):
        return None
    x = raw.get_data(picks=idx) * 1e6
    f0 = float(raw.info["sfreq"])
    if abs(f0 - fs) > 1e-6:
        g = math.gcd(int(round(fs)), int(round(f0)))
        x = resample_poly(x, int(round(fs)) // g, int(round(f0)) // g, axis=1)
    x = x - np.median(x, axis=1, keepdims=True)
    x = _band(x, 0.5, 45.0, fs, order=3)
    for f_hum in (50.0, 60.0):
        if f_hum < fs / 2 - 1:
            b, a = iirnotch(f_hum, 30.0, fs)
            x = filtfilt(b, a, x, axis=1)
    sd = x.std(axis=1)
    dead = sd < 0.05 * np.median(sd)
    for c in np.nonzero(dead)[0]:  # a dead channel: mean of its three nearest live neighbours
        order = [j for j in np.argsort(DIST[c]) if not dead[j]][:3]
        x[c] = x[order].mean(axis=0)
    return x / np.median(x.std(axis=1))


def _fit_window(x: np.ndarray, p: int, ridge: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Ridge least-squares MVAR(p): x_t = sum_k A_k x_{t-k} + e_t.  Returns [A_1..A_p], cov(e)."""
    d, n = x.shape
    y = x[:, p:]
    z = np.vstack([x[:, p - k: n - k] for k in range(1, p + 1)])
    zz = z @ z.T
    lam = ridge * np.trace(zz) / zz.shape[0]
    a = np.linalg.solve(zz + lam * np.eye(zz.shape[0]), z @ y.T).T
    e = y - a @ z
    return a, np.cov(e)


def _synthetic_library(fs: float) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """Fallback when no real recording is found: MVAR(ORDER) fitted, as for the real data, to
    2-s windows of damped resonators (1-12 Hz) mixed over neighbouring electrodes."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(12345)
    mix = np.exp(-(DIST**2) / (2 * 0.3**2))
    lib = []
    w = int(2.0 * fs)
    for _ in range(40):
        src = np.zeros((NCH, w + int(fs)))
        for c in range(NCH):
            for _k in range(2):
                f = _logu(rng, 1.0, 12.0)
                r = math.exp(-math.pi * rng.uniform(1.0, 4.0) / fs)
                src[c] += lfilter([1.0], [1.0, -2 * r * math.cos(2 * math.pi * f / fs), r * r],
                                  rng.standard_normal(src.shape[1]))
        x = (mix @ src)[:, int(fs):]
        x /= x.std(axis=1, keepdims=True).mean()
        a, cov = _fit_window(x, ORDER)
        lib.append((a, cov, "synthetic"))
    return lib


@functools.lru_cache(maxsize=4)
def _library(fs: float) -> tuple[list[tuple[np.ndarray, np.ndarray, str]], str]:
    """MVAR(ORDER) models fitted on 2-s windows of the real recordings; and a source tag."""
    root = _real_dir()
    lib: list[tuple[np.ndarray, np.ndarray, str]] = []
    if root is not None:
        w = int(2.0 * fs)
        for rel in _REAL_FILES:
            p = root / rel
            if not p.exists():
                continue
            try:
                x = _load_real(p, fs)
            except Exception:  # noqa: BLE001  (an unreadable file is skipped)
                x = None
            if x is None:
                continue
            for i0 in range(int(fs), x.shape[1] - w - int(fs), w):
                seg = x[:, i0:i0 + w]
                if np.abs(seg).max() > 12.0 or seg.std() < 0.05:
                    continue  # artifact or silence
                seg = seg / seg.std(axis=1, keepdims=True).mean()
                a, cov = _fit_window(seg, ORDER)
                lib.append((a, cov, rel.split("/")[0]))
    if len(lib) < 10:
        return _synthetic_library(fs), "synthetic-fallback"
    h = hashlib.sha1(b"".join(a.astype(np.float32).tobytes() for a, _, _ in lib[:20]))
    return lib, f"real:{len(lib)} windows:{h.hexdigest()[:10]}"


# --------------------------------------------------------------------------------------------
# Regimes: modal form of a fitted MVAR with moved poles
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def _modal(u: np.ndarray, r: np.ndarray, th: np.ndarray, drift: np.ndarray, step: int,
           z0: np.ndarray) -> None:
    """In place: u[k, t] <- z_k[t] = lambda_k(t) z_k[t-1] + u[k, t], with
    lambda_k(t) = r_k exp(i th_k (1 + drift[t // step])); z0 holds and returns the state."""
    m, n = u.shape
    for k in range(m):
        z = z0[k]
        for b in range(0, n, step):
            ang = th[k] * (1.0 + drift[b // step])
            lam = r[k] * complex(math.cos(ang), math.sin(ang))
            e = min(n, b + step)
            for t in range(b, e):
                z = lam * z + u[k, t]
                u[k, t] = z
        z0[k] = z


def _regime(rng: np.random.Generator, lib: list, spec: dict[str, tuple[float, float]],
            fs: float, shift: float) -> dict[str, Any]:
    """Draw a regime: average 3-6 library windows of one source, scale the off-diagonal
    coefficients and the innovation correlation by the coupling, diagonalise the companion
    matrix, move the poles (frequency x fsc, bandwidth x bw, power x tilt)."""
    srcs = sorted({s for _, _, s in lib})
    src = srcs[int(rng.integers(len(srcs)))]
    pool = [i for i, (_, _, s) in enumerate(lib) if s == src]
    pick = rng.choice(pool, size=min(len(pool), int(rng.integers(3, 7))), replace=False)
    a = np.mean([lib[i][0] for i in pick], axis=0)
    cov = np.mean([lib[i][1] for i in pick], axis=0)
    fsc, bwf, tilt, cpl = (_u(rng, spec[k]) for k in ("fsc", "bw", "tilt", "cpl"))
    d = NCH
    eye = np.eye(d, dtype=bool)
    blocks = a.reshape(d, ORDER, d)
    k_off = min(cpl, 1.0)
    blocks = np.where(eye[:, None, :], blocks, k_off * blocks)
    a = blocks.reshape(d, ORDER * d)
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    if cpl <= 1.0:
        corr = cpl * corr + (1 - cpl) * np.eye(d)
    else:
        corr = (2 - cpl) * corr + (cpl - 1) * np.ones((d, d))
    chol = np.linalg.cholesky(np.outer(sd, sd) * corr + 1e-6 * np.eye(d))
    comp = np.zeros((d * ORDER, d * ORDER))
    comp[:d] = a
    comp[d:, :-d] = np.eye(d * (ORDER - 1))
    lam, vec = np.linalg.eig(comp)
    try:
        winv = np.linalg.inv(vec)
    except np.linalg.LinAlgError:  # a defective companion matrix (never seen with the fits)
        winv = np.linalg.pinv(vec)
    keep = (lam.imag > 1e-9) | ((np.abs(lam.imag) <= 1e-9) & (lam.real > 0))
    lam, b_in, m_out = lam[keep], winv[keep, :d], vec[:d, keep]
    fac = np.where(lam.imag > 1e-9, 2.0, 1.0)
    r0 = np.minimum(np.abs(lam), 0.9995)
    f0 = np.abs(np.angle(lam)) * fs / (2 * math.pi)
    f1 = f0 * fsc
    bw0 = -np.log(r0) * fs / math.pi
    r1 = np.minimum(np.exp(-math.pi * (bw0 * bwf + 0.05) / fs), 0.997)
    gain = np.sqrt((1 - r1**2) / (1 - r0**2))  # each mode keeps its fitted power
    keep2 = f1 < 0.45 * fs
    return {
        "r": r1[keep2], "th": (2 * math.pi * f1 / fs)[keep2],
        "b": (b_in * gain[:, None])[keep2] @ chol,
        "m": m_out[:, keep2] * fac[keep2][None, :],
        "nu": _u(rng, (4.0, 10.0)), "pdrift": shift, "src": src, "tilt": tilt,
        "params": {"fsc": round(fsc, 3), "bw": round(bwf, 3), "tilt": round(tilt, 3),
                   "coupling": round(cpl, 3), "n_modes": int(keep2.sum()), "source": src},
    }


def _simulate(rng: np.random.Generator, reg: dict[str, Any], n: int, fs: float,
              drift: np.ndarray, step: int) -> np.ndarray:
    """Run a regime for n samples with Student-t innovations; 0.5-30 Hz-SD-normalised output."""
    nu = reg["nu"]
    chunk = step * 512
    zst = np.zeros(reg["r"].size, dtype=np.complex128)
    out = np.empty((NCH, n))
    warm = int(4 * fs)
    tot = n + warm
    e_all = rng.standard_t(nu, size=(NCH, tot)) * math.sqrt((nu - 2) / nu)
    dr = np.concatenate([np.zeros(warm // step + 1), drift])
    pos = 0
    while pos < tot:
        e1 = min(tot, pos + chunk)
        u = reg["b"] @ e_all[:, pos:e1]
        _modal(u, reg["r"], reg["th"], dr[pos // step:], step, zst)
        y = (reg["m"] @ u).real
        lo, hi = max(pos, warm), e1
        if hi > lo:
            out[:, lo - warm:hi - warm] = y[:, lo - pos:hi - pos]
        pos = e1
    # spectral tilt: power x (max(f, 1 Hz) / 4 Hz) ** -tilt, zero-phase, then a 0.3-Hz high-pass
    spec = np.fft.rfft(out, axis=1)
    f = np.fft.rfftfreq(n, 1.0 / fs)
    spec *= (np.maximum(f, 1.0) / 4.0) ** (-reg["tilt"] / 2.0)
    out = _band(np.fft.irfft(spec, n=n, axis=1), 0.3, None, fs, order=1)
    # each channel to unit 0.5-30 Hz SD: the fitted models keep their spectra and cross-channel
    # structure, while the recordings' very unequal channel gains are not carried over
    sdv = _band(out, 0.5, 30.0, fs).std(axis=1)
    return out / np.maximum(sdv, 1e-12)[:, None]


# --------------------------------------------------------------------------------------------
# Waveform atoms
# --------------------------------------------------------------------------------------------


def _gauss_sum(t: np.ndarray, comps: list[tuple[float, float, float]]) -> np.ndarray:
    y = np.zeros_like(t)
    for a, c, w in comps:
        y += a * np.exp(-0.5 * ((t - c) / w) ** 2)
    return y


def _discharge_atom(rng: np.random.Generator) -> dict[str, Any]:
    """A discharge from the morphological library as Gaussian components (main peak -1 at 0)."""
    u = rng.random()
    comps: list[tuple[float, float, float]] = []
    if u < 0.4 or u >= 0.85:  # spike or notched spike: main phase 20-70 ms
        kind = "spike" if u < 0.4 else "notched"
        d = _u(rng, (0.02, 0.07))
    elif u < 0.7:
        kind = "sharp"
        d = _u(rng, (0.07, 0.2))
    else:
        kind = "polyphasic"
        d = _u(rng, (0.02, 0.05))
    w = d / 3.59  # 20 %-amplitude width of a Gaussian is 3.59 w
    comps.append((-1.0, 0.0, w))
    comps.append((-_u(rng, (0.1, 0.4)), 0.5 * w, 1.3 * w))  # slower fall than rise
    comps.append((_u(rng, (0.0, 0.25)), -1.8 * w, 0.9 * w))  # small positive before
    comps.append((_u(rng, (0.1, 0.35)), 2.3 * w, 1.4 * w))  # positive after
    if kind == "notched":
        comps.append((_u(rng, (0.25, 0.5)), _u(rng, (-0.3, 0.3)) * w, 0.3 * w))
    if kind == "polyphasic":
        c, amp, sign = 0.0, 1.0, -1.0
        for _ in range(int(rng.integers(1, 4))):
            c += _u(rng, (0.02, 0.045))
            amp *= _u(rng, (0.5, 0.85))
            sign = -sign
            comps.append((sign * amp, c, _u(rng, (0.006, 0.014))))
    slow = rng.random() < 0.45
    if slow:
        sw = _u(rng, (0.05, 0.11))
        comps.append((-_u(rng, (0.3, 0.8)), d / 2 + _u(rng, (0.06, 0.12)) + 1.5 * sw, sw))
    tt = np.linspace(-0.1, 0.6, 1400)
    y = _gauss_sum(tt, comps)
    k = int(np.argmax(np.abs(y[(tt > -0.02) & (tt < 0.05)]))) + int(np.argmax(tt > -0.02))
    norm = -1.0 / y[k] if y[k] < 0 else 1.0 / abs(y[k])
    comps = [(a * norm, c, ww) for a, c, ww in comps]
    return {"comps": comps, "kind": kind, "slow": slow, "span": (-0.06, 0.6 if slow else 0.2)}


def _field(centre: np.ndarray, sigma: float) -> np.ndarray:
    d = np.arccos(np.clip(XYZ @ centre, -1, 1))
    f = np.exp(-(d**2) / (2 * sigma**2))
    f[f < 0.03] = 0.0
    return f


def _wave_shape(tau: np.ndarray, biphasic: bool, skew: float) -> np.ndarray:
    """Spasm slow-wave shape on tau in [0, 1] (0 outside): a skewed bump or a full cycle."""
    inside = (tau > 0) & (tau < 1)
    t = np.clip(tau, 0, 1)
    warped = t**skew
    y = np.sin(2 * np.pi * warped) if biphasic else np.sin(np.pi * warped) ** 1.5
    return np.where(inside, y, 0.0)


# --------------------------------------------------------------------------------------------
# Measurement (shared by the generator and by check_labels)
# --------------------------------------------------------------------------------------------


def _pre(onset: float, fs: float) -> tuple[int, int]:
    """The 10 s before an onset, ending 0.25 s before it."""
    return max(0, int((onset - 10.0) * fs)), max(1, int((onset - 0.25) * fs))


def measure_wave(xb: np.ndarray, fs: float, onset: float, wave_end: float) -> tuple[float, int]:
    """Peak-to-peak of 0.5-30 Hz EEG from onset to wave_end at the field maximum, over the
    median channel's 5-95 % range in the 10 s before; and the field-maximum row."""
    a, b = _pre(onset, fs)
    q = np.percentile(xb[:, a:b], [5, 95], axis=1)
    bg = float(np.median(q[1] - q[0]))
    i0, i1 = int(onset * fs), int(wave_end * fs)
    p = np.ptp(xb[:, i0:max(i1, i0 + 2)], axis=1)
    ch = int(np.argmax(p))
    return float(p[ch] / max(bg, 1e-9)), ch


def measure_decrement(xr: np.ndarray, fs: float, onset: float, dec_on: float,
                      plateau: float) -> tuple[float, float]:
    """Residual (median over channels of 2-30 Hz SD in [dec_on + 0.15, + max(0.3, plateau)]
    over SD in the 10 s before the onset) and half-depth duration (channel-median RMS ratio in
    sliding 0.5-s windows from dec_on, from its first fall below (1 + residual)/2 to its next
    rise to that level)."""
    a, b = _pre(onset, fs)
    sd0 = np.maximum(xr[:, a:b].std(axis=1), 1e-9)
    c0 = int((dec_on + 0.15) * fs)
    c1 = c0 + max(int(0.3 * fs), int(plateau * fs))
    resid = float(np.median(xr[:, c0:c1].std(axis=1) / sd0))
    h = 0.5 * (1.0 + resid)
    w = int(0.5 * fs)
    i0 = int(dec_on * fs)
    seg = xr[:, i0:i0 + int(12 * fs)] ** 2
    if seg.shape[1] <= w:
        return resid, 0.0
    cs = np.cumsum(np.pad(seg, ((0, 0), (1, 0))), axis=1)
    rms = np.sqrt(np.maximum(cs[:, w:] - cs[:, :-w], 0) / w)
    ratio = np.median(rms / sd0[:, None], axis=0)
    below = np.nonzero(ratio < h)[0]
    if below.size == 0:
        return resid, 0.0
    dn = int(below[0])
    up = np.nonzero(ratio[dn:] >= h)[0]
    return resid, float(((dn + int(up[0])) if up.size else ratio.size) - dn) / fs


def measure_spasm(xb: np.ndarray, xr: np.ndarray, fs: float, d: dict[str, Any],
                  plateau: float) -> tuple[float, int, float, float]:
    """Wave ratio and field-maximum row (0, -1 without wave), residual depth and half-depth
    duration (1, 0 without decrement) of one spasm described by ``d``."""
    ratio, ch = (measure_wave(xb, fs, d["onset"], d["wave_end"]) if d["has_wave"] else (0.0, -1))
    depth, ds = (measure_decrement(xr, fs, d["onset"], d["dec_on"], plateau) if d["has_dec"]
                 else (1.0, 0.0))
    return ratio, ch, depth, ds


def measure_attenuation(xa: np.ndarray, fs: float, onset: float, dur: float) -> float:
    """Median over channels of 0.5-30 Hz SD in the episode core over SD in the 10 s before."""
    a, b = _pre(onset, fs)
    sd0 = np.maximum(xa[:, a:b].std(axis=1), 1e-9)
    e = min(0.3, dur / 4)
    c0 = int((onset + e) * fs)
    c1 = max(c0 + 8, int((onset + dur - e) * fs))
    return float(np.median(xa[:, c0:c1].std(axis=1) / sd0))


def _typical_p2p(x: np.ndarray, fs: float, mask: np.ndarray | None = None) -> np.ndarray:
    """Per channel, median over 1-s bins of max - min (bins touching masked samples skipped)."""
    w = int(fs)
    nb = x.shape[1] // w
    xs = x[:, : nb * w].reshape(x.shape[0], nb, w)
    p = xs.max(axis=2) - xs.min(axis=2)
    if mask is not None:
        ok = mask[: nb * w].reshape(nb, w).all(axis=1)
        if ok.sum() >= 3:
            p = p[:, ok]
    return np.median(p, axis=1)


def based_from_truth(disc_onsets: np.ndarray, disc_foci: np.ndarray, att_onsets: np.ndarray,
                     high_amp: dict[int, bool], abnormal: bool,
                     duration_s: float) -> tuple[int, dict[str, Any]]:
    """BASED grade of the worst 5-min epoch (epochs start on 15-s page boundaries).

    5: >= 3 foci and >= half the pages with >= 8 of 15 one-s bins holding a discharge onset;
    4: >= 3 foci with a high-amplitude channel, or a paroxysmal attenuation episode;
    3: >= 3 foci, or a high-amplitude channel; 2: 1-2 foci; 1: abnormal background; else 0.
    Bilateral synchronous discharges (focus -1) fill bins but are not a focus."""
    ep = min(300.0, duration_s)
    n_pages = max(1, int(ep // 15))
    best, info = -1, {}
    for s0 in np.arange(0.0, max(duration_s - ep, 0.0) + 1e-6, 15.0):
        sel = (disc_onsets >= s0) & (disc_onsets < s0 + ep)
        foci = {int(f) for f in disc_foci[sel] if f >= 0}
        bins = np.unique(np.floor(disc_onsets[sel] - s0).astype(int))
        pages = np.bincount(bins // 15, minlength=n_pages)[:n_pages]
        full = int((pages >= 8).sum())
        half = full >= math.ceil(n_pages / 2)
        att = bool(((att_onsets >= s0) & (att_onsets < s0 + ep)).any())
        high = bool(high_amp.get(int(s0), False))
        nf = len(foci)
        if nf >= 3 and half:
            g = 5
        elif (nf >= 3 and high) or att:
            g = 4
        elif nf >= 3 or high:
            g = 3
        elif nf >= 1:
            g = 2
        else:
            g = 1 if abnormal else 0
        if g > best:
            best, info = g, {"epoch_start_s": float(s0), "n_foci": nf, "pages_ge8": full,
                             "n_pages": n_pages, "high_amplitude": high, "attenuation": att}
    return best, info


# --------------------------------------------------------------------------------------------
# Scheduling
# --------------------------------------------------------------------------------------------


def _states(rng: np.random.Generator, p_sleep: float, dur: float, fs: float) -> tuple[
        np.ndarray, list[tuple[float, float, str]]]:
    """NREM weight s(t) in [0, 1]: alternating wake/NREM segments, 10-30 s cross-fades."""
    segs: list[tuple[float, float, str]] = []
    n = int(round(dur * fs))
    if p_sleep <= 0.0 or p_sleep >= 1.0:
        st = "nrem" if p_sleep >= 1.0 else "wake"
        return np.full(n, 1.0 if st == "nrem" else 0.0), [(0.0, dur, st)]
    t = 0.0
    st = "nrem" if rng.random() < p_sleep else "wake"
    while t < dur:
        mean = 300.0 * (p_sleep if st == "nrem" else 1 - p_sleep) / 0.5
        d = float(np.clip(rng.gamma(2.0, mean / 2.0), 30.0, 900.0))
        segs.append((t, min(dur, t + d), st))
        t += d
        st = "wake" if st == "nrem" else "nrem"
    step = np.zeros(n)
    for a, b, s in segs:
        if s == "nrem":
            step[int(a * fs):int(b * fs)] = 1.0
    w = int(_u(rng, (10.0, 30.0)) * fs)
    k = np.ones(w) / w
    s = np.convolve(np.pad(step, (w // 2, w - w // 2 - 1), mode="edge"), k, mode="valid")
    return np.clip(s[:n], 0.0, 1.0), segs


def _spasm_schedule(rng: np.random.Generator, dur: float, minutes: float,
                    plain: bool) -> list[dict[str, Any]]:
    """Spasm onsets and cluster ids: clusters of 5-40 spasms 5-60 s apart, a few isolated."""
    lo, hi = 12.0, dur - 12.0
    if hi - lo < 20:
        return []
    if plain:
        clusters = [[float(rng.uniform(8, 14)) for _ in range(int(rng.integers(4, 7)) - 1)]
                    for _ in range(3)]
        n_iso = 0
    else:
        clusters = []
        for _ in range(max(1, int(round(rng.integers(1, 4) * minutes / 10.0)))):
            ns = int(rng.integers(5, 41))
            g0 = _logu(rng, 5.0, 30.0)
            clusters.append([float(np.clip(g0 * math.exp(0.3 * rng.standard_normal()), 5.0,
                                           60.0)) for _ in range(ns - 1)])
        n_iso = int(rng.integers(0, 3) * minutes / 10.0 + rng.random())
    sep = 40.0
    while sum(sum(c) + 10.0 for c in clusters) + sep * (len(clusters) - 1) > hi - lo:
        j = int(np.argmax([sum(c) for c in clusters]))
        if len(clusters[j]) > 1:
            clusters[j].pop()
        elif len(clusters) > 1:
            clusters.pop(j)
        else:
            clusters[j] = []
            break
    lengths = [sum(c) + 10.0 for c in clusters]
    slack = max(0.0, (hi - lo) - sum(lengths) - sep * (len(clusters) - 1))
    parts = rng.dirichlet(np.ones(len(clusters) + 1)) * slack
    out: list[dict[str, Any]] = []
    t = lo
    for ci, j in enumerate(rng.permutation(len(clusters))):
        t += parts[ci]
        ts = t
        out.append({"onset": ts, "cluster": ci + 1})
        for g in clusters[j]:
            ts += g
            out.append({"onset": ts, "cluster": ci + 1})
        t += lengths[j] + sep
    for _ in range(n_iso):
        for _k in range(50):
            c = float(rng.uniform(lo, hi - 10.0))
            if all(abs(c - e["onset"]) > 30.0 for e in out):
                out.append({"onset": c, "cluster": 0})
                break
    out.sort(key=lambda e: e["onset"])
    return out


def _draw_spasm(rng: np.random.Generator, plain: bool) -> dict[str, Any]:
    """Morphology of one spasm."""
    if plain:
        return {"type": "spasm", "ratio": _u(rng, (2.2, 3.0)), "wave_s": _u(rng, (0.6, 1.0)),
                "polarity": 1.0, "biphasic": False, "skew": 1.0, "field": "generalized",
                "lag_ms": 0.0, "sharp": False, "depth": _u(rng, (0.15, 0.35)),
                "dec_s": _u(rng, (1.5, 3.0)), "fast": False, "fast_f": 0.0, "fast_uv": 0.0,
                "rec": 0.6}
    u = rng.random()
    typ = "spasm" if u < 0.7 else ("spasm_wave_only" if u < 0.88 else "spasm_decrement_only")
    dec_s = _logu(rng, 0.5, 6.0)
    return {
        "type": typ, "ratio": _logu(rng, 0.8, 4.0), "wave_s": _u(rng, (0.3, 1.5)),
        "polarity": 1.0 if rng.random() < 0.65 else -1.0,
        "biphasic": bool(rng.random() < 0.35), "skew": _u(rng, (0.6, 1.0)),
        "field": str(rng.choice(_FIELDS, p=_FIELD_P)), "lag_ms": _u(rng, (0.0, 50.0)),
        "sharp": bool(rng.random() < 0.3), "depth": _u(rng, (0.1, 0.6)), "dec_s": dec_s,
        "fast": bool(rng.random() < 0.4), "fast_f": _u(rng, (15.0, 30.0)),
        "fast_uv": _u(rng, (5.0, 20.0)), "rec": float(min(_u(rng, (0.3, 1.5)), dec_s * 0.6)),
    }


def _wave_field(kind: str, rng: np.random.Generator) -> np.ndarray:
    """Spatial weight of a spasm wave over the electrodes (maximum 1)."""
    if kind == "generalized":
        f = rng.uniform(0.75, 1.0, NCH)
    elif kind in ("vertex", "frontal"):
        c = XYZ[CI["Cz"]] if kind == "vertex" else XYZ[CI["Fz"]]
        f = 0.25 + 0.75 * np.exp(-np.arccos(np.clip(XYZ @ c, -1, 1)) ** 2 / (2 * 0.7**2))
    else:
        side = 1.0 if kind == "lateralized_left" else -1.0
        f = 0.3 + 0.7 * np.clip(side * XYZ[:, 1] / 0.6 + 0.5, 0, 1)
    return f / f.max()


# --------------------------------------------------------------------------------------------
# EMG
# --------------------------------------------------------------------------------------------


def _emg(rng: np.random.Generator, n: int, fs: float, n_ch: int, bursts: list[dict[str, Any]],
         moves: list[tuple[float, float]]) -> np.ndarray:
    """Deltoid surface EMG: tonic noise, a diamond burst per spasm, movement bursts, ECG."""
    env = np.full((n_ch, n), 1.0) * rng.uniform(1.0, 4.0, (n_ch, 1))
    for b in bursts:
        i0, m = int(b["onset"] * fs), max(4, int(b["dur"] * fs))
        pk = rng.uniform(0.3, 0.6)
        x = np.arange(m) / m
        dia = np.where(x < pk, x / pk, (1 - x) / (1 - pk))
        i1 = min(n, i0 + m)
        for c in range(n_ch):
            env[c, i0:i1] += b["amp"] * (1.0 if c == 0 else rng.uniform(0.4, 1.1)) * dia[
                : i1 - i0]
    for t0, d in moves:
        i0, m = int(t0 * fs), max(4, int(d * fs))
        i1 = min(n, i0 + m)
        sh = np.abs(_band(rng.standard_normal((n_ch, m + 64)), None, 3.0, fs))[:, :m]
        sh = sh / max(sh.max(), 1e-9) * rng.uniform(20.0, 180.0)
        env[:, i0:i1] += sh[:, : i1 - i0]
    carrier = _band(rng.standard_normal((n_ch, n)), 20.0, min(150.0, 0.45 * fs), fs, order=3)
    carrier /= carrier.std(axis=1, keepdims=True)
    out = env * carrier
    hr = rng.uniform(100.0, 160.0) / 60.0
    beats = np.cumsum(np.full(int(n / fs * hr) + 3, 1 / hr) * (1 + 0.03 * rng.standard_normal(
        int(n / fs * hr) + 3)))
    imp = np.zeros(n)
    idx = (beats * fs).astype(int)
    imp[idx[idx < n]] = 1.0
    kt = np.arange(-int(0.04 * fs), int(0.04 * fs) + 1) / fs
    qrs = -kt / 0.006 * np.exp(-(kt**2) / (2 * 0.006**2))
    ecg = np.convolve(imp, qrs, mode="same")
    out += rng.uniform(3.0, 20.0, (n_ch, 1)) * ecg[None, :]
    return out


# --------------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------------


def _stem(background: str, seed: int, minutes: float, emg: bool, spasms: bool, gain: float,
          plain: bool) -> str:
    s = f"f6_{background}_s{seed}"
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


def _pick_foci(rng: np.random.Generator, n_f: int, side: float | None) -> list[np.ndarray]:
    """Focus centres near distinct electrodes (optionally biased to one hemisphere)."""
    order = list(rng.permutation(NCH))
    if side is not None:
        order.sort(key=lambda c: -side * XYZ[c, 1] + rng.uniform(0, 0.7))
    out = []
    for c in order[:n_f]:
        v = XYZ[c] + 0.08 * rng.standard_normal(3)
        out.append(v / np.linalg.norm(v))
    return out


def _one_thread() -> Any:
    return threadpool_limits(1) if threadpool_limits is not None else contextlib.nullcontext()


def generate(out_dir: str | Path, seed: int = 0, background: str = "hyps_classic",
             minutes: float = 10.0, emg: bool = True, spasms: bool = True, sfreq: float = 256.0,
             gain: float = 1.0, plain: bool = False) -> Case:
    """Generate one recording and its label files; returns their paths."""
    with _one_thread():
        return _generate(out_dir, seed, background, minutes, emg, spasms, sfreq, gain, plain)


def _generate(out_dir: str | Path, seed: int, background: str, minutes: float, emg: bool,
              spasms: bool, sfreq: float, gain: float, plain: bool) -> Case:
    if background not in BACKGROUNDS:
        raise ValueError(f"unknown background {background!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    prof = PROFILES[background]
    fs = float(sfreq)
    dur = float(max(1, round(minutes * 60.0)))
    n = int(round(dur * fs))
    ss = np.random.SeedSequence([int(seed), list(BACKGROUNDS).index(background),
                                 int(round(minutes * 1000)), 6])
    r_eeg, r_sp, r_art, r_emg, r_plain = (np.random.default_rng(s) for s in ss.spawn(5))
    r_spasm = r_plain if plain else r_sp
    with _one_thread():
        lib, lib_tag = _library(fs)

    # ---- states and regimes -------------------------------------------------------------------
    sleep, segs = _states(r_eeg, prof["p_sleep"], dur, fs)
    step = 32
    nd = n // step + 2
    pd_sig = _u(r_eeg, prof["pdrift"])
    drift = pd_sig * _ou_log(r_eeg, 1, nd * step, fs, _u(r_eeg, (10.0, 60.0)), step)[0, ::step]
    regs = {"wake": _regime(r_eeg, lib, prof["wake"], fs, pd_sig),
            "nrem": _regime(r_eeg, lib, prof["nrem"], fs, pd_sig),
            "low": _regime(r_eeg, lib, _LOW, fs, pd_sig)}
    seeds = {k: int(r_eeg.integers(2**31 - 1)) for k in regs}
    nrem_amp = _u(r_eeg, prof["nrem_amp"])
    bg = np.zeros((NCH, n))
    if sleep.min() < 1.0:
        bg += np.sqrt(1 - sleep)[None, :] * _simulate(np.random.default_rng(seeds["wake"]),
                                                     regs["wake"], n, fs, drift, step)
    if sleep.max() > 0.0:
        bg += (nrem_amp * np.sqrt(sleep))[None, :] * _simulate(
            np.random.default_rng(seeds["nrem"]), regs["nrem"], n, fs, drift, step)
    low = _simulate(np.random.default_rng(seeds["low"]), regs["low"], n, fs, drift, step)

    # per-channel gain drift (mean-reverting log-normal walk, spatially smoothed)
    gsig = _u(r_eeg, prof["gsig"])
    lg = _ou_log(r_eeg, NCH, n, fs, _u(r_eeg, prof["gtau"]), int(fs // 8))
    ker = np.exp(-(DIST**2) / (2 * 0.35**2))
    ker /= ker.sum(axis=1, keepdims=True)
    sm = prof["gsmooth"]
    lg = (1 - sm) * lg + sm * (ker @ lg)
    lg /= lg.std(axis=1, keepdims=True)
    side = 1.0 if r_eeg.random() < 0.5 else -1.0
    topo = ker @ r_eeg.standard_normal(NCH)
    base_g = np.exp(0.15 * topo / max(float(topo.std()), 1e-9))  # a static topography
    asym_f = 1.0
    if prof["asym"]:
        asym_f = _u(r_eeg, (1.6, 2.5))
        base_g = base_g * (1.0 + (asym_f - 1.0) * np.clip(side * XYZ[:, 1] / 0.6 + 0.5, 0, 1))
    g = base_g[:, None] * np.exp(gsig * lg - gsig**2 / 2)
    # volume conduction: each electrode also sees its neighbours' signal
    blur = _u(r_eeg, prof["blur"])
    kv = np.exp(-(DIST**2) / (2 * 0.4**2))
    bg = ((1 - blur) * np.eye(NCH) + blur * kv / kv.sum(axis=1, keepdims=True)) @ bg
    bg *= g

    # ---- spasm schedule (drawn before the discharges, which avoid the decrements) -------------
    sp_list: list[dict[str, Any]] = []
    if spasms:
        sched = _spasm_schedule(r_spasm, dur, minutes, plain)
        for e in sched:
            e.update(_draw_spasm(r_spasm, plain))
        for k, e in enumerate(sched):
            e["has_wave"] = e["type"] != "spasm_decrement_only"
            e["has_dec"] = e["type"] != "spasm_wave_only"
            e["dec_on"] = e["onset"] + (e["wave_s"] if e["has_wave"] else 0.0)
            nxt = sched[k + 1]["onset"] if k + 1 < len(sched) else dur
            room = nxt - 1.5 - e["dec_on"] - 0.15
            e["rec"] = float(min(e["rec"], max(0.2, room / 3)))
            e["plateau"] = float(max(0.2, min(e["dec_s"] - e["rec"] / 2, room - e["rec"])))
            e["end"] = e["dec_on"] + (0.15 + e["plateau"] + e["rec"] if e["has_dec"] else 0.0)
            e["wave_end"] = e["onset"] + e["wave_s"] + e["lag_ms"] / 1000.0 + 0.1
            if e["end"] > dur - 2.0 or (e["has_wave"] and e["wave_end"] > dur - 2.0):
                continue
            # drawn whatever emg is, from the spasm stream (the EEG does not depend on emg)
            e["emg_drawn"] = bool(r_sp.random() < 0.9)
            e["emg_dur"] = _u(r_sp, (0.5, 2.0))
            e["emg_lead"] = _u(r_sp, (-0.2, 0.3))
            e["emg_amp"] = _u(r_sp, (50.0, 400.0))
            e["eeg_muscle"] = bool(r_sp.random() < 0.3)
            e["eeg_move"] = bool(r_sp.random() < 0.2)
            e["field_w"] = _wave_field(e["field"], r_spasm)
            sp_list.append(e)
    w_dec = np.zeros(n)  # decrements and spasm waves: no discharge, spindle or vertex wave
    for e in sp_list:
        if e["has_wave"]:
            w_dec[int((e["onset"] - 0.2) * fs):int(e["wave_end"] * fs)] = 1.0
        if e["has_dec"]:
            i0, w = _window(n, fs, e["dec_on"], 0.15, e["plateau"], e["rec"])
            w_dec[i0:i0 + w.size] = np.maximum(w_dec[i0:i0 + w.size], w)

    # ---- attenuation episodes, fragmentation and suppressions (switch to the low regime) ----
    att_list: list[dict[str, float]] = []
    if prof["att"] is not None:
        every, length, depth = prof["att"]
        t = _u(r_eeg, (8.0, every[1]))
        while t < dur - 12:
            d = _u(r_eeg, length)
            att_list.append({"onset": t, "duration": d, "target": _u(r_eeg, depth)})
            t += d + _u(r_eeg, every)
    if prof["frag"]:
        t = 12.0
        while t < dur - 12:
            t += _u(r_eeg, (5.0, 20.0))
            if sleep[min(n - 1, int(t * fs))] > 0.7 and t < dur - 8:
                d = _u(r_eeg, (1.0, 4.0))
                att_list.append({"onset": t, "duration": d, "target": _u(r_eeg, (0.1, 0.4))})
                t += d
    att_list.sort(key=lambda a: a["onset"])
    # no attenuation episode over a spasm (from 2 s before its onset to 1 s after its end)
    att_list = [a for a in att_list if all(
        a["onset"] + a["duration"] < e["onset"] - 2.0 or a["onset"] > e["end"] + 1.0
        for e in sp_list)]
    w_low = np.zeros(n)  # weight of the low-power regime
    s_low = np.zeros((NCH, n))  # its per-channel scale
    bs_on: list[tuple[float, float]] = []
    low_sd = _band(low, 0.5, 30.0, fs).std(axis=1)
    bg_b = _band(bg, 0.5, 30.0, fs) if (prof["bs"] or att_list) else bg
    if prof["bs"]:
        t = 0.0
        bsd = bg_b.std(axis=1)
        while t < dur:
            b = _u(r_eeg, (1.0, 4.0))
            bs_on.append((t, min(dur, t + b)))
            s = _u(r_eeg, (2.0, 10.0))
            i0, w = _window(n, fs, t + b, 0.1, max(s - 0.2, 0.1), 0.1)
            w_low[i0:i0 + w.size] = np.maximum(w_low[i0:i0 + w.size], w)
            s_low[:, i0:i0 + w.size] = (_u(r_eeg, (0.02, 0.06)) * bsd / low_sd)[:, None]
            t += b + s
    for a in att_list:
        r = min(0.3, a["duration"] / 4)
        i0, w = _window(n, fs, a["onset"], r, a["duration"] - 2 * r, r)
        pa, pb = _pre(a["onset"], fs)
        sd0 = bg_b[:, pa:pb].std(axis=1)
        w_low[i0:i0 + w.size] = np.maximum(w_low[i0:i0 + w.size], w)
        s_low[:, i0:i0 + w.size] = (a["target"] * sd0 / low_sd)[:, None]

    # ---- interictal discharges: atoms placed by Markov-modulated point processes per focus --
    nf_lo, nf_hi = prof["nfoci"]
    n_f = int(r_eeg.integers(nf_lo, nf_hi + 1)) if nf_hi > 0 else 0
    foci = _pick_foci(r_eeg, n_f, side if prof["asym"] else None) if n_f else []
    disc: list[dict[str, Any]] = []
    if foci:
        rate = _u(r_eeg, prof["rate"]) / 60.0
        bil = _u(r_eeg, prof["bilat"])
        wts = r_eeg.dirichlet(np.full(len(foci), 2.0))
        if prof["focus"]:
            sh = _u(r_eeg, (0.5, 0.7))
            wts = np.concatenate([[sh], (1 - sh) * wts[1:] / wts[1:].sum()])
        ids = list(range(len(foci))) + ([-1] if bil > 0 else [])
        rates = list(rate * (1 - bil) * wts) + ([rate * bil] if bil > 0 else [])
        amp_lo, amp_hi = prof["damp"]
        for fid, rr in zip(ids, rates, strict=True):
            if rr <= 0:
                continue
            on_mean, off_mean = _u(r_eeg, (5.0, 40.0)), _u(r_eeg, (2.0, 20.0))
            duty = on_mean / (on_mean + off_mean)
            t, active = 0.0, bool(r_eeg.random() < duty)
            t_switch = float(r_eeg.exponential(on_mean if active else off_mean))
            sig_f = _u(r_eeg, (0.25, 0.45))
            centre = foci[fid] if fid >= 0 else None
            while t < dur - 1.0:
                t += max(0.12, float(r_eeg.exponential(duty / rr)))
                while t > t_switch:
                    active = not active
                    t_switch += float(r_eeg.exponential(on_mean if active else off_mean))
                if not active or t >= dur - 1.0 or t < 1.0:
                    continue
                j = int(t * fs)
                keep = (1 + 0.4 * sleep[j]) / 1.4 * (1 - w_low[j]) * (1 - w_dec[j])
                if r_eeg.random() >= keep:
                    continue
                atom = _discharge_atom(r_eeg)
                amp = _u(r_eeg, (amp_lo, amp_hi)) * (1.25 if prof["focus"] and fid == 0 else 1)
                pol = -1.0 if r_eeg.random() < 0.9 else 1.0
                if fid >= 0:
                    v = centre + prof["shift"] * 0.15 * r_eeg.standard_normal(3)
                    fld = _field(v / np.linalg.norm(v), sig_f)
                else:  # bilateral synchronous: a point and its mirror image
                    v = XYZ[int(r_eeg.integers(NCH))] * np.array([1.0, 1.0, 1.0])
                    fld = np.maximum(_field(v, sig_f), _field(v * np.array([1, -1, 1.0]), sig_f))
                dd = np.arccos(np.clip(XYZ @ XYZ[int(np.argmax(fld))], -1, 1))
                lag = _u(r_eeg, (0.0, 0.015)) * dd / max(dd.max(), 1e-9)
                disc.append({"t": t, "focus": fid, "atom": atom, "amp": amp * pol, "fld": fld,
                             "lag": lag})
        disc.sort(key=lambda d: d["t"])

    # ---- amplitude calibration of the background -------------------------------------------
    clean = np.ones(n, dtype=bool)
    for e in sp_list:
        clean[max(0, int((e["onset"] - 0.5) * fs)):int((e["end"] + 0.5) * fs)] = False
    clean &= w_low < 0.05
    target = _u(r_eeg, prof["amp"])
    scale = target / float(np.median(_typical_p2p(bg, fs, clean)))
    bg *= scale

    # ---- add discharges (µV as drawn, times the static topography) ------------------------
    drows = []
    for d in disc:
        a0, a1 = d["atom"]["span"]
        i0 = max(0, int((d["t"] + a0) * fs))
        i1 = min(n, int((d["t"] + a1) * fs))
        tt = np.arange(i0, i1) / fs - d["t"]
        wv = np.zeros((NCH, i1 - i0))
        for c in np.nonzero(d["fld"])[0]:
            wv[c] = _gauss_sum(tt - d["lag"][c], d["atom"]["comps"])
        wv *= (d["amp"] * d["fld"] * base_g)[:, None]  # static topography, not the drift
        bg[:, i0:i1] += wv
        c = int(np.argmax(np.abs(wv).max(axis=1)))
        tr = np.abs(wv[c])
        k = int(np.argmax(tr))
        pk = tr[k]
        lo_i = k
        while lo_i > 0 and tr[lo_i - 1] >= 0.2 * pk:
            lo_i -= 1
        hi_i = k
        while hi_i < tr.size - 1 and tr[hi_i + 1] >= 0.2 * pk:
            hi_i += 1
        dd_ = float(np.clip((hi_i - lo_i + 1) / fs, 0.02, 0.2))
        drows.append({"onset": round((i0 + lo_i) / fs, 4), "duration": round(dd_, 4),
                      "channel": CHANNELS[c], "peak_uv": round(float(pk) * gain, 2),
                      "focus": int(d["focus"]), "kind": "spike" if dd_ < 0.07 else "sharp",
                      "_morph": d["atom"]["kind"]})

    # ---- normal sleep graphoelements: spindles and vertex waves ------------------------------
    n_sp = n_vt = 0
    cz = XYZ[CI["Cz"]]
    cen = np.exp(-np.arccos(np.clip(XYZ @ cz, -1, 1)) ** 2 / (2 * 0.55**2))
    if prof["spindles"]:
        t = _u(r_eeg, (3.0, 15.0))
        while t < dur - 3:
            if sleep[int(t * fs)] > 0.8 and w_dec[int(t * fs)] == 0:
                m = int(_u(r_eeg, (0.5, 2.0)) * fs)
                tt = np.arange(m) / fs
                f0 = _u(r_eeg, (12.0, 14.5))
                b = np.sin(2 * np.pi * f0 * tt + r_eeg.uniform(0, 6.3)) * np.hanning(m)
                i0 = int(t * fs)
                bg[:, i0:i0 + m] += _u(r_eeg, (10.0, 35.0)) * cen[:, None] * b[None, : n - i0]
                n_sp += 1
            t += _u(r_eeg, (3.0, 15.0))
    if prof["vertex"]:
        t = _u(r_eeg, (5.0, 30.0))
        while t < dur - 2:
            if sleep[int(t * fs)] > 0.7 and w_dec[int(t * fs)] == 0:
                m = int(0.5 * fs)
                tt = np.arange(m) / fs - 0.15
                vw = _gauss_sum(tt, [(-1.0, 0.0, 0.035), (0.45, 0.12, 0.06), (-0.2, -0.08, 0.03)])
                i0 = int(t * fs)
                bg[:, i0:i0 + m] += (_u(r_eeg, (50.0, 150.0)) * cen ** 1.5)[:, None] * vw[None, :]
                n_vt += 1
            t += _u(r_eeg, (10.0, 40.0))

    # ---- attenuation episodes and suppressions: switch to the low-power regime -------------
    s_low *= scale
    lowp = low * s_low * np.sqrt(w_low)[None, :]
    eeg = np.sqrt(1 - w_low)[None, :] * bg + lowp
    eeg_base = eeg.copy()  # gain-1 brain signal without spasms and artifacts (for BASED)

    # ---- spasms: wave atom, sharp transient, decrement (low regime), fast activity ----------
    for e in sp_list:
        pa, pb = _pre(e["onset"], fs)
        s0 = max(0, pa - int(3 * fs))
        s1 = min(n, int((e["end"] + 3.0) * fs))
        seg_b = _band(eeg[:, s0:s1], 0.5, 30.0, fs)[:, pa - s0:pb - s0]
        q = np.percentile(seg_b, [5, 95], axis=1)
        pre_bg = float(np.median(q[1] - q[0]))
        pre_sd = _band(eeg[:, s0:s1], 2.0, 30.0, fs, order=4)[:, pa - s0:pb - s0].std(axis=1)
        seg = eeg[:, s0:s1].copy()
        add = np.zeros_like(seg)  # wave and fast activity, not scaled by the correction
        lowc = np.zeros_like(seg)  # the low-regime part of the decrement
        if e["has_dec"]:
            i0, w = _window(n, fs, e["dec_on"], 0.15, e["plateau"], e["rec"])
            i1 = i0 + w.size
            j0, j1 = i0 - s0, i1 - s0
            if e["fast"]:
                m = w.size + int(fs)
                fa = _band(r_spasm.standard_normal(m), e["fast_f"] - 2, e["fast_f"] + 2, fs)
                fa = fa[: w.size] / max(fa.std(), 1e-9) * np.hanning(w.size)
                add[:, j0:j1] += (e["fast_uv"] / 2.0) * (0.6 + 0.4 * cen)[:, None] * fa[None, :]
            lsd = _band(low[:, max(0, i0 - int(fs)):min(n, i1 + int(fs))], 2.0, 30.0, fs,
                        order=4).std(axis=1)
            sc = e["depth"] * pre_sd / np.maximum(lsd, 1e-12)
            seg[:, j0:j1] *= np.sqrt(1 - w)[None, :]
            lowc[:, j0:j1] = np.sqrt(w)[None, :] * sc[:, None] * low[:, i0:i1]
        if e["has_wave"]:
            fw = e["field_w"]
            org = int(np.argmax(fw + 1e-3 * XYZ[:, 2]))
            dd = DIST[org]
            delay = e["lag_ms"] / 1000.0 * dd / max(dd.max(), 1e-9)
            m = int((e["wave_s"] + 0.3) * fs)
            tt = np.arange(m) / fs
            tau = (tt[None, :] - delay[:, None]) / e["wave_s"]
            wv = fw[:, None] * _wave_shape(tau, e["biphasic"], e["skew"])
            if e["sharp"]:
                sw = _u(r_spasm, (0.01, 0.025))
                wv += -0.35 * fw[:, None] * np.exp(-0.5 * ((tt[None, :] - 0.03 - delay[:, None])
                                                          / sw) ** 2)
            comp = e["ratio"] * pre_bg * wv / max(float(np.ptp(wv, axis=1).max()), 1e-12)
            j0 = int(e["onset"] * fs) - s0
            j1 = min(s1 - s0, j0 + m)
            add[:, j0:j1] += e["polarity"] * comp[:, : j1 - j0]
        k = 1.0
        if e["has_dec"]:  # one correction of the low-regime level for the wave's leakage
            loc = {**e, "onset": e["onset"] - s0 / fs, "dec_on": e["dec_on"] - s0 / fs}
            xr_loc = _band(seg + lowc + add, 2.0, 30.0, fs, order=4)
            res, _ = measure_decrement(xr_loc, fs, loc["onset"], loc["dec_on"], e["plateau"])
            k = float(np.clip(e["depth"] / max(res, 1e-6), 0.3, 3.0))
        eeg[:, s0:s1] = seg + k * lowc + add
    # ---- artifacts -----------------------------------------------------------------------
    x = eeg.copy()
    t_ax = np.arange(n) / fs
    art: dict[str, Any] = {}
    hum = 50.0 if r_art.random() < 0.5 else 60.0
    if hum < fs / 2:
        x += r_art.uniform(0.5, 4.0, (NCH, 1)) * np.sin(2 * np.pi * hum * t_ax[None, :]
                                                        + r_art.uniform(0, 6.3, (NCH, 1)))
    art["mains_hz"] = hum
    fp = np.array([1.0 if c in ("Fp1", "Fp2") else 0.4 if c in ("F3", "F4", "F7", "F8") else
                   0.2 if c == "Fz" else 0.0 for c in CHANNELS])
    horiz = np.array([1.0 if c == "F7" else -1.0 if c == "F8" else 0.5 if c == "Fp1" else
                      -0.5 if c == "Fp2" else 0.0 for c in CHANNELS])
    n_bl = n_em = 0
    if prof["blinks"]:
        t = _u(r_art, (1.0, 10.0))
        while t < dur - 2:
            j = int(t * fs)
            if sleep[j] < 0.3:
                if r_art.random() < 0.7:
                    m = int(_u(r_art, (0.2, 0.5)) * fs)
                    x[:, j:j + m] += _u(r_art, (80.0, 300.0)) * fp[:, None] * np.hanning(m)
                    n_bl += 1
                else:
                    m = int(_u(r_art, (0.5, 2.0)) * fs)
                    box = np.minimum(1.0, np.minimum(np.arange(m), m - np.arange(m))
                                     / (0.08 * fs))
                    x[:, j:j + m] += (_u(r_art, (40.0, 150.0)) * (1 if r_art.random() < 0.5
                                                                  else -1)
                                      * horiz[:, None] * box[None, :])
                    n_em += 1
            t += _u(r_art, (3.0, 20.0))
    art["blinks"], art["eye_movements"] = n_bl, n_em
    temporal = np.array([1.0 if c in ("F7", "F8", "T3", "T4", "T5", "T6") else
                         0.4 if c in ("Fp1", "Fp2", "O1", "O2") else 0.15 for c in CHANNELS])
    moves: list[tuple[float, float]] = []
    t = _u(r_art, (5.0, 60.0))
    while t < dur - 6:
        if sleep[int(t * fs)] < 0.5 or r_art.random() < 0.3:
            moves.append((t, _u(r_art, (0.5, 4.0))))
        t += _u(r_art, (20.0, 150.0))
    for t0, d in moves:
        i0, m = int(t0 * fs), int(d * fs)
        slow = _band(r_art.standard_normal((NCH, m + int(fs))), None, 2.5, fs)[:, :m]
        slow = slow / max(slow.std(), 1e-9) * _u(r_art, (40.0, 200.0))
        mus = _band(r_art.standard_normal((NCH, m + int(fs))), 25.0, min(100.0, 0.45 * fs),
                    fs)[:, :m]
        mus = mus / max(mus.std(), 1e-9) * _u(r_art, (5.0, 25.0)) * temporal[:, None]
        x[:, i0:i0 + m] += (slow + mus) * np.hanning(m)[None, :]
    pops = []
    for _ in range(int(r_art.integers(0, 6) * minutes / 10.0)):
        c = int(r_art.integers(NCH))
        t0 = _u(r_art, (1.0, dur - 3.0))
        i0 = int(t0 * fs)
        x[c, i0:] += (_u(r_art, (50.0, 300.0)) * (1 if r_art.random() < 0.5 else -1)
                      * np.exp(-np.arange(n - i0) / (_u(r_art, (0.1, 0.8)) * fs)))
        pops.append({"onset": round(t0, 3), "channel": CHANNELS[c]})
    art["pops"] = pops
    bad: dict[str, str] = {}
    ub = r_art.random()
    if ub < 0.25:
        c = int(r_art.integers(NCH))
        if ub < 0.1:
            x[c] = 0.01 * x[c] + 0.3 * r_art.standard_normal(n)
            bad[CHANNELS[c]] = "flat"
        elif ub < 0.2:
            x[c] += _u(r_art, (20.0, 60.0)) * _band(r_art.standard_normal(n), 1.0, None, fs)
            if hum < fs / 2:
                x[c] += _u(r_art, (10.0, 40.0)) * np.sin(2 * np.pi * hum * t_ax)
            bad[CHANNELS[c]] = "noisy"
        else:
            drift_c = np.cumsum(r_art.standard_normal(n)) / math.sqrt(fs)
            x[c] += _u(r_art, (30.0, 80.0)) * _band(drift_c, 0.1, 2.0, fs) / max(
                _band(drift_c, 0.1, 2.0, fs).std(), 1e-9)
            bad[CHANNELS[c]] = "poor_contact"
    for e in sp_list:  # muscle and movement on the EEG during spasms (spasm stream)
        if not e["emg_drawn"]:
            continue
        i0 = int(max(0.0, e["onset"] + e["emg_lead"]) * fs)
        m = min(int(e["emg_dur"] * fs), n - i0)
        if e["eeg_muscle"]:
            mus = _band(r_sp.standard_normal((NCH, m + int(fs))), 25.0, min(100.0, 0.45 * fs),
                        fs)[:, :m]
            x[:, i0:i0 + m] += (_u(r_sp, (5.0, 25.0)) * temporal[:, None] * mus
                                / max(mus.std(), 1e-9) * np.hanning(m)[None, :])
        if e["eeg_move"]:
            sl = _band(r_sp.standard_normal((NCH, m + int(fs))), None, 2.0, fs)[:, :m]
            x[:, i0:i0 + m] += (sl / max(sl.std(), 1e-9) * _u(r_sp, (20.0, 100.0))
                                * np.hanning(m)[None, :])
    x *= gain

    # ---- measured labels ----------------------------------------------------------------
    good = [i for i, c in enumerate(CHANNELS) if c not in bad]
    xb = _band(x[good], 0.5, 30.0, fs)
    xr = _band(x[good], 2.0, 30.0, fs, order=4)
    rows, details = [], []
    for e in sp_list:
        ratio, ch, depth, dec_s = measure_spasm(xb, xr, fs, e, e["plateau"])
        onset = e["onset"] if e["has_wave"] else e["dec_on"]
        end = e["end"] if e["has_dec"] else e["wave_end"]
        rows.append({
            "onset": round(onset, 4), "duration": round(end - onset, 4),
            "trial_type": e["type"], "cluster": e["cluster"], "wave_ratio": round(ratio, 4),
            "field": e["field"] if e["has_wave"] else "generalized",
            "lag_ms": round(e["lag_ms"], 2) if e["has_wave"] else 0.0,
            "sharp": "true" if (e["sharp"] and e["has_wave"]) else "false",
            "decrement_depth": round(depth, 4), "decrement_s": round(dec_s, 3),
            "fast_activity": "true" if (e["fast"] and e["has_dec"]) else "false",
            "emg": "true" if (emg and e["emg_drawn"]) else "false",
        })
        details.append({
            "onset": onset, "has_wave": e["has_wave"], "has_dec": e["has_dec"],
            "wave_end": e["wave_end"], "dec_on": e["dec_on"], "plateau_s": e["plateau"],
            "recovery_s": e["rec"], "target_ratio": e["ratio"] if e["has_wave"] else None,
            "target_depth": e["depth"] if e["has_dec"] else None, "polarity": e["polarity"],
            "biphasic": e["biphasic"], "wave_s": e["wave_s"],
            "field_max_channel": CHANNELS[good[ch]] if ch >= 0 else None,
            "fast_hz": round(e["fast_f"], 2) if e["fast"] and e["has_dec"] else None,
        })
    ev_cols = ["onset", "duration", "trial_type", "cluster", "wave_ratio", "field", "lag_ms",
               "sharp", "decrement_depth", "decrement_s", "fast_activity", "emg"]
    events = pd.DataFrame(rows, columns=ev_cols)
    discharges = pd.DataFrame(drows, columns=["onset", "duration", "channel", "peak_uv",
                                              "focus", "kind"])
    arows = [{"onset": round(a["onset"], 4), "duration": round(a["duration"], 4),
              "depth": round(measure_attenuation(xb, fs, a["onset"], a["duration"]), 4)}
             for a in att_list]
    atts = pd.DataFrame(arows, columns=["onset", "duration", "depth"])

    # ---- intended BASED -------------------------------------------------------------------
    bip = np.vstack([eeg_base[CI[a]] - eeg_base[CI[b]] for a, b in BIPOLAR])
    ep = min(300.0, dur)
    high: dict[int, bool] = {}
    bip_max = 0.0
    for s0 in np.arange(0.0, max(dur - ep, 0.0) + 1e-6, 15.0):
        i0, i1 = int(s0 * fs), int((s0 + ep) * fs)
        v = float(_typical_p2p(bip[:, i0:i1], fs, clean[i0:i1]).max())
        bip_max = max(bip_max, v)
        high[int(s0)] = v > HIGH_AMP_UV and not prof["phys_hv"]
    d_on = np.array([r["onset"] for r in drows]) if drows else np.zeros(0)
    d_fo = np.array([r["focus"] for r in drows]) if drows else np.zeros(0)
    a_on = np.array([a["onset"] for a in att_list]) if att_list else np.zeros(0)
    based, based_info = based_from_truth(d_on, d_fo, a_on, high, prof["abnormal"], dur)

    # ---- EDF (+ EMG) ----------------------------------------------------------------------
    signals = [_edf_signal(x[i], fs, f"EEG {c}-REF") for i, c in enumerate(CHANNELS)]
    n_emg = 0
    if emg:
        n_emg = 2 if r_emg.random() < 0.7 else 1
        bursts = [{"onset": max(0.0, e["onset"] + e["emg_lead"]), "dur": e["emg_dur"],
                   "amp": e["emg_amp"]} for e in sp_list if e["emg_drawn"]]
        extra = [(_u(r_emg, (1.0, dur - 6.0)), _u(r_emg, (0.3, 3.0)))
                 for _ in range(int(r_emg.integers(2, 12) * minutes / 10.0))]
        em = _emg(r_emg, n, fs, n_emg, bursts, moves + extra)
        for i, lab in enumerate(["EMG DELT-L", "EMG DELT-R"][:n_emg]):
            signals.append(_edf_signal(em[i], fs, lab))
    stem = _stem(background, seed, minutes, emg, spasms, gain, plain)
    case = Case(out / f"{stem}_eeg.edf", out / f"{stem}_events.tsv",
                out / f"{stem}_discharges.tsv", out / f"{stem}_attenuations.tsv",
                out / f"{stem}_truth.json")
    edfio.Edf(signals, data_record_duration=1.0).write(case.edf)
    events.to_csv(case.events, sep="\t", index=False)
    discharges.to_csv(case.discharges, sep="\t", index=False)
    atts.to_csv(case.attenuations, sep="\t", index=False)
    morph: dict[str, int] = {}
    for r in drows:
        morph[r["_morph"]] = morph.get(r["_morph"], 0) + 1
    truth = {
        "generator": "sixth", "background": background,
        "hypsarrhythmic": BACKGROUNDS[background], "intended_based": int(based),
        "based_detail": based_info, "gain": gain, "sfreq": fs, "minutes": minutes,
        "emg": emg, "spasms": spasms, "plain": plain, "n_spasms": len(rows),
        "n_clusters": len({r["cluster"] for r in rows if r["cluster"] > 0}),
        "n_discharges": len(drows), "n_attenuations": len(arows), "seed": seed,
        "channels": CHANNELS + (["DELT-L", "DELT-R"][:n_emg] if emg else []),
        "n_emg": n_emg, "bad_channels": bad,
        "foci_channels": [CHANNELS[int(np.argmax(XYZ @ f))] for f in foci],
        "ref_p2p_uv_gain1": round(float(np.median(_typical_p2p(eeg_base, fs, clean))), 1),
        "bipolar_p2p_max_uv_gain1": round(bip_max, 1),
        "sleep_segments": [[round(a, 1), round(b, 1), s] for a, b, s in segs],
        "n_spindles": n_sp, "n_vertex_transients": n_vt,
        "burst_suppression_bursts": [[round(a, 2), round(b, 2)] for a, b in bs_on],
        "artifacts": {**art, "movements": [[round(a, 2), round(b, 2)] for a, b in moves]},
        "model": {"kind": "regime-switching MVAR (modal form) + waveform atoms",
                  "order": ORDER, "library": lib_tag,
                  "regimes": {k: v["params"] for k, v in regs.items()},
                  "pole_drift_sd": round(pd_sig, 4), "gain_drift_log_sd": round(gsig, 3),
                  "asymmetry_factor": round(asym_f, 3), "scale": round(scale, 3),
                  "discharge_morphology": morph},
        "spasm_details": details,
    }
    case.truth.write_text(json.dumps(truth, indent=1, default=_json_default))
    return case


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(type(o))


def _edf_signal(x: np.ndarray, fs: float, label: str) -> edfio.EdfSignal:
    """An EDF signal in µV with a symmetric physical range that does not clip."""
    lim = float(max(10.0, math.ceil(np.abs(x).max() * 1.05 + 1.0)))
    return edfio.EdfSignal(x.astype(np.float64), fs, label=label, physical_dimension="uV",
                           physical_range=(-lim, lim))


# --------------------------------------------------------------------------------------------
# Self-check
# --------------------------------------------------------------------------------------------


def check_labels(out_dir: str | Path) -> pd.DataFrame:
    """Re-measure every spasm from the written EDF and compare with the events table."""
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
        return np.abs(a.astype(float) - b.astype(float)) / np.maximum(
            np.abs(b.astype(float)), 1e-9)

    return {
        "n": int(len(df)),
        "ratio_edf_vs_label_median_relerr": float(np.median(rel(w["ratio_edf"],
                                                                w["ratio_label"]))),
        "ratio_label_over_wave_component_median": float(np.median(
            w["ratio_label"].astype(float) / w["ratio_target"].astype(float))),
        "depth_edf_vs_label_median_abserr": float(np.median(np.abs(
            dcm["depth_edf"] - dcm["depth_label"]))),
        "depth_label_vs_target_median_abserr": float(np.median(np.abs(
            dcm["depth_label"] - dcm["depth_target"]))),
        "dec_s_edf_vs_label_median_abserr": float(np.median(np.abs(
            dcm["dec_s_edf"] - dcm["dec_s_label"]))),
        "field_channel_agreement": float(df["field_ch_ok"].mean()),
        "onsets_in_range": float(df["onset_in_range"].mean()),
    }


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Write a varied set of recordings and OUT/manifest.tsv."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
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
