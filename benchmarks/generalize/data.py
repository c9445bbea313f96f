"""Recordings of the generators, and the spasm candidates measured on each (cached).

Four mutually independent generators of infant EEG with known spasms take part, each through an
adapter that writes one normalised truth table and one record per recording:

* ``simulate``: :mod:`hypsa.simulate` (every hypsarrhythmia form, the hard-negative backgrounds);
* ``crosscheck``: ``benchmarks/crosscheck/gen.py`` (spasms and hypsarrhythmia drawn on the real
  children's EEG of ``../shared/data/real``);
* ``independent``: ``benchmarks/generalize/independent.py``, written from the clinical
  description only, used solely through its ``generate()`` interface;
* ``fourth``: ``benchmarks/generalize/fourth.py``, also written from the clinical description
  only, without the detector's code or the other generators', on another principle (cortical
  sources projected to the scalp; real children's EEG with the patterns injected), with the
  same file interface as the third.

A fifth, ``benchmarks/generalize/fifth.py`` (coupled neural masses through a smooth lead field),
and a sixth, ``benchmarks/generalize/sixth.py`` (a multivariate autoregressive model fitted to
real EEG, its poles moved and its regimes switched, with waveform atoms), both with the same file
interface, are held out from everything (:data:`HELD_OUT`): no fit and no choice reads them;
``shipped.py`` reads them with the shipped analysis, as a user's recording would be.

Truth per spasm: ``onset``, ``duration``, ``cluster``, ``form`` (``complete``: a wave and a
decrement; ``wave_only``; ``decrement_only``) and ``movement`` (a movement burst recorded with
it). Everything lands under ``benchmarks/_work/generalize`` (git-ignored); the candidate tables
are keyed on :data:`hypsa.spasms.FEATURE_VERSION`, so a change of the measurements re-measures
and a change of the decision does not.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import sys
import warnings
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
#: where recordings and candidate tables are cached (``HYPSA_GENERALIZE_WORK`` overrides)
WORK = Path(os.environ.get("HYPSA_GENERALIZE_WORK") or
            ROOT / "benchmarks" / "_work" / "generalize")
REAL = ROOT.parent / "shared" / "data" / "real"
GENERATORS = ("simulate", "crosscheck", "independent", "fourth")
#: generators kept out of every fit and every choice: read only by ``shipped.py``, as a user's
#: recording would be
HELD_OUT = ("fifth", "sixth")
#: generators writing the file interface of ``independent.py`` (events, truth.json)
FILE_GENERATORS = ("independent", "fourth", "fifth", "sixth")
sys.path.insert(0, str(ROOT / "benchmarks" / "crosscheck"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: hypsa.simulate backgrounds: (hypsarrhythmia, variant, background)
SIM_CASES = [
    ("classic", None, "normal"), ("modified", "attenuation", "normal"),
    ("modified", "asymmetry", "normal"), ("modified", "focus", "normal"),
    ("modified", "synchronous", "normal"), ("modified", "slow", "normal"),
    ("modified", "fragmented", "normal"), ("classic", None, "normal"),
    ("none", None, "normal"), ("none", None, "sleep_slow"), ("none", None, "single_focus"),
    ("none", None, "burst_suppression"),
]
CC_FORMS = ["classic", "synchronous", "asymmetric", "focus", "attenuation", "slow",
            "background", "sleep_slow", "single_focus"]


@dataclass(frozen=True)
class Spec:
    """One recording of the bench."""

    generator: str
    rid: str
    background: str
    seed: int
    emg: bool
    minutes: float
    spasms: bool = True
    gain: float = 1.0

    @property
    def folder(self) -> Path:
        return WORK / "recordings" / self.generator / self.rid


def plan(generator: str, n: int, seed0: int, minutes: float = 10.0) -> list[Spec]:
    """``n`` recordings of one generator: backgrounds in turn, movement channel on every other
    one, spasms on every hypsarrhythmic recording and on two of three others."""
    out = []
    if generator == "simulate":
        cases = [f"{f}/{v or b}" for f, v, b in SIM_CASES]
    elif generator == "crosscheck":
        cases = CC_FORMS
    else:
        cases = list(importlib.import_module(generator).BACKGROUNDS)  # the generator's own list
    for i in range(n):
        bg = cases[i % len(cases)]
        seed = seed0 + i
        emg = (i // len(cases) + i % len(cases)) % 2 == 1  # each background both ways
        out.append(Spec(generator, f"{seed}_{minutes:g}m", bg, seed, emg, minutes,
                        spasms=True if i % 3 else _hyps_name(generator, bg) or i % 2 == 0))
    return out


def _hyps_name(generator: str, bg: str) -> bool:
    if generator == "simulate":
        return not bg.startswith("none")
    if generator == "crosscheck":
        return bg in CC_FORMS[:6]
    return False  # the third generator says so in its truth.json


# ------------------------------------------------------------------ adapters
def _build_simulate(s: Spec):
    from hypsa.simulate import simulate

    form, var = s.background.split("/")
    variant = var if form == "modified" else None
    bg = var if form == "none" else "normal"
    # wide drawing: wave 0.8-4x the local background, any field/polarity, 0.5-6 s decrement to
    # 0.1-0.6, and the incomplete forms (events["form"]); see hypsa.simulate.spasms
    sim = simulate(s.minutes * 60, hypsarrhythmia=form, variant=variant, background=bg,
                   n_clusters=2 if s.spasms else 0, emg=s.emg, seed=s.seed,
                   spasm_variety="wide")
    ev = sim.events
    truth = pd.DataFrame({"onset": ev["onset"], "duration": ev["duration"],
                          "cluster": ev["cluster"],
                          "form": ev["form"] if "form" in ev else "complete",
                          "movement": ev["has_emg"].astype(bool) if "has_emg" in ev
                          else s.emg,
                          "plain": _plain_simulate(ev),
                          "wave_ratio": ev["wave_ratio"] if "wave_ratio" in ev else np.nan})
    meta = {"hyps": form != "none", "hours": s.minutes / 60}
    return sim.to_recording(), truth, meta


#: A spasm whose pattern is plain to the eye: a wave of at least 1.7 times the local background
#: over a generalized or vertex field, then a decrement to 45 % or less lasting 1 s or more
#: (the spasms of the clinical descriptions; the wide ranges reach far fainter ones).
PLAIN = {"wave_ratio": 1.7, "residual": 0.45, "decrement_s": 1.0,
         "fields": ("generalized", "vertex")}


def _plain_simulate(ev: pd.DataFrame) -> np.ndarray:
    if not len(ev) or "wave_ratio" not in ev:
        return np.zeros(len(ev), dtype=bool)
    return ((ev["form"] == "complete") & (ev["wave_ratio"] >= PLAIN["wave_ratio"])
            & (ev["decrement_gain"] <= PLAIN["residual"])
            & (ev["decrement_duration"] >= PLAIN["decrement_s"])
            & ev["field"].isin(PLAIN["fields"])).to_numpy(bool)


def _plain_independent(ev: pd.DataFrame) -> np.ndarray:
    if not len(ev):
        return np.zeros(0, dtype=bool)
    num = {k: pd.to_numeric(ev[k], errors="coerce") for k in
           ("wave_ratio", "decrement_depth", "decrement_s")}
    return ((ev["trial_type"] == "spasm") & (num["wave_ratio"] >= PLAIN["wave_ratio"])
            & (num["decrement_depth"] <= PLAIN["residual"])
            & (num["decrement_s"] >= PLAIN["decrement_s"])
            & ev["field"].isin(PLAIN["fields"])).to_numpy(bool)


def _cc_wave_ratio(edf: str | Path, t: pd.DataFrame) -> np.ndarray:
    """Each cross-check spasm's wave against its local background, measured as the two other
    generators draw it: the wave's peak-to-peak at the electrode of its maximal field (from the
    generator's own amplitude and shape) over the median across channels of the 5-95th
    percentile range of the 0.5-30 Hz EEG in the 10 s before its onset (other spasms left out).
    NaN for a spasm without a wave."""
    import gen
    from scipy.signal import butter, sosfiltfilt

    from hypsa.io import read

    out = np.full(len(t), np.nan)
    if not len(t):
        return out
    rec = read(edf)
    fs = rec.sfreq
    x = rec.get_data("eeg")
    if np.abs(x).max() < 1.0:  # volts
        x = x * 1e6
    x = sosfiltfilt(butter(4, [0.5, 30.0], "bandpass", fs=fs, output="sos"), x, axis=1)
    busy = np.zeros(x.shape[1], dtype=bool)
    for o, d in zip(t["onset"].astype(float), t["duration"].astype(float), strict=True):
        busy[max(0, int((o - 0.5) * fs)):int((o + d + 0.5) * fs)] = True
    for i, s in enumerate(t.itertuples()):
        if str(s.slow) not in ("True", "true", "1"):
            continue
        a = int(float(s.onset) * fs)
        idx = np.arange(max(0, a - int(10 * fs)), a)
        quiet = idx[~busy[idx]]
        idx = quiet if quiet.size >= fs else idx
        if idx.size < 2:
            continue
        seg = x[:, idx]
        ref = float(np.median(np.percentile(seg, 95, axis=1) - np.percentile(seg, 5, axis=1)))
        pp = float(s.slow_amp) * float(np.ptp(gen.slow_wave_shape(str(s.slow_shape), 512)))
        out[i] = pp / ref if ref > 0 else np.nan
    return out


@functools.lru_cache(maxsize=8)
def _cc_wave_ratio_file(tsv: str) -> tuple[float, ...]:
    """:func:`_cc_wave_ratio` of one cross-check recording, from its ``.spasms.tsv``."""
    return tuple(_cc_wave_ratio(tsv.replace(".spasms.tsv", ".edf"), pd.read_csv(tsv, sep="\t")))


def _plain_crosscheck(t: pd.DataFrame, edf: str | Path,
                      ratio: np.ndarray | None = None) -> np.ndarray:
    """Plain cross-check spasms: the wave (measured as the two other generators draw it, see
    :func:`_cc_wave_ratio`), the decrement of :data:`PLAIN`, and a midline or central field
    centre (the generator's fields are vertex-centred or a broad field around a random
    centre)."""
    if not len(t):
        return np.zeros(0, dtype=bool)
    yes = {"True", "true", "1", True}
    depth = pd.to_numeric(t["dec_depth"], errors="coerce")
    dur = pd.to_numeric(t["dec_dur"], errors="coerce")
    ratio = _cc_wave_ratio(edf, t) if ratio is None else ratio
    return (t["slow"].isin(yes) & t["decrement"].isin(yes) & (depth <= PLAIN["residual"])
            & (dur >= PLAIN["decrement_s"]) & (np.nan_to_num(ratio) >= PLAIN["wave_ratio"])
            & t["slow_centre"].isin(["Cz", "Fz", "Pz", "C3", "C4"])).to_numpy(bool)


def _cc_truth_file(s: Spec, t: pd.DataFrame) -> str | None:
    """A cross-check recording's own spasm table, when it lists the rows of ``t``."""
    if s.generator != "crosscheck":
        return None
    f = sorted(s.folder.glob("*.spasms.tsv"))
    if f and len(pd.read_csv(f[0], sep="\t", usecols=["onset"])) == len(t):
        return str(f[0])
    return None


