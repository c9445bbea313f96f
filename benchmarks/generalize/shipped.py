"""The shipped analysis read end to end on one generator's recordings.

``run.py`` fits the spasm model leave-one-generator-out on cached candidate tables. This reads what
a user gets: :func:`hypsa.analyze` with the shipped models and settings, its spasm and
electrodecrement events, its hypsarrhythmia verdict and BASED grade, each scored against the
generator's own truth (per spasm, ±1 s, as ``run.py`` scores; per recording: the verdict against
the drawn background, the grade against the generator's intended grade).

On a generator that no part of hypsa was fitted, tuned or chosen on (``data.HELD_OUT``: the fifth
and sixth generators, ``fifth.py`` and ``sixth.py``, written from the clinical description only)
this is a held-out reading of the whole analysis. On the generators the shipped models were
trained on it is not evidence (the table says so).

    nice -n 10 python benchmarks/generalize/shipped.py --generator fifth --n 112   # ~4 min
    nice -n 10 python benchmarks/generalize/shipped.py --generator sixth           # ~8 min

Each analysis is cached under ``benchmarks/_work/generalize/shipped/`` by the sha256 of the two
spasm models and the measurement version, so a new model or new measurements read again.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import data as D  # noqa: E402
import model as M  # noqa: E402

#: first seed of each generator's recordings here (apart from run.py's)
SEEDS = {"simulate": 3000, "crosscheck": 930000, "independent": 730000, "fourth": 530000,
         "fifth": 100, "sixth": 100}


def _key() -> str:
    from hypsa import spasm_recording, spasm_score
    from hypsa.spasms import FEATURE_VERSION

    shas = [(spasm_score.model_info() or {}).get("sha256") or "none",
            (spasm_recording.model_info() or {}).get("sha256") or "none"]
    return f"v{FEATURE_VERSION}_" + "_".join(s[:10] for s in shas)


def cache_path(s: D.Spec) -> Path:
    return D.WORK / "shipped" / _key() / s.generator / f"{s.rid}.json"


def analyse(s: D.Spec) -> str:
    """:func:`hypsa.analyze` of one recording (built if needed): its events and verdict."""
    from hypsa import analyze
    from hypsa.spasms import EEG_DECREMENT, SPASM_TYPES

    out = cache_path(s)
    if out.is_file():
        return str(out)
    warnings.simplefilter("ignore")
    a = analyze(D.build(s))
    ev = a.events
    h = a.summary_["hypsarrhythmia"]
    sp = a.summary_["spasms"]
    kind = ev["trial_type"].astype(str) if len(ev) else pd.Series(dtype=str)
    row = {
        "spasms": ev.loc[kind.isin(SPASM_TYPES), ["onset", "duration"]].to_dict("list"),
        "decrements": ev.loc[kind == EEG_DECREMENT, ["onset", "duration"]].to_dict("list"),
        "verdict": a.verdict, "grade": h.get("based_score"), "probability": h.get("probability"),
        "per_min": sp.get("attenuations_per_min"),
        "threshold": sp.get("recording_threshold"), "hours": a.summary_["recorded_s"] / 3600}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(row))
    return str(out)


def intended_grade(s: D.Spec) -> int | None:
    """The generator's intended BASED grade (file generators write it in their truth.json)."""
    if s.generator not in D.FILE_GENERATORS:
        return None
    f = next(s.folder.glob("*_truth.json"), None)
    g = json.loads(f.read_text()).get("intended_based") if f else None
    return None if g is None else int(g)


