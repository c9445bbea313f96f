"""``Analysis``: the thin result object of one recording (summary, tables, save/load, plot)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hypsa import DISCLAIMER, __version__
from hypsa.errors import InputError
from hypsa.hypsarrhythmia import (
    PRESENT_FROM,
    not_graded_reason,
    recording_evidence,
    with_sliding,
)
from hypsa.rates import count_includes, rate_text, spasm_rate
from hypsa.spasm_score import model_info
from hypsa.spasms import EEG_DECREMENT, SPASM_EEG, SPASM_EEG_MOVEMENT, SPASM_TYPES
from hypsa.verdict import PRESENT, hypsarrhythmia_verdict, verdict_text
from hypsa.vigilance import (
    SOURCES,
    WAKING_WINDOW_S,
    bids_events_stages,
    cluster_states,
    sleep_stages,
    state_at,
)

__all__ = ["Analysis", "load"]


def _clean(o: Any) -> Any:
    """Make numpy scalars, NaN and datetimes JSON-friendly."""
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_clean(v) for v in o]
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating | float):
        f = float(o)
        return None if not np.isfinite(f) else round(f, 4)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, datetime):
        return o.isoformat()
    return o


def _by_period(events: pd.DataFrame, duration_s: float, start: datetime | None) -> dict:
    """Spasm counts per hour and per 24-h day of the recording, counted from its start."""
    onsets = events["onset"].to_numpy(float) if len(events) else np.zeros(0)
    n_hours = max(1, int(np.ceil(duration_s / 3600.0 - 1e-9)))
    by_hour = np.bincount(np.clip((onsets // 3600).astype(int), 0, n_hours - 1),
                          minlength=n_hours)
    days = []
    for d in range(max(1, int(np.ceil(duration_s / 86400.0 - 1e-9)))):
        t0 = d * 86400.0
        days.append({"day": d + 1, "onset_s": t0,
                     "start": (start + timedelta(seconds=t0)).isoformat() if start else None,
                     "hours": min(86400.0, duration_s - t0) / 3600.0,
                     "count": int(((onsets >= t0) & (onsets < t0 + 86400.0)).sum())})
    return {"by_hour": by_hour.tolist(), "by_day": days}


def _stages(rec) -> tuple[pd.DataFrame, str | None]:
    """The recording's hypnogram and where it comes from: its own sleep-stage annotations, or
    the BIDS events file beside it (``hypsa.vigilance``); empty and None when neither has one."""
    stages = sleep_stages(rec.annotations, float(rec.duration_s))
    if len(stages):
        return stages, "annotations"
    stages = sleep_stages(bids_events_stages(rec.path), float(rec.duration_s))
    return stages, ("bids_events" if len(stages) else None)


def _scored_states(epochs: pd.DataFrame, gdf: pd.DataFrame,
                   stages: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Where the sleep stages are known, the ``state`` of each epoch (at its middle) and of each
    graded 5-minute epoch (the most common of its epochs) is the scored one; elsewhere the
    estimate stays (``state_source``: ``annotations`` or ``estimate``)."""
    if not len(epochs) or "state" not in epochs:
        return epochs, gdf
    if not len(stages):
        return epochs.assign(state_source="estimate"), gdf
    scored = state_at((epochs["onset"] + epochs["duration"] / 2).to_numpy(float), stages)
    known = scored != "unknown"
    epochs = epochs.assign(state=np.where(known, scored, epochs["state"].astype(object)),
                           state_source=np.where(known, "annotations", "estimate"))
    if len(gdf) and {"onset_s", "duration_s", "state"} <= set(gdf.columns):
        gdf = gdf.copy()
        on = epochs["onset"].to_numpy(float)
        for i, r in gdf.iterrows():
            sel = (on >= r["onset_s"]) & (on < r["onset_s"] + r["duration_s"]) & known
            if sel.any():
                gdf.at[i, "state"] = pd.Series(scored[sel]).mode().iat[0]
    return epochs, gdf


