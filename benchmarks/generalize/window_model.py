"""A window model of spasm candidates, judged leave-one-generator-out beside the shipped model.

The spasm model (``model.py``) sees about thirty measurements of each candidate. This bench asks
whether a small convolutional network that sees the EEG around each candidate itself, with no
measurement chosen by hand, tells spasms from their mimics better out of generator, alone or as
one more input of the gradient-boosted model ("stacked").

* **Windows.** Every candidate of ``run.py``'s recordings (the same 432 recordings, found and
  measured exactly as ``hypsa analyze`` does) gets a window from 6 s before its onset to 8 s after,
  per electrode, at 32 samples a second: the EEG below 12 Hz, and the log of its 12-40 Hz
  envelope, each against the same electrode's own median over the two minutes around (the
  channel's local background: no microvolt enters). Cached under
  ``benchmarks/_work/generalize/windows_v<FEATURE_VERSION>``.
* **Network.** One encoder shared by every electrode (three strided convolutions), pooled over the
  electrodes present (mean, maximum, spread: any montage, any order), a convolution over time and
  a small dense head. Trained with heavy randomisation (shifts of up to 0.5 s, time stretch
  0.75-1.33, gain 0.6-1.6 and either polarity, a gain per electrode, noise, up to 30 % of the
  electrodes dropped), each generator and class weighing the same, on the candidates labelled
  for the EEG alone (1 within 1 s of a complete spasm, 0 beyond 3 s of every spasm).
* **Leave one generator out.** For each held-out generator a network is trained on the two
  others and scores it. The stacked model is ``model.py``'s fit with the network's score
  (log-odds) as one more input, monotone; its training candidates carry the score of a network
  trained on the *other* training generator only (so the trees learn how far an out-of-generator
  score can be trusted), and its threshold is chosen on them as ``model.py`` does (at most one
  false detection an hour on hypsarrhythmic background, EEG only, out of fold).

Usage (from the repository root; needs the ``research`` extra, ``pip install -e .[research]``)::

    nice -n 10 python benchmarks/generalize/run.py            # the recordings and candidates
    nice -n 10 python benchmarks/generalize/window_model.py   # ~40 min on 2 cores the first time
    nice -n 10 python benchmarks/generalize/window_model.py --real   # and ../shared/data/real

Prints the held-out table: per generator, the shipped measurements alone and stacked with the
window score, at each fold's own threshold and along the threshold grid; with ``--real``, the
false detections of both on the real recordings (models fitted on all three generators).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from math import gcd
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import data  # noqa: E402
import model as M  # noqa: E402
import run  # noqa: E402

RATE = 32.0          # samples a second in a window
PRE, POST = 6.0, 8.0  # window around the candidate's onset (s)
T = int((PRE + POST) * RATE)
N_CH = 19
GENS = ("simulate", "crosscheck", "independent")


def _work() -> Path:
    from hypsa.spasms import FEATURE_VERSION

    return data.WORK / f"windows_v{FEATURE_VERSION}"


# ------------------------------------------------------------------ windows
def streams(eeg: np.ndarray, sfreq: float) -> tuple[np.ndarray, np.ndarray]:
    """The EEG below 12 Hz and its 12-40 Hz envelope, both at :data:`RATE`."""
    from scipy.signal import butter, resample_poly, sosfiltfilt

    lo = sosfiltfilt(butter(4, 12.0, "lowpass", fs=sfreq, output="sos"), eeg, axis=1)
    down = int(round(sfreq))
    g = gcd(int(RATE), down)
    s1 = resample_poly(lo, int(RATE) // g, down // g, axis=1)
    hi = sosfiltfilt(butter(4, [12.0, min(40.0, sfreq / 2 - 1)], "bandpass", fs=sfreq,
                            output="sos"), eeg, axis=1)
    step = sfreq / RATE
    n = min(int(hi.shape[1] // step), s1.shape[1])
    idx = (np.arange(n) * step).astype(int)
    cs = np.cumsum(np.pad(np.abs(hi), ((0, 0), (1, 0))), axis=1)
    stop = np.minimum(idx + int(round(step)), hi.shape[1])
    s2 = (cs[:, stop] - cs[:, idx]) / np.maximum(stop - idx, 1)
    return s1[:, :n], s2[:, :n]


def windows(eeg: np.ndarray, sfreq: float, onsets: np.ndarray) -> np.ndarray:
    """One window per onset, shape (n, channels, 2, :data:`T`), each electrode against its own
    median over the two minutes around."""
    s1, s2 = streams(eeg, sfreq)
    n = s1.shape[1]
    out = np.zeros((len(onsets), eeg.shape[0], 2, T), np.float16)
    for i, o in enumerate(onsets):
        a = int(round((o - PRE) * RATE))
        lo, hi = max(0, int((o - 60) * RATE)), min(n, int((o + 60) * RATE))
        b1 = np.median(np.abs(s1[:, lo:hi]), axis=1)[:, None] + 1e-3
        b2 = np.median(s2[:, lo:hi], axis=1)[:, None] + 1e-3
        seg1, seg2 = np.zeros((eeg.shape[0], T)), np.ones((eeg.shape[0], T))
        s0, e0 = max(0, a), min(n, a + T)
        if e0 > s0:
            seg1[:, s0 - a:e0 - a] = s1[:, s0:e0] / b1
            seg2[:, s0 - a:e0 - a] = s2[:, s0:e0] / b2
        out[i, :, 0] = np.clip(seg1, -60, 60)
        out[i, :, 1] = np.log(np.maximum(seg2, 1e-2))
    return out


_STASH: list = []


def _measure_and_keep(eeg, sfreq, **kw):
    """Stand-in for the spasm detector: the candidates as ``data.measure_only`` gives them, and
    their windows kept aside."""
    c = data.measure_only(eeg, sfreq, **kw)
    on = c["onset"].to_numpy(float) if len(c) else np.zeros(0)
    _STASH.append(windows(eeg, sfreq, on))
    return c


def extract(s: data.Spec) -> None:
    """Windows of every candidate of one recording (cached)."""
    out = _work() / s.generator / f"{s.rid}.npz"
    if out.is_file():
        return
    source = data.BUILDERS["simulate"](s)[0] if s.generator == "simulate" else \
        (s.folder / "source.txt").read_text()
    ev, w, mask = _run_detector_keeping_windows(source)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, W=w, mask=mask, onset=ev["onset"].to_numpy(float))


def _run_detector_keeping_windows(source) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Candidates of one recording as ``hypsa analyze`` finds them, with their windows and
    electrode masks."""
    warnings.simplefilter("ignore")
    _STASH.clear()
    with data.spasm_detector_replaced(_measure_and_keep) as an:
        a = an.analyze(source)
    n = sum(len(w) for w in _STASH)
    w = np.zeros((n, N_CH, 2, T), np.float16)
    mask = np.zeros((n, N_CH), bool)
    k = 0
    for part in _STASH:
        w[k:k + len(part), :part.shape[1]] = part
        mask[k:k + len(part), :part.shape[1]] = True
        k += len(part)
    if len(a.events) != n:
        raise RuntimeError(f"{source}: {len(a.events)} candidates, {n} windows")
    return a.events, w, mask


