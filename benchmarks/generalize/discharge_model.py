"""A shape model of discharges, judged leave-one-generator-out against the rule.

From the windows ``discharge_logo.py`` keeps for every recording of ``hyps_bench`` (three
generators; seeds from ``--seed0``), every candidate peak at ``--k-candidate`` robust SD of
its channel's local level or more is measured (:func:`hypsa.discharge_model.candidate_features`:
contrast, flanks, sharpness, duration, asymmetry, after-going slow wave, electrodes sharing it,
rank among its channel's peaks) and labelled by the generator's truth: a true discharge whose
onset lies 200 ms before to 50 ms after the peak, at the peak's electrode or a neighbour
(positive); on a non-hypsarrhythmic recording, no true discharge at that moment (negative);
otherwise left out of training.

For each held-out generator a LightGBM model (:func:`fit`) is trained on the other two; its
threshold is chosen on the training generators only, from out-of-fold scores (4 folds by
recording): the highest lower sensitivity with at most ``--max-false`` false detections a
minute on both. Detections: candidates at or above the threshold, those on several channels
within 60 ms one discharge. Sensitivity and false detections are scored as the bench does
(``hyps_bench.score_discharges``: interictal true discharges; detections matching none, per
minute of the non-hypsarrhythmic recordings), beside the shipped rule on the same windows.

Usage::

    python benchmarks/generalize/discharge_model.py [--seeds 2] [--seed0 1000] [--max-false 3.5]

Candidate tables are cached under ``benchmarks/_work/d17``.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import discharge_logo as dl  # noqa: E402
import hyps_bench as hb  # noqa: E402

from hypsa.channels import POSITIONS  # noqa: E402
from hypsa.discharge_model import (  # noqa: E402
    FEATURES,
    MODEL_PARAMS,
    MODEL_ROUNDS,
    candidate_features,
    monotone_constraints,
)
from hypsa.kernels import median  # noqa: E402
from hypsa.spikes import RULE, SpikeParams, _group_ids  # noqa: E402

CACHE = hb.ROOT / "benchmarks" / "_work" / "d17"
#: Contrasts at which the rule's own detections are kept (``clear``: found whatever the model).
CLEAR = (8.0, 10.0, 12.0)
#: Measurements left free of their monotone constraint (``--free``; variants tried).
FREE: set[str] = set()
GENERATORS = dl.GENERATORS


def table(rec: dict, k_candidate: float) -> dict:
    """One recording's candidate table, interictal truth, minutes and the rule's detections."""
    p = SpikeParams()
    truth = rec["discharges"]
    tt = truth["onset"].to_numpy(float) if len(truth) else np.zeros(0)
    rows, minutes = [], 0.0
    for w in rec["windows"]:
        excl, _ = dl.exclusion(w, p)
        names = w["names"]
        pos = np.array([POSITIONS[n] for n in names], dtype=float)
        pk, ch, f = candidate_features(w["x"], w["sfreq"], params=p, excluded=excl,
                                       band=w["band"], positions=pos, k_candidate=k_candidate)
        d = np.sqrt(((pos[:, None] - pos[None]) ** 2).sum(-1))
        near = d <= 1.6 * float(median(np.sort(d, axis=1)[:, 1]))
        ci = {c: i for i, c in enumerate(names)}
        tc = truth["channel"].map(ci).fillna(-1).to_numpy(int) if len(truth) else \
            np.zeros(0, int)
        t = w["onset_s"] + pk / w["sfreq"]
        lo = np.searchsorted(tt, t - 0.2)
        hi = np.searchsorted(tt, t + 0.05)
        lab = np.where(hi > lo, -1, 0 if not rec["hyps"] else -1)
        for i in np.flatnonzero(hi > lo):
            m = tc[lo[i]:hi[i]]
            m = m[m >= 0]
            if m.size and near[ch[i], m].any():
                lab[i] = 1
        df = pd.DataFrame(f, columns=list(FEATURES))
        df.insert(0, "t", t)
        df.insert(1, "ch", ch)
        df.insert(2, "label", lab)
        rows.append(df)
        minutes += w["usable"].size / 60.0
    dets, inter, _ = dl.detect(rec, RULE)
    clear = {k: dl.detect(rec, replace(RULE, k_local=k))[0]["onset"].to_numpy(float)
             for k in CLEAR}
    return {"clear": clear, "generator": rec["generator"], "case": rec["case"], "seed": rec["seed"],
            "hyps": rec["hyps"], "cand": pd.concat(rows, ignore_index=True),
            "truth": inter[["onset"]].reset_index(drop=True) if len(inter) else
            pd.DataFrame({"onset": np.zeros(0)}), "minutes": minutes,
            "rule": dets["onset"].to_numpy(float)}


def load(seeds: int, seed0: int, minutes: float, k_candidate: float,
         generators: list[str] | tuple[str, ...] = GENERATORS,
         cases: list[str] | None = None) -> list[dict]:
    """Every recording's table (cached; the windows from ``discharge_logo.capture``);
    ``cases`` limits the cases drawn (default: every case of each generator)."""
    from independent import BACKGROUNDS

    every = {"simulate": list(hb.SIM_CASES), "crosscheck": list(hb.CC_CASES),
             "independent": list(BACKGROUNDS)}
    out = []
    for g in generators:
        for c in every[g]:
            if cases is not None and c not in cases:
                continue
            for s in range(seeds):
                f = CACHE / f"{g}_{c}_{seed0 + s}_{minutes:g}_{k_candidate:g}.pkl"
                if f.exists():
                    with open(f, "rb") as fh:
                        out.append(pickle.load(fh))
                    continue
                tab = table(dl.capture(g, c, seed0 + s, minutes), k_candidate)
                f.parent.mkdir(parents=True, exist_ok=True)
                with open(f, "wb") as fh:
                    pickle.dump(tab, fh, protocol=5)
                out.append(tab)
    return out


def detections(t: np.ndarray, score: np.ndarray, thr: float,
               group_s: float = 0.06) -> np.ndarray:
    """Times of the discharges: candidates at or above ``thr``, grouped within ``group_s``
    (each group at its highest-scoring candidate)."""
    keep = score >= thr
    if not keep.any():
        return np.zeros(0)
    tk, sk = t[keep], score[keep]
    o = np.argsort(tk, kind="stable")
    tk, sk = tk[o], sk[o]
    gid = _group_ids(tk, group_s)
    best = np.full(int(gid[-1]) + 1, -np.inf)
    np.maximum.at(best, gid, sk)
    first = np.full(best.size, -1)
    idx = np.flatnonzero(sk >= best[gid])[::-1]
    first[gid[idx]] = idx
    return tk[first]


def merge(a: np.ndarray, b: np.ndarray, group_s: float = 0.06) -> np.ndarray:
    """Detections ``a`` and those of ``b`` farther than ``group_s`` from every one of ``a``."""
    if not b.size or not a.size:
        return np.sort(np.concatenate([a, b]))
    a = np.sort(a)
    i = np.clip(np.searchsorted(a, b), 1, a.size - 1)
    near = np.minimum(np.abs(a[i] - b), np.abs(a[i - 1] - b)) <= group_s
    if a.size == 1:
        near = np.abs(a[0] - b) <= group_s
    return np.sort(np.concatenate([a, b[~near]]))


def bench(tabs: list[dict], scores: list[np.ndarray], thr: float,
          clear: float | None = None) -> dict[str, tuple]:
    """Per generator: (interictal sensitivity, false detections a minute on the
    non-hypsarrhythmic recordings) at ``thr`` (with the rule's detections at contrast
    ``clear`` and above added, when given)."""
    found = []
    for tab, sc in zip(tabs, scores, strict=True):
        d = detections(tab["cand"]["t"].to_numpy(float), sc, thr)
        found.append(merge(d, tab["clear"][clear]) if clear is not None else d)
    return tally(tabs, found)


def tally(tabs: list[dict], found: list[np.ndarray]) -> dict[str, tuple]:
    """Per generator: (interictal sensitivity, false detections a minute on the
    non-hypsarrhythmic recordings) of the detection times ``found`` of each table."""
    acc: dict[str, list[float]] = {}
    for tab, d in zip(tabs, found, strict=True):
        hit, n, false = hb.score_discharges(tab["truth"], pd.DataFrame({"onset": d}))
        a = acc.setdefault(tab["generator"], [0, 0, 0, 0.0])
        a[0] += hit
        a[1] += n
        if not tab["hyps"]:
            a[2] += false
            a[3] += tab["minutes"]
    return {g: (a[0] / max(a[1], 1), a[2] / max(a[3], 1e-9)) for g, a in acc.items()}


def rule(tabs: list[dict]) -> dict[str, tuple]:
    """The shipped rule's (sensitivity, false a minute) per generator, the same scoring."""
    return tally(tabs, [tab["rule"] for tab in tabs])


