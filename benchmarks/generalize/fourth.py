"""Fourth synthetic infant-EEG generator: cortical dipole sources, a spherical lead field and real
children's EEG as backgrounds, with hypsarrhythmia, epileptic spasms and artifacts of known truth.

Physical principle
------------------
The scalp EEG is not drawn channel by channel. A recording has 40 cortical patches (mirrored
pairs over both hemispheres, 0.65-0.8 of the head radius, each a disc of radial dipoles of 25 deg
angular radius) whose activity is modelled as time series: 1/f noise, delta and theta activity with
slowly changing per-patch amplitude, a posterior dominant rhythm, sleep spindles, vertex waves and
K-complexes. Interictal spikes and sharp waves come from separate focus patches; a spasm's slow
wave comes from a set of patches chosen by its field (a deep midline source for a vertex field, both
hemispheres for a generalized one, one hemisphere, or one small patch), each with its own lag.
Every dipole reaches the 19 electrodes of the 10-20 system through the potential of a dipole in a
three-shell sphere (brain/skull/scalp radii 0.87/0.92/1, skull conductivity 1/80: the Legendre
series of the homogeneous-sphere potential with each degree scaled by its shell factor), referred to
linked mastoids, so spatial correlation, volume conduction and reference contamination arise from
geometry. Blinks and eye movements come from dipoles at the eyes. Electrodecrements, paroxysmal
attenuations and arousal voltage drops multiply the source activity. The `*_real` backgrounds use
the recorded EEG of 7-12-year-old children (resampled, rescaled to infant voltages, cross-faded;
their own blinks and 50 Hz mains hum are kept, the hum is not rescaled).

Truth is written as tables (spasms, discharges, attenuation episodes) and a JSON summary with the
BASED grade that the drawn events imply. See README_fourth.md for the ranges and their sources.

Usage: ``python fourth.py OUT --n 5 --seed 0 [--minutes 10] [--emg]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
import zlib
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import edfio
import numpy as np
from scipy import signal
from scipy.ndimage import gaussian_filter1d

CHANNELS = ("Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T3", "C3", "Cz", "C4", "T4",
            "T5", "P3", "Pz", "P4", "T6", "O1", "O2")
# 10-20 positions: (azimuth in degrees, + = right of the nose; arc from the vertex / 180 degrees)
_LAYOUT = {
    "Fp1": (-18, .511), "Fp2": (18, .511), "F7": (-54, .511), "F3": (-39, .333),
    "Fz": (0, .256), "F4": (39, .333), "F8": (54, .511), "T3": (-90, .511), "C3": (-90, .256),
    "Cz": (0, 0.0), "C4": (90, .256), "T4": (90, .511), "T5": (-126, .511), "P3": (-141, .333),
    "Pz": (180, .256), "P4": (141, .333), "T6": (126, .511), "O1": (-162, .511),
    "O2": (162, .511),
}
_Q = 3.29  # 5-95 % range of a Gaussian signal in standard deviations
_PDR_BAND = (3.5, 6.5)


def _spec(**kw) -> dict:
    base = dict(hyps=False, real=None, state="wake", bb=(25, 45), delta_w=(20, 45),
                delta_s=(60, 110), theta_w=(15, 35), theta_s=(15, 30), pdr=(20, 50), env=(0.2, 0.4),
                sync=(0.0, 0.15), foci=(0, 0), rate=(0.0, 0.0), bilat=(0.0, 0.0),
                consistent=False, asym=None, atten=False, frag=False, bs=False, abnormal=False)
    base.update(kw)
    return base


_HYPS = dict(hyps=True, bb=(50, 90), delta_w=(200, 380), delta_s=(200, 380), theta_w=(40, 80),
             theta_s=(40, 80), pdr=None, env=(0.55, 0.85), foci=(4, 8), rate=(0.4, 3.0),
             bilat=(0.0, 0.1), abnormal=True)
_SPECS = {
    "hyps_classic": _spec(**_HYPS),
    "hyps_asymmetric": _spec(**_HYPS, asym=(0.35, 0.6)),
    "hyps_attenuation": _spec(**_HYPS, atten=True),
    "hyps_focus": _spec(**{**_HYPS, "foci": (3, 5)}, consistent=True),
    "hyps_sleep_fragmented": _spec(**_HYPS, state="sleep", frag=True),
    "hyps_slow": _spec(**{**_HYPS, "delta_w": (250, 400), "delta_s": (250, 400),
                          "foci": (3, 6), "rate": (0.08, 0.3)}),
    "hyps_synchronous": _spec(**{**_HYPS, "sync": (0.55, 0.85), "bilat": (0.3, 0.6)}),
    "hyps_real": _spec(**{**_HYPS, "bb": (0, 0), "theta_w": (20, 45)}, real=(35, 60)),
    "normal_wake": _spec(),
    "normal_sleep": _spec(state="sleep"),
    "sleep_hv_slow": _spec(state="sleep", delta_s=(200, 320), sync=(0.7, 0.9)),
    "focal_spikes": _spec(foci=(1, 2), rate=(0.05, 0.5)),
    "multifocal_sparse": _spec(foci=(3, 5), rate=(0.1, 0.25)),
    "burst_suppression": _spec(bb=(40, 70), delta_w=(120, 220), theta_w=(40, 80), pdr=None,
                               bs=True, abnormal=True),
    "diffuse_slowing": _spec(delta_w=(70, 110), theta_w=(10, 25), pdr=None, abnormal=True),
    "real_child": _spec(real=(45, 75), bb=(0, 0), delta_w=(0, 0), theta_w=(0, 0), pdr=None),
}
BACKGROUNDS: dict[str, bool] = {name: s["hyps"] for name, s in _SPECS.items()}


@dataclass
class Case:
    edf: Path
    events: Path
    discharges: Path
    attenuations: Path
    truth: Path


# ----------------------------------------------------------------------------------- geometry
def _unit(az_deg: float, arc: float) -> np.ndarray:
    th, az = np.deg2rad(arc * 180.0), np.deg2rad(az_deg)
    return np.array([np.sin(th) * np.sin(az), np.sin(th) * np.cos(az), np.cos(th)])


ELECTRODES = np.array([_unit(*_LAYOUT[c]) for c in CHANNELS])


@lru_cache(maxsize=4)
def _shell_factors(nmax: int = 80, radii=(0.87, 0.92, 1.0), cond=(1.0, 1 / 80, 1.0)) -> tuple:
    """Per-degree ratio f_n of the scalp potential in a brain/skull/scalp sphere to that in a
    homogeneous sphere (boundary conditions of the potential solved degree by degree)."""
    r1, r2, _ = radii
    s1, s2, s3 = cond
    fn = [1.0]
    for n in range(1, nmax + 1):
        a = np.array([
            [r1**n, -(r1**n), -(r1 ** -(n + 1)), 0, 0],
            [s1 * n * r1 ** (n - 1), -s2 * n * r1 ** (n - 1), s2 * (n + 1) * r1 ** -(n + 2), 0, 0],
            [0, r2**n, r2 ** -(n + 1), -(r2**n), -(r2 ** -(n + 1))],
            [0, s2 * n * r2 ** (n - 1), -s2 * (n + 1) * r2 ** -(n + 2), -s3 * n * r2 ** (n - 1),
             s3 * (n + 1) * r2 ** -(n + 2)],
            [0, 0, 0, n, -(n + 1)]])
        y = np.array([-(r1 ** -(n + 1)), s1 * (n + 1) * r1 ** -(n + 2), 0, 0, 0])
        x = np.linalg.solve(a, y)
        fn.append((x[3] + x[4]) * n / (2 * n + 1))
    return tuple(fn)


def _lead_field(elec: np.ndarray, pos: np.ndarray, mom: np.ndarray) -> np.ndarray:
    """Scalp potential (E, D) at unit-sphere electrodes of current dipoles (positions `pos`,
    moments `mom`) in a three-shell sphere: Legendre series of the homogeneous-sphere potential,
    each degree scaled by the skull factor f_n (arbitrary units)."""
    fn = _shell_factors()
    b = np.linalg.norm(pos, axis=1)
    u0 = pos / b[:, None]
    x = np.clip(elec @ u0.T, -1.0, 1.0)
    pr = (mom * u0).sum(1)[None, :]
    pe = elec @ mom.T - x * pr  # moment along the great circle towards the electrode, times sin
    v = np.zeros_like(x)
    p_prev, p, dp_prev, dp = np.ones_like(x), x.copy(), np.zeros_like(x), np.ones_like(x)
    bn = np.ones_like(b)[None, :]
    for n in range(1, len(fn)):
        v += fn[n] * (2 * n + 1) / n * bn * (n * pr * p + pe * dp)
        p_prev, p = p, ((2 * n + 1) * x * p - n * p_prev) / (n + 1)
        dp_prev, dp = dp, dp_prev + (2 * n + 1) * p_prev
        bn = bn * b[None, :]
    return v


def _patch(pos: np.ndarray, ext_deg: float, m: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Radial dipoles spread over a cortical patch of angular radius ext_deg around pos."""
    rad = np.linalg.norm(pos)
    c = pos / rad
    a = np.cross(c, [0.31, 0.52, 0.79])
    a /= np.linalg.norm(a)
    b = np.cross(c, a)
    j = np.arange(m) + 0.5
    th = np.deg2rad(ext_deg) * np.sqrt(j / m)
    ph = j * 2.39996
    u = (np.cos(th)[:, None] * c + np.sin(th)[:, None] * (np.cos(ph)[:, None] * a
                                                          + np.sin(ph)[:, None] * b))
    return u * rad, u / m