def _ind_spasm_rows(s: Spec, t: pd.DataFrame) -> pd.DataFrame | None:
    """A file generator's own rows of the spasms in ``t`` (its events file), when they match
    them one to one."""
    if s.generator not in FILE_GENERATORS:
        return None
    f = sorted(s.folder.glob("*_events.tsv"))
    if not f:
        return None
    ev = pd.read_csv(f[0], sep="\t")
    ev = ev[ev["trial_type"].astype(str).str.startswith("spasm")]
    return ev if len(ev) == len(t) else None


def plain_of(s: Spec, t: pd.DataFrame) -> np.ndarray | None:
    """The ``plain`` flag of each truth row, from the generator's own files (None when they
    do not say)."""
    tsv = _cc_truth_file(s, t)
    if tsv is not None:  # measured on the recording (not the flag stored at build time)
        return _plain_crosscheck(pd.read_csv(tsv, sep="\t"), tsv.replace(".spasms.tsv", ".edf"),
                                 np.array(_cc_wave_ratio_file(tsv)))
    if "plain" in t:
        return t["plain"].astype(bool).to_numpy()
    ev = _ind_spasm_rows(s, t)
    return _plain_independent(ev) if ev is not None else None


def wave_ratio_of(s: Spec, t: pd.DataFrame) -> np.ndarray:
    """Each truth row's wave against its local background as the generator drew it (NaN where
    a generator's files do not say, and for spasms without a wave): ``hypsa.simulate`` and the
    independent generator write it; the cross-check generator's is measured on its recording
    (:func:`_cc_wave_ratio`)."""
    out = np.full(len(t), np.nan)
    tsv = _cc_truth_file(s, t)
    if tsv is not None:
        out = np.array(_cc_wave_ratio_file(tsv))
    elif s.generator in FILE_GENERATORS:
        ev = _ind_spasm_rows(s, t)
        if ev is not None and "wave_ratio" in ev:
            out = pd.to_numeric(ev["wave_ratio"], errors="coerce").to_numpy(float)
    elif "wave_ratio" in t:
        out = pd.to_numeric(t["wave_ratio"], errors="coerce").to_numpy(float)
    return np.where(out > 0, out, np.nan)


