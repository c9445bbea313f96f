"""Held-out measurement of ``hypsa video`` on the video generators written apart from it.

Generates (once, cached under ``benchmarks/_work/video_<generator>``) clips of
``benchmarks/generalize/video_independent.py`` (``--generator independent``) or
``benchmarks/generalize/video_third.py`` (``--generator third``) with known spasms and known
ordinary movements, measures their motion with the default settings (the cell sums cached per
clip and per :data:`hypsa.video.motion.CELLS_VERSION`, as ``validate_video.py`` does), finds the
events (:func:`hypsa.video.events.detect_events`, what :func:`hypsa.video.analyze_video` runs),
and scores per spasm with
:func:`hypsa.evaluate.score_events` (level ``spasm``: 1 s before / 1 s after, no merging). The
detector's events are the rows of type :data:`hypsa.video.events.EVENT_TYPE`; isolated sudden
movements are reported apart and count neither as found nor as false. A reported cluster
"finds" a true cluster when their spans (first onset to last end) overlap.

Usage (from the repository root)::

    nice -n 10 .venv/bin/python benchmarks/validate_video_independent.py \\
        [--generator independent|third] [--spasm-seeds 0-11]
        [--ordinary-seeds 100-105] [--minutes 5] [--markdown FILE]
        [--body-axis long_axis|diagonal|short_axis] [--start-index I]

Prints markdown tables: per clip, by condition (fixed/hand-held x landscape/portrait x
bright/dim), by spasm pattern and amplitude, and what the false events and the misses overlap.
The ``i``-th clip of each kind takes condition ``condition_of(i)``, so a set of 8 or more clips
of a kind holds every condition.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "generalize"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import video_independent  # noqa: E402
from validate_video import track_for  # noqa: E402

from hypsa.evaluate import score_events  # noqa: E402

#: the generators this script reads, each written without the detector's code
GENERATORS = {"independent": "video_independent", "third": "video_third"}
VI = video_independent
WORK = ROOT / "benchmarks" / "_work" / "video_independent"
#: bump when a generator's drawing changes, so cached clips are redrawn
GENERATOR_VERSION = 1


def use_generator(name: str) -> None:
    """Read the clips of generator ``name`` (a key of :data:`GENERATORS`) from now on."""
    import importlib

    global VI, WORK
    VI = importlib.import_module(GENERATORS[name])
    WORK = ROOT / "benchmarks" / "_work" / f"video_{name}"


def _seeds(text: str) -> list[int]:
    """``"0-11"`` or ``"0,3,5"`` or ``"0-3,9"`` to a list of seeds."""
    out: list[int] = []
    for part in filter(None, text.split(",")):
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def _detector_key() -> str:
    """Hash of the installed ``hypsa.video`` package files (names the results file)."""
    import hypsa.video

    h = hashlib.sha1()
    for p in sorted(Path(hypsa.video.__file__).parent.glob("*.py")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def clip_for(kind: str, seed: int, index: int, minutes: float,
             body_axis: str | None = None) -> Path:
    """Generate (or reuse) the clip of ``kind``/``seed`` with the ``index``-th condition."""
    camera, orient, light = VI.condition_of(index)
    d = WORK / f"{kind}_s{seed:03d}_{minutes:g}m_{camera}_{orient}_{light}"
    if body_axis:
        d = d.with_name(d.name + f"_{body_axis}")
    tj = d / "truth.json"
    if tj.exists() and (d / "clip.mp4").exists() and (d / "events.tsv").exists():
        truth = json.loads(tj.read_text())
        if truth.get("generator_version") == GENERATOR_VERSION:
            return d
    t0 = time.process_time()
    g = VI.generate(d, seed, kind=kind, minutes=minutes, camera=camera, orientation=orient,
                    light=light, body_axis=body_axis)
    truth = dict(g.truth, generator_version=GENERATOR_VERSION,
                 generate_cpu_s=round(time.process_time() - t0, 1))
    tj.write_text(json.dumps(truth, indent=1, default=float))
    return g.clip.parent


def analyze(d: Path) -> tuple[pd.DataFrame, float, dict]:
    """hypsa's events of the clip in ``d`` (motion from cached cell sums), the clip's duration
    and the run's notes."""
    from hypsa.video.events import clusters_table, detect_events

    t0 = time.process_time()
    track, motion_cpu = track_for(d / "clip.mp4", d)
    ev = detect_events(track)
    info = {"duration_s": float(track.duration_s),
            "cpu_s": round(motion_cpu + time.process_time() - t0, 1),
            "moving_subject": bool(track.subject), "n_clusters": len(clusters_table(ev))}
    return ev, info["duration_s"], info


