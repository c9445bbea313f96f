"""Independent generator of infant EEG with known epileptic spasms and hypsarrhythmia.

Written from the published clinical descriptions only (Gibbs & Gibbs 1952; Hrachovy, Frost &
Kellaway 1984; Fusco & Vigevano 1993; the BASED score, Mytinger et al. 2021; the ILAE definition
of epileptic spasms), never from hypsa's own simulator or detectors, so that hypsa's detectors can
be tested on a drawing they were not fitted on. Every drawing choice, with its range and source,
is listed in ``README_independent.md`` next to this file.

Output of one case: a 19-channel referential EDF (optionally with deltoid EMG), ``events.tsv``
(the spasms), ``discharges.tsv`` (every interictal spike and sharp wave), ``attenuations.tsv``
(paroxysmal voltage attenuation episodes) and ``truth.json`` (background, intended BASED grade,
counts).

Usage::

    python benchmarks/generalize/independent.py OUT --n 20 --seed 0 [--minutes 10]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import zlib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import scipy.fft as sp_fft

CHANNELS: tuple[str, ...] = (
    "Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T3", "C3", "Cz", "C4", "T4",
    "T5", "P3", "Pz", "P4", "T6", "O1", "O2",
)
EDF_LABELS: tuple[str, ...] = tuple(f"EEG {c}-REF" for c in CHANNELS)
EMG_LABELS: tuple[str, ...] = ("EMG DELT-L", "EMG DELT-R")

# Scalp positions on a unit disc (x: left -1 .. right +1, y: occipital -1 .. frontal +1),
# the usual projection of the 10-20 system.
_POS = np.array([
    (-0.31, 0.95), (0.31, 0.95), (-0.81, 0.59), (-0.42, 0.52), (0.0, 0.45), (0.42, 0.52),
    (0.81, 0.59), (-1.0, 0.0), (-0.5, 0.0), (0.0, 0.0), (0.5, 0.0), (1.0, 0.0),
    (-0.81, -0.59), (-0.42, -0.52), (0.0, -0.45), (0.42, -0.52), (0.81, -0.59),
    (-0.31, -0.95), (0.31, -0.95),
])
_IDX = {c: i for i, c in enumerate(CHANNELS)}
_DIST = np.sqrt(((_POS[:, None, :] - _POS[None, :, :]) ** 2).sum(-1))
_LEFT = _POS[:, 0] < -0.05
_RIGHT = _POS[:, 0] > 0.05
_N_CH = len(CHANNELS)

# Longitudinal bipolar ("double banana") montage: BASED measures amplitude on it.
_BIPOLAR = (
    ("Fp1", "F7"), ("F7", "T3"), ("T3", "T5"), ("T5", "O1"),
    ("Fp2", "F8"), ("F8", "T4"), ("T4", "T6"), ("T6", "O2"),
    ("Fp1", "F3"), ("F3", "C3"), ("C3", "P3"), ("P3", "O1"),
    ("Fp2", "F4"), ("F4", "C4"), ("C4", "P4"), ("P4", "O2"),
    ("Fz", "Cz"), ("Cz", "Pz"),
)

HYPS_BACKGROUNDS: tuple[str, ...] = (
    "hyps_classic", "hyps_asymmetric", "hyps_attenuation", "hyps_focus",
    "hyps_sleep_fragmented", "hyps_slow", "hyps_synchronous", "real_child_hyps",
)
OTHER_BACKGROUNDS: tuple[str, ...] = (
    "normal_wake", "normal_sleep", "sync_slow_sleep", "single_focus", "burst_suppression",
    "diffuse_slowing", "real_child",
)
BACKGROUNDS: tuple[str, ...] = HYPS_BACKGROUNDS + OTHER_BACKGROUNDS
REAL_BACKGROUNDS: tuple[str, ...] = ("real_child", "real_child_hyps")

# Grade of the background itself when it carries no spike focus (BASED 0: normal, 1: definite
# non-epileptiform abnormality).
_BASE_GRADE = {
    "normal_wake": 0, "normal_sleep": 0, "sync_slow_sleep": 0, "real_child": 0,
    "diffuse_slowing": 1, "burst_suppression": 1, "single_focus": 0,
}

WAKE, NREM, REM = 0, 1, 2
_STATE_NAMES = {WAKE: "wake", NREM: "nrem", REM: "rem"}

HIGH_AMPLITUDE_UV = 200.0  # BASED "abnormally high amplitude", bipolar peak-to-peak


def real_data_dir() -> Path:
    """Folder of the real children's recordings used by the ``real_child`` backgrounds.

    Returns
    -------
    Path
        ``$HYPSA_REAL_DATA/children_19ch`` when that variable is set, else
        ``<repo>/../shared/data/real/children_19ch``.
    """
    root = os.environ.get("HYPSA_REAL_DATA")
    base = Path(root) if root else Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
    return base / "children_19ch"


@dataclass
class Case:
    """Paths of one generated recording and its ground truth."""

    edf: Path
    events: Path
    discharges: Path
    attenuations: Path
    truth: Path


# --------------------------------------------------------------------------------------------
# small signal helpers
# --------------------------------------------------------------------------------------------


def _band_mask(f: np.ndarray, lo: float, hi: float) -> np.ndarray:
    wl = max(0.15 * lo, 0.08)
    wh = max(0.08 * hi, 0.3)
    return 0.25 * (1 + np.tanh((f - lo) / wl)) * (1 - np.tanh((f - hi) / wh))


def _mixing(length: float) -> np.ndarray:
    """Spatial mixing matrix: a Gaussian kernel over scalp distance, rows of unit norm."""
    w = np.exp(-(_DIST**2) / (2 * length**2))
    return w / np.sqrt((w**2).sum(1, keepdims=True))


def _spec(rng: np.random.Generator, n_ch: int, n: int, fs: float, lo: float, hi: float, *,
          slope: float = 0.0, mix: np.ndarray | None = None) -> np.ndarray:
    """Spectrum of band-limited Gaussian noise whose inverse FFT has unit variance per channel.

    Drawn directly in the frequency domain (only the bins of the band), optionally with a 1/f^slope
    power spectrum and a spatial mixing matrix. Spectra of several bands can be weighted and summed
    before one inverse transform.
    """
    f = np.fft.rfftfreq(n, 1.0 / fs)
    mask = _band_mask(f, lo, hi)
    if slope:
        mask = mask * (np.maximum(f, 0.5 * lo) / lo) ** (-slope / 2)
    idx = np.nonzero(mask > 1e-3 * mask.max())[0]
    m = mask[idx]
    m *= n / (2.0 * np.sqrt(np.sum(m**2)))  # var(irfft) = 4 sum(m^2) / n^2
    z = np.zeros((n_ch, f.size), dtype=np.complex64)
    block = (rng.standard_normal((n_ch, idx.size), dtype=np.float32)
             + 1j * rng.standard_normal((n_ch, idx.size), dtype=np.float32)) * m.astype(np.float32)
    if mix is not None:
        block = mix.astype(np.float32) @ block
    z[:, idx] = block
    return z


def _irfft(z: np.ndarray, n: int) -> np.ndarray:
    return sp_fft.irfft(z, n=n, axis=-1)


def _noise(rng: np.random.Generator, n_ch: int, n: int, fs: float, lo: float, hi: float, *,
           slope: float = 0.0, mix: np.ndarray | None = None) -> np.ndarray:
    """Band-limited Gaussian noise of (expected) unit standard deviation per channel."""
    return _irfft(_spec(rng, n_ch, n, fs, lo, hi, slope=slope, mix=mix), n)


def _slow(rng: np.random.Generator, n_ch: int, n: int, fs: float, tau: float) -> np.ndarray:
    """Slowly varying random process (knots every ``tau`` s, cosine interpolation), ~N(0, 1)."""
    m = int(math.ceil(n / fs / tau)) + 2
    knots = rng.standard_normal((n_ch, m))
    pos = np.arange(n) / (tau * fs)
    k = np.floor(pos).astype(int)
    frac = 0.5 * (1 - np.cos(np.pi * (pos - k)))
    out = knots[:, k] * (1 - frac) + knots[:, k + 1] * frac
    return out / 0.8


def _raised(n: int) -> np.ndarray:
    """Half period of a raised cosine rising from 0 to 1 over ``n`` samples."""
    n = max(int(n), 1)
    return 0.5 * (1 - np.cos(np.pi * (np.arange(n) + 0.5) / n))


def _bump(n_rise: int, n_fall: int) -> np.ndarray:
    """Asymmetric smooth bump peaking at 1."""
    return np.concatenate([_raised(n_rise), _raised(n_fall)[::-1]])


def _add(x: np.ndarray, i0: int, seg: np.ndarray, weights: np.ndarray | None = None) -> None:
    """Add ``seg`` (1-D) starting at sample ``i0`` to rows of ``x`` scaled by ``weights``."""
    n = x.shape[-1]
    a, b = max(i0, 0), min(i0 + seg.size, n)
    if b <= a:
        return
    s = seg[a - i0: b - i0]
    if x.ndim == 1:
        x[a:b] += s
    elif weights is None:
        x[:, a:b] += s
    else:
        x[:, a:b] += weights[:, None] * s[None, :]


def _narrow_noise(rng: np.random.Generator, n: int, fs: float, f0: float, bw: float) -> np.ndarray:
    """A short narrow-band noise around ``f0`` (spindle-like), unit standard deviation."""
    n_fft = max(n, int(2 * fs))
    x = _noise(rng, 1, n_fft, fs, max(f0 - bw, 0.5), f0 + bw)[0]
    return x[:n]


def _gate(n: int, fs: float, spans: list[tuple[float, float]], ramp_s: float) -> np.ndarray:
    """Indicator of the union of time spans with cosine ramps of ``ramp_s`` at each edge."""
    g = np.zeros(n)
    r = max(int(ramp_s * fs), 1)
    up = _raised(r)
    for t0, t1 in spans:
        a, b = int(t0 * fs), int(t1 * fs)
        if b <= 0 or a >= n:
            continue
        seg = np.ones(max(b - a, 1) + 2 * r)
        seg[:r] = up
        seg[-r:] = up[::-1]
        i0 = a - r
        lo, hi = max(i0, 0), min(i0 + seg.size, n)
        g[lo:hi] = np.maximum(g[lo:hi], seg[lo - i0: hi - i0])
    return g


def _field(center: str | int, sigma: float, floor: float = 0.0) -> np.ndarray:
    c = _IDX[center] if isinstance(center, str) else int(center)
    w = np.exp(-(_DIST[c] ** 2) / (2 * sigma**2))
    return floor + (1 - floor) * w


# --------------------------------------------------------------------------------------------
# recording context: time line, states, spasm plan
# --------------------------------------------------------------------------------------------


@dataclass
class _Ctx:
    background: str
    fs: float
    n: int
    minutes: float
    plain: bool
    state_sec: np.ndarray
    wake: np.ndarray = field(default_factory=lambda: np.zeros(0))
    nrem: np.ndarray = field(default_factory=lambda: np.zeros(0))
    rem: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def dur(self) -> float:
        return self.n / self.fs


def _state_weights(ctx: _Ctx) -> None:
    """Per-sample weights of wake / NREM / REM with ~6-s transitions."""
    n_sec = ctx.state_sec.size
    k = 6
    kern = np.ones(k) / k
    t_sec = np.arange(n_sec) + 0.5
    t = np.arange(ctx.n) / ctx.fs
    out = []
    for s in (WAKE, NREM, REM):
        ind = (ctx.state_sec == s).astype(float)
        sm = np.convolve(np.pad(ind, (k // 2, k - 1 - k // 2), mode="edge"), kern, mode="valid")
        out.append(np.interp(t, t_sec, sm))
    ctx.wake, ctx.nrem, ctx.rem = out


def _draw_states(rng: np.random.Generator, background: str, n_sec: int) -> np.ndarray:
    """Sleep-wake time line (one state per second) typical of each background."""
    st = np.zeros(n_sec, dtype=int)
    if background in ("normal_wake", "real_child", "real_child_hyps", "burst_suppression"):
        return st
    if background in ("normal_sleep", "sync_slow_sleep", "hyps_sleep_fragmented"):
        p = {WAKE: 0.12, NREM: 0.78, REM: 0.10}
        first = NREM
    else:
        p = {WAKE: 0.5, NREM: 0.4, REM: 0.1}
        first = WAKE if rng.random() < 0.6 else NREM
    i, s = 0, first
    while i < n_sec:
        seg = {WAKE: rng.uniform(40, 200), NREM: rng.uniform(90, 400), REM: rng.uniform(40, 150)}[s]
        st[i: i + int(seg)] = s
        i += int(seg)
        choices = [k for k in p if k != s]
        w = np.array([p[k] for k in choices])
        s = int(rng.choice(choices, p=w / w.sum()))
    return st


@dataclass
class _Spasm:
    onset: float
    trial_type: str
    cluster: int
    wave_ratio: float
    polarity: str
    phases: int
    field: str
    field_center: str
    lag_ms: float
    sharp: bool
    pre_fast: bool
    wave_s: float
    decrement_depth: float
    decrement_s: float
    decrement_onset: float
    fast_activity: bool
    emg: bool
    # drawing details (not all written)
    d1: float = 0.0
    d2: float = 0.0
    a2: float = 0.0
    rise: float = 0.4
    ramp_down: float = 0.2
    ramp_up: float = 0.5
    fast_f: float = 15.0
    fast_rel: float = 0.08
    weights: np.ndarray = field(default_factory=lambda: np.ones(_N_CH))
    lags: np.ndarray = field(default_factory=lambda: np.zeros(_N_CH))
    wave_peak_uv: float = 0.0
    eeg_muscle: bool = False

    @property
    def end(self) -> float:
        if self.trial_type == "spasm_wave_only":
            return self.onset + self.wave_s
        return max(self.decrement_onset + self.ramp_down / 2 + self.decrement_s + self.ramp_up / 2,
                   self.onset + self.wave_s)


def _plan_clusters(rng: np.random.Generator, dur: float, n_clusters: int | None,
                   plain: bool) -> tuple[list[list[float]], list[float]]:
    """Spasm onset times grouped by cluster, and the isolated spasms."""
    if n_clusters is None:
        k = int(rng.integers(2, 6)) if not plain else 3
        n_clusters = max(1, int(round(k * dur / 600.0)))
    margin0, margin1 = 15.0, 12.0
    avail = dur - margin0 - margin1
    if avail < 20:
        raise ValueError(f"recording of {dur:.0f} s is too short for spasm clusters")
    clusters = []
    for _ in range(n_clusters):
        if plain:
            size = int(rng.integers(4, 7))
            mean_iv = rng.uniform(8, 14)
        else:
            size = 3 + int(rng.poisson(rng.uniform(2, 12)))
            mean_iv = rng.uniform(6, 20)
        size = min(size, 30)
        ivs = np.clip(mean_iv * rng.lognormal(0, 0.25, size - 1), 5.0, 30.0)
        clusters.append(list(ivs))
    gap = 90.0
    while True:
        spans = [float(np.sum(iv)) + 8.0 for iv in clusters]
        need = sum(spans) + gap * (len(clusters) - 1)
        if need <= avail:
            break
        big = int(np.argmax([len(iv) for iv in clusters]))
        if len(clusters[big]) > 2:
            clusters[big].pop()
            continue
        longest = int(np.argmax(spans))
        if max(clusters[longest]) > 5.5:
            clusters[longest] = [max(5.0, v * 0.8) for v in clusters[longest]]
            continue
        if gap > 45:
            gap -= 15
            continue
        raise ValueError(f"{len(clusters)} clusters do not fit in {dur:.0f} s")
    slack = avail - need
    parts = rng.dirichlet(np.ones(len(clusters) + 1)) * slack
    out: list[list[float]] = []
    t = margin0 + parts[0]
    for i, iv in enumerate(clusters):
        times = [t]
        for v in iv:
            times.append(times[-1] + float(v))
        out.append(times)
        t = times[-1] + 8.0 + gap + parts[i + 1]
    iso: list[float] = []
    if not plain:
        n_iso = int(rng.integers(0, 3))
        occupied = [(c[0] - 40, c[-1] + 40) for c in out]
        for _ in range(n_iso):
            for _try in range(20):
                s = rng.uniform(margin0, dur - margin1)
                if all(not (a <= s <= b) for a, b in occupied):
                    iso.append(float(s))
                    occupied.append((s - 40, s + 40))
                    break
    return out, sorted(iso)


def _draw_spasm(rng: np.random.Generator, onset: float, cluster: int, plain: bool,
                emg: bool) -> _Spasm:
    """Draw one spasm's electrographic pattern over the documented ranges."""
    if plain:
        return _Spasm(
            onset=onset, trial_type="spasm", cluster=cluster, wave_ratio=2.5, polarity="positive",
            phases=1, field="generalized", field_center="Cz", lag_ms=0.0, sharp=False,
            pre_fast=False, wave_s=0.8, decrement_depth=0.25, decrement_s=2.0,
            decrement_onset=onset + 0.6, fast_activity=False, emg=emg, d1=0.8, d2=0.0, a2=0.0,
            rise=0.4, ramp_down=0.15, ramp_up=0.4, weights=_field("Cz", 1.6, 0.7),
            lags=np.zeros(_N_CH),
        )
    u = rng.random()
    trial = "spasm_wave_only" if u < 0.12 else ("spasm_decrement_only" if u < 0.25 else "spasm")
    phases = 1 if rng.random() < 0.45 else 2
    polarity = "positive" if rng.random() < 0.7 else "negative"
    d1 = rng.uniform(0.3, 1.0) if phases == 2 else rng.uniform(0.4, 1.5)
    d2 = rng.uniform(0.3, 1.2) if phases == 2 else 0.0
    a2 = rng.uniform(0.4, 1.0) if phases == 2 else 0.0
    wave_s = d1 + d2
    fkind = rng.choice(["generalized", "vertex", "lateralized", "focal"], p=[0.4, 0.25, 0.15, 0.2])
    if fkind == "generalized":
        center = "Cz"
        w = _field("Cz", rng.uniform(1.2, 2.5), rng.uniform(0.5, 0.8))
    elif fkind == "vertex":
        center = "Cz"
        w = _field("Cz", rng.uniform(0.55, 0.9), rng.uniform(0.15, 0.35))
    elif fkind == "lateralized":
        center = str(rng.choice(["C3", "C4"]))
        w = _field(center, rng.uniform(0.6, 0.9), rng.uniform(0.15, 0.35))
        fkind = "lateralized_left" if center == "C3" else "lateralized_right"
    else:
        center = str(rng.choice([c for c in CHANNELS if c not in ("Fp1", "Fp2")]))
        w = _field(center, rng.uniform(0.3, 0.5), rng.uniform(0.1, 0.3))
    lag_ms = float(rng.uniform(0, 50))
    c = _IDX[center]
    lags = lag_ms / 1000 * _DIST[c] / _DIST[c].max() * rng.uniform(0.8, 1.0, _N_CH)
    wave_ratio = float(np.exp(rng.uniform(np.log(0.8), np.log(4.0))))
    depth = float(rng.uniform(0.10, 0.60))
    dec_s = float(np.exp(rng.uniform(np.log(0.5), np.log(6.0))))
    if trial == "spasm_decrement_only":
        wave_ratio, phases, wave_s, d1, d2 = 0.0, 0, 0.0, 0.0, 0.0
        dec_onset = onset
    else:
        dec_onset = onset + rng.uniform(0.5, 1.0) * wave_s
    if trial == "spasm_wave_only":
        depth, dec_s = 1.0, 0.0
    sharp = bool(trial != "spasm_decrement_only" and rng.random() < 0.4)
    pre_fast = bool(trial != "spasm_decrement_only" and rng.random() < 0.3)
    fast = bool(trial != "spasm_wave_only" and rng.random() < 0.5)
    sp = _Spasm(
        onset=onset, trial_type=trial, cluster=cluster, wave_ratio=wave_ratio, polarity=polarity,
        phases=phases, field=str(fkind), field_center=center, lag_ms=lag_ms, sharp=sharp,
        pre_fast=pre_fast, wave_s=wave_s, decrement_depth=depth, decrement_s=dec_s,
        decrement_onset=dec_onset, fast_activity=fast, emg=emg, d1=d1, d2=d2, a2=a2,
        rise=rng.uniform(0.25, 0.5), ramp_down=rng.uniform(0.08, 0.3),
        ramp_up=rng.uniform(0.3, 1.0),
        fast_f=rng.uniform(10, 25), fast_rel=rng.uniform(0.04, 0.12), weights=w, lags=lags,
    )
    sp.eeg_muscle = bool(rng.random() < 0.25)  # the contraction's muscle artifact reaches the EEG
    return sp


