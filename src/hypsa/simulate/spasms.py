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

``spasm_variety="wide"`` (opt-in; ``"classic"`` above is the default and unchanged) draws each spasm
over the wide ranges of the clinical description (Fusco & Vigevano 1993; Hrachovy & Frost), so that
a detector is tested on more than one drawing of the pattern. Per spasm:

* form: complete (wave and decrement) 75 %, ``wave_only`` (no decrement) 12 %, ``decrement_only``
  (no transient, no wave) 13 % (column ``form``). All forms keep ``eventType``/``trial_type``
  ``sz_gen_m_spasms``: they are spasms clinically; ``form`` tells them apart;
* slow wave amplitude relative to the local background: ratio log-uniform 0.8-4x
  (``wave_ratio``); the background level (``background_uv``) is measured on the already drawn
  ongoing activity (background, hypsarrhythmia layer and attenuation episodes, before decrements,
  spasm waveforms and artifacts) of the 10 s before ``onset``: per channel the 2.5-97.5 percentile
  range, median over the 19 channels. ``slow_wave_uv = wave_ratio * background_uv`` is the
  peak-to-peak of the wave at the channel of maximal field;
* shape: monophasic (one half-sine lobe) or biphasic (50 %; a first lobe over 35-65 % of the wave
  and an opposite second lobe of 0.4-1.0x its height; ``phases``, ``first_lobe_frac``,
  ``second_lobe``); duration 0.3-1.2 s; polarity of the first lobe at the field maximum positive
  or negative (50 % each);
* field (``field``): generalized 40 % (a broad field over all channels, 50-80 % floor), vertex 25 %
  (centred near Cz, width 0.45-0.7, floor 10-30 %), lateralized 20 % (one hemisphere, width
  0.5-0.8, floor 10-30 %), focal-predominant 15 % (centred under a random electrode, width
  0.25-0.4, floor 15-35 %); ±15 % per-channel jitter, normalised to 1 at the maximum
  (``field_x``, ``field_y``, ``field_width``, ``field_floor``);
* inter-channel lags: each channel starts later than the field maximum by up to ``max_lag_s``
  (0-50 ms, uniform), in proportion to its distance from the field centre ±20 %;
* sharp transient before the wave in 50 %: 50-150 ms, 0.3-1.0x the wave peak-to-peak, either sign
  relative to the wave (``transient_polarity``);
* electrodecrement (complete and decrement-only forms): ongoing activity multiplied by a residual
  0.1-0.6 (``decrement_gain``) for 0.5-6 s (uniform; shortened to end 0.2 s before the next spasm of
  the cluster), starting at the end of the slow wave at the field maximum (at ``onset`` for
  decrement-only);
* low-voltage fast activity (15-30 Hz, 5-25 µV) with the decrement in 50 % (never in wave-only).

Annotation of the wide forms as above; for ``decrement_only`` ``onset`` is the start of the
decrement and ``duration`` is that of the (unseen) motor phase: 0.3-1.2 s + 0.3 s, clipped to 0.5-2
s. The EMG burst is drawn as for the classic spasms (90 % with a burst when EMG is recorded).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hypsa.simulate.background import EEG_NAMES, field, piecewise_gain, scatter_add

__all__ = [
    "EVENT_TYPE",
    "SPASM_FORMS",
    "SPASM_VARIETIES",
    "background_level",
    "plan_clusters",
    "render_spasms_eeg",
    "render_spasms_eeg_wide",
    "wave_shape",
    "wide_field",
    "decrement_gain",
    "render_emg_bursts",
]

EVENT_TYPE = "sz_gen_m_spasms"
#: Minimum quiet time between two clusters (s); clusters are separated by many minutes when the
#: recording is long enough, and at least this much in short test recordings.
MIN_CLUSTER_GAP_S = 120.0
MARGIN_S = 10.0

