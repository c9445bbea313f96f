"""The spasm window score's cost on a long recording: ``hypsa.analyze`` with and without it.

The window score (:mod:`hypsa.spasm_window`) is the one step the spasm detector adds on top of
its measurements. This runs :func:`hypsa.analyze` on the benchmark's simulated recording
(``bench_analyze.recording``: classic hypsarrhythmia with spasm clusters, 19 channels, 256 Hz,
cached under ``benchmarks/_work``) in one process, alternating runs with the window score and
runs with it skipped (the probability then treats it as missing: timing only), and runs with
neither it nor the candidates of measurement version 7 (a full generalized wave followed by a
shallow dip, ``SpasmParams.max_shallow_decrement``, switched off: the detector's candidate stage
of version 6), and prints wall and CPU time per run and their ratios.

Usage::

    python benchmarks/bench_window.py [--hours 24] [--repeats 2]
"""

from __future__ import annotations

import argparse
import time

import bench_analyze  # benchmarks/ is on sys.path when run as a script
import pandas as pd

#: the configurations timed: label -> (window score, shallow-dip candidates of version 7)
MODES = {"version 6 candidates, no window score": (False, False),
         "no window score": (False, True), "shipped": (True, True)}


def run_once(path, window: bool, shallow: bool = True) -> tuple[float, float, int]:
    from dataclasses import replace

    import hypsa
    import hypsa.spasms as sp
    from hypsa.analysis import AnalysisParams

    saved = sp.MODEL_FEATURES
    sp.MODEL_FEATURES = saved if window else [f for f in saved if f != "window"]
    p = AnalysisParams()
    if not shallow:  # a shallow dip is then no more than the ordinary one
        p = replace(p, spasms=replace(p.spasms,
                                      max_shallow_decrement=p.spasms.max_decrement + 0.15))
    try:
        w0, c0 = time.perf_counter(), time.process_time()
        a = hypsa.analyze(str(path), n_jobs=1, params=p)
        return time.perf_counter() - w0, time.process_time() - c0, len(a.events)
    finally:
        sp.MODEL_FEATURES = saved


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    path = bench_analyze.recording(args.hours)
    run_once(path, True)  # warm: imports, model files, page cache
    rows = []
    for k in range(args.repeats):
        for mode, (window, shallow) in MODES.items():
            wall, cpu, n = run_once(path, window, shallow)
            rows.append({"run": k + 1, "detector": mode, "wall s": round(wall, 1),
                         "CPU s": round(cpu, 1), "events": n})
    df = pd.DataFrame(rows)
    print(f"## analyze() of {args.hours:g} h (n_jobs=1), with and without the window score\n")
    print(df.to_markdown(index=False))
    g = df.groupby("detector")[["wall s", "CPU s"]].median()
    base = list(MODES)[0]
    for mode in list(MODES)[1:]:
        r = g.loc[mode] / g.loc[base]
        print(f"\nratio (median, {mode} / {base}): wall {r['wall s']:.3f}, "
              f"CPU {r['CPU s']:.3f}")


if __name__ == "__main__":
    main()