def _wake_up_before_clusters(rng: np.random.Generator, st: np.ndarray,
                             clusters: list[list[float]], sleepy: bool) -> None:
    """Spasm clusters often follow awakening: put wake over clusters, sleep just before some.

    On the sleep backgrounds half of the clusters stay in the sleep they fall in.
    """
    has_sleep = bool((st != WAKE).any())
    n_sec = st.size
    wake_spans = []
    for times in clusters:
        if sleepy and rng.random() < 0.5:
            continue
        t0, t1 = int(times[0]), int(times[-1])
        lead = int(rng.uniform(2, 20))
        wake_spans.append((max(t0 - lead, 0), min(t1 + int(rng.uniform(10, 60)), n_sec)))
        if has_sleep and rng.random() < 0.6:
            a = max(t0 - lead - int(rng.uniform(40, 120)), 0)
            st[a: max(t0 - lead, 0)] = NREM
    for a, b in wake_spans:
        if sleepy and (np.sum(st == NREM) - np.sum(st[a:b] == NREM)) / n_sec < 0.4:
            continue  # a sleep recording stays asleep for at least 40 % of its length
        st[a:b] = WAKE


# --------------------------------------------------------------------------------------------
# backgrounds
# --------------------------------------------------------------------------------------------


def _posterior_weights() -> np.ndarray:
    return np.clip(0.15 + 0.85 * (-_POS[:, 1] + 0.2) / 1.15, 0.1, 1.0)


