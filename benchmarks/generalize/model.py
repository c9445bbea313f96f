"""Fitting and applying the spasm model on candidate tables (shared by the leave-one-generator-out
bench ``run.py`` and the training script ``benchmarks/train_spasm_model.py``).

The model is LightGBM on the inputs of :func:`hypsa.spasm_score.design`, fitted with bagging and
feature subsampling, each generator weighing the same and, within one, spasms and mimics the
same. Its raw output is calibrated by isotonic regression on out-of-fold predictions (folds by
recording); the threshold is the lowest calibrated probability at which every training
generator keeps false detections on hypsarrhythmic background, EEG only, at or under
``max_fp`` per hour (out of fold as well), and the second threshold (``threshold_other``) the
lowest at which every training generator keeps them at or under ``max_fp`` per hour on its
non-hypsarrhythmic recordings, EEG only: the analysis reads a recording it does not call
hypsarrhythmic at the second (:func:`hypsa.spasm_recording.reread`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from hypsa import spasm_recording as RR
from hypsa.evaluate import score_events
from hypsa.spasm_score import RELATIVE, calibrate, design
from hypsa.spasms import (
    SpasmParams,
    cluster_spasms,
    decrement_only,
    refractory_merge,
    spasm_decision,
)

LGB_PARAMS = {
    "objective": "binary", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 20,
    "feature_fraction": 0.7, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
    "max_bin": 63, "verbose": -1, "num_threads": 1, "deterministic": True,
    "force_row_wise": True,
}
N_ROUNDS = 300
THRESHOLDS = np.unique(np.round(np.r_[np.arange(0.3, 0.9, 0.05), np.arange(0.9, 0.991, 0.01)], 3))
#: the direction each input may push the probability (LightGBM monotone constraints: +1 more
#: of it is more spasm-like, -1 less, 0 free): the clinical pattern, so that the trees cannot
#: learn a generator's quirk against it
MONOTONE = {
    "log_slow_ratio": 1, "fraction": 1, "n_wave": 1, "slow_rank": 1, "wave_rank_ch": 1,
    "log_decrement": -1, "mid_decrement": -1, "n_dec": 1, "n_dec_mid": 1, "dec_rank": -1,
    "dec_rank_ch": -1, "movement": 1, "synchrony": 1, "sync_all": 1, "sync_excess": 1,
    "sync_all_excess": 1, "window": 1,
}
USE_MONOTONE = True
#: inputs also given to the model relative to the other candidates of their recording
#: (:mod:`hypsa.spasm_recording`; ``run.py --recording-relative``)
RECORDING_RELATIVE = list(RR.RECORDING_RELATIVE)
#: the suffix of those columns
REC = RR.SUFFIX
for _f in RECORDING_RELATIVE:
    if _f in MONOTONE:
        MONOTONE[_f + REC] = MONOTONE[_f]


def recording_relative(c: pd.DataFrame, inputs: list[str] | None = None) -> pd.DataFrame:
    """``c`` with each of ``inputs`` (default :data:`RECORDING_RELATIVE`) also relative to the
    candidates of its own recording, as :func:`hypsa.spasm_recording.recording_relative` reads
    them in the analysis (within 10 minutes: the whole of a bench recording)."""
    inputs = list(inputs or RECORDING_RELATIVE)
    if not len(c):
        return c.assign(**{f + REC: np.zeros(0) for f in inputs})
    parts = [RR.recording_relative(g, inputs=inputs)[0]
             for _, g in c.groupby("recording", sort=False)]
    return pd.concat(parts).loc[c.index]


def _design(c: pd.DataFrame) -> pd.DataFrame:
    """:func:`hypsa.spasm_score.design`, with the recording-relative columns ``c`` carries."""
    d = design(c)
    extra = [k for k in c.columns if isinstance(k, str) and k.endswith(REC)]
    return d.assign(**{k: np.asarray(c[k], dtype=float) for k in extra}) if extra else d


def stable_inputs(c: pd.DataFrame, features: list[str], margin: float = 0.05
                  ) -> tuple[list[str], list[str]]:
    """The inputs whose direction holds on every generator of ``c`` (``run.py
    --stable-inputs``): each input's area under the ROC curve for spasms against mimics
    (hypsarrhythmic recordings, EEG only, labelled candidates) is read per generator, and an
    input is dropped where those areas lie on both sides of 0.5 by more than ``margin`` (it
    separates spasms from mimics one way on one generator and the other way on another).

    Returns
    -------
    kept, dropped : list of str
    """
    from sklearn.metrics import roc_auc_score

    lab = c[(c["y"] >= 0) & c["hyps"].astype(bool) & ~c["emg"].astype(bool)]
    x = _design(lab)
    kept, dropped = [], []
    for f in features:
        aucs = []
        for _, idx in lab.groupby("generator").groups.items():
            y = lab.loc[idx, "y"].to_numpy()
            v = x.loc[idx, f].to_numpy(float)
            if len(np.unique(y)) == 2 and np.isfinite(v).any():
                aucs.append(roc_auc_score(y, np.nan_to_num(v, nan=float(np.nanmedian(v)))))
        if aucs and max(aucs) > 0.5 + margin and min(aucs) < 0.5 - margin:
            dropped.append(f)
        else:
            kept.append(f)
    return kept, dropped


def _weights(c: pd.DataFrame) -> np.ndarray:
    w = np.ones(len(c))
    for _, idx in c.groupby(["generator", "y"]).groups.items():
        w[c.index.get_indexer(idx)] = 1.0 / len(idx)
    return w * len(c) / w.sum()


def _booster(c: pd.DataFrame, features: list[str], seed: int):
    import lightgbm as lgb

    x = _design(c)[features].to_numpy(float)
    ds = lgb.Dataset(x, label=c["y"].to_numpy(), weight=_weights(c), feature_name=features,
                     free_raw_data=False)
    mono = [MONOTONE.get(f, 0) if USE_MONOTONE else 0 for f in features]
    return lgb.train({**LGB_PARAMS, "seed": seed, "monotone_constraints": mono}, ds,
                     num_boost_round=N_ROUNDS)


def _train_rows(c: pd.DataFrame) -> pd.DataFrame:
    return c[c["y"] >= 0].reset_index(drop=True)


def fit(c: pd.DataFrame, truth: pd.DataFrame, recs: pd.DataFrame, *,
        features: list[str] | None = None, seed: int = 0, folds: int = 5,
        max_fp: float = 1.0) -> dict:
    """Fit the model, its calibration and its threshold on the labelled candidates ``c``.

    Returns
    -------
    dict
        ``booster``, ``features``, ``calibration`` (``{"x", "y"}``), ``threshold``,
        ``threshold_other`` (for recordings that are not hypsarrhythmic), ``oof`` (the
        out-of-fold operating points).
    """
    from sklearn.isotonic import IsotonicRegression

    features = list(features or RELATIVE)
    tr = _train_rows(c)
    # out-of-fold raw outputs, folds by recording (every candidate, labelled or not, gets one)
    rec_ids = np.array(sorted(c["recording"].unique()))
    rng = np.random.default_rng(seed)
    fold_of = dict(zip(rng.permutation(rec_ids), np.arange(len(rec_ids)) % folds, strict=True))
    fold_c = c["recording"].map(fold_of).to_numpy()
    fold_tr = tr["recording"].map(fold_of).to_numpy()
    oof = np.zeros(len(c))
    for k in range(folds):
        b = _booster(tr[fold_tr != k].reset_index(drop=True), features, seed)
        m = fold_c == k
        if m.any():
            oof[m] = b.predict(_design(c[m])[features].to_numpy(float))
    lab = c["y"].to_numpy() >= 0
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    iso.fit(oof[lab], c["y"].to_numpy()[lab], sample_weight=_balance_generators(c[lab]))
    grid = np.linspace(0.0, 1.0, 201)
    table = {"x": [round(float(v), 4) for v in grid],
             "y": [round(float(v), 5) for v in iso.predict(grid)]}
    prob = calibrate(oof, table)
    points = operating_points(c.assign(confidence=prob), truth, recs, THRESHOLDS)
    threshold = choose_threshold(points, max_fp)
    # never above the first: a recording called non-hypsarrhythmic is never read more strictly
    threshold_other = min(choose_threshold(points, max_fp, hyps=False), threshold)
    booster = _booster(tr, features, seed)
    reliability = reliability_table(prob[lab], c["y"].to_numpy()[lab])
    return {"booster": booster, "features": features, "calibration": table,
            "threshold": threshold, "threshold_other": threshold_other, "oof": points,
            "reliability": reliability}


def _balance_generators(c: pd.DataFrame) -> np.ndarray:
    """Each generator weighs the same in the calibration (class proportions kept)."""
    n = c.groupby("generator")["y"].transform("size").to_numpy(float)
    return len(c) / n / c["generator"].nunique()


def reliability_table(prob: np.ndarray, y: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean predicted probability against the observed share of spasms, per probability bin."""
    edges = np.linspace(0, 1, bins + 1)
    k = np.clip(np.digitize(prob, edges) - 1, 0, bins - 1)
    df = pd.DataFrame({"bin": k, "p": prob, "y": y})
    g = df.groupby("bin").agg(n=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    g.index = [f"{edges[i]:.1f}-{edges[i + 1]:.1f}" for i in g.index]
    return g


def predict(model: dict, c: pd.DataFrame) -> np.ndarray:
    """Calibrated probability of each candidate under a fitted ``model``."""
    if not len(c):
        return np.zeros(0)
    raw = model["booster"].predict(_design(c)[model["features"]].to_numpy(float))
    return calibrate(raw, model["calibration"])


def detections(c: pd.DataFrame, threshold: float, params: SpasmParams = SpasmParams(),
               gate: bool = True, per_recording: dict[str, float] | None = None,
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spasms and electrodecrements as :func:`hypsa.spasms.to_events` reports them, from
    candidates with a ``confidence`` column, per recording (at ``threshold``, or at
    ``per_recording[recording]`` where it names the recording)."""
    sp, de = [], []
    per_recording = per_recording or {}
    for rid, g in c.groupby("recording", sort=False):
        on = g["onset"].to_numpy(float)
        conf = g["confidence"].to_numpy(float)
        th = per_recording.get(rid, threshold)
        p = replace(params, min_confidence=th)
        keep = spasm_decision(g, conf, p) if gate else conf >= th
        idx = refractory_merge(on, conf, keep, params.refractory_s)
        dmask = ~keep & decrement_only(g, params)
        if idx.size:
            dmask &= np.min(np.abs(on[:, None] - on[idx][None, :]), axis=1) >= params.refractory_s
        didx = refractory_merge(on, -g["decrement"].to_numpy(float), dmask, params.refractory_s)
        sp.append(g.iloc[idx][["recording", "onset", "duration"]])
        de.append(g.iloc[didx][["recording", "onset", "duration"]])
    cols = ["recording", "onset", "duration"]

    def cat(x: list) -> pd.DataFrame:
        return pd.concat(x, ignore_index=True) if x else pd.DataFrame(columns=cols)

    return cat(sp), cat(de)


_EMPTY = pd.DataFrame({"onset": np.zeros(0), "duration": np.zeros(0)})


def found_flags(c: pd.DataFrame, truth: pd.DataFrame, threshold: float, gate: bool = True,
                tol_s: float = 1.0, per_recording: dict[str, float] | None = None) -> np.ndarray:
    """Whether each truth row (``recording``, ``onset``) has a detected spasm starting within
    ``tol_s`` of its onset (the per-spasm tolerance of :func:`score`, one spasm at a time)."""
    sp, _ = detections(c, threshold, gate=gate, per_recording=per_recording)
    by = {r: np.sort(g["onset"].to_numpy(float)) for r, g in sp.groupby("recording")}
    out = np.zeros(len(truth), dtype=bool)
    for i, (r, o) in enumerate(zip(truth["recording"], truth["onset"].astype(float),
                                   strict=True)):
        d = by.get(r)
        out[i] = d is not None and d.size > 0 and bool(np.min(np.abs(d - o)) <= tol_s)
    return out


def score(c: pd.DataFrame, truth: pd.DataFrame, recs: pd.DataFrame, threshold: float,
          gate: bool = True, cluster_gap_s: float | None = None,
          per_recording: dict[str, float] | None = None) -> pd.DataFrame:
    """Per recording: spasms to find and found (complete pattern; wave only; decrement only,
    also counting an electrodecrement event), false detections, clusters found and true
    (``per_recording``: a threshold other than ``threshold`` for the recordings it names)."""
    sp, de = detections(c, threshold, gate=gate, per_recording=per_recording)
    return score_detections(sp, de, truth, recs, cluster_gap_s)


def score_detections(sp: pd.DataFrame, de: pd.DataFrame, truth: pd.DataFrame,
                     recs: pd.DataFrame, cluster_gap_s: float | None = None) -> pd.DataFrame:
    """:func:`score` of given detections: spasms ``sp`` and electrodecrement events ``de``
    (``recording``, ``onset``, ``duration``), one row per recording of ``recs``."""
    sp_by, de_by = dict(tuple(sp.groupby("recording"))), dict(tuple(de.groupby("recording")))
    t_by = dict(tuple(truth.groupby("recording")))
    rows = []
    min_size = SpasmParams().min_cluster_size
    for r in recs.itertuples():
        dur = r.hours * 3600.0
        t = t_by.get(r.recording, _EMPTY.assign(form=[], movement=[]))
        d = sp_by.get(r.recording, _EMPTY)
        dd = de_by.get(r.recording, _EMPTY)
        all_s = score_events(t, d, dur, "spasm")
        row = {"recording": r.recording, "generator": r.generator, "background": r.background,
               "hyps": r.hyps, "emg": r.emg, "hours": r.hours, "fp": all_s.fp,
               "n_det": all_s.n_hyp, "n_dec_events": len(dd)}
        for form in ("complete", "wave_only", "decrement_only"):
            tf = t[t["form"] == form] if len(t) else t
            row[f"n_{form}"] = len(tf)
            row[f"tp_{form}"] = score_events(tf, d, dur, "spasm").tp if len(tf) else 0
        tm = t[(t["form"] == "complete") & t["movement"].astype(bool)] if len(t) else t
        row["n_moved"] = len(tm)
        row["tp_moved"] = score_events(tm, d, dur, "spasm").tp if len(tm) else 0
        tp_ = t[t["plain"].fillna(False).astype(bool)] if len(t) and "plain" in t else t.iloc[:0]
        row["n_plain"] = len(tp_)
        row["tp_plain"] = score_events(tp_, d, dur, "spasm").tp if len(tp_) else 0
        tdo = t[t["form"] == "decrement_only"] if len(t) else t
        row["tp_decrement_only_any"] = score_events(
            tdo, pd.concat([d, dd]), dur, "spasm").tp if len(tdo) else 0
        gap = cluster_gap_s or SpasmParams().cluster_gap_s
        found = cluster_spasms(np.sort(d["onset"].to_numpy(float)), gap) if len(d) else \
            np.zeros(0, dtype=int)
        row["clusters_found"] = int((np.bincount(found) >= min_size).sum()) if found.size else 0
        row["clusters_true"] = r.n_clusters_true
        rows.append(row)
    return pd.DataFrame(rows)


def cluster_ceiling(truth: pd.DataFrame, recs: pd.DataFrame,
                    gap_s: float | None = None) -> pd.Series:
    """Per generator, the share of recordings whose cluster count would be exact if every true
    spasm were found: the true onsets grouped as the detector groups its own (``gap_s``,
    default ``SpasmParams().cluster_gap_s``; clusters of ``min_cluster_size`` or more) against
    the generator's own count. What the cluster definition alone allows."""
    gap = gap_s or SpasmParams().cluster_gap_s
    min_size = SpasmParams().min_cluster_size
    t_by = dict(tuple(truth.groupby("recording")))
    ok = []
    for r in recs.itertuples():
        t = t_by.get(r.recording)
        on = np.sort(t["onset"].to_numpy(float)) if t is not None else np.zeros(0)
        cl = cluster_spasms(on, gap)
        n = int((np.bincount(cl) >= min_size).sum()) if cl.size else 0
        ok.append(n == r.n_clusters_true)
    return pd.Series(ok, index=recs["generator"].to_numpy()).groupby(level=0).mean()


def operating_points(c, truth, recs, thresholds) -> pd.DataFrame:
    """Sensitivity (complete pattern) and false detections per hour per generator, background
    (hypsarrhythmic or not) and movement channel, at each threshold."""
    out = []
    for th in thresholds:
        s = score(c, truth, recs, th)
        g = s.groupby(["generator", "hyps", "emg"])[["n_complete", "tp_complete", "fp",
                                                    "hours"]].sum()
        g["threshold"] = th
        out.append(g)
    df = pd.concat(out).reset_index().set_index(["threshold", "generator", "hyps", "emg"])
    return pd.DataFrame({"sensitivity": df.tp_complete / df.n_complete.clip(lower=1),
                         "fp_per_hour": df.fp / df.hours})


def choose_threshold(points: pd.DataFrame, max_fp: float, hyps: bool = True) -> float:
    """The lowest threshold at which every generator, hypsarrhythmic background (``hyps``; the
    other backgrounds with ``hyps=False``), EEG only, keeps false detections per hour at or
    under ``max_fp``; the highest threshold tried where there is no such recording."""
    cell = points.index.get_level_values("hyps").to_numpy(bool) == hyps
    cell &= ~points.index.get_level_values("emg").to_numpy(bool)
    if not cell.any():
        return float(points.index.get_level_values("threshold").max())
    p = points.xs((hyps, False), level=["hyps", "emg"])["fp_per_hour"].unstack("generator")
    ok = p.index[(p <= max_fp).all(axis=1)]
    return float(ok.min()) if len(ok) else float(p.index.max())
