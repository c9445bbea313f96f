"""The per-recording report: one self-contained HTML file, and the same content as a PDF.

The HTML holds everything inline (CSS, figures as base64 PNG); it loads nothing from the network
and runs no script, so it opens in any browser, offline, and can be archived with the record.
"""

from __future__ import annotations

import html as _html
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hypsa import DISCLAIMER, __version__
from hypsa.errors import HypsaError, ParameterError
from hypsa.metadata import FIELDS, describe_age
from hypsa.rates import rate_text, spasm_rate
from hypsa.report import figures as FG
from hypsa.results import video_text
from hypsa.verdict import GRADE_LABELS, PRESENT, SCORE_LABEL, hypsarrhythmia_verdict

__all__ = ["write_report", "write_pdf", "report_context", "render_html", "ReportContent"]

#: Spasm snippets in the gallery (half most, half least confident); keeps a 24-h report small.
MAX_SPASM_SNIPPETS = 6
#: Half-width of a spasm snippet (s).
SNIPPET_HALF_S = 5.0
#: Length of the hypsarrhythmia snippet (s).
HYPS_SNIPPET_S = 10.0
#: PNG resolution of the figures.
DPI = 80

#: What each BASED grade means, without a verdict in it (:data:`hypsa.verdict.GRADE_LABELS`).
GRADE_TEXT = GRADE_LABELS


@dataclass
class ReportContent:
    """Everything a report shows, independent of the output format.

    Attributes
    ----------
    facts : dict
        Text and numbers (identification, quality, verdict, clusters, methods).
    figures : dict of str to Figure
        ``timeline`` and ``hourly``.
    gallery : list of (Figure, str)
        Snippet figures with their captions.
    gallery_note : str or None
        Why the gallery is empty or short (no source, unreadable source, no spasms).
    video : hypsa.report.video.VideoSection or None
        The frames of each spasm beside its EEG, when the analysis had a video.
    """

    facts: dict
    figures: dict = field(default_factory=dict)
    gallery: list = field(default_factory=list)
    gallery_note: str | None = None
    video: Any = None

    def close(self) -> None:
        """Release the figures."""
        self.figures.clear()
        self.gallery.clear()
        if self.video is not None:
            self.video.close()


def _fmt_dur(s: float | None) -> str:
    if s is None or not np.isfinite(s):
        return "n/a"
    s = float(s)
    h, rem = divmod(int(round(s)), 3600)
    m, sec = divmod(rem, 60)
    if h:
        return f"{h} h {m:02d} min"
    if m:
        return f"{m} min {sec:02d} s"
    return f"{s:.0f} s"


def _cluster_state(c: dict) -> str:
    """Where a cluster falls in the recording's hypnogram, in words."""
    state = c.get("state")
    if state is None:
        return "state not known"
    if state == "wake":
        since = c.get("since_sleep_s")
        if c.get("on_waking"):
            return f"on waking ({since:.0f} s after sleep)"
        return f"awake ({since / 60:.0f} min after sleep)" if since is not None else "awake"
    return {"nrem": "in NREM sleep", "rem": "in REM sleep"}.get(state, "state not scored")


def _sleep_wake_note(sw: dict, n_clusters: int) -> str:
    """One sentence on where the sleep-wake states come from."""
    if not n_clusters:
        return ""
    if not sw.get("source"):
        return ("Sleep-wake state: not known (the recording has no sleep-stage annotations; "
                "hypsa does not stage sleep for this).")
    from hypsa.vigilance import SOURCES

    return (f"Sleep-wake state from {SOURCES.get(sw['source'], sw['source'])}: "
            f"{sw.get('clusters_on_waking', 0)} of {n_clusters} cluster(s) began on waking "
            f"(awake, at most {sw.get('waking_window_s', 300):g} s after sleep), "
            f"{sw.get('clusters_in_sleep', 0)} in sleep.")


def _clock(start: datetime | None, t: float) -> str:
    return (start + timedelta(seconds=float(t))).strftime("%H:%M:%S") if start else "n/a"


def _fmt2(v: Any) -> str:
    """A number with two decimals, or "n/a"."""
    x = _num(v)
    return "n/a" if x is None else f"{x:.2f}"


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


def _state_source(analysis: Any) -> str:
    """Where the sleep-wake states came from, in words (for the limitations)."""
    ep = analysis.epochs
    sw = (analysis.summary_.get("spasms") or {}).get("sleep_wake") or {}
    if len(ep) and "state_source" in ep:
        scored = float((ep["state_source"].astype(str) == "annotations").mean())
        if scored > 0:
            from hypsa.vigilance import SOURCES

            where = SOURCES.get(sw.get("source") or "annotations",
                                "the recording's sleep-stage annotations")
            rest = ("" if scored >= 0.999 else
                    f"; estimated from the EEG alone for the other {100 * (1 - scored):.0f} %")
            return (f"Sleep-wake state taken from {where} for {100 * scored:.0f} % of the "
                    f"epochs{rest}. Hypsarrhythmia fades in REM sleep and on arousal, so a "
                    "recording without NREM sleep may under-grade.")
    return ("Sleep-wake state is estimated from the EEG alone (the recording carries no "
            "sleep-stage annotations); hypsarrhythmia fades in REM sleep and on arousal, so a "
            "short recording without NREM sleep may under-grade.")