def _normal_bg(rng: np.random.Generator, ctx: _Ctx, *, sleep_delta: float | None = None,
               sleep_mix: float = 0.55, transients: bool = True) -> np.ndarray:
    """Normal infant (3-12 months) EEG following the wake / NREM / REM time line."""
    n, fs = ctx.n, ctx.fs
    post = _posterior_weights()
    centr = _field("Cz", 0.6, 0.15)
    env = np.exp(0.25 * _slow(rng, _N_CH, n, fs, 4.0))
    x = np.zeros((_N_CH, n))
    # wake: mixed delta-theta, posterior dominant rhythm of 4-7 Hz, little beta
    f_pdr = rng.uniform(4.0, 7.0)
    amps = rng.uniform((12, 7, 12, 2), (22, 13, 25, 4))
    if ctx.wake.any():
        z = (amps[0] * _spec(rng, _N_CH, n, fs, 0.5, 3.5, slope=1.0, mix=_mixing(0.5))
             + amps[1] * _spec(rng, _N_CH, n, fs, 3.5, 7.5, mix=_mixing(0.45))
             + amps[3] * _spec(rng, _N_CH, n, fs, 13, 25, mix=_mixing(0.4)))
        pdr = (amps[2] * post[:, None] * _noise(rng, _N_CH, n, fs, f_pdr - 0.6, f_pdr + 0.6,
                                                  mix=_mixing(0.6))
               * np.exp(0.4 * _slow(rng, 1, n, fs, 3.0)))
        x += ctx.wake * (_irfft(z, n) + pdr)
    # NREM: high-voltage delta, posterior and central maxima, more synchronous
    sd = sleep_delta if sleep_delta is not None else rng.uniform(25, 45)
    nrem_w = 0.6 + 0.4 * np.maximum(post, centr)
    a_n = rng.uniform((7, 1.5), (12, 3))
    if ctx.nrem.any():
        z = (sd * nrem_w[:, None] * _spec(rng, _N_CH, n, fs, 0.4, 2.5, slope=1.0,
                                           mix=_mixing(sleep_mix))
             + a_n[0] * _spec(rng, _N_CH, n, fs, 3, 7, mix=_mixing(0.5))
             + a_n[1] * _spec(rng, _N_CH, n, fs, 13, 25))
        x += ctx.nrem * _irfft(z, n)
    # REM (active sleep): low-voltage mixed frequencies, saw-tooth-like theta
    a_r = rng.uniform((10, 8, 2), (16, 13, 4))
    if ctx.rem.any():
        z = (a_r[0] * _spec(rng, _N_CH, n, fs, 0.5, 3.0, slope=1.0, mix=_mixing(0.5))
             + a_r[1] * _spec(rng, _N_CH, n, fs, 3.5, 7, mix=_mixing(0.5))
             + a_r[2] * _spec(rng, _N_CH, n, fs, 13, 25))
        x += ctx.rem * _irfft(z, n)
    x *= env
    if transients:
        _sleep_transients(rng, ctx, x)
    return x


def _sleep_transients(rng: np.random.Generator, ctx: _Ctx, x: np.ndarray) -> None:
    """Spindles, vertex waves, K-complexes in NREM; hypnagogic hypersynchrony on falling asleep."""
    fs, dur = ctx.fs, ctx.dur
    nrem_sec = ctx.state_sec == NREM
    if not nrem_sec.any():
        return

    def in_nrem(t: float) -> bool:
        i = int(t)
        return 0 <= i < nrem_sec.size and bool(nrem_sec[i])

    # sleep spindles: 12-14.5 Hz, 1-4 s, central/vertex maximum, often asynchronous in infancy
    rate = rng.uniform(3, 8) / 60
    for t in np.sort(rng.uniform(0, dur, rng.poisson(rate * dur))):
        if not in_nrem(t):
            continue
        d = rng.uniform(1.0, 4.0)
        m = int(d * fs)
        s = np.sin(2 * np.pi * rng.uniform(12, 14.5) * np.arange(m) / fs + rng.uniform(0, 6.3))
        s *= np.hanning(m) * rng.uniform(15, 45)
        side = rng.random()
        center = "Cz" if side < 0.4 else ("C3" if side < 0.7 else "C4")
        _add(x, int(t * fs), s, _field(center, 0.45, 0.02))
    # vertex sharp waves: surface-negative at the vertex, 150-300 ms, 60-200 uV
    rate = rng.uniform(2, 6) / 60
    for t in np.sort(rng.uniform(0, dur, rng.poisson(rate * dur))):
        if not in_nrem(t):
            continue
        d = rng.uniform(0.15, 0.3)
        m = int(d * fs)
        s = -rng.uniform(60, 200) * _bump(int(m * rng.uniform(0.4, 0.5)), m - int(m * 0.45))
        tail = 0.25 * np.abs(s).max() * np.sin(np.pi * np.arange(int(0.25 * fs)) / (0.25 * fs))
        _add(x, int(t * fs), np.concatenate([s, tail]), _field("Cz", 0.5, 0.05))
    # K-complexes (from ~5 months): negative sharp then positive slow, fronto-central, 0.5-1 s
    rate = rng.uniform(0.3, 2.0) / 60
    for t in np.sort(rng.uniform(0, dur, rng.poisson(rate * dur))):
        if not in_nrem(t):
            continue
        a = rng.uniform(100, 250)
        m1, m2 = int(rng.uniform(0.15, 0.3) * fs), int(rng.uniform(0.4, 0.8) * fs)
        s = np.concatenate([-a * np.sin(np.pi * np.arange(m1) / m1),
                            0.6 * a * np.sin(np.pi * np.arange(m2) / m2)])
        _add(x, int(t * fs), s, _field("Fz", 0.7, 0.15))
    # hypnagogic hypersynchrony: rhythmic generalized 3-5 Hz, 100-250 uV, at sleep onset
    onsets = np.nonzero(np.diff(ctx.state_sec) != 0)[0] + 1
    for i in onsets:
        if ctx.state_sec[i] != NREM or ctx.state_sec[i - 1] != WAKE:
            continue
        for _ in range(int(rng.integers(1, 4))):
            t = i - rng.uniform(0, 30)
            d = rng.uniform(1.5, 8.0)
            m = int(d * fs)
            f0 = rng.uniform(3.0, 5.0)
            s = np.sin(2 * np.pi * f0 * np.arange(m) / fs) * np.hanning(m) * rng.uniform(100, 250)
            _add(x, int(t * fs), s, _field("Cz", 1.3, 0.5))


def _diffuse_slowing(rng: np.random.Generator, ctx: _Ctx) -> np.ndarray:
    n, fs = ctx.n, ctx.fs
    env = np.exp(0.3 * _slow(rng, _N_CH, n, fs, 6.0))
    z = (rng.uniform(35, 55) * _spec(rng, _N_CH, n, fs, 0.4, 3.0, slope=0.7, mix=_mixing(0.6))
         + rng.uniform(10, 18) * _spec(rng, _N_CH, n, fs, 3.0, 7.0, mix=_mixing(0.5))
         + rng.uniform(0.8, 2.0) * _spec(rng, _N_CH, n, fs, 12, 25))
    return _irfft(z, n) * env


def _burst_suppression(rng: np.random.Generator, ctx: _Ctx) -> tuple[np.ndarray, list]:
    n, fs, dur = ctx.n, ctx.fs, ctx.dur
    spans = []
    t = rng.uniform(0, 5)
    while t < dur:
        d = rng.uniform(1.0, 5.0)
        spans.append((t, t + d))
        t += d + rng.uniform(2.0, 12.0)
    g = _gate(n, fs, spans, 0.12)
    burst = _irfft(
        rng.uniform(55, 95) * _spec(rng, _N_CH, n, fs, 0.5, 3.0, slope=0.5, mix=_mixing(0.5))
        + rng.uniform(20, 40) * _spec(rng, _N_CH, n, fs, 3.0, 8.0, mix=_mixing(0.45))
        + rng.uniform(4, 10) * _spec(rng, _N_CH, n, fs, 8.0, 20.0, mix=_mixing(0.6)), n)
    supp = rng.uniform(2.0, 5.0) * _noise(rng, _N_CH, n, fs, 0.5, 20.0, slope=0.5)
    return g * burst + supp, spans


# --------------------------------------------------------------------------------------------
# hypsarrhythmia and interictal discharges
# --------------------------------------------------------------------------------------------


@dataclass
class _HypsPlan:
    delta_sd: float
    mix_len: float
    rate: float  # discharges per second (all foci)
    n_active: int
    sync_share: float = 0.0  # share of bilateral synchronous components / generalized discharges
    asym_side: str = ""
    asym_factor: float = 1.0
    main_focus_share: float = 0.0
    fragment: bool = False
    attenuation: bool = False


