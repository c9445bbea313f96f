"""Agreement between readers, and between hypsa and the readers, in a reader study.

A study is a set of recordings, each scored by several readers: the spasms as events, the BASED
grade (0-5) of the most abnormal epoch, hypsarrhythmia yes/no. hypsa's own output can join the
study as one more rater (``algorithm``), so that every measure below is computed for the
readers against each other and for hypsa against each reader and against the readers'
majority, in the same table: the question a clinician asks is whether hypsa falls within the
range of the colleagues.

Measures (every statistic from a maintained library, checked against it in the tests):

* hypsarrhythmia yes/no: Cohen's kappa per pair (scikit-learn), Fleiss' kappa across readers
  (statsmodels), Krippendorff's alpha (``krippendorff``, nominal);
* BASED grade: Cohen's kappa, quadratic-weighted kappa per pair (scikit-learn), Fleiss' kappa,
  Krippendorff's alpha (ordinal);
* each with a 95 % percentile bootstrap interval, resampling recordings (``n_boot``
  replicates): the recording, not the epoch or event, is the independent unit;
* spasms as events, per pair: sensitivity, precision and F1 of one rater's marks against the
  other's (:func:`hypsa.evaluate.score_events`, timescoring, the per-spasm level: 1 s tolerance,
  no merging), pooled over recordings, F1 with a bootstrap interval by recording;
* spasm counts per recording: the intraclass correlation ICC(A,1) (two-way, absolute
  agreement, single rater; pingouin, with its F-based 95 % interval), and Bland-Altman bias and
  limits of agreement per pair.

The readers' majority: hypsarrhythmia by vote (a tie is no majority, the recording left out),
the grade as the lower median, spasms as the marks of more than half of the readers within
the tolerance of one another (onset: their median).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hypsa.errors import InputError, ParameterError

__all__ = ["Study", "AgreementResult", "read_study", "write_study", "agreement",
           "label_stats", "event_agreement", "count_agreement", "consensus_events",
           "bootstrap_ci", "read_hypsa_outputs", "MAJORITY", "TOLERANCE_S"]

#: name of the readers' majority in the tables
MAJORITY = "majority"
#: onset tolerance (s) of the per-spasm level of :mod:`hypsa.evaluate`
TOLERANCE_S = 1.0
PRESENT_FROM = 4  # BASED 4-5: hypsarrhythmia


@dataclass
class Study:
    """The scores of a reader study.

    Attributes
    ----------
    scores : DataFrame
        One row per recording and rater: ``recording``, ``reader``, ``grade`` (0-5 or NaN),
        ``hypsarrhythmia`` (0/1 or NaN), ``comment``.
    events : DataFrame
        Spasms marked: ``recording``, ``reader``, ``onset``, ``duration`` (s).
    durations : dict of str to float
        Duration (s) of each recording.
    algorithm : str or None
        The rater that is hypsa (kept apart from the readers), if any.
    patients : dict of str to str
        Patient of each recording, where known.
    """

    scores: pd.DataFrame
    events: pd.DataFrame
    durations: dict[str, float]
    algorithm: str | None = None
    patients: dict[str, str] = field(default_factory=dict)

    @property
    def recordings(self) -> list[str]:
        """The recordings, sorted."""
        return sorted(self.durations)

    @property
    def readers(self) -> list[str]:
        """The human readers (every rater but the algorithm), sorted."""
        key = (id(self.scores), len(self.scores), id(self.events), len(self.events),
               self.algorithm)
        if getattr(self, "_rkey", None) != key:
            names = set(self.scores["reader"].unique()) | set(self.events["reader"].unique())
            self._readers = sorted(n for n in names if n != self.algorithm)
            self._rkey = key
        return list(self._readers)

    def label_matrix(self, column: str, raters: list[str]) -> np.ndarray:
        """``column`` as an array (n_recordings, n_raters), NaN where not scored."""
        piv = self.scores.pivot_table(index="recording", columns="reader", values=column,
                                      aggfunc="first")
        piv = piv.reindex(index=self.recordings, columns=raters)
        return piv.to_numpy(dtype=float)

    def events_of(self, rater: str, recording: str) -> pd.DataFrame:
        """The marks of one rater on one recording (``onset``, ``duration``)."""
        key = (len(self.events), id(self.events))
        if getattr(self, "_key", None) != key:
            self._groups = {k: g[["onset", "duration"]].sort_values("onset")
                            .reset_index(drop=True)
                            for k, g in self.events.groupby(["reader", "recording"])}
            self._key = key
        got = self._groups.get((rater, recording))
        return got if got is not None else pd.DataFrame({"onset": [], "duration": []})


@dataclass
class AgreementResult:
    """The tables of a study's agreement (each a DataFrame; see :func:`agreement`)."""

    labels: pd.DataFrame
    overall: pd.DataFrame
    events: pd.DataFrame
    counts: pd.DataFrame
    bland_altman: pd.DataFrame
    range_check: pd.DataFrame
    count_table: pd.DataFrame
    meta: dict

    def summary_lines(self) -> list[str]:
        """A few lines for the terminal: kappa ranges and where hypsa stands."""
        m = self.meta
        out = [f"{m['recordings']} recordings, readers {', '.join(m['readers'])}"
               + (f" + {m['algorithm']}" if m.get("algorithm") else "")]
        for meas, g in self.labels.groupby("measure", sort=False):
            rr = g[g["kind"] == "reader-reader"]["value"].dropna()
            if len(rr):
                out.append(f"  {meas}: readers {rr.min():.2f} to {rr.max():.2f}")
        for _, r in self.range_check.iterrows():
            out.append(f"  hypsa, {r['measure']}: {r['hypsa_vs_readers_median']:.2f} "
                       f"({r['hypsa']} the readers' range {r['readers_ci_low']:.2f} to "
                       f"{r['readers_ci_high']:.2f}, pair values and their intervals)")
        return out

    def to_json(self) -> dict:
        """All tables as plain JSON-ready lists of records."""
        def rec(df: pd.DataFrame) -> list[dict]:
            return json.loads(df.to_json(orient="records"))

        return {"meta": self.meta, "labels": rec(self.labels), "overall": rec(self.overall),
                "events": rec(self.events), "counts": rec(self.counts),
                "bland_altman": rec(self.bland_altman), "range_check": rec(self.range_check),
                "count_table": rec(self.count_table)}