def _event_kinds() -> str:
    from hypsa.rates import EVENT_KINDS

    return "; ".join(f"{k}: {v}" for k, v in EVENT_KINDS.items())


def processing_facts(analysis: Any, reference: str | None = None) -> dict:
    """Montage, reference, filters, notch and the counts behind the grade, as applied.

    Parameters
    ----------
    analysis : hypsa.results.Analysis
        The analysis.
    reference : str, optional
        The recording's reference when known (from its channel labels).

    Returns
    -------
    dict
        ``montage, reference, filters, notch, n_derivations, epochs_graded,
        epochs_not_graded, epochs_grade_4_plus, epochs_slow_form``.
    """
    from hypsa.signal import ANALYSIS_SFREQ

    s = analysis.summary_
    ev = (s.get("hypsarrhythmia") or {}).get("evidence") or {}
    g = analysis.grades
    n_bip = None
    derivs = (ev.get("montage") or {}).get("derivations")
    if derivs:
        n_bip = len(derivs)
    elif len(g) and "n_bipolar" in g:
        vals = pd.to_numeric(g["n_bipolar"], errors="coerce").dropna()
        n_bip = int(vals.max()) if len(vals) else None
    counts = {int(k): int(v) for k, v in (ev.get("grade_counts") or {}).items()}
    slow = 0
    if len(g) and "slow_variant" in g and "grade" in g:
        sv = g["slow_variant"].astype(str).str.lower().isin(["true", "1", "1.0"])
        slow = int((sv & (pd.to_numeric(g["grade"], errors="coerce") < 4)).sum())
    mains = (s.get("quality") or {}).get("mains_hz") or []
    return {
        "montage": "longitudinal bipolar (double banana), 18 derivations"
                   + (f"; {n_bip} available" if n_bip is not None else ""),
        "reference": (f"recorded against {reference}; re-referenced to the bipolar montage"
                      if reference else "as recorded (referential input); re-referenced to the "
                      "bipolar montage"),
        "filters": (f"resampled to {ANALYSIS_SFREQ:g} Hz; 0.5-45 Hz band-pass (4th-order "
                    "Butterworth, zero phase); spike and spasm detectors use their own bands "
                    "within it"),
        "notch": (", ".join(f"{m:g} Hz" for m in mains) + " and harmonics (Q 30), in the "
                  "windows where mains interference was detected" if mains else
                  "none (no mains interference detected)"),
        "n_derivations": n_bip,
        "epochs_graded": int(ev.get("epochs_graded", 0) or 0),
        "epochs_not_graded": int(ev.get("epochs_not_graded", 0) or 0),
        "epochs_grade_4_plus": sum(v for k, v in counts.items() if k >= 4),
        "epochs_slow_form": slow,
    }


def _metadata(analysis: Any, source: Any) -> dict:
    """The recording metadata stored with the analysis, else read beside the recording."""
    meta = analysis.summary_.get("metadata")
    if not (meta or {}).get("sources") and source is not None and not hasattr(source,
                                                                             "channels"):
        from hypsa.errors import InputError
        from hypsa.metadata import read_metadata

        try:
            meta = read_metadata(source)
        except InputError:
            meta = None
    return meta or {}


