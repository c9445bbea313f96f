"""The spasm probability of a candidate: one calibrated probability from what the detector measures.

:func:`hypsa.spasms.measure_candidates` measures each candidate (a generalized slow wave, an
electrodecrement, or both), each measurement relative to the channel's own local background:
ratios, ranks within the surrounding minutes, shares of channels. A gradient-boosted tree model
(LightGBM) weighs them together; an isotonic map, fitted on out-of-fold predictions grouped by
recording, turns its output into a calibrated probability. One input, ``window``, is the log-odds
of a small convolutional network that reads the detector's curves around the candidate
(:mod:`hypsa.spasm_window`, shipped beside this model). The probability is the event's
``confidence``, and a candidate is a spasm when it reaches ``SpasmParams.min_confidence``
(default :data:`THRESHOLD`).

The model ships in the package (``hypsa/models/spasm_lgbm.txt``, LightGBM's text format) with a
card (``spasm_lgbm.json``: its sha256, the command that rebuilt it, the data, the calibration
table, the threshold and the numbers). ``benchmarks/train_spasm_model.py`` rebuilds both,
deterministically, from recordings of four independent generators (``benchmarks/generalize``);
no training data is committed. docs/methods.md describes the inputs.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from hypsa.errors import HypsaError
from hypsa.model_files import load_booster

__all__ = ["design", "spasm_probability", "raw_score", "calibrate", "contributions",
           "model_info", "load_model", "ModelError", "INPUTS", "INVARIANT", "RELATIVE",
           "MODEL_FEATURES", "THRESHOLD", "MODEL_SHA256", "MODEL_FILE", "CARD_FILE",
           "OUT_OF_GENERATOR", "ATTENUATED_PER_MIN", "detection_note",
           "attenuations_per_min"]

MODEL_FILE = "spasm_lgbm.txt"
CARD_FILE = "spasm_lgbm.json"

#: Every input :func:`design` derives from a candidate table; the shipped model uses the subset
#: named in its card (:data:`MODEL_FEATURES`).
INPUTS = [
    # the wave: median ratio to each channel's own background, shares of channels, ranks
    "log_slow_ratio", "fraction", "n_wave", "slow_rank", "wave_rank_ch", "wave_s", "smoothness",
    # the decrement: depth against the seconds before, bands, shares of channels, ranks, length
    "log_decrement", "mid_decrement", "n_dec", "n_dec_mid", "dec_rank", "dec_rank_ch", "dip_s",
    "gap_s", "pre", "orphan_rate",
    # movement (EMG or video): burst over its own background, length, lag to the wave
    "movement", "movement_s", "movement_lag_s",
    # the wave against the seconds before it and against the active activity around it; how
    # often the background attenuates around it (with no wave before); fast activity in the
    # dip; other movement bursts around it (crying and ordinary movement repeat, a spasm's
    # burst stands alone)
    "log_wave_pre", "slow_rank_active", "wave_rank_active", "dips_ctx", "orphans_ctx",
    "log_fast_dec", "movement_ctx",
    # the movement burst's width at half height (a jerk is briefer than a spasm's diamond)
    "movement_half_s",
    # the wave's synchrony above the synchrony of the same recording's background anyway
    "sync_excess", "sync_all_excess",
    # measurements that depend on how a generator draws the wave and the background
    "synchrony", "sync_all", "background_synchrony", "log_slow_uv",
    # the window score: a convolutional network's log-odds from the EEG around the candidate
    # (hypsa.spasm_window), each electrode against its own background
    "window",
]
#: Inputs free of absolute amplitudes and of absolute correlations.
INVARIANT = INPUTS[:28]
#: The invariant inputs with the synchrony relative to the recording's own (the default set).
RELATIVE = INPUTS[:30]


class ModelError(HypsaError):
    """The shipped spasm model is missing or does not match its card."""


def design(c) -> pd.DataFrame:
    """The model's inputs (:data:`INPUTS`) from a candidate table.

    Ratios enter as base-2 logarithms, clipped to plausible ranges; a movement burst enters as
    its strength above 5x its background (0 without a movement channel, so that a silent or
    missing channel counts as no burst), its length and its lag (a long value without one).

    Parameters
    ----------
    c : DataFrame or mapping of str to ndarray
        Candidates with the columns of ``hypsa.spasms.FEATURE_COLUMNS``.

    Returns
    -------
    DataFrame
        One column per name in :data:`INPUTS`.
    """
    x = _inputs(c)
    index = c.index if isinstance(c, pd.DataFrame) else None
    return pd.DataFrame({k: x[k] for k in INPUTS}, index=index)


def _inputs(c) -> dict[str, np.ndarray]:
    """:func:`design`'s columns, as arrays."""
    def col(name: str) -> np.ndarray:
        return np.asarray(c[name], dtype=float)

    er = np.nan_to_num(col("emg_ratio"), nan=0.0)
    has = er >= 5.0
    x = {
        "log_slow_ratio": np.log2(np.clip(col("slow_ratio"), 0.25, 16.0)),
        "fraction": col("fraction"), "n_wave": col("n_wave"), "slow_rank": col("slow_rank"),
        "wave_rank_ch": col("wave_rank_ch"), "wave_s": np.clip(col("wave_s"), 0.0, 5.0),
        "smoothness": np.clip(col("smoothness"), 0.0, 1.2),
        "log_decrement": np.log2(np.clip(col("decrement"), 0.03, 2.0)),
        "mid_decrement": np.clip(col("mid_decrement"), 0.0, 2.0), "n_dec": col("n_dec"),
        "n_dec_mid": col("n_dec_mid"), "dec_rank": col("dec_rank"),
        "dec_rank_ch": col("dec_rank_ch"), "dip_s": np.clip(col("dip_s"), 0.0, 15.0),
        "gap_s": np.clip(col("gap_s"), -1.0, 3.0), "pre": np.clip(col("pre"), 0.0, 4.0),
        "orphan_rate": np.clip(col("orphan_rate"), 0.0, 5.0),
        "movement": np.clip(np.log2(np.maximum(er, 1e-3) / 5.0), 0.0, 4.0),
        "movement_s": np.where(has, np.clip(np.nan_to_num(col("emg_burst_s"), nan=10.0), 0, 10),
                               10.0),
        "movement_lag_s": np.where(has, np.clip(np.nan_to_num(col("emg_lag_s"), nan=3.0), -3, 3),
                                   3.0),
        "sync_excess": col("synchrony") - col("background_synchrony"),
        "sync_all_excess": col("sync_all") - col("background_synchrony"),
        "synchrony": col("synchrony"), "sync_all": col("sync_all"),
        "background_synchrony": col("background_synchrony"),
        "log_slow_uv": np.log2(np.clip(col("slow_uv"), 5.0, 2000.0)),
        "log_wave_pre": np.log2(np.clip(_opt(c, "wave_pre", 1.0), 0.25, 32.0)),
        "slow_rank_active": _opt(c, "slow_rank_active", 0.5),
        "wave_rank_active": _opt(c, "wave_rank_active", 0.5),
        "dips_ctx": np.clip(_opt(c, "dips_ctx", 0.0), 0.0, 10.0),
        "orphans_ctx": np.clip(_opt(c, "orphans_ctx", 0.0), 0.0, 10.0),
        "log_fast_dec": np.log2(np.clip(_opt(c, "fast_dec", 1.0), 0.125, 8.0)),
        "movement_ctx": np.where(has, np.clip(_opt(c, "emg_bursts_ctx", 0.0), 0.0, 8.0), 0.0),
        "movement_half_s": np.where(has, np.clip(np.nan_to_num(_opt(c, "emg_half_s", 3.0),
                                                               nan=3.0), 0.0, 3.0), 3.0),
        "window": np.clip(_opt(c, "window", np.nan, nan_stays=True), -13.8, 13.8),
    }
    return x


