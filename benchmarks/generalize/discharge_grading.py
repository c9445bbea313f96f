"""Hypsarrhythmia grading with the discharge model, each generator graded by a model fitted on
the two others.

For each held-out generator, a discharge model is fitted as ``benchmarks/train_discharge_model.py``
fits the shipped one, on the two other generators' candidate peaks (seeds ``--train-seed0``
on, as ``discharge_model.py``), and written under ``benchmarks/_work/d17/folds/<generator>``;
``hyps_bench.py`` then grades the held-out generator's recordings (seeds ``--seed0`` on) with
the analysis using that model (:data:`hypsa.discharge_model.MODEL` with ``model_dir``). The real
recordings of ``../shared/data/real`` are graded with each fold's model in turn.

Usage::

    nice -n 10 python benchmarks/generalize/discharge_grading.py [--seeds 2] [--seed0 2000]

Each generator's printout is ``hyps_bench.py``'s, and its rows are kept as
``benchmarks/_work/d17/folds/<generator>/rows.tsv``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import warnings
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import discharge_model as dm  # noqa: E402
import hyps_bench as hb  # noqa: E402
import train_discharge_model as tdm  # noqa: E402

from hypsa.analysis import AnalysisParams  # noqa: E402
from hypsa.discharge_model import CARD_FILE, MODEL, MODEL_FILE  # noqa: E402

FOLDS = dm.CACHE / "folds"


def fold_model(held_out: str, seeds: int, seed0: int, max_false: float) -> Path:
    """Fit and write the model of the fold that holds ``held_out`` out."""
    d = FOLDS / held_out
    tabs = dm.load(seeds, seed0, 10.0, 3.5,
                   generators=[g for g in dm.GENERATORS if g != held_out])
    text, card = tdm.train(tabs, max_false)
    d.mkdir(parents=True, exist_ok=True)
    (d / MODEL_FILE).write_text(text)
    card = {"sha256": hashlib.sha256(text.encode()).hexdigest(), **card}
    (d / CARD_FILE).write_text(json.dumps(card, indent=1) + "\n")
    print(f"\n# {held_out} held out: model on "
          f"{', '.join(g for g in dm.GENERATORS if g != held_out)}, threshold "
          f"{card['threshold']:.2f}", flush=True)
    return d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--seed0", type=int, default=2000)
    ap.add_argument("--train-seeds", type=int, default=2)
    ap.add_argument("--train-seed0", type=int, default=1000)
    ap.add_argument("--max-false", type=float, default=1.0)
    ap.add_argument("--generators", default=",".join(dm.GENERATORS))
    ap.add_argument("--real", action="store_true", help="also grade the real recordings")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    for h in args.generators.split(","):
        d = fold_model(h, args.train_seeds, args.train_seed0, args.max_false)
        hb.PARAMS = AnalysisParams(spikes=replace(MODEL, model_dir=str(d)))
        sys.argv = ["hyps_bench.py", "--generators", h, "--seeds", str(args.seeds),
                    "--seed0", str(args.seed0), "--no-real"]
        hb.main()
        shutil.copy(hb.WORK / "rows.tsv", d / "rows.tsv")
        if args.real and hb.REAL.is_dir():
            real = hb.real_rows()
            ok = real.dropna(subset=["present"]) if "present" in real else real
            print(f"\nreal recordings, {h}-held-out model: called hypsarrhythmic "
                  f"{int(ok.present.sum())}/{len(ok)}; grades "
                  f"{ok.grade.value_counts().sort_index().to_dict()}", flush=True)


if __name__ == "__main__":
    main()