def _hyps_plan(rng: np.random.Generator, background: str) -> _HypsPlan:
    if background == "hyps_slow":
        return _HypsPlan(delta_sd=rng.uniform(85, 125), mix_len=rng.uniform(0.25, 0.4),
                         rate=rng.uniform(0.15, 0.4), n_active=int(rng.integers(3, 6)))
    p = _HypsPlan(delta_sd=rng.uniform(65, 110), mix_len=rng.uniform(0.22, 0.38),
                  rate=rng.uniform(1.2, 3.0), n_active=int(rng.integers(4, 9)))
    if background == "hyps_asymmetric":
        p.asym_side = str(rng.choice(["left", "right"]))
        p.asym_factor = rng.uniform(0.35, 0.6)
    elif background == "hyps_synchronous":
        p.mix_len = rng.uniform(0.4, 0.55)
        p.delta_sd = rng.uniform(80, 120)
        p.sync_share = rng.uniform(0.3, 0.5)
    elif background == "hyps_focus":
        p.main_focus_share = rng.uniform(0.4, 0.65)
    elif background == "hyps_sleep_fragmented":
        p.fragment = True
    elif background == "hyps_attenuation":
        p.attenuation = True
        p.rate = rng.uniform(1.0, 2.5)
    return p


def _discharge_shape(rng: np.random.Generator, fs: float, kind: str) -> tuple[np.ndarray, float,
                                                                              bool, int]:
    """Spike (20-70 ms) or sharp wave (70-200 ms) with an opposite-phase overshoot and, sometimes,
    an after-going slow wave. Returns the unit-peak template, main duration, slow-wave flag and the
    sample of the main peak."""
    lo, hi = (0.02, 0.07) if kind == "spike" else (0.07, 0.2)
    m = int(np.clip(round(rng.uniform(lo, hi) * fs), max(math.ceil(lo * fs), 3), int(hi * fs)))
    dur = m / fs
    nr = max(int(round(m * rng.uniform(0.3, 0.45))), 1)
    main = _bump(nr, max(m - nr, 1))
    no = max(int(round(rng.uniform(1.0, 1.6) * dur * fs)), 2)
    over = -rng.uniform(0.15, 0.35) * np.sin(np.pi * (np.arange(no) + 0.5) / no)
    slow = bool(rng.random() < 0.6)
    parts = [main, over]
    if slow:
        ns = int(rng.uniform(0.15, 0.35) * fs)
        parts.append(rng.uniform(0.3, 0.7) * np.sin(np.pi * (np.arange(ns) + 0.5) / ns) ** 1.5)
    return np.concatenate(parts), float(m / fs), slow, nr


@dataclass
class _Discharge:
    onset: float
    duration: float
    channel: str
    peak_uv: float
    focus: int
    kind: str
    polarity: str
    slow_wave: bool
    channels: str


def _foci_timeline(rng: np.random.Generator, dur: float, n_active: int,
                   candidates: list[str]) -> list[tuple[int, str, float, float, float]]:
    """Shifting foci: each lives 30-240 s and is replaced by one at another electrode.

    Returns (focus id, center, start, end, weight).
    """
    foci = []
    fid = 0
    for _slot in range(n_active):
        t = -rng.uniform(0, 200)
        while t < dur:
            life = rng.uniform(30, 240)
            active_now = {c for (_, c, a, b, _) in foci if a <= max(t, 0) < b}
            pool = [c for c in candidates if c not in active_now] or candidates
            c = str(rng.choice(pool))
            foci.append((fid, c, max(t, 0.0), min(t + life, dur), float(rng.lognormal(0, 0.5))))
            fid += 1
            t += life
    return [f for f in foci if f[3] > f[2]]


def _add_discharges(rng: np.random.Generator, ctx: _Ctx, x: np.ndarray, *, rate_fn: np.ndarray,
                    foci: list[tuple[int, str, float, float, float]], amp: tuple[float, float],
                    sigma: tuple[float, float], gen_share: float = 0.0,
                    side_gain: np.ndarray | None = None,
                    main_focus: tuple[int, float] | None = None) -> list[_Discharge]:
    """Draw interictal discharges (Poisson, thinned by ``rate_fn`` per second) from the foci."""
    fs = ctx.fs
    dur = ctx.dur
    rmax = float(rate_fn.max()) if rate_fn.size else 0.0
    if rmax <= 0 or not foci:
        return []
    cand = np.sort(rng.uniform(0, dur, rng.poisson(rmax * dur)))
    sec = np.minimum(cand.astype(int), rate_fn.size - 1)
    keep = rng.random(cand.size) < rate_fn[sec] / rmax
    out: list[_Discharge] = []
    starts = np.array([f[2] for f in foci])
    ends = np.array([f[3] for f in foci])
    wts = np.array([f[4] for f in foci])
    for t in cand[keep]:
        active = np.nonzero((starts <= t) & (t < ends))[0]
        if active.size == 0:
            continue
        generalized = gen_share > 0 and rng.random() < gen_share
        if generalized:
            fid, center = -1, "Cz"
            w = _field("Cz", rng.uniform(1.0, 1.6), 0.4)
        else:
            if main_focus is not None and rng.random() < main_focus[1]:
                j = main_focus[0]
            else:
                p = wts[active] / wts[active].sum()
                j = int(active[rng.choice(active.size, p=p)])
            fid, center = foci[j][0], foci[j][1]
            w = _field(center, rng.uniform(*sigma))
        if side_gain is not None:
            w = w * side_gain
        kind = "spike" if rng.random() < 0.55 else "sharp"
        tmpl, d, slow, ipk = _discharge_shape(rng, fs, kind)
        a = rng.uniform(*amp)
        pol = -1.0 if rng.random() < 0.85 else 1.0
        w = np.where(w >= 0.05, w, 0.0)
        _add(x, int(t * fs) - ipk, pol * a * tmpl, w)
        chans = ",".join(CHANNELS[i] for i in np.nonzero(w >= 0.5 * w.max())[0])
        out.append(_Discharge(onset=float(t) - ipk / fs, duration=d, channel=center,
                              peak_uv=float(a * w.max()), focus=fid, kind=kind,
                              polarity="negative" if pol < 0 else "positive", slow_wave=slow,
                              channels=chans))
    return out


def _add_hypsarrhythmia(rng: np.random.Generator, ctx: _Ctx, bg: np.ndarray, background: str, *,
                        cl_gate: np.ndarray, fade_v: float, fade_r: float, not_ictal: np.ndarray,
                        spasm_spans: list[tuple[float, float]]
                        ) -> tuple[np.ndarray, np.ndarray, list[_Discharge],
                                   list[tuple[float, float, float]], dict]:
    """Add the hypsarrhythmic pattern (background waves, then discharges) to ``bg``.

    Returns the background with the waves but without the discharges (for the BASED amplitude),
    the EEG with both, the discharges, the attenuation episodes (not yet applied) and the plan.
    The input ``bg`` is not modified.
    """
    n, fs, n_sec = ctx.n, ctx.fs, ctx.state_sec.size
    state_sec = ctx.state_sec
    attenuations: list[tuple[float, float, float]] = []
    cluster_fade = 1.0 - fade_v * cl_gate
    plan = _hyps_plan(rng, background)
    plan_info = {k: (float(v) if isinstance(v, float) else v) for k, v in plan.__dict__.items()}
    side_gain = np.ones(_N_CH)
    if plan.asym_side:
        weak = _LEFT if plan.asym_side == "left" else _RIGHT
        side_gain[weak] = plan.asym_factor
        side_gain[~_LEFT & ~_RIGHT] = 0.5 * (1 + plan.asym_factor)
    env = np.exp(0.35 * _slow(rng, _N_CH, n, fs, rng.uniform(2.0, 6.0)))
    mix = _mixing(plan.mix_len)
    layer = _irfft(plan.delta_sd * _spec(rng, _N_CH, n, fs, 0.3, 3.0, slope=1.0, mix=mix)
                   + rng.uniform(15, 30) * _spec(rng, _N_CH, n, fs, 3.0, 7.0, mix=mix), n)
    if plan.sync_share:
        sync = _noise(rng, 1, n, fs, 0.3, 2.5, slope=1.0)[0]
        layer = layer + plan.sync_share * plan.delta_sd * 1.5 * (
            _field("Cz", 1.5, 0.6)[:, None] * sync[None, :])
    focus_center = None
    if plan.main_focus_share:
        focus_center = str(rng.choice(["T3", "T4", "C3", "C4", "O1", "O2", "P3", "P4", "F3",
                                       "F4", "T5", "T6"]))
        env *= 1 + 0.4 * _field(focus_center, 0.45)[:, None]
    # state modulation: NREM more voltage and fragmentation, REM attenuation of the pattern
    st_amp = ctx.wake * 1.0 + ctx.nrem * 1.1 + ctx.rem * 0.5
    st_rate = np.array([1.0, 1.2, 0.3])[state_sec]
    # NREM fragments the pattern (bursts between lower-voltage stretches); deeply so in the
    # fragmented form
    spans, t = [], 0.0
    frag_level = rng.uniform(0.2, 0.4) if plan.fragment else rng.uniform(0.55, 0.8)
    while t < n / fs:
        d = rng.uniform(1.0, 6.0)
        spans.append((t, t + d))
        t += d + rng.uniform(1.0, 5.0 if plan.fragment else 3.0)
    g = _gate(n, fs, spans, 0.3)
    frag = 1.0 - ctx.nrem * (1 - frag_level) * (1 - g)
    hyp_env = env * (st_amp * frag * cluster_fade)[None, :]
    layer = layer * hyp_env * side_gain[:, None]
    bg = bg + layer
    # foci and discharges
    foci = _foci_timeline(rng, n / fs, plan.n_active, list(CHANNELS))
    main_focus = None
    if focus_center is not None:
        fid = max(f[0] for f in foci) + 1
        foci.append((fid, focus_center, 0.0, n / fs, 1.0))
        main_focus = (len(foci) - 1, plan.main_focus_share)
    frag_sec = frag[: n_sec * int(fs)].reshape(n_sec, int(fs)).mean(1)
    fade_sec = 1.0 - fade_r * cl_gate[: n_sec * int(fs)].reshape(n_sec, int(fs)).mean(1)
    rate_sec = plan.rate * st_rate * frag_sec**2 * fade_sec * not_ictal
    if plan.attenuation:
        t = rng.uniform(5, 20)
        while t < n / fs - 5:
            d = rng.uniform(1.0, 4.0)
            if all(not (a - 2 < t + d and t < b + 2) for a, b in spasm_spans):
                attenuations.append((float(t), float(d), float(rng.uniform(0.1, 0.25))))
            t += d + rng.uniform(8, 40)
        rate_sec = rate_sec * (1 - _gate(n_sec, 1.0, [(a, a + d) for a, d, _ in attenuations],
                                         0.5))
    bg_waves = bg.copy()
    discharges = _add_discharges(
        rng, ctx, bg, rate_fn=rate_sec, foci=foci, amp=(120.0, 350.0),
        sigma=(0.25, 0.45), gen_share=plan.sync_share, side_gain=side_gain,
        main_focus=main_focus)
    return bg_waves, bg, discharges, attenuations, plan_info