class _Head:
    """Electrodes, linked-mastoid reference and the mixing of dipoles to referential channels."""

    def __init__(self, rng: np.random.Generator):
        az = 105 + rng.uniform(-8, 8)
        self.ref = np.array([_unit(-az, 0.64), _unit(az, 0.64)])

    def mix(self, pos: np.ndarray, mom: np.ndarray) -> np.ndarray:
        pos, mom = np.atleast_2d(pos), np.atleast_2d(mom)
        return _lead_field(ELECTRODES, pos, mom) - _lead_field(self.ref, pos, mom).mean(0)

    def patches(self, centres, ext_deg: float, sign: float = 1.0) -> np.ndarray:
        """Fields (19, K) of radial patches (outward current for sign +1) centred at centres."""
        cols = []
        for c in np.atleast_2d(centres):
            pos, mom = _patch(c, ext_deg)
            cols.append(self.mix(pos, sign * mom).sum(1))
        return np.stack(cols, axis=1)

    def pattern(self, centres, ext_deg: float = 20.0, sign: float = 1.0):
        """Summed field of patches, +1 at its largest channel; returns (field, channel index)."""
        p = self.patches(centres, ext_deg, sign).sum(1)
        k = int(np.argmax(np.abs(p)))
        return p / p[k], k


def _cap_point(rng, radius, max_arc=100.0, side=0, min_x=0.0) -> np.ndarray:
    """Random point on the upper head (arc from vertex < max_arc deg); side -1 left, +1 right."""
    while True:
        v = rng.standard_normal(3)
        v /= np.linalg.norm(v)
        if np.degrees(np.arccos(v[2])) > max_arc:
            continue
        if side and (v[0] * side < min_x):
            continue
        return v * radius


def _background_sources(rng, n_pairs=20) -> np.ndarray:
    """Centres of mirrored pairs of cortical patches (left half first, then right)."""
    left = np.array([_cap_point(rng, rng.uniform(0.65, 0.8), 105, -1, 0.08)
                     for _ in range(n_pairs)])
    right = left * np.array([-1, 1, 1]) + rng.normal(0, 0.03, left.shape)
    return np.concatenate([left, right])


# ---------------------------------------------------------------------------------- time series
def _noise(rng, rows: int, n: int, fs: float, amp_fn) -> np.ndarray:
    """Rows of Gaussian noise with spectral amplitude amp_fn(f) (rows x freqs or freqs)."""
    f = np.fft.rfftfreq(n, 1.0 / fs).astype(np.float32)
    z = np.empty((rows, f.size), np.complex64)
    z.real = rng.standard_normal((rows, f.size), dtype=np.float32)
    z.imag = rng.standard_normal((rows, f.size), dtype=np.float32)
    z *= np.asarray(amp_fn(f), np.float32)
    x = np.fft.irfft(z, n=n, axis=1).astype(np.float32)
    x /= x.std(axis=1, keepdims=True) + 1e-12
    return x


def _band(lo_hp: float, f: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + (lo_hp / np.maximum(f, 1e-3)) ** 4)


def _slow(rng, rows: int, n: int, fs: float, tau: float, rate: float = 4.0) -> np.ndarray:
    """Slowly varying unit-variance Gaussian processes (time scale tau s), linearly upsampled."""
    m = max(int(n / fs * rate) + 4, int(8 * tau * rate))
    z = gaussian_filter1d(rng.standard_normal((rows, m)), max(tau * rate, 0.5), axis=1,
                          mode="wrap")
    z /= z.std(axis=1, keepdims=True) + 1e-12
    pos = np.arange(n) * (rate / fs)
    i = pos.astype(np.int64)
    w = (pos - i).astype(np.float32)
    return (z[:, i] * (1 - w) + z[:, i + 1] * w).astype(np.float32)


