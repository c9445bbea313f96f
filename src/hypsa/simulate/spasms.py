"""Epileptic spasms: cluster timing, the ictal EEG pattern and the deltoid EMG burst.

Ictal pattern (Fusco & Vigevano 1993), varied per event so a detector cannot learn one template:

1. optionally (60 %) a generalized sharp transient, 50-150 ms, 100-250 µV, just before the slow
   wave;
2. a generalized high-voltage slow wave, 0.3-1 s, 200-500 µV peak-to-peak at the vertex, positive at
   the vertex in 80 % of events, broad field over all channels (50-100 % of the vertex amplitude
   with ±15 % per-channel jitter);
3. an electrodecrement of 1-3 s starting at the end of the slow wave: the ongoing activity is
   multiplied by 0.1-0.3, with (60 %) low-voltage fast activity (15-30 Hz, 5-20 µV).

Annotation convention: ``onset`` = start of the transient (or of the slow wave when there is none);
``duration`` = to the end of the slow wave plus the first 0.3 s of the decrement, clipped to
0.5-2.0 s. The EMG burst (when recorded) starts with the slow wave (0-100 ms later) and lasts as
long as the annotation; its envelope is a diamond (linear rise, peak at 40-60 % of the burst,
linear fall).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hypsa.simulate.background import EEG_NAMES, field, piecewise_gain, scatter_add

__all__ = [
    "EVENT_TYPE",
    "plan_clusters",
    "render_spasms_eeg",
    "decrement_gain",
    "render_emg_bursts",
]

EVENT_TYPE = "sz_gen_m_spasms"
#: Minimum quiet time between two clusters (s); clusters are separated by many minutes when the
#: recording is long enough, and at least this much in short test recordings.
MIN_CLUSTER_GAP_S = 120.0
MARGIN_S = 10.0


def plan_clusters(
    duration_s: float,
    states: pd.DataFrame,
    n_clusters: int,
    spasms_per_cluster: tuple[int, int],
    interval_s: tuple[float, float],
    emg: bool,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Place clusters (preferably 3-30 s after a sleep -> wake transition) and their spasms.

    A cluster that does not fit loses spasms from its end; one that cannot hold a single spasm is
    dropped. Returns ``(events, clusters)``.
    """
    wake_starts = [
        float(o)
        for o, s, p in zip(
            states["onset"].iloc[1:],
            states["state"].iloc[1:],
            states["state"].iloc[:-1],
            strict=True,
        )
        if s == "wake" and p != "wake"
    ]
    rng.shuffle(wake_starts)
    placed: list[tuple[float, float, np.ndarray]] = []

    def fits(a: float, b: float) -> bool:
        if a < MARGIN_S or b > duration_s - MARGIN_S:
            return False
        return all(
            b + MIN_CLUSTER_GAP_S <= pa or a >= pb + MIN_CLUSTER_GAP_S for pa, pb, _ in placed
        )

    for _ in range(n_clusters):
        count = int(rng.integers(spasms_per_cluster[0], spasms_per_cluster[1] + 1))
        gaps = rng.uniform(interval_s[0], interval_s[1], max(count - 1, 0))
        while count > 0:
            rel = np.concatenate([[0.0], np.cumsum(gaps[: count - 1])])
            length = rel[-1] + 3.0
            candidates = [w + rng.uniform(3.0, 30.0) for w in wake_starts]
            candidates += list(rng.uniform(MARGIN_S, max(MARGIN_S, duration_s - length), 300))
            for a in candidates:
                if fits(a, a + length):
                    placed.append((a, a + length, a + rel))
                    wake_starts = [w for w in wake_starts if abs(w - a) > 60.0]
                    break
            else:
                count -= 1
                continue
            break
    placed.sort(key=lambda p: p[0])
    ev_rows, cl_rows = [], []
    for ci, (_, _, onsets) in enumerate(placed, start=1):
        for on in onsets:
            ev_rows.append(_one_spasm(float(on), ci, emg, rng))
        ends = [r["onset"] + r["duration"] for r in ev_rows if r["cluster"] == ci]
        cl_rows.append((ci, float(onsets[0]), float(max(ends)), len(onsets)))
    events = pd.DataFrame(ev_rows, columns=_EVENT_COLUMNS)
    clusters = pd.DataFrame(cl_rows, columns=["cluster", "onset", "offset", "count"])
    return events, clusters


