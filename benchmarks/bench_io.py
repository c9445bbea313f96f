"""Streaming benchmark: hypsa's EDF reader vs MNE's ``read_raw_edf(preload=True)``.

Builds a long 19-channel 256 Hz EDF in ``benchmarks/_work/`` (git-ignored) chunk by chunk, then
runs each method in its own subprocess and reports wall time, throughput (hours of EEG per
second), Python peak allocations (tracemalloc) and peak resident memory (getrusage max RSS).

Usage::

    python benchmarks/bench_io.py            # 24 h (writes ~840 MB)
    python benchmarks/bench_io.py --hours 1  # quick run
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

WORK = Path(__file__).resolve().parent / "_work"
LABELS = [f"EEG {n}-REF" for n in (
    "FP1 FP2 F7 F3 FZ F4 F8 T3 C3 CZ C4 T4 T5 P3 PZ P4 T6 O1 O2".split()
)]  # fmt: skip
FS = 256


def build(path: Path, hours: float) -> None:
    """Write an EDF of ``hours`` hours, one-second records, in 10-minute chunks."""
    n_rec = int(round(hours * 3600))
    ns = len(LABELS)
    if path.exists() and path.stat().st_size == 256 * (ns + 1) + n_rec * ns * FS * 2:
        return
    path.parent.mkdir(parents=True, exist_ok=True)

    def f(vals: list[str], w: int) -> bytes:
        return b"".join(v.encode().ljust(w)[:w] for v in vals)

    hdr = b"0       " + b"X X X X".ljust(80) + b"Startdate 01-JAN-2024 X X bench".ljust(80)
    hdr += b"01.01.2420.00.00" + str(256 * (ns + 1)).encode().ljust(8) + b"".ljust(44)
    hdr += str(n_rec).encode().ljust(8) + b"1".ljust(8) + str(ns).encode().ljust(4)
    hdr += f(LABELS, 16) + f([""] * ns, 80) + f(["uV"] * ns, 8)
    hdr += f(["-3276.8"] * ns, 8) + f(["3276.7"] * ns, 8)
    hdr += f(["-32768"] * ns, 8) + f(["32767"] * ns, 8) + f([""] * ns, 80)
    hdr += f([str(FS)] * ns, 8) + f([""] * ns, 32)
    rng = np.random.default_rng(0)
    chunk = 600
    block = (rng.normal(0, 300, size=(chunk, ns, FS))).astype("<i2")  # ~30 µV noise
    with open(path, "wb") as out:
        out.write(hdr)
        for r0 in range(0, n_rec, chunk):
            k = min(chunk, n_rec - r0)
            out.write(np.roll(block, r0 // chunk, axis=2)[:k].tobytes())


CHILD = r"""
import json, resource, sys, time, tracemalloc
path, method = sys.argv[1], sys.argv[2]
tracemalloc.start()
t0 = time.perf_counter()
if method == "hypsa":
    from hypsa.io import read
    rec = read(path)
    acc = 0.0
    for w in rec.iter_windows(300):
        acc += float(w.core.std())
    hours = rec.recorded_s / 3600
else:
    import mne
    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    acc = float(raw.get_data(picks=[0], start=0, stop=1000).std())
    hours = raw.n_times / raw.info["sfreq"] / 3600
wall = time.perf_counter() - t0
peak_py = tracemalloc.get_traced_memory()[1]
rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"wall_s": wall, "hours": hours, "peak_py_mb": peak_py / 2**20,
                  "rss_mb": rss_kb / 1024}))
"""


def run(path: Path, method: str) -> dict[str, float]:
    """Run one method in a fresh interpreter and parse its JSON line."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), method],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Build the file, measure both methods, print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=24.0, help="recording length (default 24)")
    ap.add_argument("--skip-mne", action="store_true", help="measure hypsa only")
    args = ap.parse_args()
    path = WORK / f"bench_{args.hours:g}h_19ch_256hz.edf"
    t0 = time.perf_counter()
    build(path, args.hours)
    print(f"file: {path} ({path.stat().st_size / 2**20:.0f} MiB, built/checked in "
          f"{time.perf_counter() - t0:.1f} s)")  # fmt: skip
    results = {"hypsa iter_windows(300)": run(path, "hypsa")}
    if not args.skip_mne:
        results["mne read_raw_edf(preload=True)"] = run(path, "mne")
    head = f"{'method':<32} {'wall s':>8} {'h EEG/s':>9} {'py peak MB':>11} {'max RSS MB':>11}"
    print(head)
    print("-" * len(head))
    for name, r in results.items():
        print(f"{name:<32} {r['wall_s']:8.2f} {r['hours'] / r['wall_s']:9.1f} "
              f"{r['peak_py_mb']:11.1f} {r['rss_mb']:11.1f}")  # fmt: skip
    if len(results) == 2:
        a, b = results.values()
        print(f"ratio hypsa/mne: time {a['wall_s'] / b['wall_s']:.2f}, "
              f"py peak {a['peak_py_mb'] / b['peak_py_mb']:.3f}, "
              f"RSS {a['rss_mb'] / b['rss_mb']:.3f}")  # fmt: skip
    hy = results["hypsa iter_windows(300)"]
    print("streaming peak RSS < 500 MB:", "yes" if hy["rss_mb"] < 500 else "NO")


if __name__ == "__main__":
    main()