def read(specs: list[D.Spec], jobs: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame,
                                                   pd.DataFrame]:
    """Analyse every recording (cached); spasms, electrodecrements, truth and recordings."""
    todo = [s for s in specs if not cache_path(s).is_file()]
    if todo:
        if jobs > 1 and len(todo) > 1:
            with D.pool(jobs, 8) as workers:
                for i, _ in enumerate(workers.imap_unordered(analyse, todo, chunksize=1)):
                    if (i + 1) % 10 == 0:
                        print(f"  analysed {i + 1}/{len(todo)}", flush=True)
        else:
            for s in todo:
                analyse(s)
    sps, des, truths, recs = [], [], [], []
    for s in specs:
        t, rec = D.truth_of(s)
        r = json.loads(cache_path(s).read_text())
        rid = rec["recording"]
        sps.append(pd.DataFrame(r["spasms"]).assign(recording=rid))
        des.append(pd.DataFrame(r["decrements"]).assign(recording=rid))
        truths.append(t)
        recs.append({**rec, "verdict": r["verdict"], "grade": r["grade"],
                     "probability": r["probability"], "per_min": r["per_min"],
                     "threshold": r["threshold"], "intended": intended_grade(s)})

    def cat(x: list[pd.DataFrame]) -> pd.DataFrame:
        x = [d for d in x if len(d)]
        return pd.concat(x, ignore_index=True) if x else pd.DataFrame(
            columns=["recording", "onset", "duration"])

    return cat(sps), cat(des), pd.concat(truths, ignore_index=True), pd.DataFrame(recs)


def grading(recs: pd.DataFrame) -> tuple[dict, pd.DataFrame | None]:
    """Verdict against the drawn background, and the grade against the intended one."""
    from sklearn.metrics import cohen_kappa_score

    from hypsa.verdict import NOT_ASSESSABLE, PRESENT

    present = recs["verdict"] == PRESENT
    hyps = recs["hyps"].astype(bool)
    row = {"recordings": len(recs), "hypsarrhythmic": int(hyps.sum()),
           "sensitivity": round(float(present[hyps].mean()), 3) if hyps.any() else None,
           "specificity": round(float((~present[~hyps]).mean()), 3) if (~hyps).any() else None,
           "not graded": int((recs["verdict"] == NOT_ASSESSABLE).sum())}
    g = recs.dropna(subset=["grade", "intended"])
    conf = None
    if len(g):
        a, b = g["intended"].astype(int), g["grade"].astype(int)
        for w in ("linear", "quadratic"):
            row[f"kappa ({w})"] = round(float(cohen_kappa_score(a, b, weights=w,
                                                                labels=list(range(6)))), 3)
        conf = pd.crosstab(a.rename("intended"), b.rename("graded"))
    return row, conf


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generator", default="fifth",
                    choices=list(D.GENERATORS) + list(D.HELD_OUT))
    ap.add_argument("--n", type=int, default=112, help="recordings (default 112)")
    ap.add_argument("--seed0", type=int, default=None)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    import run as R

    t0 = time.time()
    g = args.generator
    specs = D.plan(g, args.n, SEEDS[g] if args.seed0 is None else args.seed0, args.minutes)
    sp, de, truth, recs = read(specs, args.jobs)
    held = g in D.HELD_OUT
    print(f"## The shipped analysis on `{g}` ({len(recs)} recordings of {args.minutes:g} min; "
          + ("held out: no part of hypsa was fitted or tuned on it)" if held else
             "NOT held out: the shipped models were trained on this generator)") + "\n")
    s = M.score_detections(sp, de, truth, recs)
    print(R.summary_table(s).to_markdown(index=False))
    print("\n### By background (EEG only and with movement together)\n")
    print(R.by_background(s).to_markdown())
    called = recs.assign(called=recs["verdict"] == "present")
    print("\n### Hypsarrhythmia: the verdict and the grade\n")
    row, conf = grading(recs)
    print(pd.DataFrame([row]).to_markdown(index=False))
    if conf is not None:
        print("\n" + conf.to_markdown())
    print("\n" + called.groupby("background").agg(
        recordings=("called", "size"), called_present=("called", "sum"),
        grade_median=("grade", "median"), intended=("intended", "median"),
        threshold=("threshold", "median")).to_markdown())
    print(f"\n<!-- {time.time() - t0:.0f} s; models {_key()} -->")


if __name__ == "__main__":
    main()
