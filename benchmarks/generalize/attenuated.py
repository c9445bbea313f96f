"""Spasm detection from EEG alone, held out, split by how often the background attenuates.

Each hypsarrhythmic bench recording without a movement channel is analysed with
:func:`hypsa.analyze`; its paroxysmal attenuation episodes per minute
(:func:`hypsa.spasm_score.attenuations_per_min` of ``Analysis.extra["attenuations"]``) put it
on one side of :data:`hypsa.spasm_score.ATTENUATED_PER_MIN` (or of ``--per-min``). Then each
held-out generator's scored candidates, as ``run.py --recording-relative --dump DIR`` wrote them
(the fold's model and threshold, not the shipped model), are scored per spasm on each side.
These are the figures of the detection note's warning (``OUT_OF_GENERATOR``) and of
docs/validation.md, "Where the EEG alone is weakest".

Usage::

    nice -n 10 python benchmarks/generalize/run.py --recording-relative --dump /tmp/held
    python benchmarks/generalize/attenuated.py --dump /tmp/held [--per-min 1.5 1.0]

The analyses are cached (``analyses.py``, ~5 min on 2 cores the first time).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import model as M  # noqa: E402
from analyses import analyses  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dump", required=True, help="the folder run.py --dump wrote")
    ap.add_argument("--per-min", type=float, nargs="+", default=None,
                    help="attenuation episodes per minute that split the recordings "
                         "(default: hypsa.spasm_score.ATTENUATED_PER_MIN)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    from hypsa.spasm_score import ATTENUATED_PER_MIN

    dump = Path(args.dump)
    gens = sorted(p.name.removesuffix("_candidates.parquet")
                  for p in dump.glob("*_candidates.parquet"))
    if not gens:
        raise SystemExit(f"{dump}: no *_candidates.parquet (run run.py --dump {dump} first)")
    rows = []
    for g in gens:
        recs = pd.read_parquet(dump / f"{g}_recordings.parquet")
        truth = pd.read_parquet(dump / f"{g}_truth.parquet")
        cand = pd.read_parquet(dump / f"{g}_candidates.parquet")
        ths = json.loads((dump / f"{g}_threshold.json").read_text())
        th = ths["threshold"]
        eeg = recs[recs["hyps"] & ~recs["emg"]]
        rates = analyses(list(eeg["recording"]))[["recording", "per_min"]]
        s = M.score(cand, truth, eeg, th, per_recording=ths.get("per_recording")).merge(
            rates, on="recording")
        for cut in args.per_min or [ATTENUATED_PER_MIN]:
            for many in (True, False):
                d = s[(s["per_min"] >= cut) == many]
                rows.append({
                    "held out": g, "episodes / min": f">= {cut:g}" if many else f"< {cut:g}",
                    "recordings": len(d), "spasms (pattern)": int(d["n_complete"].sum()),
                    "sensitivity": round(d["tp_complete"].sum() / max(d["n_complete"].sum(), 1),
                                         3),
                    "plain pattern": round(d["tp_plain"].sum() / max(d["n_plain"].sum(), 1), 3),
                    "FD/h": round(d["fp"].sum() / max(d["hours"].sum(), 1e-9), 2),
                    "threshold": th})
    print(pd.DataFrame(rows).to_markdown(index=False))


if __name__ == "__main__":
    main()
