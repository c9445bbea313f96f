"""Validation of the video movement events on simulated clips with known truth.

Usage::

    nice -n 10 python benchmarks/validate_video.py --out /tmp/hv [--minutes 10] [--seeds 100-119]
        [--ordinary 200-209] [--eeg 300-303] [--width 256]
    python benchmarks/validate_video.py --merge /tmp/hvA /tmp/hvB   # pool runs made in parts

Per clip it simulates (``hypsa.video.simulate.simulate_video``: fixed and hand-held cameras
alternating, every third clip in portrait framing, variable frame rate with the hand-held ones),
analyses it with the defaults (``hypsa.video.analyze_video``) and scores:

- per spasm: sensitivity and false events per hour (hypsa.evaluate.score_events, level "spasm":
  tight tolerance, no merging);
- clusters: a clip with spasm clusters counts as found when a reported cluster overlaps one;
  ordinary-movement clips (startles, handling, hand passing, camera and light included) must
  report none;
- video-EEG (``--eeg``): the same spasms in a simulated hypsarrhythmic EEG, analysed alone and with
  the clip's movement (``analyze(..., movement=...)``), per-spasm sensitivity and false detections
  per hour.

Seeds 0-9 were used while choosing the event parameters; the reported seeds are others.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from hypsa.evaluate import score_events
from hypsa.video import analyze_video
from hypsa.video.simulate import simulate_video


def _seeds(s: str) -> list[int]:
    if not s:
        return []
    out: list[int] = []
    for part in s.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def one_clip(seed: int, out: Path, minutes: float, width: int, n_clusters: int, eeg: bool):
    handheld = seed % 2 == 1
    portrait = seed % 3 == 0
    h = int(round(width * 9 / 16))
    vid = out / f"clip{seed}.mp4"
    t0 = time.time()
    sim = simulate_video(vid, minutes, width=width, height=h, fps=15, handheld=handheld,
                         portrait=portrait, n_clusters=n_clusters, seed=seed,
                         eeg=out / f"clip{seed}.edf" if eeg else None)
    t_sim = time.time() - t0
    t0 = time.time()
    res = analyze_video(vid)
    t_an = time.time() - t0
    dur = minutes * 60.0
    ref = sim.spasms[["onset", "duration"]]
    hyp = res.events[["onset", "duration"]] if len(res.events) else pd.DataFrame(
        columns=["onset", "duration"])
    sc = score_events(ref, hyp, dur, "spasm")
    truth_cl = sim.spasms.groupby("cluster")["onset"].agg(["min", "max"]) if len(ref) else None
    found = False
    if truth_cl is not None and len(res.clusters):
        for _, c in res.clusters.iterrows():
            if ((truth_cl["min"] - 5 <= c["offset"]) & (truth_cl["max"] + 5 >= c["onset"])).any():
                found = True
    row = {"seed": seed, "handheld": handheld, "portrait": portrait, "minutes": minutes,
           "n_spasms": sc.n_ref, "tp": sc.tp, "fp": sc.fp, "n_events": len(res.events),
           "sensitivity": sc.sensitivity if sc.n_ref else np.nan, "fp_per_hour": sc.fp_per_hour,
           "has_clusters": bool(len(ref)), "clusters_reported": len(res.clusters),
           "cluster_found": found, "subject": res.track.subject,
           "sim_s": round(t_sim, 1), "analyse_s": round(t_an, 1)}
    if eeg:
        from hypsa.analysis import analyze
        from hypsa.video.align import movement_for

        ev_truth = sim.spasms[["onset", "duration"]]
        for label, mv in (("eeg", None), ("eeg_video", movement_for(sim.eeg, [vid]))):
            a = analyze(sim.eeg, movement=mv)
            e = a.events
            s2 = score_events(ev_truth, e[["onset", "duration"]] if len(e) else
                              pd.DataFrame(columns=["onset", "duration"]), dur, "spasm")
            row[f"{label}_sensitivity"] = s2.sensitivity
            row[f"{label}_tp"] = s2.tp
            row[f"{label}_fp"] = s2.fp
            row[f"{label}_fp_per_hour"] = s2.fp_per_hour
    return row


def summarize(df: pd.DataFrame) -> dict:
    """Pooled numbers over the clips of a validation table."""
    sp = df[df["has_clusters"]]
    hours = df["minutes"].sum() / 60.0
    orden = df[~df["has_clusters"]]
    summary = {
        "clips": len(df),
        "spasm_clips": int(len(sp)),
        "ordinary_clips": int(len(orden)),
        "hours": round(float(hours), 2),
        "spasms": int(sp["n_spasms"].sum()),
        "per_spasm_sensitivity": float(sp["tp"].sum() / max(sp["n_spasms"].sum(), 1)),
        "false_events_per_hour": float(df["fp"].sum() / hours),
        "false_events_per_hour_ordinary": float(
            orden["fp"].sum() / max(orden["minutes"].sum() / 60.0, 1e-9)),
        "clusters_found_fraction": float(sp["cluster_found"].mean()) if len(sp) else None,
        "ordinary_clips_with_a_cluster": int((orden["clusters_reported"] > 0).sum()),
        "by_camera": {("hand-held" if k else "fixed"): {
            "clips": int(len(g)),
            "sensitivity": float(g["tp"].sum() / max(g["n_spasms"].sum(), 1)),
            "false_events_per_hour": float(g["fp"].sum() / (g["minutes"].sum() / 60.0))}
            for k, g in df.groupby("handheld")},
    }
    if "eeg_sensitivity" in df:
        e = df[df["eeg_sensitivity"].notna()]
        h = e["minutes"].sum() / 60.0
        n = e["n_spasms"].sum()
        summary["eeg_clips"] = int(len(e))
        for label in ("eeg", "eeg_video"):
            summary[f"{label}_sensitivity"] = float(e[f"{label}_tp"].sum() / max(n, 1))
            summary[f"{label}_fp_per_hour"] = float(e[f"{label}_fp"].sum() / max(h, 1e-9))
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/hypsa-video-validation"))
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--seeds", default="100-119", help="clips with spasm clusters")
    ap.add_argument("--ordinary", default="200-209", help="clips with ordinary movement only")
    ap.add_argument("--eeg", default="", help="clips with a simulated EEG (video-EEG)")
    ap.add_argument("--merge", type=Path, nargs="*", default=None,
                    help="only pool the validation.tsv of these earlier --out folders")
    args = ap.parse_args()
    if args.merge:
        df = pd.concat([pd.read_csv(d / "validation.tsv", sep="\t") for d in args.merge],
                       ignore_index=True)
        print(json.dumps(summarize(df), indent=2))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for s in _seeds(args.seeds):
        rows.append(one_clip(s, args.out, args.minutes, args.width, 2, False))
        print(rows[-1], flush=True)
    for s in _seeds(args.ordinary):
        rows.append(one_clip(s, args.out, args.minutes, args.width, 0, False))
        print(rows[-1], flush=True)
    for s in _seeds(args.eeg):
        rows.append(one_clip(s, args.out, args.minutes, args.width, 2, True))
        print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    df.to_csv(args.out / "validation.tsv", sep="\t", index=False)
    summary = summarize(df)
    print(json.dumps(summary, indent=2))
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
