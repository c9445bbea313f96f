"""Fit the spasm pattern score (hypsa.spasm_score) on simulated recordings with known spasms.

Every candidate the detector examines is measured and labelled: a spasm when its onset lies within
1 s of a true spasm, a mimic when it lies more than 3 s from every true spasm (the ones between
are left out). The candidates come from two generators that share no code:

* ``hypsa.simulate``: every hypsarrhythmia form and every other background, with and without EMG,
  15 min each, on seeds the validation does not use (``benchmarks/validate.py`` uses 100-105);
* ``benchmarks/crosscheck/gen.py``: hypsarrhythmia and spasms built on real children's EEG, on a
  master seed the cross-check does not use (``run_eval.py --seed 2``).

The two generators weigh the same in the fit. A logistic regression (scikit-learn, L2, balanced
classes) on the standardised inputs of :func:`hypsa.spasm_score.design` gives the weights;
``--write`` stores them in ``src/hypsa/spasm_score.py``.

Usage::

    python benchmarks/train_spasm_score.py [--own-seeds 300 ... 311] [--cc-n 192] [--cc-seed 7]
        [--jobs 2] [--write]

Needs the ``bench`` extra (scikit-learn) and ``../shared/data/real`` for the second generator.
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
import time
import warnings
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "benchmarks" / "crosscheck"))

WORK = ROOT / "benchmarks" / "_work" / "spasm_score"
MODULE = ROOT / "src" / "hypsa" / "spasm_score.py"


def candidates(source) -> pd.DataFrame:
    """Every spasm candidate of one recording with its features (analysis as ``hypsa analyze``)."""
    import hypsa.analysis as an
    from hypsa.spasms import detect_spasms

    warnings.simplefilter("ignore")
    an.detect_spasms = functools.partial(detect_spasms, candidates=True)
    try:
        ev = an.analyze(source).events
    finally:
        an.detect_spasms = detect_spasms
    return ev


def label(c: pd.DataFrame, truth: np.ndarray) -> pd.DataFrame:
    """``y`` = 1 within 1 s of a true onset, 0 beyond 3 s of all, -1 between (not fitted)."""
    if not len(c):
        return c.assign(y=pd.Series(dtype=int))
    d = np.min(np.abs(c["onset"].to_numpy()[:, None] - truth[None, :]), axis=1) if truth.size \
        else np.full(len(c), np.inf)
    return c.assign(y=np.where(d <= 1.0, 1, np.where(d > 3.0, 0, -1)))


def _tag(c: pd.DataFrame, truth: pd.DataFrame,
         rec: dict) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    c = label(c, truth["onset"].to_numpy(float)).assign(**rec)
    return c, pd.DataFrame({"recording": rec["recording"],
                            "onset": truth["onset"].to_numpy(float),
                            "duration": truth["duration"].to_numpy(float)}), rec


def _own(args):
    form, variant, background, seed, emg = args
    from hypsa.simulate import simulate

    sim = simulate(900.0, hypsarrhythmia=form, variant=variant, background=background,
                   n_clusters=2, emg=emg, seed=seed)
    case = f"{form}/{variant or background}"
    rec = {"recording": f"{case}/{seed}/{emg}", "generator": "hypsa.simulate", "case": case,
           "hyps": form != "none", "emg": emg, "hours": 0.25}
    return _tag(candidates(sim.to_recording()), sim.events, rec)


def _cc(edf: str):
    import json

    truth = pd.read_csv(edf[:-4] + ".spasms.tsv", sep="\t")
    info = json.loads(Path(edf[:-4] + ".truth.json").read_text())
    rec = {"recording": Path(edf).stem, "generator": "crosscheck", "case": info["form"],
           "hyps": bool(info["hyps_present"]), "emg": bool(info["emg"]),
           "hours": float(info["duration_s"]) / 3600}
    if not len(truth):
        truth = pd.DataFrame({"onset": np.zeros(0), "duration": np.zeros(0)})
    return _tag(candidates(edf), truth, rec)


def collect(own_seeds: list[int], cc_n: int, cc_seed: int, jobs: int):
    """Candidates (labelled), true onsets and the recordings, from both generators."""
    from validate import CASES

    own = [(f, v, b, s, e) for s in own_seeds for e in (False, True) for f, v, b in CASES]
    parts = []
    with Pool(jobs) as pool:
        parts += pool.map(_own, own)
        if cc_n:
            import run_eval

            out = WORK / f"crosscheck_n{cc_n}_s{cc_seed}"
            stems = run_eval.build(cc_n, cc_seed, str(out), (10.0, 20.0), jobs)
            parts += pool.map(_cc, [str(out / "recordings" / f"{s}.edf") for s in stems])
    cands = pd.concat([p[0] for p in parts if len(p[0])], ignore_index=True)
    truth = pd.concat([p[1] for p in parts], ignore_index=True)
    recs = pd.DataFrame([p[2] for p in parts])
    return cands, truth, recs


def detections(c: pd.DataFrame, threshold: float, refractory_s: float = 3.0) -> pd.DataFrame:
    """What the detector reports at ``threshold``: candidates at or above it after the refractory
    merge of :func:`hypsa.spasms.detect_spasms`."""
    from hypsa.spasms import eligible, refractory_merge

    out = [g.iloc[refractory_merge(g["onset"].to_numpy(), g["confidence"].to_numpy(),
                                   (g["confidence"].to_numpy() >= threshold) & eligible(g),
                                   refractory_s)]
           [["recording", "onset", "duration"]]
           for _, g in c.groupby("recording")]
    if not out:
        return pd.DataFrame(columns=["recording", "onset", "duration"])
    return pd.concat(out, ignore_index=True)


def operating_points(c, truth, recs, thresholds) -> pd.DataFrame:
    """Per-spasm sensitivity and false detections per hour at each threshold, per generator,
    background (hypsarrhythmic or not) and EMG, scored as the validation scores them
    (:func:`hypsa.evaluate.score_events`, level ``spasm``: 1 s tolerance, no merging)."""
    from hypsa.evaluate import score_events

    rows = []
    truths = dict(tuple(truth.groupby("recording")))
    empty = pd.DataFrame({"onset": np.zeros(0), "duration": np.zeros(0)})
    for th in thresholds:
        dets = dict(tuple(detections(c, th).groupby("recording")))
        for rec in recs.itertuples():
            t = truths.get(rec.recording, empty)
            s = score_events(t, dets.get(rec.recording, empty), rec.hours * 3600.0, "spasm")
            rows.append((th, rec.generator, rec.hyps, rec.emg, s.n_ref, s.tp, s.fp, rec.hours))
    df = pd.DataFrame(rows, columns=["threshold", "generator", "hyps", "emg", "n", "tp", "fp",
                                     "hours"])
    g = df.groupby(["threshold", "generator", "hyps", "emg"]).sum()
    return pd.DataFrame({"sensitivity": g.tp / g.n.clip(lower=1), "fp_per_hour": g.fp / g.hours})


def choose_threshold(points: pd.DataFrame, max_fp_per_hour: float = 1.0) -> float:
    """The lowest threshold at which hypsa's simulator, hypsarrhythmic background, EEG only, keeps
    false detections at or under ``max_fp_per_hour`` on the training recordings (the floor the
    detector is held to is one false detection per hour there)."""
    p = points.xs(("hypsa.simulate", True, False), level=["generator", "hyps", "emg"])
    ok = p.index[p["fp_per_hour"] <= max_fp_per_hour]
    return float(ok.min()) if len(ok) else float(p.index.max())


def fit(c: pd.DataFrame, C: float = 1.0):
    from sklearn.linear_model import LogisticRegression

    from hypsa.spasm_score import design
    from hypsa.spasms import SpasmParams

    # the weights are fitted on the candidates an electrodecrement follows; those without one
    # (examined only with a strong EMG burst) are scored with the same weights and also pass
    # the EMG gate of hypsa.spasms.eligible
    c = c[(c["y"] >= 0) & (c["decrement"] <= SpasmParams().max_decrement + 0.15)]
    X = design(c).to_numpy()
    y = c["y"].to_numpy()
    mean, scale = X.mean(0), X.std(0)
    scale[scale == 0] = 1.0
    # each generator weighs the same, and within it spasms and mimics weigh the same
    w = np.ones(len(c))
    for _, idx in c.groupby(["generator", "y"]).groups.items():
        w[c.index.get_indexer(idx)] = 1.0 / len(idx)
    w *= len(c) / w.sum()
    model = LogisticRegression(C=C, max_iter=5000).fit((X - mean) / scale, y, sample_weight=w)
    return mean, scale, model.coef_[0], float(model.intercept_[0])


def write(mean, scale, coef, intercept, threshold: float, module: Path = MODULE) -> None:
    """Store the fitted weights in the marked block of ``src/hypsa/spasm_score.py``."""
    from hypsa.spasm_score import MODEL_FEATURES

    rows = "".join(f'    "{n}": ({a:.6g}, {b:.6g}, {c:.6g}),\n'
                   for n, a, b, c in zip(MODEL_FEATURES, mean, scale, coef, strict=True))
    block = ("# --- fitted: begin (written by benchmarks/train_spasm_score.py)\n"
             "#: input: (mean, standard deviation, weight per standard deviation)\n"
             f"_FITTED = {{\n{rows}}}\n_INTERCEPT = {intercept:.6g}\n"
             "#: the score a candidate needs to be a spasm (``SpasmParams.min_confidence``)\n"
             f"THRESHOLD = {threshold:.2f}\n# --- fitted: end")
    text = module.read_text()
    text = re.sub(r"# --- fitted: begin.*?# --- fitted: end", lambda _: block, text, flags=re.S)
    module.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--own-seeds", type=int, nargs="+", default=list(range(300, 312)))
    ap.add_argument("--cc-n", type=int, default=192)
    ap.add_argument("--cc-seed", type=int, default=7)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--C", type=float, default=1.0, help="inverse L2 strength")
    ap.add_argument("--max-fp", type=float, default=1.0,
                    help="false detections per hour that set the threshold (default 1.0)")
    ap.add_argument("--reuse", action="store_true", help="reuse the saved candidate tables")
    ap.add_argument("--write", action="store_true", help="store the fit in spasm_score.py")
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    paths = [WORK / f"{k}.parquet" for k in ("candidates", "truth", "recordings")]
    t0 = time.time()
    if args.reuse and all(p.exists() for p in paths):
        c, truth, recs = (pd.read_parquet(p) for p in paths)
    else:
        c, truth, recs = collect(args.own_seeds, args.cc_n, args.cc_seed, args.jobs)
        c = c.drop(columns=[k for k in ("features", "channels", "eventType") if k in c])
        for table, p in zip((c, truth, recs), paths, strict=True):
            table.to_parquet(p)
    print(f"{len(c)} candidates in {len(recs)} recordings ({time.time() - t0:.0f} s)")
    print(c[c["y"] >= 0].groupby(["generator", "y"]).size().unstack().to_string())
    mean, scale, coef, intercept = fit(c, args.C)
    from hypsa.spasm_score import MODEL_FEATURES, design

    print("\nweights (per standard deviation of each input):")
    print(pd.Series(coef, index=MODEL_FEATURES).round(3).to_string())
    print(f"intercept {intercept:.3f}")
    z = (design(c).to_numpy() - mean) / scale @ coef + intercept
    c = c.assign(confidence=1.0 / (1.0 + np.exp(-z)))
    points = operating_points(c, truth, recs, np.round(np.arange(0.5, 0.96, 0.01), 2))
    threshold = choose_threshold(points, args.max_fp)
    print(f"\nthreshold {threshold:.2f} (training recordings, per spasm, scored as validate.py):")
    near = points.loc[[t for t in points.index.levels[0] if abs(t - threshold) < 0.055]]
    print(near.round(3).unstack(["generator", "hyps", "emg"]).to_string())
    if args.write:
        write(mean, scale, coef, intercept, threshold)
        print(f"written to {MODULE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