def _build_crosscheck(s: Spec):
    import gen

    P = dict(gen.PARAMS, p_emg_at_256=1.0 if s.emg else 0.0)
    out = s.folder
    out.mkdir(parents=True, exist_ok=True)
    tr = gen.make_recording(s.seed, s.background, str(out), duration_s=s.minutes * 60,
                            spasms=s.spasms, fs=256.0 if s.emg else None, P=P)
    edf = out / f"{tr.stem}.edf"
    t = pd.read_csv(out / f"{tr.stem}.spasms.tsv", sep="\t")
    yes = {"True", "true", "1", True}
    slow = t["slow"].isin(yes).to_numpy() if len(t) else np.zeros(0, bool)
    dec = t["decrement"].isin(yes).to_numpy() if len(t) else np.zeros(0, bool)
    truth = pd.DataFrame({"onset": t["onset"] if len(t) else [],
                          "duration": t["duration"] if len(t) else [],
                          "cluster": t["cluster"] if len(t) else [],
                          "form": np.where(slow & dec, "complete",
                                           np.where(slow, "wave_only", "decrement_only")),
                          "movement": (t["emg"].isin(yes).to_numpy() if len(t)
                                       else np.zeros(0, bool)) & bool(tr.emg),
                          "plain": _plain_crosscheck(t, edf)})
    meta = {"hyps": bool(tr.hyps_present), "hours": float(tr.duration_s) / 3600}
    return str(edf), truth, meta


