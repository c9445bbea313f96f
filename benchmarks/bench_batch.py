"""Cohort benchmark: ``hypsa.batch.run_batch`` on 1 and 2 local Dask workers, and resuming.

Builds (once, cached in ``benchmarks/_work/batch<N>/``, git-ignored) a folder of ``--n``
simulated 19-channel 256 Hz EDF+ recordings of ``--minutes`` minutes each with
:func:`hypsa.simulate.simulate_to_edf`: seeds 1000 + i, cycling through classic hypsarrhythmia
with spasm clusters and a deltoid EMG channel, modified hypsarrhythmia (each variant in turn) with
one spasm cluster, classic hypsarrhythmia without spasms and two normal backgrounds. Then:

1. **Scaling.** For each ``--workers`` count, ``run_batch(root, out, workers=W, progress=False)``
   runs in a fresh subprocess on a fresh (deleted) output folder, so every recording is
   analysed. Printed: wall time of ``run_batch`` (cluster start, analyses, cohort table and
   figure; interpreter start and imports excluded), CPU time (user + system of the subprocess
   and every process it waited for, Dask workers included: ``getrusage(RUSAGE_CHILDREN)``),
   recordings per second, speed-up against the 1-worker run of the same invocation, and the peak
   resident memory of the process tree (sampled every 20 ms with psutil).
2. **Resume.** ``hypsa batch ROOT --out DIR --workers 2 --quiet`` runs once to the end on a
   fresh folder (the reference), then again on another fresh folder in its own process group,
   which is killed with SIGKILL as soon as half the recordings have their
   ``<stem>.summary.json``; then the same command is run again. Its ``cohort.csv`` must list
   the recordings finished before the kill as ``skipped``, the others as ``analysed``, none
   ``failed``, ``--n`` in all; every summary must equal the reference run's.

Usage::

    python benchmarks/bench_batch.py                        # 50 x 45 min, 1 and 2 workers
    python benchmarks/bench_batch.py --workers 1 2 --skip-resume
    python benchmarks/bench_batch.py --quick                # smoke test: 6 x 5 min
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

from _measure import run_measured  # benchmarks/ is on sys.path when run as a script

WORK = Path(__file__).resolve().parent / "_work"
MARKER = "BUILT.json"
SPEEDUP_TARGET = 1.7
VARIANTS = ("attenuation", "asymmetry", "focus", "synchronous", "slow", "fragmented")


# --------------------------------------------------------------------------------------------
# recordings


def specs(n: int, minutes: float) -> list[dict]:
    """File name and ``simulate_to_edf`` keyword arguments of each of the ``n`` recordings."""
    out = []
    for i in range(n):
        kind = i % 5
        kw: dict = {"duration_s": float(round(minutes * 60)), "seed": 1000 + i,
                    "age_months": float(3 + i % 10), "chunk_s": 600.0}
        if kind == 0:
            kw.update(hypsarrhythmia="classic", n_clusters=2, emg=True)
            label = "classic-spasms-emg"
        elif kind == 1:
            variant = VARIANTS[(i // 5) % len(VARIANTS)]
            kw.update(hypsarrhythmia="modified", variant=variant, n_clusters=1)
            label = f"modified-{variant}-spasms"
        elif kind == 2:
            kw.update(hypsarrhythmia="classic", n_clusters=0)
            label = "classic"
        else:
            kw.update(hypsarrhythmia="none", background="normal", n_clusters=0)
            label = "normal"
        out.append({"name": f"rec-{i:03d}_{label}.edf", "kwargs": kw})
    return out


def inputs_dir(n: int, minutes: float) -> Path:
    """Folder of the ``n`` cached recordings of ``minutes`` minutes."""
    return WORK / f"batch{n}" / f"inputs-{minutes:g}min"


def _build_one(folder: str, spec: dict) -> float:
    from hypsa.simulate import simulate_to_edf

    t0 = time.perf_counter()
    path = Path(folder) / spec["name"]
    tmp = path.with_name(f".{path.stem}.tmp.edf")  # hidden: never taken as an input
    simulate_to_edf(tmp, **spec["kwargs"])
    os.replace(tmp.with_name(f"{tmp.stem}_events.tsv"),
               path.with_name(f"{path.stem}_events.tsv"))
    os.replace(tmp, path)
    return time.perf_counter() - t0


def build(n: int, minutes: float) -> Path:
    """Return the folder of cached recordings, building the missing ones in parallel."""
    folder = inputs_dir(n, minutes)
    todo = specs(n, minutes)
    marker = folder / MARKER
    if marker.is_file():
        if json.loads(marker.read_text()).get("specs") == todo:
            return folder
        shutil.rmtree(folder)  # built with other parameters
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(".*.tmp*"):
        stale.unlink()
    missing = [s for s in todo if not (folder / s["name"]).is_file()]
    if missing:
        print(f"building {len(missing)} recording(s) of {minutes:g} min in {folder} ...",
              flush=True)
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            list(pool.map(_build_one, [str(folder)] * len(missing), missing))
        print(f"  built in {time.perf_counter() - t0:.0f} s", flush=True)
    size = sum((folder / s["name"]).stat().st_size for s in todo)
    marker.write_text(json.dumps({"n": n, "minutes": minutes, "bytes": size, "specs": todo},
                                 indent=1))
    return folder


def warm_cache(folder: Path) -> None:
    """Read every recording once so that all runs find them in the page cache."""
    for p in sorted(folder.glob("*.edf")):
        with open(p, "rb", buffering=0) as fh:
            while fh.read(16 * 2**20):
                pass


# --------------------------------------------------------------------------------------------
# scaling: run_batch in a fresh subprocess


def child(root: str, out: str, workers: int) -> dict:
    """Run ``run_batch`` once; return in-process timings (after imports) and counts."""
    from hypsa.batch import run_batch

    t0 = time.perf_counter()
    df = run_batch(root, out, workers=workers, progress=False)
    return {"work_s": time.perf_counter() - t0, "n": len(df),
            **{k: df.attrs[k] for k in ("analysed", "skipped", "failed")}}


def measure(root: Path, out: Path, workers: int) -> dict:
    """Run ``child`` in a fresh subprocess on an emptied ``out``; add wall, CPU, peak RSS."""
    shutil.rmtree(out, ignore_errors=True)
    m = run_measured([sys.executable, __file__, "--_child", str(root), str(out), str(workers)])
    if m.returncode != 0:
        raise SystemExit(f"run_batch with {workers} worker(s) failed:\n{m.stderr[-3000:]}")
    res = json.loads(m.stdout.strip().splitlines()[-1])
    if res["analysed"] != res["n"]:
        raise SystemExit(f"run_batch with {workers} worker(s): {res}; expected every recording "
                         f"analysed (see errors.tsv in {out})")
    res.update(workers=workers, process_wall_s=m.wall_s, cpu_s=m.cpu_s,
               peak_tree_rss_mib=m.peak_tree_rss_mib)
    return res


def scaling(root: Path, runs: Path, workers: list[int]) -> list[dict]:
    rows = []
    for w in workers:
        print(f"run_batch, {w} worker(s) ...", flush=True)
        rows.append(measure(root, runs / f"workers{w}", w))
    return rows


def scaling_table(rows: list[dict], n: int, minutes: float) -> float | None:
    """Print the scaling table; return the speed-up of 2 workers over 1 (None without both)."""
    base = next((r for r in rows if r["workers"] == 1), None)
    print(f"\n### run_batch: {n} recordings x {minutes:g} min, 19 ch, 256 Hz\n")
    print("| workers | wall s | CPU s | recordings/s | speed-up vs 1 worker | peak RSS MiB "
          "| process wall s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        sp = f"{base['work_s'] / r['work_s']:.2f}" if base else "n/a"
        print(f"| {r['workers']} | {r['work_s']:.1f} | {r['cpu_s']:.1f} "
              f"| {r['n'] / r['work_s']:.2f} | {sp} | {r['peak_tree_rss_mib']:.0f} "
              f"| {r['process_wall_s']:.1f} |")
    two = next((r for r in rows if r["workers"] == 2), None)
    if base is None or two is None:
        return None
    return base["work_s"] / two["work_s"]


# --------------------------------------------------------------------------------------------
# resume: hypsa batch killed halfway, then rerun


def hypsa_cli() -> list[str]:
    """The ``hypsa`` command of this interpreter's environment."""
    exe = Path(sys.executable).with_name("hypsa")
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("hypsa")
    if found is None:
        raise SystemExit("the hypsa command is not installed")
    return [found]