#: How spasms are drawn: today's narrow ranges, or the wide ranges of the module docstring.
SPASM_VARIETIES: tuple[str, ...] = ("classic", "wide")
#: Forms of a spasm on EEG (``form`` column of the wide drawing).
SPASM_FORMS: tuple[str, ...] = ("complete", "wave_only", "decrement_only")
#: Wide drawing: probabilities and ranges (see the module docstring and docs/simulator.md).
WIDE_FORM_P: dict[str, float] = {"complete": 0.75, "wave_only": 0.12, "decrement_only": 0.13}
WIDE_WAVE_RATIO = (0.8, 4.0)  # log-uniform, wave p-p / local background level
WIDE_WAVE_S = (0.3, 1.2)
WIDE_BIPHASIC_P = 0.5
WIDE_FIRST_LOBE = (0.35, 0.65)
WIDE_SECOND_LOBE = (0.4, 1.0)
WIDE_POSITIVE_P = 0.5
WIDE_FIELD_P: dict[str, float] = {
    "generalized": 0.40, "vertex": 0.25, "lateralized": 0.20, "focal": 0.15,
}  # fmt: skip
WIDE_MAX_LAG_S = (0.0, 0.05)
WIDE_TRANSIENT_P = 0.5
WIDE_TRANSIENT_S = (0.05, 0.15)
WIDE_TRANSIENT_RATIO = (0.3, 1.0)
WIDE_RESIDUAL = (0.1, 0.6)
WIDE_DECREMENT_S = (0.5, 6.0)
WIDE_FAST_P = 0.5
WIDE_FAST_HZ = (15.0, 30.0)
WIDE_FAST_UV = (5.0, 25.0)
#: Window before a spasm's onset in which its local background level is measured (s).
BACKGROUND_WINDOW_S = 10.0


