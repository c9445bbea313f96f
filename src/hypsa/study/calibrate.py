"""Site calibration: the spasm decision refitted on a site's own reviewed recordings.

hypsa's spasm model ships with a calibrated probability (``confidence``) for each candidate and
a threshold chosen on its training generators. A site's equipment and population differ; a
site model adapts the *decision* to them, starting from the shipped model, never replacing it
silently:

1. **Candidates.** Every recording is analysed with the shipped model at a low floor
   (:data:`FLOOR`): the events it returns are all the candidates a site model can accept,
   with the shipped confidence and the measured features.
2. **Labels.** A candidate is a spasm when it meets a reviewed spasm (confirmed or added by a
   reviewer) within :data:`hypsa.study.agreement.TOLERANCE_S`; every other one is a false
   detection (a rejected or never-marked event).
3. **The site decision** (:class:`SiteModel`), at the least a probability calibration
   (logistic regression on the logit of the shipped confidence, Platt scaling) with its own
   threshold: the lowest that keeps false detections at or under ``max_fd_per_hour`` on the
   fitted recordings, read off the probabilities that inner folds by patient give them (as
   new patients would get). With at least :data:`MIN_EVENTS_REFIT`
   spasms and as many false detections, the model itself is refitted: a regularised
   logistic regression on the shipped logit (the starting point) and the standardised
   candidate features.
4. **Cross-validation by patient.** Every recording of a patient is held out together; the
   site decision is fitted on the other patients and scored (:func:`hypsa.evaluate.score_events`,
   per spasm) on the held-out ones, next to the shipped decision on the same recordings.
5. **Refusal.** A site model whose out-of-fold sensitivity is not higher at an out-of-fold
   false-detection rate within the target (or within the shipped one's, if that is higher),
   or that detects more falsely at no gain, is refused with the numbers
   (:class:`CalibrationRefused`).

The card (``card.json``, ``card.md``) names the data used, the numbers before and after on
held-out patients, the date and the hypsa version. ``hypsa analyze --model SITE_MODEL`` applies
it (:meth:`SiteModel.apply`), and every output names the model it came from.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from hypsa.errors import HypsaError, InputError, ParameterError
from hypsa.study.agreement import TOLERANCE_S

__all__ = ["FLOOR", "MIN_EVENTS_REFIT", "Reviewed", "SiteModel", "CalibrationRefused",
           "label_candidates", "fit_site_model", "cross_validate", "calibrate",
           "calibrate_folder", "collect_folder", "load_site_model", "shipped_model_info"]

#: Shipped confidence above which candidates are kept for a site model.
FLOOR = 0.02
#: Spasms (and false detections) a site's data needs before the model itself is refitted.
MIN_EVENTS_REFIT = 40
#: Share of the false-detection budget the threshold aims at (on inner out-of-fold
#: probabilities, see :func:`fit_site_model`).
FD_MARGIN = 1.0
MODEL_FILE = "site_model.json"
_EPS = 1e-6


class CalibrationRefused(HypsaError):
    """The site model does worse out of fold than the shipped one (the card says by how much).

    Attributes
    ----------
    card : dict
        The card of the refused model, with the numbers.
    """

    def __init__(self, message: str, card: dict) -> None:
        self.card = card
        super().__init__(message)


@dataclass
class Reviewed:
    """One reviewed recording: the shipped model's candidates and the reviewed spasms."""

    recording: str
    patient: str
    duration_s: float
    candidates: pd.DataFrame
    truth: pd.DataFrame


def shipped_model_info() -> dict:
    """Identity of the shipped spasm model (file, sha256, threshold), as far as it is known."""
    try:
        from hypsa import spasm_score

        info = getattr(spasm_score, "model_info", None)
        out = dict(info()) if callable(info) else {}
        out.setdefault("threshold", float(spasm_score.THRESHOLD))
    except (HypsaError, ImportError, KeyError, OSError):  # no shipped model installed
        out = {}
    out.setdefault("name", "hypsa spasm model (hypsa.spasm_score)")
    return out


