"""Artifacts of infant EEG, listed in the simulation's truth so detectors can be scored on them.

========================  ======================================================================
kind                      model
========================  ======================================================================
``blink``                 awake, ~4/min; monophasic positive bump 100-300 µV, 0.2-0.4 s, Fp1/Fp2
                          (30 % at F3/Fz/F4/F7/F8)
``eye_movement``          awake and REM, ~1/min; slow horizontal movement 50-150 µV, 1-3 s, opposite
                          polarity at F7/F8 (50 % at Fp1/Fp2)
``movement``              ~4/h; large (200-600 µV) irregular swings on all channels, 1-5 s, with
                          an EMG burst when EMG is recorded
``electrode_pop``         ~3/h; one channel, step of 100-500 µV then exponential decay (0.2-1 s)
``chewing``               awake, ~2/h; 20-70 Hz bursts at 1-2 Hz on F7/F8/T7/T8, 20-60 µV, 2-6 s
``emg_burst``             ~6/h on the EMG channel only: non-spasm movement bursts, 0.3-3 s, 50-300µV
``mains``                 whole recording; ``mains_hz`` sinusoid, 5-20 µV per channel
``flat_channel``          whole recording; one random channel (never Cz) carries < 1 µV noise only
``noisy_channel``         whole recording; one other random channel carries extra 40 µV noise
========================  ======================================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hypsa.simulate.background import EEG_NAMES, NoiseStream, scatter_add

__all__ = ["ArtifactRenderer", "plan_artifacts", "emg_artifact_bursts"]

N_EEG = len(EEG_NAMES)
_I = {n: i for i, n in enumerate(EEG_NAMES)}
#: kind -> (events per minute, states it occurs in, duration range s, amplitude range µV)
RATES = {
    "blink": (4.0, ("wake",), (0.2, 0.4), (100.0, 300.0)),
    "eye_movement": (1.0, ("wake", "rem"), (1.0, 3.0), (50.0, 150.0)),
    "movement": (4.0 / 60, ("wake", "nrem", "rem"), (1.0, 5.0), (200.0, 600.0)),
    "electrode_pop": (3.0 / 60, ("wake", "nrem", "rem"), (0.2, 1.0), (100.0, 500.0)),
    "chewing": (2.0 / 60, ("wake",), (2.0, 6.0), (20.0, 60.0)),
    "emg_burst": (6.0 / 60, ("wake", "nrem", "rem"), (0.3, 3.0), (50.0, 300.0)),
}
CHANNELS = {
    "blink": "Fp1,Fp2",
    "eye_movement": "F7,F8",
    "movement": "all",
    "chewing": "F7,F8,T7,T8",
    "emg_burst": "EMG",
}


def plan_artifacts(
    duration_s: float,
    states: pd.DataFrame,
    emg: bool,
    mains_hz: float | None,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """All artifacts of the recording: onset, duration, kind, channel, amp (µV), param."""
    rows = []
    for kind, (per_min, st_ok, dur_rng, amp_rng) in RATES.items():
        if kind == "emg_burst" and not emg:
            continue
        for on, dur, st in zip(states["onset"], states["duration"], states["state"], strict=True):
            if st not in st_ok:
                continue
            k = rng.poisson(per_min * dur / 60.0)
            for t in on + rng.uniform(0, max(dur - dur_rng[1], 0.1), k):
                d = rng.uniform(*dur_rng)
                ch = CHANNELS.get(kind, "")
                param = 0.0
                if kind == "electrode_pop":
                    ch = EEG_NAMES[int(rng.integers(0, N_EEG))]
                    param, d = d, 5 * d  # tau, then the visible duration
                rows.append(
                    (
                        float(t),
                        float(min(d, duration_s - t)),
                        kind,
                        ch,
                        rng.uniform(*amp_rng) * rng.choice([-1.0, 1.0]),
                        param,
                    )
                )
    choices = [n for n in EEG_NAMES if n != "Cz"]
    flat, noisy = rng.choice(choices, 2, replace=False)
    rows.append((0.0, duration_s, "flat_channel", str(flat), 0.5, 0.0))
    rows.append((0.0, duration_s, "noisy_channel", str(noisy), 40.0, 0.0))
    if mains_hz:
        rows.append((0.0, duration_s, "mains", "all", rng.uniform(5, 20), float(mains_hz)))
    df = pd.DataFrame(rows, columns=["onset", "duration", "kind", "channel", "amp", "param"])
    df.loc[df["kind"] == "blink", "amp"] = df.loc[df["kind"] == "blink", "amp"].abs()
    return df.sort_values("onset", kind="stable").reset_index(drop=True)


def emg_artifact_bursts(art: pd.DataFrame) -> pd.DataFrame:
    """EMG bursts (non-spasm) implied by the artifacts: 'emg_burst' and 'movement' events."""
    sel = art[art["kind"].isin(["emg_burst", "movement"])]
    return pd.DataFrame(
        {
            "onset": sel["onset"].to_numpy(),
            "duration": sel["duration"].to_numpy(),
            "uv": np.where(sel["kind"] == "movement", 250.0, sel["amp"].abs()),
            "peak_frac": 0.5,
            "shape": "irregular",
        }
    )


class ArtifactRenderer:
    """Render the planned artifacts chunk by chunk (continuous ones from noise streams)."""

    def __init__(self, art: pd.DataFrame, seed: int, sfreq: float) -> None:
        self.art, self.seed, self.sfreq = art, seed, sfreq
        hi = min(100.0, 0.45 * sfreq)
        self.noise = NoiseStream(seed, 401, 2, sfreq, {"kind": "band", "lo": 1.0, "hi": hi})
        self.mains_amp = np.random.default_rng([seed, 402]).uniform(5, 20, N_EEG + 1)
        self.mains_phase = np.random.default_rng([seed, 403]).uniform(0, 0.3, N_EEG + 1)

    def whole(self, kind: str) -> pd.Series | None:
        """The whole-recording artifact row of ``kind`` (or None)."""
        sel = self.art[self.art["kind"] == kind]
        return None if sel.empty else sel.iloc[0]

    def render(self, k: int, t: np.ndarray, eeg: np.ndarray, emg: np.ndarray | None) -> None:
        """Add the artifacts of chunk ``k`` to ``eeg`` (n_eeg, n) and ``emg`` (n,) in place."""
        sf, n, t0 = self.sfreq, t.size, t[0]
        a = self.art
        sel = a[(a["onset"] + a["duration"] > t0) & (a["onset"] < t[-1]) & (a["duration"] < 60)]
        for idx, ev in sel.iterrows():
            rng = np.random.default_rng([self.seed, 404, int(idx)])
            m = max(2, int(round(ev["duration"] * sf)))
            x = np.arange(m) / m
            start = int(round((ev["onset"] - t0) * sf))
            kind, amp = ev["kind"], ev["amp"]
            if kind == "blink":
                wave, fld = (
                    np.sin(np.pi * x) ** 2,
                    _fld({"Fp1": 1, "Fp2": 1}, 0.3, ("F3", "Fz", "F4", "F7", "F8"), 0.03),
                )
                _outer(eeg, fld, amp * wave, start)
            elif kind == "eye_movement":
                wave = np.clip(np.sin(np.pi * x) * 1.6, -1, 1)
                fld = _fld({"F7": 1, "F8": -1, "Fp1": 0.5, "Fp2": -0.5}, 0.0, (), 0.0)
                _outer(eeg, fld, amp * wave, start)
            elif kind == "movement":
                walk = np.cumsum(rng.standard_normal((N_EEG + 1, m)), axis=1)
                walk -= np.linspace(walk[:, :1], walk[:, -1:], m, axis=1)[..., 0]
                walk /= np.abs(walk).max(axis=1, keepdims=True) + 1e-9
                env = np.sin(np.pi * x) ** 0.5
                wave = abs(amp) * env * (0.6 * walk[:N_EEG] + 0.4 * walk[N_EEG])
                scatter_add(eeg, np.arange(N_EEG), np.full(N_EEG, start), wave)
            elif kind == "electrode_pop":
                wave = amp * np.exp(-np.arange(m) / (ev["param"] * sf))
                ch = np.array([_I[ev["channel"]]])
                scatter_add(eeg, ch, np.array([start]), wave[None, :])
            elif kind == "chewing":
                carrier = rng.standard_normal(m)
                tt = np.arange(m) / sf
                carrier = np.fft.irfft(np.fft.rfft(carrier) * _bandmask(m, sf, 20, 70), n=m)
                carrier /= carrier.std() + 1e-12
                gate = np.clip(np.sin(2 * np.pi * rng.uniform(1, 2) * tt), 0, None) ** 2
                wave = abs(amp) * gate * carrier
                fld = _fld(
                    {"F7": 1, "F8": 1, "T7": 1, "T8": 1}, 0.2, ("Fp1", "Fp2", "P7", "P8"), 0.02
                )
                _outer(eeg, fld, wave, start)
        row = self.whole("mains")
        if row is not None:
            ph = 2 * np.pi * row["param"] * t
            s = np.sin(ph[None, :] + self.mains_phase[:, None]) * self.mains_amp[:, None]
            eeg += s[:N_EEG]
            if emg is not None:
                emg += s[N_EEG]
        noise = self.noise.next(k, n)
        for kind, j in (("noisy_channel", 0), ("flat_channel", 1)):
            row = self.whole(kind)
            if row is None:
                continue
            i = _I[row["channel"]]
            if kind == "flat_channel":
                eeg[i] = row["amp"] * noise[j]
            else:
                eeg[i] += row["amp"] * noise[j]


def _fld(
    main: dict[str, float], near: float, near_names: tuple[str, ...], rest: float
) -> np.ndarray:
    f = np.full(N_EEG, rest)
    for nm in near_names:
        f[_I[nm]] = near
    for nm, v in main.items():
        f[_I[nm]] = v
    return f


def _outer(eeg: np.ndarray, fld: np.ndarray, wave: np.ndarray, start: int) -> None:
    n = eeg.shape[1]
    a, b = max(start, 0), min(start + wave.size, n)
    if b > a:
        eeg[:, a:b] += fld[:, None] * wave[None, a - start : b - start]


def _bandmask(m: int, sf: float, lo: float, hi: float) -> np.ndarray:
    f = np.fft.rfftfreq(m, 1.0 / sf)
    return ((f >= lo) & (f <= min(hi, 0.49 * sf))).astype(float)
