"""Cross-check evaluation: build test recordings, run `hypsa analyze` on them, score against truth.

The recordings come from ``gen.py`` next to this file: an independent construction of
infant-like test EEG on the real children's backgrounds (``../shared/data/real/children_19ch``
next to the repository), built from the clinical description with randomised morphology.  It
shares no code with hypsa's own simulator, so the scores show how hypsa's detectors
(hypsarrhythmia at recording level, epileptic spasms and their clusters) carry over beyond the
recordings they were developed on.

Usage (from the repository root)::

    python benchmarks/crosscheck/run_eval.py --n 96 --seed 2 --minutes 10,20

``--minutes`` is one length (``10``) or a uniform range (``10,20``).  Other options:
``--out`` (default ``benchmarks/_work/crosscheck/n<N>_s<SEED>``), ``--jobs``, ``--real-dir``
(or the environment variable ``HYPSA_REAL_DIR``), ``--skip-gen`` and ``--skip-hypsa`` (re-use
what an earlier run left in ``--out``).

Writes under --out: recordings/ (EDF + <stem>.truth.json + <stem>.spasms.tsv), hypsa/ (hypsa's
outputs), results.json (all tables + per-event rows), events.tsv (one row per true spasm, detected
yes/no + parameters), false_detections.tsv, recordings.tsv, report.md (the printed tables).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

TOL = 1.5
CYCLE = ["classic", "synchronous", "asymmetric", "focus", "attenuation", "slow",
         "background", "sleep_slow", "single_focus", "background", "sleep_slow", "single_focus"]


def hypsa_command():
    """The `hypsa` console script of this interpreter's environment (else the one on PATH)."""
    exe = Path(sys.executable).parent / "hypsa"
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("hypsa")
    if found:
        return [found]
    sys.exit(f"cross-check: no `hypsa` command next to {sys.executable} or on PATH; "
             "install the project (pip install -e .)")


def plan(n, seed):
    rng = np.random.default_rng(seed)
    forms = []
    while len(forms) < n:
        forms += list(rng.permutation(CYCLE))
    return [(seed * 10000 + i, forms[i]) for i in range(n)]


def _build(args):
    s, form, out, dur = args
    t = gen.make_recording(s, form, out, duration_s=dur)
    return t.stem


def build(n, seed, out, minutes, jobs):
    rec = os.path.join(out, "recordings")
    os.makedirs(rec, exist_ok=True)
    todo = []
    for s, form in plan(n, seed):
        rng = np.random.default_rng(s + 7)
        dur = 60 * (rng.uniform(*minutes) if len(minutes) == 2 else minutes[0])
        todo.append((s, form, rec, dur))
    if jobs > 1:
        from multiprocessing import Pool
        with Pool(jobs) as p:
            stems = p.map(_build, todo)
    else:
        stems = [_build(a) for a in todo]
    return stems