def _lognorm_env(z: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(sigma * z - 0.5 * sigma**2).astype(np.float32)


def _add(x: np.ndarray, i0: int, blk: np.ndarray) -> None:
    n, m = x.shape[-1], blk.shape[-1]
    a, b = max(i0, 0), min(i0 + m, n)
    if a < b:
        x[..., a:b] += blk[..., a - i0:b - i0]


def _ramp_box(n: int, fs: float, t0: float, dur: float, up: float, down: float) -> tuple:
    """Index range and shape (0..1) of a plateau with cosine ramps (up at start, down at end)."""
    i0 = int(round(t0 * fs))
    m = max(int(round(dur * fs)), 2)
    t = np.arange(m) / fs
    s = np.ones(m, np.float32)
    ru, rd = max(up, 1.0 / fs), max(down, 1.0 / fs)
    s = np.minimum(s, 0.5 - 0.5 * np.cos(np.pi * np.clip(t / ru, 0, 1)))
    s = np.minimum(s, 0.5 - 0.5 * np.cos(np.pi * np.clip((dur - t) / rd, 0, 1)))
    return i0, s.astype(np.float32)


def _attenuate(g: np.ndarray, fs, t0, dur, depth, up, down) -> None:
    i0, s = _ramp_box(g.size, fs, t0, dur, up, down)
    a, b = max(i0, 0), min(i0 + s.size, g.size)
    if a < b:
        g[a:b] *= 1.0 - (1.0 - depth) * s[a - i0:b - i0]


def _hf_noise(rng, m: int, fs: float, lo: float = 20.0) -> np.ndarray:
    hi = min(150.0, 0.45 * fs)
    sos = signal.butter(4, [lo, hi], "bandpass", fs=fs, output="sos")
    x = signal.sosfilt(sos, rng.standard_normal(m + 64))[64:]
    return (x / (x.std() + 1e-12)).astype(np.float32)


# ----------------------------------------------------------------------------- waveforms
def _discharge_wave(rng, fs: float, dur: float) -> np.ndarray:
    """Spike or sharp wave: main surface-negative peak of width `dur` (minimum -1), a positive
    undershoot and, often, an after-going slow wave."""
    slow_d = rng.uniform(0.15, 0.35) if rng.random() < 0.6 else 0.0
    t = np.arange(int((1.5 * dur + slow_d + 0.05) * fs) + 2) / fs
    rise = dur * rng.uniform(0.35, 0.5)
    up = np.sin(0.5 * np.pi * np.clip(t / rise, 0, 1)) ** 2
    down = np.cos(0.5 * np.pi * np.clip((t - rise) / (dur - rise), 0, 1)) ** 2
    w = -np.where(t < rise, up, down)
    w += rng.uniform(0.15, 0.35) * np.exp(-0.5 * ((t - 1.15 * dur) / (0.25 * dur)) ** 2)
    if slow_d:
        u = np.clip((t - 1.3 * dur) / slow_d, 0, 1)
        w -= rng.uniform(0.2, 0.5) * np.sin(np.pi * u)
    return (w / -w.min()).astype(np.float32)


def _slow_wave(rng, fs: float, dur: float, biphasic: bool, sharp: bool) -> np.ndarray:
    u = np.arange(max(int(dur * fs), 4)) / (dur * fs)
    if biphasic:
        p, r = rng.uniform(0.35, 0.6), rng.uniform(0.3, 0.8)
        w = np.where(u < p, np.sin(np.pi * u / p), -r * np.sin(np.pi * (u - p) / (1 - p)))
    else:
        w = np.sin(np.pi * u ** rng.uniform(0.7, 1.4)) ** rng.uniform(1.0, 2.0)
    if sharp:
        tc, wid = rng.uniform(0.02, 0.3) * dur, rng.uniform(0.012, 0.025)
        t = u * dur
        w = w + rng.uniform(0.4, 0.8) * np.exp(-0.5 * ((t - tc) / wid) ** 2)
    return w.astype(np.float32)


def _lagged(patterns: np.ndarray, w: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Sum over dipoles k of field patterns[:, k] times waveform w delayed by lags[k] samples."""
    out = np.zeros((patterns.shape[0], w.size + int(lags.max()) + 1), np.float32)
    for k, lag in enumerate(lags):
        out[:, lag:lag + w.size] += np.outer(patterns[:, k], w)
    return out


def _field_dipoles(rng, field: str) -> tuple[np.ndarray, np.ndarray]:
    """Positions and weights of the dipoles that carry a spasm (or mimic) slow wave."""
    if field == "vertex":
        pos = [np.array([0, rng.uniform(-0.15, 0.1), rng.uniform(0.35, 0.55)])]
        pos += [_cap_point(rng, 0.7, 35) for _ in range(rng.integers(0, 3))]
    elif field == "generalized":
        pos = [np.array([0, rng.uniform(-0.1, 0.15), rng.uniform(0.25, 0.4)])]
        pos += [_cap_point(rng, rng.uniform(0.6, 0.75), 80) for _ in range(rng.integers(4, 9))]
    elif field in ("lateralized_left", "lateralized_right"):
        side = -1 if field.endswith("left") else 1
        pos = [np.array([side * 0.3, rng.uniform(-0.1, 0.1), 0.3])]
        pos += [_cap_point(rng, rng.uniform(0.6, 0.75), 95, side, 0.2)
                for _ in range(rng.integers(3, 6))]
        contra = [_cap_point(rng, 0.7, 90, -side, 0.2) for _ in range(rng.integers(1, 3))]
    else:  # focal
        c = _cap_point(rng, 0.72, 95)
        pos = [c] + [c + rng.normal(0, 0.06, 3) for _ in range(rng.integers(0, 2))]
    pos = np.array(pos)
    wts = rng.uniform(0.5, 1.0, len(pos))
    if field.startswith("lateralized"):
        pos = np.concatenate([pos, np.array(contra)])
        wts = np.concatenate([wts, rng.uniform(0.15, 0.4, len(contra))])
    return pos, wts


# --------------------------------------------------------------------------------- real EEG
def _real_dir() -> Path:
    here = Path(__file__).resolve()
    for p in (os.environ.get("FOURTH_REAL_DIR"), here.parents[2] / "shared/data/real/children_19ch",
              here.parents[3] / "shared/data/real/children_19ch"):
        if p and Path(p).is_dir():
            return Path(p)
    raise FileNotFoundError("real children's EEG not found; set FOURTH_REAL_DIR")


@lru_cache(maxsize=16)
def _read_real(path: str) -> tuple[np.ndarray, float]:
    edf = edfio.read_edf(path)
    by = {s.label.replace("EEG", "").strip().upper(): s for s in edf.signals}
    fs = by["CZ"].sampling_frequency
    x = np.stack([by[c.upper()].data for c in CHANNELS]).astype(np.float64)
    return x - np.median(x, axis=1, keepdims=True), fs


def _real_background(rng, n: int, fs: float) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Concatenated, cross-faded real EEG at rate fs: (eeg without hum, 50 Hz hum, files)."""
    files = sorted(_real_dir().glob("*.edf"))
    eeg = np.zeros((19, 0), np.float32)
    hum = np.zeros((19, 0), np.float32)
    used: list[str] = []
    xf = int(fs)  # 1-s cross-fade
    fade = (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, xf))).astype(np.float32)
    for idx in rng.permutation(len(files)):
        x, fr = _read_real(str(files[idx]))
        sos = signal.butter(2, 0.3, "highpass", fs=fr, output="sos")
        x = signal.sosfiltfilt(sos, x, axis=1)
        b, a = signal.iirnotch(50.0, 20.0, fr)
        clean = signal.filtfilt(b, a, x, axis=1)
        ratio = Fraction(fs / fr).limit_denominator(200)
        parts = [signal.resample_poly(y, ratio.numerator, ratio.denominator, axis=1)
                 .astype(np.float32) for y in (clean, x - clean)]
        if not used:
            off = int(rng.uniform(0, 0.3) * parts[0].shape[1])
            parts = [p[:, off:] for p in parts]
        else:
            for acc, p in ((eeg, parts[0]), (hum, parts[1])):
                acc[:, -xf:] = acc[:, -xf:] * fade[::-1] + p[:, :xf] * fade
            parts = [p[:, xf:] for p in parts]
        eeg = np.concatenate([eeg, parts[0]], axis=1)
        hum = np.concatenate([hum, parts[1]], axis=1)
        used.append(files[idx].name)
        if eeg.shape[1] >= n:
            break
    if eeg.shape[1] < n:
        raise ValueError("not enough real EEG for the requested length")
    return eeg[:, :n], hum[:, :n], used


