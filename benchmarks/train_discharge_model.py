"""Build a discharge model (``discharge_lgbm.txt`` and its card) from generated data.

No model ships with hypsa (the rule stays the detector: with the model, the BASED grading was
worse leave-one-generator-out, docs/validation.md); a model built here is used through
``hypsa.discharge_model.MODEL`` with ``model_dir``.

Every candidate peak (:func:`hypsa.discharge_model.candidate_features`, from 3.5 robust SD of its
channel's local level) of the bench recordings of the three generators
(``benchmarks/generalize/hyps_bench.py``: ``hypsa.simulate``, the cross-check generator, the
independent generator; the windows ``hypsa analyze`` grades, kept by
``benchmarks/generalize/discharge_logo.py``) is measured and labelled by the generator's truth
(``discharge_model.table``: a true discharge at that moment at the peak's electrode or a
neighbour; on a non-hypsarrhythmic recording, none at that moment). LightGBM
(:data:`hypsa.discharge_model.MODEL_PARAMS`, monotone where the clinical direction is clear, each
generator's true and false peaks weighing the same) is fitted on all of them; the threshold is
the one with the highest lower discharge sensitivity among those keeping out-of-fold false
detections (4 folds by recording) at or under ``--max-false`` a minute on every generator's
non-hypsarrhythmic recordings. The same data, seeds and settings give the same file (one
thread, deterministic LightGBM).

Usage::

    nice -n 10 python benchmarks/train_discharge_model.py --out DIR [--seeds 2] [--seed0 1000]
        [--generators simulate crosscheck independent] [--cases a,b] [--max-false 1]

No training data is committed; the recordings are redrawn from the generators' seeds (windows
cached under ``benchmarks/_work/hyps/windows``, candidate tables under ``benchmarks/_work/d17``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "generalize"))

import discharge_model as dm  # noqa: E402

from hypsa.discharge_model import (  # noqa: E402
    CARD_FILE,
    FEATURES,
    MODEL_FILE,
    MODEL_PARAMS,
    MODEL_ROUNDS,
    monotone_constraints,
)


def train(tabs: list[dict], max_false: float, folds: int = 4) -> tuple[str, dict]:
    """Fit the model on every labelled candidate of ``tabs`` and choose its threshold.

    Returns
    -------
    model_text : str
        The LightGBM model (text format).
    card : dict
        Features, threshold, out-of-fold numbers per generator, data counts, settings.
    """
    features = list(FEATURES)
    gens = sorted({t["generator"] for t in tabs})
    scores = dm.oof(tabs, features, folds=max(2, min(folds, len(tabs))))
    thr, res = dm.choose(tabs, scores, gens, max_false)
    x, y, w, _ = dm.training_rows(tabs, features)
    model = dm.fit(x, y, w, features)
    text = model.model_to_string(num_iteration=-1)
    card = {
        "model": "LightGBM binary classifier on discharge candidate peaks "
                 "(hypsa.discharge_model.candidate_features)",
        "features": features,
        "monotone_constraints": monotone_constraints(features),
        "params": MODEL_PARAMS, "rounds": MODEL_ROUNDS,
        "threshold": thr,
        "threshold_rule": f"highest lower sensitivity with out-of-fold false detections <= "
                          f"{max_false:g} a minute on every generator",
        "out_of_fold": {g: {"sensitivity": round(res[g][0], 4),
                            "false_per_min": round(res[g][1], 4)} for g in gens},
        "data": {"recordings": len(tabs), "generators": gens,
                 "seeds": sorted({int(t["seed"]) for t in tabs}),
                 "true_peaks": int((y == 1).sum()), "false_peaks": int((y == 0).sum())},
    }
    return text, card


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--seed0", type=int, default=1000)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--max-false", type=float, default=1.0)
    ap.add_argument("--generators", nargs="+", default=list(dm.GENERATORS))
    ap.add_argument("--cases", default="", help="comma-separated cases (default: all)")
    ap.add_argument("--out", help="write the model and card to this folder")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    t0 = time.time()
    cases = [c for c in args.cases.split(",") if c] or None
    tabs = dm.load(args.seeds, args.seed0, args.minutes, 3.5, generators=args.generators,
                   cases=cases)
    text, card = train(tabs, args.max_false)
    sha = hashlib.sha256(text.encode()).hexdigest()
    given = list(argv if argv is not None else sys.argv[1:])
    if "--out" in given:
        i = given.index("--out")
        del given[i:i + 2]
    cmd = " ".join(["python benchmarks/train_discharge_model.py",
                    *(shlex.quote(a) for a in given)])
    card = {"sha256": sha, "command": cmd, **card}
    print(json.dumps({k: card[k] for k in ("threshold", "out_of_fold", "data")}, indent=1))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / MODEL_FILE).write_text(text)
        (out / CARD_FILE).write_text(json.dumps(card, indent=1) + "\n")
        print(f"wrote {out / MODEL_FILE} (sha256 {sha[:12]})")
    print(f"({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