def _sleep_wake(rec, clusters: list[dict], stages: pd.DataFrame, source: str | None,
                waking_window_s: float) -> dict:
    """Place each cluster in the recording's hypnogram, where it has one (adds ``state``,
    ``since_sleep_s``, ``on_waking`` and ``start`` to each cluster dict); the summary block."""
    start = rec.start_time
    for c in clusters:
        c["start"] = (start + timedelta(seconds=c["onset"])).isoformat() if start else None
    if not len(stages) or not clusters:
        for c in clusters:
            c.update(state=None, since_sleep_s=None, on_waking=None)
        return {"source": None, "waking_window_s": waking_window_s,
                "note": "sleep-wake state not known: the recording has no sleep-stage "
                        "annotations (nor a BIDS events file with stages)" if clusters
                        else "no cluster"}
    rel = cluster_states(np.array([c["onset"] for c in clusters]), stages, waking_window_s)
    for c, r in zip(clusters, rel.itertuples(), strict=True):
        c.update(state=r.state, since_sleep_s=r.since_sleep_s, on_waking=bool(r.on_waking))
    return {"source": source, "waking_window_s": waking_window_s,
            "scored_s": float(stages.loc[stages.state != "unknown", "duration"].sum()),
            "clusters_on_waking": int(rel.on_waking.sum()),
            "clusters_awake": int((rel.state == "wake").sum()),
            "clusters_in_sleep": int(rel.state.isin(["nrem", "rem"]).sum()),
            "clusters_state_unknown": int((rel.state == "unknown").sum())}


def movement_text(movements: list[dict]) -> str:
    """One sentence on the video's sudden movements that no detected spasm matches."""
    n = len(movements)
    at = ", ".join(f"{m['onset']:.0f}" for m in movements[:12]) + (" ..." if n > 12 else "")
    return (f"Video: {n} sudden symmetric movement{'s' if n != 1 else ''} recurring in a series "
            f"with no detected EEG spasm (at {at} s): listed for review, not counted (a spasm "
            "whose EEG pattern was too faint to detect, or another sudden movement).")


def video_text(video: dict | None) -> str:
    """The summary's sentences on a video-EEG's movement: the spasms counted on a sudden movement
    of a series with the EEG's pattern (:mod:`hypsa.spasm_movement`) and the movements listed for
    review (:func:`movement_text`); empty without a video or with nothing to say."""
    video = video or {}
    out = []
    n = int(video.get("spasms_on_movement") or 0)
    if n:
        out.append(f"Video: {n} of the counted spasms {'were' if n != 1 else 'was'} seen as a "
                   "sudden symmetric movement recurring in a series together with a "
                   "generalized slow wave or electrodecrement too weak for the EEG alone to "
                   "count.")
    if video.get("movements_without_eeg_spasm"):
        out.append(movement_text(video["movements_without_eeg_spasm"]))
    return " ".join(out)


