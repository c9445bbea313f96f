"""Simulated readers: a reader study with a known truth.

Each simulated reader has a documented error profile (:class:`ReaderProfile`):

* ``miss_rate`` — probability that a true spasm is not marked;
* ``false_per_hour`` — spurious marks per hour (Poisson), placed uniformly in the recording;
* ``jitter_s`` — standard deviation (s) of the onset error of a marked spasm (Gaussian);
* ``grade_bias``, ``grade_sd`` — the reader's BASED grade is the true grade plus
  ``grade_bias`` plus Gaussian noise of ``grade_sd``, rounded and clipped to 0-5; the
  reader calls hypsarrhythmia when the own grade is 4 or 5.

:func:`random_truth` draws recordings with true grades and spasm clusters (no EEG: for the
statistics), :func:`truth_from_simulations` takes them from :func:`hypsa.simulate.simulate`
recordings (for the whole loop with hypsa's analysis), and :func:`simulate_study` lets the
readers score them. The population value of every agreement measure follows from the profiles
(:func:`population_kappa` by a large simulation), so the study's estimate and its interval can
be compared with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hypsa.errors import ParameterError
from hypsa.study.agreement import PRESENT_FROM, Study

__all__ = ["ReaderProfile", "TruthRecording", "random_truth", "truth_from_simulations",
           "simulate_study", "reader_grades", "population_kappa", "simulated_site"]


@dataclass(frozen=True)
class ReaderProfile:
    """The error profile of a simulated reader (see the module docstring)."""

    name: str
    miss_rate: float = 0.1
    false_per_hour: float = 2.0
    jitter_s: float = 0.3
    grade_bias: float = 0.0
    grade_sd: float = 0.6

    def __post_init__(self) -> None:
        if not 0.0 <= self.miss_rate <= 1.0:
            raise ParameterError(f"miss_rate must be 0-1, got {self.miss_rate:g}")
        if self.false_per_hour < 0 or self.jitter_s < 0 or self.grade_sd < 0:
            raise ParameterError("false_per_hour, jitter_s and grade_sd must be >= 0")


@dataclass
class TruthRecording:
    """One recording's truth: duration (s), BASED grade, spasms (``onset``, ``duration``)."""

    recording: str
    duration_s: float
    grade: int
    events: pd.DataFrame
    patient: str = ""


def random_truth(n: int, seed: int = 0, duration_s: float = 3600.0,
                 grade_p: tuple[float, ...] = (0.1, 0.1, 0.15, 0.2, 0.2, 0.25),
                 clusters_mean: float = 2.0, spasms_per_cluster: tuple[int, int] = (3, 15),
                 ) -> list[TruthRecording]:
    """Recordings with a true grade and spasm clusters, without EEG.

    Parameters
    ----------
    n : int
        Recordings.
    seed : int
        Random seed.
    duration_s : float
        Duration of each.
    grade_p : tuple of 6 floats
        Probability of each grade 0-5.
    clusters_mean : float
        Mean number of clusters (Poisson) in a recording of grade 4-5 (half in others).
    spasms_per_cluster : (int, int)
        Range of spasms per cluster; spasms 5-15 s apart.

    Returns
    -------
    list of TruthRecording
    """
    rng = np.random.default_rng(seed)
    p = np.asarray(grade_p, dtype=float)
    out = []
    for i in range(n):
        g = int(rng.choice(6, p=p / p.sum()))
        k = rng.poisson(clusters_mean if g >= PRESENT_FROM else clusters_mean / 2)
        ons: list[float] = []
        for _ in range(k):
            t = rng.uniform(30, duration_s - 300)
            for _ in range(int(rng.integers(spasms_per_cluster[0], spasms_per_cluster[1] + 1))):
                ons.append(t)
                t += rng.uniform(5, 15)
        ons = sorted(o for o in ons if o < duration_s - 5)
        out.append(TruthRecording(f"rec{i:03d}", duration_s, g, pd.DataFrame(
            {"onset": ons, "duration": np.full(len(ons), 1.5)}), patient=f"p{i // 2:03d}"))
    return out


def truth_from_simulations(sims: dict[str, object], grades: dict[str, int]
                           ) -> list[TruthRecording]:
    """Truth from :func:`hypsa.simulate.simulate` recordings (their spasms).

    Parameters
    ----------
    sims : dict of str to Simulation
        Recording name -> simulation.
    grades : dict of str to int
        The true grade of each (the simulation's pattern: e.g. 5 for classic
        hypsarrhythmia, 0 for a normal background).
    """
    out = []
    for name, s in sims.items():
        ev = s.events  # type: ignore[attr-defined]
        out.append(TruthRecording(name, float(s.duration), int(grades[name]),  # type: ignore
                                  ev[["onset", "duration"]].astype(float)
                                  .reset_index(drop=True)))
    return out


def reader_grades(true: np.ndarray, profile: ReaderProfile,
                  rng: np.random.Generator) -> np.ndarray:
    """The grades a reader of ``profile`` gives to recordings of true grades ``true``."""
    g = np.asarray(true, dtype=float) + profile.grade_bias + \
        rng.normal(0.0, profile.grade_sd, np.shape(true))
    return np.clip(np.rint(g), 0, 5).astype(int)


def _marks(t: TruthRecording, p: ReaderProfile, rng: np.random.Generator) -> pd.DataFrame:
    ev = t.events
    keep = rng.random(len(ev)) >= p.miss_rate
    on = ev["onset"].to_numpy(float)[keep] + rng.normal(0, p.jitter_s, int(keep.sum()))
    du = ev["duration"].to_numpy(float)[keep]
    k = rng.poisson(p.false_per_hour * t.duration_s / 3600.0)
    on = np.r_[on, rng.uniform(0, t.duration_s - 2, k)]
    du = np.r_[du, np.full(k, 1.0)]
    on = np.clip(on, 0, t.duration_s - 0.5)
    o = np.argsort(on)
    return pd.DataFrame({"onset": on[o], "duration": du[o]})