def report_context(analysis: Any, source: Any = None, reference: str | None = None) -> dict:
    """The facts of a report (no figures), as plain Python values.

    De-identified: the file stem and the recording date only; no path, name or ID.

    Parameters
    ----------
    analysis : hypsa.results.Analysis
        The analysis.
    source : path, optional
        The recording, to read its metadata (:mod:`hypsa.metadata`) when the analysis holds none.
    reference : str, optional
        The recording's reference electrode, when known.

    Returns
    -------
    dict
    """
    s = analysis.summary_
    h = s.get("hypsarrhythmia", {}) or {}
    sp = s.get("spasms", {}) or {}
    q = s.get("quality", {}) or {}
    ev = h.get("evidence", {}) or {}
    ge = ev.get("graded_epoch") or {}
    start = analysis.start_time
    grade = h.get("based_score")
    prob = _num(h.get("probability"))
    v = hypsarrhythmia_verdict(h)
    events = analysis.events
    clusters = []
    for c in sp.get("clusters", []) or []:
        conf = None
        if len(events) and "cluster" in events and "confidence" in events:
            sel = events[events["cluster"] == c["cluster"]]
            conf = float(sel["confidence"].mean()) if len(sel) else None
        clusters.append({
            "n": int(c["cluster"]) + 1,
            "clock": _clock(start, c["onset"]),
            "onset_s": f"{c['onset']:.1f}",
            "duration": _fmt_dur(c["offset"] - c["onset"]),
            "count": int(c["count"]),
            "confidence": f"{conf:.2f}" if conf is not None else "n/a",
            "sleep_wake": _cluster_state(c),
        })
    sw = sp.get("sleep_wake") or {}
    mains = q.get("mains_hz") or []
    bad = q.get("bad_channels") or []
    reasons = q.get("bad_channel_reasons") or {}
    verdict = {"present": "Hypsarrhythmia PRESENT", "absent": "Hypsarrhythmia absent",
               "not_assessable": "Hypsarrhythmia not assessable"}[v["verdict"]]
    grade_text = v["grade_label"] or "not graded: no 5-minute epoch had enough usable EEG"
    thr = ev.get("thresholds") or {}
    rate = sp.get("rate") or spasm_rate(int(sp.get("count", 0)),
                                        float(s.get("analysed_s") or 0.0) / 3600)
    lo_hi = rate.get("per_hour_ci95") or [None, None]
    kinds = []
    if sp.get("count_with_movement") is not None:
        kinds.append(f"{sp['count_with_movement']} with an EMG/movement correlate")
    if sp.get("count_eeg_only") is not None:
        kinds.append(f"{sp['count_eeg_only']} on EEG only")
    if sp.get("n_eeg_decrement"):
        kinds.append(f"{sp['n_eeg_decrement']} electrodecrement event(s) without the spasm "
                     "pattern listed, not counted")
    meta = _metadata(analysis, source)
    msrc = meta.get("sources") or {}
    metadata = [{"field": FIELDS[k].split(" (")[0], "value": (f"{meta[k]:g} weeks"
                 if isinstance(meta[k], int | float) else str(meta[k])),
                 "source": msrc.get(k, "")} for k in FIELDS if meta.get(k) is not None]
    return {
        "stem": analysis.stem,
        "date": start.date().isoformat() if start else "unknown",
        "start_clock": start.strftime("%H:%M") if start else "unknown",
        "recorded": _fmt_dur(s.get("recorded_s")),
        "duration": _fmt_dur(s.get("duration_s")),
        "analysed": _fmt_dur(s.get("analysed_s")),
        "excluded": _fmt_dur(s.get("excluded_s")),
        "excluded_pct": (f"{100 * s['excluded_s'] / s['recorded_s']:.1f} %"
                         if s.get("recorded_s") else "n/a"),
        "segments": q.get("segments", 1),
        "bad_channels": ", ".join(f"{b} ({reasons.get(b, 'bad')})" for b in bad) or "none",
        "bad_list": list(bad),
        "mains": ", ".join(f"{m:g} Hz" for m in mains) or "not detected",
        "grade": grade,
        "present": v["verdict"] == PRESENT,
        "verdict_key": v["verdict"],
        "verdict_rule": v["verdict_rule"],
        "warnings": [str(w) for w in (h.get("warnings") or [])],
        "probability": f"{prob:.2f}" if prob is not None else "n/a",
        "score_label": SCORE_LABEL,
        "verdict": verdict,
        "grade_text": grade_text,
        "criteria": list(ev.get("criteria_met") or []),
        "graded_epoch": {
            "clock": _clock(start, ge["onset_s"]) if ge.get("onset_s") is not None else "n/a",
            "onset_s": ge.get("onset_s"),
            "state": ge.get("state", "n/a"),
            "n_foci": ge.get("n_foci", "n/a"),
            "spike_bin_fraction": (f"{100 * ge['spike_bin_fraction']:.0f} %"
                                   if ge.get("spike_bin_fraction") is not None else "n/a"),
            "pages": f"{ge.get('positive_pages', 'n/a')}/{ge.get('n_pages', 'n/a')}",
            "high_amp": len(ge.get("high_amplitude_channels") or []),
            "median_amp": ge.get("median_amplitude_uv"),
            "max_amp": ge.get("max_channel_amplitude_uv"),
            "attenuations": ge.get("n_attenuations", "n/a"),
            "perm_entropy": ge.get("perm_entropy"),
            "connectivity": ge.get("connectivity"),
        },
        "grade_counts": ", ".join(f"grade {k}: {v}" for k, v in
                                  sorted((ev.get("grade_counts") or {}).items())) or "n/a",
        "epochs_graded": ev.get("epochs_graded", 0),
        "epochs_not_graded": ev.get("epochs_not_graded", 0),
        "processing": processing_facts(analysis, reference),
        "spasm_count": int(sp.get("count", 0)),
        "count_kinds": "; ".join(kinds),
        "count_includes": sp.get("count_includes") or "",
        "analysed_h": f"{rate.get('analysed_h') or 0.0:.2f}",
        "per_hour": (f"{rate['per_hour']:.1f}" if rate.get("per_hour") is not None else "n/a"),
        "per_hour_ci": (f"{lo_hi[0]:.1f}-{lo_hi[1]:.1f}" if lo_hi[0] is not None else "n/a"),
        "per_24h": (f"{rate['per_24h']:.0f}" if _num(rate.get("per_24h")) is not None
                    else None),
        "extrapolated_from_h": (f"{rate['extrapolated_from_h']:.1f}"
                                if _num(rate.get("extrapolated_from_h")) is not None else None),
        "min_hours_for_24h": f"{rate.get('min_hours_for_24h', 1.0):g}",
        "rate_text": rate_text(rate),
        "n_clusters": int(sp.get("n_clusters", 0)),
        "isolated": int(sp.get("isolated", 0)),
        "cluster_gap_s": sp.get("cluster_gap_s", "n/a"),
        "min_confidence": f"{sp['min_confidence']:.2f}" if sp.get("min_confidence") is not None
        else "n/a",
        "spasm_model": ((sp.get("model") or {}).get("sha256") or "n/a")[:12],
        "window_model": (((sp.get("model") or {}).get("window") or {}).get("sha256")
                         or "n/a")[:12],
        "recording_model": (((sp.get("model") or {}).get("recording") or {}).get("sha256")
                            or "n/a")[:12],
        "recording_threshold": _fmt2(((sp.get("model") or {}).get("recording") or {})
                                     .get("threshold")),
        "recording_threshold_other": _fmt2(((sp.get("model") or {}).get("recording") or {})
                                           .get("threshold_other")),
        "recording_threshold_used": (
            f"this recording was read at {sp['recording_threshold_rule']}"
            if sp.get("recording_threshold_rule") else
            "this recording was not read at the recording level (fewer than 20 candidates within "
            "10 minutes, or the reading turned off)"),
        "n_generators": len((sp.get("model") or {}).get("trained_on") or []) or "several",
        "clusters": clusters,
        "sleep_wake_note": _sleep_wake_note(sw, len(clusters)),
        "detection_note": sp.get("detection_note") or "",
        "movement_note": video_text(s.get("video")),
        "state_source": _state_source(analysis),
        "metadata": metadata,
        "age": describe_age(meta),
        "event_kinds": _event_kinds(),
        "sensitivity": f"{FG.SENSITIVITY_UV_MM:g}",
        "timebase": f"{FG.TIMEBASE_MM_S:g}",
        "high_uv": thr.get("high_uv", 200.0),
        "pages_needed": thr.get("pages_needed", 10),
        "bins_per_page": thr.get("bins_per_page", 8),
        "version": s.get("hypsa_version", __version__),
        "disclaimer": DISCLAIMER,
        "generated": datetime.now().strftime("%Y-%m-%d %H:%M"),
    }


