"""Run a benchmark step in a fresh subprocess and measure it: wall time, CPU time of the process
and everything it waited for, and the peak resident memory of its whole process tree."""

from __future__ import annotations

import resource
import subprocess
import time
from dataclasses import dataclass


@dataclass
class Measured:
    """What one measured subprocess produced and cost."""

    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    cpu_s: float
    peak_tree_rss_mib: float


def tree_rss(ps) -> int:
    """Resident bytes of a psutil process and all its descendants (0 for vanished ones)."""
    import psutil

    try:
        procs = [ps, *ps.children(recursive=True)]
    except psutil.Error:
        return 0
    rss = 0
    for p in procs:
        try:
            rss += p.memory_info().rss
        except psutil.Error:
            pass
    return rss


def run_measured(cmd: list[str], interval_s: float = 0.02) -> Measured:
    """Run ``cmd``, sampling the tree's memory every ``interval_s``; CPU from
    ``getrusage(RUSAGE_CHILDREN)`` (user + system of the child and the processes it waited for)."""
    import psutil

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(ps))
        time.sleep(interval_s)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(proc.returncode, stdout, stderr, wall, cpu, peak / 2**20)