def simulate_study(truth: list[TruthRecording], readers: list[ReaderProfile], seed: int = 0,
                   algorithm: Study | None = None) -> Study:
    """The study the simulated ``readers`` produce on ``truth``.

    Parameters
    ----------
    truth : list of TruthRecording
    readers : list of ReaderProfile
    seed : int
        Random seed.
    algorithm : Study, optional
        hypsa's scores and events on the same recordings (rater ``hypsa``), merged in.

    Returns
    -------
    Study
    """
    if len({r.name for r in readers}) != len(readers):
        raise ParameterError("simulated readers need distinct names")
    rng = np.random.default_rng(seed)
    scores, events = [], []
    true = np.array([t.grade for t in truth])
    for p in readers:
        g = reader_grades(true, p, rng)
        for t, gi in zip(truth, g, strict=True):
            scores.append({"recording": t.recording, "reader": p.name, "grade": float(gi),
                           "hypsarrhythmia": float(gi >= PRESENT_FROM), "comment": ""})
            m = _marks(t, p, rng)
            m.insert(0, "reader", p.name)
            m.insert(0, "recording", t.recording)
            events.append(m)
    sc = pd.DataFrame(scores)
    ev = pd.concat(events, ignore_index=True)
    alg = None
    if algorithm is not None:
        sc = pd.concat([sc, algorithm.scores], ignore_index=True)
        ev = pd.concat([ev, algorithm.events], ignore_index=True)
        alg = algorithm.algorithm or "hypsa"
    return Study(scores=sc, events=ev, durations={t.recording: t.duration_s for t in truth},
                 algorithm=alg, patients={t.recording: t.patient for t in truth if t.patient})


def population_kappa(a: ReaderProfile, b: ReaderProfile,
                     grade_p: tuple[float, ...] = (0.1, 0.1, 0.15, 0.2, 0.2, 0.25),
                     measure: str = "hypsarrhythmia", n: int = 400_000,
                     seed: int = 12345) -> float:
    """The population value of a kappa between two simulated readers (a very large sample).

    Parameters
    ----------
    a, b : ReaderProfile
    grade_p : tuple of 6 floats
        Distribution of the true grade (as in :func:`random_truth`).
    measure : {"hypsarrhythmia", "grade", "grade weighted"}
    n : int
        Sample size (the standard error is about 1/sqrt(n)).
    seed : int
        Random seed.

    Returns
    -------
    float
    """
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(seed)
    p = np.asarray(grade_p, dtype=float)
    true = rng.choice(6, size=n, p=p / p.sum())
    ga, gb = reader_grades(true, a, rng), reader_grades(true, b, rng)
    if measure == "hypsarrhythmia":
        return float(cohen_kappa_score(ga >= PRESENT_FROM, gb >= PRESENT_FROM))
    if measure == "grade":
        return float(cohen_kappa_score(ga, gb))
    if measure == "grade weighted":
        return float(cohen_kappa_score(ga, gb, weights="quadratic"))
    raise ParameterError(f"measure must be hypsarrhythmia, grade or grade weighted, not "
                         f"{measure!r}")


def simulated_site(n_patients: int = 10, per_patient: int = 2, seed: int = 0,
                   pos: tuple[float, float] = (4.0, 4.0), neg: tuple[float, float] = (1.0, 12.0),
                   fd_per_h: float = 25.0, noisy_patient: int | None = None,
                   hours: float = 1.0, found: float = 0.9) -> list:
    """Reviewed recordings of a simulated site, as candidate tables (no EEG), for checking a
    site calibration against a known truth.

    Each recording has 10-30 true spasms; a share ``found`` of them become candidates whose
    shipped confidence is drawn from Beta(*pos), and ``fd_per_h`` false candidates per hour
    from Beta(*neg) (a site where the shipped threshold misses spasms when ``pos`` lies below
    it). One ``noisy_patient`` may have six times as many false candidates, all scoring 0.45-0.75.

    Returns
    -------
    list of hypsa.study.calibrate.Reviewed
    """
    from hypsa.study.calibrate import Reviewed

    rng = np.random.default_rng(seed)
    out = []
    for p in range(n_patients):
        for k in range(per_patient):
            dur = hours * 3600
            t = np.sort(rng.uniform(60, dur - 60, int(rng.integers(10, 30))))
            t = t[np.r_[True, np.diff(t) > 5]]
            det = rng.random(len(t)) < found
            nf = rng.poisson(fd_per_h * hours * (6 if p == noisy_patient else 1))
            fo = rng.uniform(0, dur - 5, nf)
            fo = fo[np.min(np.abs(fo[:, None] - t[None, :]), axis=1) > 5]
            fneg = rng.uniform(0.45, 0.75, fo.size) if p == noisy_patient else \
                rng.beta(*neg, fo.size)
            cand = pd.DataFrame({
                "onset": np.r_[t[det] + rng.normal(0, 0.1, det.sum()), fo],
                "duration": 1.2,
                "confidence": np.r_[rng.beta(*pos, det.sum()), fneg],
                "slow_ratio": np.r_[rng.normal(3, 1, det.sum()), rng.normal(2, 1, fo.size)],
            }).sort_values("onset").reset_index(drop=True)
            out.append(Reviewed(f"p{p}r{k}", f"p{p}", dur, cand,
                                pd.DataFrame({"onset": t, "duration": 1.5})))
    return out
