"""Hypsarrhythmia (classic and the five modified forms) and the non-hypsarrhythmic hard negatives.

Classic hypsarrhythmia (Gibbs & Gibbs 1952) is modelled as two layers added to the background:

* high-voltage delta (0.5-3 Hz, about 85 µV standard deviation per channel, i.e. 250-400 µV
  peak-to-peak) from independent sources under each electrode, spread with a *narrow* spatial kernel
  and modulated by an independent slow envelope per channel: asynchronous, varying independently;
* multifocal spikes (20-70 ms) and sharp waves (70-200 ms) of 100-300 µV, often followed by a slow
  wave, whose focus is drawn afresh for every discharge (they shift from moment to moment in time
  and place), several per second in total, as a Poisson process (no rhythm).

The pattern fades in REM sleep and around spasm clusters and fragments in NREM sleep (bursts
separated by lower-voltage stretches). Modified forms follow Hrachovy, Frost & Kellaway (1984).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field

import numpy as np
import pandas as pd

from hypsa.simulate.background import (
    EEG_NAMES,
    POSITIONS,
    NoiseStream,
    field,
    mixing_matrix,
    piecewise_gain,
    scatter_add,
    state_gain,
)

__all__ = ["FORMS", "VARIANTS", "BACKGROUNDS", "HypsModel", "plan_hypsarrhythmia"]

FORMS = ("classic", "modified", "none")
VARIANTS = ("attenuation", "asymmetry", "focus", "synchronous", "slow", "fragmented")
BACKGROUNDS = ("normal", "sleep_slow", "single_focus", "burst_suppression")

N_EEG = len(EEG_NAMES)
LEFT = POSITIONS[:, 0] < -0.01
RIGHT = POSITIONS[:, 0] > 0.01
SPIKE_LEN_S = 0.65


@dataclass
class HypsModel:
    """Parameters and whole-recording plans of the epileptiform layers (see module docstring)."""

    form: str
    variant: str | None
    background: str
    delta_uv: float = 0.0  # std of the asynchronous delta layer
    kernel: float = 0.2  # spatial kernel width of that layer (head radius 1)
    common: float = 0.0  # fraction of variance from one generalized source (synchrony)
    hemi: np.ndarray = dc_field(default_factory=lambda: np.ones(N_EEG))
    spike_rate: dict[str, float] = dc_field(
        default_factory=lambda: {"wake": 0, "nrem": 0, "rem": 0}
    )
    layer_state: dict[str, float] = dc_field(
        default_factory=lambda: {"wake": 1.0, "nrem": 1.0, "rem": 0.35}
    )
    spikes: pd.DataFrame = dc_field(default_factory=pd.DataFrame)
    layer_cuts: pd.DataFrame = dc_field(default_factory=pd.DataFrame)  # onset, offset, gain (layer)
    global_cuts: pd.DataFrame = dc_field(default_factory=pd.DataFrame)  # onset, offset, gain (all)
    bs_bursts: bool = False
    info: dict = dc_field(default_factory=dict)

    @property
    def expected_present(self) -> bool:
        """Whether a grader should call this recording hypsarrhythmic."""
        return self.form != "none"

    # -- rendering -----------------------------------------------------------------------------
    def streams(self, seed: int, sfreq: float) -> dict[str, NoiseStream]:
        """Noise streams of the delta layer, its common source and the per-channel envelopes."""
        return {
            "delta": NoiseStream(seed, 201, N_EEG, sfreq, {"kind": "band", "lo": 0.5, "hi": 3.0}),
            "common": NoiseStream(seed, 202, 1, sfreq, {"kind": "band", "lo": 0.5, "hi": 2.5}),
            "env": NoiseStream(seed, 203, N_EEG, sfreq, {"kind": "band", "lo": 0.03, "hi": 0.25}),
        }

    def render(
        self,
        streams: dict[str, NoiseStream],
        k: int,
        t: np.ndarray,
        states: pd.DataFrame,
        sfreq: float,
    ) -> np.ndarray:
        """Epileptiform layer of chunk ``k`` (samples at absolute times ``t``) -> (n_eeg, n)."""
        n = t.size
        out = np.zeros((N_EEG, n))
        if self.delta_uv > 0:
            local = mixing_matrix(self.kernel) @ streams["delta"].next(k, n)
            env = np.exp(0.4 * streams["env"].next(k, n) - 0.16)
            layer = np.sqrt(1.0 - self.common) * local * env
            if self.common > 0:
                wide = field(np.array([0.0, 0.1]), 1.2)[:, None]
                layer += np.sqrt(self.common) * wide * streams["common"].next(k, n)
            out += self.delta_uv * layer
        out += self._render_spikes(t[0], n, sfreq)
        out *= self.hemi[:, None]
        gain = state_gain(t, states, self.layer_state, sfreq)
        if len(self.layer_cuts):
            gain *= piecewise_gain(
                t,
                self.layer_cuts[["onset", "offset"]].to_numpy(),
                self.layer_cuts["gain"].to_numpy(),
                1.0,
                0.3,
                sfreq,
            )
        return out * gain

    def global_gain(self, t: np.ndarray, sfreq: float) -> np.ndarray:
        """Gain applied to background + epileptiform layers (attenuations, suppressions)."""
        if not len(self.global_cuts):
            return np.ones(t.size)
        return piecewise_gain(
            t,
            self.global_cuts[["onset", "offset"]].to_numpy(),
            self.global_cuts["gain"].to_numpy(),
            1.0,
            0.15,
            sfreq,
        )

    def _render_spikes(self, t0: float, n: int, sfreq: float) -> np.ndarray:
        out = np.zeros((N_EEG, n))
        sp = self.spikes
        if sp.empty:
            return out
        i0, i1 = np.searchsorted(sp["onset"].to_numpy(), [t0 - SPIKE_LEN_S, t0 + n / sfreq])
        sel = sp.iloc[i0:i1]
        if sel.empty:
            return out
        length = int(SPIKE_LEN_S * sfreq)
        tau = np.arange(length)[None, :] / sfreq
        w = sel["width"].to_numpy()[:, None]
        ls = sel["slow_len"].to_numpy()[:, None]
        main = np.exp(-0.5 * ((tau - w / 2) / (w / 5)) ** 2)
        after = -0.25 * np.exp(-0.5 * ((tau - 1.1 * w) / (w / 3)) ** 2)
        x = (tau - 1.2 * w) / ls
        slow = 0.5 * np.sin(np.pi * np.clip(x, 0, 1)) * sel["has_slow"].to_numpy()[:, None]
        waves = (sel["amp"] * sel["sign"]).to_numpy()[:, None] * (main + after + slow)
        starts = np.round((sel["onset"].to_numpy() - t0) * sfreq).astype(np.int64)
        focal = ~sel["generalized"].to_numpy()
        src = np.zeros((N_EEG, n))
        scatter_add(src, sel["focus"].to_numpy()[focal], starts[focal], waves[focal])
        spread = np.stack([field(i, 0.3) for i in range(N_EEG)], axis=1)  # column = source field
        out += spread @ src
        if (~focal).any():
            course = np.zeros((1, n))
            scatter_add(
                course, np.zeros((~focal).sum(), dtype=np.int64), starts[~focal], waves[~focal]
            )
            out += field(9, 1.1)[:, None] * course
        return out


def _plan_spikes(
    rng: np.random.Generator,
    states: pd.DataFrame,
    rate: dict[str, float],
    focus: int | None,
    focus_frac: float,
    generalized_frac: float,
    amp: tuple[float, float],
) -> pd.DataFrame:
    """Poisson spike train (thinned per state) with a random focus per discharge."""
    parts = []
    for on, dur, st in zip(states["onset"], states["duration"], states["state"], strict=True):
        k = rng.poisson(rate[st] * dur)
        parts.append(on + rng.uniform(0, dur, k))
    onset = np.sort(np.concatenate(parts)) if parts else np.zeros(0)
    m = onset.size
    is_spike = rng.random(m) < 0.6
    width = np.where(is_spike, rng.uniform(0.02, 0.07, m), rng.uniform(0.07, 0.2, m))
    foci = rng.integers(0, N_EEG, m)
    if focus is not None:
        foci = np.where(rng.random(m) < focus_frac, focus, foci)
    return pd.DataFrame(
        {
            "onset": onset,
            "focus": foci.astype(np.int64),
            "amp": rng.uniform(*amp, m),
            "width": width,
            "has_slow": rng.random(m) < 0.6,
            "slow_len": rng.uniform(0.15, 0.4, m),
            "sign": np.where(rng.random(m) < 0.85, -1.0, 1.0),
            "generalized": rng.random(m) < generalized_frac,
        }
    )


def _alternate(
    rng: np.random.Generator,
    start: float,
    stop: float,
    on: tuple[float, float],
    off: tuple[float, float],
    gain_off: float,
) -> list[tuple[float, float, float]]:
    """Alternate 'on' stretches and 'off' stretches (with ``gain_off``) within [start, stop)."""
    rows, t = [], start + rng.uniform(*on)
    while t < stop:
        d = rng.uniform(*off)
        rows.append((t, min(t + d, stop), gain_off))
        t += d + rng.uniform(*on)
    return rows


def plan_hypsarrhythmia(
    form: str,
    variant: str | None,
    background: str,
    states: pd.DataFrame,
    clusters: pd.DataFrame,
    duration_s: float,
    rng: np.random.Generator,
) -> HypsModel:
    """Choose the parameters of a form/variant/background and plan its spikes and gain changes."""
    m = HypsModel(form=form, variant=variant, background=background)
    layer_cuts: list[tuple[float, float, float]] = []
    global_cuts: list[tuple[float, float, float]] = []
    focus, focus_frac, gen_frac, amp = None, 0.0, 0.0, (100.0, 300.0)
    if form != "none":
        m.delta_uv, m.kernel = 85.0, 0.25
        m.spike_rate = {"wake": 5.0, "nrem": 7.0, "rem": 1.5}
        nrem_gap_gain = 0.5
        if variant == "synchronous":
            m.common, m.kernel, gen_frac = 0.7, 0.45, 0.5
        elif variant == "asymmetry":
            low = LEFT if rng.random() < 0.5 else RIGHT
            m.hemi = np.where(low, 0.3, 1.0)
            m.hemi[~(LEFT | RIGHT)] = 0.65
            m.info["low_hemisphere"] = "left" if low is LEFT else "right"
        elif variant == "focus":
            focus, focus_frac = int(rng.integers(0, N_EEG)), 0.6
            m.info["focus"] = EEG_NAMES[focus]
        elif variant == "slow":
            m.delta_uv = 100.0
            m.spike_rate = {"wake": 0.4, "nrem": 0.6, "rem": 0.1}
        elif variant == "fragmented":
            nrem_gap_gain = 0.15
        if variant == "attenuation":
            for on, dur, st in zip(
                states["onset"], states["duration"], states["state"], strict=True
            ):
                if st != "rem":
                    global_cuts += [
                        (a, b, rng.uniform(0.1, 0.2))
                        for a, b, _ in _alternate(rng, on, on + dur, (10.0, 40.0), (1.0, 10.0), 0)
                    ]
        for on, dur, st in zip(states["onset"], states["duration"], states["state"], strict=True):
            if st == "nrem":
                layer_cuts += _alternate(rng, on, on + dur, (2.0, 10.0), (3.0, 12.0), nrem_gap_gain)
        for on, off in zip(clusters["onset"], clusters["offset"], strict=True):
            layer_cuts.append((on - 60.0, off + 60.0, 0.6))
    elif background == "single_focus":
        focus, focus_frac, amp = int(EEG_NAMES.index("C4")), 1.0, (80.0, 200.0)
        m.spike_rate = {"wake": 0.5, "nrem": 0.8, "rem": 0.3}
        m.layer_state = {"wake": 1.0, "nrem": 1.0, "rem": 1.0}
        m.info["focus"] = "C4"
    elif background == "burst_suppression":
        m.delta_uv, m.kernel, m.common = 70.0, 0.45, 0.3
        m.layer_state = {"wake": 1.0, "nrem": 1.0, "rem": 1.0}
        m.spike_rate = {"wake": 1.5, "nrem": 1.5, "rem": 1.5}
        m.bs_bursts = True
        for a, b, _ in _alternate(rng, 0.0, duration_s, (1.0, 5.0), (2.0, 10.0), 0.0):
            layer_cuts.append((a, b, 0.0))
            global_cuts.append((a, b, 0.12))
    if layer_cuts:
        layer_cuts.sort()
        layer_cuts = _flatten(layer_cuts)
    m.spikes = _plan_spikes(rng, states, m.spike_rate, focus, focus_frac, gen_frac, amp)
    if m.bs_bursts and len(layer_cuts):  # no spikes during suppression
        lc = np.array(layer_cuts)
        i = np.searchsorted(lc[:, 0], m.spikes["onset"].to_numpy(), side="right") - 1
        inside = (i >= 0) & (m.spikes["onset"].to_numpy() < lc[np.maximum(i, 0), 1])
        m.spikes = m.spikes[~inside].reset_index(drop=True)
    cols = ["onset", "offset", "gain"]
    m.layer_cuts = pd.DataFrame(layer_cuts, columns=cols)
    m.global_cuts = pd.DataFrame(sorted(global_cuts), columns=cols)
    return m


def _flatten(cuts: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """Make sorted, possibly overlapping [a, b) gain intervals disjoint (the smaller gain wins)."""
    edges = sorted({x for a, b, _ in cuts for x in (a, b)})
    out: list[tuple[float, float, float]] = []
    arr = np.array(cuts)
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        mid = 0.5 * (a + b)
        inside = (arr[:, 0] <= mid) & (arr[:, 1] > mid)
        if inside.any():
            g = float(arr[inside, 2].min())
            if out and out[-1][1] == a and out[-1][2] == g:
                out[-1] = (out[-1][0], b, g)
            else:
                out.append((a, b, g))
    return out
