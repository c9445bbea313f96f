"""Rebuild the shipped spasm model (src/hypsa/models: spasm_lgbm.txt, spasm_window.npz, cards).

Every spasm candidate of the bench recordings of all four generators (``benchmarks/generalize``:
``hypsa.simulate``, the cross-check generator, the independent and the fourth generator) is
measured as
``hypsa analyze`` measures it and labelled (a spasm within 1 s of a true spasm whose EEG shows
the pattern, or that moved where a movement channel is recorded; a mimic beyond 3 s of every
true spasm). LightGBM is fitted with bagging and feature subsampling (each generator weighing
the same), calibrated by isotonic regression on out-of-fold predictions (folds by recording),
and the threshold is the lowest calibrated probability that keeps out-of-fold false detections
on hypsarrhythmic background, EEG only, at or under ``--max-fp`` per hour on every generator
(the second threshold, ``threshold_other``: the same on the other backgrounds, never higher).
The same data, seeds and settings give the same file (one thread, deterministic LightGBM).

One input of the trees is the window score (:mod:`hypsa.spasm_window`): a small convolutional
network that reads the EEG around each candidate (``generalize/window_model.py``). The shipped
network is trained on every generator; the trees learn from training candidates each scored by
a network trained *without* its generator, so that they weigh the score as it behaves on EEG
the network has not seen. The networks need PyTorch (``pip install -e .[research]``; 5 networks
of about 4 min each on 2 cores, trained on 2 threads, seeded); ``--no-window`` fits the
measurements alone.

Usage::

    nice -n 10 python benchmarks/train_spasm_model.py [--n 144] [--jobs 2] [--write]
        [--out DIR] [--generators simulate crosscheck independent fourth] [--no-window]

Without ``--write`` (or ``--out``) nothing is stored. No training data is committed; the
recordings are rebuilt from the generators' seeds under ``benchmarks/_work/generalize``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "generalize"))

import data  # noqa: E402
import model as M  # noqa: E402
import run  # noqa: E402
import window_model as W  # noqa: E402

from hypsa import spasm_recording as RR  # noqa: E402

MODELS = ROOT / "src" / "hypsa" / "models"


def train(n: int, gens: list[str], jobs: int, max_fp: float, minutes: float = 10.0,
          seed: int = 0, window: bool = True, epochs: int = W.EPOCHS,
          train_net: bool = True) -> tuple[dict, dict]:
    """Build/measure the recordings and fit; returns the fitted model and its card (with
    ``window``: the window network in ``m["window_net"]``, needs torch)."""
    from hypsa.spasm_score import RELATIVE

    sp = run.specs(n, gens, minutes)
    data.run_all(sp, jobs, real=False)
    c, truth, recs = data.load(sp)
    features = list(RELATIVE)
    net = None
    if window:
        ws = W.WindowScores.build(c, sp, jobs, epochs, seed)
        c = c.assign(window=ws.all_out())
        net = ws.net("all", np.ones(len(c), bool)) if train_net else None
        features.append("window")
    m = M.fit(c, truth, recs, max_fp=max_fp, seed=seed, features=features)
    m["window_net"] = net
    card = _card(m, c, gens, n, minutes, seed, max_fp, epochs if window else None)
    # the recording-level model: the same inputs, and ten of them against the other candidates
    # of their recording (hypsa.spasm_recording)
    cr = M.recording_relative(c)
    rec_feats = features + [f + M.REC for f in M.RECORDING_RELATIVE if f in features]
    m_rec = M.fit(cr, truth, recs, max_fp=max_fp, seed=seed, features=rec_feats)
    card_rec = _card(m_rec, cr, gens, n, minutes, seed, max_fp, epochs if window else None)
    card_rec["model"] = ("LightGBM binary classifier on spasm candidate measurements "
                         "(hypsa.spasm_score.design) and ten of them against the other "
                         "candidates of the recording (hypsa.spasm_recording), isotonic "
                         "calibration")
    card_rec["recording_relative"] = {"inputs": M.RECORDING_RELATIVE,
                                      "span_s": RR.SPAN_S, "min_candidates": RR.MIN_CANDIDATES}
    m["recording"] = (m_rec, card_rec)
    return m, card


def _card(m: dict, c, gens: list[str], n: int, minutes: float, seed: int, max_fp: float,
          epochs: int | None) -> dict:
    lab = c[c.y >= 0]
    return {
        "model": "LightGBM binary classifier on spasm candidate measurements "
                 "(hypsa.spasm_score.design), isotonic calibration",
        "features": m["features"],
        "threshold": m["threshold"],
        "threshold_other": m["threshold_other"],
        "calibration": m["calibration"],
        "generators": gens,
        "data": {"recordings_per_generator": n, "minutes": minutes,
                 "first_seeds": {g: run.SEEDS[g] for g in gens},
                 "candidates": {g: {"spasm": int((lab[lab.generator == g].y == 1).sum()),
                                    "mimic": int((lab[lab.generator == g].y == 0).sum())}
                                for g in gens}},
        "lightgbm": {**M.LGB_PARAMS, "num_boost_round": M.N_ROUNDS, "seed": seed},
        "window_epochs": epochs,
        "max_fp_per_hour_for_threshold": max_fp,
        "out_of_fold_at_threshold": {
            f"{g}, {'hypsarrhythmic' if h else 'other'}, {'movement' if e else 'EEG only'}":
                {"sensitivity": round(float(r.sensitivity), 3),
                 "fp_per_hour": round(float(r.fp_per_hour), 3)}
            for (g, h, e), r in m["oof"].xs(m["threshold"], level="threshold").iterrows()},
        "out_of_fold_at_threshold_other": {
            f"{g}, other, {'movement' if e else 'EEG only'}":
                {"sensitivity": round(float(r.sensitivity), 3),
                 "fp_per_hour": round(float(r.fp_per_hour), 3)}
            for (g, h, e), r in m["oof"].xs(m["threshold_other"], level="threshold").iterrows()
            if not h},
        "reliability": m["reliability"].round(3).reset_index(names="bin").to_dict("records"),
    }


def write(m: dict, card: dict, out: Path, command: str, *, window_model: bool = True,
          window_net: bool = True) -> Path:
    """Store the model text file and its card (sha256, command) in ``out``, the
    recording-level model and its card, and the window network's weights and card where the
    model has one (``window_model`` / ``window_net`` False: those files are left as they are)."""
    from hypsa.spasm_score import CARD_FILE, MODEL_FILE

    out.mkdir(parents=True, exist_ok=True)
    if window_model:
        _write_trees(m["booster"], card, out / MODEL_FILE, out / CARD_FILE, command)
    if m.get("recording") is not None:
        m_rec, card_rec = m["recording"]
        _write_trees(m_rec["booster"], card_rec, out / RR.MODEL_FILE, out / RR.CARD_FILE,
                     command)
    if window_net and m.get("window_net") is not None:
        write_window(m["window_net"], card, out, command)
    return out / (MODEL_FILE if window_model else RR.MODEL_FILE)


def _write_trees(booster, card: dict, path: Path, card_path: Path, command: str) -> None:
    text = booster.model_to_string()
    path.write_text(text)
    card = {"sha256": hashlib.sha256(text.encode()).hexdigest(), "command": command, **card}
    card_path.write_text(json.dumps(card, indent=1) + "\n")


def write_window(net, card: dict, out: Path, command: str) -> Path:
    """The network's weights as a numpy archive written byte for byte the same from the same
    weights (fixed member order and dates), and its card."""
    import io
    import zipfile

    from hypsa.spasm_window import CARD_FILE, FRAMES_PER_S, POST, PRE, STREAMS, WEIGHTS_FILE

    state = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in
             net.state_dict().items()}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for k in sorted(state):
            member = io.BytesIO()
            np.lib.format.write_array(member, state[k], allow_pickle=False)
            info = zipfile.ZipInfo(f"{k}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, member.getvalue())
    raw = buf.getvalue()
    (out / WEIGHTS_FILE).write_bytes(raw)
    wcard = {
        "sha256": hashlib.sha256(raw).hexdigest(), "command": command,
        "model": "convolutional network on candidate windows (hypsa.spasm_window): a shared "
                 "electrode encoder (3 convolutions, ReLU), pooled over electrodes "
                 "(mean, max, spread), a convolution over time, a dense head; log-odds out",
        "window": {"frames_per_s": FRAMES_PER_S, "before_s": PRE, "after_s": POST,
                   "streams": list(STREAMS)},
        "parameters": int(sum(v.size for v in state.values())),
        "generators": card["generators"], "data": card["data"],
        "training": {"epochs": card.get("window_epochs"), "seed": card["lightgbm"]["seed"],
                     "threads": 2,
                     "labels": "EEG pattern alone: 1 within 1 s of a complete spasm; 0 beyond "
                     "3 s of every spasm, and within 1 s of an incomplete one (wave without "
                     "decrement, decrement without wave); each generator and class weighing "
                     "the same",
                     "augmentation": "shift 0.5 s, time stretch 0.75-1.33, gain 0.6-1.6 and "
                     "polarity, gain per electrode 0.8-1.25, level shifts of the RMS curves, "
                     "noise, up to 30 % of electrodes dropped"},
    }
    (out / CARD_FILE).write_text(json.dumps(wcard, indent=1) + "\n")
    return out / WEIGHTS_FILE


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=144, help="recordings per generator")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--generators", nargs="+", default=None)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--max-fp", type=float, default=1.0)
    ap.add_argument("--no-window", action="store_true",
                    help="the measurements alone, without the window network (no torch)")
    ap.add_argument("--epochs", type=int, default=W.EPOCHS, help="the window network's epochs")
    ap.add_argument("--recording-only", action="store_true",
                    help="store only the recording-level model (hypsa.spasm_recording); the "
                         "per-window model and the window network stay as they are")
    ap.add_argument("--write", action="store_true", help="store in src/hypsa/models")
    ap.add_argument("--out", type=Path, default=None, help="store in this folder instead")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    gens = args.generators or run.available()
    t0 = time.time()
    m, card = train(args.n, gens, args.jobs, args.max_fp, args.minutes,
                    window=not args.no_window, epochs=args.epochs,
                    train_net=not args.recording_only)
    print(f"trained on {', '.join(gens)} in {time.time() - t0:.0f} s; threshold "
          f"{m['threshold']:.3f}")
    print(m["oof"].xs(m["threshold"], level="threshold").round(3).to_string())
    print(m["reliability"].round(3).to_markdown())
    m_rec = m["recording"][0]
    print(f"recording-level model: threshold {m_rec['threshold']:.3f}, second "
          f"{m_rec['threshold_other']:.3f}")
    print(m_rec["oof"].xs(m_rec["threshold"], level="threshold").round(3).to_string())
    print(m_rec["oof"].xs(m_rec["threshold_other"], level="threshold").round(3).to_string())
    out = args.out or (MODELS if args.write else None)
    if out is not None:
        cmd = "python benchmarks/train_spasm_model.py " + " ".join(
            shlex.quote(a) for a in sys.argv[1:])
        path = write(m, card, out, cmd.strip(), window_model=not args.recording_only,
                     window_net=not args.recording_only)
        print(f"written {path}")


if __name__ == "__main__":
    main()
