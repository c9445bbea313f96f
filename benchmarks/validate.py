"""Validation on recordings with known truth: hypsarrhythmia (recording level) and spasms.

Simulated recordings of every hypsarrhythmia form and every non-hypsarrhythmic background (hard
negatives included), several seeds each, with and without EMG; and the real recordings in
../shared/data/real (none is hypsarrhythmia, none holds spasms).

Usage::

    python benchmarks/validate.py [--seeds 3] [--minutes 15] [--no-real] [--operating-points]

Prints the tables written into docs/validation.md. ``--operating-points`` also analyses every
recording at a low spasm threshold and scores the spasms found at several thresholds (the
trade-off a user sets with ``hypsa analyze --spasm-threshold``).
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from hypsa.analysis import AnalysisParams, analyze
from hypsa.evaluate import score_events
from hypsa.simulate import simulate
from hypsa.spasm_score import THRESHOLD
from hypsa.spasms import SPASM_TYPES

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
#: spasm thresholds of the operating-point table (the fitted one among them)
OPERATING_POINTS = sorted({0.6, 0.7, THRESHOLD, 0.86, 0.92})
_LOW = AnalysisParams(spasms=replace(AnalysisParams().spasms, min_confidence=min(OPERATING_POINTS)))


def operating_rows(truth: pd.DataFrame, events: pd.DataFrame, dur: float, **tags) -> list[dict]:
    """Per-spasm score of the events at each threshold of :data:`OPERATING_POINTS`."""
    out = []
    for th in OPERATING_POINTS:
        s = score_events(truth, events[events["confidence"] >= th], dur, "spasm")
        out.append({**tags, "threshold": th, "n_ref": s.n_ref, "tp": s.tp, "fp": s.fp,
                    "hours": dur / 3600})
    return out


def spasms_of(events: pd.DataFrame) -> pd.DataFrame:
    """The spasms among the events (an ``eeg_decrement`` is reported, never counted)."""
    if "trial_type" not in events:
        return events
    return events[events["trial_type"].isin(SPASM_TYPES)]


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
    ap.add_argument("--operating-points", action="store_true",
                    help="also score the spasms at several thresholds")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    dur = args.minutes * 60
    rows, ops = [], []
    t0 = time.time()
    for seed in range(args.seeds):
        for emg in (False, True):
            for form, variant, bg in CASES:
                sim = simulate(dur, hypsarrhythmia=form, variant=variant, background=bg,
                               n_clusters=2, emg=emg, seed=100 + seed)
                a = analyze(sim.to_recording())
                h = a.summary_["hypsarrhythmia"]
                sp = score_events(sim.events, spasms_of(a.events), dur, "spasm")
                cl = score_events(sim.events, spasms_of(a.events), dur, "cluster")
                rows.append({
                    "case": f"{form}/{variant or bg}", "hyps": form != "none", "emg": emg,
                    "seed": seed, "present": h["present"], "grade": h["based_score"],
                    "probability": h["probability"], "n_ref": sp.n_ref, "tp": sp.tp,
                    "fp": sp.fp, "cl_tp": cl.tp, "cl_ref": cl.n_ref, "cl_fp": cl.fp,
                    "clusters_found": a.summary_["spasms"]["n_clusters"],
                    "clusters_true": len(sim.clusters), "hours": dur / 3600,
                })
                if args.operating_points:
                    ops += operating_rows(sim.events, spasms_of(analyze(
                        sim.to_recording(), params=_LOW).events), dur,
                                          background="hypsarrhythmic" if form != "none"
                                          else "other", emg=emg)
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
    if ops:
        op = pd.DataFrame(ops).groupby(["threshold", "background", "emg"])[
            ["n_ref", "tp", "fp", "hours"]].sum()
        cell = [f"{tp / max(n, 1):.3f} / {fp / h:.2f}"
                for n, tp, fp, h in op[["n_ref", "tp", "fp", "hours"]].to_numpy()]
        op = pd.Series(cell, index=op.index).unstack(["background", "emg"])
        op.columns = [f"{b}, {'with EMG' if e else 'EEG only'}" for b, e in op.columns]
        print(f"\n## Operating points: sensitivity / false detections per hour, per spasm "
              f"(the fitted threshold is {THRESHOLD:.2f})\n")
        print(op.to_markdown())
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
            if args.operating_points:
                conf = spasms_of(analyze(f, params=_LOW).events)["confidence"].to_numpy()
                rr[-1].update({f"spasms_{th:.2f}": int((conf >= th).sum())
                               for th in OPERATING_POINTS})
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
        if args.operating_points:
            print("\nfalse spasm detections per hour on the real recordings, by threshold: " +
                  ", ".join(f"{th:.2f}: {ok[f'spasms_{th:.2f}'].sum() / tot_h:.2f}"
                            for th in OPERATING_POINTS))
        if "error" in real:
            for _, r in real[real["error"].notna()].iterrows():
                print(f"- {r['file']}: {r['error']}")
    print(f"\n({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
