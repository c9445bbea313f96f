"""End-to-end benchmark: hypsa's full analysis vs an MNE-Python spectral baseline.

Builds (once, cached in ``benchmarks/_work/``, git-ignored) 19-channel 256 Hz recordings of
classic hypsarrhythmia with a few spasm clusters using :func:`hypsa.simulate.simulate_to_edf`,
then for each length measures, each in a fresh subprocess:

(a) ``hypsa``: ``analyze(path, n_jobs=--jobs)``, ``Analysis.save`` and the HTML report;
(b) ``mne``: ``read_raw_edf(preload=True)``, ``filter(0.5, 45)``, ``notch_filter(50)``, 15-s
    epochs (``make_fixed_length_epochs``) and ``epochs.compute_psd(method="welch")``;
(c) ``read``: reading the file's bytes (the floor any method pays).

and prints wall time, CPU time (user + system, the process and the workers it waited for, from
``getrusage(RUSAGE_CHILDREN)``), peak memory (resident set of the whole process tree, workers
included, sampled every 20 ms with psutil; ``ru_maxrss`` is not used because Linux carries the
parent's high-water mark into a forked child) and hours of EEG per second.

Usage::

    python benchmarks/bench_analyze.py                   # 1, 6 and 24 h, --jobs 2
    python benchmarks/bench_analyze.py --hours 1 6 --jobs 2
    python benchmarks/bench_analyze.py --streaming-check # n_jobs=1 and 2 give the same outputs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from _measure import run_measured  # benchmarks/ is on sys.path when run as a script

WORK = Path(__file__).resolve().parent / "_work"
METHODS = ("read", "mne", "hypsa")


# --------------------------------------------------------------------------------------------
# recordings


def recording(hours: float) -> Path:
    """Return the cached simulated recording of ``hours`` hours, building it if needed."""
    tag = f"{hours:g}h"
    path = WORK / f"sim_{tag}.edf"
    done = WORK / f"sim_{tag}.done"
    if path.is_file() and done.is_file():
        return path
    from hypsa.simulate import simulate_to_edf

    WORK.mkdir(parents=True, exist_ok=True)
    n_clusters = max(2, min(8, int(round(hours))))
    print(f"building {path.name} ({hours:g} h, {n_clusters} spasm clusters) ...", flush=True)
    t0 = time.perf_counter()
    tmp = WORK / f".sim_{tag}.tmp.edf"
    simulate_to_edf(tmp, float(round(hours * 3600)), hypsarrhythmia="classic",
                    n_clusters=n_clusters, seed=int(hours * 10), chunk_s=600)
    os.replace(tmp, path)
    ev = tmp.with_name(tmp.stem + "_events.tsv")
    if ev.exists():
        os.replace(ev, path.with_name(path.stem + "_events.tsv"))
    done.write_text(f"{time.perf_counter() - t0:.1f} s\n")
    print(f"  built in {time.perf_counter() - t0:.0f} s "
          f"({path.stat().st_size / 2**20:.0f} MiB)", flush=True)
    return path


# --------------------------------------------------------------------------------------------
# what runs in the measured subprocess


def child(method: str, path: str, jobs: int) -> dict:
    """Run one method on one file; return in-process timings (after imports)."""
    out: dict = {}
    if method == "read":
        t0 = time.perf_counter()
        n = 0
        with open(path, "rb", buffering=0) as fh:
            while chunk := fh.read(16 * 2**20):
                n += len(chunk)
        out["work_s"] = time.perf_counter() - t0
        out["bytes"] = n
    elif method == "mne":
        import mne

        mne.set_log_level("ERROR")
        t0 = time.perf_counter()
        raw = mne.io.read_raw_edf(path, preload=True)
        raw.filter(0.5, 45.0, n_jobs=jobs)
        raw.notch_filter(50.0, n_jobs=jobs)
        epochs = mne.make_fixed_length_epochs(raw, duration=15.0, preload=False)
        psd = epochs.compute_psd(method="welch", fmin=0.5, fmax=45.0, n_jobs=jobs)
        out["work_s"] = time.perf_counter() - t0
        out["n_epochs"] = int(psd.get_data().shape[0])
    elif method == "hypsa":
        from hypsa.analysis import analyze
        from hypsa.report import write_report

        t0 = time.perf_counter()
        res = analyze(path, n_jobs=jobs)
        t1 = time.perf_counter()
        with tempfile.TemporaryDirectory() as d:
            res.save(d)
            write_report(res, d, source=path)
        out["work_s"] = time.perf_counter() - t0
        out["analyze_s"] = t1 - t0
        out["n_epochs"] = int(len(res.epochs))
        out["spasms"] = res.n_spasms
        out["based"] = res.based_score
    else:
        raise SystemExit(f"unknown method {method!r}")
    return out


def _warm(path: Path) -> None:
    """Read the whole file once (untimed), so every method starts with it in the page cache:
    the MNE baseline's memory (18 GiB at 24 h) can push it out for the method after it."""
    with open(path, "rb") as f:
        while f.read(16 << 20):
            pass