def _moved(ev: pd.DataFrame, emg: bool) -> np.ndarray:
    """Whether each spasm of an events table moved on the recorded EMG: its ``emg`` column (an
    EMG burst was drawn), and only when the recording has an EMG channel."""
    if not emg:
        return np.zeros(len(ev), dtype=bool)
    if "emg" not in ev:
        return np.ones(len(ev), dtype=bool)
    return ev["emg"].astype(str).str.lower().isin({"true", "1"}).to_numpy()


def _build_from_files(s: Spec):
    """A recording of a generator with ``independent.py``'s file interface (its own module)."""
    gen = importlib.import_module(s.generator)
    out = s.folder
    out.mkdir(parents=True, exist_ok=True)
    case = gen.generate(out, seed=s.seed, background=s.background, minutes=s.minutes,
                        emg=s.emg, spasms=s.spasms, gain=s.gain)
    ev = pd.read_csv(case.events, sep="\t")
    info = json.loads(Path(case.truth).read_text())
    ev = ev[ev["trial_type"].astype(str).str.startswith("spasm")] if len(ev) else ev
    forms = {"spasm": "complete", "spasm_wave_only": "wave_only",
             "spasm_decrement_only": "decrement_only"}
    truth = pd.DataFrame({"onset": ev["onset"].astype(float), "duration": ev["duration"],
                          "cluster": ev["cluster"] if "cluster" in ev else 0,
                          "form": ev["trial_type"].map(forms).fillna("complete"),
                          "movement": _moved(ev, s.emg), "plain": _plain_independent(ev)})
    meta = {"hyps": bool(info.get("hypsarrhythmic")), "hours": s.minutes / 60}
    return str(case.edf), truth, meta