# ------------------------------------------------------------------------------- generation
class _Gen:
    def __init__(self, seed, background, minutes, emg, spasms, sfreq, gain, plain=False):
        if background not in _SPECS:
            raise ValueError(f"unknown background {background!r}; one of {list(_SPECS)}")
        if abs(sfreq - round(sfreq)) > 1e-9 or sfreq < 64:
            raise ValueError("sfreq must be an integer >= 64 Hz (1-s EDF records)")
        self.bg, self.sp = background, _SPECS[background]
        self.fs = float(round(sfreq))
        self.T = max(int(round(minutes * 60)), 20)
        self.n = int(self.T * self.fs)
        self.seed, self.minutes, self.emg, self.spasms, self.gain = seed, minutes, emg, spasms, gain
        self.plain = plain
        ss = np.random.SeedSequence([seed, zlib.crc32(background.encode())])
        names = ("geom", "bg", "disc", "state", "spasm", "mimic", "art", "emg", "move", "emg_sp")
        kids = ss.spawn(len(names))
        self.r = {k: np.random.default_rng(s) for k, s in zip(names, kids, strict=True)}
        self.head = _Head(self.r["geom"])
        self.params: dict = {}
        self.discharges: list[dict] = []
        self.attenuations: list[dict] = []
        self.events: list[dict] = []
        self.mimics: list[dict] = []
        self.movements: list[tuple[float, float, str]] = []  # (onset, duration, kind)

    # -- state: wake (w=1) or NREM sleep (w=0), possibly waking up during the recording
    def state(self):
        r, n = self.r["state"], self.n
        self.w = np.ones(n, np.float32)
        self.t_wake = None
        if self.sp["state"] == "sleep":
            self.w[:] = 0.0
            if r.random() < 0.7 and self.T >= 60:
                self.t_wake = float(r.uniform(0.55, 0.85) * self.T)
                i0, m = int(self.t_wake * self.fs), int(r.uniform(4, 10) * self.fs)
                self.w[i0:] = 1.0
                self.w[i0:i0 + m] = np.linspace(0, 1, m, dtype=np.float32)[: n - i0]
        self.params["t_wake"] = self.t_wake
        self.asleep = self.w < 0.5

    def _times(self, r, rate_per_min: float, mask=None) -> np.ndarray:
        t = np.sort(r.uniform(1, self.T - 2, r.poisson(rate_per_min * self.T / 60)))
        if mask is not None and t.size:
            t = t[mask[(t * self.fs).astype(int)]]
        return t

    # -- background activity of the cortical sources
    def background(self) -> np.ndarray:
        sp, r, n, fs = self.sp, self.r["bg"], self.n, self.fs
        neural = np.zeros((19, n), np.float32)
        self.hum = np.zeros((19, n), np.float32)
        if sp["real"]:
            eeg, hum, used = _real_background(r, n, fs)
            q = np.percentile(eeg[:, ::5], [5, 95], axis=1)
            target = r.uniform(*sp["real"])
            neural += eeg * np.float32(target / np.median(q[1] - q[0]))
            neural += r.normal(0, 0.5, neural.shape).astype(np.float32)  # hides quantization
            self.hum = hum
            self.params.update(real_files=used, real_range_uv=round(target, 1))
        pos = _background_sources(self.r["geom"])
        mix = self.head.patches(pos, 25.0)
        nsrc = pos.shape[0]
        wts = np.ones(nsrc, np.float32)
        if sp["asym"]:
            side = int(r.choice([-1, 1]))
            f = r.uniform(*sp["asym"])
            wts[pos[:, 0] * side > 0] = f
            self.params.update(asym_side="left" if side < 0 else "right",
                               asym_source_factor=round(f, 3))
        ramp = 1.0 - self.w  # sleep weight
        glob = np.ones(n, np.float32)
        if sp["frag"]:
            glob = self._fragments(r, glob)
        if sp["bs"]:
            glob = self._burst_suppression(r)
        self.glob = glob

        def add(x, lo_hi_w, lo_hi_s):
            k = _Q * np.median((mix @ x[:, ::4]).std(axis=1)) + 1e-9
            aw = r.uniform(*lo_hi_w) if lo_hi_w else 0.0
            as_ = r.uniform(*lo_hi_s) if lo_hi_s else aw
            amp = np.float32(aw / k) if sp["state"] == "wake" else (aw * self.w + as_ * ramp) / k
            neural[:] += (mix @ x) * (amp * glob)
            return round(aw, 1), round(as_, 1)

        if sp["bb"][1] > 0:
            beta = r.uniform(1.5, 2.2, (nsrc, 1)).astype(np.float32)
            x = _noise(r, nsrc, n, fs, lambda f: _band(0.4, f) * np.maximum(f, 0.3) ** (-beta / 2)
                       / (1 + (f / 45.0) ** 6))
            self.params["bb_uv"] = add(x * wts[:, None], sp["bb"], None)[0]
        env_sigma = r.uniform(*sp["env"])
        sync = r.uniform(*sp["sync"])
        for name, fc, width in (("delta", r.uniform(0.8, 1.8), None),
                                ("theta", r.uniform(4.0, 6.5), 1.3)):
            rng_w, rng_s = sp[name + "_w"], sp[name + "_s"]
            if rng_w[1] <= 0:
                continue
            if width is None:
                def shape(f, fc=fc):
                    lf = np.log(np.maximum(f, 0.05) / fc)
                    return _band(0.3, f) * np.exp(-0.5 * (lf / 0.5) ** 2)
            else:
                def shape(f, fc=fc, width=width):
                    return np.exp(-0.5 * ((f - fc) / width) ** 2)
            own = _noise(r, nsrc, n, fs, shape)
            pair = _noise(r, nsrc // 2, n, fs, shape)
            common = _noise(r, 1, n, fs, shape)
            shared = np.concatenate([pair, pair]) * 0.6 + common * 0.8
            x = np.sqrt(1 - sync) * own + np.sqrt(sync) * shared
            tau = r.uniform(0.5, 3.0)
            z = _slow(r, nsrc, n, fs, tau)
            zs = _slow(r, nsrc // 2, n, fs, tau)
            z = np.sqrt(1 - sync) * z + np.sqrt(sync) * np.concatenate([zs, zs])
            x *= _lognorm_env(z, env_sigma) * wts[:, None]
            self.params[name + "_uv"] = add(x, rng_w, rng_s)
        self.params.update(env_sigma=round(env_sigma, 2), sync=round(sync, 2))
        if sp["pdr"] and self.w.max() > 0:
            post = np.where(pos[:, 1] < -0.35)[0]
            fp = r.uniform(*_PDR_BAND)
            x = np.zeros((nsrc, n), np.float32)
            x[post] = _noise(r, post.size, n, fs, lambda f: np.exp(-0.5 * ((f - fp) / 0.35) ** 2))
            x[post] *= _lognorm_env(_slow(r, post.size, n, fs, 1.5), 0.6)
            k = _Q * np.median((mix @ x[:, ::4]).std(axis=1)) + 1e-9
            a = r.uniform(*sp["pdr"])
            neural += (mix @ x) * (a / k * self.w * glob)
            self.params.update(pdr_hz=round(fp, 2), pdr_uv=round(a, 1))
        if sp["state"] == "sleep":
            self._sleep_graphoelements(neural)
        return neural

    def _fragments(self, r, glob):
        """NREM fragmentation of hypsarrhythmia: bursts of 2-10 s, lower-voltage gaps of 1-5 s."""
        t = 0.0
        while t < self.T:
            t += r.uniform(2, 10)
            d = r.uniform(1, 5)
            i0, i1 = int(t * self.fs), int((t + d) * self.fs)
            seg = self.asleep[i0:i1]
            glob[i0:i1][seg] = r.uniform(0.25, 0.5)
            t += d
        return gaussian_filter1d(glob, 0.1 * self.fs).astype(np.float32)

    def _burst_suppression(self, r):
        glob = np.zeros(self.n, np.float32)
        t, resid = r.uniform(0, 3), r.uniform(0.04, 0.12)
        while t < self.T:
            b, s = r.uniform(1, 6), r.uniform(2, 12)
            i0, i1 = int(t * self.fs), int((t + b) * self.fs)
            glob[i0:i1] = 1.0
            if t + b + s < self.T:
                self.attenuations.append(dict(onset=t + b, duration=s, depth=resid))
            t += b + s
        glob = np.maximum(glob, resid)
        return gaussian_filter1d(glob, 0.08 * self.fs).astype(np.float32)

    def _sleep_graphoelements(self, neural):
        """Spindles (asynchronous, central), vertex waves and K-complexes during NREM sleep."""
        r, fs, h = self.r["bg"], self.fs, self.head
        rate_scale = 0.5 if self.sp["hyps"] else 1.0
        sp_l, _ = h.pattern([-0.4, 0.0, 0.6], 25.0)
        sp_r, _ = h.pattern([0.4, 0.0, 0.6], 25.0)
        for t0 in self._times(r, r.uniform(3, 8) * rate_scale, self.asleep):
            d, fq = r.uniform(1.0, 3.0), r.uniform(12.0, 14.5)
            tt = np.arange(int(d * fs)) / fs
            w = np.sin(2 * np.pi * fq * tt) * np.sin(np.pi * tt / d) ** 2
            side = r.integers(0, 3)
            p = (sp_l, sp_r, sp_l + sp_r)[side]
            _add(neural, int(t0 * fs), np.outer(p, w * r.uniform(8, 20)).astype(np.float32))
        vx, _ = h.pattern([0, -0.05, 0.6], 30.0)
        for t0 in self._times(r, r.uniform(2, 6) * rate_scale, self.asleep):
            w = _discharge_wave(r, fs, r.uniform(0.1, 0.25)) * r.uniform(50, 150)
            _add(neural, int(t0 * fs), np.outer(vx, w).astype(np.float32))
            self.mimics.append(dict(onset=round(t0, 3), kind="vertex_wave"))
        for t0 in self._times(r, r.uniform(0.5, 2.0) * rate_scale, self.asleep):
            d = r.uniform(0.5, 1.0)
            u = np.arange(int(d * fs)) / (d * fs)
            w = np.where(u < 0.3, -np.sin(np.pi * u / 0.3), 0.7 * np.sin(np.pi * (u - 0.3) / 0.7))
            kc, _ = h.pattern([0, 0.2, 0.55], 35.0)
            _add(neural, int(t0 * fs), np.outer(kc, w * r.uniform(100, 200) / 1.7)
                 .astype(np.float32))
            self.mimics.append(dict(onset=round(t0, 3), kind="k_complex"))

    # -- interictal discharges from focus dipoles
    def discharges_(self, neural):
        sp, r, fs = self.sp, self.r["disc"], self.fs
        nf = int(r.integers(sp["foci"][0], sp["foci"][1] + 1))
        if nf == 0:
            return
        foci, chans = [], set()
        for _ in range(200):
            c = _cap_point(r, r.uniform(0.65, 0.8), 100)
            ext = r.uniform(20, 35)
            p, k = self.head.pattern(c, ext, -1.0)
            if k not in chans:
                chans.add(k)
                foci.append((p, k, c, ext))
            if len(foci) == nf:
                break
        nf = len(foci)
        rate = r.uniform(*sp["rate"]) if sp["rate"][1] > 0 else 0.0
        bilat = r.uniform(*sp["bilat"])
        act = _lognorm_env(_slow(r, nf, self.T + 2, 1.0, r.uniform(10, 60), 1.0), 1.0)
        if sp["consistent"]:
            act[0] = act[1:].sum(0) * r.uniform(1.2, 3.0)  # one focus carries 55-75 %
        self.params.update(n_foci=nf, discharge_rate=round(rate, 3), bilateral=round(bilat, 2))
        times = np.sort(r.uniform(0.5, self.T - 1, r.poisson(rate * self.T)))
        keep = self.glob[(times * fs).astype(int)]
        times = times[r.random(times.size) < keep / max(float(self.glob.max()), 1e-6)]
        bil: dict[int, tuple] = {}  # bilateral synchronous field of each focus and its mirror
        for t0 in times:
            a = act[:, int(t0)]
            fi = int(r.choice(nf, p=a / a.sum()))
            p, k, c, ext = foci[fi]
            focus = fi
            if r.random() < bilat:
                if fi not in bil:
                    bil[fi] = self.head.pattern([c, c * np.array([-1, 1, 1])], ext, -1.0)
                p, k = bil[fi]
                focus = -1
            dur = r.uniform(0.02, 0.07) if r.random() < 0.55 else r.uniform(0.07, 0.2)
            amp = r.uniform(120, 320) if sp["hyps"] else r.uniform(80, 250)
            w = _discharge_wave(r, fs, dur) * amp
            _add(neural, int(round(t0 * fs)), np.outer(p, w).astype(np.float32))
            self.discharges.append(dict(onset=t0, duration=dur, channel=CHANNELS[k], peak_uv=amp,
                                        focus=focus, kind="spike" if dur < 0.07 else "sharp"))

    # -- paroxysmal attenuations and arousals (multiplicative gain g on the neural signal)
    def gains(self):
        g = np.ones(self.n, np.float32)
        if self.sp["atten"]:
            r = self.r["bg"]
            t = r.uniform(5, 25)
            while t < self.T - 5:
                d, depth = r.uniform(1, 4), r.uniform(0.1, 0.3)
                _attenuate(g, self.fs, t, d, depth, 0.15, 0.3)
                self.attenuations.append(dict(onset=t, duration=d, depth=depth))
                t += r.uniform(10, 40)
        r = self.r["mimic"]
        if self.sp["state"] == "sleep":
            for t0 in self._times(r, r.uniform(0.1, 0.3), self.asleep):
                if self._near_spasm(t0, 20):
                    continue
                d, depth = r.uniform(3, 15), r.uniform(0.3, 0.7)
                _attenuate(g, self.fs, t0, d, depth, 0.3, 0.8)
                self.mimics.append(dict(onset=round(t0, 3), kind="arousal", duration=round(d, 2)))
                if r.random() < 0.7:
                    self.movements.append((t0 + r.uniform(0, 1), r.uniform(1, 4), "arousal"))
        return g

    # -- spasm schedule: always drawn (same stream), rendered only when spasms=True
    def schedule(self):
        r, T = self.r["spasm"], self.T
        n_cl = max(1, int(round(r.uniform(2, 4) * T / 600))) if T >= 150 else 1
        start = 12.0
        if self.t_wake is not None and r.random() < 0.7 and T - self.t_wake > 60:
            start = self.t_wake + r.uniform(3, 20)
        slot = (T - 10 - start) / n_cl
        sched: list[tuple[float, int]] = []
        for c in range(n_cl):
            s0 = start + c * slot + (r.uniform(0, min(30, slot * 0.2)) if c else 0.0)
            n_sp, t = int(r.integers(3, 21)), s0
            k = 0
            while k < n_sp and t < start + (c + 1) * slot - 10:
                sched.append((t, c + 1))
                t += r.uniform(5, 30)
                k += 1
        for _ in range(int(r.integers(0, 3))):
            t0 = r.uniform(12, T - 12)
            if all(abs(t0 - s) > 45 for s, _ in sched):
                sched.append((t0, 0))
        self.sched = sorted(sched)
        if self.sp["real"] and not self.sched:
            self.sched = [(T / 2, 0)]
        self.prot = dict(field=r.choice(["generalized", "vertex", "lateralized_left",
                                         "lateralized_right", "focal"],
                                        p=[0.45, 0.2, 0.1, 0.1, 0.15]),
                         pol=1 if r.random() < 0.65 else -1)

    def _near_spasm(self, t0, margin):
        return any(abs(t0 - s) < margin for s, _ in getattr(self, "sched", []))

    def _local_bg(self, neural, g, added, t0):
        a, b = max(int((t0 - 10) * self.fs), 0), max(int(t0 * self.fs), 1)
        seg = neural[:, a:b] * g[a:b] + added[:, a:b]
        q = np.percentile(seg, [5, 95], axis=1)
        return float(np.median(q[1] - q[0]))

    def _wave(self, r, field, dur, biphasic, sharp, pol, lag_ms):
        pos, wts = _field_dipoles(r, field)
        pat = self.head.patches(pos, r.uniform(15, 30)) * wts
        lags = (r.uniform(0, lag_ms, len(wts)) / 1000 * self.fs).astype(int)
        lags[0] = 0
        blk = _lagged(pat, _slow_wave(r, self.fs, dur, biphasic, sharp), lags)
        k = int(np.argmax(np.ptp(blk, axis=1)))
        sign = np.sign(blk[k, np.argmax(np.abs(blk[k]))]) or 1.0
        return blk * (pol * sign / np.ptp(blk[k]))  # unit peak-to-peak at the largest channel

    def spasms_(self, neural, g, added):
        r, fs = self.r["spasm"], self.fs
        forms = ("spasm", "spasm_wave_only", "spasm_decrement_only")
        last_end = -1e9
        for t_on, cl in self.sched:
            t_on = max(t_on, last_end + 1.5)
            if t_on > self.T - 9:
                break
            form = str(r.choice(forms, p=[0.75, 0.125, 0.125]))
            field = self.prot["field"] if r.random() < 0.75 else str(
                r.choice(["generalized", "vertex", "lateralized_left", "lateralized_right",
                          "focal"]))
            pol = self.prot["pol"] if r.random() < 0.85 else -self.prot["pol"]
            dur, ratio = r.uniform(0.3, 1.5), float(np.exp(r.uniform(np.log(0.8), np.log(4))))
            biphasic, sharp, lag = r.random() < 0.4, r.random() < 0.3, r.uniform(0, 50)
            depth, dec_s = r.uniform(0.1, 0.6), r.uniform(0.5, 6.0)
            fast = r.random() < 0.5
            moves = r.random() < 0.9
            emg_d, emg_lat = r.uniform(0.5, 2.0), r.uniform(-0.15, 0.1)
            if self.plain:  # the reference spasm (the draws above keep every stream aligned)
                form, field, pol, dur, ratio = "spasm", "generalized", 1, 0.8, 2.5
                biphasic, sharp, lag, depth, dec_s, fast = False, False, 0.0, 0.25, 2.0, False
            has_wave, has_dec = form != "spasm_decrement_only", form != "spasm_wave_only"
            if not self.spasms:
                continue
            bg = self._local_bg(neural, g, added, t_on)
            t_dec, end = t_on, t_on
            if has_wave:
                blk = self._wave(r, field, dur, biphasic, sharp, pol, lag) * (ratio * bg)
                _add(added, int(round(t_on * fs)), blk)
                t_dec, end = t_on + dur * r.uniform(0.6, 1.0), t_on + dur
            if has_dec:
                _attenuate(g, fs, t_dec, dec_s, depth, 0.12, min(1.0, 0.3 * dec_s))
                end = max(end, t_dec + dec_s)
                if fast:
                    fq, fd = r.uniform(10, 30), r.uniform(0.3, min(2.0, dec_s))
                    tt = np.arange(int(fd * fs)) / fs
                    w = np.sin(2 * np.pi * fq * tt) * np.sin(np.pi * tt / fd) ** 2
                    c = _cap_point(r, 0.7, 60)
                    p, _ = self.head.pattern([c, c * np.array([-1, 1, 1])], 25.0)
                    amp = r.uniform(0.08, 0.25) * bg
                    _add(added, int((t_dec + r.uniform(0, 0.3)) * fs),
                         np.outer(p, w * amp / 2).astype(np.float32))
            if moves:
                self.movements.append((t_on + emg_lat, emg_d, "spasm"))
            self.events.append(dict(
                onset=t_on, duration=end - t_on, trial_type=form, cluster=cl,
                wave_ratio=ratio if has_wave else 0.0, field=field if has_wave else "generalized",
                lag_ms=lag if has_wave else 0.0, sharp=bool(sharp and has_wave),
                decrement_depth=depth if has_dec else 1.0, decrement_s=dec_s if has_dec else 0.0,
                fast_activity=bool(fast and has_dec), emg=bool(moves and self.emg)))
            last_end = end

    def mimic_transients(self, neural, g, added):
        """Isolated high-voltage slow transients without decrement or movement (not spasms)."""
        r = self.r["mimic"]
        for t0 in self._times(r, r.uniform(0.2, 0.6)):
            if self._near_spasm(t0, 15) or t0 < 12:
                continue
            field = str(r.choice(["generalized", "vertex", "focal"]))
            ratio = r.uniform(1.0, 2.5)
            bg = self._local_bg(neural, g, added, t0)
            blk = self._wave(r, field, r.uniform(0.3, 1.2), r.random() < 0.4, False,
                             1 if r.random() < 0.5 else -1, r.uniform(0, 40))
            _add(added, int(t0 * self.fs), blk * (ratio * bg))
            self.mimics.append(dict(onset=round(t0, 3), kind="hv_slow_transient",
                                    ratio=round(ratio, 2)))

    # -- artifacts (not attenuated by decrements)
    def artifacts(self) -> np.ndarray:
        r, fs, n = self.r["art"], self.fs, self.n
        art = np.zeros((19, n), np.float32)
        if not self.sp["real"]:
            mains = 50.0 if r.random() < 0.5 else 60.0
            if mains < 0.45 * fs:
                base = np.exp(r.uniform(np.log(0.5), np.log(15)))
                a = base * np.exp(r.normal(0, 0.6, 19))
                ph = r.normal(0, 0.3, 19)
                drift = 1 + 0.2 * _slow(r, 1, n, fs, 20.0, 0.5)[0]
                wt = 2 * np.pi * mains * np.arange(n) / fs
                s1, c1 = (np.sin(wt) * drift).astype(np.float32), (np.cos(wt) * drift)
                self.hum = np.outer(a * np.cos(ph), s1) + np.outer(a * np.sin(ph), c1)
                if 3 * mains < 0.45 * fs:
                    self.hum += 0.1 * np.outer(a, np.sin(3 * wt))
                self.hum = self.hum.astype(np.float32)
                self.params.update(mains_hz=mains, mains_uv=round(float(base), 2))
            awake = self.w > 0.5
            eyes = np.array([[-0.3, 0.75, -0.3], [0.3, 0.75, -0.3]])
            blink = self.head.mix(eyes, np.array([[0, 0.3, 1.0], [0, 0.3, 1.0]])).sum(1)
            blink /= np.abs(blink).max()
            for t0 in self._times(r, r.uniform(2, 12), awake):
                d = r.uniform(0.2, 0.45)
                w = np.sin(np.pi * np.arange(int(d * fs)) / (d * fs)) ** 2 * r.uniform(60, 200)
                _add(art, int(t0 * fs), np.outer(blink, w).astype(np.float32))
            horiz = self.head.mix(eyes, np.array([[1.0, 0, 0], [1.0, 0, 0]])).sum(1)
            horiz /= np.abs(horiz).max()
            for t0 in self._times(r, r.uniform(0.5, 4), awake):
                d = r.uniform(0.3, 2.0)
                m = int((d + 0.4) * fs)
                w = gaussian_filter1d(np.r_[np.ones(int(d * fs)), np.zeros(m - int(d * fs))],
                                      0.03 * fs) * r.uniform(20, 80) * r.choice([-1, 1])
                _add(art, int(t0 * fs), np.outer(horiz, w).astype(np.float32))
        for t0 in self._times(r, r.uniform(0.1, 0.4)):
            self.movements.append((t0, r.uniform(1, 5), "movement"))
        for t0 in self._times(r, r.uniform(0.1, 0.5), self.w > 0.5):
            self._muscle(r, art, t0, r.uniform(1, 8), r.uniform(10, 50))
        for t0 in self._times(r, r.uniform(0, 0.4)):
            tau, m = r.uniform(0.1, 1.0), int(r.uniform(1.0, 3.0) * fs)
            w = np.exp(-np.arange(m) / (tau * fs)) * r.uniform(50, 400) * r.choice([-1, 1])
            _add(art[int(r.integers(19))], int(t0 * fs), w.astype(np.float32))
        u = r.random()
        self.bad = None
        if u < 0.15:
            self.bad = (CHANNELS[int(r.integers(19))], "flat")
        elif u < 0.3:
            i = int(r.integers(19))
            art[i] += _hf_noise(r, n, fs, 1.0) * r.uniform(20, 80)
            self.hum[i] *= r.uniform(3, 8)
            self.bad = (CHANNELS[i], "noisy")
        self.params["bad_channel"] = self.bad
        self.movements.sort()
        rm, rs = self.r["move"], self.r["spasm"]
        for t0, d, kind in self.movements:
            m = int(d * fs)
            if kind == "spasm":  # muscle artifact of the spasm itself, sometimes
                if rs.random() < 0.4:
                    self._muscle(rs, art, t0, d, rs.uniform(10, 40))
                continue
            lo = _noise(rm, 1, max(m, 8), fs, lambda f: _band(0.3, f) / (1 + (f / 3) ** 4))[0]
            chw = np.exp(rm.normal(0, 0.7, 19)) * rm.uniform(100, 500) / 3
            env = np.sin(np.pi * np.arange(m) / m)
            _add(art, int(t0 * fs), np.outer(chw, lo[:m] * env).astype(np.float32))
            self._muscle(rm, art, t0, d, rm.uniform(10, 40))
        return art

    def _muscle(self, r, art, t0, d, rms):
        m = int(d * self.fs)
        chans = r.choice([0, 1, 2, 6, 7, 11, 12, 16], size=int(r.integers(2, 6)), replace=False)
        env = np.sin(np.pi * np.arange(m) / m) ** 0.5
        for c in chans:
            _add(art[c], int(t0 * self.fs), _hf_noise(r, m, self.fs) * env * rms)

    def emg_channels(self) -> np.ndarray:
        r, fs, n = self.r["emg"], self.fs, self.n
        nch = int(r.integers(1, 3))
        out = np.stack([_hf_noise(r, n, fs) * r.uniform(2, 8) for _ in range(nch)])
        for t0, d, kind in self.movements:
            m = int(d * fs)
            rr = self.r["emg_sp"] if kind == "spasm" else r
            if kind == "spasm":
                env = 1 - np.abs(np.linspace(-1, 1, m))  # diamond
                amp = rr.uniform(50, 400)
            else:
                env = np.zeros(m)
                for _ in range(int(rr.integers(2, 6))):
                    c, wd = rr.uniform(0, m), rr.uniform(0.1, 0.4) * m
                    env += rr.uniform(0.3, 1.0) * np.exp(-0.5 * ((np.arange(m) - c) / wd) ** 2)
                amp = rr.uniform(30, 250)
            for c in range(nch):
                side = rr.uniform(0.5, 1.0) if c else 1.0
                _add(out[c], int(t0 * fs), (_hf_noise(rr, m, fs) * env * amp * side)
                     .astype(np.float32))
        return out

    def based(self) -> int:
        """BASED grade implied by the drawn discharges, amplitude and attenuations (most epileptic
        5-min epoch; foci counted as distinct field-maximum channels with >= 2 discharges)."""
        high = self.sp["hyps"]
        att = bool(self.attenuations)
        ep = min(300, self.T)
        on = np.array([d["onset"] for d in self.discharges])
        ch = np.array([d["channel"] for d in self.discharges])
        best = 1 if self.sp["abnormal"] else 0
        for s in range(0, max(self.T - ep, 0) + 1, 15):
            sel = (on >= s) & (on < s + ep) if on.size else np.zeros(0, bool)
            names, counts = np.unique(ch[sel], return_counts=True) if sel.any() else ([], [])
            nf = int(np.sum(np.asarray(counts) >= 2))
            bins = np.zeros(ep, bool)
            if sel.any():
                bins[np.clip((on[sel] - s).astype(int), 0, ep - 1)] = True
            pages = int(np.sum(bins[: ep // 15 * 15].reshape(-1, 15).sum(1) >= 8))
            if nf >= 3 and pages >= max(ep // 15, 1) / 2:
                sc = 5
            elif (nf >= 3 and high) or att:
                sc = 4
            elif nf >= 3 or high:
                sc = 3
            elif nf >= 1:
                sc = 2
            else:
                sc = 1 if self.sp["abnormal"] else 0
            best = max(best, sc)
        return best

    def run(self):
        self.state()
        self.schedule()
        neural = self.background()
        self.discharges_(neural)
        g = self.gains()
        added = np.zeros_like(neural)
        self.mimic_transients(neural, g, added)
        self.spasms_(neural, g, added)
        art = self.artifacts()
        eeg = (neural * g + added + art + self.hum) * np.float32(self.gain)
        if self.bad and self.bad[1] == "flat":
            i = CHANNELS.index(self.bad[0])
            eeg[i] = self.r["art"].normal(0, 0.3, self.n)
        emg = self.emg_channels() if self.emg else None
        return eeg, emg


# ---------------------------------------------------------------------------------- writing
def _write_tsv(path: Path, cols: list[str], rows: list[dict]) -> None:
    def fmt(v):
        if isinstance(v, bool | np.bool_):
            return "true" if v else "false"
        if isinstance(v, float | np.floating):
            return f"{float(v):.4f}".rstrip("0").rstrip(".") if v == v else "n/a"
        return str(v)

    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(cols)
        for row in rows:
            w.writerow([fmt(row[c]) for c in cols])


def _write_edf(path: Path, eeg: np.ndarray, emg: np.ndarray | None, fs: float) -> None:
    sigs = []
    labels = [f"EEG {c}-REF" for c in CHANNELS]
    data = list(eeg)
    if emg is not None:
        labels += ["EMG DELT-L", "EMG DELT-R"][: len(emg)]
        data += list(emg)
    for lab, x in zip(labels, data, strict=True):
        x = np.asarray(x, np.float64)
        lim = float(np.ceil(max(np.abs(x).max() * 1.05, 50.0)))
        sigs.append(edfio.EdfSignal(x, fs, label=lab, physical_dimension="uV",
                                    physical_range=(-lim, lim)))
    edfio.Edf(sigs, data_record_duration=1).write(path)


def generate(out_dir: Path, *, seed: int, background: str, minutes: float = 10.0,
             emg: bool = False, spasms: bool = True, sfreq: float = 256.0,
             gain: float = 1.0, plain: bool = False) -> Case:
    """Draw one recording and write its EDF and truth files into out_dir.

    Deterministic in its arguments. The EEG of a given (seed, background, minutes, sfreq) is the
    same with and without `emg`; with spasms=False the same recording is drawn without the spasms
    (and without their movement artifacts). Truth amplitudes (peak_uv) are as recorded, i.e.
    multiplied by `gain`; wave_ratio and depths are ratios and do not depend on it. With
    `plain`, every spasm is the reference one: a generalized positive 0.8-s wave 2.5 times the
    local background, then a decrement to 25 % for 2 s, no lag, sharp transient or fast
    activity."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    gen = _Gen(seed, background, minutes, emg, spasms, sfreq, gain, plain)
    eeg, emg_x = gen.run()
    stem = f"f4_{background}_s{seed}"
    stem += "" if minutes == 10 else f"_m{minutes:g}"
    stem += "" if sfreq == 256 else f"_fs{sfreq:g}"
    stem += ("_emg" if emg else "") + ("" if spasms else "_nosp")
    stem += ("" if gain == 1 else f"_g{gain:g}") + ("_plain" if plain else "")
    case = Case(*(out_dir / f"{stem}_{s}" for s in
                  ("eeg.edf", "events.tsv", "discharges.tsv", "attenuations.tsv", "truth.json")))
    _write_edf(case.edf, eeg, emg_x, gen.fs)
    _write_tsv(case.events, ["onset", "duration", "trial_type", "cluster", "wave_ratio", "field",
                             "lag_ms", "sharp", "decrement_depth", "decrement_s", "fast_activity",
                             "emg"], gen.events)
    disc = [dict(d, peak_uv=d["peak_uv"] * gain) for d in gen.discharges]
    _write_tsv(case.discharges, ["onset", "duration", "channel", "peak_uv", "focus", "kind"], disc)
    _write_tsv(case.attenuations, ["onset", "duration", "depth"], gen.attenuations)
    truth = dict(generator="fourth", background=background, hypsarrhythmic=BACKGROUNDS[background],
                 intended_based=gen.based(), gain=gain, sfreq=gen.fs, minutes=minutes, emg=emg,
                 spasms=spasms, n_spasms=len(gen.events),
                 n_clusters=len({e["cluster"] for e in gen.events} - {0}),
                 n_discharges=len(gen.discharges), n_attenuations=len(gen.attenuations),
                 seed=seed, n_mimics=len(gen.mimics), mimics=gen.mimics,
                 movements=[dict(onset=round(t, 3), duration=round(d, 3), kind=k)
                            for t, d, k in sorted(gen.movements)],
                 params=gen.params)
    case.truth.write_text(json.dumps(truth, indent=1, default=_json_default))
    return case


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, tuple | np.ndarray):
        return list(o)
    raise TypeError(type(o))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--n", type=int, default=len(BACKGROUNDS),
                    help="number of recordings (cycles through the backgrounds)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--background", choices=list(BACKGROUNDS), default=None)
    ap.add_argument("--emg", action="store_true")
    ap.add_argument("--no-spasms", action="store_true")
    ap.add_argument("--sfreq", type=float, default=256.0)
    ap.add_argument("--gain", type=float, default=1.0)
    a = ap.parse_args(argv)
    names = list(BACKGROUNDS)
    for i in range(a.n):
        bg = a.background or names[i % len(names)]
        t0 = time.process_time()
        case = generate(a.out, seed=a.seed + i, background=bg, minutes=a.minutes, emg=a.emg,
                        spasms=not a.no_spasms, sfreq=a.sfreq, gain=a.gain)
        print(f"{case.edf.name}\t{time.process_time() - t0:.2f} s CPU")


if __name__ == "__main__":
    main()