def _markers(deriv: Path) -> list[Path]:
    """The ``<stem>.summary.json`` files in place (not those in ``.partial-*`` staging folders)."""
    found = []
    # os.walk, not rglob: it ignores folders removed while it runs (staging folders do)
    for folder, dirs, files in os.walk(deriv):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(folder) / f for f in files
                  if f.endswith(".summary.json") and not f.startswith(".")]
    return found


def _done(deriv: Path) -> set[str]:
    """Stems of the recordings whose ``<stem>.summary.json`` is in place."""
    return {p.name[: -len(".summary.json")] for p in _markers(deriv)}


def _summaries(deriv: Path) -> dict[str, dict]:
    return {p.name[: -len(".summary.json")]: json.loads(p.read_text()) for p in _markers(deriv)}


def _run_cli(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited with {proc.returncode}:\n"
                         f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return wall


def _group_alive(pgid: int) -> list[int]:
    """Pids of the processes of group ``pgid`` that still run (zombies not counted)."""
    import psutil

    alive = []
    for p in psutil.process_iter(["status"]):
        try:
            if os.getpgid(p.pid) == pgid and p.info["status"] != psutil.STATUS_ZOMBIE:
                alive.append(p.pid)
        except (ProcessLookupError, PermissionError, psutil.Error):
            pass
    return alive


def resume(root: Path, runs: Path, n: int, workers: int) -> dict:
    """Full run, killed run, resumed run; return the measurements and checks."""
    import pandas as pd

    full_out, res_out = runs / "cli-full", runs / "cli-resume"
    cli = hypsa_cli()

    def cmd(out: Path) -> list[str]:
        return [*cli, "batch", str(root), "--out", str(out), "--workers", str(workers),
                "--quiet"]

    shutil.rmtree(full_out, ignore_errors=True)
    print(f"hypsa batch, {workers} workers, full run ...", flush=True)
    full_s = _run_cli(cmd(full_out))
    reference = _summaries(full_out / "hypsa")

    shutil.rmtree(res_out, ignore_errors=True)
    deriv = res_out / "hypsa"
    target = n // 2
    print(f"hypsa batch, killed after {target} of {n} recordings ...", flush=True)
    log = runs / "cli-killed.log"
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd(res_out), stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)  # its own process group
        pgid = proc.pid
        while len(_done(deriv)) < target:
            if proc.poll() is not None:
                raise SystemExit(f"hypsa batch ended (status {proc.returncode}) before "
                                 f"{target} recordings were done; see {log}")
            time.sleep(0.05)
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:  # already gone (it finished all at once)
            pass
        proc.wait()
    killed_s = time.perf_counter() - t0
    time.sleep(0.5)
    survivors = _group_alive(pgid)
    done_at_kill = _done(deriv)
    partial = [p.name for p in deriv.rglob(".partial-*")]
    cohort_before = (deriv / "cohort.csv").exists()

    print("hypsa batch, same command again (resume) ...", flush=True)
    resumed_s = _run_cli(cmd(res_out))
    df = pd.read_csv(deriv / "cohort.csv", dtype={"status": str})
    stems = df["file"].map(lambda f: Path(f).name.split(".")[0])
    status = dict(zip(stems, df["status"], strict=True))
    skipped = {s for s, v in status.items() if v == "skipped"}
    analysed = {s for s, v in status.items() if v == "analysed"}
    failed = {s for s, v in status.items() if v == "failed"}
    after = _summaries(deriv)
    partial_after = [p.name for p in deriv.rglob(".partial-*")]
    same = sum(1 for s, d in reference.items() if after.get(s) == d)
    return {
        "workers": workers, "n": n, "target": target, "rows": len(df),
        "done_at_kill": len(done_at_kill), "skipped": len(skipped), "analysed": len(analysed),
        "failed": len(failed), "skipped_are_done": skipped == done_at_kill,
        "analysed_are_rest": analysed == set(status) - done_at_kill,
        "same_as_full": same, "reference": len(reference), "survivors": len(survivors),
        "partial_left": len(partial), "partial_after": len(partial_after),
        "cohort_before": cohort_before,
        "full_s": full_s, "killed_s": killed_s, "resumed_s": resumed_s,
    }