_EVENT_COLUMNS = [
    "onset", "duration", "cluster", "eventType", "trial_type", "has_emg", "has_transient",
    "slow_wave_onset", "slow_wave_duration", "slow_wave_uv", "polarity", "decrement_onset",
    "decrement_duration", "decrement_gain", "has_fast", "fast_hz", "fast_uv", "emg_onset",
    "emg_duration", "emg_uv", "emg_peak_frac", "transient_uv",
]  # fmt: skip


def _one_spasm(onset: float, cluster: int, emg: bool, rng: np.random.Generator) -> dict:
    has_tr = bool(rng.random() < 0.6)
    tr_len = rng.uniform(0.05, 0.15) if has_tr else 0.0
    sw_on = onset + tr_len
    sw_dur = rng.uniform(0.3, 1.0)
    dec_on = sw_on + sw_dur
    duration = float(np.clip(dec_on + 0.3 - onset, 0.5, 2.0))
    emg_dur = float(np.clip(duration * rng.uniform(0.9, 1.1), 0.5, 2.0))
    return {
        "onset": onset,
        "duration": duration,
        "cluster": cluster,
        "eventType": EVENT_TYPE,
        "trial_type": EVENT_TYPE,
        "has_emg": bool(emg and rng.random() < 0.9),
        "has_transient": has_tr,
        "slow_wave_onset": sw_on,
        "slow_wave_duration": sw_dur,
        "slow_wave_uv": rng.uniform(200, 500),
        "polarity": 1.0 if rng.random() < 0.8 else -1.0,
        "decrement_onset": dec_on,
        "decrement_duration": rng.uniform(1.0, 3.0),
        "decrement_gain": rng.uniform(0.1, 0.3),
        "has_fast": bool(rng.random() < 0.6),
        "fast_hz": rng.uniform(15, 30),
        "fast_uv": rng.uniform(5, 20),
        "emg_onset": sw_on + rng.uniform(0.0, 0.1),
        "emg_duration": emg_dur,
        "emg_uv": rng.uniform(100, 500),
        "emg_peak_frac": rng.uniform(0.4, 0.6),
        "transient_uv": rng.uniform(100, 250) if has_tr else 0.0,
    }


def _overlapping(events: pd.DataFrame, t0: float, t1: float) -> pd.DataFrame:
    if events.empty:
        return events
    end = events["decrement_onset"] + events["decrement_duration"] + 0.5
    return events[(end > t0) & (events["onset"] < t1)]


def decrement_gain(events: pd.DataFrame, t: np.ndarray, sfreq: float) -> np.ndarray:
    """Gain (n,) that attenuates ongoing activity during each post-spasm electrodecrement."""
    sel = _overlapping(events, t[0], t[-1])
    if sel.empty:
        return np.ones(t.size)
    a = sel["decrement_onset"].to_numpy()
    b = a + sel["decrement_duration"].to_numpy()
    return piecewise_gain(
        t, np.column_stack([a, b]), sel["decrement_gain"].to_numpy(), 1.0, 0.2, sfreq
    )