@dataclass
class Analysis:
    """Result of :func:`hypsa.analyze` for one recording.

    Attributes
    ----------
    summary_ : dict
        The content of ``<stem>.summary.json``.
    epochs : DataFrame
        One row per feature epoch (features, grade of its 5-minute epoch, artifact flags).
    grades : DataFrame
        One row per 5-minute BASED epoch with its counts and criteria.
    events : DataFrame
        One row per detected spasm (onset, duration, confidence, channels, features, cluster).
    """

    summary_: dict
    epochs: pd.DataFrame
    grades: pd.DataFrame
    events: pd.DataFrame
    start_time: datetime | None = None
    stem: str = "recording"
    extra: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ construction
    @classmethod
    def build(cls, rec, *, epochs, grades, events, bad_channels, analysed_s, excluded_s, mains,
              params, sliding: list[dict] | None = None) -> Analysis:
        """Assemble the summary from per-window results (used by :func:`hypsa.analyze`)."""
        # the sleep-stage annotations (a few ms to parse even for a 24-h EDF+ file)
        stages, stage_source = _stages(rec)
        epochs, gdf = _scored_states(epochs, pd.DataFrame(grades), stages)
        graded = gdf[gdf["grade"].notna()] if "grade" in gdf else gdf.iloc[0:0]
        hyp: dict[str, Any]
        if len(graded):
            graded = graded.assign(
                _hyps=(graded["grade"] >= PRESENT_FROM)
                | graded.get("slow_variant", pd.Series(False, index=graded.index)).fillna(False)
                .astype(bool))
            order = with_sliding(graded, sliding).sort_values(["_hyps", "grade", "severity"],
                                                               ascending=False)
            worst = order.iloc[0].to_dict()
            hist = graded["grade"].astype(int).value_counts().sort_index()
            hyp = {
                "present": bool(worst["_hyps"]),
                "probability": float(worst["probability"]),
                "based_score": int(worst["grade"]),
                "evidence": {
                    "graded_epoch": {k: worst.get(k) for k in (
                        "epoch", "onset_s", "duration_s", "state", "usable_s", "n_discharges",
                        "n_foci", "foci", "spike_bin_fraction", "positive_pages", "n_pages",
                        "high_amplitude_channels", "median_amplitude_uv",
                        "max_channel_amplitude_uv", "n_attenuations", "attenuated_fraction",
                        "n_grouped", "ictal_s", "perm_entropy", "connectivity", "rel_delta",
                        "slow_variant", "sliding", "derivations", "assessed",
                        "not_assessed", "focus_polar", "grade_unflagged")},
                    "criteria_met": list(worst["criteria"]),
                    "epochs_graded": int(len(graded)),
                    "epochs_not_graded": int(len(gdf) - len(graded)),
                    "grade_counts": {str(int(k)): int(v) for k, v in hist.items()},
                    "fraction_epochs_hypsarrhythmic": float(graded["_hyps"].mean()),
                    "thresholds": params["grading"],
                },
            }
            extra = recording_evidence(order, gdf, float(params["grading"]["high_uv"]))
            hyp["warnings"] = extra.pop("warnings")
            hyp["evidence"].update(extra)
        else:
            extra = recording_evidence(graded, gdf)
            hyp = {"present": False, "probability": None, "based_score": None,
                   "warnings": extra.pop("warnings"),
                   "evidence": {"criteria_met": [not_graded_reason(gdf)], **extra}}
        # one verdict (hypsa.verdict), which `present` mirrors for older readers
        hyp.update(hypsarrhythmia_verdict(hyp))
        hyp["present"] = hyp["verdict"] == PRESENT
        recorded_s = float(rec.recorded_s)
        clusters = []
        isolated = 0
        min_size = int(params["spasms"].get("min_cluster_size", 1))
        # the spasms (an eeg_decrement event is listed in events.tsv, never counted)
        kinds = events["trial_type"].astype(str) if "trial_type" in events and len(events) \
            else pd.Series(SPASM_EEG, index=events.index, dtype=object)
        all_events, events = events, events[kinds.isin(SPASM_TYPES)]
        if len(events):
            for c, grp in events.groupby("cluster"):
                if len(grp) < min_size:  # a lone spasm is a spasm, not a cluster
                    isolated += int(len(grp))
                    continue
                clusters.append({"cluster": int(c), "onset": float(grp.onset.min()),
                                 "offset": float((grp.onset + grp.duration).max()),
                                 "count": int(len(grp))})
        sleep_wake = _sleep_wake(rec, clusters, stages, stage_source, float(
            params["spasms"].get("waking_window_s", WAKING_WINDOW_S)))
        # rates per analysed (artifact-free) hour; no per-24-h figure below an hour (hypsa.rates)
        rate = spasm_rate(int(len(events)), float(analysed_s) / 3600.0)
        spasms = {
            "count": int(len(events)),
            "count_includes": count_includes(events),
            "per_hour": rate["per_hour"],
            "per_24h": rate["per_24h"],
            "rate": rate,
            **_by_period(events, float(rec.duration_s), rec.start_time),
            "n_clusters": len(clusters),
            "clusters": clusters,
            "isolated": isolated,
            "sleep_wake": sleep_wake,
            "cluster_gap_s": params["spasms"]["cluster_gap_s"],
            "min_cluster_size": min_size,
            "min_confidence": params["spasms"].get("min_confidence"),
            "count_eeg_only": int((kinds == SPASM_EEG).sum()),
            "count_with_movement": int((kinds == SPASM_EEG_MOVEMENT).sum()),
            "n_eeg_decrement": int((kinds == EEG_DECREMENT).sum()),
            "model": model_info(),
        }
        summary = {
            "file": str(rec.path) if rec.path else None,
            "start_time": rec.start_time,
            "duration_s": float(rec.duration_s),
            "recorded_s": recorded_s,
            "analysed_s": float(analysed_s),
            "excluded_s": float(excluded_s),
            "hypsarrhythmia": hyp,
            "spasms": spasms,
            "quality": {
                "bad_channels": sorted(bad_channels),
                "bad_channel_reasons": bad_channels,
                "mains_hz": mains,
                "segments": len(rec.segments),
                "excluded_epochs": int(epochs["excluded"].sum()) if len(epochs) else 0,
            },
            "hypsa_version": __version__,
            "disclaimer": DISCLAIMER,
        }
        stem = Path(rec.path).name.split(".")[0] if rec.path else "recording"
        return cls(summary_=_clean(summary), epochs=epochs, grades=gdf, events=all_events,
                   start_time=rec.start_time, stem=stem)

    # ------------------------------------------------------------------ views
    @property
    def based_score(self) -> int | None:
        """BASED grade of the most epileptic graded epoch."""
        return self.summary_["hypsarrhythmia"]["based_score"]

    @property
    def present(self) -> bool:
        """Whether the hypsarrhythmia verdict is "present" (:mod:`hypsa.verdict`)."""
        return hypsarrhythmia_verdict(self.summary_["hypsarrhythmia"])["verdict"] == PRESENT

    @property
    def verdict(self) -> str:
        """The hypsarrhythmia verdict: ``"present"``, ``"absent"`` or ``"not_assessable"``."""
        return hypsarrhythmia_verdict(self.summary_["hypsarrhythmia"])["verdict"]

    @property
    def n_spasms(self) -> int:
        """Number of detected spasms."""
        return int(self.summary_["spasms"]["count"])

    def summary(self) -> str:
        """A few lines for a person to read."""
        s = self.summary_
        h = s["hypsarrhythmia"]
        sp = s["spasms"]
        dur = s["duration_s"] / 3600
        lines = [
            f"hypsa {s['hypsa_version']} — {s['file'] or 'recording'} ({dur:.2f} h, "
            f"{s['analysed_s'] / 3600:.2f} h analysed, {s['excluded_s'] / 60:.1f} min excluded)",
        ]
        v = hypsarrhythmia_verdict(h)
        lines.append(f"{verdict_text(h)}: {v['verdict_rule']}")
        if h["based_score"] is not None:
            lines.append(
                f"BASED grade {h['based_score']} ({v['grade_label']}); score "
                f"{h['probability']:.2f} (uncalibrated); "
                + "; ".join(h["evidence"]["criteria_met"]))
        ev = h.get("evidence") or {}
        mont = ev.get("montage") or {}
        if mont.get("derivations"):
            lines.append(f"Montage: {len(mont['derivations'])} derivations "
                         f"({', '.join(mont['derivations'])}); assessed: "
                         + "; ".join(mont.get("assessed") or []))
        if ev.get("ictal_set_aside_s"):
            lines.append(f"Interictal grade: {ev['ictal_set_aside_s']:.0f} s around spasms "
                         "and decrements set aside")
        for w in h.get("warnings") or []:
            lines.append(f"Warning: {w}")
        iso = int(sp.get("isolated", 0))
        sw = sp.get("sleep_wake") or {}
        waking = (f"; {sw.get('clusters_on_waking', 0)} on waking, "
                  f"{sw.get('clusters_in_sleep', 0)} in sleep (stages from "
                  f"{SOURCES.get(sw['source'], sw['source'])})"
                  if sw.get("source") and sp["n_clusters"] else "")
        rate = sp.get("rate") or spasm_rate(int(sp["count"]), s["analysed_s"] / 3600)
        lines.append(f"Spasms: {rate_text(rate)}; {sp['n_clusters']} cluster(s)"
                     + (f", {iso} isolated" if iso else "") + waking)
        if sp.get("detection_note"):
            lines.append(sp["detection_note"])
        if vt := video_text(s.get("video")):
            lines.append(vt)
        bad = s["quality"]["bad_channels"]
        lines.append(f"Bad channels: {', '.join(bad) if bad else 'none'}")
        lines.append(DISCLAIMER)
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """The per-epoch table (features, grade, artifact flags)."""
        return self.epochs.copy()

    def to_annotations(self, prefix: str = "", orig_time: Any = "start") -> Any:
        """The findings as :class:`mne.Annotations`, for ``raw.set_annotations``.

        One annotation per detected event, described by its ``trial_type`` (``spasm_eeg``,
        ``spasm_eeg_movement``, and ``eeg_decrement`` when present; ``spasm`` for analyses
        without one), one ``spasm_cluster`` per cluster (first onset to last offset), one
        ``BASED_<grade>`` per graded 5-minute epoch, and ``graded_epoch`` over the epoch the
        grade comes from. Onsets are seconds from the first analysed sample, so they land on
        the samples of the Raw that was analysed: ``raw.set_annotations(a.to_annotations())``,
        or ``raw.set_annotations(raw.annotations + a.to_annotations())`` to keep the Raw's own.

        Parameters
        ----------
        prefix : str
            Put before every description (``"hypsa/"`` keeps them apart from other labels).
        orig_time : "start", datetime or None
            ``"start"`` (default): the recording's start (UTC, as MNE reads EDF start times),
            or None when it is not known; None makes onsets relative to the Raw's first sample
            whatever its measurement date.

        Returns
        -------
        mne.Annotations
        """
        import mne

        rows: list[tuple[float, float, str]] = []
        ev = self.events
        if len(ev):
            kinds = ev["trial_type"] if "trial_type" in ev else pd.Series("spasm", index=ev.index)
            rows += [(float(o), float(d), str(k)) for o, d, k in
                     zip(ev["onset"], ev["duration"], kinds.fillna("spasm"), strict=True)]
        for c in self.summary_["spasms"].get("clusters") or []:
            rows.append((float(c["onset"]), float(c["offset"]) - float(c["onset"]),
                         "spasm_cluster"))
        g = self.grades
        if len(g) and {"onset_s", "duration_s", "grade"} <= set(g.columns):
            for r in g[g["grade"].notna()].itertuples():
                rows.append((float(r.onset_s), float(r.duration_s), f"BASED_{int(r.grade)}"))
        worst = (self.summary_["hypsarrhythmia"].get("evidence") or {}).get("graded_epoch")
        if worst and worst.get("onset_s") is not None:
            rows.append((float(worst["onset_s"]), float(worst["duration_s"]), "graded_epoch"))
        rows.sort(key=lambda r: r[0])
        if isinstance(orig_time, str) and orig_time == "start":
            st = self.start_time
            if isinstance(st, str):
                st = datetime.fromisoformat(st)
            orig_time = None if st is None else (
                st if st.tzinfo is not None else st.replace(tzinfo=UTC))
        return mne.Annotations([r[0] for r in rows], [r[1] for r in rows],
                               [prefix + r[2] for r in rows], orig_time=orig_time)

    # ------------------------------------------------------------------ persistence
    def save(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``<stem>.summary.json``, ``<stem>.epochs.tsv``, ``<stem>.grades.tsv`` and
        ``<stem>.events.tsv`` into ``out_dir``; return their paths."""
        from hypsa.export import events_frame

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "summary": out / f"{self.stem}.summary.json",
            "epochs": out / f"{self.stem}.epochs.tsv",
            "grades": out / f"{self.stem}.grades.tsv",
            "events": out / f"{self.stem}.events.tsv",
        }
        paths["summary"].write_text(json.dumps(self.summary_, indent=2, ensure_ascii=False))
        self.epochs.to_csv(paths["epochs"], sep="\t", index=False, float_format="%.4g")
        g = self.grades.copy()
        for col in ("foci", "high_amplitude_channels", "criteria", "focus_polar"):
            if col in g:
                g[col] = g[col].map(lambda v: json.dumps(v, ensure_ascii=False))
        g.to_csv(paths["grades"], sep="\t", index=False, float_format="%.4g")
        events_frame(self.events, self.start_time, self.summary_["duration_s"]).to_csv(
            paths["events"], sep="\t", index=False, na_rep="n/a", float_format="%.3f")
        return paths

    def plot(self, ax=None):
        """Timeline: hypsarrhythmia probability per 5-minute epoch and each spasm as a tick."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(10, 2.5))
        if len(self.grades):
            t = self.grades["onset_s"] / 3600
            ax.step(t, self.grades["grade"].astype(float), where="post", label="BASED grade")
        if len(self.events):
            ax.plot(self.events.onset / 3600, np.full(len(self.events), -0.3), "|", ms=12,
                    color="crimson", label="spasm")
        ax.set_ylim(-0.6, 5.5)
        ax.set_xlabel("time (h)")
        ax.set_ylabel("grade")
        ax.legend(loc="upper right", fontsize=8)
        return ax


def load(out_dir: str | Path, stem: str) -> Analysis:
    """Read an analysis written by :meth:`Analysis.save`."""
    out = Path(out_dir)
    p = out / f"{stem}.summary.json"
    if not p.is_file():
        raise InputError(p, "no hypsa summary here; run `hypsa analyze` first")
    summary = json.loads(p.read_text())
    epochs = pd.read_csv(out / f"{stem}.epochs.tsv", sep="\t")
    grades = pd.read_csv(out / f"{stem}.grades.tsv", sep="\t")
    for col in ("foci", "high_amplitude_channels", "criteria", "focus_polar"):
        if col in grades:
            grades[col] = grades[col].map(json.loads)
    ev = pd.read_csv(out / f"{stem}.events.tsv", sep="\t")
    ev = ev[ev["eventType"] != "bckg"].reset_index(drop=True)
    st = summary.get("start_time")
    return Analysis(summary_=summary, epochs=epochs, grades=grades, events=ev,
                    start_time=datetime.fromisoformat(st) if st else None, stem=stem)
