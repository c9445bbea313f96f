"""Leave-one-generator-out bench of spasm detection: fit on all generators but one, test on it.

Builds (once, cached under ``benchmarks/_work/generalize``) recordings of the four independent
generators (``data.py``), measures every spasm candidate of each as ``hypsa analyze`` does,
then for each generator fits the spasm model (``model.py``: LightGBM, isotonic calibration,
threshold) on the others and scores the held-out one, per spasm (±1 s, timescoring through
:func:`hypsa.evaluate.score_events`): sensitivity for spasms whose EEG shows the pattern
(a wave and a decrement), precision, false detections per hour, EEG only and with a movement
channel, by background; the incomplete forms (wave only, decrement only) beside; exact cluster
count per recording; false detections on the real recordings of ``../shared/data/real``.

Usage (from the repository root)::

    nice -n 10 python benchmarks/generalize/run.py [--quick] [--n 144] [--jobs 2]
        [--features relative|invariant|all] [--no-gate] [--max-fp 1.0] [--dump DIR]
        [--no-monotone] [--trees KEY=VALUE ...] [--ceiling]

Prints markdown tables (the ones in docs/validation.md). ``--quick``: 12 recordings per
generator.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import data  # noqa: E402
import model as M  # noqa: E402

#: first seed of each generator's recordings (none of them is used by benchmarks/validate.py or
#: benchmarks/crosscheck/run_eval.py)
SEEDS = {"simulate": 1000, "crosscheck": 900000, "independent": 700000, "fourth": 500000,
         "fifth": 600000, "sixth": 610000}

#: inter-spasm gaps (s) at which the cluster count is also reported
CLUSTER_GAPS = (30.0, 40.0, 45.0, 60.0, 90.0, 120.0)


def available() -> list[str]:
    """The generators present in the tree."""
    here = Path(__file__).resolve().parent
    return [g for g in data.GENERATORS if g in ("simulate", "crosscheck")
            or (here / f"{g}.py").is_file()]


def specs(n: int, gens: list[str], minutes: float = 10.0) -> list[data.Spec]:
    return [s for g in gens for s in data.plan(g, n, SEEDS[g], minutes)]


def _channels(emg: bool) -> str:
    return "EEG + movement" if emg else "EEG only"


def _rate(a: float, b: float) -> str:
    return f"{a / b:.3f}" if b else "n/a"


def summary_table(s: pd.DataFrame) -> pd.DataFrame:
    """The headline table: per held-out generator, background and movement channel."""
    rows = []
    for (gen, hyps, emg), d in s.groupby(["generator", "hyps", "emg"]):
        tp = d.tp_complete.sum()
        n = d.n_complete.sum()
        ndet = d.n_det.sum()
        rows.append({
            "held out": gen, "background": "hypsarrhythmic" if hyps else "other",
            "channels": _channels(emg), "recordings": len(d),
            "spasms (pattern)": int(n), "sensitivity": _rate(tp, n),
            "plain pattern": f"{_rate(d.tp_plain.sum(), d.n_plain.sum())} "
                             f"({int(d.n_plain.sum())})",
            "moved (EMG burst drawn)": f"{_rate(d.tp_moved.sum(), d.n_moved.sum())} "
                                       f"({int(d.n_moved.sum())})" if emg else "-",
            "precision": _rate(ndet - d.fp.sum(), ndet),
            "FD/h": f"{d.fp.sum() / d.hours.sum():.2f}",
            "wave only": f"{_rate(d.tp_wave_only.sum(), d.n_wave_only.sum())} "
                         f"({int(d.n_wave_only.sum())})",
            "decrement only: spasm / any event":
                f"{_rate(d.tp_decrement_only.sum(), d.n_decrement_only.sum())} / "
                f"{_rate(d.tp_decrement_only_any.sum(), d.n_decrement_only.sum())} "
                f"({int(d.n_decrement_only.sum())})",
            "eeg_decrement/h": f"{d.n_dec_events.sum() / d.hours.sum():.2f}",
            "cluster count exact": f"{(d.clusters_found == d.clusters_true).mean():.2f}",
        })
    return pd.DataFrame(rows)


def by_background(s: pd.DataFrame) -> pd.DataFrame:
    g = s.groupby(["generator", "background"])
    return pd.DataFrame({
        "recordings": g.size(),
        "sensitivity (pattern)": g.tp_complete.sum() / g.n_complete.sum().clip(lower=1),
        "FD/h": g.fp.sum() / g.hours.sum(),
        "cluster count exact": g.apply(lambda d: (d.clusters_found == d.clusters_true).mean(),
                                       include_groups=False),
    }).round(3)


#: bins of the wave's size against its local background (each generator's own measure)
WAVE_BINS = [0.0, 0.8, 1.2, 1.7, 2.5, np.inf]


def wave_table(t: pd.DataFrame) -> pd.DataFrame:
    """Sensitivity by the wave's size against the local background (``wave_ratio`` of the
    truth), per held-out generator, background (hypsarrhythmic or not) and channels."""
    t = t[t["wave_ratio"].notna()]
    if not len(t):
        return pd.DataFrame()
    labels = ["< 0.8", "0.8-1.2", "1.2-1.7", "1.7-2.5", ">= 2.5"]
    t = t.assign(size=pd.cut(t["wave_ratio"].astype(float), WAVE_BINS, labels=labels,
                             right=False),
                 background=np.where(t["hyps"], "hypsarrhythmic", "other"),
                 channels=np.where(t["emg"], "EEG + movement", "EEG only"))
    g = t.groupby(["generator", "background", "channels", "size"], observed=False)["found"]
    cell = g.agg(lambda x: f"{x.mean():.2f} ({len(x)})" if len(x) else "-")
    return cell.unstack("size")


def real_fp(model: dict, threshold: float, real: pd.DataFrame) -> int:
    """False detections on the real recordings (none holds a spasm)."""
    if not len(real):
        return 0
    c = real.assign(confidence=M.predict(model, real))
    sp, _ = M.detections(c, threshold)
    return len(sp)


def ceiling(cte: pd.DataFrame, truth: pd.DataFrame, recs: pd.DataFrame, held: str,
            chosen: float, gate: bool = True, max_fp: float = 1.0) -> dict:
    """The held-out generator's sensitivity (complete pattern, and plain) at the chosen
    threshold and at the lowest threshold of ``model.THRESHOLDS`` that keeps its own false
    detections on hypsarrhythmic background, EEG only, at or under ``max_fp`` per hour."""
    r = recs[recs.hyps.astype(bool) & ~recs.emg.astype(bool)]
    c = cte[cte.recording.isin(r.recording)]

    def at(th: float) -> tuple[float, float, float]:
        s = M.score(c, truth, r, th, gate=gate)
        return (s.tp_complete.sum() / max(s.n_complete.sum(), 1),
                s.tp_plain.sum() / max(s.n_plain.sum(), 1), s.fp.sum() / s.hours.sum())

    best = None
    for th in sorted(M.THRESHOLDS, reverse=True):
        p = at(th)
        if p[2] <= max_fp:
            best = (th, p)
    row = {"held out": held, "chosen threshold": chosen,
           "at it": "{:.3f} (plain {:.3f}) @ {:.2f}/h".format(*at(chosen))}
    row["best threshold"] = best[0] if best else None
    row[f"best at <= {max_fp:g}/h"] = "{:.3f} (plain {:.3f}) @ {:.2f}/h".format(*best[1]) \
        if best else "-"
    return row


def _dump(out: Path, held: str, cte: pd.DataFrame, truth: pd.DataFrame, recs: pd.DataFrame,
          threshold: float, per_recording: dict[str, float]) -> None:
    """Write one held-out generator's scored candidates, truth, recordings and thresholds (the
    first, and each recording's where it differs)."""
    import json

    out.mkdir(parents=True, exist_ok=True)
    cte.drop(columns=["channels"], errors="ignore").to_parquet(out / f"{held}_candidates.parquet")
    truth.to_parquet(out / f"{held}_truth.parquet")
    recs.to_parquet(out / f"{held}_recordings.parquet")
    (out / f"{held}_threshold.json").write_text(json.dumps(
        {"threshold": threshold, "per_recording": per_recording}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="12 recordings per generator")
    ap.add_argument("--n", type=int, default=144, help="recordings per generator (default 144)")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--features", choices=["window", "relative", "invariant", "all"],
                    default="window",
                    help="model inputs (hypsa.spasm_score): RELATIVE and the window score (the "
                         "shipped model's; needs the research extra), RELATIVE, INVARIANT, or "
                         "every measurement in INPUTS")
    ap.add_argument("--drop", nargs="+", default=[],
                    help="inputs left out of the model (an ablation)")
    ap.add_argument("--no-gate", action="store_true",
                    help="decide by the probability alone (no hypsa.spasms.eligible gate)")
    ap.add_argument("--max-fp", type=float, default=1.0,
                    help="false detections per hour on the training generators that set the "
                         "threshold (default 1.0)")
    ap.add_argument("--no-monotone", action="store_true",
                    help="fit the trees without the clinical pattern's monotone constraints "
                         "(model.MONOTONE; an ablation)")
    ap.add_argument("--trees", nargs="+", default=[], metavar="KEY=VALUE",
                    help="LightGBM settings in place of model.LGB_PARAMS (numbers), and "
                         "rounds=N for model.N_ROUNDS (an ablation), e.g. num_leaves=4")
    ap.add_argument("--ceiling", action="store_true",
                    help="also print, for each held-out generator, its best sensitivity at one "
                         "false detection an hour or fewer over every threshold (read on the "
                         "held-out generator itself: how well the probability ranks its "
                         "candidates, not a result)")
    ap.add_argument("--recording-relative", action="store_true",
                    help="also give the model model.RECORDING_RELATIVE relative to the "
                         "candidates of their own recording (model.recording_relative)")
    ap.add_argument("--one-threshold", action="store_true",
                    help="read every recording at the first threshold (by default a recording "
                         "hypsa does not call hypsarrhythmic is read at the second, as "
                         "hypsa.analyze reads it with the recording-level model; an ablation)")
    ap.add_argument("--no-real", action="store_true")
    ap.add_argument("--dump", default=None,
                    help="a folder for each held-out generator's scored candidates, truth and "
                         "threshold (parquet and json; for reading the misses)")
    ap.add_argument("--stable-inputs", type=float, default=None, metavar="MARGIN",
                    help="in each fold, leave out the inputs whose direction differs between "
                         "the training generators (model.stable_inputs; ROC areas on both "
                         "sides of 0.5 by more than MARGIN)")
    ap.add_argument("--generators", nargs="+", default=None,
                    help="the generators taking part (default: every one in the tree)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    from hypsa.spasm_score import INPUTS, INVARIANT, RELATIVE
    from hypsa.spasms import SpasmParams

    feats = {"window": RELATIVE + ["window"], "relative": RELATIVE, "invariant": INVARIANT,
             "all": [f for f in INPUTS if f != "window"]}[args.features]
    feats = [f for f in feats if f not in args.drop]
    if args.recording_relative:
        feats = feats + [f + M.REC for f in M.RECORDING_RELATIVE if f in feats]
    M.USE_MONOTONE = not args.no_monotone
    for kv in args.trees:
        key, _, value = kv.partition("=")
        try:
            number = float(value)
        except ValueError:
            ap.error(f"--trees takes KEY=NUMBER, not {kv!r}")
        if key == "rounds":
            M.N_ROUNDS = int(number)
        else:
            M.LGB_PARAMS[key] = int(number) if number.is_integer() else number
    n = 12 if args.quick else args.n
    gens = args.generators or available()
    t0 = time.time()
    sp = specs(n, gens, args.minutes)
    data.run_all(sp, args.jobs, real=not args.no_real)
    print(f"<!-- {len(sp)} recordings measured in {time.time() - t0:.0f} s -->")
    c, truth, recs = data.load(sp)
    # hypsa's own verdict on each recording decides which threshold reads it (analyses.py)
    second = args.recording_relative and not args.one_threshold
    called = {}
    if second:
        from analyses import analyses

        v = analyses(list(recs["recording"]), args.jobs)
        called = dict(zip(v["recording"], v["verdict"] == "present", strict=True))
        print(f"<!-- verdicts of {len(v)} recordings in {time.time() - t0:.0f} s -->")
    recs = recs.assign(called_hyps=recs["recording"].map(called).fillna(True).astype(bool))
    real, real_h = data.load_real() if not args.no_real else (pd.DataFrame(), 0.0)
    ws = None
    if "window" in feats:
        import window_model as W

        ws = W.WindowScores.build(c, sp, args.jobs)
        if not args.no_real:
            real, real_h, rw, rmask = W.real_windows(args.jobs)
    results, reals, results_models, calib, by_wave, gap_rows = [], [], [], [], [], []
    ceilings: list[dict] = []
    for held in gens:
        train = [g for g in gens if g != held]
        if ws is not None:
            # each candidate scored by a window network that did not see its generator
            c = c.assign(window=ws.fold(held))
            if len(real):
                real = real.assign(window=ws.logit(f"without_{held}", ws.gen != held, rw, rmask))
        if args.recording_relative:  # after the fold's window score
            c = M.recording_relative(c)
            real = M.recording_relative(real)
        ctr = c[c.generator.isin(train)].reset_index(drop=True)
        fold_feats = feats
        if args.stable_inputs is not None:
            fold_feats, dropped = M.stable_inputs(ctr, feats, args.stable_inputs)
            print(f"<!-- without {held}: {len(dropped)} inputs left out: "
                  f"{', '.join(dropped) or 'none'} -->", flush=True)
        m = M.fit(ctr, truth[truth.recording.isin(recs.recording[recs.generator.isin(train)])],
                  recs[recs.generator.isin(train)], features=fold_feats, max_fp=args.max_fp)
        cte = c[c.generator == held].reset_index(drop=True)
        cte = cte.assign(confidence=M.predict(m, cte))
        rh = recs[recs.generator == held]
        other = {r: m["threshold_other"] for r in rh.recording[~rh.called_hyps]} if second \
            else {}
        s = M.score(cte, truth, rh, m["threshold"], gate=not args.no_gate, per_recording=other)
        lab = cte[cte["y"] >= 0]
        calib.append(lab[["confidence", "y"]].assign(generator=held))
        results.append(s)
        if args.ceiling:
            ceilings.append(ceiling(cte, truth, rh, held, m["threshold"], not args.no_gate))
        for gap in CLUSTER_GAPS:
            sg = s if gap == SpasmParams().cluster_gap_s else M.score(
                cte, truth, rh, m["threshold"], gate=not args.no_gate, cluster_gap_s=gap,
                per_recording=other)
            sg = sg[sg.clusters_true > 0]
            for emg, d in sg.groupby("emg"):
                gap_rows.append({"held out": held, "channels": _channels(emg), "gap": f"{gap:g} s",
                                 "exact": float((d.clusters_found == d.clusters_true).mean())})
        if args.dump:
            _dump(Path(args.dump), held, cte, truth[truth.recording.isin(rh.recording)], rh,
                  m["threshold"], other)
        th = truth[truth.recording.isin(rh.recording) & (truth.form == "complete")]
        by_wave.append(th.assign(generator=held, found=M.found_flags(
            cte, th, m["threshold"], gate=not args.no_gate, per_recording=other)))
        # no real recording is called hypsarrhythmic (tests/test_real_analysis.py): every one
        # is read at the second threshold where it is in use
        real_th = m["threshold_other"] if second else m["threshold"]
        k = real_fp(m, real_th, real)
        reals.append({"held out": held, "trained on": " + ".join(train),
                      "threshold": m["threshold"],
                      "second threshold": m["threshold_other"] if second else None,
                      "real FD": k, "real hours": round(real_h, 2),
                      "real FD/h": round(k / real_h, 2) if real_h else None})
        results_models.append(m)
    s = pd.concat(results, ignore_index=True)
    print("## Leave-one-generator-out: spasms per spasm (±1 s), held-out generator\n")
    print(summary_table(s).to_markdown(index=False))
    print("\n## Thresholds (chosen on the training generators) and real EEG\n")
    print(pd.DataFrame(reals).to_markdown(index=False))
    cal = pd.concat(calib, ignore_index=True)
    print("\n## Reliability of the probability out of generator (labelled candidates of each "
          "held-out generator, pooled)\n")
    print(M.reliability_table(cal["confidence"].to_numpy(), cal["y"].to_numpy())
          .to_markdown(floatfmt=".3f"))
    print("\n## By the size of the wave (complete spasms, held-out generator, found / all)\n")
    print(wave_table(pd.concat(by_wave, ignore_index=True)).to_markdown())
    print("\n## Cluster count if every spasm were found (the true onsets grouped with the "
          "detector's gap, and with others)\n")
    print(pd.DataFrame({f"{g:g} s": M.cluster_ceiling(truth, recs, g) for g in CLUSTER_GAPS})
          .to_markdown(floatfmt=".2f"))
    print("\n## Exact cluster count by the gap that ends a cluster (held-out generator, "
          "recordings with spasms, both backgrounds)\n")
    print(pd.DataFrame(gap_rows).pivot_table(index=["held out", "channels"], columns="gap",
                                             values="exact", sort=False)
          .to_markdown(floatfmt=".2f"))
    if ceilings:
        print("\n## Ranking ceiling: the held-out generator's best threshold (hypsarrhythmic "
              "background, EEG only; read on the held-out generator, not a result)\n")
        print(pd.DataFrame(ceilings).to_markdown(index=False))
    print("\n## By background form (held-out generator, EEG only and with movement together)\n")
    print(by_background(s).to_markdown())
    print(f"\n<!-- features: {args.features} without {args.drop or 'none'}; "
          f"gate: {not args.no_gate}; monotone: {M.USE_MONOTONE}; "
          f"trees: {args.trees or 'model.LGB_PARAMS'}; "
          f"recording-relative: {args.recording_relative}; "
          f"second threshold where not called hypsarrhythmic: {second}; "
          f"{time.time() - t0:.0f} s; generators {', '.join(gens)}; "
          f"{n} recordings of {args.minutes:g} min each -->")
    np.seterr(all="ignore")


if __name__ == "__main__":
    main()