def render_spasms_eeg(events: pd.DataFrame, t: np.ndarray, sfreq: float, seed: int) -> np.ndarray:
    """Additive ictal EEG (transient, slow wave, fast activity) of the spasms overlapping ``t``."""
    n = t.size
    out = np.zeros((len(EEG_NAMES), n))
    t0 = t[0]
    for idx, ev in _overlapping(events, t0, t[-1]).iterrows():
        rng = np.random.default_rng([seed, 301, int(idx)])
        fld = (0.5 + 0.5 * field(9, 0.9)) * rng.uniform(0.85, 1.15, len(EEG_NAMES))
        # slow wave: main lobe (75 % of p-p) then an opposite after-going lobe (25 %)
        i0 = int(round((ev["slow_wave_onset"] - t0) * sfreq))
        length = int(round(ev["slow_wave_duration"] * sfreq * 1.4))
        x = np.arange(length) / (ev["slow_wave_duration"] * sfreq)
        wave = np.where(
            x < 1.0,
            0.75 * np.sin(np.pi * np.minimum(x, 1.0)),
            -0.25 * np.sin(np.pi * np.clip((x - 1.0) / 0.4, 0, 1)),
        )
        wave *= ev["polarity"] * ev["slow_wave_uv"]
        if ev["has_transient"]:
            tl = ev["slow_wave_onset"] - ev["onset"]
            xt = np.arange(int(round(tl * sfreq)) + 1) / (tl * sfreq)
            tr = -ev["polarity"] * ev["transient_uv"] * np.sin(np.pi * np.minimum(xt, 1.0))
            _add(out, fld, tr, i0 - xt.size + 1)
        _add(out, fld, wave, i0)
        if ev["has_fast"]:
            d0 = int(round((ev["decrement_onset"] - 0.2 - t0) * sfreq))
            m = int(round((ev["decrement_duration"] * 0.8 + 0.2) * sfreq))
            tt = np.arange(m) / sfreq
            env = np.clip(np.sin(np.pi * tt / tt[-1]), 0, None) ** 0.5 if m > 1 else np.ones(m)
            fast = ev["fast_uv"] * env * np.sin(2 * np.pi * ev["fast_hz"] * tt + rng.uniform(0, 6))
            _add(out, 0.6 + 0.4 * field(9, 0.7), fast, d0)
    return out


def _add(out: np.ndarray, fld: np.ndarray, wave: np.ndarray, start: int) -> None:
    n = out.shape[1]
    a, b = max(start, 0), min(start + wave.size, n)
    if b > a:
        out[:, a:b] += fld[:, None] * wave[None, a - start : b - start]


def diamond(m: int, peak_frac: float) -> np.ndarray:
    """Diamond (triangular) envelope of ``m`` samples, 0 at the ends and 1 at ``peak_frac``."""
    x = (np.arange(m) + 0.5) / m
    return np.where(x < peak_frac, x / peak_frac, (1.0 - x) / (1.0 - peak_frac))


def render_emg_bursts(
    bursts: pd.DataFrame, t: np.ndarray, sfreq: float, seed: int, tag: int
) -> np.ndarray:
    """EMG bursts (onset, duration, uv, peak_frac, shape) overlapping ``t`` -> (n,).

    ``shape`` "diamond" (spasm) or "irregular" (movement): the carrier is broadband noise
    (20-250 Hz, within Nyquist) drawn per burst from its own seed.
    """
    n = t.size
    out = np.zeros(n)
    if bursts.empty:
        return out
    t0 = t[0]
    sel = bursts[(bursts["onset"] + bursts["duration"] > t0) & (bursts["onset"] < t[-1])]
    for idx, b in sel.iterrows():
        rng = np.random.default_rng([seed, tag, int(idx)])
        m = int(round(b["duration"] * sfreq))
        carrier = _emg_noise(rng, m, sfreq)
        if b["shape"] == "diamond":
            env = diamond(m, b["peak_frac"])
        else:
            env = np.clip(np.abs(np.cumsum(rng.standard_normal(m))) / np.sqrt(m), 0.2, 1.0)
            env *= diamond(m, 0.5) ** 0.2
        wave = b["uv"] * env * carrier
        start = int(round((b["onset"] - t0) * sfreq))
        scatter_add(out[None, :], np.zeros(1, dtype=np.int64), np.array([start]), wave[None, :])
    return out


def _emg_noise(rng: np.random.Generator, m: int, sfreq: float) -> np.ndarray:
    """Unit-RMS broadband noise between 20 Hz and min(250 Hz, 0.45 * sfreq)."""
    from hypsa.simulate.background import shaped_spectrum

    hi = min(250.0, 0.45 * sfreq)
    m2 = max(m, 8)
    h = shaped_spectrum(m2, sfreq, "band", lo=20.0, hi=hi)
    x = np.fft.irfft(np.fft.rfft(rng.standard_normal(m2), norm="ortho") * h, n=m2, norm="ortho")
    return x[:m]