def _pick_spasms(events: pd.DataFrame, n: int) -> list[tuple[int, str]]:
    """Indices of the most and least confident spasms (at most ``n``), with a label."""
    if not len(events):
        return []
    conf = pd.to_numeric(events.get("confidence", pd.Series(np.nan, index=events.index)),
                         errors="coerce").fillna(0.0)
    order = conf.sort_values(ascending=False, kind="stable").index.tolist()
    if len(order) <= n:
        return [(i, "detected spasm") for i in sorted(order, key=lambda i: -conf[i])]
    k = (n + 1) // 2
    top = order[:k]
    low = order[-(n - k):]
    return [(i, "most confident") for i in top] + [(i, "least confident") for i in low]


def _hyps_stretch(analysis: Any) -> float | None:
    """Start of the most hypsarrhythmic 10-s stretch inside the graded epoch (recording time)."""
    ge = (analysis.summary_.get("hypsarrhythmia", {}).get("evidence", {}) or {}).get(
        "graded_epoch") or {}
    if ge.get("onset_s") is None:
        return None
    t0 = float(ge["onset_s"])
    t1 = t0 + float(ge.get("duration_s") or 300.0)
    ep = analysis.epochs
    if not len(ep):
        return t0
    sel = ep[(ep["onset"] >= t0 - 1e-6) & (ep["onset"] < t1)]
    if "excluded" in sel:
        ok = ~sel["excluded"].astype(str).str.lower().isin(["true", "1", "1.0"])
        sel = sel[ok] if ok.any() else sel
    if not len(sel):
        return t0
    score = sel["spike_bins"].astype(float).rank() + sel["amp_bipolar_median_uv"].astype(
        float).rank() / (len(sel) + 1)
    return float(sel.loc[score.idxmax(), "onset"])