BUILDERS = {"simulate": _build_simulate, "crosscheck": _build_crosscheck,
            **{g: _build_from_files for g in FILE_GENERATORS}}


# ------------------------------------------------------------------ extraction
def measure_only(eeg, sfreq, *, emg_env=None, excluded=None, core=None, params=None,
                 bands=None, candidates=False, ch_names=None, on_frames=None,
                 with_candidates=False):
    """Stand-in for :func:`hypsa.spasms.detect_spasms` in :func:`hypsa.analyze`: every candidate
    with its measurements, no decision (the decision is what the bench fits and tests).
    ``on_frames(fm, c)``, when given, sees the frame curves and the candidates returned. (The
    candidates come back as the window's events, so ``with_candidates`` asks for nothing
    more: no recording-level reading follows.)"""
    from hypsa.spasms import SpasmParams, find_candidates, frame_measures, measure_candidates

    params = params or SpasmParams()
    if eeg.shape[1] < 20 * sfreq or eeg.shape[0] < 3:
        return pd.DataFrame({"onset": [], "duration": []})
    fm = frame_measures(eeg, sfreq, params, bands=bands, emg_env=emg_env)
    frames, orphan = find_candidates(fm, params)
    c = measure_candidates(fm, frames, params, orphan_rate=orphan, excluded=excluded,
                           ch_names=ch_names)
    if core is not None and len(c):
        c = c[(c["onset"] >= core[0]) & (c["onset"] < core[1])].reset_index(drop=True)
    if on_frames is not None:
        on_frames(fm, c)
    return c


@contextmanager
def spasm_detector_replaced(standin):
    """:mod:`hypsa.analysis` with its spasm detector replaced by ``standin`` (restored on exit),
    so that a recording is read, conditioned and windowed exactly as ``hypsa analyze`` does."""
    import hypsa.analysis as an

    orig = an.detect_spasms
    an.detect_spasms = standin
    try:
        yield an
    finally:
        an.detect_spasms = orig


def candidates_of(source) -> pd.DataFrame:
    """Every spasm candidate of one recording, analysed as ``hypsa analyze`` does."""
    warnings.simplefilter("ignore")
    with spasm_detector_replaced(measure_only) as an:
        a = an.analyze(source)
    ev = a.events
    ev = ev.drop(columns=[k for k in ("channels", "eventType", "cluster") if k in ev])
    return ev.assign(hours=float(a.summary_["recorded_s"]) / 3600)


def cand_path(s: Spec) -> Path:
    from hypsa.spasms import FEATURE_VERSION

    return WORK / f"candidates_v{FEATURE_VERSION}" / s.generator / f"{s.rid}.parquet"