def _opt(c, name: str, fill: float, nan_stays: bool = False) -> np.ndarray:
    """A measurement that older candidate tables lack (then ``fill``); NaN becomes ``fill``
    unless ``nan_stays`` (the model then treats it as missing)."""
    if name not in c:
        n = len(c) if isinstance(c, pd.DataFrame) else len(next(iter(c.values())))
        return np.full(n, fill, dtype=float)
    x = np.asarray(c[name], dtype=float)
    return x if nan_stays else np.nan_to_num(x, nan=fill)


@lru_cache(maxsize=4)
def load_model(directory: str | None = None):
    """The shipped model and its card (cached).

    Parameters
    ----------
    directory : str, optional
        Folder holding :data:`MODEL_FILE` and :data:`CARD_FILE` (default: ``hypsa/models``).

    Returns
    -------
    (lightgbm.Booster, dict)

    Raises
    ------
    ModelError
        When a file is missing or the model's sha256 differs from its card's.
    """
    return load_booster(directory, MODEL_FILE, CARD_FILE, ModelError,
                        f"the spasm model ({MODEL_FILE}, {CARD_FILE}) is missing; rebuild it "
                        "with benchmarks/train_spasm_model.py")


def _card() -> dict:
    try:
        return load_model()[1]
    except ModelError:
        return {"threshold": 0.5, "sha256": None, "features": RELATIVE,
                "calibration": {"x": [0.0, 1.0], "y": [0.0, 1.0]}}


