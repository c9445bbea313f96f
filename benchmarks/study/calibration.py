"""Site calibration on recordings of a generator: does it raise out-of-fold sensitivity at
<= 1 false detection per hour?

A "site" of ``--n`` reviewed recordings of ``--patients`` patients is generated with the
independent generator (``benchmarks/generalize/independent.py``, used only through its
``generate()`` interface), at seeds no model was fitted on, optionally through another
amplifier gain (``--gain``: a site's equipment). Its true spasms play the reviewed events (a
site whose reviewers confirmed the true spasms and rejected the rest; ``--reviewer-miss``
leaves that share of them unreviewed). ``hypsa calibrate`` then cross-validates the site model
by patient against the shipped model and writes the card.

With ``--model-dir`` the analysis uses another spasm model than the installed one, e.g. one
trained without this generator (``benchmarks/train_spasm_model.py --generators simulate
crosscheck --out DIR``), so that the site's generator is one the model was not fitted on.

Usage::

    nice -n 10 python benchmarks/study/calibration.py [--n 20] [--patients 10]
        [--minutes 10] [--gain 1.0] [--seed 770000] [--jobs 2] [--model-dir DIR]

Writes ``benchmarks/_work/study_calibration/`` (recordings, ``patients.tsv``, the site model
or the refused card) and prints the card's table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "generalize"))
WORK = ROOT / "benchmarks" / "_work" / "study_calibration"


def _use_model_dir(model_dir: str | None) -> float | None:
    """Point hypsa.spasm_score at another model folder; its threshold (None: installed)."""
    if not model_dir:
        return None
    from hypsa import model_files, spasm_score

    spasm_score.load_model.cache_clear()
    model_files.models_dir = lambda: Path(model_dir)
    return float(spasm_score.load_model()[1]["threshold"])


def _one(args: tuple) -> dict:
    i, seed, background, minutes, gain, out, model_dir, floor = args
    import independent

    from hypsa.analysis import AnalysisParams, analyze
    from hypsa.study.calibrate import _spasm_rows

    _use_model_dir(model_dir)
    case = independent.generate(out, seed=seed, background=background, minutes=minutes,
                                emg=False, spasms=True, gain=gain)
    base = AnalysisParams()
    from dataclasses import replace

    params = replace(base, spasms=replace(base.spasms, min_confidence=floor))
    res = analyze(case.edf, params=params, n_jobs=1)
    ev = res.events
    ev = ev[_spasm_rows(ev)].reset_index(drop=True) if len(ev) else ev
    return {"i": i, "stem": case.edf.name.split(".")[0], "events": ev,
            "duration_s": float(res.summary_["duration_s"]),
            "truth": pd.read_csv(case.events, sep="\t")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--patients", type=int, default=10)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--gain", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=770000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--reviewer-miss", type=float, default=0.0)
    ap.add_argument("--max-fd-per-hour", type=float, default=1.0)
    ap.add_argument("--model-dir", default=None)
    ap.add_argument("--out", type=Path, default=WORK)
    ap.add_argument("--reuse", action="store_true",
                    help="calibrate again on the candidates of the previous run in --out")
    a = ap.parse_args()

    import independent

    from hypsa.study.calibrate import FLOOR, CalibrationRefused, Reviewed, calibrate

    shipped_threshold = _use_model_dir(a.model_dir)
    rec_dir = a.out / "recordings"
    bgs = list(independent.HYPS_BACKGROUNDS)
    todo = [(i, a.seed + i, bgs[i % len(bgs)], a.minutes, a.gain, rec_dir, a.model_dir, FLOOR)
            for i in range(a.n)]
    t0 = time.perf_counter()
    if a.reuse:
        done = []
    elif a.jobs > 1:  # spawned workers: LightGBM's threads do not survive a fork
        with get_context("spawn").Pool(a.jobs) as pool:
            done = pool.map(_one, todo)
    else:
        done = [_one(t) for t in todo]
    rng = np.random.default_rng(a.seed)
    recs, rows = [], []
    for d in sorted(done, key=lambda d: d["i"]):
        truth = d["truth"][["onset", "duration"]]
        keep = rng.random(len(truth)) >= a.reviewer_miss
        patient = f"P{d['i'] % a.patients:02d}"
        recs.append(Reviewed(d["stem"], patient, d["duration_s"], d["events"],
                             truth[keep].reset_index(drop=True)))
        rows.append({"recording": d["stem"], "patient": patient})
    if a.reuse:
        recs = pd.read_pickle(a.out / "reviewed.pkl")
    else:
        pd.DataFrame(rows).to_csv(rec_dir / "patients.tsv", sep="\t", index=False)
        pd.to_pickle(recs, a.out / "reviewed.pkl")  # the candidates, to calibrate again
    name = f"site model (independent generator, gain {a.gain:g})"
    out = a.out / "site-model"
    data = {"source": "benchmarks/study/calibration.py " + " ".join(sys.argv[1:]),
            "generator": "independent", "seeds": [a.seed, a.seed + a.n - 1],
            "gain": a.gain, "minutes": a.minutes, "model_dir": a.model_dir}
    try:
        m = calibrate(recs, max_fd_per_hour=a.max_fd_per_hour, name=name, data=data,
                      shipped_threshold=shipped_threshold)
        m.save(out)
        card = m.card
    except CalibrationRefused as exc:
        from hypsa.study.calibrate import write_refused

        write_refused(out, exc.card)
        card = exc.card
    h = card["held_out"]
    print(card["verdict"])
    for k in ("shipped", "site"):
        s = h[k]
        print(f"{k:8s} sensitivity {s['sensitivity']:.3f}  FD/h {s['fd_per_hour']:.2f}  "
              f"({s['tp']}/{s['spasms']} spasms, {s['fp']} false in {s['hours']:.1f} h)")
    print(f"gain {h['sensitivity_gain'] * 100:+.1f} points; card: {out / 'card.md'}; "
          f"{time.perf_counter() - t0:.0f} s")
    (a.out / "result.json").write_text(json.dumps(card, indent=2, default=str))


if __name__ == "__main__":
    main()