def run_hypsa(out, stems, jobs):
    rec = os.path.join(out, "recordings")
    hd = os.path.join(out, "hypsa")
    os.makedirs(hd, exist_ok=True)
    files = [os.path.join(rec, s + ".edf") for s in stems]
    chunks = [files[i::jobs] for i in range(jobs)]
    cmd = hypsa_command()
    procs = [subprocess.Popen([*cmd, "analyze", *c, "--out", hd, "--no-report", "-q"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for c in chunks if c]
    logs = [p.communicate()[0] for p in procs]
    rcs = [p.returncode for p in procs]
    return rcs, logs


def read_tsv(path):
    with open(path) as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def fnum(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def match(true_on, det_on, tol=TOL):
    """One-to-one matching minimising |dt|, only pairs with |dt| <= tol. Returns dict ti -> di."""
    if not true_on or not det_on:
        return {}
    C = np.abs(np.subtract.outer(np.array(true_on), np.array(det_on)))
    big = 1e6
    Cm = np.where(C <= tol, C, big)
    r, c = linear_sum_assignment(Cm)
    return {int(i): int(j) for i, j in zip(r, c, strict=False) if Cm[i, j] < big}


def bin_of(v, edges, labels):
    if v is None:
        return "none"
    for e, lab in zip(edges[1:], labels, strict=False):
        if v <= e:
            return lab
    return labels[-1]


EVENT_KEYS = ["cluster", "slow", "slow_amp", "slow_bipolar_pp_uv", "slow_dur", "slow_shape",
              "slow_centre", "slow_polarity", "fast", "fast_amp", "decrement", "dec_depth",
              "dec_dur", "lvfa", "emg", "emg_amp", "emg_dur"]


def score(out):
    rec = os.path.join(out, "recordings")
    hd = os.path.join(out, "hypsa")
    stems = sorted(f[:-11] for f in os.listdir(rec) if f.endswith(".truth.json"))
    recs, events, fps = [], [], []
    for st in stems:
        tr = json.load(open(os.path.join(rec, st + ".truth.json")))
        sp_truth = read_tsv(os.path.join(rec, st + ".spasms.tsv"))
        sp_truth_json = tr["spasms"]
        sj = os.path.join(hd, st + ".summary.json")
        info = tr["info"]
        r = {"stem": st, "form": tr["form"], "hyps_true": tr["hyps_present"], "fs": tr["fs"],
             "emg": tr["emg"], "minutes": round(tr["duration_s"] / 60, 1),
             "bg_scale": round(info["bg_scale"], 2), "n_true": len(sp_truth),
             "true_clusters": tr["clusters"],
             "frac_s_bip_gt200": round(info.get("frac_s_any_bipolar_gt200", float("nan")), 2),
             "truth_frac_bins_ge3_foci": round(info.get("frac_bins_ge3_foci", 0.0), 2),
             "edf": os.path.join(rec, st + ".edf")}
        if not os.path.exists(sj):
            r["error"] = "no hypsa output"
            recs.append(r)
            continue
        s = json.load(open(sj))
        h = s["hypsarrhythmia"]
        ge = h.get("evidence", {}).get("graded_epoch", {}) or {}
        r.update(hyps_called=bool(h["present"]), based=h.get("based_score"),
                 prob=h.get("probability"),
                 hyps_criteria="; ".join(h.get("evidence", {}).get("criteria_met", [])),
                 n_foci=ge.get("n_foci"), spike_bin_fraction=ge.get("spike_bin_fraction"),
                 n_high_amp_ch=len(ge.get("high_amplitude_channels", []) or []),
                 median_amp_uv=ge.get("median_amplitude_uv"),
                 n_attenuations=ge.get("n_attenuations"),
                 state=ge.get("state"),
                 det_clusters=s["spasms"].get("n_clusters"),
                 bad_channels=",".join(s["quality"].get("bad_channels", [])))
        det = [d for d in read_tsv(os.path.join(hd, st + ".events.tsv"))
               if d["eventType"] != "bckg" and d.get("trial_type") != "eeg_decrement"]
        t_on = [float(x["onset"]) for x in sp_truth]
        d_on = [float(x["onset"]) for x in det]
        m = match(t_on, d_on)
        m3 = match(t_on, d_on, 3.0)
        r["n_tp_3s"] = len(m3)
        r["n_det"] = len(det)
        r["n_tp"] = len(m)
        matched_d = set(m.values())
        for i, (row, sj_) in enumerate(zip(sp_truth, sp_truth_json, strict=False)):
            e = {"stem": st, "form": tr["form"], "bg": "hyps" if tr["hyps_present"] else "normal",
                 "fs": tr["fs"], "rec_emg": tr["emg"], "bg_scale": info["bg_scale"],
                 "onset": float(row["onset"]), "detected": i in m, "detected_3s": i in m3,
                 "det_onset": d_on[m[i]] if i in m else None,
                 "dt": (d_on[m[i]] - t_on[i]) if i in m else None,
                 "det_features": det[m[i]].get("features") if i in m else None,
                 "det_confidence": fnum(det[m[i]].get("confidence")) if i in m else None}
            for k in EVENT_KEYS:
                e[k] = sj_.get(k)
            e["duration"] = float(row["duration"])
            # nearest detection even if unmatched (diagnostic)
            if d_on:
                j = int(np.argmin(np.abs(np.array(d_on) - t_on[i])))
                e["nearest_det_dt"] = d_on[j] - t_on[i]
            events.append(e)
        atten = info.get("attenuation_episodes", [])
        distr = info.get("emg_distractor_onsets", [])
        for j, d in enumerate(det):
            if j in matched_d:
                continue
            o = float(d["onset"])
            near = min([abs(o - t) for t in t_on], default=None)
            ctx = "other"
            if near is not None and near <= 8:
                ctx = "near_true_spasm(<=8s)"
            elif any(a - 1 <= o <= a + du + 1 for a, du, _ in atten):
                ctx = "hyps_attenuation_episode"
            elif any(t - 1 <= o <= t + 9 for t in distr):
                ctx = "emg_distractor"
            fps.append({"stem": st, "form": tr["form"], "onset": o, "duration": fnum(d["duration"]),
                        "confidence": fnum(d.get("confidence")), "features": d.get("features"),
                        "nearest_true_dt": near, "context": ctx, "edf": r["edf"]})
        recs.append(r)
    return recs, events, fps


# ------------------------------------------------------------------------------ tables
def md_table(rows, cols):
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(_s(r.get(c)) for c in cols) + " |")
    return "\n".join(out)


def _s(v):
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return "" if v is None else str(v)


def sens_by(events, key_fn, name):
    """Sensitivity per level of a factor, overall and split by EMG burst present / absent."""
    g = defaultdict(list)
    for e in events:
        g[key_fn(e)].append(e)
    rows = []
    for k in sorted(g, key=str):
        v = g[k]
        ve = [e["detected"] for e in v if e["emg"]]
        vn = [e["detected"] for e in v if not e["emg"]]
        rows.append({name: k, "n": len(v), "sens": sum(e["detected"] for e in v) / len(v),
                     "sens@3s": sum(e["detected_3s"] for e in v) / len(v),
                     "n EMG": len(ve), "sens EMG": (sum(ve) / len(ve)) if ve else None,
                     "n noEMG": len(vn), "sens noEMG": (sum(vn) / len(vn)) if vn else None})
    return rows


def _form_is(form):
    return lambda r: r["form"] == form


def _components(e):
    return "+".join(k for k in ["fast", "slow", "decrement"] if e[k])


def _emg_kind(e):
    if e["emg"]:
        return "EMG burst"
    return "EMG ch, no burst" if e["rec_emg"] else "no EMG ch"


HYPS_ERROR_KEYS = ["stem", "form", "based", "prob", "bg_scale", "n_foci", "spike_bin_fraction",
                   "n_high_amp_ch", "median_amp_uv", "n_attenuations", "state", "hyps_criteria",
                   "edf"]


def tables(recs, events, fps):
    T = {}
    ok = [r for r in recs if "error" not in r]
    # hyps by form
    rows = []
    for form in gen.HYPS_FORMS + gen.NEG_FORMS:
        rr = [r for r in ok if r["form"] == form]
        if not rr:
            continue
        called = sum(r["hyps_called"] for r in rr)
        truth = rr[0]["hyps_true"]
        rate = (called if truth else len(rr) - called) / len(rr)
        rows.append({"form": form, "hyps_truth": truth, "n": len(rr), "called_present": called,
                     ("sensitivity" if truth else "specificity"): rate,
                     "BASED scores": ",".join(str(r["based"]) for r in rr)})
    hy = [r for r in ok if r["hyps_true"]]
    ng = [r for r in ok if not r["hyps_true"]]
    rows.append({"form": "ALL hyps", "n": len(hy),
                 "called_present": sum(r["hyps_called"] for r in hy),
                 "sensitivity": (sum(r["hyps_called"] for r in hy) / len(hy)) if hy else None})
    rows.append({"form": "ALL negative", "n": len(ng),
                 "called_present": sum(r["hyps_called"] for r in ng),
                 "specificity": (1 - sum(r["hyps_called"] for r in ng) / len(ng)) if ng else None})
    T["hyps_by_form"] = rows
    # hyps errors list
    T["hyps_errors"] = [{k: r.get(k) for k in HYPS_ERROR_KEYS}
                        for r in ok if r["hyps_called"] != r["hyps_true"]]
    # spasms overall by background type
    rows = []
    selections = [("hyps background", lambda r: r["hyps_true"]),
                  ("normal background", lambda r: not r["hyps_true"])]
    selections += [(f, _form_is(f)) for f in gen.HYPS_FORMS + gen.NEG_FORMS]
    for lab, sel in selections:
        rr = [r for r in ok if sel(r)]
        if not rr:
            continue
        hours = sum(r["minutes"] for r in rr) / 60
        ntrue = sum(r["n_true"] for r in rr)
        tp = sum(r["n_tp"] for r in rr)
        fp = sum(r["n_det"] - r["n_tp"] for r in rr)
        tp3 = sum(r["n_tp_3s"] for r in rr)
        fp3 = sum(r["n_det"] - r["n_tp_3s"] for r in rr)
        rows.append({"background": lab, "recordings": len(rr), "hours": hours,
                     "true spasms": ntrue, "detected": tp,
                     "sensitivity": (tp / ntrue) if ntrue else None,
                     "false det": fp, "FD/h": fp / hours if hours else None,
                     "precision": tp / (tp + fp) if (tp + fp) else None,
                     "sens@3s": (tp3 / ntrue) if ntrue else None,
                     "FD/h@3s": fp3 / hours if hours else None})
    T["spasms_by_background"] = rows
    ev = events
    emg_ev = [e for e in ev if e["emg"]]
    T["sens_by_components"] = sens_by(ev, lambda e: _components(e) or "none", "components")
    T["sens_by_slow_amp_ref"] = sens_by(
        ev, lambda e: bin_of(e["slow_amp"] if e["slow"] else None,
                             [150, 250, 350, 500], ["150-250", "250-350", "350-500"]),
        "slow amp (ref µV)")
    T["sens_by_slow_amp_bipolar"] = sens_by(
        ev, lambda e: bin_of(e.get("slow_bipolar_pp_uv") if e["slow"] else None,
                             [0, 75, 150, 300, 1e9], ["<75", "75-150", "150-300", ">300"]),
        "slow bipolar p-p µV")
    T["sens_by_fast"] = sens_by(ev, lambda e: bool(e["fast"]), "fast burst")
    T["sens_by_dec_depth"] = sens_by(
        ev, lambda e: bin_of(e["dec_depth"] if e["decrement"] else None,
                             [0.1, 0.233, 0.367, 0.5],
                             ["0.10-0.23 (deep)", "0.23-0.37", "0.37-0.50 (shallow)"]),
        "decrement depth (x)")
    T["sens_by_dec_dur"] = sens_by(
        ev, lambda e: bin_of(e["dec_dur"] if e["decrement"] else None,
                             [1, 2, 3.5, 5], ["1-2 s", "2-3.5 s", "3.5-5 s"]),
        "decrement duration")
    T["sens_by_emg"] = sens_by(ev, _emg_kind, "EMG")
    T["sens_by_bg"] = sens_by(ev, lambda e: e["bg"], "background")
    T["sens_by_slow_dur"] = sens_by(
        ev, lambda e: bin_of(e["slow_dur"] if e["slow"] else None,
                             [0.5, 0.83, 1.17, 1.5], ["0.5-0.83", "0.83-1.17", "1.17-1.5"]),
        "slow dur s")
    T["sens_by_polarity"] = sens_by(
        ev, lambda e: ("none" if not e["slow"] else ("+" if e["slow_polarity"] > 0 else "-")),
        "slow polarity")
    T["sens_by_centre"] = sens_by(
        ev, lambda e: ("none" if not e["slow"]
                       else ("Cz" if e["slow_centre"] == "Cz" else "other")),
        "slow centre")
    T["sens_by_emg_dur"] = sens_by(
        emg_ev, lambda e: bin_of(e["emg_dur"], [0, 0.8, 1.5, 2.5, 99],
                                 ["0.4-0.8 s", "0.8-1.5 s", "1.5-2.5 s", "3-7 s"]),
        "EMG burst duration")
    T["sens_by_emg_amp"] = sens_by(
        emg_ev, lambda e: bin_of(e["emg_amp"], [0, 150, 300, 500],
                                 ["50-150", "150-300", "300-500"]),
        "EMG amp µV")
    T["sens_by_form"] = sens_by(ev, lambda e: e["form"], "background form")
    T["sens_by_lvfa"] = sens_by(ev, lambda e: bool(e.get("lvfa")), "LVFA")
    T["sens_by_fs"] = sens_by(ev, lambda e: int(e["fs"]), "fs")
    T["sens_by_bg_scale"] = sens_by(
        ev, lambda e: bin_of(e["bg_scale"], [1, 1.5, 2, 2.5], ["1.0-1.5", "1.5-2.0", "2.0-2.5"]),
        "bg scale")
    # EEG-only spasms (no EMG burst) by components: the hard regime
    T["sens_by_bg_x_components"] = sens_by(ev, lambda e: e["bg"] + ": " + _components(e),
                                           "bg: components")
    dts = np.array([e["dt"] for e in ev if e["detected"]])
    near = [e["nearest_det_dt"] for e in ev
            if not e["detected"] and e.get("nearest_det_dt") is not None]
    early = sum(1 for d in near if -3.5 <= d < -TOL)
    late = sum(1 for d in near if TOL < d <= 3.5)
    T["onset_timing"] = [{
        "matched": len(dts),
        "median dt (det-true) s": float(np.median(dts)) if len(dts) else None,
        "IQR lo": float(np.percentile(dts, 25)) if len(dts) else None,
        "IQR hi": float(np.percentile(dts, 75)) if len(dts) else None,
        "missed but det 1.5-3.5 s EARLY": early, "missed but det 1.5-3.5 s LATE": late}]
    # clusters
    sp = [r for r in ok if r["n_true"] > 0]
    nsp = [r for r in ok if r["n_true"] == 0]
    T["clusters"] = [
        {"set": "recordings with spasms", "n": len(sp),
         "exact cluster count":
             sum(r["det_clusters"] == r["true_clusters"] for r in sp) / len(sp) if sp else None},
        {"set": "recordings without spasms", "n": len(nsp),
         "exact cluster count":
             sum(r["det_clusters"] == 0 for r in nsp) / len(nsp) if nsp else None},
        {"set": "all", "n": len(ok),
         "exact cluster count":
             sum(r["det_clusters"] == r["true_clusters"] for r in ok) / len(ok) if ok else None}]
    diff = defaultdict(int)
    for r in sp:
        d = (r["det_clusters"] or 0) - r["true_clusters"]
        diff["exact" if d == 0 else (f"+{d}" if d > 0 else str(d))] += 1
    T["cluster_diff"] = [{"detected - true clusters (recordings with spasms)": k, "n": v}
                         for k, v in sorted(diff.items())]
    T["clusters"].append(
        {"set": "recordings without spasms: any detection", "n": len(nsp),
         "exact cluster count": (sum(r["n_det"] > 0 for r in nsp) / len(nsp)) if nsp else None})
    # false detections by context
    g = defaultdict(int)
    for f in fps:
        g[(f["form"], f["context"])] += 1
    T["false_det_by_context"] = [{"form": k[0], "context": k[1], "n": v}
                                 for k, v in sorted(g.items())]
    # per recording
    T["recordings"] = ok
    return T


SENS_TITLES = [
    ("sens_by_components", "Sensitivity by components present"),
    ("sens_by_slow_amp_ref", "by slow-wave amplitude (referential, at max)"),
    ("sens_by_slow_amp_bipolar", "by slow-wave amplitude (max bipolar p-p)"),
    ("sens_by_slow_dur", "by slow-wave duration"),
    ("sens_by_polarity", "by slow-wave polarity"), ("sens_by_centre", "by slow-wave centre"),
    ("sens_by_fast", "by fast burst"), ("sens_by_dec_depth", "by decrement depth"),
    ("sens_by_dec_dur", "by decrement duration"), ("sens_by_lvfa", "by LVFA"),
    ("sens_by_emg", "by EMG"), ("sens_by_emg_dur", "EMG spasms by EMG burst duration"),
    ("sens_by_emg_amp", "EMG spasms by EMG amplitude"),
    ("sens_by_form", "by background form"), ("sens_by_bg", "by background type"),
    ("sens_by_bg_x_components", "by background x components"),
    ("sens_by_fs", "by sampling rate"), ("sens_by_bg_scale", "by background scale"),
]


def report(T, recs):
    parts = []
    P = lambda t, rows, cols: parts.append(f"\n### {t}\n\n" + md_table(rows, cols))  # noqa: E731
    P("Hypsarrhythmia (recording level) by form", T["hyps_by_form"],
      ["form", "hyps_truth", "n", "called_present", "sensitivity", "specificity", "BASED scores"])
    P("Wrong hyps calls", T["hyps_errors"], HYPS_ERROR_KEYS[:-1])
    P("Spasms by background", T["spasms_by_background"],
      ["background", "recordings", "hours", "true spasms", "detected", "sensitivity", "false det",
       "FD/h", "precision", "sens@3s", "FD/h@3s"])
    for k, t in SENS_TITLES:
        rows = T[k]
        P(t, rows, list(rows[0].keys()) if rows else ["n"])
    P("Onset timing (matched pairs; near-misses)", T["onset_timing"],
      list(T["onset_timing"][0].keys()))
    P("Cluster count", T["clusters"], ["set", "n", "exact cluster count"])
    P("Cluster count error", T["cluster_diff"],
      ["detected - true clusters (recordings with spasms)", "n"])
    P("False detections by context", T["false_det_by_context"], ["form", "context", "n"])
    P("Per recording", recs,
      ["stem", "minutes", "bg_scale", "hyps_true", "hyps_called", "based", "prob",
       "n_true", "n_det", "n_tp", "n_tp_3s", "true_clusters", "det_clusters", "frac_s_bip_gt200",
       "truth_frac_bins_ge3_foci"])
    return "\n".join(parts)


def write_tsv(path, rows):
    if not rows:
        open(path, "w").close()
        return
    cols = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, cols, delimiter="\t", extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()})