def training_rows(tabs: list[dict], features: list[str]) -> tuple:
    """(X, y, weight, recording index) of the labelled candidates; each generator's positives
    and negatives weigh as much as every other generator's."""
    xs, ys, rs, gs = [], [], [], []
    for i, tab in enumerate(tabs):
        c = tab["cand"]
        m = c["label"].to_numpy() >= 0
        xs.append(c.loc[m, features].to_numpy(float))
        ys.append(c.loc[m, "label"].to_numpy(int))
        rs.append(np.full(int(m.sum()), i))
        gs.append(np.full(int(m.sum()), tab["generator"], dtype=object))
    x, y, r, g = (np.concatenate(v) for v in (xs, ys, rs, gs))
    w = np.ones(y.size)
    for gen in np.unique(g):
        for lab in (0, 1):
            m = (g == gen) & (y == lab)
            if m.any():
                w[m] = 1.0 / m.sum()
    return x, y, w * y.size / w.sum(), r


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, features: list[str]):
    """The LightGBM model (deterministic, one thread, monotone where the clinical direction is
    clear: :func:`hypsa.discharge_model.monotone_constraints`)."""
    import lightgbm as lgb

    params = {**MODEL_PARAMS, "monotone_constraints": [
        0 if f in FREE else c for f, c in zip(features, monotone_constraints(features),
                                              strict=True)]}
    ds = lgb.Dataset(x, y, weight=w, feature_name=list(features), free_raw_data=False)
    return lgb.train(params, ds, num_boost_round=MODEL_ROUNDS)