def build(s: Spec):
    """One recording (built once, then read from its folder): what :func:`hypsa.analyze` reads
    (an EDF path, or ``hypsa.simulate``'s recording), with ``truth.tsv`` and ``meta.json``
    written beside it."""
    s.folder.mkdir(parents=True, exist_ok=True)
    tp, mp = s.folder / "truth.tsv", s.folder / "meta.json"
    src_file = s.folder / "source.txt"
    if s.generator != "simulate" and tp.is_file() and mp.is_file() and src_file.is_file():
        return src_file.read_text()
    source, truth, meta = BUILDERS[s.generator](s)
    truth.to_csv(tp, sep="\t", index=False)
    mp.write_text(json.dumps({**asdict(s), **meta}))
    if isinstance(source, str):
        src_file.write_text(source)
    return source


def process(s: Spec) -> str:
    """Build (if needed) and measure one recording; returns its cache path."""
    cp = cand_path(s)
    if cp.is_file():
        return str(cp)
    c = candidates_of(build(s))
    cp.parent.mkdir(parents=True, exist_ok=True)
    c.to_parquet(cp)
    return str(cp)


def process_real(path: str) -> str:
    """Candidates of one real recording (no spasms)."""
    from hypsa.spasms import FEATURE_VERSION

    cp = WORK / f"candidates_v{FEATURE_VERSION}" / "real" / (
        Path(path).relative_to(REAL).as_posix().replace("/", "__") + ".parquet")
    if not cp.is_file():
        from hypsa.errors import HypsaError

        cp.parent.mkdir(parents=True, exist_ok=True)
        try:
            c = candidates_of(path)
        except HypsaError as exc:  # a file hypsa refuses (its message) takes no part
            cp.with_suffix(".skipped").write_text(str(exc))
            return str(cp)
        cp.with_suffix(".json").write_text(json.dumps({"hours": float(c["hours"].iat[0])
                                                       if len(c) else _hours(path)}))
        c.to_parquet(cp)
    return str(cp)


def _hours(path: str) -> float:
    from hypsa.io import read

    return float(read(path).recorded_s) / 3600


def real_files() -> list[str]:
    if not REAL.is_dir():
        return []
    return [str(f) for f in sorted(REAL.rglob("*")) if f.suffix.lower() in (".edf", ".bdf")]


def pool(jobs: int, maxtasksperchild: int):
    """A pool of ``jobs`` worker processes, each a fresh interpreter ("spawn"): a forked worker
    inherits the parent's OpenMP state and can hang in LightGBM's model loading (seen with a
    fresh cache on 2026-12-02)."""
    import multiprocessing

    return multiprocessing.get_context("spawn").Pool(jobs, maxtasksperchild=maxtasksperchild)


def run_all(specs: list[Spec], jobs: int, real: bool = True) -> None:
    """Build and measure every recording (and the real ones), ``jobs`` processes."""
    from hypsa.spasms import FEATURE_VERSION

    todo = [s for s in specs if not cand_path(s).is_file()]
    done = WORK / f"candidates_v{FEATURE_VERSION}" / "real"
    rf = [f for f in (real_files() if real else [])
          if not (done / (Path(f).relative_to(REAL).as_posix().replace("/", "__")
                          + ".json")).is_file()
          and not (done / (Path(f).relative_to(REAL).as_posix().replace("/", "__")
                           + ".skipped")).is_file()]
    if jobs > 1 and len(todo) + len(rf) > 1:
        with pool(jobs, 8) as workers:
            workers.map(process, todo, chunksize=1)
            workers.map(process_real, rf, chunksize=1)
    else:
        for s in todo:
            process(s)
        for f in rf:
            process_real(f)


@functools.lru_cache(maxsize=1)
def _empty_truth() -> pd.DataFrame:
    return pd.DataFrame({"onset": np.zeros(0), "duration": np.zeros(0), "cluster": [],
                         "form": [], "movement": [], "plain": []})