def plan_clusters(
    duration_s: float,
    states: pd.DataFrame,
    n_clusters: int,
    spasms_per_cluster: tuple[int, int],
    interval_s: tuple[float, float],
    emg: bool,
    rng: np.random.Generator,
    variety: str = "classic",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Place clusters (preferably 3-30 s after a sleep -> wake transition) and their spasms.

    A cluster that does not fit loses spasms from its end; one that cannot hold a single spasm is
    dropped.

    Parameters
    ----------
    duration_s : float
        Length of the recording (s).
    states : DataFrame
        Sleep-wake bouts (``onset, duration, state``).
    n_clusters : int
        Clusters wanted.
    spasms_per_cluster, interval_s : (low, high)
        Spasms per cluster and onset-to-onset interval (s).
    emg : bool
        Whether a deltoid EMG is recorded (spasm bursts are drawn only then).
    rng : Generator
        Random generator (placement, then the spasms in time order).
    variety : {"classic", "wide"}
        How each spasm is drawn (module docstring); ``"wide"`` adds the ``form`` column and the
        drawn parameters.

    Returns
    -------
    events, clusters : DataFrame
        One row per spasm, and ``cluster, onset, offset, count``.
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
    wide = variety == "wide"
    draw = _one_spasm_wide if wide else _one_spasm
    for ci, (_, _, onsets) in enumerate(placed, start=1):
        rows = [draw(float(on), ci, emg, rng) for on in onsets]
        if wide:
            _clip_decrements(rows)
        ev_rows.extend(rows)
        ends = [r["onset"] + r["duration"] for r in ev_rows if r["cluster"] == ci]
        cl_rows.append((ci, float(onsets[0]), float(max(ends)), len(onsets)))
    events = pd.DataFrame(ev_rows, columns=_EVENT_COLUMNS + (_WIDE_COLUMNS if wide else []))
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


_WIDE_COLUMNS = [
    "form", "wave_ratio", "background_uv", "phases", "first_lobe_frac", "second_lobe", "field",
    "field_x", "field_y", "field_width", "field_floor", "max_lag_s", "transient_ratio",
    "transient_polarity",
]  # fmt: skip


def _pick(rng: np.random.Generator, probs: dict[str, float]) -> str:
    keys = list(probs)
    return str(keys[int(rng.choice(len(keys), p=np.array([probs[k] for k in keys])))])


def _log_uniform(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
    return float(np.exp(rng.uniform(np.log(lo_hi[0]), np.log(lo_hi[1]))))


def _field_geometry(kind: str, rng: np.random.Generator) -> tuple[float, float, float, float]:
    """Centre (x, y), width and floor of a spasm's scalp field of the given kind."""
    if kind == "generalized":
        x, y = rng.normal(0.0, 0.15, 2)
        return float(x), float(y), rng.uniform(1.0, 2.0), rng.uniform(0.5, 0.8)
    if kind == "vertex":
        return 0.0, rng.uniform(-0.3, 0.4), rng.uniform(0.45, 0.7), rng.uniform(0.1, 0.3)
    if kind == "lateralized":
        side = 1.0 if rng.random() < 0.5 else -1.0
        x, y = side * rng.uniform(0.35, 0.6), rng.uniform(-0.5, 0.5)
        return x, y, rng.uniform(0.5, 0.8), rng.uniform(0.1, 0.3)
    from hypsa.simulate.background import POSITIONS

    cx, cy = POSITIONS[int(rng.integers(len(POSITIONS)))]
    return float(cx), float(cy), rng.uniform(0.25, 0.4), rng.uniform(0.15, 0.35)


def _one_spasm_wide(onset: float, cluster: int, emg: bool, rng: np.random.Generator) -> dict:
    """One spasm drawn over the wide ranges (module docstring); the same draws for every form."""
    form = _pick(rng, WIDE_FORM_P)
    has_wave = form != "decrement_only"
    has_tr = bool(rng.random() < WIDE_TRANSIENT_P) and has_wave
    tr_len = rng.uniform(*WIDE_TRANSIENT_S)
    sw_dur = rng.uniform(*WIDE_WAVE_S)
    ratio = _log_uniform(rng, WIDE_WAVE_RATIO)
    biphasic = bool(rng.random() < WIDE_BIPHASIC_P)
    first, second = rng.uniform(*WIDE_FIRST_LOBE), rng.uniform(*WIDE_SECOND_LOBE)
    polarity = 1.0 if rng.random() < WIDE_POSITIVE_P else -1.0
    kind = _pick(rng, WIDE_FIELD_P)
    fx, fy, fw, ff = _field_geometry(kind, rng)
    max_lag = rng.uniform(*WIDE_MAX_LAG_S)
    tr_ratio, tr_sign = rng.uniform(*WIDE_TRANSIENT_RATIO), (1.0 if rng.random() < 0.5 else -1.0)
    dec_dur, residual = rng.uniform(*WIDE_DECREMENT_S), rng.uniform(*WIDE_RESIDUAL)
    has_fast = bool(rng.random() < WIDE_FAST_P) and form != "wave_only"
    fast_hz, fast_uv = rng.uniform(*WIDE_FAST_HZ), rng.uniform(*WIDE_FAST_UV)
    emg_delay, emg_stretch = rng.uniform(0.0, 0.1), rng.uniform(0.9, 1.1)
    has_emg = bool(emg and rng.random() < 0.9)
    emg_uv, emg_peak = rng.uniform(100, 500), rng.uniform(0.4, 0.6)
    if has_wave:
        sw_on = onset + (tr_len if has_tr else 0.0)
        dec_on = sw_on + sw_dur
        duration = float(np.clip(dec_on + 0.3 - onset, 0.5, 2.0))
    else:  # decrement only: the decrement starts the event; the motor phase keeps its length
        sw_on = dec_on = onset
        duration = float(np.clip(sw_dur + 0.3, 0.5, 2.0))
    return {
        "onset": onset,
        "duration": duration,
        "cluster": cluster,
        "eventType": EVENT_TYPE,
        "trial_type": EVENT_TYPE,
        "has_emg": has_emg,
        "has_transient": has_tr,
        "slow_wave_onset": sw_on,
        "slow_wave_duration": sw_dur if has_wave else 0.0,
        "slow_wave_uv": np.nan if has_wave else 0.0,  # ratio x local background, set at rendering
        "polarity": polarity if has_wave else 0.0,
        "decrement_onset": dec_on,
        "decrement_duration": dec_dur if form != "wave_only" else 0.0,
        "decrement_gain": residual if form != "wave_only" else 1.0,
        "has_fast": has_fast,
        "fast_hz": fast_hz,
        "fast_uv": fast_uv,
        "emg_onset": sw_on + emg_delay,
        "emg_duration": float(np.clip(duration * emg_stretch, 0.5, 2.0)),
        "emg_uv": emg_uv,
        "emg_peak_frac": emg_peak,
        "transient_uv": np.nan if has_tr else 0.0,  # ratio x slow_wave_uv, set at rendering
        "form": form,
        "wave_ratio": ratio if has_wave else 0.0,
        "background_uv": np.nan,
        "phases": (2 if biphasic else 1) if has_wave else 0,
        "first_lobe_frac": first if biphasic and has_wave else 1.0,
        "second_lobe": second if biphasic and has_wave else 0.0,
        "field": kind,
        "field_x": fx,
        "field_y": fy,
        "field_width": fw,
        "field_floor": ff,
        "max_lag_s": max_lag if has_wave else 0.0,
        "transient_ratio": tr_ratio if has_tr else 0.0,
        "transient_polarity": tr_sign if has_tr else 0.0,
    }


def _clip_decrements(rows: list[dict]) -> None:
    """End each decrement at least 0.2 s before the next spasm of the cluster starts."""
    for a, b in zip(rows[:-1], rows[1:], strict=False):
        if a["form"] != "wave_only":
            room = b["onset"] - 0.2 - a["decrement_onset"]
            a["decrement_duration"] = float(max(min(a["decrement_duration"], room), 0.2))


def _overlapping(events: pd.DataFrame, t0: float, t1: float) -> pd.DataFrame:
    if events.empty:
        return events
    end = events["decrement_onset"] + events["decrement_duration"] + 0.5
    return events[(end > t0) & (events["onset"] < t1)]


def decrement_gain(events: pd.DataFrame, t: np.ndarray, sfreq: float) -> np.ndarray:
    """Gain (n,) that attenuates ongoing activity during each post-spasm electrodecrement."""
    sel = _overlapping(events, t[0], t[-1])
    if "form" in sel.columns:  # wide drawing: a wave-only spasm has no decrement
        sel = sel[sel["form"] != "wave_only"]
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


def background_level(x: np.ndarray) -> float:
    """Robust peak-to-peak level (µV) of ongoing activity: median over channels of the 2.5-97.5
    percentile range.

    Parameters
    ----------
    x : ndarray, shape (n_channels, n_samples)
        Ongoing EEG (µV), e.g. the 10 s before a spasm.

    Returns
    -------
    float
        The level; 0 for an empty window.
    """
    if x.shape[-1] == 0:
        return 0.0
    lo, hi = np.percentile(x, [2.5, 97.5], axis=-1)
    return float(np.median(hi - lo))


def wide_field(ev: pd.Series, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Scalp field (max 1) and per-channel lags (s) of a wide-drawn spasm.

    Parameters
    ----------
    ev : Series
        One row of the wide events table (``field_x, field_y, field_width, field_floor,
        max_lag_s``).
    rng : Generator
        Per-event generator for the ±15 % field jitter and the ±20 % lag jitter.

    Returns
    -------
    field, lags : ndarray, shape (19,)
    """
    from hypsa.simulate.background import POSITIONS

    centre = np.array([ev["field_x"], ev["field_y"]], dtype=float)
    floor = float(ev["field_floor"])
    fld = (floor + (1.0 - floor) * field(centre, float(ev["field_width"])))
    fld = fld * rng.uniform(0.85, 1.15, len(EEG_NAMES))
    fld /= fld.max()
    dist = np.sqrt(np.sum((POSITIONS - centre) ** 2, axis=1))
    rel = dist / max(float(dist.max()), 1e-9) + rng.uniform(-0.2, 0.2, len(EEG_NAMES))
    lags = float(ev["max_lag_s"]) * np.clip(rel, 0.0, 1.0)
    return fld, lags


def wave_shape(ev: pd.Series, sfreq: float) -> np.ndarray:
    """Unit peak-to-peak slow wave of a wide-drawn spasm, positive first lobe.

    Monophasic: one half-sine lobe over ``slow_wave_duration``. Biphasic: a lobe over
    ``first_lobe_frac`` of it, then an opposite lobe ``second_lobe`` times as high.

    Parameters
    ----------
    ev : Series
        One row of the wide events table.
    sfreq : float
        Sampling rate (Hz).

    Returns
    -------
    ndarray
        The waveform (peak-to-peak 1).
    """
    m = max(int(round(float(ev["slow_wave_duration"]) * sfreq)), 2)
    x = (np.arange(m) + 0.5) / m
    if int(ev["phases"]) < 2:
        return np.sin(np.pi * x)
    f, r = float(ev["first_lobe_frac"]), float(ev["second_lobe"])
    a = 1.0 / (1.0 + r)
    return np.where(
        x < f, a * np.sin(np.pi * x / f), -r * a * np.sin(np.pi * (x - f) / (1.0 - f))
    )


def render_spasms_eeg_wide(
    events: pd.DataFrame, t: np.ndarray, sfreq: float, seed: int
) -> np.ndarray:
    """Additive ictal EEG of wide-drawn spasms overlapping ``t`` (see the module docstring).

    Parameters
    ----------
    events : DataFrame
        Wide events table whose ``slow_wave_uv`` and ``transient_uv`` are already set (the
        renderer sets them from the local background before the spasm).
    t : ndarray
        Sample times of the chunk (s).
    sfreq : float
        Sampling rate (Hz).
    seed : int
        Recording seed (per-event jitter is drawn from ``[seed, 311, event index]``).

    Returns
    -------
    ndarray, shape (19, len(t))
        Transient, slow wave and fast activity (µV).
    """
    out = np.zeros((len(EEG_NAMES), t.size))
    t0 = t[0]
    for idx, ev in _overlapping(events, t0, t[-1]).iterrows():
        rng = np.random.default_rng([seed, 311, int(idx)])
        fld, lags = wide_field(ev, rng)
        shifts = np.round(lags * sfreq).astype(int)
        if ev["form"] != "decrement_only":
            i0 = int(round((ev["slow_wave_onset"] - t0) * sfreq))
            wave = ev["polarity"] * ev["slow_wave_uv"] * wave_shape(ev, sfreq)
            parts = [(wave, i0)]
            if ev["has_transient"]:
                m = int(round((ev["slow_wave_onset"] - ev["onset"]) * sfreq))
                xt = (np.arange(m) + 0.5) / max(m, 1)
                amp = ev["polarity"] * ev["transient_polarity"] * ev["transient_uv"]
                parts.append((amp * np.sin(np.pi * xt), i0 - m))
            for w, start in parts:
                for c in range(len(EEG_NAMES)):
                    _add(out[c : c + 1], fld[c : c + 1], w, start + int(shifts[c]))
        if ev["has_fast"]:
            d0 = int(round((ev["decrement_onset"] - 0.2 - t0) * sfreq))
            m = int(round((ev["decrement_duration"] * 0.8 + 0.2) * sfreq))
            tt = np.arange(m) / sfreq
            env = np.clip(np.sin(np.pi * tt / tt[-1]), 0, None) ** 0.5 if m > 1 else np.ones(m)
            fast = ev["fast_uv"] * env * np.sin(2 * np.pi * ev["fast_hz"] * tt + rng.uniform(0, 6))
            centre = np.array([ev["field_x"], ev["field_y"]], dtype=float)
            _add(out, 0.6 + 0.4 * field(centre, 0.7), fast, d0)
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
