"""Simulated infant EEG with known truth: hypsarrhythmia forms, epileptic spasms, sleep, artifacts.

:func:`simulate` returns a :class:`Simulation` held in memory; :func:`simulate_to_edf` generates the
same content chunk by chunk and streams it to an EDF+ file, for recordings up to 24 h. Everything is
deterministic given ``seed`` (and ``chunk_s``). The content model and its clinical basis are
described in ``docs/simulator.md``.

Layers, summed per chunk::

    (background + hypsarrhythmia layer) * attenuation gains * post-spasm decrement
    + spasm ictal waveforms + artifacts                     (EEG, 19 channels)
    baseline EMG noise + spasm bursts + movement bursts     (optional deltoid EMG)
"""

from __future__ import annotations

import math
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hypsa.errors import ParameterError
from hypsa.simulate.artifacts import ArtifactRenderer, emg_artifact_bursts, plan_artifacts
from hypsa.simulate.background import (
    EEG_NAMES,
    STATE_PARAMS,
    NoiseStream,
    mixing_matrix,
    plan_sleep_events,
    plan_states,
    posterior_rhythm_hz,
    render_sleep_events,
    state_gain,
)
from hypsa.simulate.background import (
    field as scalp_field,
)
from hypsa.simulate.hypsarrhythmia import BACKGROUNDS, FORMS, VARIANTS, plan_hypsarrhythmia
from hypsa.simulate.spasms import (
    BACKGROUND_WINDOW_S,
    SPASM_FORMS,
    SPASM_VARIETIES,
    background_level,
    decrement_gain,
    plan_clusters,
    render_emg_bursts,
    render_spasms_eeg,
    render_spasms_eeg_wide,
)
from hypsa.simulate.writer import (
    StreamingEdfWriter,
    annotation_table,
    events_tsv_path,
    write_edf_whole,
    write_events_tsv,
)

__all__ = [
    "Simulation",
    "simulate",
    "simulate_to_edf",
    "EEG_NAMES",
    "FORMS",
    "VARIANTS",
    "BACKGROUNDS",
    "SPASM_FORMS",
    "SPASM_VARIETIES",
]

DEFAULT_START = datetime(2024, 1, 1, 9, 0, 0)
EVENT_COLUMNS = ["onset", "duration", "cluster", "eventType", "trial_type", "has_emg"]


@dataclass
class Simulation:
    """A simulated recording and its truth.

    Attributes
    ----------
    data : ndarray of float32, shape (n_channels, n_samples)
        Signals in µV (referential EEG, then the deltoid EMG if simulated).
    sfreq : float
        Sampling rate (Hz).
    ch_names, ch_types : list of str
        The 19 10-20 names (then ``"EMG"``) and ``"eeg"``/``"emg"``.
    events : DataFrame
        One row per spasm: ``onset, duration, cluster, eventType, trial_type, has_emg`` then the
        generation details (slow wave, decrement, fast activity, EMG burst timings and amplitudes);
        with ``spasm_variety="wide"`` also ``form`` (complete / wave_only / decrement_only), the
        measured ``background_uv`` and the drawn shape, field and lag parameters.
    clusters : DataFrame
        ``cluster, onset, offset, count``.
    states : DataFrame
        ``onset, duration, state`` with state in wake/nrem/rem.
    truth : dict
        ``form, variant, background, seed, parameters, expected_present, artifacts`` (a DataFrame
        ``onset, duration, kind, channel``) and details (``attenuations``, ``n_spikes``, ...).
    start_time : datetime
        Start of the recording.
    """

    data: np.ndarray
    sfreq: float
    ch_names: list[str]
    ch_types: list[str]
    events: pd.DataFrame
    clusters: pd.DataFrame
    states: pd.DataFrame
    truth: dict
    start_time: datetime = DEFAULT_START

    @property
    def duration(self) -> float:
        """Duration in seconds."""
        return self.data.shape[1] / self.sfreq

    def annotations(self) -> pd.DataFrame:
        """EDF annotations: ``onset, duration, description`` (spasms, clusters, states, ...)."""
        return annotation_table(
            self.events, self.clusters, self.states, self.truth.get("artifacts")
        )

    def write_edf(self, path: str | Path) -> Path:
        """Write EDF+C (via edfio) and ``<stem>_events.tsv`` beside it; return the EDF path.

        Parameters
        ----------
        path : str or Path
            Target ``.edf`` file.

        Returns
        -------
        Path
            The EDF written. Raises :class:`~hypsa.errors.ParameterError` when the recording is not
            a whole number of seconds or the sampling rate is not an integer.
        """
        path = Path(path)
        write_edf_whole(
            path,
            self.data,
            self.sfreq,
            self.ch_names,
            self.ch_types,
            self.start_time,
            self.annotations(),
        )
        write_events_tsv(events_tsv_path(path), self.events, self.start_time, self.duration)
        return path

    def to_recording(self) -> Any:
        """Return a :class:`hypsa.io.Recording` of the signals and annotations."""
        from hypsa.io import Recording

        return Recording.from_array(
            self.data,
            self.sfreq,
            self.ch_names,
            ch_types=self.ch_types,
            start_time=self.start_time,
            annotations=self.annotations(),
        )