def _shipped_threshold(value: float | None) -> float:
    if value is not None:
        return float(value)
    from hypsa.spasm_score import THRESHOLD

    return float(THRESHOLD)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


@dataclass
class SiteModel:
    """A site's spasm decision: calibrated probability and threshold over the shipped model.

    Attributes
    ----------
    name : str
        Shown in every output (``summary.json`` ``spasms.model``, report).
    kind : {"calibration", "refit"}
        Platt scaling of the shipped confidence, or a refitted logistic model on the shipped
        logit and the candidate features.
    threshold : float
        Site probability a candidate needs to be a spasm.
    floor : float
        Shipped confidence below which candidates are not looked at.
    coef : list of float
        Weights: the shipped logit first, then one per feature (standardised).
    intercept : float
    features : list of str
        Candidate feature columns of a refitted model.
    mean, scale : list of float
        Standardisation of the features.
    base : dict
        The shipped model it starts from (file, sha256, threshold).
    card : dict
        Data used, numbers before and after on held-out patients, date, hypsa version.
    """

    name: str
    kind: str
    threshold: float
    floor: float = FLOOR
    coef: list[float] = field(default_factory=lambda: [1.0])
    intercept: float = 0.0
    features: list[str] = field(default_factory=list)
    mean: list[float] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)
    base: dict = field(default_factory=dict)
    card: dict = field(default_factory=dict)

    # ----------------------------------------------------------------- decision
    def _design(self, c: pd.DataFrame) -> np.ndarray:
        cols = [_logit(c["confidence"].to_numpy(float))]
        for f, m, s in zip(self.features, self.mean, self.scale, strict=True):
            v = pd.to_numeric(c[f], errors="coerce").to_numpy(float) if f in c else \
                np.full(len(c), m)
            v = np.where(np.isfinite(v), v, m)
            cols.append((v - m) / s)
        return np.column_stack(cols)

    def probability(self, candidates: pd.DataFrame) -> np.ndarray:
        """Site probability that each candidate is a spasm.

        Parameters
        ----------
        candidates : DataFrame
            Events or candidates with the shipped ``confidence`` (and the feature columns of
            a refitted model).

        Returns
        -------
        ndarray of float
        """
        if not len(candidates):
            return np.zeros(0)
        return _sigmoid(self._design(candidates) @ np.asarray(self.coef) + self.intercept)

    def apply(self, events: pd.DataFrame) -> pd.DataFrame:
        """The site decision on events found at the floor: spasms below the site threshold
        go; the others keep their shipped confidence as ``shipped_confidence`` and carry the
        site probability as ``confidence``. Events that are not spasms pass unchanged."""
        if not len(events) or "confidence" not in events:
            return events
        spasm = _spasm_rows(events)
        p = np.full(len(events), np.nan)
        p[spasm] = self.probability(events[spasm])
        keep = ~spasm | (p >= self.threshold)
        out = events.assign(shipped_confidence=events["confidence"].to_numpy(float))
        out.loc[spasm, "confidence"] = p[spasm]
        return out[keep].reset_index(drop=True)

    def params(self, params=None):
        """Analysis parameters that find the candidates at the floor and apply this model.

        Parameters
        ----------
        params : hypsa.analysis.AnalysisParams, optional

        Returns
        -------
        AnalysisParams
        """
        from hypsa.analysis import AnalysisParams

        params = params or AnalysisParams()
        return replace(params, spasms=replace(params.spasms, min_confidence=self.floor),
                       spasm_model=self)

    def info(self) -> dict:
        """Identity for ``summary.json``: name, kind, sha256 of the model file, base model."""
        return {"name": self.name, "kind": f"site ({self.kind})", "threshold": self.threshold,
                "sha256": self.sha256(), "created": self.card.get("date"),
                "base": self.base}

    # ----------------------------------------------------------------- persistence
    def to_json(self) -> dict:
        """Plain dictionary (what :meth:`save` writes)."""
        return asdict(self)

    def sha256(self) -> str:
        """Checksum of the decision (every field but the card)."""
        d = self.to_json()
        d.pop("card", None)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()

    def save(self, folder: str | Path) -> Path:
        """Write ``site_model.json``, ``card.json`` and ``card.md`` into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MODEL_FILE).write_text(json.dumps(self.to_json(), indent=2))
        _write_card(folder, self.card)
        return folder / MODEL_FILE


def _spasm_rows(events: pd.DataFrame) -> np.ndarray:
    """Which rows are spasms (not electrodecrement-only events)."""
    if "trial_type" in events:
        from hypsa.study.agreement import is_spasm

        return is_spasm(events["trial_type"])
    return np.ones(len(events), dtype=bool)


def load_site_model(path: str | Path) -> SiteModel:
    """Read a site model folder (or its ``site_model.json``).

    Raises
    ------
    InputError
        No model file, or one that is not a site model.
    """
    p = Path(path)
    f = p / MODEL_FILE if p.is_dir() else p
    if not f.is_file():
        hint = " (the calibration was refused: see card.md)" if (p / "card.md").is_file() \
            else ""
        raise InputError(p, f"no {MODEL_FILE} here{hint}; make one with hypsa calibrate")
    try:
        d = json.loads(f.read_text())
        m = SiteModel(**d)
    except (ValueError, TypeError) as exc:
        raise InputError(f, f"not a hypsa site model ({exc})") from None
    if len(m.coef) != 1 + len(m.features) or not 0 < m.threshold < 1 or not 0 < m.floor < 1:
        raise InputError(f, "inconsistent site model (weights, threshold or floor)")
    if d.get("base", {}).get("sha256") and shipped_model_info().get("sha256") and \
            d["base"]["sha256"] != shipped_model_info().get("sha256"):
        raise InputError(f, "made for another shipped spasm model (sha256 "
                            f"{d['base']['sha256'][:12]}, installed "
                            f"{shipped_model_info()['sha256'][:12]}); calibrate again")
    return m


# ------------------------------------------------------------------------- labels
def label_candidates(candidates: pd.DataFrame, truth: pd.DataFrame,
                     tolerance_s: float = TOLERANCE_S) -> np.ndarray:
    """Whether each candidate meets a reviewed spasm (its span and the spasm's, widened by
    ``tolerance_s``, overlap)."""
    if not len(candidates):
        return np.zeros(0, dtype=bool)
    c0 = candidates["onset"].to_numpy(float)
    c1 = c0 + candidates["duration"].to_numpy(float)
    if not len(truth):
        return np.zeros(len(candidates), dtype=bool)
    t0 = truth["onset"].to_numpy(float) - tolerance_s
    t1 = truth["onset"].to_numpy(float) + truth["duration"].to_numpy(float) + tolerance_s
    return ((c0[:, None] <= t1[None, :]) & (c1[:, None] >= t0[None, :])).any(axis=1)


def _pool(recs: list[Reviewed]) -> tuple[pd.DataFrame, np.ndarray, float]:
    cs = [r.candidates.assign(_rec=i) for i, r in enumerate(recs)]
    c = pd.concat(cs, ignore_index=True) if cs else pd.DataFrame()
    y = np.concatenate([label_candidates(r.candidates, r.truth) for r in recs]) if recs \
        else np.zeros(0, bool)
    hours = float(sum(r.duration_s for r in recs)) / 3600.0
    return c, y, hours


def _threshold_for(p: np.ndarray, y: np.ndarray, hours: float, max_fd_per_hour: float,
                   floor: float) -> float:
    """The lowest threshold whose false detections stay within ``max_fd_per_hour``."""
    allowed = int(math.floor(max_fd_per_hour * hours + 1e-9))
    neg = np.sort(p[~y])[::-1]
    if neg.size <= allowed:
        return float(max(floor, 1e-4))
    # just above the (allowed+1)-th highest negative
    t = float(np.nextafter(neg[allowed], 1.0))
    return float(min(max(t, 1e-4), 1 - 1e-6))


def _features(c: pd.DataFrame) -> list[str]:
    from hypsa import spasms as S

    cols = [f for f in getattr(S, "FEATURE_COLUMNS", []) if f in c]
    return [f for f in cols if pd.to_numeric(c[f], errors="coerce").notna().mean() > 0.5
            and pd.to_numeric(c[f], errors="coerce").std() > 0]


def fit_site_model(recs: list[Reviewed], *, max_fd_per_hour: float = 1.0,
                   refit: bool | None = None, name: str = "site model",
                   floor: float = FLOOR) -> SiteModel:
    """Fit a site decision on reviewed recordings (no cross-validation; see :func:`calibrate`).

    Parameters
    ----------
    recs : list of Reviewed
    max_fd_per_hour : float
        False detections per hour the threshold may allow on these recordings.
    refit : bool, optional
        Refit the model on the features (default: when at least :data:`MIN_EVENTS_REFIT`
        spasms and as many false detections are there).
    name : str
    floor : float

    Returns
    -------
    SiteModel
    """
    from sklearn.linear_model import LogisticRegression

    c, y, hours = _pool(recs)
    if not len(c) or y.all() or not y.any():
        raise ParameterError("site calibration needs both reviewed spasms among the candidates "
                             "and candidates that are not spasms")
    if refit is None:
        refit = bool(y.sum() >= MIN_EVENTS_REFIT and (~y).sum() >= MIN_EVENTS_REFIT)
    feats = _features(c) if refit else []
    m = SiteModel(name=name, kind="refit" if feats else "calibration", threshold=0.5,
                  floor=floor, features=feats, base=shipped_model_info())
    if feats:
        x = c[feats].apply(pd.to_numeric, errors="coerce")
        m.mean = [float(v) for v in x.median()]
        m.scale = [float(v) if v > 0 else 1.0 for v in x.std().fillna(1.0)]
    X = m._design(c)

    def fit(rows: np.ndarray) -> LogisticRegression:
        return LogisticRegression(C=1.0 if feats else 1e4, max_iter=1000).fit(
            X[rows], y[rows].astype(int))

    lr = fit(np.arange(len(y)))
    m.coef = [float(v) for v in lr.coef_[0]]
    m.intercept = float(lr.intercept_[0])
    # the threshold is read off the probabilities the model gives to patients it was not
    # fitted on (inner folds by patient, with three patients or more): a model is too sure of
    # the candidates it was fitted on, and a threshold read off them lets more false
    # detections through on new patients than the budget
    p = m.probability(c)
    groups = np.array([recs[i].patient for i in c["_rec"].to_numpy()])
    if len(set(groups)) >= 3:
        from sklearn.model_selection import GroupKFold

        p = np.empty(len(y))
        for tr, te in GroupKFold(n_splits=min(5, len(set(groups)))).split(X, groups=groups):
            if y[tr].all() or not y[tr].any():
                p[te] = m.probability(c.iloc[te])
                continue
            p[te] = fit(tr).predict_proba(X[te])[:, 1]
    m.threshold = _threshold_for(p, y, hours, FD_MARGIN * max_fd_per_hour, floor)
    return m


# ------------------------------------------------------------------------- evaluation
def _score(recs: list[Reviewed], keep: list[np.ndarray]) -> dict:
    """Pooled per-spasm scores of the kept candidates of each recording."""
    from hypsa.evaluate import score_events

    tp = fp = nref = 0
    hours = 0.0
    for r, k in zip(recs, keep, strict=True):
        hyp = r.candidates.loc[k, ["onset", "duration"]]
        s = score_events(r.truth[["onset", "duration"]], hyp, r.duration_s, level="spasm")
        tp, fp, nref, hours = tp + s.tp, fp + s.fp, nref + s.n_ref, hours + s.hours
    return {"sensitivity": tp / nref if nref else float("nan"), "fd_per_hour":
            fp / hours if hours else float("nan"), "tp": int(tp), "fp": int(fp),
            "spasms": int(nref), "hours": hours}


def cross_validate(recs: list[Reviewed], *, max_fd_per_hour: float = 1.0,
                   refit: bool | None = None, n_folds: int = 5,
                   shipped_threshold: float | None = None) -> dict:
    """Out-of-fold scores of the site decision and of the shipped one, folds by patient.

    ``shipped_threshold`` is the shipped decision's threshold on ``confidence`` (default: the
    installed model's, :data:`hypsa.spasm_score.THRESHOLD`).

    Returns
    -------
    dict
        ``shipped`` and ``site`` pooled scores (sensitivity, fd_per_hour, tp, fp, spasms,
        hours), ``folds`` (per fold: patients held out, threshold, both scores).
    """
    from sklearn.model_selection import GroupKFold

    THRESHOLD = _shipped_threshold(shipped_threshold)
    groups = np.array([r.patient for r in recs])
    k = min(n_folds, len(set(groups)))
    if k < 2:
        raise ParameterError("cross-validation by patient needs recordings of at least two "
                             "patients")
    site_keep: list[np.ndarray | None] = [None] * len(recs)
    folds = []
    for tr, te in GroupKFold(n_splits=k).split(np.zeros(len(recs)), groups=groups):
        m = fit_site_model([recs[i] for i in tr], max_fd_per_hour=max_fd_per_hour,
                           refit=refit)
        for i in te:
            site_keep[i] = m.probability(recs[i].candidates) >= m.threshold
        held = [recs[i] for i in te]
        folds.append({"patients": sorted(set(groups[te])), "kind": m.kind,
                      "threshold": m.threshold,
                      "site": _score(held, [site_keep[i] for i in te]),
                      "shipped": _score(held, [r.candidates["confidence"].to_numpy(float)
                                               >= THRESHOLD for r in held])})
    shipped = _score(recs, [r.candidates["confidence"].to_numpy(float) >= THRESHOLD
                            for r in recs])
    site = _score(recs, [k_ if k_ is not None else np.zeros(0, bool) for k_ in site_keep])
    return {"shipped": shipped, "site": site, "folds": folds, "n_folds": k}


def _verdict(cv: dict, max_fd_per_hour: float) -> tuple[bool, str]:
    a, b = cv["shipped"], cv["site"]
    fd_ok = b["fd_per_hour"] <= max(max_fd_per_hour, a["fd_per_hour"]) + 1e-9
    gain = b["sensitivity"] - a["sensitivity"]
    fewer_fd = b["fd_per_hour"] < a["fd_per_hour"] - 1e-9
    if fd_ok and (gain > 1e-9 or (abs(gain) <= 1e-9 and fewer_fd)):
        return True, (f"out of fold the site model finds {b['sensitivity']:.1%} of the "
                      f"reviewed spasms at {b['fd_per_hour']:.2f} false detections per hour; "
                      f"the shipped model {a['sensitivity']:.1%} at "
                      f"{a['fd_per_hour']:.2f}/h ({gain * 100:+.1f} points)")
    return False, (f"refused: out of fold the site model would find {b['sensitivity']:.1%} "
                   f"of the reviewed spasms at {b['fd_per_hour']:.2f} false detections per "
                   f"hour, the shipped model {a['sensitivity']:.1%} at "
                   f"{a['fd_per_hour']:.2f}/h ({gain * 100:+.1f} points); the shipped model "
                   f"stays")


def calibrate(recs: list[Reviewed], *, max_fd_per_hour: float = 1.0, refit: bool | None = None,
              name: str = "site model", n_folds: int = 5, data: dict | None = None,
              shipped_threshold: float | None = None) -> SiteModel:
    """Cross-validate by patient, then fit the site model on every reviewed recording.

    Parameters
    ----------
    recs : list of Reviewed
    max_fd_per_hour : float
        The false-detection budget of the operating point.
    refit : bool, optional
        Force (or forbid) refitting the model itself (default: when enough events).
    name : str
        The model's name in every output.
    n_folds : int
        Folds (at most one per patient).
    data : dict, optional
        What the card says about the data (source folder, ...).
    shipped_threshold : float, optional
        The shipped decision's threshold (default: the installed model's).

    Returns
    -------
    SiteModel
        With its card.

    Raises
    ------
    CalibrationRefused
        The site model does worse out of fold than the shipped one.
    """
    from hypsa import __version__

    if max_fd_per_hour <= 0:
        raise ParameterError("max_fd_per_hour must be positive")
    cv = cross_validate(recs, max_fd_per_hour=max_fd_per_hour, refit=refit, n_folds=n_folds,
                        shipped_threshold=shipped_threshold)
    ok, line = _verdict(cv, max_fd_per_hour)
    c, y, hours = _pool(recs)
    card = {
        "name": name, "status": "accepted" if ok else "refused", "verdict": line,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "hypsa_version": __version__,
        "base_model": {**shipped_model_info(),
                       "threshold": _shipped_threshold(shipped_threshold)},
        "data": {**(data or {}), "recordings": len(recs),
                 "patients": len({r.patient for r in recs}), "hours": round(hours, 3),
                 "reviewed_spasms": int(sum(len(r.truth) for r in recs)),
                 "candidates": int(len(c)), "candidates_matching_a_spasm": int(y.sum()),
                 "recording_names": [r.recording for r in recs]},
        "operating_point": {"max_fd_per_hour": max_fd_per_hour,
                            "threshold": "lowest within the budget on inner out-of-fold "
                                         "probabilities (folds by patient)"},
        "held_out": {"method": f"{cv['n_folds']}-fold cross-validation by patient (every "
                               f"recording of a patient held out together)",
                     "shipped": cv["shipped"], "site": cv["site"],
                     "sensitivity_gain": cv["site"]["sensitivity"]
                     - cv["shipped"]["sensitivity"],
                     "folds": cv["folds"]},
    }
    if not ok:
        raise CalibrationRefused(line, card)
    m = fit_site_model(recs, max_fd_per_hour=max_fd_per_hour, refit=refit, name=name)
    card["model"] = {"kind": m.kind, "threshold": m.threshold, "floor": m.floor,
                     "features": m.features}
    m.card = card
    return m


def _write_card(folder: Path, card: dict) -> None:
    (folder / "card.json").write_text(json.dumps(card, indent=2, default=str))
    h = card.get("held_out", {})
    a, b = h.get("shipped", {}), h.get("site", {})
    d = card.get("data", {})

    def row(label: str, s: dict) -> str:
        return (f"| {label} | {s.get('sensitivity', float('nan')):.3f} | "
                f"{s.get('fd_per_hour', float('nan')):.2f} | {s.get('tp', '')} / "
                f"{s.get('spasms', '')} | {s.get('fp', '')} |")

    lines = [
        f"# {card.get('name', 'site model')}: {card.get('status', '')}", "",
        card.get("verdict", ""), "",
        f"- date: {card.get('date')}", f"- hypsa version: {card.get('hypsa_version')}",
        f"- starts from: {json.dumps(card.get('base_model', {}))}",
        f"- data: {d.get('recordings')} reviewed recordings of {d.get('patients')} patients, "
        f"{d.get('hours')} h, {d.get('reviewed_spasms')} reviewed spasms, "
        f"{d.get('candidates')} candidates ({d.get('candidates_matching_a_spasm')} meet a "
        f"reviewed spasm)" + (f"; source {d.get('source')}" if d.get("source") else ""),
        f"- operating point: at most {card.get('operating_point', {}).get('max_fd_per_hour')} "
        "false detection(s) per hour (the threshold read off inner out-of-fold "
        "probabilities, folds by patient)",
        f"- held out: {h.get('method', '')}", "",
        "| decision (held-out patients) | sensitivity | false detections / h | "
        "spasms found | false detections |", "|---|---|---|---|---|",
        row("shipped model", a), row("site model", b), "",
    ]
    if "model" in card:
        lines += [f"Site model: {card['model']['kind']}, threshold "
                  f"{card['model']['threshold']:.4f} on the site probability, candidates from "
                  f"shipped confidence {card['model']['floor']}."]
    lines += ["", "Sensitivity and false detections are scored per spasm (timescoring, 1 s "
              "tolerance) against the reviewed events; a site's reviews are its truth, with "
              "their own errors. hypsa supports clinical judgement and never diagnoses."]
    (folder / "card.md").write_text("\n".join(lines) + "\n")


def write_refused(folder: str | Path, card: dict) -> None:
    """Write the card of a refused calibration (no model file)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MODEL_FILE).unlink(missing_ok=True)
    _write_card(folder, card)


