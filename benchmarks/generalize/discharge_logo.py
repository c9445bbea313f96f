"""Discharge detection chosen leave-one-generator-out: each threshold set picked on two generators
and measured on the third.

For every recording of ``hyps_bench`` (the three generators; seeds from ``--seed0``), the
analysis runs once with the inputs of each graded window kept (cached under
``benchmarks/_work/hyps/windows``); the discharge detector then reruns on them for every
combination of the grid below. Per generator: the share of the truth's discharges outside the
stretches set aside as ictal that a detection matches (``hyps_bench.score_discharges``), and
the detections matching no true discharge per minute on the non-hypsarrhythmic recordings.
For each held-out generator the combination chosen is the one with the highest lower
sensitivity on the two others among those with at most ``--max-false`` false detections a
minute on both; its numbers on the held-out generator are the evidence.

Usage::

    python benchmarks/generalize/discharge_logo.py [--seeds 2] [--seed0 1000] [--max-false 5]
    python benchmarks/generalize/discharge_logo.py --reach   # the ceiling of the contrast
    python benchmarks/generalize/discharge_logo.py --laplacian \
        --generators simulate,crosscheck,independent,fourth
    python benchmarks/generalize/discharge_logo.py --field-polarity \
        --generators simulate,crosscheck,independent,fourth

``--laplacian`` replaces the grid by the threshold and ``SpikeParams.laplacian_factor`` (the
discharges also looked for on the local Laplacian), the shape tests at the shipped values;
``--field-polarity`` by the threshold and ``SpikeParams.field_min_corr`` (a neighbour seen by its
envelope supports the field only where its waveform is not the location's inverted);
``--generators`` may add the fourth generator, each held out in turn against all the others.

``--reach`` prints, instead of the grid, what any threshold on the local contrast can reach:
per generator and contrast K, the share of the interictal true discharges that some candidate
peak of contrast >= K matches (at the truth's channel or a neighbour, the morphology tests
passed, before grouping and field), and the candidate peaks a minute on the
non-hypsarrhythmic recordings (one per 100 ms of any channel matching no true discharge).
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hyps_bench as hb  # noqa: E402

import hypsa.analysis as analysis  # noqa: E402
from hypsa.channels import POSITIONS  # noqa: E402
from hypsa.hypsarrhythmia import GradingParams, _ictal_bins  # noqa: E402
from hypsa.kernels import median  # noqa: E402
from hypsa.signal import bandpass  # noqa: E402
from hypsa.spikes import RULE, SpikeParams, _local_level, detect_discharges  # noqa: E402

WIN = hb.WORK / "windows"
#: The grid: the local threshold, the shape test of the field, the shape test of symmetry.
GRID = {"k_local": (5.0, 5.5, 6.0, 6.5, 7.0), "field_corr": (0.5, 0.7),
        "symmetric_corr": (-1.0, 0.5)}
#: ``--laplacian``: the threshold and the Laplacian tier (``SpikeParams.laplacian_factor``),
#: the shape tests at the shipped values.
GRID_LAPLACIAN = {"k_local": (6.0, 6.5, 7.0), "laplacian_factor": (None, 0.9, 1.0, 1.1, 1.25)}
#: ``--field-polarity``: the threshold and the correlation with the location's waveform that a
#: neighbour seen by its envelope needs (``SpikeParams.field_min_corr``; None: any), the other
#: tests at the shipped values.
GRID_POLARITY = {"k_local": (5.5, 6.0, 6.5, 7.0), "field_min_corr": (None, -0.5, -0.3, 0.0)}
GENERATORS = ("simulate", "crosscheck", "independent")


def capture(generator: str, case: str, seed: int, minutes: float) -> dict:
    """Analyse one recording, keeping each graded window's inputs (cached)."""
    f = WIN / f"{generator}_{case}_{seed}_{minutes:g}_{hb._source_hash(generator)}.pkl"
    if f.exists():
        with open(f, "rb") as fh:
            return pickle.load(fh)
    r = hb.build(generator, case, seed, minutes, seed % 2 == 0)
    wins: list[dict] = []
    orig = analysis.grade_window

    def keep(x, sfreq, names, onset_s, **kw):
        wins.append({"x": np.asarray(x, np.float32), "sfreq": sfreq, "names": list(names),
                     "onset_s": onset_s, **{k: v for k, v in kw.items()
                                            if k not in ("spikes", "params")}})
        return orig(x, sfreq, names, onset_s, **kw)

    analysis.grade_window = keep
    try:
        analysis.analyze(hb.as_recording(r))
    finally:
        analysis.grade_window = orig
    out = {"generator": generator, "case": case, "seed": seed, "hyps": r["hyps"],
           "discharges": r["discharges"], "windows": wins}
    f.parent.mkdir(parents=True, exist_ok=True)
    with open(f, "wb") as fh:
        pickle.dump(out, fh, protocol=5)
    return out