def extract_real(path: str) -> None:
    """Windows of every candidate of one real recording (cached; files hypsa refuses are
    left out, as in ``data.load_real``)."""
    from hypsa.errors import HypsaError

    name = Path(path).relative_to(data.REAL).as_posix().replace("/", "__")
    out = _work() / "real" / f"{name}.npz"
    if out.is_file():
        return
    try:
        ev, w, mask = _run_detector_keeping_windows(path)
    except HypsaError:
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, W=w, mask=mask, onset=ev["onset"].to_numpy(float) if len(ev) else
             np.zeros(0))


def load_real_windows(real: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Windows aligned with the rows of ``data.load_real()``'s candidate table."""
    w = np.zeros((len(real), N_CH, 2, T), np.float16)
    mask = np.zeros((len(real), N_CH), bool)
    for r, idx in real.groupby("recording").indices.items():
        d = np.load(_work() / "real" / (r.removeprefix("real/") + ".npz"))
        if len(idx) != len(d["onset"]):
            raise RuntimeError(f"{r}: windows do not match the candidate table")
        w[idx], mask[idx] = d["W"], d["mask"]
    return w, mask


def load_windows(c: pd.DataFrame, specs: list[data.Spec]) -> tuple[np.ndarray, np.ndarray]:
    """Windows and electrode masks aligned with the rows of the candidate table ``c``."""
    w = np.zeros((len(c),) + (N_CH, 2, T), np.float16)
    mask = np.zeros((len(c), N_CH), bool)
    rec = c["recording"].to_numpy()
    for s in specs:
        idx = np.flatnonzero(rec == f"{s.generator}/{s.rid}")
        d = np.load(_work() / s.generator / f"{s.rid}.npz")
        if len(idx) != len(d["onset"]) or not np.allclose(
                c["onset"].to_numpy(float)[idx], d["onset"]):
            raise RuntimeError(f"{s.rid}: windows do not match the candidate table")
        w[idx], mask[idx] = d["W"], d["mask"]
    return w, mask


def eeg_labels(c: pd.DataFrame, truth: pd.DataFrame) -> np.ndarray:
    """Labels for the EEG alone: 1 near a complete spasm, 0 far from every spasm, -1 between."""
    y = np.full(len(c), -1)
    by = dict(tuple(truth.groupby("recording")))
    for r, idx in c.groupby("recording").indices.items():
        t = by.get(r, truth.iloc[:0])
        y[idx] = data.label(c.iloc[idx], t, False)["y"].to_numpy()
    return y


# ------------------------------------------------------------------ network
def _net():
    import torch
    from torch import nn

    class WindowNet(nn.Module):
        """Shared electrode encoder, pooled over the electrodes present, then over time."""

        def __init__(self) -> None:
            super().__init__()
            self.enc = nn.Sequential(
                nn.Conv1d(2, 16, 9, 2, 4), nn.GELU(),
                nn.Conv1d(16, 32, 9, 2, 4), nn.GELU(),
                nn.Conv1d(32, 32, 9, 2, 4), nn.GELU())
            self.time = nn.Sequential(nn.Conv1d(96, 64, 5, 2, 2), nn.GELU())
            self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(64 * (T // 16), 64), nn.GELU(),
                                      nn.Dropout(0.3), nn.Linear(64, 1))

        def forward(self, x, m):
            b, c, s, t = x.shape
            h = self.enc(x.reshape(b * c, s, t))
            h = h.reshape(b, c, h.shape[1], h.shape[2])
            mf = m[:, :, None, None].float()
            n = mf.sum(1).clamp(min=1)
            mean = (h * mf).sum(1) / n
            mx = (h + (mf - 1) * 1e4).max(1).values
            sd = (((h - mean[:, None]) ** 2) * mf).sum(1).div(n).add(1e-6).sqrt()
            return self.head(self.time(torch.cat([mean, mx, sd], 1)).flatten(1)).squeeze(1)

    return WindowNet()


def augment(x: np.ndarray, m: np.ndarray, rng: np.random.Generator):
    """The randomisation of one batch (see the module's docstring)."""
    from scipy.ndimage import zoom

    b = x.shape[0]
    out = np.empty_like(x)
    for i in range(b):
        f = rng.uniform(0.75, 1.33)
        z = zoom(x[i], (1, 1, f), order=1)
        c0 = int(round(PRE * RATE * f)) - int(PRE * RATE)  # the onset stays in place
        seg = z[..., c0:c0 + T] if c0 >= 0 else \
            np.pad(z, ((0, 0), (0, 0), (-c0, 0)), mode="edge")[..., :T]
        if seg.shape[-1] < T:
            seg = np.pad(seg, ((0, 0), (0, 0), (0, T - seg.shape[-1])), mode="edge")
        out[i] = np.roll(seg, rng.integers(-16, 17), axis=-1)
    x = out
    x[:, :, 0] *= rng.uniform(0.6, 1.6, (b, 1, 1)) * rng.choice([-1, 1], (b, 1, 1))
    x[:, :, 0] *= rng.uniform(0.8, 1.25, (b, x.shape[1], 1))
    x[:, :, 1] += rng.normal(0, 0.3, (b, 1, 1))
    x[:, :, 0] += rng.normal(0, 0.2, x[:, :, 0].shape)
    m = m & (rng.uniform(size=m.shape) > rng.uniform(0, 0.3, (b, 1)))
    m[m.sum(1) == 0, 0] = True
    return x, m


def train(w: np.ndarray, mask: np.ndarray, y: np.ndarray, gen: np.ndarray, *,
          epochs: int = 6, seed: int = 0, label: str = ""):
    """A network fitted on labelled windows, each generator and class weighing the same."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    rng = np.random.default_rng(seed)
    net = _net()
    key = pd.Series(list(zip(gen, y, strict=True)))
    p = 1.0 / key.map(key.value_counts()).to_numpy(float)
    p /= p.sum()
    bs = 128
    steps = max(1, len(y) // bs)
    opt = torch.optim.AdamW(net.parameters(), 1e-3, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=epochs * steps)
    for ep in range(epochs):
        net.train()
        t0, tot = time.time(), 0.0
        for _ in range(steps):
            b = rng.choice(len(y), bs, p=p)
            xb, mb = augment(w[b].astype(np.float32), mask[b].copy(), rng)
            out = net(torch.from_numpy(xb), torch.from_numpy(mb))
            loss = F.binary_cross_entropy_with_logits(
                out, torch.from_numpy(y[b].astype(np.float32)))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item()
        print(f"<!-- {label} epoch {ep}: loss {tot / steps:.3f}, {time.time() - t0:.0f} s -->",
              flush=True)
    return net


def score(net, w: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The network's probability for each window."""
    import torch

    net.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(w), 512):
            out.append(torch.sigmoid(net(torch.from_numpy(w[i:i + 512].astype(np.float32)),
                                         torch.from_numpy(mask[i:i + 512]))).numpy())
    return np.concatenate(out) if out else np.zeros(0)


def _tag(name: str, epochs: int, seed: int) -> str:
    return f"{name}_e{epochs}" + (f"_s{seed}" if seed else "")


def net_for(name: str, train_rows: np.ndarray, w, mask, y, gen, epochs: int, seed: int = 0):
    """The network trained on ``train_rows`` (its weights cached by name)."""
    import torch

    f = _work() / f"net_{_tag(name, epochs, seed)}.pt"
    net = _net()
    if f.is_file():
        net.load_state_dict(torch.load(f))
        return net
    lab = train_rows & (y >= 0)
    net = train(w[lab], mask[lab], y[lab], gen[lab], epochs=epochs, seed=seed, label=name)
    torch.save(net.state_dict(), f)
    return net


def scores_for(name: str, train_rows: np.ndarray, w, mask, y, gen, epochs: int,
               seed: int = 0) -> np.ndarray:
    """Scores of every candidate by the network trained on ``train_rows`` (cached by name)."""
    f = _work() / f"scores_{_tag(name, epochs, seed)}.npy"
    if f.is_file():
        return np.load(f)
    lab = train_rows & (y >= 0)
    net = train(w[lab], mask[lab], y[lab], gen[lab], epochs=epochs, seed=seed, label=name)
    s = score(net, w, mask)
    np.save(f, s)
    return s


# ------------------------------------------------------------------ bench
def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _row(s: pd.DataFrame, th: float) -> dict:
    d, e = s[s.hyps & ~s.emg], s[s.hyps & s.emg]
    o = s[~s.hyps & ~s.emg]
    return {"threshold": th,
            "hyps, EEG only": f"{d.tp_complete.sum() / d.n_complete.sum():.3f}",
            "plain": f"{d.tp_plain.sum() / max(d.n_plain.sum(), 1):.3f}",
            "FD/h": f"{d.fp.sum() / d.hours.sum():.2f}",
            "hyps, with movement": f"{e.tp_complete.sum() / e.n_complete.sum():.3f}",
            "FD/h (movement)": f"{e.fp.sum() / e.hours.sum():.2f}",
            "other, EEG only": f"{o.tp_complete.sum() / max(o.n_complete.sum(), 1):.3f}",
            "FD/h (other)": f"{o.fp.sum() / o.hours.sum():.2f}"}


def real_table(c, truth, recs, w, mask, y, gen, pair, args) -> pd.DataFrame:
    """False detections on the real recordings (none holds a spasm) of the shipped
    measurements and of the stacked model, each fitted on all three generators (the stacked
    model's training candidates scored by the network without their generator, the real ones
    by the network trained on all three)."""
    from hypsa.spasm_score import RELATIVE

    files = data.real_files()
    if files:
        from multiprocessing import Pool

        with Pool(args.jobs, maxtasksperchild=8) as pool:
            pool.map(extract_real, files, chunksize=1)
    real, hours = data.load_real()
    rw, rmask = load_real_windows(real)
    net = net_for("all", np.ones(len(c), bool), w, mask, y, gen, args.epochs, args.seed)
    win = np.select([gen == g for g in GENS], [pair[g] for g in GENS])
    cw = c.assign(window=_logit(win))
    real = real.assign(window=_logit(score(net, rw, rmask)))
    out = []
    for name, feats in (("shipped measurements", list(RELATIVE)),
                        ("stacked with the window score", list(RELATIVE) + ["window"])):
        m = M.fit(cw, truth, recs, features=feats)
        rc = real.assign(confidence=M.predict(m, real))
        for th in sorted({m["threshold"], 0.8, 0.85, 0.9}):
            sp, _ = M.detections(rc, th)
            out.append({"model (all three generators)": name, "threshold": th,
                        "chosen": "yes" if th == m["threshold"] else "",
                        "real FD": len(sp), "real hours": round(hours, 2),
                        "real FD/h": round(len(sp) / hours, 2) if hours else None})
    return pd.DataFrame(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=144, help="recordings per generator")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0, help="the networks' seed (0: the table's)")
    ap.add_argument("--real", action="store_true",
                    help="also the real recordings of ../shared/data/real, scored by models "
                         "fitted on all three generators")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    from hypsa.spasm_score import RELATIVE

    specs = run.specs(args.n, list(GENS))
    data.run_all(specs, args.jobs, real=False)
    todo = [s for s in specs if not (_work() / s.generator / f"{s.rid}.npz").is_file()]
    if todo:
        from multiprocessing import Pool

        with Pool(args.jobs, maxtasksperchild=4) as pool:
            pool.map(extract, todo, chunksize=1)
    c, truth, recs = data.load(specs)
    w, mask = load_windows(c, specs)
    y = eeg_labels(c, truth)
    gen = c["generator"].to_numpy()
    pair = {g: scores_for(f"without_{g}", gen != g, w, mask, y, gen, args.epochs, args.seed)
            for g in GENS}
    single = {g: scores_for(f"only_{g}", gen == g, w, mask, y, gen, args.epochs, args.seed)
              for g in GENS}
    design = M.design
    M.design = lambda cc: design(cc).assign(window=np.asarray(cc["window"], float))
    M.MONOTONE["window"] = 1
    rows, real_rows = [], None
    try:
        if args.real:
            real_rows = real_table(c, truth, recs, w, mask, y, gen, pair, args)
        for held in ("crosscheck", "independent", "simulate"):
            a, b = (g for g in GENS if g != held)
            win = np.where(gen == a, single[b], np.where(gen == b, single[a], pair[held]))
            cw = c.assign(window=_logit(win))
            tr = cw[cw.generator != held].reset_index(drop=True)
            rtr = recs[recs.generator != held]
            ttr = truth[truth.recording.isin(rtr.recording)]
            te = cw[cw.generator == held].reset_index(drop=True)
            rte = recs[recs.generator == held]
            for name, feats in (("shipped measurements", list(RELATIVE)),
                                ("stacked with the window score", list(RELATIVE) + ["window"]),
                                ("window score alone", None)):
                if feats is None:
                    te2, th0 = te.assign(confidence=pair[held][gen == held]), None
                else:
                    m = M.fit(tr, ttr, rtr, features=feats)
                    te2, th0 = te.assign(confidence=M.predict(m, te)), m["threshold"]
                ths = sorted({0.8, 0.9, 0.95, 0.98, 0.99} | ({th0} if th0 else set()))
                for th in ths:
                    r = _row(M.score(te2, truth, rte, th), th)
                    rows.append({"held out": held, "model": name,
                                 "chosen": "yes" if th == th0 else "", **r})
    finally:
        M.design = design
        M.MONOTONE.pop("window", None)
    df = pd.DataFrame(rows)
    if real_rows is not None:
        print("## Real recordings (no spasm), models fitted on all three generators\n")
        print(real_rows.to_markdown(index=False))
        print()
    print("## Held out, at each fold's chosen threshold\n")
    print(df[df.chosen == "yes"].drop(columns="chosen").to_markdown(index=False))
    print("\n## Along the threshold grid\n")
    print(df.drop(columns="chosen").to_markdown(index=False))


if __name__ == "__main__":
    main()
