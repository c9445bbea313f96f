"""Speed and memory of ``hypsa video`` on a simulated 720p 30 fps clip.

Usage::

    nice -n 10 python benchmarks/bench_video.py [--minutes 10] [--clip /tmp/bench720.mp4]

The clip is simulated once (``simulate_video``, 1280x720, 30 fps, hand-held camera) and kept:
one minute is simulated and its packets are written ``--minutes`` times one after the other
(timestamps shifted, no re-encoding), so a 10-minute 720p clip costs one minute of simulation.
The load average at the start and the CPU time are printed beside the wall time: on a shared
machine the wall time depends on what else runs. The baseline, in the same process, is
decoding every frame of the clip with PyAV and nothing else (the least any reader must do); the
analysis decodes the same frames, measures motion on a 160-px-wide stream at up to 15 frames/s
and finds the events. Peak memory is the process's
maximum resident set size after each step. The floor in issue 19: 10 minutes of 720p 30 fps
in at most 2 minutes on 2 cores, memory bounded.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _loop(src: Path, dst: Path, times: int) -> None:
    """Write the packets of ``src`` ``times`` times one after the other (no re-encoding)."""
    import av

    with av.open(str(src)) as ic, av.open(str(dst), "w") as oc:
        ist = ic.streams.video[0]
        ost = oc.add_stream_from_template(ist)
        oc.metadata["creation_time"] = ic.metadata.get("creation_time", "")
        pk = [p for p in ic.demux(ist) if p.size]
        span = max(p.pts + (p.duration or 0) for p in pk) - min(p.pts for p in pk)
        for k in range(times):
            for p in pk:
                q = av.Packet(bytes(p))
                q.pts, q.dts = p.pts + k * span, p.dts + k * span
                q.duration, q.time_base = p.duration, p.time_base
                q.is_keyframe = p.is_keyframe
                q.stream = ost
                oc.mux(q)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--clip", type=Path, default=Path("/tmp/hypsa-bench-720p.mp4"))
    args = ap.parse_args()
    from hypsa.video import analyze_video
    from hypsa.video.read import probe
    from hypsa.video.simulate import simulate_video

    clip = args.clip
    if not clip.exists() or abs(probe(clip).duration_s - args.minutes * 60) > 2:
        t = time.perf_counter()
        one = clip.with_name(clip.stem + "-1min.mp4")
        if not one.exists():
            simulate_video(one, 1.0, width=1280, height=720, fps=30, handheld=True, seed=42)
        _loop(one, clip, int(round(args.minutes)))
        print(f"simulated {clip} in {time.perf_counter() - t:.0f} s")
    info = probe(clip)
    import av

    rss0 = _rss_mb()
    load = os.getloadavg()[0]
    c0 = _cpu_s()
    t = time.perf_counter()
    n = 0
    with av.open(str(clip)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        for _ in c.decode(s):
            n += 1
    t_dec = time.perf_counter() - t
    c_dec = _cpu_s() - c0
    rss_dec = _rss_mb()
    c0 = _cpu_s()
    t = time.perf_counter()
    res = analyze_video(clip)
    t_an = time.perf_counter() - t
    c_an = _cpu_s() - c0
    rss_an = _rss_mb()
    mins = info.duration_s / 60
    rows = [
        ("clip", f"{info.width}x{info.height}, {info.fps:.0f} fps, {mins:.1f} min, {n} frames"),
        ("cores; load average at start", f"{os.cpu_count()}; {load:.1f}"),
        ("decode only (baseline): wall, CPU", f"{t_dec:.1f} s, {c_dec:.1f} s"),
        ("hypsa video analysis: wall, CPU",
         f"{t_an:.1f} s, {c_an:.1f} s ({t_an / t_dec:.2f} x baseline wall)"),
        ("per 10 min of video: wall, CPU",
         f"{t_an / mins * 10:.0f} s, {c_an / mins * 10:.0f} s (floor: 120 s wall on 2 cores)"),
        ("peak RSS before / after decode / after analysis",
         f"{rss0:.0f} / {rss_dec:.0f} / {rss_an:.0f} MB"),
        ("events found", str(len(res.events))),
    ]
    w = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{w}}  {v}")


if __name__ == "__main__":
    main()