def raw_score(c, booster=None, features: list[str] | None = None) -> np.ndarray:
    """The model's uncalibrated output (0..1) for each candidate.

    Parameters
    ----------
    c : DataFrame or mapping
        Candidates with the feature columns.
    booster : lightgbm.Booster, optional
        Another model (training and the leave-one-generator-out bench); the shipped one
        by default.
    features : list of str, optional
        Its inputs (the shipped card's by default).

    Returns
    -------
    ndarray of float
    """
    if booster is None:
        booster, card = load_model()
        features = card["features"]
    cols = _inputs(c)
    x = np.column_stack([cols[f] for f in (features or RELATIVE)]).astype(float, copy=False)
    if not len(x):
        return np.zeros(0)
    # one thread: the analysis runs windows in forked worker processes, and an OpenMP thread
    # pool started in the parent does not survive a fork
    return np.asarray(booster.predict(x, num_threads=1), dtype=float)


def calibrate(raw: np.ndarray, table: dict) -> np.ndarray:
    """Map raw model outputs through an isotonic calibration table (``{"x": [...], "y":
    [...]}``, increasing ``x``) to probabilities.

    Parameters
    ----------
    raw : ndarray
        Raw outputs.
    table : dict
        The calibration table (in the model card).

    Returns
    -------
    ndarray of float
    """
    return np.interp(np.asarray(raw, dtype=float), table["x"], table["y"])


def spasm_probability(c) -> np.ndarray:
    """Calibrated probability (0..1) that each candidate is a spasm, from its measured features.

    Parameters
    ----------
    c : DataFrame or mapping of str to ndarray
        Candidates with the columns of ``hypsa.spasms.FEATURE_COLUMNS``.

    Returns
    -------
    ndarray of float
    """
    booster, card = load_model()
    return calibrate(raw_score(c, booster, card["features"]), card["calibration"])


def contributions(c: pd.DataFrame) -> pd.DataFrame:
    """Each input's share of each candidate's raw log-odds (SHAP values from LightGBM; positive:
    for a spasm), to explain a score.

    Parameters
    ----------
    c : DataFrame
        Candidates or events with the feature columns.

    Returns
    -------
    DataFrame
        One column per model input plus ``bias``; the row sums give the raw log-odds.
    """
    booster, card = load_model()
    feats = list(card["features"])
    x = design(c)[feats].to_numpy(float)
    out = np.asarray(booster.predict(x, pred_contrib=True, num_threads=1)).reshape(
        len(x), len(feats) + 1)
    return pd.DataFrame(out, index=c.index, columns=[*feats, "bias"])