# --- parameters ----------------------------------------------------------------------------------
def _validate(p: dict[str, Any]) -> dict[str, Any]:
    def bad(msg: str) -> None:
        raise ParameterError(msg)

    d = p["duration_s"]
    if not isinstance(d, int | float) or not math.isfinite(d) or d < 10:
        bad(f"duration_s must be a finite number >= 10 s, got {d!r}")
    fs = p["sfreq"]
    if not isinstance(fs, int | float) or not 100 <= fs <= 4096:
        bad(f"sfreq must be between 100 and 4096 Hz, got {fs!r}")
    if not isinstance(p["age_months"], int | float) or not 1 <= p["age_months"] <= 24:
        bad(f"age_months must be between 1 and 24, got {p['age_months']!r}")
    if p["hypsarrhythmia"] not in FORMS:
        bad(f"hypsarrhythmia must be one of {FORMS}, got {p['hypsarrhythmia']!r}")
    if p["variant"] is not None and (
        p["hypsarrhythmia"] != "modified" or p["variant"] not in VARIANTS
    ):
        bad(
            f"variant must be None or one of {VARIANTS} with hypsarrhythmia='modified', "
            f"got {p['variant']!r} with {p['hypsarrhythmia']!r}"
        )
    if p["background"] not in BACKGROUNDS:
        bad(f"background must be one of {BACKGROUNDS}, got {p['background']!r}")
    if p["background"] != "normal" and p["hypsarrhythmia"] != "none":
        bad("background other than 'normal' needs hypsarrhythmia='none'")
    if (
        not isinstance(p["n_clusters"], int)
        or isinstance(p["n_clusters"], bool)
        or p["n_clusters"] < 0
    ):
        bad(f"n_clusters must be an integer >= 0, got {p['n_clusters']!r}")
    for key, lo_min in (("spasms_per_cluster", 1), ("spasm_interval_s", 0.5)):
        v = p[key]
        if (
            not isinstance(v, tuple | list)
            or len(v) != 2
            or not all(isinstance(x, int | float) for x in v)
            or not lo_min <= v[0] <= v[1]
        ):
            bad(f"{key} must be a pair (low, high) with {lo_min} <= low <= high, got {v!r}")
    m = p["mains_hz"]
    if m is not None and m != 0 and (not isinstance(m, int | float) or not 0 < m < fs / 2):
        bad(f"mains_hz must be None, 0 or between 0 and sfreq/2, got {m!r}")
    if p["spasm_variety"] not in SPASM_VARIETIES:
        bad(f"spasm_variety must be one of {SPASM_VARIETIES}, got {p['spasm_variety']!r}")
    if not isinstance(p["seed"], int | np.integer) or p["seed"] < 0:
        bad(f"seed must be a non-negative integer, got {p['seed']!r}")
    if (
        not isinstance(p["chunk_s"], int | float)
        or p["chunk_s"] < 10
        or abs(p["chunk_s"] - round(p["chunk_s"])) > 1e-9
    ):
        bad(f"chunk_s must be a whole number of seconds >= 10, got {p['chunk_s']!r}")
    return p