# ------------------------------------------------------------------------- folders
_SUB = re.compile(r"sub-([A-Za-z0-9]+)")


def _reviewed_events(f: Path) -> Path | None:
    stem = f.name.split(".")[0]
    base = stem[:-4] if stem.endswith("_eeg") else stem
    for cand in (f.with_name(f"{stem}.reviewed.tsv"), f.with_name(f"{base}_events.tsv"),
                 f.with_name(f"{stem}.events.tsv"), f.with_name(f"{stem}_events.tsv")):
        if cand.is_file():
            return cand
    return None


def collect_folder(folder: str | Path, *, n_jobs: int = 1, floor: float = FLOOR,
                   progress=None) -> list[Reviewed]:
    """The reviewed recordings of a folder, each analysed with the shipped model at the floor.

    Every EEG file needs its reviewed spasms beside it: ``<stem>.reviewed.tsv`` (the web
    app's export) or the BIDS ``<stem>_events.tsv`` / ``<stem>.events.tsv``, with ``onset``
    and ``duration`` of every spasm a reviewer confirmed or added (rejected ones left out).
    The patient is the BIDS ``sub-`` label in the path, else the ``patient`` column of
    ``patients.tsv`` (``recording``, ``patient``) in the folder, else the recording itself.

    Raises
    ------
    InputError
        No EEG file, a file without reviewed events, an unreadable table.
    """
    from hypsa.analysis import AnalysisParams, analyze
    from hypsa.export import read_events

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "not a folder of reviewed recordings")
    suffixes = (".edf", ".bdf", ".vhdr", ".set", ".fif", ".cnt", ".gdf")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in suffixes
                   and not p.name.startswith("."))
    if not files:
        raise InputError(folder, f"no EEG file ({', '.join(suffixes)})")
    pmap: dict[str, str] = {}
    pt = folder / "patients.tsv"
    if pt.is_file():
        t = pd.read_csv(pt, sep="\t", dtype=str)
        if not {"recording", "patient"} <= set(t.columns):
            raise InputError(pt, "needs the columns recording, patient")
        pmap = dict(zip(t["recording"], t["patient"], strict=True))
    base = AnalysisParams()
    params = replace(base, spasms=replace(base.spasms, min_confidence=floor))
    out = []
    for i, f in enumerate(files):
        ev = _reviewed_events(f)
        if ev is None:
            raise InputError(f, "no reviewed events beside it (<stem>.reviewed.tsv or "
                                "<stem>_events.tsv)")
        truth = read_events(ev)
        if "trial_type" in truth:  # hypsa's decrement-only events are no spasm claim
            truth = truth[truth["trial_type"].astype(str) != "eeg_decrement"]
        stem = f.name.split(".")[0]
        m = _SUB.search(str(f.relative_to(folder)))
        patient = m.group(1) if m else pmap.get(stem, stem)
        res = analyze(f, params=params, n_jobs=n_jobs)
        cand = res.events
        cand = cand[_spasm_rows(cand)].reset_index(drop=True) if len(cand) else \
            pd.DataFrame({"onset": [], "duration": [], "confidence": []})
        out.append(Reviewed(stem, patient, float(res.summary_["duration_s"]), cand,
                            truth[["onset", "duration"]].reset_index(drop=True)))
        if progress:
            progress(i + 1, len(files))
    return out


def calibrate_folder(folder: str | Path, out: str | Path, *, max_fd_per_hour: float = 1.0,
                     refit: bool | None = None, name: str | None = None, n_jobs: int = 1,
                     progress=None) -> SiteModel:
    """``hypsa calibrate``: collect, cross-validate, fit and write the site model and its card.

    A refused calibration writes only its card (``card.md``, ``card.json``) and raises
    :class:`CalibrationRefused`.
    """
    recs = collect_folder(folder, n_jobs=n_jobs, progress=progress)
    name = name or f"site model {Path(out).name}"
    try:
        m = calibrate(recs, max_fd_per_hour=max_fd_per_hour, refit=refit, name=name,
                      data={"source": str(Path(folder).resolve())})
    except CalibrationRefused as exc:
        write_refused(out, exc.card)
        raise
    m.save(out)
    return m