def model_info() -> dict:
    """The shipped model's identity for ``summary.json`` and the report: file, sha256, threshold,
    the window network it reads (``window``: file, sha256, parameters) where it reads one, and
    the recording-level model (``recording``: :func:`hypsa.spasm_recording.model_info`).

    Returns
    -------
    dict
    """
    card = _card()
    out = {"file": f"hypsa/models/{MODEL_FILE}", "sha256": card.get("sha256"),
           "threshold": card.get("threshold"), "trained_on": card.get("generators")}
    if "window" in card.get("features", []):
        from hypsa.spasm_window import window_info

        out["window"] = window_info()
    from hypsa.spasm_recording import model_info as recording_info

    out["recording"] = recording_info()
    return out


#: What the shipped spasm detection reached on EEG from generators it was not fitted on
#: (``benchmarks/generalize/run.py --recording-relative``: leave-one-generator-out,
#: hypsarrhythmic background, per spasm, the range over the four held-out generators;
#: docs/validation.md). ``model`` is the sha256 of the model file that makes the final decision,
#: the recording-level model (:mod:`hypsa.spasm_recording`); a retrained model needs these
#: figures measured again (a test checks that they match).
OUT_OF_GENERATOR: dict = {
    "model": "817ac7e9d0165a3b62729a7f132f8db236fcbef1499b28a51160a7cb04ea57ed",
    "eeg_only": (0.35, 0.74),
    "eeg_only_plain": (0.50, 0.98),
    "eeg_only_fd_per_hour": (0.0, 1.65),
    "with_movement": (0.87, 0.96),
    # EEG + the video's movement, no EMG: simulated video-EEG clips whose EEG is the cross-check
    # generator's (four sets of four recordings), the independent or the fourth generator's (two
    # sets each); the range over the sets (benchmarks/validate_video.py; docs/video.md, "Spasms
    # the video shows": the independent's 0.75-0.82 and the fourth's 0.73-0.84 fall inside it)
    "with_video": (0.71, 0.93),
    # EEG alone, the recordings whose analysis found attenuation episodes at
    # ATTENUATED_PER_MIN or more, and the others (benchmarks/generalize/attenuated.py)
    "eeg_only_attenuated": (0.12, 0.59),
    "eeg_only_attenuated_fd_per_hour": (0.0, 6.0),
    "eeg_only_not_attenuated": (0.45, 0.77),
    "eeg_only_not_attenuated_fd_per_hour": (0.0, 0.88),
}

#: Paroxysmal attenuation episodes per analysed minute (the interictal analysis's own, in
#: ``Analysis.extra["attenuations"]``) from which the detection note warns that the EEG alone
#: finds fewer spasms there: every held-out generator found fewer on such backgrounds, and most
#: of their false detections were there (docs/validation.md, "Where the EEG alone is weakest").
ATTENUATED_PER_MIN: float = 1.5