# --- the model -----------------------------------------------------------------------------------
@dataclass
class _Plan:
    params: dict[str, Any]
    n_samples: int
    states: pd.DataFrame
    events: pd.DataFrame
    clusters: pd.DataFrame
    hyps: Any
    sleep_events: Any
    artifacts: pd.DataFrame
    emg_bursts: pd.DataFrame
    truth: dict = field(default_factory=dict)

    @property
    def ch_names(self) -> list[str]:
        return list(EEG_NAMES) + (["EMG"] if self.params["emg"] else [])

    @property
    def ch_types(self) -> list[str]:
        return ["eeg"] * len(EEG_NAMES) + (["emg"] if self.params["emg"] else [])


def _plan(p: dict[str, Any]) -> _Plan:
    seed, d = int(p["seed"]), float(p["duration_s"])
    rng = np.random.default_rng([seed, 1])
    form, variant = p["hypsarrhythmia"], p["variant"]
    if form == "modified" and variant is None:
        variant = str(rng.choice(VARIANTS))
    first = None
    if p["background"] == "sleep_slow" or variant == "fragmented":
        first = "nrem"
    states = plan_states(d, np.random.default_rng([seed, 2]), p["sleep"], first)
    events, clusters = plan_clusters(
        d,
        states,
        p["n_clusters"],
        tuple(p["spasms_per_cluster"]),
        tuple(p["spasm_interval_s"]),
        p["emg"],
        np.random.default_rng([seed, 3]),
        p["spasm_variety"],
    )
    hyps = plan_hypsarrhythmia(
        form, variant, p["background"], states, clusters, d, np.random.default_rng([seed, 4])
    )
    sleep_ev = plan_sleep_events(states, np.random.default_rng([seed, 5]))
    if p["artifacts"]:
        art = plan_artifacts(
            d, states, p["emg"], p["mains_hz"] or None, np.random.default_rng([seed, 6])
        )
    else:
        art = pd.DataFrame(columns=["onset", "duration", "kind", "channel", "amp", "param"])
    sp = events[events["has_emg"]] if len(events) else events
    bursts = pd.DataFrame(
        {
            "onset": sp["emg_onset"] if len(sp) else [],
            "duration": sp["emg_duration"] if len(sp) else [],
            "uv": sp["emg_uv"] if len(sp) else [],
            "peak_frac": sp["emg_peak_frac"] if len(sp) else [],
            "shape": "diamond",
        }
    )
    if p["emg"] and len(art):
        bursts = pd.concat([bursts, emg_artifact_bursts(art)], ignore_index=True)
    bursts = bursts.sort_values("onset", kind="stable").reset_index(drop=True)
    params = dict(p, variant=variant)
    truth = {
        "form": form,
        "variant": variant,
        "background": p["background"],
        "seed": seed,
        "parameters": params,
        "expected_present": hyps.expected_present,
        "artifacts": art[["onset", "duration", "kind", "channel"]].reset_index(drop=True),
        "attenuations": hyps.global_cuts.rename(columns={"gain": "gain"})
        if variant == "attenuation"
        else pd.DataFrame(columns=["onset", "offset", "gain"]),
        "n_spikes": len(hyps.spikes),
        "spike_rate_per_s": hyps.spike_rate,
        "posterior_rhythm_hz": posterior_rhythm_hz(p["age_months"]),
        "details": hyps.info,
        "event_convention": "onset = start of transient or slow wave; duration = to end of slow "
        "wave + 0.3 s of decrement, clipped to 0.5-2 s",
    }
    if p["spasm_variety"] == "wide":
        truth["spasm_variety"] = "wide"
        truth["event_convention"] += (
            "; decrement_only: onset = start of decrement, duration = motor phase (0.3-1.2 s) "
            "+ 0.3 s, clipped to 0.5-2 s"
        )
    n = int(round(d * p["sfreq"]))
    return _Plan(params, n, states, events, clusters, hyps, sleep_ev, art, bursts, truth)