def _spans(ev: pd.DataFrame) -> list[tuple[float, float]]:
    """(start, end) of each cluster id >= 0 (first onset to last end)."""
    if not len(ev):
        return []
    c = pd.to_numeric(ev["cluster"], errors="coerce")
    ev = ev[c.notna() & (c >= 0)].assign(c=c)
    return [(float(g.onset.min()), float((g.onset + g.duration).max()))
            for _, g in ev.groupby("c")]


def _body_in_image(rot: float) -> str:
    """The infant's long axis in the picture: vertical, horizontal or diagonal."""
    c = abs(float(np.cos(rot)))
    return "vertical" if c > 0.87 else "horizontal" if c < 0.5 else "diagonal"


def _overlaps(a: tuple[float, float], b: tuple[float, float], tol: float = 0.0) -> bool:
    return a[0] - tol <= b[1] and b[0] - tol <= a[1]


def score_clip(d: Path) -> dict:
    """Per-clip scores and the reasons of each miss and false event."""
    from hypsa.video.events import EVENT_TYPE, ISOLATED_TYPE

    truth = json.loads((d / "truth.json").read_text())
    ref = pd.read_csv(d / "events.tsv", sep="\t", na_values="n/a")
    hyp_all, dur, info = analyze(d)
    hyp = hyp_all[hyp_all["trial_type"] == EVENT_TYPE].reset_index(drop=True)
    n_iso = int((hyp_all["trial_type"] == ISOLATED_TYPE).sum()) if len(hyp_all) else 0
    sp = ref[ref["trial_type"] == "spasm"].reset_index(drop=True)
    other = ref[ref["trial_type"] != "spasm"]
    s = score_events(sp[["onset", "duration"]], hyp[["onset", "duration"]], dur, level="spasm")
    # which spasms were found (an event within the 1 s tolerance) and which events are false
    found = np.zeros(len(sp), bool)
    false_ev = np.ones(len(hyp), bool)
    for i, r in sp.iterrows():
        span = (r.onset, r.onset + r.duration)
        for j, h in hyp.iterrows():
            if _overlaps(span, (h.onset, h.onset + h.duration), 1.0):
                found[i] = True
                false_ev[j] = False

    iso = hyp_all[hyp_all["trial_type"] == ISOLATED_TYPE] if len(hyp_all) else hyp_all
    seen_alone = np.zeros(len(sp), bool)
    for i, r in sp.iterrows():
        seen_alone[i] = not found[i] and any(
            _overlaps((r.onset, r.onset + r.duration), (h.onset, h.onset + h.duration), 1.0)
            for h in iso.itertuples())

    def near(on: float, du: float) -> str:
        o = other[(other.onset - 1.0 <= on + du) & (other.onset + other.duration + 1.0 >= on)]
        return "+".join(sorted(set(o.trial_type))) or "quiet"

    false_rows = [{"onset": float(h.onset), "duration": float(h.duration),
                   "overlaps": near(h.onset, h.duration)} for h in hyp[false_ev].itertuples()]
    miss_rows = [{"onset": float(r.onset), "pattern": r.pattern, "amplitude": float(r.amplitude),
                  "symmetry": float(r.symmetry), "overlaps": near(r.onset, r.duration)}
                 for r in sp[~found].itertuples()]
    t_spans = [(float(g.onset.min()), float((g.onset + g.duration).max()))
               for _, g in sp.groupby("cluster")] if len(sp) else []
    h_spans = _spans(hyp)
    cl_found = sum(any(_overlaps(a, b) for b in h_spans) for a in t_spans)
    cl_false = sum(not any(_overlaps(b, a) for a in t_spans) for b in h_spans)
    return {"clip": d.name, "kind": truth["kind"], "camera": truth["camera"]["mode"],
            "orientation": truth["orientation"], "light": truth["light"],
            "size": f"{truth['width']}x{truth['height']}",
            "fps": f"{truth['fps']:g}{' vfr' if truth['variable_fps'] else ''}",
            "framing": truth["framing"], "body": _body_in_image(truth["body_rotation_rad"]),
            "minutes": dur / 60, "hours": dur / 3600,
            "n_spasms": len(sp), "found": int(found.sum()), "tp_timescoring": s.tp,
            "false": int(false_ev.sum()), "fp_timescoring": s.fp, "isolated": n_iso,
            "isolated_at_spasm": int(seen_alone.sum()),
            "clusters_true": len(t_spans), "clusters_found": int(cl_found),
            "clusters_reported": len(h_spans), "clusters_false": int(cl_false),
            "cpu_s": info.get("cpu_s"), "moving_subject": info.get("moving_subject"),
            "spasm_rows": sp.assign(found=found, seen_alone=seen_alone).to_dict(orient="records"),
            "false_rows": false_rows, "miss_rows": miss_rows}


