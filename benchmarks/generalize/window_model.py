"""The spasm model with and without the window score, judged leave-one-generator-out.

The spasm model (``model.py``) sees about thirty measurements of each candidate. The window
score (:mod:`hypsa.spasm_window`) is a small convolutional network's reading of the detector's
own curves around the candidate; this bench measures the model with it ("stacked") and without
it, on the same candidates, and trains the networks ``train_spasm_model.py`` ships.

* **Windows.** Every candidate of ``run.py``'s recordings (the same 576 recordings, found and
  measured exactly as ``hypsa analyze`` does) gets its window (``hypsa.spasm_window.windows``:
  6 s before its onset to 8 s after, per electrode and 1/8-s frame, the 0.5-4 Hz EEG over its
  background level and the log 1-45 Hz and 4-12 Hz RMS over theirs: no microvolt enters).
  Cached under ``benchmarks/_work/generalize/windows_v<CANDIDATE_VERSION>``.
* **Network.** One encoder shared by every electrode (three convolutions), pooled over the
  electrodes present (mean, maximum, spread: any montage, any order), a convolution over time
  and a small dense head. Trained with heavy randomisation (shifts of up to 0.5 s, time stretch
  0.75-1.33, gain 0.6-1.6 and either polarity, a gain per electrode, level shifts of the RMS
  curves, noise, up to 30 % of the electrodes dropped), each generator and class weighing the
  same, on the candidates labelled
  for the EEG pattern alone (1 within 1 s of a complete spasm; 0 beyond 3 s of every spasm,
  and within 1 s of an incomplete one, a wave without decrement or a decrement without wave).
* **Leave one generator out.** For each held-out generator a network is trained on the
  others and scores it. The stacked model is ``model.py``'s fit with the network's score
  (log-odds) as one more input, monotone; each training candidate carries the score of a
  network trained on the *other* training generators only (so the trees learn how far an
  out-of-generator score can be trusted), and its threshold is chosen on them as ``model.py``
  does (at most one false detection an hour on hypsarrhythmic background, EEG only, out of
  fold).

Usage (from the repository root; needs the ``research`` extra, ``pip install -e .[research]``)::

    nice -n 10 python benchmarks/generalize/run.py            # the recordings and candidates
    nice -n 10 python benchmarks/generalize/window_model.py   # ~40 min on 2 cores the first time
    nice -n 10 python benchmarks/generalize/window_model.py --real   # and ../shared/data/real

Prints the held-out table: per generator, the measurements alone and with the
window score, at each fold's own threshold and along the threshold grid; with ``--real``, the
false detections of both on the real recordings (models fitted on every generator).
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import data  # noqa: E402
import model as M  # noqa: E402
import run  # noqa: E402

from hypsa.spasm_window import FRAMES_PER_S, PRE, T, windows  # noqa: E402

N_S = 3  # streams per electrode (hypsa.spasm_window.STREAMS)
EPOCHS = 12  # training epochs of each network (the shipped one's)

N_CH = 19
#: every generator a candidate table may hold (a held-out one only where a bench asks for it)
GENS = data.GENERATORS + data.HELD_OUT


def _work() -> Path:
    # the windows are the frame curves at the candidates: keyed on the candidate stage's version
    from hypsa.spasms import CANDIDATE_VERSION

    return data.WORK / f"windows_v{CANDIDATE_VERSION}"


_STASH: list = []


def _keep_windows(fm, c: pd.DataFrame) -> None:
    on = c["onset"].to_numpy(float) if len(c) else np.zeros(0)
    _STASH.append(windows(fm, on).astype(np.float16))


#: stand-in for the spasm detector: the candidates as ``data.measure_only`` gives them, and
#: their windows (from the same frame curves) kept aside
_measure_and_keep = functools.partial(data.measure_only, on_frames=_keep_windows)


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
    w = np.zeros((n, N_CH, N_S, T), np.float16)
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
    w = np.zeros((len(real), N_CH, N_S, T), np.float16)
    mask = np.zeros((len(real), N_CH), bool)
    for r, idx in real.groupby("recording").indices.items():
        d = np.load(_work() / "real" / (r.removeprefix("real/") + ".npz"))
        if len(idx) != len(d["onset"]):
            raise RuntimeError(f"{r}: windows do not match the candidate table")
        w[idx], mask[idx] = d["W"], d["mask"]
    return w, mask


def load_windows(c: pd.DataFrame, specs: list[data.Spec]) -> tuple[np.ndarray, np.ndarray]:
    """Windows and electrode masks aligned with the rows of the candidate table ``c``."""
    w = np.zeros((len(c), N_CH, N_S, T), np.float16)
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
    """Labels for the EEG pattern alone (``data.label`` without a movement channel): 1 within
    1 s of a complete spasm (a wave and a decrement); 0 beyond 3 s of every spasm, and within
    1 s of an incomplete one (a wave without decrement, a decrement without wave); -1 between
    (left out)."""
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
                nn.Conv1d(N_S, 8, 5, 2, 2), nn.ReLU(),
                nn.Conv1d(8, 16, 5, 2, 2), nn.ReLU(),
                nn.Conv1d(16, 16, 3, 1, 1), nn.ReLU())
            self.time = nn.Sequential(nn.Conv1d(48, 32, 3, 2, 1), nn.ReLU())
            self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(32 * (T // 8), 32), nn.ReLU(),
                                      nn.Dropout(0.3), nn.Linear(32, 1))

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
        c0 = int(round(PRE * FRAMES_PER_S * f)) - int(PRE * FRAMES_PER_S)  # onset in place
        seg = z[..., c0:c0 + T] if c0 >= 0 else \
            np.pad(z, ((0, 0), (0, 0), (-c0, 0)), mode="edge")[..., :T]
        if seg.shape[-1] < T:
            seg = np.pad(seg, ((0, 0), (0, 0), (0, T - seg.shape[-1])), mode="edge")
        out[i] = np.roll(seg, rng.integers(-4, 5), axis=-1)
    x = out
    x[:, :, 0] *= rng.uniform(0.6, 1.6, (b, 1, 1)) * rng.choice([-1, 1], (b, 1, 1))
    x[:, :, 0] *= rng.uniform(0.8, 1.25, (b, x.shape[1], 1))
    x[:, :, 1:] += rng.normal(0, 0.3, (b, 1, 2, 1))
    x[:, :, 1:] += rng.normal(0, 0.1, (b, x.shape[1], 2, 1))
    x[:, :, 0] += rng.normal(0, 0.2, x[:, :, 0].shape)
    m = m & (rng.uniform(size=m.shape) > rng.uniform(0, 0.3, (b, 1)))
    m[m.sum(1) == 0, 0] = True
    return x, m


def train(w: np.ndarray, mask: np.ndarray, y: np.ndarray, gen: np.ndarray, *,
          epochs: int = EPOCHS, seed: int = 0, label: str = ""):
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


def _tag(name: str, epochs: int, seed: int, rows: np.ndarray, y: np.ndarray) -> str:
    """Cache name of a network: its training set's name and size, a digest of its rows and
    labels (a change of the truth or of the labelling rule retrains it), epochs, seed."""
    import hashlib

    lab = rows & (y >= 0)
    idx = np.flatnonzero(lab)
    digest = hashlib.sha1(idx.astype(np.int64).tobytes() + y[idx].astype(np.int8).tobytes())
    return (f"{name}_n{idx.size}_y{digest.hexdigest()[:8]}_e{epochs}"
            + (f"_s{seed}" if seed else ""))


def net_for(name: str, train_rows: np.ndarray, w, mask, y, gen, epochs: int, seed: int = 0):
    """The network trained on ``train_rows`` (its weights cached by name)."""
    import torch

    f = _work() / f"net_{_tag(name, epochs, seed, train_rows, y)}.pt"
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
    """Scores of every candidate by the network trained on ``train_rows`` (scores and network
    cached by name)."""
    f = _work() / f"scores_{_tag(name, epochs, seed, train_rows, y)}.npy"
    if f.is_file():
        return np.load(f)
    net = net_for(name, train_rows, w, mask, y, gen, epochs, seed)
    s = score(net, w, mask)
    np.save(f, s)
    return s


class WindowScores:
    """The window scores of a candidate table, each from a network that did not see the
    candidate's generator (networks and scores cached by the generators they were trained on:
    ``without_<g>`` on all but ``g``, ``only_<g>`` on ``g`` alone, ``on_<g>+<h>`` otherwise)."""

    def __init__(self, c: pd.DataFrame, w: np.ndarray, mask: np.ndarray, y: np.ndarray,
                 epochs: int, seed: int) -> None:
        self.c, self.w, self.mask, self.y = c, w, mask, y
        self.gen = c["generator"].to_numpy()
        self.epochs, self.seed = epochs, seed
        self.gens = [g for g in GENS if (self.gen == g).any()]
        self._on: dict[str, np.ndarray] = {}

    @classmethod
    def build(cls, c: pd.DataFrame, specs: list[data.Spec], jobs: int, epochs: int = EPOCHS,
              seed: int = 0) -> WindowScores:
        """Windows of every candidate of ``specs`` (extracted once), then the networks."""
        todo = [s for s in specs if not (_work() / s.generator / f"{s.rid}.npz").is_file()]
        if jobs > 1 and len(todo) > 1:
            with data.pool(jobs, 4) as workers:
                workers.map(extract, todo, chunksize=1)
        else:  # in this process (a fresh worker would not see a patched data.WORK)
            for s in todo:
                extract(s)
        w, mask = load_windows(c, specs)
        return cls(c, w, mask, eeg_labels(c, data.load(specs)[1]), epochs, seed)

    def name(self, on: list[str] | tuple[str, ...]) -> str:
        """Cache name of the network trained on the generators ``on``."""
        rest = [g for g in self.gens if g not in on]
        if len(rest) == 1:
            return f"without_{rest[0]}"
        if len(on) == 1:
            return f"only_{on[0]}"
        return "on_" + "+".join(g for g in self.gens if g in on)

    def on(self, gens: list[str] | tuple[str, ...]) -> np.ndarray:
        """Probabilities of every candidate under the network trained on ``gens``."""
        key = self.name(gens)
        if key not in self._on:
            self._on[key] = scores_for(key, np.isin(self.gen, list(gens)), self.w, self.mask,
                                       self.y, self.gen, self.epochs, self.seed)
        return self._on[key]

    @property
    def pair(self) -> dict[str, np.ndarray]:
        """Per generator ``g``: the scores of the network trained on every other generator."""
        return {g: self.on([h for h in self.gens if h != g]) for g in self.gens}

    def fold(self, held: str) -> np.ndarray:
        """Log-odds for the fold that holds ``held`` out: the held-out candidates scored by the
        network trained on every other generator, each training generator's by the network
        trained on the remaining training generators only."""
        train = [g for g in self.gens if g != held]
        out = self.on(train)
        for g in train:
            out = np.where(self.gen == g, self.on([h for h in train if h != g]), out)
        return _logit(out)

    def all_out(self) -> np.ndarray:
        """Log-odds for a fit on every generator: each candidate scored by the network trained
        on the generators other than its own."""
        pair = self.pair
        return _logit(np.select([self.gen == g for g in self.gens],
                                [pair[g] for g in self.gens]))

    def net(self, name: str, rows: np.ndarray):
        """The network trained on ``rows`` (cached by name)."""
        return net_for(name, rows, self.w, self.mask, self.y, self.gen, self.epochs, self.seed)

    def logit(self, name: str, rows: np.ndarray, w: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Log-odds of other windows (the real recordings') under the network trained on
        ``rows``."""
        return _logit(score(self.net(name, rows), w, mask))



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