def main():
    ap = argparse.ArgumentParser(
        description="Cross-check: build test recordings on real children's backgrounds, "
                    "run `hypsa analyze` on them and score the results against the truth.")
    ap.add_argument("--n", type=int, default=24, help="number of recordings (default: 24)")
    ap.add_argument("--seed", type=int, default=1, help="master seed (default: 1)")
    ap.add_argument("--out", default=None,
                    help="output folder (default: benchmarks/_work/crosscheck/n<N>_s<SEED>)")
    ap.add_argument("--minutes", default="10,20", help="'10' or '10,20' (uniform range)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel processes (default: 2)")
    ap.add_argument("--real-dir", default=None,
                    help=f"folder of real 19-channel EDF recordings (default: "
                         f"${gen.REAL_DIR_ENV} or {gen.DEFAULT_REAL_DIR})")
    ap.add_argument("--skip-gen", action="store_true",
                    help="re-use the recordings already in --out")
    ap.add_argument("--skip-hypsa", action="store_true",
                    help="re-use hypsa's outputs already in --out")
    a = ap.parse_args()
    if a.out is None:
        a.out = str(gen.WORK_DIR / f"n{a.n}_s{a.seed}")
    minutes = [float(x) for x in a.minutes.split(",")]
    if not a.skip_gen:
        gen.use_real_dir(a.real_dir)
    if not a.skip_hypsa:
        hypsa_command()
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()
    if not a.skip_gen:
        stems = build(a.n, a.seed, a.out, minutes, a.jobs)
    else:
        stems = sorted(f[:-11] for f in os.listdir(os.path.join(a.out, "recordings"))
                       if f.endswith(".truth.json"))
    t1 = time.time()
    if not a.skip_hypsa:
        rcs, logs = run_hypsa(a.out, stems, a.jobs)
        if any(rcs):
            print("hypsa exit codes", rcs, "\n".join(logs)[-3000:])
    t2 = time.time()
    recs, events, fps = score(a.out)
    T = tables(recs, events, fps)
    md = report(T, recs)
    md = (f"# cross-check evaluation: n={a.n} seed={a.seed} minutes={a.minutes} "
          f"(gen {t1 - t0:.0f} s, hypsa {t2 - t1:.0f} s)\n" + md)
    print(md)
    open(os.path.join(a.out, "report.md"), "w").write(md)
    json.dump({"args": vars(a), "params": gen.PARAMS, "tables": T, "events": events,
               "false_detections": fps},
              open(os.path.join(a.out, "results.json"), "w"), indent=1, default=str)
    write_tsv(os.path.join(a.out, "events.tsv"), events)
    write_tsv(os.path.join(a.out, "false_detections.tsv"), fps)
    write_tsv(os.path.join(a.out, "recordings.tsv"), recs)


if __name__ == "__main__":
    main()