def resume_ok(r: dict) -> bool:
    return (r["rows"] == r["n"] and r["failed"] == 0 and r["skipped_are_done"]
            and r["analysed_are_rest"] and r["skipped"] == r["done_at_kill"]
            and r["skipped"] + r["analysed"] == r["n"] and r["same_as_full"] == r["n"]
            and r["survivors"] == 0 and r["partial_after"] == 0)


def resume_table(r: dict) -> None:
    def ok(flag: bool) -> str:
        return "yes" if flag else "**NO**"

    n, k = r["n"], r["done_at_kill"]
    print(f"\n### Resume after SIGKILL: `hypsa batch --workers {r['workers']}`, {n} "
          "recordings\n")
    print("| check | value | expected | ok |")
    print("|---|---:|---:|---|")
    print(f"| done (summary.json) when killed | {k} | >= {r['target']} | "
          f"{ok(k >= r['target'])} |")
    print(f"| processes of the group alive after SIGKILL | {r['survivors']} | 0 | "
          f"{ok(r['survivors'] == 0)} |")
    print(f"| rows in cohort.csv after the rerun | {r['rows']} | {n} | "
          f"{ok(r['rows'] == n)} |")
    print(f"| `skipped` (the ones done before the kill) | {r['skipped']} | {k} | "
          f"{ok(r['skipped'] == k and r['skipped_are_done'])} |")
    print(f"| `analysed` (the rest) | {r['analysed']} | {n - k} | "
          f"{ok(r['analysed'] == n - k and r['analysed_are_rest'])} |")
    print(f"| `failed` | {r['failed']} | 0 | {ok(r['failed'] == 0)} |")
    print(f"| summaries equal to the uninterrupted run's | {r['same_as_full']} | {n} | "
          f"{ok(r['same_as_full'] == n)} |")
    print(f"| `.partial-*` staging folders after the rerun | {r['partial_after']} | 0 | "
          f"{ok(r['partial_after'] == 0)} |")
    print(f"\n(left by the kill: {r['partial_left']} `.partial-*` staging folder(s), "
          f"cohort.csv {'present' if r['cohort_before'] else 'absent'})\n")
    print("| run | wall s | recordings analysed |")
    print("|---|---:|---:|")
    print(f"| full run, fresh output folder | {r['full_s']:.1f} | {n} |")
    print(f"| killed run, start to SIGKILL | {r['killed_s']:.1f} | {k} |")
    print(f"| resumed run | {r['resumed_s']:.1f} | {r['analysed']} |")
    print(f"\nresumed / full run wall time: {r['resumed_s'] / r['full_s']:.2f} "
          f"({(n - k) / n:.2f} of the recordings left); wall times of the whole command "
          "(interpreter start, imports, cluster start included)")


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50, help="number of recordings (default 50)")
    ap.add_argument("--minutes", type=float, default=45.0,
                    help="length of each recording (default 45 min)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                    help="worker counts to measure (default 1 2; the speed-up is against 1)")
    ap.add_argument("--resume-workers", type=int, default=2,
                    help="workers of the resume test (default 2)")
    ap.add_argument("--skip-resume", action="store_true", help="only the scaling table")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 6 recordings of 5 min (timings not meaningful)")
    ap.add_argument("--json", type=Path, help="also write the measurements to this file")
    ap.add_argument("--_child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--_build", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._child:
        root, out, workers = args._child
        print(json.dumps(child(root, out, int(workers))))
        return
    if args._build:
        build(int(args._build[0]), float(args._build[1]))
        return
    if args.quick:
        args.n, args.minutes = 6, 5.0
    if args.n < 2 or args.minutes * 60 < 10 or min(args.workers) < 1 or args.resume_workers < 1:
        ap.error("need --n >= 2, --minutes >= 1/6 and worker counts >= 1")
    print(f"{datetime.now():%Y-%m-%d %H:%M}, {platform.node()}, {os.cpu_count()} CPU(s), "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    t_start = time.perf_counter()
    # build in a subprocess so this (measuring) process stays small
    subprocess.run([sys.executable, __file__, "--_build", str(args.n), str(args.minutes)],
                   check=True)
    root = inputs_dir(args.n, args.minutes)
    warm_cache(root)
    runs = WORK / f"batch{args.n}" / f"runs-{args.minutes:g}min"
    runs.mkdir(parents=True, exist_ok=True)
    result: dict = {"n": args.n, "minutes": args.minutes}
    failed = []

    rows = scaling(root, runs, args.workers)
    result["scaling"] = rows
    speedup = scaling_table(rows, args.n, args.minutes)
    if speedup is not None:
        passed = speedup >= SPEEDUP_TARGET
        verdict = "PASS" if passed else "FAIL"
        if args.quick:
            verdict = "not judged (--quick: too little work per recording)"
        print(f"\nspeed-up of 2 workers over 1: {speedup:.2f} (target >= {SPEEDUP_TARGET}): "
              f"{verdict}")
        if not passed and not args.quick:
            failed.append("speed-up")

    if not args.skip_resume:
        r = resume(root, runs, args.n, args.resume_workers)
        result["resume"] = r
        resume_table(r)
        passed = resume_ok(r)
        print(f"resume: {'PASS' if passed else 'FAIL'}")
        if not passed:
            failed.append("resume")
    print(f"\nbenchmark took {time.perf_counter() - t_start:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