def _add_single_focus(rng: np.random.Generator, ctx: _Ctx, bg: np.ndarray,
                      not_ictal: np.ndarray) -> list[_Discharge]:
    """One consistent spike focus on a normal background (BASED 2), added to ``bg`` in place."""
    n, fs, state_sec = ctx.n, ctx.fs, ctx.state_sec
    n_sec = state_sec.size
    center = str(rng.choice(["T3", "T4", "C3", "C4", "O1", "O2", "P3", "P4", "F3", "F4",
                             "T5", "T6", "Cz"]))
    foci = [(0, center, 0.0, n / fs, 1.0)]
    rate_sec = np.full(n_sec, rng.uniform(1.5, 8.0) / 60) * np.array(
        [1.0, 1.6, 0.5])[state_sec] * not_ictal
    return _add_discharges(rng, ctx, bg, rate_fn=rate_sec, foci=foci, amp=(100.0, 250.0),
                           sigma=(0.25, 0.4))


def _apply_attenuations(x: np.ndarray, attenuations: list[tuple[float, float, float]],
                        fs: float) -> None:
    """Multiply ``x`` in place by the generalized attenuation episodes (onset, duration, depth)."""
    n = x.shape[1]
    att = np.ones(n)
    for a, d, depth in attenuations:
        r = int(0.15 * fs)
        m = int(d * fs)
        env = np.concatenate([1 - (1 - depth) * _raised(r), np.full(max(m - r, 1), depth),
                              depth + (1 - depth) * _raised(int(0.4 * fs))])
        i0 = int(a * fs)
        lo, hi = max(i0, 0), min(i0 + env.size, n)
        att[lo:hi] = np.minimum(att[lo:hi], env[lo - i0: hi - i0])
    x *= att[None, :]



# --------------------------------------------------------------------------------------------
# real children's EEG
# --------------------------------------------------------------------------------------------


def _real_background(rng: np.random.Generator, ctx: _Ctx) -> tuple[np.ndarray, np.ndarray, dict]:
    """Real school-age children's EEG, resampled, rescaled to infant voltages.

    Returns the brain part (mains removed, to be attenuated by decrements), the mains part (added
    back after) and provenance.
    """
    from edfio import read_edf
    from scipy.signal import resample_poly

    folder = real_data_dir()
    files = sorted(folder.glob("*.edf"))
    if not files:
        raise FileNotFoundError(f"{folder}: no real recordings found (needed for {ctx.background})")
    n, fs = ctx.n, ctx.fs
    target_sd = float(rng.uniform(15, 40))
    brain_parts, hum_parts, used = [], [], []
    total = 0
    xf = int(fs)  # 1-s cross-fade between files
    while total < n + xf:
        f = files[int(rng.integers(len(files)))]
        edf = read_edf(f)
        by_label = {s.label.replace("EEG", "").strip().split("-")[0].upper(): s
                    for s in edf.signals}
        sig = [by_label[c.upper()] for c in CHANNELS]
        fs0 = sig[0].sampling_frequency
        data = np.array([s.data for s in sig], dtype=float)
        data -= data.mean(axis=1, keepdims=True)
        frac = Fraction(fs / fs0).limit_denominator(100)
        data = resample_poly(data, frac.numerator, frac.denominator, axis=1)
        m = data.shape[1]
        fr = np.fft.rfftfreq(m, 1 / fs)
        spec = np.fft.rfft(data, axis=1)
        hum_mask = np.zeros(fr.size, dtype=bool)
        for h in (50.0, 60.0, 100.0, 120.0):
            hum_mask |= np.abs(fr - h) < 1.5
        hum = np.fft.irfft(spec * hum_mask, n=m, axis=1)
        keep = (~hum_mask) & (fr >= 0.3)
        brain = np.fft.irfft(spec * keep, n=m, axis=1)
        scale = target_sd / float(np.median(brain.std(axis=1)) + 1e-9)
        brain_parts.append(brain * scale)
        hum_parts.append(hum * scale)
        used.append(f.name)
        total += m - xf
    ramp = _raised(xf)

    def join(parts: list[np.ndarray]) -> np.ndarray:
        out = parts[0]
        for p in parts[1:]:
            mix = out[:, -xf:] * ramp[::-1] + p[:, :xf] * ramp
            out = np.concatenate([out[:, :-xf], mix, p[:, xf:]], axis=1)
        return out[:, :n]

    return join(brain_parts), join(hum_parts), {"real_files": used, "real_target_sd_uv": target_sd}


# --------------------------------------------------------------------------------------------
# artifacts and EMG
# --------------------------------------------------------------------------------------------


def _artifacts(rng: np.random.Generator, ctx: _Ctx, x: np.ndarray, *, heavy: bool,
               move_times: list[tuple[float, float]], cry: list[tuple[float, float]],
               spasm_muscle: list[float]) -> dict:
    """Mains hum, blinks, eye movements, movement, crying muscle, electrode pops, bad channels."""
    n, fs, dur = ctx.n, ctx.fs, ctx.dur
    t = np.arange(n) / fs
    info: dict = {}
    mains = 50.0 if rng.random() < 0.6 else 60.0
    hum_amp = rng.uniform(0.3, 6.0) * rng.lognormal(0, 0.6, _N_CH)
    if heavy and rng.random() < 0.15:
        hum_amp[rng.choice(_N_CH, int(rng.integers(1, 6)), replace=False)] *= rng.uniform(5, 15)
    if not heavy:
        hum_amp = np.minimum(hum_amp, 3.0)
    x += hum_amp[:, None] * np.sin(2 * np.pi * mains * t + rng.uniform(0, 6.3, _N_CH)[:, None])
    info["mains_hz"] = mains
    wake_sec = ctx.state_sec == WAKE
    if ctx.background == "burst_suppression":  # no blinks or eye movements in coma
        wake_sec = np.zeros_like(wake_sec)
    frontal = np.zeros(_N_CH)
    for c, v in (("Fp1", 1.0), ("Fp2", 1.0), ("F7", 0.35), ("F8", 0.35), ("F3", 0.4), ("F4", 0.4),
                 ("Fz", 0.35), ("C3", 0.1), ("C4", 0.1), ("Cz", 0.08)):
        frontal[_IDX[c]] = v
    # blinks (wake only): positive at Fp1/Fp2, 0.2-0.5 s
    rate = rng.uniform(2, 12) / 60
    n_blink = 0
    for tb in rng.uniform(0, dur, rng.poisson(rate * dur)):
        if not wake_sec[min(int(tb), wake_sec.size - 1)]:
            continue
        m = int(rng.uniform(0.2, 0.5) * fs)
        _add(x, int(tb * fs), rng.uniform(80, 300) * _bump(int(m * 0.4), m - int(m * 0.4)), frontal)
        n_blink += 1
    info["n_blinks"] = n_blink
    # lateral eye movements: opposite polarity at F7 / F8
    lat = np.zeros(_N_CH)
    for c, v in (("F7", 1.0), ("Fp1", 0.5), ("F3", 0.3), ("T3", 0.3), ("F8", -1.0), ("Fp2", -0.5),
                 ("F4", -0.3), ("T4", -0.3)):
        lat[_IDX[c]] = v
    for te in rng.uniform(0, dur, rng.poisson(rng.uniform(1, 6) / 60 * dur)):
        if not wake_sec[min(int(te), wake_sec.size - 1)]:
            continue
        hold = int(rng.uniform(0.3, 2.0) * fs)
        r = int(0.05 * fs)
        s = np.concatenate([_raised(r), np.ones(hold), _raised(3 * r)[::-1]])
        _add(x, int(te * fs), rng.choice([-1, 1]) * rng.uniform(40, 150) * s, lat)
    if heavy:
        # movement: broadband bursts with a low-frequency swing on part of the channels
        for t0, t1 in move_times:
            m = int((t1 - t0) * fs)
            if m < 4:
                continue
            chans = rng.random(_N_CH) < rng.uniform(0.3, 1.0)
            hf = _noise(rng, 1, max(m, 64), fs, 20, 0.45 * fs)[0][:m] * rng.uniform(15, 80)
            lf = _noise(rng, 1, max(m, int(4 * fs)), fs, 0.3, 3)[0][:m] * rng.uniform(60, 300)
            s = (hf + lf) * np.hanning(m)
            w = chans * rng.uniform(0.5, 1.0, _N_CH)
            _add(x, int(t0 * fs), s, w)
        # crying: muscle artifact over temporal and frontal channels
        musc = np.zeros(_N_CH)
        for c in ("T3", "T4", "F7", "F8", "Fp1", "Fp2", "T5", "T6"):
            musc[_IDX[c]] = rng.uniform(0.5, 1.0)
        for t0, t1 in cry:
            m = int((t1 - t0) * fs)
            if m > 8:
                s = _noise(rng, 1, m, fs, 20, 0.45 * fs)[0] * rng.uniform(20, 70)
                _add(x, int(t0 * fs), s * _gate(m, fs, [(0.2, (m / fs) - 0.2)], 0.2), musc)
        # a spasm's contraction: a diamond-shaped muscle burst over temporal and frontal channels
        for t0 in spasm_muscle:
            m = int(rng.uniform(0.5, 2.0) * fs)
            pk = int(m * rng.uniform(0.3, 0.5))
            env = np.concatenate([np.linspace(0, 1, pk, endpoint=False),
                                  np.linspace(1, 0, m - pk)])
            s = _noise(rng, 1, max(m, 64), fs, 20, 0.45 * fs)[0][:m] * env * rng.uniform(15, 60)
            _add(x, int((t0 + rng.uniform(-0.1, 0.2)) * fs), s, musc * rng.uniform(0.3, 1.0, _N_CH))
        # electrode pops on one or two bad electrodes
        bad = rng.choice(_N_CH, int(rng.integers(1, 3)), replace=False)
        n_pop = int(rng.integers(0, 7))
        for _ in range(n_pop):
            ch = int(rng.choice(bad))
            tp = rng.uniform(0, dur)
            m = int(rng.uniform(0.4, 2.0) * fs)
            tau = rng.uniform(0.1, 0.6) * fs
            s = np.exp(-np.arange(m) / tau) * rng.choice([-1, 1]) * rng.uniform(100, 800)
            s[:2] *= (0.3, 0.7)
            w = np.zeros(_N_CH)
            w[ch] = 1.0
            _add(x, int(tp * fs), s, w)
        info["n_pops"] = n_pop
        u = rng.random()
        if u < 0.1:
            ch = int(rng.integers(_N_CH))
            x[ch] = rng.normal(0, 0.4, n)
            info["flat_channel"] = CHANNELS[ch]
        elif u < 0.2:
            ch = int(rng.integers(_N_CH))
            x[ch] += rng.uniform(25, 70) * _noise(rng, 1, n, fs, 1, 0.45 * fs)[0]
            info["noisy_channel"] = CHANNELS[ch]
    # amplifier / electrode noise
    x += rng.uniform(0.8, 2.0) * rng.standard_normal(x.shape)
    return info


