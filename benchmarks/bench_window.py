"""The spasm window score's cost on a long recording: ``hypsa.analyze`` with and without it.

The window score (:mod:`hypsa.spasm_window`) is the one step the spasm detector adds on top of
its measurements. This runs :func:`hypsa.analyze` on the benchmark's simulated recording
(``bench_analyze.recording``: classic hypsarrhythmia with spasm clusters, 19 channels, 256 Hz,
cached under ``benchmarks/_work``) in one process, alternating runs with the window score and
runs with it skipped (the probability then treats it as missing: timing only), and runs with
neither it nor the candidates of measurement version 7 (a full generalized wave followed by a
shallow dip, ``SpasmParams.max_shallow_decrement``, switched off: the detector's candidate stage
of version 6), and prints wall and CPU time per run and their ratios.

With ``--against SRC`` (the ``src`` folder of another checkout of hypsa, e.g. the detector as it
was before the generalization work: ``git worktree add /tmp/hypsa-ae63ca9 ae63ca9``), the same
call is also timed with that code, in a child process per run (two versions of a package cannot
share one process), alternating with the shipped detector's runs in child processes.

Usage::

    python benchmarks/bench_window.py [--hours 24] [--repeats 2] [--against SRC [--only-against]]
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


_CHILD = """
import json, sys, time
import hypsa
w0, c0 = time.perf_counter(), time.process_time()
a = hypsa.analyze(sys.argv[1], n_jobs=1)
print(json.dumps([time.perf_counter() - w0, time.process_time() - c0, len(a.events)]))
"""


def run_child(path, src: str | None) -> tuple[float, float, int]:
    """``hypsa.analyze`` of ``path`` in a child process, with the package from ``src`` (None:
    this checkout's); its own wall and CPU time."""
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], env=env, check=True,
                         capture_output=True, text=True).stdout
    wall, cpu, n = json.loads(out.strip().splitlines()[-1])
    return wall, cpu, n


def against(path, src: str, repeats: int) -> None:
    """The shipped detector against the package in ``src``, each run in its own process."""
    import pandas as pd

    trees = ((f"package from {src}", src), ("shipped (this checkout)", None))
    for _, tree in trees:  # untimed: compiled-kernel caches, bytecode, page cache
        run_child(path, tree)
    rows = []
    for k in range(repeats):
        for label, tree in trees:
            wall, cpu, n = run_child(path, tree)
            rows.append({"run": k + 1, "code": label, "wall s": round(wall, 1),
                         "CPU s": round(cpu, 1), "events": n})
    df = pd.DataFrame(rows)
    print("\n## The same call, one child process per run\n")
    print(df.to_markdown(index=False))
    g = df.groupby("code", sort=False)[["wall s", "CPU s"]].median()
    r = g.iloc[1] / g.iloc[0]
    print(f"\nratio (median, shipped / {src}): wall {r['wall s']:.3f}, CPU {r['CPU s']:.3f}")
    # each run against the other code's run just before it: how far the machine's speed moved
    wall = df.pivot(index="run", columns="code", values="wall s")
    pair = wall[trees[1][0]] / wall[trees[0][0]]
    print(f"ratio of each pair (wall): {pair.min():.2f}-{pair.max():.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--against", default=None,
                    help="the src folder of another checkout, timed in child processes")
    ap.add_argument("--only-against", action="store_true",
                    help="time only the comparison with --against")
    args = ap.parse_args()
    path = bench_analyze.recording(args.hours)
    if args.only_against and args.against:
        against(path, args.against, args.repeats)
        return
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
    if args.against:
        against(path, args.against, args.repeats)


if __name__ == "__main__":
    main()