def load(specs: list[Spec]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Candidates (labelled ``y``: 1 within 1 s of a spasm the detector must find, 0 beyond 3 s
    of every spasm, -1 between or near a spasm it need not find), truth and recordings."""
    cands, truths, recs = [], [], []
    for s in specs:
        t, rec = truth_of(s)
        truths.append(t)
        recs.append(rec)
        c = pd.read_parquet(cand_path(s))
        if len(c):
            cands.append(label(c, t, s.emg).assign(recording=rec["recording"],
                                                   generator=s.generator, hyps=rec["hyps"],
                                                   emg=s.emg))
    return (pd.concat(cands, ignore_index=True), pd.concat(truths, ignore_index=True),
            pd.DataFrame(recs))


def truth_of(s: Spec) -> tuple[pd.DataFrame, dict]:
    """A built recording's truth (every spasm, with ``plain`` and ``wave_ratio``) and its row of
    the recordings table."""
    meta = json.loads((s.folder / "meta.json").read_text())
    t = pd.read_csv(s.folder / "truth.tsv", sep="\t")
    if not len(t):
        t = _empty_truth()
    rec = f"{s.generator}/{s.rid}"
    row = {"recording": rec, "generator": s.generator, "background": s.background,
           "hyps": bool(meta["hyps"]), "emg": s.emg, "hours": meta["hours"],
           "n_clusters_true": _true_clusters(t, s.generator)}
    plain = plain_of(s, t)
    t = t.assign(recording=rec, hyps=bool(meta["hyps"]), emg=s.emg,
                 plain=plain if plain is not None else np.nan, wave_ratio=wave_ratio_of(s, t))
    return t, row


def _true_clusters(t: pd.DataFrame, generator: str, min_size: int = 2) -> int:
    """The truth's number of clusters of ``min_size`` or more spasms. The independent and the
    fourth generator number their clusters from 1 and mark an isolated spasm with cluster 0
    (their READMEs), so that 0 is no cluster there; the two others number clusters from 0."""
    if not len(t):
        return 0
    if generator in FILE_GENERATORS:
        t = t[t["cluster"] > 0]
    return int((t.groupby("cluster").size() >= min_size).sum())


def label(c: pd.DataFrame, t: pd.DataFrame, emg: bool) -> pd.DataFrame:
    """``y`` of each candidate (see :func:`load`): the spasms to find are the complete ones, and
    with a movement channel every one that moved (1 within 1 s). A candidate beyond 3 s of every
    spasm is a mimic (0), and so is one within 1 s of an incomplete spasm that is not to be
    found (a wave without decrement or a decrement without wave, and no movement recorded with
    it) and beyond 3 s of every spasm to find: such an event is an ``eeg_decrement`` at most,
    never a spasm. The rest is left out (-1)."""
    on = c["onset"].to_numpy(float)
    if not len(t):
        return c.assign(y=0)
    ton = t["onset"].to_numpy(float)
    target = (t["form"] == "complete").to_numpy() | (t["movement"].astype(bool).to_numpy() & emg)
    d = np.abs(on[:, None] - ton[None, :])
    d_all = d.min(axis=1)
    d_tgt = d[:, target].min(axis=1) if target.any() else np.full(len(c), np.inf)
    d_not = d[:, ~target].min(axis=1) if (~target).any() else np.full(len(c), np.inf)
    y = np.where(d_tgt <= 1.0, 1, np.where((d_all > 3.0) | ((d_not <= 1.0) & (d_tgt > 3.0)), 0,
                                           -1))
    return c.assign(y=y)


def load_real() -> tuple[pd.DataFrame, float]:
    """Candidates of the real recordings, and their total hours (those with no candidate
    included)."""
    from hypsa.spasms import FEATURE_VERSION

    d = WORK / f"candidates_v{FEATURE_VERSION}" / "real"
    parts, hours = [], 0.0
    for f in sorted(d.glob("*.parquet")) if d.is_dir() else []:
        if not f.with_suffix(".json").is_file():
            continue
        h = json.loads(f.with_suffix(".json").read_text())["hours"]
        hours += h
        c = pd.read_parquet(f)
        if len(c):
            parts.append(c.assign(recording=f"real/{f.stem}", hours=h))
    return (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()), hours