def _pct(a: int, b: int) -> str:
    return f"{a}/{b} ({100 * a / b:.0f} %)" if b else "-"


def tables(rows: list[dict]) -> str:
    """Markdown tables of the scored clips."""
    df = pd.DataFrame(rows)
    out = ["### Per clip", "",
           "| clip | camera | orient. | light | size | fps | framing | body | spasms found | "
           "false events (/h) | isolated (at a spasm) | clusters found | "
           "clusters reported (false) |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in df.itertuples():
        out.append(f"| {r.clip} | {r.camera} | {r.orientation} | {r.light} | {r.size} | {r.fps} "
                   f"| {r.framing} | {r.body} | {r.found}/{r.n_spasms} | {r.false} "
                   f"({r.false / r.hours:.0f}) | {r.isolated} ({r.isolated_at_spasm}) | "
                   f"{r.clusters_found}/{r.clusters_true} | {r.clusters_reported} "
                   f"({r.clusters_false}) |")
    out += ["", "### By condition", "",
            "| camera | orientation | light | clips (spasm+ordinary) | spasms found | "
            "false events / h | clusters found | clusters reported in ordinary clips |",
            "|---|---|---|---|---|---|---|---|"]

    def agg(g: pd.DataFrame) -> tuple:
        sp, od = g[g.kind == "spasms"], g[g.kind == "ordinary"]
        return (f"{len(sp)}+{len(od)}", _pct(int(sp.found.sum()), int(sp.n_spasms.sum())),
                f"{g.false.sum() / g.hours.sum():.1f}",
                _pct(int(sp.clusters_found.sum()), int(sp.clusters_true.sum())),
                f"{int(od.clusters_reported.sum())} in {len(od)}")

    for (cam, ori, li), g in df.groupby(["camera", "orientation", "light"]):
        out.append(f"| {cam} | {ori} | {li} | " + " | ".join(agg(g)) + " |")
    for col in ("camera", "orientation", "light"):
        for v, g in df.groupby(col):
            out.append(f"| {v if col == 'camera' else 'all'} | "
                       f"{v if col == 'orientation' else 'all'} | "
                       f"{v if col == 'light' else 'all'} | " + " | ".join(agg(g)) + " |")
    out.append("| **all** | | | " + " | ".join(f"**{x}**" for x in agg(df)) + " |")
    out += ["", "### By the infant's axis in the picture and by framing", "",
            "| group | clips (spasm+ordinary) | spasms found | false events / h | "
            "clusters found | clusters reported in ordinary clips |", "|---|---|---|---|---|---|"]
    for col in ("body", "framing"):
        for v, g in df.groupby(col):
            out.append(f"| {col} {v} | " + " | ".join(agg(g)) + " |")
    # by pattern and amplitude
    sp = pd.DataFrame([s for r in rows for s in r["spasm_rows"]])
    if len(sp):
        out += ["", "### Spasms found by pattern, amplitude and symmetry", "",
                "| group | found |", "|---|---|"]
        for p, g in sp.groupby("pattern"):
            out.append(f"| {p} | {_pct(int(g.found.sum()), len(g))} |")
        bins = pd.cut(sp.amplitude, [0, 0.3, 0.5, 0.75, 1.01])
        for b, g in sp.groupby(bins, observed=True):
            out.append(f"| amplitude {b} | {_pct(int(g.found.sum()), len(g))} |")
        asym = sp.symmetry < 0.8
        out.append(f"| symmetric (weaker side >= 0.8) | "
                   f"{_pct(int(sp[~asym].found.sum()), int((~asym).sum()))} |")
        out.append(f"| asymmetric (weaker side < 0.8) | "
                   f"{_pct(int(sp[asym].found.sum()), int(asym.sum()))} |")
    fr = pd.DataFrame([f for r in rows for f in r["false_rows"]])
    if len(fr):
        out += ["", "### What the false events overlap (truth rows within 1 s)", "",
                "| drawn movement | false events |", "|---|---|"]
        for k, n in fr.overlaps.value_counts().items():
            out.append(f"| {k} | {n} |")
    mr = pd.DataFrame([m for r in rows for m in r["miss_rows"]])
    if len(mr):
        out += ["", "### What the missed spasms overlap", "", "| drawn movement | missed |",
                "|---|---|"]
        for k, n in mr.overlaps.value_counts().items():
            out.append(f"| {k} | {n} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Generate, analyse and score; print the markdown tables."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--generator", choices=sorted(GENERATORS), default="independent")
    ap.add_argument("--spasm-seeds", default="0-11")
    ap.add_argument("--ordinary-seeds", default="100-105")
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--start-index", type=int, default=0,
                    help="condition index of the first clip of each kind (see condition_of)")
    ap.add_argument("--body-axis", choices=video_independent.BODY_AXES,
                    help="force the infant's axis relative to the frame's long axis")
    ap.add_argument("--markdown", type=Path, help="also write the tables to this file")
    a = ap.parse_args(argv)
    use_generator(a.generator)
    WORK.mkdir(parents=True, exist_ok=True)
    key = _detector_key()
    rows = []
    plan = [("spasms", s, i) for i, s in enumerate(_seeds(a.spasm_seeds), a.start_index)]
    plan += [("ordinary", s, i) for i, s in enumerate(_seeds(a.ordinary_seeds), a.start_index)]
    for kind, seed, i in plan:
        d = clip_for(kind, seed, i, a.minutes, a.body_axis)
        r = score_clip(d)
        rows.append(r)
        print(f"{r['clip']}: {r['found']}/{r['n_spasms']} found, {r['false']} false, "
              f"{r['isolated']} isolated, clusters {r['clusters_found']}/{r['clusters_true']} "
              f"(reported {r['clusters_reported']}), analyse {r['cpu_s']} s", file=sys.stderr)
    tag = hashlib.sha1(" ".join(sys.argv[1:] if argv is None else argv).encode()).hexdigest()[:8]
    (WORK / f"results_{key}_{tag}.json").write_text(json.dumps(rows, indent=1, default=str))
    md = tables(rows)
    print(f"Generator {a.generator}; detector files {key}; {len(rows)} clips, "
          f"{a.minutes:g} min each.\n")
    print(md)
    if a.markdown:
        a.markdown.write_text(md + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