# ---------------------------------------------------------------------------- reading
def is_spasm(trial_type) -> np.ndarray:
    """Which event types are spasms (hypsa's ``SPASM_TYPES``), not decrement-only events."""
    from hypsa import spasms

    tt = pd.Series(trial_type).astype(str)
    types = getattr(spasms, "SPASM_TYPES", None)
    return (tt.isin(types) if types else (tt != "eeg_decrement") & (tt != "bckg")).to_numpy()


def _read_table(path: Path, required: set[str]) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(path, "file not found (a study folder holds recordings.tsv, "
                               "scores.tsv and events.tsv)")
    try:
        df = pd.read_csv(path, sep="\t", dtype={"recording": str, "reader": str},
                         keep_default_na=True, na_values=["n/a"])
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not a tab-separated table ({exc})") from None
    missing = required - set(df.columns)
    if missing:
        raise InputError(path, f"lacks column(s) {sorted(missing)}")
    return df


def _yes_no(v: object) -> float:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return np.nan
    s = str(v).strip().lower()
    if s in ("1", "1.0", "yes", "y", "true", "present"):
        return 1.0
    if s in ("0", "0.0", "no", "n", "false", "absent"):
        return 0.0
    if s in ("", "nan", "n/a"):
        return np.nan
    raise ValueError(s)