def _emg(rng: np.random.Generator, ctx: _Ctx, spasms: list[_Spasm],
         move_times: list[tuple[float, float]], cry: list[tuple[float, float]]) -> np.ndarray:
    """Deltoid surface EMG: baseline, ECG, tonic stretches, movement, crying, spasm bursts."""
    n, fs, dur = ctx.n, ctx.fs, ctx.dur
    n_emg = 2 if rng.random() < 0.6 else 1
    hi = min(150.0, 0.45 * fs)
    env = np.full((n_emg, n), rng.uniform(1.0, 3.0))
    # tonic activity in wake
    spans = []
    for _ in range(rng.poisson(dur / 120)):
        t0 = rng.uniform(0, dur)
        if ctx.state_sec[min(int(t0), ctx.state_sec.size - 1)] == WAKE:
            spans.append((t0, t0 + rng.uniform(5, 60)))
    env += rng.uniform(5, 25) * _gate(n, fs, spans, 1.5)[None, :] * rng.uniform(0.5, 1, (n_emg, 1))
    # ordinary movement bursts: irregular envelope of short sub-bursts
    for t0, t1 in move_times:
        m = int((t1 - t0) * fs)
        if m < 8:
            continue
        sub = np.zeros(m)
        for _ in range(int(rng.integers(1, 5))):
            a = int(rng.uniform(0, m * 0.8))
            b = min(m, a + int(rng.uniform(0.1, 0.8) * fs))
            if b - a > 2:
                sub[a:b] = np.maximum(sub[a:b], np.hanning(b - a) * rng.uniform(15, 200))
        for k in range(n_emg):
            _add(env[k], int(t0 * fs), sub * rng.uniform(0.4, 1.0))
    # crying: rhythmic bursts of 0.6-1.5 s every 1.2-3 s
    for t0, t1 in cry:
        t = t0
        while t < t1:
            d = rng.uniform(0.6, 1.5)
            m = int(d * fs)
            s = np.hanning(m) ** 0.5 * rng.uniform(40, 250)
            for k in range(n_emg):
                _add(env[k], int(t * fs), s * rng.uniform(0.6, 1.0))
            t += d + rng.uniform(0.6, 1.5)
    # spasms: diamond-shaped burst 0.5-2 s, starting with the EEG wave
    for sp in spasms:
        if not sp.emg:
            continue
        d = rng.uniform(0.5, 2.0)
        m = int(d * fs)
        pk = int(m * rng.uniform(0.3, 0.5))
        s = np.concatenate([np.linspace(0, 1, pk, endpoint=False), np.linspace(1, 0, m - pk)])
        a = rng.uniform(60, 400)
        t0 = sp.onset + rng.uniform(-0.1, 0.2)
        for k in range(n_emg):
            _add(env[k], int(t0 * fs), s * a * (1.0 if k == 0 else rng.uniform(0.6, 1.0)))
    carrier = _noise(rng, n_emg, n, fs, 20, hi)
    y = env * carrier
    # ECG pick-up: infant heart rate 100-160 /min, QRS ~40 ms
    hr = rng.uniform(100, 160) / 60
    beats = np.cumsum(rng.normal(1 / hr, 0.02 / hr, int(dur * hr) + 2))
    qrs = np.diff(np.concatenate([[0.0], np.hanning(max(int(0.04 * fs), 3)), [0.0]]))
    qrs /= np.abs(qrs).max()
    amp = rng.uniform(3, 30, n_emg)
    for b in beats[beats < dur]:
        for k in range(n_emg):
            _add(y[k], int(b * fs), amp[k] * qrs)
    return y


# --------------------------------------------------------------------------------------------
# spasms
# --------------------------------------------------------------------------------------------