class _Renderer:
    """Generate the samples of a plan chunk by chunk (chunks must be requested in order)."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        p = plan.params
        self.seed, self.fs = int(p["seed"]), float(p["sfreq"])
        n_eeg = len(EEG_NAMES)
        fpr = posterior_rhythm_hz(p["age_months"])
        self.broad = NoiseStream(self.seed, 101, n_eeg, self.fs, {"kind": "pink", "alpha": 1.6})
        self.post = NoiseStream(
            self.seed, 102, n_eeg, self.fs, {"kind": "peak", "f0": fpr, "bw": 0.5}
        )
        self.slow = NoiseStream(self.seed, 103, 1, self.fs, {"kind": "band", "lo": 0.5, "hi": 2.0})
        self.emg = NoiseStream(
            self.seed,
            104,
            1,
            self.fs,
            {"kind": "band", "lo": 20.0, "hi": min(250.0, 0.45 * self.fs)},
        )
        self.hyps_streams = plan.hyps.streams(self.seed, self.fs)
        self.art = (
            ArtifactRenderer(plan.artifacts, self.seed, self.fs) if len(plan.artifacts) else None
        )
        self.mix_broad, self.mix_post = mixing_matrix(0.5), mixing_matrix(0.4)
        self.post_field = 0.3 + 0.7 * scalp_field(np.array([0.0, -0.8]), 0.5)
        self.slow_field = 0.45 + 0.55 * scalp_field(np.array([0.0, 0.3]), 0.8)
        amp = 1.0 + 0.03 * (6.0 - p["age_months"])  # slightly higher voltage in younger infants
        self.par = {
            k: {s: v[k] * amp for s, v in STATE_PARAMS.items()}
            for k in ("broad", "posterior", "slow_sync")
        }
        if p["background"] == "sleep_slow":
            self.par["slow_sync"]["nrem"] = 62.0
        self.emg_uv = float(np.random.default_rng([self.seed, 7]).uniform(5, 15))
        self.wide = p["spasm_variety"] == "wide"
        self._hist: np.ndarray | None = None  # ongoing activity of the last seconds (wide)

    def _set_levels(self, ongoing: np.ndarray, i0: int, t: np.ndarray) -> None:
        """Set each wide spasm's local background level (and its wave and transient amplitude)
        from the ongoing activity of the ``BACKGROUND_WINDOW_S`` before its onset, when the spasm
        is first rendered; keep the last window of ongoing activity for the next chunk."""
        fs, ev = self.fs, self.plan.events
        nw = int(round(BACKGROUND_WINDOW_S * fs))
        hist = ongoing if self._hist is None else np.hstack([self._hist, ongoing])
        h0 = i0 - (hist.shape[1] - ongoing.shape[1])
        if len(ev):
            todo = ev.index[ev["background_uv"].isna() & (ev["onset"] < t[-1])]
            for idx in todo:
                s1 = int(round(ev.at[idx, "onset"] * fs))
                seg = hist[:, max(s1 - nw - h0, 0) : max(s1 - h0, 0)]
                level = background_level(seg)
                ev.at[idx, "background_uv"] = level
                if ev.at[idx, "form"] != "decrement_only":
                    uv = ev.at[idx, "wave_ratio"] * level
                    ev.at[idx, "slow_wave_uv"] = uv
                    if ev.at[idx, "has_transient"]:
                        ev.at[idx, "transient_uv"] = ev.at[idx, "transient_ratio"] * uv
        self._hist = hist[:, -nw:].copy()

    def chunk(self, k: int, i0: int, n: int) -> np.ndarray:
        pl, fs = self.plan, self.fs
        t = (i0 + np.arange(n)) / fs
        st = pl.states
        eeg = (self.mix_broad @ self.broad.next(k, n)) * state_gain(t, st, self.par["broad"], fs)
        eeg += (
            self.post_field[:, None]
            * (self.mix_post @ self.post.next(k, n))
            * state_gain(t, st, self.par["posterior"], fs)
        )
        eeg += self.slow_field[:, None] * (
            self.slow.next(k, n) * state_gain(t, st, self.par["slow_sync"], fs)
        )
        eeg += render_sleep_events(pl.sleep_events, t[0], n, fs)
        eeg += pl.hyps.render(self.hyps_streams, k, t, st, fs)
        if self.wide:
            eeg *= pl.hyps.global_gain(t, fs)
            self._set_levels(eeg, i0, t)
            eeg *= decrement_gain(pl.events, t, fs)
            eeg += render_spasms_eeg_wide(pl.events, t, fs, self.seed)
        else:
            eeg *= pl.hyps.global_gain(t, fs) * decrement_gain(pl.events, t, fs)
            eeg += render_spasms_eeg(pl.events, t, fs, self.seed)
        emg = None
        if pl.params["emg"]:
            emg = self.emg_uv * self.emg.next(k, n)[0]
            emg += render_emg_bursts(pl.emg_bursts, t, fs, self.seed, 502)
        if self.art is not None:
            self.art.render(k, t, eeg, emg)
        out = eeg if emg is None else np.vstack([eeg, emg[None, :]])
        return out.astype(np.float32)

    def chunks(self, chunk_s: float) -> Any:
        """Yield ``(i0, samples)`` for consecutive chunks of ``chunk_s`` seconds."""
        cs = int(round(chunk_s * self.fs))
        for k, i0 in enumerate(range(0, self.plan.n_samples, cs)):
            yield i0, self.chunk(k, i0, min(cs, self.plan.n_samples - i0))


def _params(
    duration_s: float,
    sfreq: float,
    age_months: float,
    hypsarrhythmia: str,
    variant: str | None,
    background: str,
    n_clusters: int,
    spasms_per_cluster: tuple[int, int],
    spasm_interval_s: tuple[float, float],
    emg: bool,
    artifacts: bool,
    mains_hz: float | None,
    sleep: bool,
    seed: int,
    chunk_s: float,
    spasm_variety: str = "classic",
) -> dict[str, Any]:
    return _validate(
        dict(
            duration_s=duration_s,
            sfreq=sfreq,
            age_months=age_months,
            hypsarrhythmia=hypsarrhythmia,
            variant=variant,
            background=background,
            n_clusters=n_clusters,
            spasms_per_cluster=tuple(spasms_per_cluster)
            if isinstance(spasms_per_cluster, list)
            else spasms_per_cluster,
            spasm_interval_s=tuple(spasm_interval_s)
            if isinstance(spasm_interval_s, list)
            else spasm_interval_s,
            emg=bool(emg),
            artifacts=bool(artifacts),
            mains_hz=mains_hz,
            sleep=bool(sleep),
            seed=seed,
            chunk_s=chunk_s,
            spasm_variety=spasm_variety,
        )
    )


def simulate(
    duration_s: float = 3600.0,
    *,
    sfreq: float = 256.0,
    age_months: float = 6.0,
    hypsarrhythmia: str = "classic",
    variant: str | None = None,
    background: str = "normal",
    n_clusters: int = 3,
    spasms_per_cluster: tuple[int, int] = (5, 20),
    spasm_interval_s: tuple[float, float] = (5.0, 40.0),
    emg: bool = False,
    artifacts: bool = True,
    mains_hz: float | None = 50.0,
    sleep: bool = True,
    seed: int = 0,
    chunk_s: float = 600.0,
    spasm_variety: str = "classic",
) -> Simulation:
    """Simulate an infant EEG recording with known hypsarrhythmia, spasms, states and artifacts.

    Parameters
    ----------
    duration_s : float
        Length in seconds (>= 10).
    sfreq : float
        Sampling rate in Hz (100-4096; EDF writing needs an integer).
    age_months : float
        Age (1-24 months; 3-12 typical); sets the posterior rhythm (4 Hz at 3 to 6 Hz at 12 months).
    hypsarrhythmia : {"classic", "modified", "none"}
        Epileptiform background.
    variant : str or None
        Modified form (Hrachovy 1984): "attenuation", "asymmetry", "focus", "synchronous",
        "slow" or "fragmented"; None picks one from ``seed``. Only with ``"modified"``.
    background : {"normal", "sleep_slow", "single_focus", "burst_suppression"}
        Non-hypsarrhythmic background (hard negatives); only with ``hypsarrhythmia="none"``.
    n_clusters : int
        Number of spasm clusters (0 for none). Clusters that do not fit lose spasms.
    spasms_per_cluster : (int, int)
        Inclusive range of spasms per cluster.
    spasm_interval_s : (float, float)
        Range of the onset-to-onset interval between spasms of a cluster.
    emg : bool
        Add a deltoid surface EMG channel ``"EMG"``.
    artifacts : bool
        Add artifacts (blinks, eye and body movements, pops, chewing, mains, one flat and one noisy
        channel); ``False`` turns all off.
    mains_hz : float or None
        Mains frequency (50/60); None or 0 for none.
    sleep : bool
        Simulate wake/NREM/REM bouts; ``False`` keeps one state (wake; NREM for "sleep_slow").
    seed : int
        Random seed; the same seed (and ``chunk_s``) gives identical arrays.
    chunk_s : float
        Generation chunk (whole seconds); :func:`simulate_to_edf` with the same value gives the
        same samples.
    spasm_variety : {"classic", "wide"}
        How each spasm is drawn. ``"classic"`` (default, unchanged): a generalized 200-500 µV
        slow wave and a 1-3 s decrement to 0.1-0.3. ``"wide"``: wave 0.8-4x the local
        background, mono- or biphasic, either polarity, generalized to focal-predominant fields,
        lags up to 50 ms, decrement to 0.1-0.6 for 0.5-6 s, and the incomplete forms
        (``events["form"]``); ranges in :mod:`hypsa.simulate.spasms` and docs/simulator.md.

    Returns
    -------
    Simulation
        Signals (float32 µV) with their truth.
    """
    p = _params(
        duration_s,
        sfreq,
        age_months,
        hypsarrhythmia,
        variant,
        background,
        n_clusters,
        spasms_per_cluster,
        spasm_interval_s,
        emg,
        artifacts,
        mains_hz,
        sleep,
        seed,
        chunk_s,
        spasm_variety,
    )
    plan = _plan(p)
    renderer = _Renderer(plan)
    data = np.empty((len(plan.ch_names), plan.n_samples), dtype=np.float32)
    for i0, x in renderer.chunks(p["chunk_s"]):
        data[:, i0 : i0 + x.shape[1]] = x
    return Simulation(
        data=data,
        sfreq=float(sfreq),
        ch_names=plan.ch_names,
        ch_types=plan.ch_types,
        events=plan.events.reset_index(drop=True),
        clusters=plan.clusters,
        states=plan.states,
        truth=plan.truth,
        start_time=DEFAULT_START,
    )


def simulate_to_edf(
    path: str | Path,
    duration_s: float = 3600.0,
    *,
    sfreq: float = 256.0,
    age_months: float = 6.0,
    hypsarrhythmia: str = "classic",
    variant: str | None = None,
    background: str = "normal",
    n_clusters: int = 3,
    spasms_per_cluster: tuple[int, int] = (5, 20),
    spasm_interval_s: tuple[float, float] = (5.0, 40.0),
    emg: bool = False,
    artifacts: bool = True,
    mains_hz: float | None = 50.0,
    sleep: bool = True,
    seed: int = 0,
    chunk_s: float = 600.0,
    spasm_variety: str = "classic",
    progress: Callable[[float, float], None] | None = None,
) -> Path:
    """Simulate chunk by chunk straight into an EDF+C file (for long recordings, up to 24 h).

    Takes the parameters of :func:`simulate` (same seed and ``chunk_s`` give the same samples) plus
    ``path`` and an optional ``progress(done_s, total_s)`` callback. ``duration_s`` must be a whole
    number of seconds. Only one chunk is in memory at a time. Also writes ``<stem>_events.tsv``.

    Returns
    -------
    Path
        The EDF written.
    """
    p = _params(
        duration_s,
        sfreq,
        age_months,
        hypsarrhythmia,
        variant,
        background,
        n_clusters,
        spasms_per_cluster,
        spasm_interval_s,
        emg,
        artifacts,
        mains_hz,
        sleep,
        seed,
        chunk_s,
        spasm_variety,
    )
    if abs(duration_s - round(duration_s)) > 1e-9:
        raise ParameterError(f"duration_s must be a whole number of seconds, got {duration_s}")
    path = Path(path)
    plan = _plan(p)
    ann = annotation_table(plan.events, plan.clusters, plan.states, plan.truth["artifacts"])
    writer = StreamingEdfWriter(
        path, int(round(duration_s)), sfreq, plan.ch_names, plan.ch_types, DEFAULT_START, ann
    )
    try:
        for i0, x in _Renderer(plan).chunks(p["chunk_s"]):
            writer.write(x)
            if progress is not None:
                progress((i0 + x.shape[1]) / sfreq, float(duration_s))
    finally:
        writer._fh.close()
    writer.close()
    write_events_tsv(events_tsv_path(path), plan.events, DEFAULT_START, float(duration_s))
    return path


class _CallablePackage(types.ModuleType):
    """``hypsa.simulate`` is this package and, called, :func:`simulate`: ``hypsa.simulate(600)``
    works however the package was first imported."""

    def __call__(self, *args: Any, **kwargs: Any) -> Simulation:
        return simulate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