def predict(model, tabs: list[dict], features: list[str]) -> list[np.ndarray]:
    """Each recording's candidate scores."""
    return [model.predict(t["cand"][features].to_numpy(float), num_threads=1)
            if len(t["cand"]) else np.zeros(0) for t in tabs]


THRESHOLDS = np.round(np.arange(0.30, 0.995, 0.01), 3)


def choose(tabs: list[dict], scores: list[np.ndarray], train: list[str],
           max_false: float, clear: float | None = None) -> tuple[float, dict]:
    """The threshold with the highest lower sensitivity on ``train`` among those with at most
    ``max_false`` false detections a minute on each."""
    best, res_best = float(THRESHOLDS[-1]), None
    lo_best = -1.0
    for thr in THRESHOLDS:
        res = bench(tabs, scores, float(thr), clear)
        if all(res[g][1] <= max_false for g in train):
            lo = min(res[g][0] for g in train)
            if lo > lo_best:
                best, res_best, lo_best = float(thr), res, lo
    return best, res_best or bench(tabs, scores, best, clear)


def oof(tabs: list[dict], features: list[str], folds: int = 4) -> list[np.ndarray]:
    """Out-of-fold scores: recordings dealt to ``folds`` folds in turn (per generator and
    case), each scored by a model fitted on the others."""
    order = sorted(range(len(tabs)), key=lambda i: (tabs[i]["generator"], tabs[i]["case"],
                                                    tabs[i]["seed"]))
    fold = np.zeros(len(tabs), dtype=int)
    fold[order] = np.arange(len(tabs)) % folds
    out: list[np.ndarray] = [np.zeros(0)] * len(tabs)
    for k in range(folds):
        tr = [t for i, t in enumerate(tabs) if fold[i] != k]
        te = [i for i in range(len(tabs)) if fold[i] == k]
        x, y, w, _ = training_rows(tr, features)
        m = fit(x, y, w, features)
        for i, s in zip(te, predict(m, [tabs[i] for i in te], features), strict=True):
            out[i] = s
    return out


