"""The pattern score of a spasm candidate: one probability from everything the detector measures.

:func:`hypsa.spasms.detect_spasms` measures each candidate (a generalized slow wave, an
electrodecrement, or both), and its classic rules name the parts of the pattern that fired. Hard
thresholds are brittle one at a time: a spasm that misses one of them narrowly is lost, and a
mimic that clears each of them narrowly is kept. The pattern score weighs all the measurements
together: a logistic model of the transformed inputs below, standardised, with the fitted weights
kept in this module. It is the event's ``confidence``, and a candidate is a spasm when it reaches
``SpasmParams.min_confidence``.

The weights are fitted by ``benchmarks/train_spasm_score.py`` on the candidates of simulated
recordings with known spasms from two independent generators (``hypsa.simulate`` and
``benchmarks/crosscheck/gen.py``, on real children's EEG backgrounds), on seeds that the
validation (``benchmarks/validate.py``, ``benchmarks/crosscheck/run_eval.py``) does not use.
docs/methods.md lists the features and the weights.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["design", "pattern_probability", "contributions", "MODEL_FEATURES", "THRESHOLD"]

#: Names of the model's inputs, in order (see :func:`design`).
MODEL_FEATURES = [
    "log_slow_ratio", "log_slow_uv", "smoothness", "synchrony", "log_decrement", "mid_decrement",
    "gap_s", "dip_beyond_5s", "pre", "emg_burst", "orphan_rate", "background_synchrony",
    # how one measurement changes what another says (products of the inputs above)
    "synchrony_x_log_slow_ratio", "mid_decrement_x_log_slow_ratio", "orphan_rate_x_synchrony",
    "background_synchrony_x_synchrony",
]

# --- fitted: begin (written by benchmarks/train_spasm_score.py)
#: input: (mean, standard deviation, weight per standard deviation)
_FITTED = {
    "log_slow_ratio": (1.49246, 1.01448, -1.67979),
    "log_slow_uv": (0.105103, 0.89484, 0.0206635),
    "smoothness": (0.802736, 0.107253, -0.230559),
    "synchrony": (0.779703, 0.198009, 2.26854),
    "log_decrement": (-1.71907, 0.736852, 0.712012),
    "mid_decrement": (0.381267, 0.265952, -3.25589),
    "gap_s": (0.448894, 0.615337, -0.713649),
    "dip_beyond_5s": (0.32155, 1.12172, -0.743533),
    "pre": (1.16681, 0.494478, -0.368744),
    "emg_burst": (0.458195, 0.870077, 2.9331),
    "orphan_rate": (0.593806, 0.820146, -1.79769),
    "background_synchrony": (0.562783, 0.168772, 2.32436),
    "synchrony_x_log_slow_ratio": (1.17114, 0.842072, 2.71961),
    "mid_decrement_x_log_slow_ratio": (0.55746, 0.574361, -0.388718),
    "orphan_rate_x_synchrony": (0.404292, 0.574653, 0.910757),
    "background_synchrony_x_synchrony": (0.452002, 0.208123, -4.05597),
}
_INTERCEPT = 1.18184
#: the score a candidate needs to be a spasm (``SpasmParams.min_confidence``)
THRESHOLD = 0.80
# --- fitted: end

# (an input without a fitted entry weighs nothing; tests check that every input has one)
_MEAN, _SCALE, _COEF = (np.array([_FITTED.get(n, (0.0, 1.0, 0.0))[k] for n in MODEL_FEATURES])
                        for k in range(3))


def _inputs(c) -> np.ndarray:
    """The model's inputs as an array, shape (n_candidates, len(MODEL_FEATURES))."""
    def col(name: str) -> np.ndarray:
        return np.asarray(c[name], dtype=float)

    # an EMG burst adds evidence; a silent or absent EMG takes none away (a spasm may be subtle,
    # and the decision from the EEG must stand on its own)
    er = np.nan_to_num(col("emg_ratio"), nan=0.0)
    ratio = np.log2(np.clip(col("slow_ratio"), 0.5, 16.0))
    sync = col("synchrony")
    mid = np.clip(col("mid_decrement"), 0.0, 1.0)
    orphan = np.clip(col("orphan_rate"), 0.0, 3.0)
    bg_sync = np.clip(col("background_synchrony"), 0.0, 1.0)
    return np.column_stack([
        ratio,
        np.log2(np.clip(col("slow_uv"), 10.0, 1000.0) / 100.0),
        np.clip(col("smoothness"), 0.0, 1.2),
        sync,
        np.log2(np.clip(col("decrement"), 0.05, 1.0)),
        mid,
        np.clip(col("gap_s"), -1.0, 2.5),
        np.clip(col("dip_s") - 5.0, 0.0, 10.0),
        np.clip(col("pre"), 0.0, 3.0),
        np.clip(np.log2(np.maximum(er, 1e-3) / 5.0), 0.0, 3.0),
        orphan,
        bg_sync,
        sync * ratio,
        mid * ratio,
        orphan * sync,
        bg_sync * sync,
    ])


def design(c: pd.DataFrame) -> pd.DataFrame:
    """The model's inputs from a candidate table (columns of ``hypsa.spasms.FEATURE_COLUMNS``).

    Ratios enter as base-2 logarithms and every input is clipped to a plausible range; an EMG
    burst enters as its strength above 5x the EMG background, so that a silent or missing EMG
    counts as no burst.

    Parameters
    ----------
    c : DataFrame
        Candidates with the feature columns.

    Returns
    -------
    DataFrame
        One column per name in :data:`MODEL_FEATURES`.
    """
    return pd.DataFrame(_inputs(c), index=c.index, columns=MODEL_FEATURES)


def _standardised(c) -> np.ndarray:
    return (_inputs(c) - _MEAN) / _SCALE


def pattern_probability(c) -> np.ndarray:
    """Probability (0..1) that each candidate is a spasm, from its measured features.

    Parameters
    ----------
    c : DataFrame or mapping of str to ndarray
        Candidates with the columns of ``hypsa.spasms.FEATURE_COLUMNS``.

    Returns
    -------
    ndarray of float
    """
    return 1.0 / (1.0 + np.exp(-(_standardised(c) @ _COEF + _INTERCEPT)))


def contributions(c: pd.DataFrame) -> pd.DataFrame:
    """Each input's share of each candidate's log-odds (positive: for a spasm), to explain a score.

    Parameters
    ----------
    c : DataFrame
        Candidates or events with the feature columns.

    Returns
    -------
    DataFrame
        One column per model input; the row sums plus the intercept give the log-odds.
    """
    return pd.DataFrame(_standardised(c) * _COEF, index=c.index, columns=MODEL_FEATURES)