def exclusion(w: dict, p: SpikeParams) -> tuple[np.ndarray, np.ndarray]:
    """A window's excluded (channel, 1-s bin) cells and its ictal bins, as ``grade_window``
    sets them: unusable and ictal bins, eye movements on the frontal channels, outliers."""
    gp = GradingParams()
    usable = w["usable"]
    n_bins = usable.size
    ictal = _ictal_bins((w.get("ictal_events") or []) + (w.get("decrement_events") or []),
                        n_bins, gp.ictal_margin_s)
    if ictal.any() and (usable & ~ictal).sum() < gp.min_usable_s <= usable.sum():
        ictal = np.zeros(n_bins, dtype=bool)
    names = w["names"]
    excl = np.zeros((len(names), n_bins), dtype=bool) | ~(usable & ~ictal)[None, :]
    excl[[i for i, n in enumerate(names) if n in w["eye_channels"]]] |= w["eye"][None, :]
    pr = w["ptp_ref"][:, :n_bins]
    excl |= pr > p.outlier_factor * median(pr, axis=1, keepdims=True)
    return excl, ictal


def detect(rec: dict, p: SpikeParams) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Detections (recording time), the true discharges outside the ictal stretches, and the
    minutes analysed, as ``grade_window`` does it."""
    found, truth, minutes = [], rec["discharges"], 0.0
    t = truth["onset"].to_numpy(float) if len(truth) else np.zeros(0)
    inter = np.ones(t.size, dtype=bool)
    for w in rec["windows"]:
        excl, ictal = exclusion(w, p)
        n_bins = ictal.size
        pos = np.array([POSITIONS[n] for n in w["names"]], dtype=float)
        d = detect_discharges(w["x"], w["sfreq"], params=p, excluded=excl, band=w["band"],
                              positions=pos)
        found.append(w["onset_s"] + d.time_s)
        b = np.floor(t - w["onset_s"]).astype(int)
        inside = (b >= 0) & (b < n_bins)
        inter[inside] &= ~ictal[b[inside]]
        minutes += n_bins / 60.0
    dets = pd.DataFrame({"onset": np.concatenate(found) if found else np.zeros(0)})
    return dets, truth[inter] if len(truth) else truth, minutes


def score(recs: list[dict], p: SpikeParams) -> dict[str, tuple[float, float]]:
    """Per generator: (interictal discharge sensitivity, false detections a minute on the
    non-hypsarrhythmic recordings)."""
    acc: dict[str, list[float]] = {}
    for rec in recs:
        dets, truth, minutes = detect(rec, p)
        hit, n, false = hb.score_discharges(truth, dets)
        a = acc.setdefault(rec["generator"], [0, 0, 0, 0.0])
        a[0] += hit
        a[1] += n
        if not rec["hyps"]:
            a[2] += false
            a[3] += minutes
    return {g: (a[0] / max(a[1], 1), a[2] / max(a[3], 1e-9)) for g, a in acc.items()}


def _inputs(w: dict, p: SpikeParams) -> tuple:
    """A window's clean bins, average-referenced signal, 8-45 Hz envelope and local levels."""
    gp = GradingParams()
    usable = w["usable"]
    ictal = _ictal_bins((w.get("ictal_events") or []) + (w.get("decrement_events") or []),
                        usable.size, gp.ictal_margin_s)
    x = np.asarray(w["x"], float)
    x = x - x.mean(axis=0, keepdims=True)
    band = w["band"] if w.get("band") is not None else bandpass(x, w["sfreq"], 8.0, 45.0,
                                                                   order=3)
    env = np.abs(band - band.mean(axis=0, keepdims=True))
    loc, blk = _local_level(env, w["sfreq"], p.local_s)
    slope = np.abs(np.diff(x, axis=1, append=x[:, -1:])) * w["sfreq"]
    slope_b, _ = _local_level(slope, w["sfreq"], p.local_s)
    return usable & ~ictal, x, env, loc / 0.6745, blk, slope, slope_b