def cross(tabs: list[dict], features: list[str]) -> list[np.ndarray]:
    """Cross-generator scores: each recording scored by a model fitted on the other
    generator(s) of ``tabs`` only."""
    out: list[np.ndarray] = [np.zeros(0)] * len(tabs)
    gens = sorted({t["generator"] for t in tabs})
    for g in gens:
        tr = [t for t in tabs if t["generator"] != g]
        te = [i for i, t in enumerate(tabs) if t["generator"] == g]
        x, y, w, _ = training_rows(tr, features)
        m = fit(x, y, w, features)
        for i, s in zip(te, predict(m, [tabs[i] for i in te], features), strict=True):
            out[i] = s
    return out


def logo(tabs: list[dict], features: list[str], max_false: float,
         how: str = "oof", clear: float | None = None) -> pd.DataFrame:
    """The leave-one-generator-out table, with the rule beside. ``how``: the threshold from
    out-of-fold scores of the training generators (``oof``) or from each training generator
    scored by a model fitted on the other (``cross``)."""
    rl = rule(tabs)
    rows = []
    for h in GENERATORS:
        tr_g = [g for g in GENERATORS if g != h]
        tr = [t for t in tabs if t["generator"] in tr_g]
        te = [t for t in tabs if t["generator"] == h]
        sc_tr = oof(tr, features) if how == "oof" else cross(tr, features)
        thr, res_tr = choose(tr, sc_tr, tr_g, max_false, clear)
        x, y, w, _ = training_rows(tr, features)
        m = fit(x, y, w, features)
        res = bench(te, predict(m, te, features), thr, clear)[h]
        rows.append({"held out": h, "threshold": thr,
                     "training (out of fold)": "; ".join(
                         f"{g} {res_tr[g][0]:.3f} @ {res_tr[g][1]:.2f}" for g in tr_g),
                     "model sensitivity": round(res[0], 3), "model false/min": round(res[1], 2),
                     "rule sensitivity": round(rl[h][0], 3),
                     "rule false/min": round(rl[h][1], 2)})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--seed0", type=int, default=1000)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--k-candidate", type=float, default=3.5)
    ap.add_argument("--max-false", type=float, default=1.0)
    ap.add_argument("--clear", type=float, default=None, choices=CLEAR,
                    help="add the rule's detections from this contrast")
    ap.add_argument("--free", default="",
                    help="comma-separated measurements left free of their monotone constraint")
    ap.add_argument("--drop", default="", help="comma-separated features left out")
    ap.add_argument("--threshold-from", choices=("oof", "cross"), default="oof",
                    help="training scores the threshold is chosen on (see logo)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    t0 = time.time()
    tabs = load(args.seeds, args.seed0, args.minutes, args.k_candidate)
    n = sum(len(t["cand"]) for t in tabs)
    lab = np.concatenate([t["cand"]["label"].to_numpy() for t in tabs])
    print(f"{len(tabs)} recordings, {n} candidate peaks ({(lab == 1).sum()} true, "
          f"{(lab == 0).sum()} false, {(lab < 0).sum()} left out; {time.time() - t0:.0f} s)",
          flush=True)
    drop = {s for s in args.drop.split(",") if s}
    FREE.update(s for s in args.free.split(",") if s)
    features = [f for f in FEATURES if f not in drop]
    out = logo(tabs, features, args.max_false, args.threshold_from, args.clear)
    print(f"\n## Leave one generator out (threshold: at most {args.max_false:g} false a minute "
          "on both training generators, out of fold)\n")
    print(out.to_markdown(index=False))
    print(f"\n({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