def _best_10s(sn: FG.Snippet, length_s: float) -> FG.Snippet:
    """The ``length_s`` sub-window of a snippet with the largest mean absolute voltage."""
    n = int(round(length_s * sn.sfreq))
    if sn.data.shape[1] <= n:
        return sn
    step = int(round(sn.sfreq))
    a = np.abs(sn.data).mean(axis=0)
    c = np.concatenate([[0.0], np.cumsum(a)])
    starts = np.arange(0, sn.data.shape[1] - n + 1, step)
    best = int(starts[np.argmax(c[starts + n] - c[starts])])
    emg = sn.emg[best:best + n] if sn.emg is not None else None
    return FG.Snippet(sn.data[:, best:best + n], sn.sfreq, sn.names, sn.start_s + best / sn.sfreq,
                      None, sn.title, emg, sn.emg_name, sn.notch_hz, sn.band)


def _reference(rec: Any) -> str | None:
    """The reference electrode the EEG channel labels name (``EEG Fp1-REF`` -> ``REF``), when
    most channels share one; None otherwise."""
    tails = []
    for c in rec.channels:
        if c.kind != "eeg":
            continue
        lab = str(c.label).strip()
        if "-" in lab:
            tails.append(lab.rsplit("-", 1)[1].strip())
    if not tails:
        return None
    best = max(set(tails), key=tails.count)
    return best if best and tails.count(best) >= 0.8 * len(tails) else None


def _kind(ev: pd.DataFrame, i: Any) -> str:
    """The event's kind (``trial_type``), e.g. ``spasm_eeg_movement``."""
    for col in ("trial_type", "eventType"):
        if col in ev and isinstance(ev.loc[i, col], str):
            return str(ev.loc[i, col])
    return "detected spasm"


def _read_source(source: Any) -> tuple[Any, str | None]:
    if source is None:
        return None, ("EEG snippets not shown: the recording was not given (re-build with "
                      "`hypsa report ... --source EEG`).")
    try:
        from hypsa.io import Recording, read

        return (source if isinstance(source, Recording) else read(source)), None
    except (HypsaError, OSError, ValueError) as exc:
        return None, f"EEG snippets not shown: the recording could not be read ({exc})."


def _gallery(analysis: Any, rec: Any, bad: list[str]) -> tuple[list, str | None]:
    out = []
    notes = []
    start = analysis.start_time
    mains = ((analysis.summary_.get("quality") or {}).get("mains_hz") or [None])[0]
    try:
        t_h = _hyps_stretch(analysis)
        if t_h is not None:
            sn = FG.read_snippet(rec, t_h, t_h + 15.0, title="", notch_hz=mains)
            sn = _best_10s(sn, HYPS_SNIPPET_S)
            sn.title = (f"Most hypsarrhythmic 10 s of the graded epoch — "
                        f"{_clock(start, sn.start_s)} ({sn.start_s:.0f} s)")
            out.append((FG.snippet_figure(sn, bad), sn.title))
        ev = analysis.events
        if len(ev) and "trial_type" in ev:  # electrodecrements are listed, not shown as spasms
            ev = ev[ev["trial_type"].astype(str) != "eeg_decrement"]
        for i, label in _pick_spasms(ev, MAX_SPASM_SNIPPETS):
            on = float(ev.loc[i, "onset"])
            conf = float(ev.loc[i, "confidence"]) if "confidence" in ev else float("nan")
            title = (f"{_kind(ev, i)} at {_clock(start, on)} ({on:.1f} s), {label}, "
                     f"pattern score {conf:.2f}")
            sn = FG.read_snippet(rec, on - SNIPPET_HALF_S, on + SNIPPET_HALF_S, mark_s=on,
                                 title=title, notch_hz=mains)
            out.append((FG.snippet_figure(sn, bad), title))
        if not len(ev):
            notes.append("No spasm was detected, so no spasm snippet is shown.")
    except (HypsaError, OSError, ValueError) as exc:
        notes.append(f"Some EEG snippets could not be read ({exc}).")
    return out, " ".join(notes) or None


def build_content(analysis: Any, source: Any = None, *, video: list | None = None,
                  frames: bool = True, blur_faces: bool = False) -> ReportContent:
    """Facts, figures and gallery of one report.

    Parameters
    ----------
    analysis : hypsa.results.Analysis
        The analysis.
    source : path or Recording, optional
        The analysed recording, for the EEG snippets.
    video : list of (path, float), optional
        The analysed clips and their offsets on the recording (s); default: the clips named in
        the analysis summary, looked for as named and beside the recording.
    frames : bool
        Show the frames of each spasm when the analysis had a video (False: none, for
        de-identification).
    blur_faces : bool
        Blur skin-coloured areas (faces) in the frames shown.

    Returns
    -------
    ReportContent
    """
    rec, note = _read_source(source)
    facts = report_context(analysis, source=source if rec is None or not hasattr(
        source, "channels") else None, reference=_reference(rec) if rec is not None else None)
    figs = {
        "timeline": FG.timeline_figure(analysis.summary_, analysis.epochs, analysis.grades,
                                       analysis.events),
        "hourly": FG.hourly_figure(analysis.summary_, analysis.events, analysis.start_time),
    }
    gallery: list = []
    if rec is not None:
        gallery, note = _gallery(analysis, rec, facts["bad_list"])
    from hypsa.report.video import video_section

    mains = ((analysis.summary_.get("quality") or {}).get("mains_hz") or [None])[0]
    vid = video_section(analysis, rec, clips=video,
                        source=source if isinstance(source, str | Path) else None,
                        frames=frames, blur_faces=blur_faces, bad=facts["bad_list"],
                        notch_hz=mains)
    return ReportContent(facts, figs, gallery, note, vid)