def reach(recs: list[dict], ks: tuple[float, ...] = (3.0, 4.0, 5.0, 5.5, 6.5)) -> pd.DataFrame:
    """Per generator and contrast: (share of interictal true discharges matched by a candidate
    peak at the truth's channel or a neighbour, candidate peaks a minute matching no true
    discharge on the non-hypsarrhythmic recordings); see the module text."""
    from scipy.signal import find_peaks

    p = SpikeParams()
    acc: dict[tuple[str, float], list[float]] = {}
    for rec in recs:
        truth = rec["discharges"]
        for w in rec["windows"]:
            clean, x, env, loc, blk, slope, slope_b = _inputs(w, p)
            fs, names = w["sfreq"], w["names"]
            n_ch, n = x.shape
            pos = np.array([POSITIONS[c] for c in names], dtype=float)
            d = np.sqrt(((pos[:, None] - pos[None]) ** 2).sum(-1))
            near = d <= 1.6 * float(median(np.sort(d, axis=1)[:, 1]))
            ci = {c: i for i, c in enumerate(names)}
            t = truth["onset"].to_numpy(float) - w["onset_s"] if len(truth) else np.zeros(0)
            tc = (truth["channel"].map(ci).fillna(-1).to_numpy(int) if len(truth)
                  else np.zeros(0, int))
            b = np.floor(t).astype(int)
            ins = (b >= 0) & (b < clean.size) & (tc >= 0)
            ins[ins] = clean[b[ins]]
            t, tc = t[ins], tc[ins]
            half, q = int(round(0.1 * fs)), max(1, int(round(0.05 * fs)))
            sig = median(env, axis=1) / 0.6745
            cand_t, cand_c, cand_k = [], [], []
            for c in range(n_ch):
                pk, _ = find_peaks(env[c], height=max(p.k_global * float(sig[c]), p.floor_uv),
                                   distance=max(1, int(round(p.min_interval_ms / 1000 * fs))))
                pk = pk[(pk >= half) & (pk < n - half)]
                pk = pk[clean[np.minimum(pk // int(round(fs)), clean.size - 1)]]
                bk = np.minimum(pk // blk, loc.shape[1] - 1)
                seg = x[c][pk[:, None] + np.arange(-half, half + 1)[None]]
                steep = slope[c][pk[:, None] + np.arange(-q, q + 1)[None]].max(axis=1)
                ok = ((seg.max(1) - seg.min(1) >= p.min_ptp_uv)
                      & (steep >= p.k_slope * slope_b[c, bk]))
                cand_t.append(pk[ok] / fs)
                cand_c.append(np.full(int(ok.sum()), c))
                cand_k.append(env[c, pk[ok]] / np.maximum(loc[c, bk[ok]], 1e-6))
            ct, cc, ck = (np.concatenate(v) for v in (cand_t, cand_c, cand_k))
            for k in ks:
                a = acc.setdefault((rec["generator"], k), [0, 0, 0, 0.0])
                m = ck >= k
                if t.size:
                    dt = ct[m][None, :] - t[:, None]
                    hit = ((dt >= -0.05) & (dt <= 0.2) & near[tc][:, cc[m]]).any(axis=1)
                    a[0] += int(hit.sum())
                    a[1] += int(t.size)
                if not rec["hyps"]:
                    tt = np.sort(t)
                    f = ct[m]
                    free = np.searchsorted(tt, f + 0.05) <= np.searchsorted(tt, f - 0.2)
                    a[2] += np.unique(np.round(f[free] / 0.1)).size
                    a[3] += clean.sum() / 60.0
    rows = [{"generator": g, "contrast >=": k, "true reached": a[0] / max(a[1], 1),
             "candidate peaks / min, non-hyps": a[2] / max(a[3], 1e-9)}
            for (g, k), a in acc.items()]
    return pd.DataFrame(rows).sort_values(["generator", "contrast >="])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--seed0", type=int, default=1000)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--max-false", type=float, default=5.0)
    ap.add_argument("--generators", default=",".join(GENERATORS),
                    help="comma-separated generators (the fourth may join)")
    ap.add_argument("--laplacian", action="store_true",
                    help="the grid of the threshold and the Laplacian tier instead")
    ap.add_argument("--field-polarity", action="store_true",
                    help="the grid of the threshold and SpikeParams.field_min_corr instead")
    ap.add_argument("--reach", action="store_true",
                    help="print what a threshold on the local contrast can reach, no grid")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    t0 = time.time()
    from fourth import BACKGROUNDS as FOURTH
    from independent import BACKGROUNDS

    gens = tuple(args.generators.split(","))
    cases = {"simulate": list(hb.SIM_CASES), "crosscheck": list(hb.CC_CASES),
             "independent": list(BACKGROUNDS), "fourth": list(FOURTH)}
    recs = [capture(g, c, args.seed0 + s, args.minutes) for g in gens for c in cases[g]
            for s in range(args.seeds)]
    print(f"{len(recs)} recordings ({time.time() - t0:.0f} s)", flush=True)
    if args.reach:
        print("\n## What a threshold on the local contrast can reach\n")
        print(reach(recs).to_markdown(index=False, floatfmt=".2f"))
        return
    rows = []
    base = RULE
    grid_def = GRID_LAPLACIAN if args.laplacian else \
        GRID_POLARITY if args.field_polarity else GRID
    for vals in itertools.product(*grid_def.values()):
        kw = dict(zip(grid_def, vals, strict=True))
        res = score(recs, replace(base, **kw))
        rows.append({**kw, **{f"{g} sens": res[g][0] for g in gens},
                     **{f"{g} false/min": res[g][1] for g in gens}})
        print(f"  {kw}: " + ", ".join(f"{g} {res[g][0]:.3f} @ {res[g][1]:.2f}" for g in gens),
              flush=True)
    grid = pd.DataFrame(rows)
    print("\n## Grid (interictal discharge sensitivity; false detections a minute on "
          "non-hypsarrhythmic recordings)\n")
    print(grid.to_markdown(index=False, floatfmt=".3f"))
    print(f"\n## Leave one generator out (at most {args.max_false:g} false a minute on both "
          "training generators)\n")
    out = []
    for h in gens:
        tr = [g for g in gens if g != h]
        ok = grid[np.all([grid[f"{g} false/min"] <= args.max_false for g in tr], axis=0)]
        if not len(ok):
            out.append({"held out": h, "chosen on": " + ".join(tr), "choice": "none"})
            continue
        lo = ok[[f"{g} sens" for g in tr]].min(axis=1)
        best = ok.loc[lo.idxmax()]
        out.append({"held out": h, "chosen on": " + ".join(tr),
                    "choice": ", ".join(f"{k} {best[k]}" for k in grid_def),
                    "training": "; ".join(f"{g} {best[f'{g} sens']:.3f} @ "
                                          f"{best[f'{g} false/min']:.2f}/min" for g in tr),
                    "held-out sensitivity": f"{best[f'{h} sens']:.3f}",
                    "held-out false/min": f"{best[f'{h} false/min']:.2f}"})
    print(pd.DataFrame(out).to_markdown(index=False))
    print(f"\n({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