def _warm_kernels() -> None:
    """Analyse a short simulated recording once (untimed, in a subprocess), so that hypsa's
    numba kernels are compiled and in numba's on-disk cache before anything is timed: on a fresh
    installation the first analysis compiles them (about 17 s on the 24-h recording)."""
    code = "import hypsa; hypsa.analyze(hypsa.simulate(duration_s=360.0, seed=0))"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def measure(method: str, path: Path, jobs: int) -> dict:
    """Run ``child`` in a fresh subprocess, the file warm in the page cache; add wall, CPU and
    peak tree RSS."""
    _warm(path)
    m = run_measured([sys.executable, __file__, "--_child", method, str(path), str(jobs)])
    if m.returncode != 0:
        raise SystemExit(f"{method} on {path.name} failed:\n{m.stderr[-3000:]}")
    res = json.loads(m.stdout.strip().splitlines()[-1])
    res.update(method=method, file=path.name, jobs=jobs, process_wall_s=m.wall_s, cpu_s=m.cpu_s,
               peak_tree_rss_mib=m.peak_tree_rss_mib)
    return res


# --------------------------------------------------------------------------------------------
# report


def _table(hours: float, rows: list[dict]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover
        Console = None  # noqa: N806
    by = {r["method"]: r for r in rows}
    head = ["method", "wall s", "CPU s", "peak RSS MiB", "h EEG / s", "process wall s"]
    lines = []
    for m in METHODS:
        r = by.get(m)
        if r is None:
            continue
        label = {"read": "read bytes (floor)", "mne": "MNE baseline",
                 "hypsa": "hypsa analyze + report"}[m]
        lines.append([label, f"{r['work_s']:.2f}", f"{r['cpu_s']:.1f}",
                      f"{r['peak_tree_rss_mib']:.0f}",
                      f"{hours / r['work_s']:.2f}", f"{r['process_wall_s']:.1f}"])
    title = f"{hours:g} h, 19 ch, 256 Hz (--jobs {rows[0]['jobs']})"
    if Console is not None:
        t = Table(*head, title=title)
        for ln in lines:
            t.add_row(*ln)
        Console().print(t)
    else:
        print(title)
        for ln in [head, *lines]:
            print(" | ".join(ln))
    if "mne" in by and "hypsa" in by:
        h, m = by["hypsa"], by["mne"]
        print(f"  ratio MNE/hypsa: wall {m['work_s'] / h['work_s']:.2f}, "
              f"CPU {m['cpu_s'] / h['cpu_s']:.2f}, "
              f"peak RSS {m['peak_tree_rss_mib'] / h['peak_tree_rss_mib']:.2f}"
              f"  (hypsa analyze alone: {h['analyze_s']:.2f} s)")


def streaming_check(jobs: int = 2) -> None:
    """Analyse the 1-h recording with n_jobs=1 and n_jobs=``jobs``; assert identical outputs."""
    import pandas as pd

    from hypsa.analysis import analyze

    path = recording(1)
    t0 = time.perf_counter()
    a = analyze(path, n_jobs=1)
    t1 = time.perf_counter()
    b = analyze(path, n_jobs=jobs)
    t2 = time.perf_counter()
    pd.testing.assert_frame_equal(a.epochs, b.epochs, check_exact=False, rtol=1e-6, atol=1e-9)
    ga = a.grades.drop(columns=[c for c in a.grades if a.grades[c].dtype == object])
    gb = b.grades.drop(columns=[c for c in b.grades if b.grades[c].dtype == object])
    pd.testing.assert_frame_equal(ga, gb, check_exact=False, rtol=1e-6, atol=1e-9)
    pd.testing.assert_frame_equal(a.events.drop(columns=["features"], errors="ignore"),
                                  b.events.drop(columns=["features"], errors="ignore"),
                                  check_exact=False, rtol=1e-6, atol=1e-9)
    sa, sb = dict(a.summary_), dict(b.summary_)
    if sa != sb:
        raise SystemExit("streaming check FAILED: summaries differ")
    print(f"streaming check OK: {path.name}, n_jobs=1 ({t1 - t0:.1f} s) and n_jobs={jobs} "
          f"({t2 - t1:.1f} s) give identical epochs ({len(a.epochs)} rows), grades "
          f"({len(a.grades)}), events ({len(a.events)}) and summary")


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours", type=float, nargs="+", default=[1, 6, 24])
    ap.add_argument("--jobs", type=int, default=2, help="n_jobs for hypsa and MNE")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--streaming-check", action="store_true",
                    help="only check that n_jobs=1 and n_jobs=--jobs give identical outputs")
    ap.add_argument("--json", type=Path, help="also write the measurements to this file")
    ap.add_argument("--_child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--_build", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._child:
        method, path, jobs = args._child
        print(json.dumps(child(method, path, int(jobs))))
        return
    if args._build is not None:
        recording(args._build)
        return
    if args.streaming_check:
        streaming_check(args.jobs)
        return
    print(f"{datetime.now():%Y-%m-%d %H:%M}, {platform.node()}, {os.cpu_count()} CPU(s), "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    # build in a subprocess so this (measuring) process stays small
    for h in args.hours:
        subprocess.run([sys.executable, __file__, "--_build", str(h)], check=True)
    files = {h: recording(h) for h in args.hours}
    if "hypsa" in args.methods:
        _warm_kernels()
    allrows = []
    for h, path in files.items():
        rows = [measure(m, path, args.jobs) for m in args.methods]
        for r in rows:
            r["hours"] = h
        _table(h, rows)
        allrows.extend(rows)
    if args.json:
        args.json.write_text(json.dumps(allrows, indent=2))


if __name__ == "__main__":
    main()
