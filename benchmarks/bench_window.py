"""The spasm window score's cost on a long recording: ``hypsa.analyze`` with and without it.

The window score (:mod:`hypsa.spasm_window`) is the one step the spasm detector adds on top of
its measurements. This runs :func:`hypsa.analyze` on the benchmark's simulated recording
(``bench_analyze.recording``: classic hypsarrhythmia with spasm clusters, 19 channels, 256 Hz,
cached under ``benchmarks/_work``) in one process, alternating runs with the window score and
runs with it skipped (the probability then treats it as missing: timing only), and prints wall
and CPU time per run and their ratio.

Usage::

    python benchmarks/bench_window.py [--hours 24] [--repeats 2]
"""

from __future__ import annotations

import argparse
import time

import bench_analyze  # benchmarks/ is on sys.path when run as a script
import pandas as pd


def run_once(path, window: bool) -> tuple[float, float, int]:
    import hypsa
    import hypsa.spasms as sp

    saved = sp.MODEL_FEATURES
    sp.MODEL_FEATURES = saved if window else [f for f in saved if f != "window"]
    try:
        w0, c0 = time.perf_counter(), time.process_time()
        a = hypsa.analyze(str(path), n_jobs=1)
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
        for window in (False, True):
            wall, cpu, n = run_once(path, window)
            rows.append({"run": k + 1, "window score": "yes" if window else "skipped",
                         "wall s": round(wall, 1), "CPU s": round(cpu, 1), "events": n})
    df = pd.DataFrame(rows)
    print(f"## analyze() of {args.hours:g} h (n_jobs=1), with and without the window score\n")
    print(df.to_markdown(index=False))
    g = df.groupby("window score")[["wall s", "CPU s"]].median()
    r = g.loc["yes"] / g.loc["skipped"]
    print(f"\nratio (median, with / skipped): wall {r['wall s']:.3f}, CPU {r['CPU s']:.3f}")


if __name__ == "__main__":
    main()