def read_hypsa_outputs(folder: str | Path, recordings: list[str]) -> tuple[pd.DataFrame,
                                                                          pd.DataFrame]:
    """hypsa's output for the study's recordings, as one more rater named ``hypsa``.

    Parameters
    ----------
    folder : path
        A ``hypsa analyze --out`` folder: ``<recording>.summary.json`` and
        ``<recording>.events.tsv`` per recording.
    recordings : list of str
        The study's recordings (the stems hypsa wrote).

    Returns
    -------
    scores, events : DataFrame
    """
    from hypsa.export import read_events

    folder = Path(folder)
    rows, evs = [], []
    for r in recordings:
        sp = folder / f"{r}.summary.json"
        if not sp.is_file():
            continue
        try:
            s = json.loads(sp.read_text())
            h = s["hypsarrhythmia"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(sp, f"not a hypsa summary ({exc})") from None
        assessable = h.get("verdict") != "not_assessable" and h.get("based_score") is not None
        rows.append({"recording": r, "reader": "hypsa", "grade": h.get("based_score"),
                     "hypsarrhythmia": float(bool(h.get("present"))) if assessable else np.nan,
                     "comment": (s.get("spasms") or {}).get("model", {}).get("name", "")
                     if isinstance((s.get("spasms") or {}).get("model"), dict) else ""})
        ep = folder / f"{r}.events.tsv"
        if ep.is_file():
            e = read_events(ep)
            if "trial_type" in e:  # spasms only (not the decrement-only events)
                e = e[is_spasm(e["trial_type"])]
            evs.append(pd.DataFrame({"recording": r, "reader": "hypsa",
                                     "onset": e["onset"].astype(float),
                                     "duration": e["duration"].astype(float)}))
    ev = pd.concat(evs, ignore_index=True) if evs else pd.DataFrame(
        columns=["recording", "reader", "onset", "duration"])
    return pd.DataFrame(rows, columns=["recording", "reader", "grade", "hypsarrhythmia",
                                       "comment"]), ev


def read_study(folder: str | Path) -> Study:
    """Read a study folder.

    Layout: ``recordings.tsv`` (``recording``, ``duration_s``, optional ``patient``),
    ``scores.tsv`` (``recording``, ``reader``, ``grade``, ``hypsarrhythmia``, optional
    ``comment``), ``events.tsv`` (``recording``, ``reader``, ``onset``, ``duration``), and
    optionally ``hypsa/``, a ``hypsa analyze --out`` folder of the same recordings, which joins
    as the rater ``hypsa``. A study exported from the web app has this layout.

    Raises
    ------
    InputError
        A missing table or column, a recording not in ``recordings.tsv``, a grade outside
        0-5, a hypsarrhythmia answer other than yes/no.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "not a folder (a study folder holds recordings.tsv, "
                                 "scores.tsv and events.tsv)")
    rp, sp, ep = folder / "recordings.tsv", folder / "scores.tsv", folder / "events.tsv"
    recs = _read_table(rp, {"recording", "duration_s"})
    dur = pd.to_numeric(recs["duration_s"], errors="coerce")
    if dur.isna().any() or (dur <= 0).any():
        raise InputError(rp, "duration_s must be a positive number of seconds on every row")
    durations = dict(zip(recs["recording"].astype(str), dur.astype(float), strict=True))
    patients = dict(zip(recs["recording"].astype(str), recs["patient"].astype(str),
                        strict=True)) if "patient" in recs else {}
    scores = _read_table(sp, {"recording", "reader", "grade", "hypsarrhythmia"})
    events = _read_table(ep, {"recording", "reader", "onset", "duration"})
    for path, df in ((sp, scores), (ep, events)):
        unknown = sorted(set(df["recording"].astype(str)) - set(durations))
        if unknown:
            raise InputError(path, f"recording(s) not in recordings.tsv: {unknown[:5]}")
    g = pd.to_numeric(scores["grade"], errors="coerce")
    bad = scores["grade"].notna() & (g.isna() | ~g.isin(range(6)))
    if bad.any():
        raise InputError(sp, f"grade must be 0-5 or empty (row {int(np.flatnonzero(bad)[0]) + 2})")
    scores["grade"] = g
    try:
        scores["hypsarrhythmia"] = scores["hypsarrhythmia"].map(_yes_no).astype(float)
    except ValueError as exc:
        raise InputError(sp, f"hypsarrhythmia must be yes/no (or 1/0), not {exc}") from None
    if "comment" not in scores:
        scores["comment"] = ""
    for c in ("onset", "duration"):
        events[c] = pd.to_numeric(events[c], errors="coerce")
    if events[["onset", "duration"]].isna().any().any():
        raise InputError(ep, "onset and duration must be numbers (seconds)")
    algorithm = None
    hdir = folder / "hypsa"
    if hdir.is_dir():
        hs, he = read_hypsa_outputs(hdir, list(durations))
        if len(hs):
            scores = pd.concat([scores[scores["reader"] != "hypsa"], hs], ignore_index=True)
            events = pd.concat([events[events["reader"] != "hypsa"], he], ignore_index=True)
            algorithm = "hypsa"
    elif "hypsa" in set(scores["reader"]):
        algorithm = "hypsa"
    scores["recording"] = scores["recording"].astype(str)
    events["recording"] = events["recording"].astype(str)
    return Study(scores=scores, events=events, durations=durations, algorithm=algorithm,
                 patients=patients)


def write_study(study: Study, folder: str | Path) -> Path:
    """Write a study in the layout :func:`read_study` reads; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    recs = pd.DataFrame({"recording": study.recordings,
                         "duration_s": [study.durations[r] for r in study.recordings]})
    if study.patients:
        recs["patient"] = [study.patients.get(r, "") for r in study.recordings]
    recs.to_csv(folder / "recordings.tsv", sep="\t", index=False)
    sc = study.scores.copy()
    sc["hypsarrhythmia"] = sc["hypsarrhythmia"].map(
        lambda v: "n/a" if pd.isna(v) else ("yes" if v else "no"))
    sc["grade"] = sc["grade"].map(lambda v: "n/a" if pd.isna(v) else str(int(v)))
    sc.to_csv(folder / "scores.tsv", sep="\t", index=False)
    study.events[["recording", "reader", "onset", "duration"]].to_csv(
        folder / "events.tsv", sep="\t", index=False, float_format="%.3f")
    return folder


# ---------------------------------------------------------------------------- statistics
def bootstrap_ci(stat, n: int, n_boot: int = 1000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of ``stat(indices)`` over ``n`` resampled units.

    Parameters
    ----------
    stat : callable(ndarray of int) -> float
        The statistic on a resample (indices into the units, with repeats).
    n : int
        Number of units (recordings).
    n_boot : int
        Replicates.
    seed : int
        Random seed (the interval is reproducible).
    level : float
        Coverage.

    Returns
    -------
    (float, float)
        NaN when fewer than half of the replicates give a finite value.
    """
    if n < 2 or n_boot < 1:
        return (np.nan, np.nan)
    rng = np.random.default_rng(seed)
    vals = np.array([stat(rng.integers(0, n, n)) for _ in range(n_boot)], dtype=float)
    vals = vals[np.isfinite(vals)]
    if vals.size < n_boot / 2:
        return (np.nan, np.nan)
    a = (1 - level) / 2
    return (float(np.quantile(vals, a)), float(np.quantile(vals, 1 - a)))


def _kappa(a: np.ndarray, b: np.ndarray, weights: str | None = None, k: int = 6) -> float:
    """Cohen's kappa (scikit-learn) over the categories ``0..k-1`` (so that the weights of a
    weighted kappa follow the grades themselves, whichever grades the sample holds)."""
    from sklearn.metrics import cohen_kappa_score

    if a.size < 2 or (np.unique(a).size == 1 and np.unique(b).size == 1):
        return np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(cohen_kappa_score(a, b, labels=list(range(k)), weights=weights))


def kappa_replicates(a: np.ndarray, b: np.ndarray, idx: np.ndarray, weights: str | None = None,
                     k: int = 6) -> np.ndarray:
    """Cohen's kappa of many resamples at once: the formula of scikit-learn's
    ``cohen_kappa_score`` (with ``labels=range(k)``) on confusion matrices counted in one pass.

    Parameters
    ----------
    a, b : ndarray of int
        Ratings (0..k-1) of the two raters.
    idx : ndarray of int, shape (n_boot, n)
        Resampled indices.
    weights : {None, "linear", "quadratic"}
    k : int
        Number of categories.

    Returns
    -------
    ndarray, shape (n_boot,)
        NaN where both raters gave one and the same category throughout.
    """
    nb = idx.shape[0]
    codes = a[idx] * k + b[idx] + (np.arange(nb) * k * k)[:, None]
    cm = np.bincount(codes.ravel(), minlength=nb * k * k).reshape(nb, k, k).astype(float)
    n = cm.sum(axis=(1, 2))
    expected = cm.sum(axis=2)[:, :, None] * cm.sum(axis=1)[:, None, :] / n[:, None, None]
    i, j = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    w = (i != j).astype(float) if weights is None else (
        np.abs(i - j).astype(float) if weights == "linear" else (i - j).astype(float) ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        kap = 1.0 - (w * cm).sum(axis=(1, 2)) / (w * expected).sum(axis=(1, 2))
    single = (cm.reshape(nb, -1).max(axis=1) == n)
    kap[single] = np.nan
    return kap


def _kappa_ci(a: np.ndarray, b: np.ndarray, weights: str | None, k: int, n_boot: int,
              seed: int, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of Cohen's kappa, resampling recordings."""
    n = a.size
    if n < 2 or n_boot < 1:
        return (np.nan, np.nan)
    idx = np.random.default_rng(seed).integers(0, n, (n_boot, n))
    vals = kappa_replicates(a, b, idx, weights, k)
    vals = vals[np.isfinite(vals)]
    if vals.size < n_boot / 2:
        return (np.nan, np.nan)
    q = (1 - level) / 2
    return (float(np.quantile(vals, q)), float(np.quantile(vals, 1 - q)))


def _fleiss(m: np.ndarray) -> float:
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    m = m[~np.isnan(m).any(axis=1)]
    if m.shape[0] < 2 or m.shape[1] < 2 or np.unique(m).size < 2:
        return np.nan
    table, _ = aggregate_raters(m.astype(int))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(fleiss_kappa(table, method="fleiss"))


def _alpha(m: np.ndarray, level: str) -> float:
    import krippendorff

    vals = m[~np.isnan(m)]
    if np.unique(vals).size < 2 or m.shape[0] < 2:
        return np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(krippendorff.alpha(reliability_data=m.T, level_of_measurement=level))


def _majority(m: np.ndarray, kind: str) -> np.ndarray:
    """Majority of the columns of ``m`` per row (NaN-aware); see the module docstring."""
    out = np.full(m.shape[0], np.nan)
    for i, row in enumerate(m):
        v = row[~np.isnan(row)]
        if not v.size:
            continue
        if kind == "binary":
            s = v.mean()
            out[i] = np.nan if s == 0.5 else float(s > 0.5)
        else:
            out[i] = float(np.quantile(v, 0.5, method="lower"))
    return out


#: measure -> (column, kappa weights, Krippendorff level)
MEASURES = {
    "hypsarrhythmia kappa": ("hypsarrhythmia", None, "nominal"),
    "grade kappa": ("grade", None, "ordinal"),
    "grade weighted kappa": ("grade", "quadratic", "ordinal"),
}


def _pairs(study: Study) -> list[tuple[str, str, str]]:
    """(kind, rater a, rater b): readers against each other, each against the majority of
    the others (3+ readers), hypsa against each reader and against the majority."""
    readers = study.readers
    out = [("reader-reader", a, b) for a, b in itertools.combinations(readers, 2)]
    if len(readers) >= 3:
        out += [("reader-majority", r, MAJORITY) for r in readers]
    if study.algorithm:
        out += [("hypsa-reader", study.algorithm, r) for r in readers]
        if len(readers) >= 2:
            out += [("hypsa-majority", study.algorithm, MAJORITY)]
    return out


def label_stats(study: Study, n_boot: int = 1000, seed: int = 0) -> tuple[pd.DataFrame,
                                                                         pd.DataFrame]:
    """Kappa per pair and the across-reader statistics, with bootstrap intervals.

    Returns
    -------
    pairs : DataFrame
        ``measure, kind, rater_a, rater_b, n, value, ci_low, ci_high, library``.
    overall : DataFrame
        ``measure, raters, n, value, ci_low, ci_high, library``: Fleiss' kappa and
        Krippendorff's alpha across the readers, and across the readers with hypsa.
    """
    readers = study.readers
    rows = []
    for mi, (measure, (col, weights, _)) in enumerate(MEASURES.items()):
        kind_maj = "binary" if col == "hypsarrhythmia" else "ordinal"
        for pi, (kind, a, b) in enumerate(_pairs(study)):
            va = study.label_matrix(col, [a])[:, 0]
            if b == MAJORITY:
                others = [r for r in readers if r != a]
                vb = _majority(study.label_matrix(col, others), kind_maj)
            else:
                vb = study.label_matrix(col, [b])[:, 0]
            ok = ~(np.isnan(va) | np.isnan(vb))
            xa, xb = va[ok].astype(int), vb[ok].astype(int)
            k = 2 if col == "hypsarrhythmia" else 6
            val = _kappa(xa, xb, weights, k)
            lo, hi = _kappa_ci(xa, xb, weights, k, n_boot, seed + 1000 * mi + pi)
            rows.append({"measure": measure, "kind": kind, "rater_a": a,
                         "rater_b": b if b != MAJORITY else (
                             "majority of the others" if kind == "reader-majority"
                             else "majority of the readers"),
                         "n": int(ok.sum()), "value": val, "ci_low": lo, "ci_high": hi,
                         "library": "scikit-learn cohen_kappa_score" + (
                             f" (weights={weights})" if weights else "")})
    over = []
    groups = [("readers", readers)]
    if study.algorithm:
        groups.append(("readers + hypsa", [*readers, study.algorithm]))
    for gi, (gname, raters) in enumerate(groups):
        if len(raters) < 2:
            continue
        for ci, (col, level) in enumerate((("hypsarrhythmia", "nominal"),
                                           ("grade", "ordinal"))):
            m = study.label_matrix(col, raters)
            complete = ~np.isnan(m).any(axis=1)
            val = _fleiss(m)
            lo, hi = bootstrap_ci(lambda i, m=m: _fleiss(m[i]), m.shape[0], n_boot,
                                  seed + 77 + 10 * gi + ci)
            over.append({"measure": f"{col} Fleiss kappa", "raters": gname,
                         "n": int(complete.sum()), "value": val, "ci_low": lo, "ci_high": hi,
                         "library": "statsmodels fleiss_kappa"})
            val = _alpha(m, level)
            lo, hi = bootstrap_ci(lambda i, m=m, level=level: _alpha(m[i], level), m.shape[0],
                                  n_boot, seed + 177 + 10 * gi + ci)
            over.append({"measure": f"{col} Krippendorff alpha ({level})", "raters": gname,
                         "n": int((~np.isnan(m)).any(axis=1).sum()), "value": val,
                         "ci_low": lo, "ci_high": hi, "library": "krippendorff.alpha"})
    return pd.DataFrame(rows), pd.DataFrame(over)


def consensus_events(marks: list[pd.DataFrame], min_votes: int,
                     tolerance_s: float = TOLERANCE_S) -> pd.DataFrame:
    """Events marked by at least ``min_votes`` of the raters, within ``tolerance_s``.

    Marks of all raters are sorted by onset and grouped greedily: a group collects marks
    within ``tolerance_s`` of its first mark, at most one per rater. A group with
    ``min_votes`` raters or more is an event, at the median onset and duration.

    Parameters
    ----------
    marks : list of DataFrame
        One table (``onset``, ``duration``) per rater.
    min_votes : int
        Raters needed.
    tolerance_s : float
        Onset tolerance.

    Returns
    -------
    DataFrame
        ``onset``, ``duration``, ``votes``.
    """
    allm = [(float(o), float(d), k) for k, m in enumerate(marks)
            for o, d in zip(m["onset"], m["duration"], strict=True)]
    allm.sort()
    out = []
    used = [False] * len(allm)
    for i, (o, _, _) in enumerate(allm):
        if used[i]:
            continue
        group, raters = [], set()
        for j in range(i, len(allm)):
            if allm[j][0] - o > tolerance_s:
                break
            if not used[j] and allm[j][2] not in raters:
                group.append(j)
                raters.add(allm[j][2])
        for j in group:
            used[j] = True
        if len(group) >= min_votes:
            out.append((float(np.median([allm[j][0] for j in group])),
                        float(np.median([allm[j][1] for j in group])), len(group)))
    return pd.DataFrame(out, columns=["onset", "duration", "votes"])


def _marks(study: Study, rater: str, rec: str, exclude: str | None = None) -> pd.DataFrame:
    if rater != MAJORITY:
        return study.events_of(rater, rec)
    others = [r for r in study.readers if r != exclude]
    return consensus_events([study.events_of(r, rec) for r in others],
                            len(others) // 2 + 1)


def event_agreement(study: Study, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Event-level agreement per pair: rater b's marks scored against rater a's.

    Returns
    -------
    DataFrame
        ``kind, rater_a (reference), rater_b, n_ref, n_other, tp, fp, sensitivity,
        precision, f1, f1_ci_low, f1_ci_high, fp_per_hour, hours``.
    """
    from hypsa.evaluate import score_events

    rows = []
    recs = study.recordings
    for pi, (kind, a, b) in enumerate(_pairs(study)):
        # the reference is the reader (or majority); the other is hypsa or the second reader
        ref_name, hyp_name = (b, a) if kind.startswith("hypsa") or kind == "reader-majority" \
            else (a, b)
        per = []
        for r in recs:
            ref = _marks(study, ref_name, r, exclude=hyp_name)
            hyp = _marks(study, hyp_name, r, exclude=ref_name)
            s = score_events(ref, hyp, study.durations[r], level="spasm")
            per.append((s.tp, s.fp, s.n_ref, s.n_hyp, s.hours))
        arr = np.array(per, dtype=float)

        def f1(idx: np.ndarray, arr: np.ndarray = arr) -> float:
            tp, fp, nref = arr[idx, 0].sum(), arr[idx, 1].sum(), arr[idx, 2].sum()
            d = 2 * tp + fp + (nref - tp)
            return 2 * tp / d if d else np.nan

        tp, fp, nref, nhyp, hours = arr.sum(axis=0)
        lo, hi = bootstrap_ci(f1, len(recs), n_boot, seed + 500 + pi)
        rows.append({"kind": kind, "rater_a": ref_name if ref_name != MAJORITY else (
            "majority of the others" if kind == "reader-majority" else
            "majority of the readers"), "rater_b": hyp_name,
            "n_ref": int(nref), "n_other": int(nhyp), "tp": int(tp), "fp": int(fp),
            "sensitivity": tp / nref if nref else np.nan,
            "precision": tp / (tp + fp) if tp + fp else np.nan,
            "f1": f1(np.arange(len(recs))), "f1_ci_low": lo, "f1_ci_high": hi,
            "fp_per_hour": fp / hours if hours else np.nan, "hours": hours})
    return pd.DataFrame(rows)


def _counts(study: Study, raters: list[str]) -> pd.DataFrame:
    rows = []
    for r in study.recordings:
        for k in raters:
            n = len(_marks(study, k, r)) if k != MAJORITY else len(_marks(study, MAJORITY, r))
            rows.append({"recording": r, "reader": k, "count": n})
    return pd.DataFrame(rows)


def _icc(long: pd.DataFrame) -> tuple[float, float, float]:
    import pingouin as pg

    if long["recording"].nunique() < 3 or long["count"].nunique() < 2:
        return (np.nan, np.nan, np.nan)
    t = pg.intraclass_corr(data=long, targets="recording", raters="reader", ratings="count")
    row = t[t["Type"].isin(["ICC(A,1)", "ICC2"])].iloc[0]
    ci = row["CI95"] if "CI95" in row else row["CI95%"]
    return float(row["ICC"]), float(ci[0]), float(ci[1])


def count_agreement(study: Study) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Spasm counts per recording: ICC(A,1) per pair and across readers, Bland-Altman per pair.

    Returns
    -------
    icc : DataFrame
        ``kind, rater_a, rater_b, n, icc, ci_low, ci_high, library``.
    bland_altman : DataFrame
        ``kind, rater_a, rater_b, n, bias, sd, loa_low, loa_high`` (b minus a).
    table : DataFrame
        The counts: one row per recording, one column per rater.
    """
    raters = [*study.readers, *([study.algorithm] if study.algorithm else [])]
    long = _counts(study, raters)
    table = long.pivot(index="recording", columns="reader", values="count")[raters]
    icc_rows, ba_rows = [], []
    groups = [("readers", "all readers", "", study.readers)]
    if study.algorithm:
        groups.append(("readers + hypsa", "all readers", "hypsa", raters))
    for kind, a, b, rs in groups:
        if len(rs) >= 2:
            v, lo, hi = _icc(long[long["reader"].isin(rs)])
            icc_rows.append({"kind": kind, "rater_a": a, "rater_b": b,
                             "n": study.recordings.__len__(), "icc": v, "ci_low": lo,
                             "ci_high": hi, "library": "pingouin intraclass_corr ICC(A,1)"})
    for kind, a, b in _pairs(study):
        ref, oth = (b, a) if kind.startswith("hypsa") or kind == "reader-majority" else (a, b)
        ca = np.array([len(_marks(study, ref, r, exclude=oth)) for r in study.recordings])
        cb = np.array([len(_marks(study, oth, r, exclude=ref)) for r in study.recordings])
        name_a = ref if ref != MAJORITY else ("majority of the others"
                                              if kind == "reader-majority"
                                              else "majority of the readers")
        pair = pd.DataFrame({"recording": np.repeat(study.recordings, 2),
                             "reader": ["a", "b"] * len(study.recordings),
                             "count": np.column_stack([ca, cb]).ravel()})
        v, lo, hi = _icc(pair)
        icc_rows.append({"kind": kind, "rater_a": name_a, "rater_b": oth,
                         "n": len(study.recordings), "icc": v, "ci_low": lo, "ci_high": hi,
                         "library": "pingouin intraclass_corr ICC(A,1)"})
        d = cb - ca
        sd = float(np.std(d, ddof=1)) if d.size > 1 else np.nan
        bias = float(np.mean(d)) if d.size else np.nan
        ba_rows.append({"kind": kind, "rater_a": name_a, "rater_b": oth, "n": int(d.size),
                        "bias": bias, "sd": sd, "loa_low": bias - 1.96 * sd,
                        "loa_high": bias + 1.96 * sd,
                        "mean": json.dumps(((ca + cb) / 2).tolist()),
                        "diff": json.dumps(d.tolist())})
    return pd.DataFrame(icc_rows), pd.DataFrame(ba_rows), table.reset_index()


def _range_check(labels: pd.DataFrame, events: pd.DataFrame, icc: pd.DataFrame
                 ) -> pd.DataFrame:
    """Where hypsa stands against the range of the readers' pairwise values, per measure."""
    rows = []

    def add(measure: str, g: pd.DataFrame, v: str, lo_c: str, hi_c: str) -> None:
        rr = g[(g["kind"] == "reader-reader") & g[v].notna()]
        hv = g.loc[g["kind"] == "hypsa-reader", v].dropna()
        hm = g.loc[g["kind"] == "hypsa-majority", v].dropna()
        if not len(hv):
            return
        med = float(hv.median())
        if len(rr):
            lo, hi = float(rr[v].min()), float(rr[v].max())
            # the readers' range, widened by the intervals of its two ends
            wlo = float(np.nanmin([lo, rr[lo_c].min()]))
            whi = float(np.nanmax([hi, rr[hi_c].max()]))
            where = "within" if wlo - 1e-12 <= med <= whi + 1e-12 else (
                "below" if med < wlo else "above")
        else:
            lo = hi = wlo = whi = np.nan
            where = "no reader pair"
        rows.append({"measure": measure, "readers_min": lo, "readers_max": hi,
                     "readers_ci_low": wlo, "readers_ci_high": whi,
                     "hypsa_vs_readers_median": med,
                     "hypsa_vs_majority": float(hm.iloc[0]) if len(hm) else np.nan,
                     "hypsa": where})

    for m, g in labels.groupby("measure", sort=False):
        add(m, g, "value", "ci_low", "ci_high")
    if len(events):
        add("spasm events F1", events, "f1", "f1_ci_low", "f1_ci_high")
    if len(icc):
        add("spasm count ICC(A,1)", icc, "icc", "ci_low", "ci_high")
    return pd.DataFrame(rows, columns=["measure", "readers_min", "readers_max",
                                       "readers_ci_low", "readers_ci_high",
                                       "hypsa_vs_readers_median", "hypsa_vs_majority",
                                       "hypsa"])


def agreement(study: Study, n_boot: int = 1000, seed: int = 0) -> AgreementResult:
    """Every agreement table of a study.

    Parameters
    ----------
    study : Study
        Scores and marks (see :func:`read_study`).
    n_boot : int
        Bootstrap replicates of each interval (resampling recordings).
    seed : int
        Seed of the bootstrap (the tables are reproducible).

    Returns
    -------
    AgreementResult
    """
    if len(study.readers) < 2:
        raise ParameterError(f"agreement needs at least two readers, the study has "
                             f"{len(study.readers)} ({', '.join(study.readers) or 'none'})")
    if n_boot < 0:
        raise ParameterError("n_boot must be 0 or more")
    from hypsa import __version__

    labels, overall = label_stats(study, n_boot, seed)
    events = event_agreement(study, n_boot, seed)
    icc, ba, table = count_agreement(study)
    meta = {"recordings": len(study.recordings), "readers": study.readers,
            "algorithm": study.algorithm, "n_boot": n_boot, "seed": seed,
            "tolerance_s": TOLERANCE_S, "hypsa_version": __version__,
            "hours": float(sum(study.durations.values()) / 3600.0)}
    return AgreementResult(labels=labels, overall=overall, events=events, counts=icc,
                           bland_altman=ba, range_check=_range_check(labels, events, icc),
                           count_table=table, meta=meta)
