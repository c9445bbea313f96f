"""Validation on recordings with known truth: hypsarrhythmia (recording level) and spasms.

Simulated recordings of every hypsarrhythmia form and every non-hypsarrhythmic background (hard
negatives included), several seeds each, with and without EMG; and the real recordings in
../shared/data/real (none is hypsarrhythmia, none holds spasms).

Usage::

    python benchmarks/validate.py [--seeds 3] [--minutes 15] [--no-real]

Prints the tables written into docs/validation.md.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from hypsa.analysis import analyze
from hypsa.evaluate import score_events
from hypsa.simulate import simulate

CASES = [
    ("classic", None, "normal"),
    ("modified", "attenuation", "normal"),
    ("modified", "asymmetry", "normal"),
    ("modified", "focus", "normal"),
    ("modified", "synchronous", "normal"),
    ("modified", "slow", "normal"),
    ("modified", "fragmented", "normal"),
    ("none", None, "normal"),
    ("none", None, "sleep_slow"),
    ("none", None, "single_focus"),
    ("none", None, "burst_suppression"),
]
REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half)."""
    pos, neg = score[y], score[~y]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    gt = (pos[:, None] > neg[None, :]).mean()
    eq = (pos[:, None] == neg[None, :]).mean()
    return float(gt + 0.5 * eq)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--no-real", action="store_true")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    dur = args.minutes * 60
    rows = []
    t0 = time.time()
    for seed in range(args.seeds):
        for emg in (False, True):
            for form, variant, bg in CASES:
                sim = simulate(dur, hypsarrhythmia=form, variant=variant, background=bg,
                               n_clusters=2, emg=emg, seed=100 + seed)
                a = analyze(sim.to_recording())
                h = a.summary_["hypsarrhythmia"]
                sp = score_events(sim.events, a.events, dur, "spasm")
                cl = score_events(sim.events, a.events, dur, "cluster")
                rows.append({
                    "case": f"{form}/{variant or bg}", "hyps": form != "none", "emg": emg,
                    "seed": seed, "present": h["present"], "grade": h["based_score"],
                    "probability": h["probability"], "n_ref": sp.n_ref, "tp": sp.tp,
                    "fp": sp.fp, "cl_tp": cl.tp, "cl_ref": cl.n_ref, "cl_fp": cl.fp,
                    "clusters_found": a.summary_["spasms"]["n_clusters"],
                    "clusters_true": len(sim.clusters), "hours": dur / 3600,
                })
    df = pd.DataFrame(rows)
    y = df["hyps"].to_numpy()
    pred = df["present"].to_numpy()
    print(f"## Hypsarrhythmia, recording level ({len(df)} simulated recordings of "
          f"{args.minutes:g} min, {args.seeds} seeds, with and without EMG)\n")
    print(f"sensitivity {np.mean(pred[y]):.3f}  specificity {np.mean(~pred[~y]):.3f}  "
          f"AUC {auc(y, df['probability'].fillna(0).to_numpy()):.3f}\n")
    print(df.groupby("case").agg(n=("present", "size"), called_present=("present", "mean"),
                                 median_grade=("grade", "median"),
                                 mean_probability=("probability", "mean"))
          .to_markdown(floatfmt=".2f"))
    print("\n## Spasms, per spasm (±1 s) and per cluster (SzCORE)\n")
    g = df.assign(background=np.where(df.hyps, "hypsarrhythmic", "other")).groupby(
        ["background", "emg"])
    tab = g.apply(lambda d: pd.Series({
        "spasms": d.n_ref.sum(), "sensitivity": d.tp.sum() / max(d.n_ref.sum(), 1),
        "precision": d.tp.sum() / max(d.tp.sum() + d.fp.sum(), 1),
        "fp_per_hour": d.fp.sum() / d.hours.sum(),
        "cluster_sensitivity": d.cl_tp.sum() / max(d.cl_ref.sum(), 1),
        "cluster_count_exact": (d.clusters_found == d.clusters_true).mean(),
    }), include_groups=False)
    print(tab.to_markdown(floatfmt=".3f"))
    by_case = df.groupby("case").apply(lambda d: pd.Series({
        "sensitivity": d.tp.sum() / max(d.n_ref.sum(), 1),
        "fp_per_hour": d.fp.sum() / d.hours.sum()}), include_groups=False)
    print("\n" + by_case.to_markdown(floatfmt=".3f"))
    if not args.no_real and REAL.is_dir():
        rr = []
        for f in sorted(REAL.rglob("*")):
            if f.suffix.lower() not in (".edf", ".bdf"):
                continue
            try:
                a = analyze(f)
            except Exception as exc:  # noqa: BLE001 - reported in the table
                rr.append({"file": f.name, "error": str(exc)[:60]})
                continue
            rr.append({"file": f.relative_to(REAL).as_posix(), "group": f.parent.name,
                       "hours": a.summary_["recorded_s"] / 3600, "present": a.present,
                       "grade": a.based_score, "spasms": a.n_spasms})
        real = pd.DataFrame(rr)
        ok = real.dropna(subset=["hours"])
        print("\n## Real recordings (no hypsarrhythmia, no spasms)\n")
        print(ok.groupby("group").agg(files=("file", "size"), hours=("hours", "sum"),
                                      called_present=("present", "sum"),
                                      false_spasms=("spasms", "sum")).to_markdown(
                                          floatfmt=".2f"))
        tot_h = ok.hours.sum()
        print(f"\nfalse spasm detections: {ok.spasms.sum()} in {tot_h:.2f} h = "
              f"{ok.spasms.sum() / tot_h:.2f}/h; recordings called hypsarrhythmic: "
              f"{int(ok.present.sum())}/{len(ok)}")
        if "error" in real:
            for _, r in real[real["error"].notna()].iterrows():
                print(f"- {r['file']}: {r['error']}")
    print(f"\n({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