def detection_note(movement: str | None, covered: float = 1.0,
                   attenuations_per_min: float | None = None) -> str:
    """What a spasm count from this analysis can be relied on for, in a few sentences.

    Parameters
    ----------
    movement : str or None
        The movement channel analysed with the EEG (``"EMG"``, ``"video"``, ``"EMG and
        video"``), or None for the EEG alone.
    covered : float
        Share of the recording the movement channel covers (a video may cover only part of it).
    attenuations_per_min : float, optional
        Attenuation episodes per minute that the interictal analysis found; from
        :data:`ATTENUATED_PER_MIN` the note says that the EEG alone is weakest on such a
        background (where it is the only channel for all or part of the recording).

    Returns
    -------
    str
        The share of spasms found out of generator (:data:`OUT_OF_GENERATOR`) for the channels
        analysed, and how to read the count.
    """
    g = OUT_OF_GENERATOR

    def rng(k: str) -> str:
        return f"{g[k][0]:.2f}-{g[k][1]:.2f}"

    caution = ""
    if attenuations_per_min is not None and attenuations_per_min >= ATTENUATED_PER_MIN:
        fd = g["eeg_only_attenuated_fd_per_hour"]
        caution = (f" The background has frequent attenuation episodes ("
                   f"{attenuations_per_min:.1f} a minute): there the EEG alone is at its weakest "
                   f"(out of generator {rng('eeg_only_attenuated')} of spasms found, against "
                   f"{rng('eeg_only_not_attenuated')} on the other hypsarrhythmic recordings, and "
                   f"{fd[0]:g}-{fd[1]:g} false detections per hour), because an attenuation "
                   "episode after a slow wave resembles a spasm's decrement; read the spasms "
                   "and the electrodecrement events with the EEG.")

    if movement == "video":
        text = ("Spasms were detected from the EEG with a movement channel (video): on simulated "
                "video-EEG whose EEG came from a generator the detector was not fitted on, this "
                f"found {rng('with_video')} of spasms on a hypsarrhythmic background (with a "
                f"deltoid EMG channel {rng('with_movement')}). Spasms with neither an EEG pattern "
                "nor a detected movement can still be missed; review the video's movements "
                "listed beside the count.")
    elif movement:
        text = (f"Spasms were detected from the EEG with a movement channel ({movement}): on "
                "EEG from generators the detector was not fitted on, this found "
                f"{rng('with_movement')} of spasms on a hypsarrhythmic background. Spasms with "
                "neither an EEG pattern nor a movement correlate can still be missed.")
    if movement:
        if covered < 0.9:
            text += (f" The {movement} covers {covered:.0%} of the recording; outside it the "
                     f"spasms were detected from the EEG alone ({rng('eeg_only')} found), and "
                     "there the count is a lower bound.")
            text += caution
        return text
    return ("Spasms were detected from the EEG alone (no deltoid EMG or video): on EEG from "
            f"generators the detector was not fitted on, this found {rng('eeg_only')} of spasms "
            f"on a hypsarrhythmic background ({rng('eeg_only_plain')} of those with a clear slow "
            f"wave and electrodecrement), with {g['eeg_only_fd_per_hour'][0]:g}-"
            f"{g['eeg_only_fd_per_hour'][1]:g} false detections per hour. The count is a lower "
            "bound and a count of 0 does not exclude spasms; a deltoid EMG channel or the "
            f"video of a video-EEG raises the share found (EMG {rng('with_movement')}, video "
            f"{rng('with_video')})." + caution)


def attenuations_per_min(attenuations: pd.DataFrame | None, duration_s: float) -> float:
    """Paroxysmal attenuation episodes per minute of analysed recording.

    Parameters
    ----------
    attenuations : DataFrame or None
        The episodes (``onset`` in s), as ``Analysis.extra["attenuations"]`` holds them; an
        episode listed twice (by two overlapping windows) counts once.
    duration_s : float
        Time analysed (s): the episodes are looked for only there.

    Returns
    -------
    float
    """
    if attenuations is None or not len(attenuations) or duration_s <= 0:
        return 0.0
    onsets = np.unique(np.round(np.asarray(attenuations["onset"], dtype=float) * 2) / 2)
    return float(len(onsets) / (duration_s / 60.0))


#: The calibrated probability a candidate needs to be a spasm (``SpasmParams.min_confidence``),
#: chosen on the training generators (see the model card).
THRESHOLD: float = float(_card()["threshold"])
#: sha256 of the shipped model file.
MODEL_SHA256: str | None = _card().get("sha256")
#: The shipped model's inputs.
MODEL_FEATURES: list[str] = list(_card()["features"])