def real_windows(jobs: int) -> tuple[pd.DataFrame, float, np.ndarray, np.ndarray]:
    """The candidate table of the real recordings (``data.load_real``), its hours, and the
    windows and electrode masks of its rows (extracted once)."""
    files = data.real_files()
    if files:
        with data.pool(jobs, 8) as workers:
            workers.map(extract_real, files, chunksize=1)
    real, hours = data.load_real()
    rw, rmask = load_real_windows(real)
    return real, hours, rw, rmask


def real_table(c, truth, recs, ws: WindowScores, jobs: int) -> pd.DataFrame:
    """False detections on the real recordings (none holds a spasm) of the
    measurements alone and with the window score, each fitted on every generator (the stacked
    model's training candidates scored by the network without their generator, the real ones
    by the network trained on all of them)."""
    from hypsa.spasm_score import RELATIVE

    real, hours, rw, rmask = real_windows(jobs)
    cw = c.assign(window=ws.all_out())
    real = real.assign(window=ws.logit("all", np.ones(len(c), bool), rw, rmask))
    out = []
    for name, feats in (("measurements alone", list(RELATIVE)),
                        ("with the window score", list(RELATIVE) + ["window"])):
        m = M.fit(cw, truth, recs, features=feats)
        rc = real.assign(confidence=M.predict(m, real))
        for th in sorted({m["threshold"], 0.8, 0.85, 0.9}):
            sp, _ = M.detections(rc, th)
            out.append({"model (every generator)": name, "threshold": th,
                        "chosen": "yes" if th == m["threshold"] else "",
                        "real FD": len(sp), "real hours": round(hours, 2),
                        "real FD/h": round(len(sp) / hours, 2) if hours else None})
    return pd.DataFrame(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=144, help="recordings per generator")
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0, help="the networks' seed (0: the table's)")
    ap.add_argument("--real", action="store_true",
                    help="also the real recordings of ../shared/data/real, scored by models "
                         "fitted on every generator")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    from hypsa.spasm_score import RELATIVE

    specs = run.specs(args.n, run.available())
    data.run_all(specs, args.jobs, real=False)
    c, truth, recs = data.load(specs)
    ws = WindowScores.build(c, specs, args.jobs, args.epochs, args.seed)
    gen, pair = ws.gen, ws.pair
    rows, real_rows = [], None
    if args.real:
        real_rows = real_table(c, truth, recs, ws, args.jobs)
    for held in ws.gens:
        cw = c.assign(window=ws.fold(held))
        tr = cw[cw.generator != held].reset_index(drop=True)
        rtr = recs[recs.generator != held]
        ttr = truth[truth.recording.isin(rtr.recording)]
        te = cw[cw.generator == held].reset_index(drop=True)
        rte = recs[recs.generator == held]
        for name, feats in (("measurements alone", list(RELATIVE)),
                            ("with the window score", list(RELATIVE) + ["window"]),
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
    df = pd.DataFrame(rows)
    if real_rows is not None:
        print("## Real recordings (no spasm), models fitted on every generator\n")
        print(real_rows.to_markdown(index=False))
        print()
    print("## Held out, at each fold's chosen threshold\n")
    print(df[df.chosen == "yes"].drop(columns="chosen").to_markdown(index=False))
    print("\n## Along the threshold grid\n")
    print(df.drop(columns="chosen").to_markdown(index=False))


if __name__ == "__main__":
    main()