def _env():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent)),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(content: ReportContent, dpi: int = DPI) -> str:
    """The self-contained HTML text of a report.

    Parameters
    ----------
    content : ReportContent
        What to show.
    dpi : int
        PNG resolution.

    Returns
    -------
    str
    """
    imgs = {k: FG.to_base64(f, dpi) for k, f in content.figures.items()}
    gallery = [{"src": FG.to_base64(f, max(dpi, 110)), "caption": c,
                "width_mm": round(getattr(f, "hypsa_size_mm", (140.0, 0))[0], 1)}
               for f, c in content.gallery]
    video = None
    if content.video is not None:
        v = content.video
        video = {"clips": v.clips, "notes": v.notes, "frames": v.frames, "rows": [
            {"caption": r["caption"], "frames": r["frames"],
             "eeg": FG.to_base64(r["figure"], 60) if r["figure"] is not None else None}
            for r in v.rows]}
    return _env().get_template("template.html").render(
        f=content.facts, img=imgs, gallery=gallery, gallery_note=content.gallery_note,
        video=video,
        methods=METHODS_TEXT.format(**content.facts),
        limitations=limitations(content.facts))


def write_report(analysis: Any, out_dir: str | Path, source: Any = None, *,
                 video: list | None = None, frames: bool = True,
                 blur_faces: bool = False) -> Path:
    """Write ``<out_dir>/<stem>.report.html``, a self-contained report of one recording.

    Contents: identification (file stem and date only), recording facts and quality, the
    verdict (BASED grade, probability, criteria; spasm counts and clusters), a timeline, an
    hourly histogram of spasms, the cluster table, EEG snippets of the most and least confident
    spasms and of the most hypsarrhythmic 10 s of the graded epoch, methods and limitations.
    When the analysis had a video: the frames of each spasm (before, at and after its onset)
    beside its EEG (:mod:`hypsa.report.video`).

    Parameters
    ----------
    analysis : hypsa.results.Analysis
        The analysis (from :func:`hypsa.analysis.analyze` or :func:`hypsa.results.load`).
    out_dir : str or Path
        Output folder (created if needed).
    source : path or Recording, optional
        The analysed recording; without it (or if it cannot be read) the gallery says so.
    video : list of (path, float), optional
        The analysed clips and their offsets on the recording (s); default: those named in
        the analysis summary.
    frames : bool
        Show the frames of each spasm (False: no picture from the video, for
        de-identification).
    blur_faces : bool
        Blur skin-coloured areas (faces) in the frames.

    Returns
    -------
    Path
        The HTML file written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    content = build_content(analysis, source, video=video, frames=frames,
                            blur_faces=blur_faces)
    try:
        text = render_html(content)
    finally:
        content.close()
    path = out / f"{analysis.stem}.report.html"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------- PDF
def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        p = shutil.which(name)
        if p:
            return p
    return None


def _pdf_chromium(html_path: Path, out_pdf: Path, exe: str, timeout: float = 90.0) -> bool:
    with tempfile.TemporaryDirectory(prefix="hypsa-chromium-") as prof:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--no-pdf-header-footer",
               f"--user-data-dir={prof}", f"--print-to-pdf={out_pdf}",
               html_path.resolve().as_uri()]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False,
                           env={**os.environ, "HOME": prof})
        except (OSError, subprocess.TimeoutExpired):
            return False
    return out_pdf.is_file() and out_pdf.stat().st_size > 1000


def _text_page(pdf: Any, title: str, blocks: list[tuple[str, list[str]]], size: float = 9) -> None:
    """Write headed paragraphs of text on A4 pages (new page when full)."""
    import textwrap

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def new_page() -> tuple[Any, float]:
        fig = Figure(figsize=(8.27, 11.69))
        FigureCanvasAgg(fig)
        return fig, 0.95

    fig, y = new_page()
    fig.text(0.07, y, title, fontsize=15, weight="bold", va="top")
    y -= 0.045
    for head, lines in blocks:
        if y < 0.12:
            pdf.savefig(fig)
            fig, y = new_page()
        big = head.startswith("!")
        head = head.lstrip("!")
        fig.text(0.07, y, head, fontsize=13 if big else 11, weight="bold", va="top",
                 color="#a61e4d" if big else "k")
        y -= 0.03 if big else 0.025
        for line in lines:
            for w in textwrap.wrap(line, 95 if not big else 70) or [""]:
                if y < 0.05:
                    pdf.savefig(fig)
                    fig, y = new_page()
                fig.text(0.09, y, w, fontsize=size + (3 if big else 0), va="top",
                         family="DejaVu Sans")
                y -= (0.018 if not big else 0.024) * (size / 9)
        y -= 0.012
    pdf.savefig(fig)


def _pdf_matplotlib(content: ReportContent, out_pdf: Path) -> None:
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    f = content.facts
    g = f["graded_epoch"]
    pr = f["processing"]
    blocks = [
        ("Identification", [f"Recording: {f['stem']}   Date: {f['date']}   Start: "
                            f"{f['start_clock']}"]),
        ("Patient and recording", [f"{m['field']}: {m['value']} ({m['source']})"
                                   for m in f["metadata"]]
         or ["Age, medication and indication: not given."]),
        ("Recording and quality", [
            f"Duration {f['duration']} ({f['recorded']} recorded, {f['segments']} segment(s)); "
            f"analysed {f['analysed']}; excluded as artifact {f['excluded']} "
            f"({f['excluded_pct']}).",
            f"Bad channels: {f['bad_channels']}. Mains: {f['mains']}.",
            f"Montage: {pr['montage']}. Reference: {pr['reference']}. Filters: {pr['filters']}. "
            f"Notch: {pr['notch']}."]),
        ("!Verdict", [
            f"{f['verdict']}",
            f"Rule: {f['verdict_rule']}",
            *[f"Caution: {w}" for w in f["warnings"]],
            f"BASED grade {f['grade'] if f['grade'] is not None else 'n/a'} "
            f"({f['grade_text']}); hypsarrhythmia score {f['probability']} ({f['score_label']})",
            *[f"Criterion met: {c}" for c in f["criteria"]],
            f"Epochs graded: {pr['epochs_graded']} ({pr['epochs_grade_4_plus']} at grade >= 4); "
            f"not graded: {pr['epochs_not_graded']}; derivations: {pr['n_derivations']}.",
            f"Spasms: {f['rate_text']}; {f['n_clusters']} cluster(s)"
            + (f" and {f['isolated']} isolated." if f["isolated"] else ".")
            + (f" Of them: {f['count_kinds']}." if f["count_kinds"] else ""),
            *([f["detection_note"]] if f["detection_note"] else []),
            *([f["movement_note"]] if f["movement_note"] else [])]),
        ("Graded epoch", [
            f"Starts {g['clock']} ({g['onset_s']} s), state {g['state']}; {g['n_foci']} spike "
            f"foci; spikes in {g['spike_bin_fraction']} of 1-s bins ({g['pages']} pages); "
            f"{g['high_amp']} high-amplitude bipolar channel(s); {g['attenuations']} "
            "attenuation(s).",
            f"Grades of all epochs: {f['grade_counts']}."]),
        ("Spasm clusters", [
            f"#{c['n']}: {c['clock']} ({c['onset_s']} s), {c['duration']}, {c['count']} spasms,"
            f" mean confidence {c['confidence']}; {c['sleep_wake']}" for c in f["clusters"]]
            + ([f["sleep_wake_note"]] if f["clusters"] else []) or ["none"]),
        ("Methods", [METHODS_TEXT.format(**f)]),
        ("Limitations", limitations(f)),
        ("Statement", [f["disclaimer"]]),
    ]
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(out_pdf) as pdf:
        _text_page(pdf, f"hypsa report — {f['stem']}", blocks)
        for fig in content.figures.values():
            pdf.savefig(fig, bbox_inches="tight")
        if content.gallery_note:
            _text_page(pdf, "EEG snippets", [("Note", [content.gallery_note])])
        for fig, _cap in content.gallery:
            pdf.savefig(fig, bbox_inches="tight")
        info = pdf.infodict()
        info["Title"] = f"hypsa report {f['stem']}"
        info["Creator"] = f"hypsa {f['version']}"


def write_pdf(analysis: Any, out_pdf: str | Path, source: Any = None,
              engine: str = "auto", **video: Any) -> Path:
    """Write the report as a PDF.

    Parameters
    ----------
    analysis : hypsa.results.Analysis
        The analysis.
    out_pdf : str or Path
        Target ``.pdf`` file.
    source : path or Recording, optional
        The analysed recording, for the EEG snippets.
    engine : {"auto", "chromium", "matplotlib"}
        ``"chromium"`` prints the HTML report with headless Chromium (identical layout);
        ``"matplotlib"`` writes text pages and the same figures with matplotlib only;
        ``"auto"`` uses Chromium when it is installed and falls back to matplotlib.
    **video
        ``video``, ``frames``, ``blur_faces`` as for :func:`write_report`.

    Returns
    -------
    Path
        The PDF written.
    """
    if engine not in ("auto", "chromium", "matplotlib"):
        raise ParameterError(f"engine must be auto, chromium or matplotlib, not {engine!r}")
    out_pdf = Path(out_pdf)
    out_pdf.parent.mkdir(parents=True, exist_ok=True)
    content = build_content(analysis, source, **video)
    try:
        exe = find_chromium() if engine in ("auto", "chromium") else None
        if engine == "chromium" and exe is None:
            raise ParameterError("engine='chromium' but no chromium executable is installed")
        if exe is not None:
            with tempfile.TemporaryDirectory(prefix="hypsa-report-") as tmp:
                hp = Path(tmp) / f"{analysis.stem}.report.html"
                hp.write_text(render_html(content), encoding="utf-8")
                if _pdf_chromium(hp, out_pdf, exe):
                    return out_pdf
            if engine == "chromium":
                raise ParameterError("chromium failed to print the report to PDF")
        _pdf_matplotlib(content, out_pdf)
    finally:
        content.close()
    return out_pdf


METHODS_TEXT = (
    "The EEG was read in 5-minute windows, re-referenced to a longitudinal bipolar (double "
    "banana) montage, resampled to 128 Hz, band-passed 0.5-45 Hz (notched at the mains "
    "frequency where interference was found) and screened for artifact (flat, clipped, "
    "muscle, eye, extreme amplitude; 15-s epochs with more than half artifact are excluded). "
    "Hypsarrhythmia is graded on the BASED scale (Mytinger et al. 2021) on each 5-minute "
    "epoch and the most epileptic epoch is reported: spikes are detected and grouped into "
    "foci, a bipolar channel is high amplitude above {high_uv:g} µV peak-to-peak, and 'spikes "
    "in >= 50 % of bins' means >= {pages_needed} of twenty 15-s pages with >= {bins_per_page} "
    "spike bins. Grades 4-5 are hypsarrhythmia, and so is a grade 3 with diffuse very high "
    "voltage in a disorganised background and a spike focus (the slow-wave form of modified "
    "hypsarrhythmia); the verdict states which rule decided it. Spasms are detected from the "
    "ictal EEG pattern (high-voltage slow wave, fast activity, electrodecrement) and the "
    "deltoid EMG when recorded; each candidate's confidence is a calibrated probability from a "
    "gradient-boosted model of its measurements and of a small convolutional network's score "
    "of the EEG curves around it (model sha256 {spasm_model}..., network {window_model}...), "
    "trained on {n_generators} independent generators of simulated EEG; an event counts as a "
    "spasm from "
    "a score of {min_confidence}. Once the whole recording is analysed, each candidate with 20 "
    "or more others within 10 minutes is scored again by a second model that also reads ten "
    "of its measurements against those of the other candidates (model sha256 "
    "{recording_model}..., a spasm from {recording_threshold}, or from "
    "{recording_threshold_other} where the grades do not call the recording hypsarrhythmic; "
    "{recording_threshold_used}): most candidates of a recording "
    "are not spasms, so they are the reference for its gain, montage and background. Spasms "
    "less than {cluster_gap_s} s apart form a cluster. "
    "Rates are per analysed hour with an exact 95 % Poisson interval; a per-24-h figure is "
    "given only from {min_hours_for_24h} h of analysed EEG."
)
LIMITATIONS = [
    "Automated grading and detection: every finding needs review of the raw EEG by a qualified "
    "clinician; human inter-rater agreement on hypsarrhythmia is itself only fair to moderate.",
    "Spasms without an EEG or EMG correlate (subtle spasms, head nods) can be missed, and so "
    "can spasms without an electrodecrement; artifacts (movement, sucking, patting) and the "
    "attenuation episodes of modified hypsarrhythmia can be mistaken for spasms. An event seen "
    "on EEG only is not a clinical spasm until video or examination confirms it.",
    "The BASED high-amplitude threshold (200 µV) is a documented default, not a validated value.",
    "The hypsarrhythmia score is a pre-specified logistic score, not fitted or calibrated on "
    "labelled recordings: it ranks epochs and is not a probability.",
    "Validated on simulated recordings and non-infantile-spasms real EEG only.",
]


def limitations(facts: dict) -> list[str]:
    """The limitations of this report: :data:`LIMITATIONS` and where the sleep-wake state came
    from (the file's own stages or an estimate)."""
    return [*LIMITATIONS[:3], facts.get("state_source") or "", *LIMITATIONS[3:]]


def escape(s: str) -> str:
    """HTML-escape a string (for callers building their own pages)."""
    return _html.escape(s)