def _wave_template(sp: _Spasm, fs: float) -> np.ndarray:
    """Unit peak-to-peak slow wave: one lobe, or two of opposite sign."""
    n1 = max(int(sp.d1 * fs), 4)
    nr = max(int(n1 * sp.rise), 1)
    lobe1 = _bump(nr, n1 - nr)
    if sp.phases == 2:
        n2 = max(int(sp.d2 * fs), 4)
        lobe2 = -sp.a2 * _bump(n2 // 2, n2 - n2 // 2)
        w = np.concatenate([lobe1, lobe2])
        return w / (1.0 + sp.a2)
    return lobe1


def _apply_spasms(rng: np.random.Generator, ctx: _Ctx, bg: np.ndarray, spasms: list[_Spasm],
                  bg_for_ref: np.ndarray) -> np.ndarray:
    """Attenuate the background (electrodecrement) and add waves, transients and fast activity."""
    n, fs = ctx.n, ctx.fs
    dec = np.ones(n)
    add = np.zeros_like(bg)
    fc = _field("Fz", 0.9, 0.3)
    for sp in spasms:
        i_on = int(sp.onset * fs)
        a = max(i_on - int(10 * fs), 0)
        seg = bg_for_ref[:, a:i_on]
        if seg.shape[1] < fs:
            seg = bg_for_ref[:, i_on: i_on + int(10 * fs)]
        pp_ch = np.percentile(seg, 95, axis=1) - np.percentile(seg, 5, axis=1)
        ref_pp = float(np.median(pp_ch))
        sign = 1.0 if sp.polarity == "positive" else -1.0
        if sp.trial_type != "spasm_decrement_only":
            tmpl = _wave_template(sp, fs)
            amp_pp = sp.wave_ratio * ref_pp
            sp.wave_peak_uv = amp_pp
            if sp.sharp:
                m = int(rng.uniform(0.04, 0.1) * fs)
                sh = _bump(max(m // 3, 1), m - max(m // 3, 1)) * rng.uniform(0.3, 0.8)
                full = tmpl.copy()
                k = int(rng.uniform(0.0, 0.15) * fs)
                full[k: k + sh.size] += sh[: max(0, min(sh.size, full.size - k))]
                tmpl = full
            for c in range(_N_CH):
                lag = int(round(sp.lags[c] * fs))
                _add(add[c], i_on + lag, sign * amp_pp * sp.weights[c] * tmpl)
            if sp.pre_fast:
                m = int(rng.uniform(0.2, 0.6) * fs)
                s = _narrow_noise(rng, m, fs, rng.uniform(15, 30), 3.0) * np.hanning(m)
                _add(add, i_on - m + int(0.05 * fs), s * rng.uniform(0.05, 0.15) * ref_pp / 2.5, fc)
        if sp.trial_type != "spasm_wave_only":
            r_dn = max(int(sp.ramp_down * fs), 1)
            r_up = max(int(sp.ramp_up * fs), 1)
            hold = max(int(sp.decrement_s * fs) - (r_dn + r_up) // 2, 1)
            env = np.concatenate([1 - (1 - sp.decrement_depth) * _raised(r_dn),
                                  np.full(hold, sp.decrement_depth),
                                  sp.decrement_depth + (1 - sp.decrement_depth) * _raised(r_up)])
            i0 = int(sp.decrement_onset * fs)
            lo, hi = max(i0, 0), min(i0 + env.size, n)
            if hi > lo:
                dec[lo:hi] = np.minimum(dec[lo:hi], env[lo - i0: hi - i0])
            if sp.fast_activity:
                m = int((sp.decrement_s * rng.uniform(0.5, 1.0) + 0.2) * fs)
                s = _narrow_noise(rng, m, fs, sp.fast_f, 1.5) * np.hanning(m) ** 0.7
                _add(add, i0 + int(rng.uniform(0, 0.2) * fs), s * sp.fast_rel * ref_pp / 2.5, fc)
    return bg * dec[None, :] + add


# --------------------------------------------------------------------------------------------
# BASED grade intended by the drawing
# --------------------------------------------------------------------------------------------


def _intended_based(background: str, discharges: list[_Discharge], attenuations: list[tuple],
                    bg_waves: np.ndarray, fs: float) -> dict:
    """Grade the drawn truth with the BASED rules (Mytinger et al. 2021).

    The most epileptic 5 minutes (page-aligned 15-s steps) are graded; the amplitude criterion is
    the median 1-s peak-to-peak of the background waves (discharges excluded) on the longitudinal
    bipolar montage; a spike focus is an electrode that leads >= 3 discharges in the epoch.
    """
    n = bg_waves.shape[1]
    n_sec = int(n // fs)
    fsi = int(fs)
    bip = np.array([bg_waves[_IDX[a]] - bg_waves[_IDX[b]] for a, b in _BIPOLAR])
    sec_pp = np.ptp(bip[:, : n_sec * fsi].reshape(len(_BIPOLAR), n_sec, fsi), axis=2)
    on = np.array([d.onset for d in discharges])
    centers = np.array([d.channel for d in discharges])
    gen = np.array([d.focus < 0 for d in discharges], dtype=bool)
    win = min(300, n_sec)
    min_per_focus = max(2, math.ceil(3 * win / 300))  # 3 per 5 minutes
    starts = list(range(0, n_sec - win + 1, 15)) or [0]
    best: dict = {"intended_based": -1}
    for s0 in starts:
        s1 = s0 + win
        sel = (on >= s0) & (on < s1) if on.size else np.zeros(0, dtype=bool)
        foc = {}
        for c in centers[sel & ~gen]:
            foc[c] = foc.get(c, 0) + 1
        n_foci = sum(1 for v in foc.values() if v >= min_per_focus)
        bins = np.zeros(win, dtype=bool)
        if sel.any():
            bins[np.clip((on[sel] - s0).astype(int), 0, win - 1)] = True
        n_pages = win // 15
        pages = bins[: n_pages * 15].reshape(n_pages, 15).sum(1) >= 8 if n_pages else np.zeros(0)
        dense = n_pages > 0 and int(pages.sum()) >= math.ceil(n_pages / 2)
        med_pp = np.median(sec_pp[:, s0:s1], axis=1)
        high = bool((med_pp > HIGH_AMPLITUDE_UV).any())
        n_att = sum(1 for a in attenuations if s0 <= a[0] < s1)
        if n_foci == 0:
            g = _BASE_GRADE.get(background, 1)
        elif n_foci >= 3 and dense:
            g = 5
        elif (n_foci >= 3 and high) or n_att >= 2:
            g = 4
        elif n_foci >= 3 or high:
            g = 3
        else:
            g = 2
        if g > best["intended_based"]:
            best = {"intended_based": g, "based_epoch_start_s": float(s0),
                    "based_n_foci": n_foci, "based_dense_pages": int(pages.sum()) if n_pages else 0,
                    "based_n_pages": n_pages, "based_high_amplitude": high,
                    "based_max_bipolar_pp_uv": float(med_pp.max()),
                    "based_attenuations": n_att,
                    "based_discharges": int(sel.sum())}
    return best


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------


def _write_tsv(path: Path, cols: list[str], rows: list[list]) -> None:
    def fmt(v: object) -> str:
        if isinstance(v, bool | np.bool_):
            return "True" if v else "False"
        if isinstance(v, float | np.floating):
            return f"{float(v):.4f}".rstrip("0").rstrip(".") if np.isfinite(v) else "n/a"
        return str(v)

    lines = ["\t".join(cols)] + ["\t".join(fmt(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")


def _write_edf(path: Path, eeg: np.ndarray, emg: np.ndarray | None, fs: float) -> None:
    from edfio import Edf, EdfSignal

    signals = []
    for lab, x in zip(EDF_LABELS, eeg, strict=True):
        lim = float(max(np.ceil(np.abs(x).max() * 1.05), 100.0))
        signals.append(EdfSignal(x, fs, label=lab, transducer_type="AgAgCl electrode",
                                 physical_dimension="uV", physical_range=(-lim, lim),
                                 prefiltering="HP:0.1Hz LP:100Hz"))
    if emg is not None:
        for lab, x in zip(EMG_LABELS, emg, strict=False):
            lim = float(max(np.ceil(np.abs(x).max() * 1.05), 100.0))
            signals.append(EdfSignal(x, fs, label=lab, transducer_type="AgAgCl electrode",
                                     physical_dimension="uV", physical_range=(-lim, lim),
                                     prefiltering="HP:0.1Hz LP:100Hz"))
    Edf(signals, data_record_duration=1.0).write(path)


# --------------------------------------------------------------------------------------------
# public entry points
# --------------------------------------------------------------------------------------------


def generate(out_dir: Path, *, seed: int, background: str, minutes: float = 10.0,
             emg: bool = False, spasms: bool = True, n_clusters: int | None = None,
             sfreq: float = 256.0, plain: bool = False, gain: float = 1.0) -> Case:
    """Generate one recording with known spasms and known interictal background.

    Parameters
    ----------
    out_dir : Path
        Folder to write into (created if absent).
    seed : int
        Seed; the output is a deterministic function of all arguments.
    background : str
        One of ``BACKGROUNDS``.
    minutes : float
        Length of the recording (rounded to whole seconds).
    emg : bool
        Add deltoid surface EMG (one or both sides).
    spasms : bool
        Draw spasm clusters.
    n_clusters : int or None
        Number of spasm clusters (default: 2-5 per 10 minutes).
    sfreq : float
        Sampling rate in Hz (integer valued).
    plain : bool
        Reference case: clusters of plain spasms only (generalized vertex-positive wave 2.5x the
        background, decrement to 25 % for 2 s), no incomplete forms, no heavy artifacts.
    gain : float
        Recording gain applied to all EEG channels (1.0: true infant voltages).

    Returns
    -------
    Case
        Paths of the EDF and truth files.
    """
    if background not in BACKGROUNDS:
        raise ValueError(f"unknown background {background!r}; choose from {', '.join(BACKGROUNDS)}")
    if sfreq <= 0 or abs(sfreq - round(sfreq)) > 1e-9:
        raise ValueError(f"sfreq must be a positive integer number of Hz, got {sfreq}")
    if minutes <= 0 or gain <= 0:
        raise ValueError("minutes and gain must be positive")
    fs = float(round(sfreq))
    n_sec = int(round(minutes * 60))
    n = int(n_sec * fs)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ss = np.random.SeedSequence([int(seed), zlib.crc32(background.encode())])
    (r_state, r_bg, r_hyps, r_sp, r_art, r_emg, r_move, r_real) = (
        np.random.default_rng(s) for s in ss.spawn(8))

    # time line: spasm clusters first, then the sleep-wake states around them
    groups, isolated = _plan_clusters(r_sp, n / fs, n_clusters, plain) if spasms else ([], [])
    n_real_clusters = len(groups)
    state_sec = _draw_states(r_state, background, n_sec)
    if groups:
        _wake_up_before_clusters(r_state, state_sec, groups, background in (
            "normal_sleep", "sync_slow_sleep", "hyps_sleep_fragmented"))
    ctx = _Ctx(background=background, fs=fs, n=n, minutes=n_sec / 60, plain=plain,
               state_sec=state_sec)
    _state_weights(ctx)

    spasm_list: list[_Spasm] = []
    for ci, times in enumerate([*groups, isolated]):
        cl = 0 if ci == len(groups) else ci + 1  # cluster 0: isolated spasms
        for t in times:
            spasm_list.append(_draw_spasm(r_sp, float(t), cl, plain, emg))
    spasm_list.sort(key=lambda s: s.onset)
    spasm_spans = [(s.onset - 0.5, s.end + 0.5) for s in spasm_list]
    cluster_spans = []
    for ci in range(1, n_real_clusters + 1):
        ts = [s for s in spasm_list if s.cluster == ci]
        if ts:
            cluster_spans.append((ts[0].onset - 5.0, ts[-1].end + 10.0))

    # background
    info: dict = {}
    hum_real = None
    attenuations: list[tuple[float, float, float]] = []
    hyps = background in HYPS_BACKGROUNDS
    if background in REAL_BACKGROUNDS:
        bg, hum_real, prov = _real_background(r_real, ctx)
        info.update(prov)
    elif background == "diffuse_slowing":
        bg = _diffuse_slowing(r_bg, ctx)
    elif background == "burst_suppression":
        bg, _spans = _burst_suppression(r_bg, ctx)
    elif background == "sync_slow_sleep":
        bg = _normal_bg(r_bg, ctx, sleep_delta=r_bg.uniform(55, 85), sleep_mix=2.5)
        shared = _noise(r_bg, 1, n, fs, 0.4, 2.0, slope=1.0)[0] * r_bg.uniform(25, 45)
        bg += ctx.nrem[None, :] * _field("Cz", 1.5, 0.6)[:, None] * shared[None, :]
    elif hyps:
        # the hypsarrhythmic pattern replaces the normal organisation (kept faint underneath)
        bg = _normal_bg(r_bg, ctx, transients=False) * r_bg.uniform(0.25, 0.45)
    else:
        bg = _normal_bg(r_bg, ctx)

    discharges: list[_Discharge] = []
    not_ictal = 1.0 - _gate(n_sec, 1.0, spasm_spans, 0.5)  # no interictal discharge in a spasm
    # the pattern fades during spasm clusters: voltage and discharge rate drop there
    fade_v, fade_r = r_hyps.uniform(0.1, 0.25), r_hyps.uniform(0.4, 0.7)
    cl_gate = _gate(n, fs, cluster_spans, 3.0) if cluster_spans else np.zeros(n)
    if hyps:
        bg_waves, bg, discharges, attenuations, info["hyps_plan"] = _add_hypsarrhythmia(
            r_hyps, ctx, bg, background, cl_gate=cl_gate, fade_v=fade_v, fade_r=fade_r,
            not_ictal=not_ictal, spasm_spans=spasm_spans)
    elif background == "single_focus":
        bg_waves = bg.copy()
        discharges = _add_single_focus(r_hyps, ctx, bg, not_ictal)
    else:
        bg_waves = bg.copy()

    # generalized attenuation episodes (modified hypsarrhythmia)
    if attenuations:
        _apply_attenuations(bg, attenuations, fs)
        _apply_attenuations(bg_waves, attenuations, fs)

    based = _intended_based(background, discharges, attenuations, bg_waves, fs)
    del bg_waves

    # spasms
    eeg = _apply_spasms(r_sp, ctx, bg, spasm_list, bg) if spasm_list else bg
    if hum_real is not None:
        eeg = eeg + hum_real

    # movement and crying times shared by EEG artifacts and EMG
    move_times: list[tuple[float, float]] = []
    cry: list[tuple[float, float]] = []
    if not plain:
        dur = n / fs
        for t0 in r_move.uniform(0, dur, r_move.poisson(r_move.uniform(0.3, 3.0) / 60 * dur)):
            if state_sec[min(int(t0), n_sec - 1)] == WAKE or r_move.random() < 0.2:
                move_times.append((float(t0), float(t0 + r_move.uniform(0.3, 3.0))))
        for _ in range(int(r_move.integers(0, 3))):
            t0 = r_move.uniform(0, dur - 20)
            quiet = all(not (a - 5 < t0 < b + 60) for a, b in spasm_spans)
            if state_sec[int(t0)] == WAKE and quiet:
                cry.append((float(t0), float(min(t0 + r_move.uniform(10, 60), dur))))
    info.update(_artifacts(r_art, ctx, eeg, heavy=not plain,
                           move_times=[m for m in move_times if r_art.random() < 0.7], cry=cry,
                           spasm_muscle=[s.onset for s in spasm_list if s.eeg_muscle]))
    eeg = eeg * gain
    emg_data = _emg(r_emg, ctx, spasm_list, move_times, cry) if emg else None

    # files
    stem = f"ind_{background}_s{seed}" + ("_emg" if emg else "") + ("_plain" if plain else "")
    if not spasms:
        stem += "_nosp"
    elif n_clusters is not None:
        stem += f"_k{n_clusters}"
    if n_sec != 600:
        stem += f"_{n_sec}s"
    if fs != 256.0:
        stem += f"_{fs:g}hz"
    if gain != 1.0:
        stem += f"_g{gain:g}"
    case = Case(edf=out_dir / f"{stem}_eeg.edf", events=out_dir / f"{stem}_events.tsv",
                discharges=out_dir / f"{stem}_discharges.tsv",
                attenuations=out_dir / f"{stem}_attenuations.tsv",
                truth=out_dir / f"{stem}_truth.json")
    _write_edf(case.edf, eeg, emg_data, fs)
    ev_cols = ["onset", "duration", "trial_type", "cluster", "wave_ratio", "polarity", "phases",
               "field", "field_center", "lag_ms", "sharp", "pre_fast", "decrement_depth",
               "decrement_s", "decrement_onset", "fast_activity", "fast_hz", "wave_s",
               "wave_peak_uv", "emg", "eeg_muscle", "state"]
    rows = []
    for s in spasm_list:
        rows.append([s.onset, s.end - s.onset, s.trial_type, s.cluster, s.wave_ratio,
                     s.polarity if s.phases else "n/a", s.phases, s.field if s.phases else "n/a",
                     s.field_center if s.phases else "n/a",
                     s.lag_ms if s.phases else 0.0, s.sharp, s.pre_fast, s.decrement_depth,
                     s.decrement_s, s.decrement_onset if s.decrement_s else float("nan"),
                     s.fast_activity, s.fast_f if s.fast_activity else float("nan"), s.wave_s,
                     s.wave_peak_uv * gain, s.emg, s.eeg_muscle and not plain,
                     _STATE_NAMES[int(state_sec[min(int(s.onset), n_sec - 1)])]])
    _write_tsv(case.events, ev_cols, rows)
    _write_tsv(case.discharges,
               ["onset", "duration", "channel", "peak_uv", "focus", "kind", "polarity",
                "slow_wave", "channels"],
               [[d.onset, d.duration, d.channel, d.peak_uv * gain, d.focus, d.kind, d.polarity,
                 d.slow_wave, d.channels] for d in discharges])
    _write_tsv(case.attenuations, ["onset", "duration", "depth"],
               [[a, d, dp] for a, d, dp in attenuations])
    states = []
    i = 0
    while i < n_sec:
        j = i
        while j < n_sec and state_sec[j] == state_sec[i]:
            j += 1
        states.append({"onset": float(i), "duration": float(j - i),
                       "state": _STATE_NAMES[int(state_sec[i])]})
        i = j
    counts: dict[str, int] = {}
    for s in spasm_list:
        counts[s.trial_type] = counts.get(s.trial_type, 0) + 1
    truth = {
        "generator": "independent",
        "background": background,
        "hypsarrhythmic": hyps,
        "intended_based": int(based["intended_based"]),
        "gain": float(gain),
        "sfreq": fs,
        "minutes": n_sec / 60,
        "emg": bool(emg),
        "emg_channels": list(EMG_LABELS[: emg_data.shape[0]]) if emg_data is not None else [],
        "spasms": bool(spasms),
        "plain": bool(plain),
        "n_spasms": len(spasm_list),
        "n_spasms_by_type": counts,
        "n_clusters": n_real_clusters,
        "n_isolated": sum(1 for s in spasm_list if s.cluster == 0),
        "n_discharges": len(discharges),
        "n_attenuations": len(attenuations),
        "seed": int(seed),
        "channels": list(EDF_LABELS),
        "states": states,
        **{k: v for k, v in based.items() if k != "intended_based"},
        **info,
    }
    case.truth.write_text(json.dumps(truth, indent=1, default=_json_default) + "\n")
    return case


def _json_default(o: object) -> object:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o).__name__)


CHECK_BACKGROUNDS = ("hyps_classic", "hyps_slow", "normal_wake", "normal_sleep",
                     "burst_suppression")


def check_labels(out_dir: Path, *, seeds: tuple[int, ...] = (1, 2),
                 backgrounds: tuple[str, ...] = CHECK_BACKGROUNDS,
                 minutes: float = 10.0) -> list[dict]:
    """Measure the drawn spasm patterns back from the written EDF files.

    For every spasm, the wave's peak-to-peak at its field centre (0.5-30 Hz) over the median
    5th-95th percentile range of the 10 s before, and the decrement's residual (2-30 Hz standard
    deviation inside it over the 10 s before, median over channels), compared with the labels.

    Parameters
    ----------
    out_dir : Path
        Folder for the generated recordings.
    seeds : tuple of int
        Seeds per background.
    backgrounds : tuple of str
        Backgrounds to check.
    minutes : float
        Length of each recording.

    Returns
    -------
    list of dict
        One row per background: spasms, median measured / drawn wave ratio and decrement residual,
        and their Spearman correlations.
    """
    from edfio import read_edf
    from scipy.signal import butter, sosfiltfilt
    from scipy.stats import spearmanr

    rows = []
    for bg in backgrounds:
        w_true, w_meas, d_true, d_meas = [], [], [], []
        for seed in seeds:
            case = generate(out_dir, seed=seed, background=bg, minutes=minutes)
            edf = read_edf(case.edf)
            fs = edf.signals[0].sampling_frequency
            x = np.array([sig.data for sig in edf.signals[:_N_CH]])
            slow = sosfiltfilt(butter(4, [0.5, 30], "bandpass", fs=fs, output="sos"), x, axis=1)
            fast = sosfiltfilt(butter(4, [2, 30], "bandpass", fs=fs, output="sos"), x, axis=1)
            with open(case.events) as fh:
                header = fh.readline().rstrip("\n").split("\t")
                events = [dict(zip(header, line.rstrip("\n").split("\t"), strict=True))
                          for line in fh]
            for e in events:
                i = int(float(e["onset"]) * fs)
                pre = slice(i - int(10 * fs), i)
                if e["trial_type"] != "spasm_decrement_only":
                    ref = np.median(np.percentile(slow[:, pre], 95, axis=1)
                                    - np.percentile(slow[:, pre], 5, axis=1))
                    c = _IDX[e["field_center"]]
                    wave = slow[c, i: i + int((float(e["wave_s"]) + 0.1) * fs)]
                    w_true.append(float(e["wave_ratio"]))
                    w_meas.append(float(np.ptp(wave) / ref))
                if e["trial_type"] != "spasm_wave_only" and float(e["decrement_s"]) >= 1.0:
                    j = int((float(e["decrement_onset"]) + 0.3) * fs)
                    k = j + int((float(e["decrement_s"]) - 0.3) * fs)
                    d_true.append(float(e["decrement_depth"]))
                    d_meas.append(float(np.median(fast[:, j:k].std(axis=1)
                                                  / fast[:, pre].std(axis=1))))
        wt, wm, dt, dm = map(np.array, (w_true, w_meas, d_true, d_meas))
        rows.append({
            "background": bg, "spasms_with_wave": len(wt), "spasms_with_decrement": len(dt),
            "wave_measured_over_drawn": float(np.median(wm / wt)),
            "wave_spearman": float(spearmanr(wt, wm).statistic),
            "residual_measured_over_drawn": float(np.median(dm / dt)),
            "residual_spearman": float(spearmanr(dt, dm).statistic),
        })
    return rows


def main(argv: list[str] | None = None) -> int:
    """Write a varied data set and its ``manifest.tsv``.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default: ``sys.argv``).

    Returns
    -------
    int
        Exit status.
    """
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--sfreq", type=float, default=256.0)
    ap.add_argument("--backgrounds", default="",
                    help="comma-separated subset of backgrounds (default: all)")
    ap.add_argument("--check", action="store_true",
                    help="measure the drawn spasm patterns back from the files and print a table")
    args = ap.parse_args(argv)
    if args.check:
        rows = check_labels(args.out)
        print("\t".join(rows[0]))
        for r in rows:
            print("\t".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in r.values()))
        return 0
    rng = np.random.default_rng([int(args.seed), 7919])
    pool = [b.strip() for b in args.backgrounds.split(",") if b.strip()] or list(BACKGROUNDS)
    bad = [b for b in pool if b not in BACKGROUNDS]
    if bad:
        ap.error(f"unknown background(s): {', '.join(bad)}")
    if not any(real_data_dir().glob("*.edf")):
        pool = [b for b in pool if b not in REAL_BACKGROUNDS]
    order = list(rng.permutation(pool))
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    cols = ["case", "edf", "events", "discharges", "attenuations", "truth", "background",
            "hypsarrhythmic", "intended_based", "gain", "sfreq", "minutes", "emg", "spasms",
            "n_spasms", "n_clusters", "seed"]
    rows = []
    for i in range(args.n):
        bg = str(order[i % len(order)])
        if i % len(order) == len(order) - 1:
            order = list(rng.permutation(pool))
        seed = int(args.seed) * 100003 + i
        emg = bool(i % 2)
        has_spasms = bool(rng.random() < 0.85)
        gain = 1.0 if rng.random() < 0.7 else float(rng.choice([0.5, 0.7, 1.5, 2.0]))
        case = generate(out, seed=seed, background=bg, minutes=args.minutes, emg=emg,
                        spasms=has_spasms, sfreq=args.sfreq, gain=gain)
        t = json.loads(case.truth.read_text())
        rel = [str(p.relative_to(out)) for p in (case.edf, case.events, case.discharges,
                                                  case.attenuations, case.truth)]
        rows.append([case.edf.name.removesuffix("_eeg.edf"), *rel, bg, t["hypsarrhythmic"],
                     t["intended_based"], gain, t["sfreq"], t["minutes"], emg, has_spasms,
                     t["n_spasms"], t["n_clusters"], seed])
        print(f"{i + 1}/{args.n} {rows[-1][0]}: BASED {t['intended_based']}, "
              f"{t['n_spasms']} spasms in {t['n_clusters']} clusters", flush=True)
    _write_tsv(out / "manifest.tsv", cols, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
