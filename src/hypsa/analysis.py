"""One recording, streamed, end to end: ``analyze(path) -> Analysis``.

The recording is read as a stream of 5-minute windows (the BASED epoch) with a few seconds of
context on each side, so memory does not grow with its length and no window straddles a gap of
a discontinuous file. Each window is conditioned (:mod:`hypsa.signal`), described per epoch
(:mod:`hypsa.features`), searched for discharges (:mod:`hypsa.spikes`) and spasms
(:mod:`hypsa.spasms`), and graded (:mod:`hypsa.hypsarrhythmia`). Windows are independent, so
they are processed in parallel worker processes, each opening the file itself.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hypsa import features as F
from hypsa.channels import STANDARD_19, bipolar
from hypsa.errors import BadSignalError, NoEEGChannelsError
from hypsa.hypsarrhythmia import (
    GradingParams,
    grade_window,
    montage_pairs,
    probability,
    sliding_rows,
    slow_variant,
)
from hypsa.io import Recording, as_recording, read
from hypsa.kernels import median
from hypsa.signal import (
    EYE_CHANNELS,
    artifact_mask,
    bandpass,
    bin_ptp,
    conditioned,
)
from hypsa.spasm_movement import VIDEO_FEATURE, movement_spasms, movements_without_spasm
from hypsa.spasm_recording import called_hypsarrhythmic, threshold_for
from hypsa.spasm_recording import reread as recording_reread
from hypsa.spasm_score import ATTENUATED_PER_MIN, attenuations_per_min, detection_note
from hypsa.spasms import (
    EEG_DECREMENT,
    EVENT_TYPES,
    SPASM_EEG,
    SPASM_TYPES,
    SpasmParams,
    cluster_spasms,
    detect_spasms,
    emg_envelope,
    fast_band,
)
from hypsa.spikes import SpikeParams

__all__ = ["AnalysisParams", "analyze", "analyze_window"]


@dataclass(frozen=True)
class AnalysisParams:
    """Parameters of a whole analysis (each module's own thresholds are nested).

    Attributes
    ----------
    epoch_s : float
        Length of the feature epochs (rows of ``epochs.tsv``), 10-30 s; 15 s is a BASED page.
    based_epoch_s : float
        Length of the graded epoch (BASED: 5 minutes).
    pad_s : float
        Context read on each side of a window for filters and spasm background.
    max_artifact_fraction : float
        Feature epochs with more artifact than this are excluded from grading, and counted.
    grading, spikes, spasms : GradingParams, SpikeParams, SpasmParams
        Module thresholds.
    spasm_model : hypsa.study.calibrate.SiteModel, optional
        A site model (``hypsa calibrate``) that decides which spasm candidates are spasms
        instead of the shipped threshold; set with :meth:`SiteModel.params`, which also lowers
        ``spasms.min_confidence`` to the model's floor. ``summary.json`` names it.
    recording_level : bool
        Read the spasm candidates again once every window is analysed, each against the other
        candidates of its recording (:mod:`hypsa.spasm_recording`; not with ``spasm_model``).
    video_series_spasms : bool
        With a video (``analyze(..., movement=)``), count each of its sudden symmetric movements
        that recur in a series as a spasm where an EEG candidate at that moment shows a
        generalized slow wave or electrodecrement (:mod:`hypsa.spasm_movement`); False: such
        movements are only listed for review.
    """

    epoch_s: float = 15.0
    based_epoch_s: float = 300.0
    pad_s: float = 12.0
    max_artifact_fraction: float = 0.5
    grading: GradingParams = field(default_factory=GradingParams)
    spikes: SpikeParams = field(default_factory=SpikeParams)
    spasms: SpasmParams = field(default_factory=SpasmParams)
    spasm_model: Any = None
    recording_level: bool = True
    video_series_spasms: bool = True


# --------------------------------------------------------------------------------------------
# one window


@dataclass
class WindowResult:
    """What one 5-minute window contributes to the analysis."""

    epochs: pd.DataFrame
    grade: dict
    events: pd.DataFrame
    bad_channels: dict[str, str]
    mains: float | None
    excluded_s: float
    analysed_s: float
    discharges: pd.DataFrame | None = None
    attenuations: pd.DataFrame | None = None
    span: Any = None
    #: every spasm candidate of the core, decided (onset in recording seconds), for the
    #: recording-level reading (:mod:`hypsa.spasm_recording`)
    candidates: pd.DataFrame | None = None


def _spasm_bands(bank, main: tuple, good: list[int], slow: np.ndarray,
                 sfreq: float) -> tuple[np.ndarray, ...]:
    """The bands the spasm detector reads (:func:`hypsa.spasms.frame_measures`), each taken
    from the window's filter bank once: 0.5-4 Hz (``slow``, already computed), 1-45 Hz,
    4-12 Hz and, where the rate allows, the fast band of the electrodecrement."""
    out = (slow, bank.band(main, (1.0, 45.0, 2), rows=good),
           bank.band(main, (4.0, 12.0, 2), rows=good))
    edges = fast_band(sfreq)
    return out if edges is None else (*out, bank.band(main, (*edges, 4), rows=good))


def _bad_channels(x: np.ndarray, sfreq: float, names: list[str],
                  hf: np.ndarray, ptp: np.ndarray) -> dict[str, str]:
    med = median(ptp, axis=1) if ptp.shape[1] else np.zeros(len(names))
    ref = float(np.median(med)) if med.size else 0.0
    out: dict[str, str] = {}
    hf_ratio = np.einsum("ij,ij->i", hf, hf) / np.maximum(np.einsum("ij,ij->i", x, x), 1e-9)
    for i, n in enumerate(names):
        if med[i] < 1.0:
            out[n] = "flat"
        elif ref > 0 and med[i] > 10 * ref and med[i] > 300:
            out[n] = "noisy (amplitude)"
        elif hf_ratio[i] > 0.6:
            out[n] = "noisy (high-frequency)"
    return out


def _state(rel_delta: np.ndarray, rel_fast: np.ndarray) -> np.ndarray:
    """Rough vigilance estimate per epoch: slow-wave dominated and quiet in beta/gamma -> NREM."""
    return np.where((rel_delta > 0.8) & (rel_fast < 0.02), "nrem", "wake_or_rem")


def analyze_window(
    data: np.ndarray,
    sfreq: float,
    ch_names: list[str],
    onset_s: float,
    pad_before: int,
    pad_after: int,
    *,
    emg: np.ndarray | None = None,
    emg_sfreq: float | None = None,
    movement: np.ndarray | None = None,
    segment: int = 0,
    params: AnalysisParams = AnalysisParams(),
) -> WindowResult:
    """Analyse one window of referential EEG (pure function of its arrays).

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        Referential EEG in µV including ``pad_before`` / ``pad_after`` samples of context.
    sfreq : float
        Sampling rate in Hz.
    ch_names : list of str
        Normalised 10-20 names.
    onset_s : float
        Recording time of the first core sample.
    pad_before, pad_after : int
        Context samples on each side.
    emg : ndarray, optional
        One EMG channel covering the same span, at ``emg_sfreq``.
    movement : ndarray, optional
        Video movement envelope covering the same span, per frame of ``params.spasms.frame_s``
        (:meth:`hypsa.video.align.Movement.window`); it joins the EMG as the detector's
        movement channel (each divided by its own median, the larger taken).
    segment : int
        Index of the recording segment the window lies in.
    params : AnalysisParams
        Parameters.

    Returns
    -------
    WindowResult
    """
    keep = [i for i, n in enumerate(ch_names) if n in STANDARD_19]
    names = [ch_names[i] for i in keep]
    if len(keep) < len(ch_names):
        data = data[keep]
    # with >= 10 s of real context on both sides the filters need no reflected padding
    ctx = min(pad_before, pad_after) / sfreq
    x, fs, xr, mains, bank = conditioned(data, sfreq, pad_s=0.0 if ctx >= 10.0 else 5.0)
    scale = fs / sfreq
    pb = int(round(pad_before * scale))
    pa = int(round(pad_after * scale))
    n_core = x.shape[1] - pb - pa
    core = slice(pb, pb + n_core)
    main = (0.5, 45.0, 4)  # the stages bandpass() applied one after the other
    hf_all = bank.band(main, (25.0, None, 4))[:, core]
    ptp_all = bin_ptp(x[:, core], fs)
    bad = _bad_channels(x[:, core], fs, names, hf_all, ptp_all)
    good = [i for i, n in enumerate(names) if n not in bad]
    gnames = [names[i] for i in good]
    xg = x[good]
    raw_core = xr[np.ix_(good, np.arange(pb, pb + n_core))]
    n_bins = int(n_core // round(fs))
    if len(good) < 3 or n_bins == 0:
        empty = pd.DataFrame()
        grade = {"onset_s": onset_s, "duration_s": n_core / fs, "grade": None,
                 "criteria": ["not graded: fewer than 3 usable EEG channels"]}
        return WindowResult(empty, grade, pd.DataFrame(), bad, mains, n_core / fs, 0.0)
    xc = xg[:, core]
    slow_all = bank.band(main, (0.5, 4.0, 2), rows=good)
    ptp_ref = ptp_all[good][:, :n_bins]
    art = artifact_mask(raw_core, xc, fs, gnames, hf=hf_all[good], slow=slow_all[:, core],
                        ptp=ptp_all[good])
    badbins = art.bad[:n_bins]
    # --- bipolar montage (what the recorded electrodes allow) and amplitude per 1-s bin
    bip, bnames = bipolar(xc, gnames, montage_pairs(gnames))
    ptp_bip = bin_ptp(bip, fs)[:, :n_bins] if len(bnames) else np.zeros((0, n_bins))
    # --- spasms (on the padded window for context)
    emg_env = None
    if emg is not None and emg_sfreq:
        env = emg_envelope(emg, emg_sfreq, params.spasms.frame_s)
        spf = max(1, int(round(params.spasms.frame_s * fs)))
        nf = xg.shape[1] // spf
        emg_env = env[:nf] if env.size >= nf else np.pad(env, (0, nf - env.size), mode="edge")
    if movement is not None and movement.size:
        nf = xg.shape[1] // max(1, int(round(params.spasms.frame_s * fs)))
        mv = movement[:nf] if movement.size >= nf else np.pad(movement, (0, nf - movement.size),
                                                              mode="edge")
        if emg_env is None:
            emg_env = mv
        else:  # both: each relative to its own typical level, the larger
            emg_env = np.maximum(emg_env / max(float(np.median(emg_env)), 1e-9),
                                 mv / max(float(np.median(mv)), 1e-9))
    all_bad = np.zeros(int(xg.shape[1] // round(fs)) + 1, dtype=bool)
    b0 = pb // int(round(fs))
    all_bad[b0:b0 + n_bins] = badbins
    ev = detect_spasms(xg, fs, emg_env=emg_env, excluded=all_bad,
                       core=(pb / fs, (pb + n_core) / fs), params=params.spasms,
                       ch_names=list(gnames),
                       with_candidates=params.recording_level or movement is not None,
                       bands=_spasm_bands(bank, main, good, slow_all, fs))
    cands = None
    if isinstance(ev, tuple):  # the core's candidates too, for the recording-level reading
        ev, cands = ev
        if cands is not None and len(cands):
            cands = cands.assign(onset=cands["onset"] - pb / fs + onset_s)
    if params.spasm_model is not None:  # a site model (hypsa calibrate) decides instead
        ev = params.spasm_model.apply(ev)
    # --- interictal discharges, foci, attenuations and the BASED grade (spasms set aside)
    # spasms set aside from everything the grade is built on; electrodecrements that were not
    # spasms from the discharges, foci and amplitudes only (they may be attenuation episodes)
    is_dec = (ev["trial_type"] == EEG_DECREMENT).to_numpy() if len(ev) and \
        "trial_type" in ev else np.zeros(len(ev), dtype=bool)
    spans = [(float(o) - pb / fs, float(d)) for o, d in zip(ev["onset"], ev["duration"],
                                                            strict=True)] if len(ev) else []
    ictal = [sp for sp, k in zip(spans, is_dec, strict=True) if not k]
    decrements = [sp for sp, k in zip(spans, is_dec, strict=True) if k]
    if len(ev):
        ev["onset"] = ev["onset"] - pb / fs + onset_s
    wg = grade_window(xc, fs, gnames, onset_s, usable=~badbins, eye=art.eye[:n_bins],
                      ptp_bip=ptp_bip, bip_names=bnames,
                      band=bank.band(main, (8.0, 45.0, 3), rows=good)[:, core],
                      ptp_ref=ptp_ref, eye_channels=EYE_CHANNELS, ictal_events=ictal,
                      decrement_events=decrements,
                      spikes=params.spikes, params=params.grading)
    eg, dis, spike_bins = wg.grade, wg.discharges, wg.spike_bins
    counted = dis
    # --- per-epoch features
    ep = F.epochs_view(xc, fs, params.epoch_s)
    ne = ep.shape[1]
    if ne == 0:  # short window: one epoch of whatever is there
        ep = xc[:, None, : n_bins * int(round(fs))]
        ne = 1
    epl = ep.shape[2]
    psd = F.welch_psd(ep, fs)
    pw, tot = F.band_powers(ep, fs, psd)
    rel = {k: v / np.maximum(tot, 1e-9) for k, v in pw.items()}
    bpe = max(1, int(round(epl / fs)))
    def per_epoch(a: np.ndarray) -> np.ndarray:
        a = a[: ne * bpe]
        if a.size < ne * bpe:
            a = np.pad(a, (0, ne * bpe - a.size))
        return a.reshape(ne, bpe).mean(1)
    bip_ep = F.epochs_view(bip, fs, epl / fs) if len(bnames) else None
    ptp_ep = ptp_bip[:, : ne * bpe].reshape(ptp_bip.shape[0], ne, -1) if len(bnames) else None
    spike_t = counted.time_s
    spikes_per_epoch = np.bincount(np.minimum((spike_t * fs // epl).astype(int), ne - 1),
                                   minlength=ne) if len(counted) else np.zeros(ne, dtype=int)
    art_frac = per_epoch(badbins.astype(float))
    rel_delta = rel["delta"].mean(0)
    rel_fast = (rel["beta"] + rel["gamma"]).mean(0)
    ep_df = pd.DataFrame({
        "onset": onset_s + np.arange(ne) * epl / fs,
        "duration": np.full(ne, epl / fs),
        "segment": segment,
        "amp_bipolar_median_uv": np.median(ptp_ep, axis=(0, 2)) if ptp_ep is not None else np.nan,
        "amp_bipolar_max_channel_uv": median(ptp_ep, axis=2).max(0)
        if ptp_ep is not None else np.nan,
        "amp_envelope_uv": F.envelope_amplitude(ep).mean(0),
        **{f"power_{k}_uv2": v.mean(0) for k, v in pw.items()},
        **{f"relpower_{k}": v.mean(0) for k, v in rel.items()},
        "line_length_uv_s": F.line_length(ep, fs).mean(0),
        "spectral_entropy": F.spectral_entropy(ep, fs, psd).mean(0),
        "shannon_entropy": F.shannon_entropy(ep).mean(0),
        "perm_entropy": F.permutation_entropy(ep).mean(0),
        "connectivity": F.mean_abs_correlation(ep),
        "interhemispheric_corr": F.interhemispheric_correlation(ep, gnames),
        "bipolar_connectivity": F.mean_abs_correlation(bip_ep) if bip_ep is not None and
        bip_ep.shape[1] == ne else np.nan,
        "spikes": spikes_per_epoch,
        "spike_bins": per_epoch(spike_bins.astype(float)) * bpe,
        "artifact_fraction": art_frac,
        "artifact_flat": per_epoch(art.flat[:n_bins].astype(float)),
        "artifact_clipped": per_epoch(art.clipped[:n_bins].astype(float)),
        "artifact_extreme": per_epoch(art.extreme[:n_bins].astype(float)),
        "artifact_muscle": per_epoch(art.muscle[:n_bins].astype(float)),
        "artifact_eye": per_epoch(art.eye[:n_bins].astype(float)),
        "excluded": art_frac > params.max_artifact_fraction,
        "state": _state(rel_delta, rel_fast),
        "n_channels": len(good),
    })
    excluded_s = float(badbins.sum())
    grade = eg.to_dict()
    grade["n_detections"] = int(len(dis))
    grade["state"] = pd.Series(ep_df["state"]).mode().iat[0]
    grade["perm_entropy"] = float(ep_df["perm_entropy"].mean())
    grade["connectivity"] = float(ep_df["connectivity"].mean())
    grade["rel_delta"] = float(ep_df["relpower_delta"].mean())
    grade["mains_hz"] = mains
    dis_df = pd.DataFrame({"onset": onset_s + dis.time_s,
                           "channel": [gnames[c] for c in dis.channel],
                           "amplitude_uv": dis.amplitude, "n_channels": dis.n_channels,
                           "contrast": dis.contrast,
                           "in_focus": wg.in_focus})
    att_df = pd.DataFrame(wg.attenuations, columns=["onset", "duration"])
    att_df["onset"] += onset_s
    return WindowResult(ep_df, grade, ev, bad, mains, excluded_s, float(n_bins) - excluded_s,
                        dis_df, att_df, wg.span, candidates=cands)


# --------------------------------------------------------------------------------------------
# whole recording


def _emg_name(rec: Recording) -> str | None:
    for ch in rec.channels:
        if ch.kind == "emg":
            return ch.name
    return None


def _window_job(args: tuple) -> list[WindowResult]:
    """Worker: open the file itself and analyse a list of window indices."""
    path, indices, params, *rest = args
    rec = read(path)
    return list(_iter_results(rec, params, set(indices), rest[0] if rest else None))


def _iter_results(rec: Recording, params: AnalysisParams, only: set[int] | None = None,
                  movement=None):
    emg_name = _emg_name(rec)
    for i, w in enumerate(rec.iter_windows(params.based_epoch_s, pad_s=params.pad_s,
                                           picks="eeg")):
        if only is not None and i not in only:
            continue
        emg = None
        emg_fs = None
        if emg_name is not None:
            t0 = w.onset_s - w.pad_before / w.sfreq
            t1 = t0 + w.data.shape[1] / w.sfreq
            emg = rec.get_data(picks=[emg_name], start_s=t0, stop_s=t1)[0]
            emg_fs = next(c.sfreq for c in rec.channels if c.name == emg_name)
        mv = None
        if movement is not None:
            t0 = w.onset_s - w.pad_before / w.sfreq
            mv = movement.window(t0, t0 + w.data.shape[1] / w.sfreq)
        yield analyze_window(w.data, w.sfreq, list(w.ch_names), w.onset_s, w.pad_before,
                             w.pad_after, emg=emg, emg_sfreq=emg_fs, movement=mv,
                             segment=w.segment, params=params)


def _n_windows(rec: Recording, params: AnalysisParams) -> int:
    n = 0
    for s in rec.segments:
        k = s.duration_s / params.based_epoch_s
        full = int(k)
        n += full + (1 if (s.duration_s - full * params.based_epoch_s) >= 1.0 else 0)
    return n


def analyze(
    source: str | Path | Recording | Any,
    *,
    sfreq: float | None = None,
    ch_names: Sequence[str] | None = None,
    ch_types: Sequence[str] | None = None,
    params: AnalysisParams | None = None,
    n_jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    movement: Any = None,
):
    """Analyse one recording: hypsarrhythmia grade, spasms and clusters, quality.

    Parameters
    ----------
    source : path, mne.io.Raw, ndarray, Recording or Simulation
        An EEG file (any format :func:`hypsa.io.read` reads); an ``mne.io.Raw`` (channel
        types, units and annotations respected: :func:`hypsa.io.from_raw`); an array of shape
        (n_channels, n_samples) in microvolts with ``sfreq`` and ``ch_names``; a Recording
        already read; or a :func:`hypsa.simulate` result.
    sfreq : float, optional
        Sampling rate of an array (Hz).
    ch_names, ch_types : sequence of str, optional
        Labels (10-20 names) and, optionally, kinds (``eeg``, ``emg`` ...) of an array's rows.
    params : AnalysisParams, optional
        Parameters; defaults documented in :class:`AnalysisParams`.
    n_jobs : int
        Worker processes (``-1`` = all cores). Used only for files of several windows.
    progress : callable(done, total), optional
        Called after each window.
    movement : hypsa.video.align.Movement, optional
        Video movement on the recording's timeline (:func:`hypsa.video.align.movement_for`): a
        second movement modality beside (or instead of) a deltoid EMG. ``summary.json`` then
        says how each clip was placed.

    Returns
    -------
    hypsa.results.Analysis
    """
    from hypsa.results import Analysis

    params = params or AnalysisParams()
    rec = as_recording(source, sfreq=sfreq, ch_names=ch_names, ch_types=ch_types)
    eeg = [c for c in rec.channels if c.kind == "eeg" and c.name in STANDARD_19]
    if len(eeg) < 3:
        raise NoEEGChannelsError(rec.path or "<array>",
                                 f"{len(eeg)} standard 10-20 EEG channels found, at least 3 needed")
    total = _n_windows(rec, params)
    if n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    results: list[WindowResult] = []
    if n_jobs > 1 and total > 1 and rec.path is not None:
        # contiguous runs of windows per worker, so each reads its part of the file in order
        chunks = [list(range(k * math.ceil(total / n_jobs),
                             min(total, (k + 1) * math.ceil(total / n_jobs))))
                  for k in range(n_jobs)]
        with ProcessPoolExecutor(max_workers=n_jobs) as ex:
            futs = [ex.submit(_window_job, (rec.path, c, params, movement)) for c in chunks if c]
            done = 0
            for f in futs:
                part = f.result()
                results.extend(part)
                done += len(part)
                if progress:
                    progress(done, total)
    else:
        for i, r in enumerate(_iter_results(rec, params, movement=movement)):
            results.append(r)
            if progress:
                progress(i + 1, total)
    sudden = movement.sudden_movements() if movement is not None else None
    out = _assemble(rec, results, params, Analysis, movements=sudden)
    if movement is not None:  # how each video was placed on the recording
        out.summary_["video"] = movement.describe()
        out.summary_["video"]["movements_without_eeg_spasm"] = movements_without_spasm(
            sudden, out.events)
        feats = out.events["features"].astype(str) if "features" in out.events else None
        out.summary_["video"]["spasms_on_movement"] = int(
            feats.str.endswith(VIDEO_FEATURE).sum()) if feats is not None else 0
    # what the spasm count can be relied on for, given the channels analysed (a flat EMG
    # channel, unconnected in many clinical exports, is no movement channel)
    emg_name = _emg_name(rec)
    emg_live = emg_name is not None and _emg_live(rec, emg_name)
    moved = " and ".join(k for k, on in (("EMG", emg_live), ("video", movement is not None))
                         if on) or None
    # a video may cover only part of the recording (an EMG channel covers all of it)
    covered = 1.0 if emg_live or movement is None else \
        float(movement.describe()["covered_s"]) / max(float(rec.duration_s), 1e-9)
    # a background with frequent attenuation episodes is where the EEG alone is weakest
    # (per analysed minute: the episodes are looked for only where the EEG was analysed)
    att_rate = attenuations_per_min(out.extra.get("attenuations"),
                                    float(out.summary_.get("analysed_s") or rec.duration_s))
    note = detection_note(moved, covered=covered, attenuations_per_min=att_rate)
    if emg_name is not None and not emg_live:
        note += (f" The EMG channel {emg_name} carries no signal (flat) and did not count as a "
                 "movement channel.")
    out.summary_["spasms"]["movement_channel"] = moved
    out.summary_["spasms"]["detection_note"] = note
    out.summary_["spasms"]["attenuations_per_min"] = round(att_rate, 2)
    out.summary_["spasms"]["attenuated_background"] = bool(att_rate >= ATTENUATED_PER_MIN)
    return out


#: Robust SD (µV) of the 20-Hz high-passed EMG under which a sampled stretch is flat.
EMG_FLAT_UV = 0.2


def _emg_live(rec: Recording, name: str, n: int = 8, span_s: float = 30.0) -> bool:
    """Whether an EMG channel carries a signal: some of ``n`` stretches of ``span_s`` spread over
    the recording have high-passed activity above :data:`EMG_FLAT_UV` (an unconnected or
    zero-filled channel has none)."""
    dur = float(rec.duration_s)
    fs = next(c.sfreq for c in rec.channels if c.name == name)
    if fs < 50.0:
        return False
    for t0 in np.linspace(0.0, max(dur - span_s, 0.0), n):
        x = rec.get_data(picks=[name], start_s=float(t0),
                         stop_s=float(min(t0 + span_s, dur)))[0]
        if x.size < int(fs):
            continue
        hp = bandpass(x[None, :], fs, 20.0, None)[0]
        if float(np.median(np.abs(hp - np.median(hp)))) * 1.4826 > EMG_FLAT_UV:
            return True
    return False


def _assemble(rec: Recording, results: list[WindowResult], params: AnalysisParams, cls,
              movements: list[dict] | None = None):
    epochs = pd.concat([r.epochs for r in results if len(r.epochs)], ignore_index=True) \
        if any(len(r.epochs) for r in results) else pd.DataFrame()
    grades = [r.grade for r in results]
    # the most epileptic 5 minutes may straddle two fixed windows: a page-aligned sliding window
    sliding = sliding_rows([r.span for r in results], grades, params.spikes, params.grading)
    for gi, g in enumerate(grades + sliding):
        g["epoch"] = gi if gi < len(grades) else None
        g["slow_variant"] = slow_variant(g.get("grade"), g.get("n_foci", 0),
                                         g.get("n_detections", 0)
                                         / max(g.get("usable_s", 0.0) / 60.0, 1e-3),
                                         len(g.get("high_amplitude_channels") or []),
                                         g.get("n_bipolar", 0), g.get("connectivity"),
                                         params.grading, rel_delta=g.get("rel_delta"))
        if g["slow_variant"]:
            g["criteria"] = [*g["criteria"], (
                "diffuse very high voltage ({}/{} derivations > {:.0f} µV), mostly slow "
                "({:.0%} of the power below 4 Hz), in a disorganised "
                "background (connectivity {:.2f} < {:.2f}) with few spikes ({} discharges, {} "
                "foci): the slow-wave form of modified hypsarrhythmia").format(
                    len(g["high_amplitude_channels"]), g["n_bipolar"], params.grading.high_uv,
                    g.get("rel_delta", float("nan")),
                    g["connectivity"], params.grading.max_connectivity, g["n_detections"],
                    g["n_foci"])]
        g["probability"] = probability(g.get("grade"), g.get("max_channel_amplitude_uv", 0.0),
                                       g.get("spike_bin_fraction", 0.0), g.get("n_foci", 0),
                                       g.get("perm_entropy"), g.get("connectivity"),
                                       params.grading.high_uv, slow_form=g["slow_variant"])
    if len(epochs):
        starts = np.array([g["onset_s"] for g in grades])
        idx = np.searchsorted(starts, epochs["onset"].to_numpy() + 1e-6, side="right") - 1
        epochs["based_epoch"] = idx
        epochs["grade"] = [grades[i].get("grade") for i in idx]
    events = pd.concat([r.events for r in results if len(r.events)], ignore_index=True) \
        if any(len(r.events) for r in results) else pd.DataFrame(
            columns=["onset", "duration", "confidence", "features", "channels"])
    parts = [r.candidates for r in results if r.candidates is not None and len(r.candidates)]
    cands = pd.concat(parts, ignore_index=True) if parts else None
    threshold_rule = None
    if params.spasm_model is None and params.recording_level and cands is not None:
        # each candidate read again against the other candidates of its recording, at the
        # threshold for a recording its grades call hypsarrhythmic or not
        called = called_hypsarrhythmic(grades + sliding)
        reread = recording_reread(cands, params.spasms, hypsarrhythmic=called)
        if reread is not None:
            events = reread
            threshold_rule = threshold_for(called, params.spasms.min_confidence)
    if movements and params.video_series_spasms:
        # a video's sudden movement in a series with the EEG's pattern is a spasm
        events = movement_spasms(events, cands, movements, params.spasms)
    events = events.sort_values("onset").reset_index(drop=True)
    # clusters are built from the spasms only (an eeg_decrement is reported, never counted)
    if "trial_type" not in events:
        events["trial_type"] = SPASM_EEG
    events["trial_type"] = events["trial_type"].fillna(SPASM_EEG)
    events["eventType"] = events["trial_type"].map(EVENT_TYPES)
    is_spasm = events["trial_type"].isin(SPASM_TYPES).to_numpy()
    cl = np.full(len(events), -1)
    cl[is_spasm] = cluster_spasms(events["onset"].to_numpy()[is_spasm],
                                  params.spasms.cluster_gap_s)
    events["cluster"] = cl
    bad: dict[str, str] = {}
    counts: dict[str, int] = {}
    for r in results:
        for k, v in r.bad_channels.items():
            counts[k] = counts.get(k, 0) + 1
            bad.setdefault(k, v)
    bad = {k: v for k, v in bad.items() if counts[k] >= max(1, len(results) / 2)}
    analysed = float(sum(r.analysed_s for r in results))
    excluded = float(sum(r.excluded_s for r in results))
    if analysed <= 0 and not any(g.get("grade") is not None for g in grades):
        raise BadSignalError(rec.path or "<array>",
                             "no usable EEG: every window is artifact or has < 3 live channels")
    mains = sorted({r.mains for r in results if r.mains})
    out = cls.build(rec, epochs=epochs, grades=grades, events=events, bad_channels=bad,
                    analysed_s=analysed, excluded_s=excluded, mains=mains,
                    params=asdict(replace(params)), sliding=sliding)
    if threshold_rule is not None:  # the recording-level threshold this recording was read at
        out.summary_["spasms"]["recording_threshold"] = threshold_rule[0]
        out.summary_["spasms"]["recording_threshold_rule"] = threshold_rule[1]
    if params.spasm_model is not None:  # every output names the model it came from
        out.summary_["spasms"]["model"] = params.spasm_model.info()
        out.summary_["spasms"]["min_confidence"] = params.spasm_model.threshold
    # interictal discharges and attenuation episodes, for review and validation
    for key in ("discharges", "attenuations"):
        parts = [getattr(r, key) for r in results if getattr(r, key) is not None]
        out.extra[key] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return out
