"""Age-appropriate infant background EEG, sleep states, and the simulator's signal primitives.

The background is a mixture of independent band-limited noise sources placed under the 19
electrodes of the 10-20 system and spread over the scalp with a Gaussian spatial kernel, so
neighbouring electrodes share activity as they do in real recordings. Components (standard
deviations in µV, referential):

* a 1/f-shaped broadband component (0.5-45 Hz) dominated by delta/theta;
* a posterior rhythm (awake), 4 Hz at 3 months rising to 6 Hz at 12 months;
* synchronous high-voltage delta in NREM sleep (a common, spatially coherent source);
* spindles (12-14 Hz, central/vertex) and vertex waves / K-complexes (frontocentral) in NREM.

Everything is rendered chunk by chunk: noise is generated per chunk from a chunk-specific seed and
joined to the previous chunk with an equal-power crossfade, and every transient event is planned for
the whole recording in advance, so a chunk can be rendered without the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.ndimage import uniform_filter1d

__all__ = [
    "EEG_NAMES",
    "POSITIONS",
    "STATE_PARAMS",
    "NoiseStream",
    "field",
    "mixing_matrix",
    "piecewise_gain",
    "plan_sleep_events",
    "plan_states",
    "posterior_rhythm_hz",
    "render_sleep_events",
    "scatter_add",
    "shaped_spectrum",
]

EEG_NAMES: list[str] = [
    "Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz",
    "C4", "T8", "P7", "P3", "Pz", "P4", "P8", "O1", "O2",
]  # fmt: skip

#: Approximate 2-D projection of the 10-20 positions (head radius 1, nose at +y).
POSITIONS: np.ndarray = np.array(
    [
        (-0.31, 0.95), (0.31, 0.95), (-0.81, 0.59), (-0.39, 0.52), (0.0, 0.5), (0.39, 0.52),
        (0.81, 0.59), (-1.0, 0.0), (-0.5, 0.0), (0.0, 0.0), (0.5, 0.0), (1.0, 0.0), (-0.81, -0.59),
        (-0.39, -0.52), (0.0, -0.5), (0.39, -0.52), (0.81, -0.59), (-0.31, -0.95), (0.31, -0.95),
    ]
)  # fmt: skip

#: Background amplitudes per state (µV standard deviation, referential) used at 6 months.
STATE_PARAMS: dict[str, dict[str, float]] = {
    "wake": {"broad": 18.0, "posterior": 10.0, "slow_sync": 0.0},
    "nrem": {"broad": 20.0, "posterior": 0.0, "slow_sync": 38.0},
    "rem": {"broad": 14.0, "posterior": 3.0, "slow_sync": 0.0},
}
STATES = ("wake", "nrem", "rem")


def posterior_rhythm_hz(age_months: float) -> float:
    """Frequency of the awake posterior rhythm: 4 Hz at 3 months rising linearly to 6 Hz at 12."""
    return float(4.0 + 2.0 * (np.clip(age_months, 3.0, 12.0) - 3.0) / 9.0)


def field(center: int | np.ndarray, width: float) -> np.ndarray:
    """Gaussian scalp field (max 1) of a source under electrode ``center`` (or at a 2-D point)."""
    c = POSITIONS[center] if np.ndim(center) == 0 else np.asarray(center, dtype=float)
    d2 = np.sum((POSITIONS - c) ** 2, axis=1)
    return np.exp(-d2 / (2.0 * width**2))


def mixing_matrix(width: float) -> np.ndarray:
    """Spatial mixing (n_eeg, n_eeg) with unit-norm rows (unit sources -> unit variance)."""
    d2 = np.sum((POSITIONS[:, None, :] - POSITIONS[None, :, :]) ** 2, axis=-1)
    k = np.exp(-d2 / (2.0 * max(width, 1e-3) ** 2))
    return k / np.linalg.norm(k, axis=1, keepdims=True)


def shaped_spectrum(n: int, sfreq: float, kind: str, **kw: float) -> np.ndarray:
    """Amplitude response for ``np.fft.rfft`` of length ``n`` giving unit-variance output.

    ``kind`` is ``"pink"`` (1/f^(alpha/2) amplitude between ``lo`` and ``hi``), ``"band"`` (flat
    between ``lo`` and ``hi`` with soft edges) or ``"peak"`` (Gaussian at ``f0``, width ``bw``).
    """
    f = np.fft.rfftfreq(n, 1.0 / sfreq)
    if kind == "pink":
        lo, hi, alpha = kw.get("lo", 0.5), kw.get("hi", 45.0), kw.get("alpha", 1.6)
        h = 1.0 / np.maximum(f, lo) ** (alpha / 2.0)
        h *= 1.0 / (1.0 + (lo / np.maximum(f, 1e-6)) ** 4) / (1.0 + (f / hi) ** 8)
    elif kind == "band":
        lo, hi = kw["lo"], kw["hi"]
        h = 1.0 / (1.0 + (lo / np.maximum(f, 1e-6)) ** 6) / (1.0 + (f / hi) ** 8)
    elif kind == "peak":
        h = np.exp(-0.5 * ((f - kw["f0"]) / kw["bw"]) ** 2)
    else:  # pragma: no cover - internal
        raise ValueError(kind)
    h[0] = 0.0
    power = (2.0 * np.sum(h**2) - h[-1] ** 2) / n
    return h / np.sqrt(max(power, 1e-30))


class NoiseStream:
    """Continuous band-limited noise generated chunk by chunk.

    Each chunk draws white noise from ``np.random.default_rng([seed, tag, k])``, shapes it in the
    frequency domain and is joined to the previous chunk's spill-over with an equal-power
    (sine/cosine) crossfade of ``overlap_s``, which keeps the variance constant across the seam.
    """

    def __init__(
        self, seed: int, tag: int, n_src: int, sfreq: float, spectrum: dict, overlap_s: float = 2.0
    ) -> None:
        self.seed, self.tag, self.n_src, self.sfreq = seed, tag, n_src, sfreq
        self.spectrum = spectrum
        self.n_ov = max(2, int(round(overlap_s * sfreq)))
        self._tail: np.ndarray | None = None
        self._cache: dict[int, np.ndarray] = {}

    def next(self, k: int, n: int) -> np.ndarray:
        """Return the (n_src, n) samples of chunk ``k`` (chunks must be requested in order)."""
        m = n + self.n_ov
        rng = np.random.default_rng([self.seed, self.tag, k])
        white = rng.standard_normal((self.n_src, m))
        if m not in self._cache:
            self._cache[m] = shaped_spectrum(m, self.sfreq, **self.spectrum)
        x = np.fft.irfft(np.fft.rfft(white, norm="ortho") * self._cache[m], n=m, norm="ortho")
        out = x[:, :n].copy()
        if self._tail is not None:
            j = min(self.n_ov, n)
            ph = (np.arange(j) + 0.5) / self.n_ov * (np.pi / 2)
            out[:, :j] = out[:, :j] * np.sin(ph) + self._tail[:, :j] * np.cos(ph)
        self._tail = x[:, n:]
        return out


def piecewise_gain(
    t: np.ndarray,
    bounds: np.ndarray,
    values: np.ndarray,
    default: float,
    ramp_s: float,
    sfreq: float,
) -> np.ndarray:
    """Piecewise-constant gain with linear ramps of ``ramp_s`` at each change.

    ``bounds`` is (m, 2) of [start, stop) seconds, non-overlapping and sorted, with gain ``values``;
    elsewhere the gain is ``default``. The ramps are centred on the change points and computed from
    absolute time, so adjacent chunks join exactly.
    """
    w = max(1, int(round(ramp_s * sfreq)))
    pad = w
    dt = 1.0 / sfreq
    te = np.concatenate([t[0] - dt * np.arange(pad, 0, -1), t, t[-1] + dt * np.arange(1, pad + 1)])
    g = np.full(te.size, default, dtype=float)
    if len(bounds):
        bounds = np.asarray(bounds, dtype=float)
        sel = (bounds[:, 1] > te[0]) & (bounds[:, 0] < te[-1])
        for (a, b), v in zip(bounds[sel], np.asarray(values, dtype=float)[sel], strict=True):
            i0, i1 = np.searchsorted(te, [a, b])
            g[i0:i1] = v
    if w > 1:
        g = uniform_filter1d(g, w, mode="nearest")
    return g[pad:-pad]


def scatter_add(buf: np.ndarray, rows: np.ndarray, starts: np.ndarray, waves: np.ndarray) -> None:
    """Add ``waves[i]`` into ``buf[rows[i], starts[i]:]`` (clipped to the buffer), vectorised."""
    if len(starts) == 0:
        return
    n_rows, n = buf.shape
    length = waves.shape[1]
    idx = starts[:, None] + np.arange(length)[None, :]
    ok = (idx >= 0) & (idx < n)
    flat = (np.broadcast_to(rows[:, None], idx.shape) * n + idx)[ok]
    buf += np.bincount(flat, weights=waves[ok], minlength=n_rows * n).reshape(n_rows, n)


# --- sleep/wake ---------------------------------------------------------------------------------
#: Bout lengths (minutes) of each state in a long recording; scaled down in short ones.
BOUT_MIN = {"wake": (10.0, 40.0), "nrem": (20.0, 60.0), "rem": (5.0, 20.0)}


def plan_states(
    duration_s: float, rng: np.random.Generator, sleep: bool, first: str | None = None
) -> pd.DataFrame:
    """Sequence of wake/NREM/REM bouts covering the recording.

    Infant sleep cycles last 40-90 min (NREM 20-60 min then REM 5-20 min). Bouts are scaled by
    ``min(1, duration / 90 min)`` so that short recordings still hold a mix of states. Transitions:
    wake -> NREM; NREM -> REM (70 %) or wake; REM -> NREM (60 %) or wake.
    """
    if not sleep:
        return pd.DataFrame({"onset": [0.0], "duration": [duration_s], "state": [first or "wake"]})
    scale = min(1.0, duration_s / 5400.0)
    state = first or str(rng.choice(["wake", "nrem"], p=[0.4, 0.6]))
    rows, t = [], 0.0
    while t < duration_s:
        lo, hi = BOUT_MIN[state]
        d = max(20.0, rng.uniform(lo, hi) * 60.0 * scale)
        d = min(d, duration_s - t)
        rows.append((t, d, state))
        t += d
        if state == "wake":
            state = "nrem"
        elif state == "nrem":
            state = "rem" if rng.random() < 0.7 else "wake"
        else:
            state = "nrem" if rng.random() < 0.6 else "wake"
    df = pd.DataFrame(rows, columns=["onset", "duration", "state"])
    # merge a trailing sliver into the previous bout
    if len(df) > 1 and df["duration"].iloc[-1] < 10.0:
        df.loc[len(df) - 2, "duration"] += df["duration"].iloc[-1]
        df = df.iloc[:-1]
    return df.reset_index(drop=True)


def state_gain(
    t: np.ndarray,
    states: pd.DataFrame,
    per_state: dict[str, float],
    sfreq: float,
    ramp_s: float = 4.0,
) -> np.ndarray:
    """Per-sample value of a state-dependent parameter, ramped over ``ramp_s`` at transitions."""
    b = np.column_stack([states["onset"], states["onset"] + states["duration"]])
    v = np.array([per_state[s] for s in states["state"]])
    b[0, 0], b[-1, 1] = -1e9, 1e12  # extend the first and last bouts
    return piecewise_gain(t, b, v, 0.0, ramp_s, sfreq)


@dataclass
class SleepEvents:
    """Planned NREM transients: spindles and vertex waves / K-complexes."""

    spindles: pd.DataFrame  # onset, duration, amp, freq
    vertex: pd.DataFrame  # onset, duration, amp


def plan_sleep_events(
    states: pd.DataFrame,
    rng: np.random.Generator,
    spindle_per_min: float = 5.0,
    vertex_per_min: float = 3.0,
) -> SleepEvents:
    """Spindles (12-14 Hz, 0.5-1.5 s, 20-50 µV) and vertex waves (100-200 µV, 0.5-1 s) in NREM."""
    nrem = states[states["state"] == "nrem"]
    sp, vx = [], []
    for on, dur in zip(nrem["onset"], nrem["duration"], strict=True):
        for rate, out in ((spindle_per_min, sp), (vertex_per_min, vx)):
            k = rng.poisson(rate * dur / 60.0)
            out.append(np.sort(on + rng.uniform(0, max(dur - 2.0, 0.1), k)))
    sp_on = np.concatenate(sp) if sp else np.zeros(0)
    vx_on = np.concatenate(vx) if vx else np.zeros(0)
    spindles = pd.DataFrame(
        {
            "onset": sp_on,
            "duration": rng.uniform(0.5, 1.5, sp_on.size),
            "amp": rng.uniform(20, 50, sp_on.size),
            "freq": rng.uniform(12, 14, sp_on.size),
        }
    )
    vertex = pd.DataFrame(
        {
            "onset": vx_on,
            "duration": rng.uniform(0.5, 1.0, vx_on.size),
            "amp": rng.uniform(100, 200, vx_on.size)
            * rng.choice([-1.0, 1.0], vx_on.size, p=[0.8, 0.2]),
        }
    )
    return SleepEvents(spindles, vertex)


def _select(df: pd.DataFrame, t0: float, t1: float, max_len: float) -> pd.DataFrame:
    on = df["onset"].to_numpy()
    i0, i1 = np.searchsorted(on, [t0 - max_len, t1])
    return df.iloc[i0:i1]


def render_sleep_events(ev: SleepEvents, t0: float, n: int, sfreq: float) -> np.ndarray:
    """Render the spindles and vertex waves overlapping [t0, t0 + n / sfreq) -> (n_eeg, n)."""
    out = np.zeros((len(EEG_NAMES), n))
    t1 = t0 + n / sfreq
    for df, center, width in ((ev.spindles, 9, 0.45), (ev.vertex, 4, 0.55)):
        sel = _select(df, t0, t1, 1.6)
        if sel.empty:
            continue
        length = int(1.6 * sfreq)
        tau = np.arange(length)[None, :] / sfreq
        d = sel["duration"].to_numpy()[:, None]
        inside = tau < d
        if df is ev.spindles:
            env = np.where(inside, np.sin(np.pi * np.minimum(tau / d, 1.0)) ** 2, 0.0)
            waves = (
                sel["amp"].to_numpy()[:, None]
                * env
                * np.sin(2 * np.pi * sel["freq"].to_numpy()[:, None] * tau)
            )
        else:  # vertex wave / K-complex: sharp negative component then slower positive one
            x = np.minimum(tau / d, 1.0)
            shape = -np.sin(np.pi * x / 0.4) * (x < 0.4) + 0.6 * np.sin(np.pi * (x - 0.4) / 0.6) * (
                x >= 0.4
            )
            waves = np.where(inside, sel["amp"].to_numpy()[:, None] * shape, 0.0)
        course = np.zeros((1, n))
        starts = np.round((sel["onset"].to_numpy() - t0) * sfreq).astype(np.int64)
        scatter_add(course, np.zeros(len(sel), dtype=np.int64), starts, waves)
        out += field(center, width)[:, None] * course
    return out
