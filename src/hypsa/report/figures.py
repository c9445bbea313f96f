"""Figures of the per-recording report (matplotlib, Agg backend, no display needed).

Every function returns a :class:`matplotlib.figure.Figure` built with the object-oriented API (no
``pyplot`` state), so figures can be drawn in worker threads and closed deterministically.
"""

from __future__ import annotations

import base64
import io
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import matplotlib

matplotlib.use("Agg", force=False)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from scipy import signal as sps  # noqa: E402

__all__ = [
    "Snippet",
    "timeline_figure",
    "hourly_figure",
    "snippet_figure",
    "read_snippet",
    "to_png",
    "to_base64",
]

PRESENT_FROM = 4
GRADE_COLORS = {0: "#2b8a3e", 1: "#74b816", 2: "#f59f00", 3: "#f76707", 4: "#e03131", 5: "#a61e4d"}


def _new(figsize: tuple[float, float], nrows: int = 1, **kw: Any) -> tuple[Figure, Any]:
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, 1, **kw)
    return fig, axes


def to_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render a figure to PNG bytes.

    Parameters
    ----------
    fig : Figure
        The figure.
    dpi : int
        Resolution; 80-100 keeps a 24-hour report well under 10 MB.

    Returns
    -------
    bytes
    """
    buf = io.BytesIO()
    # laying out the text once is much cheaper than bbox_inches="tight", which draws (rasterises)
    # the whole figure twice; figures the tight layout cannot handle (twin axes) keep the latter
    tight = None
    if not getattr(fig, "hypsa_fixed_layout", False):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.tight_layout()
        tight = "tight" if caught else None
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches=tight)
    return buf.getvalue()


def to_base64(fig: Figure, dpi: int = 80) -> str:
    """A ``data:image/png;base64,...`` URI of the figure (for a self-contained HTML page)."""
    return "data:image/png;base64," + base64.b64encode(to_png(fig, dpi)).decode("ascii")


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Start and stop indices of the runs of True in ``mask``."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


def _time_unit(duration_s: float) -> tuple[float, str]:
    return (3600.0, "h") if duration_s > 2 * 3600 else (60.0, "min")


def timeline_figure(summary: dict, epochs: pd.DataFrame, grades: pd.DataFrame,
                    events: pd.DataFrame) -> Figure:
    """The whole recording on one page.

    Panels, sharing the time axis: BASED grade (bars coloured by grade) and the (uncalibrated)
    hypsarrhythmia score per 5-minute epoch; median bipolar peak-to-peak amplitude per feature
    epoch; spike rate per feature epoch; each detected spasm as a tick. Clusters are shaded in every
    panel, excluded (artifact) epochs are grey and gaps in the recording hatched.

    Parameters
    ----------
    summary : dict
        ``Analysis.summary_``.
    epochs, grades, events : DataFrame
        The analysis tables.

    Returns
    -------
    Figure
    """
    dur = float(summary.get("duration_s") or 0.0)
    scale, unit = _time_unit(dur)
    fig, axes = _new((11, 7.2), 4, sharex=True,
                     gridspec_kw={"height_ratios": [2.2, 1.3, 1.3, 0.8], "hspace": 0.12})
    ax_g, ax_a, ax_s, ax_e = axes
    # -- shading common to every panel: clusters, excluded epochs, gaps
    clusters = summary.get("spasms", {}).get("clusters", []) or []
    for ax in axes:
        for c in clusters:
            ax.axvspan(c["onset"] / scale, c["offset"] / scale, color="#fab005", alpha=0.25,
                       lw=0, zorder=0)
    if len(epochs):
        on = epochs["onset"].to_numpy(float)
        du = epochs["duration"].to_numpy(float)
        exc = epochs["excluded"].astype(str).str.lower().isin(["true", "1", "1.0"]).to_numpy()
        for a, b in _runs(exc):
            for ax in axes:
                ax.axvspan(on[a] / scale, (on[b - 1] + du[b - 1]) / scale, color="0.6",
                           alpha=0.45, lw=0, zorder=0)
        ends = on + du
        gap_from = np.concatenate([[0.0], ends])
        gap_to = np.concatenate([on, [dur]])
        for g0, g1 in zip(gap_from, gap_to, strict=True):
            if g1 - g0 > 1.0:
                for ax in axes:
                    ax.axvspan(g0 / scale, g1 / scale, facecolor="none", edgecolor="0.5",
                               hatch="//", lw=0, zorder=0)
    # -- grade and probability
    if len(grades):
        g = grades["grade"].to_numpy(float)
        x0 = grades["onset_s"].to_numpy(float) / scale
        w = grades["duration_s"].to_numpy(float) / scale
        cols = [GRADE_COLORS.get(int(v), "0.5") if np.isfinite(v) else "0.85" for v in g]
        ax_g.bar(x0, np.where(np.isfinite(g), g, 0.0) + 0.15, width=w, bottom=-0.15,
                 align="edge", color=cols, edgecolor="white", lw=0.3, zorder=2, alpha=0.6)
        for xi, wi, gi in zip(x0, w, g, strict=True):
            if not np.isfinite(gi):
                ax_g.text(xi + wi / 2, 0.3, "n.g.", ha="center", fontsize=6, color="0.4")
        ax_p = ax_g.twinx()
        if "probability" in grades:
            p = grades["probability"].to_numpy(float)
            ax_p.step(np.append(x0, x0[-1] + w[-1]), np.append(p, p[-1]), where="post",
                      color="k", lw=1.2, label="score")
        ax_p.set_ylim(0, 1.05)
        ax_p.set_ylabel("hypsarrhythmia score\n(uncalibrated)", fontsize=8)
        ax_p.tick_params(labelsize=7)
    ax_g.axhline(PRESENT_FROM - 0.5, color="crimson", ls="--", lw=0.8)
    ax_g.text(0.005, PRESENT_FROM - 0.4, "hypsarrhythmia (≥ 4)", color="crimson", fontsize=7,
              transform=ax_g.get_yaxis_transform())
    ax_g.set_ylim(-0.2, 5.6)
    ax_g.set_yticks(range(6))
    ax_g.set_ylabel("BASED grade\n(per 5 min)", fontsize=8)
    # -- amplitude and spike rate per epoch
    if len(epochs):
        t = (epochs["onset"].to_numpy(float) + epochs["duration"].to_numpy(float) / 2) / scale
        amp = epochs["amp_bipolar_median_uv"].to_numpy(float)
        ax_a.plot(t, amp, lw=0.7, color="#1c7ed6")
        if "amp_bipolar_max_channel_uv" in epochs:
            ax_a.plot(t, epochs["amp_bipolar_max_channel_uv"].to_numpy(float), lw=0.5,
                      color="#1c7ed6", alpha=0.45)
        rate = epochs["spikes"].to_numpy(float) / np.maximum(
            epochs["duration"].to_numpy(float), 1e-9) * 60
        ax_s.plot(t, rate, lw=0.7, color="#7048e8")
    ax_a.axhline(200, color="crimson", ls=":", lw=0.8)
    ax_a.set_ylabel("bipolar p-p\n(µV)", fontsize=8)
    ax_s.set_ylabel("spikes\n(/min)", fontsize=8)
    # -- spasms
    if len(events):
        on = events["onset"].to_numpy(float) / scale
        ax_e.vlines(on, 0.1, 0.9, color="crimson", lw=0.9)
    ax_e.set_ylim(0, 1)
    ax_e.set_yticks([])
    ax_e.set_ylabel("spasms", fontsize=8)
    ax_e.set_xlim(0, max(dur, 1.0) / scale)
    ax_e.set_xlabel(f"time from recording start ({unit})")
    for ax in axes:
        ax.tick_params(labelsize=7)
        ax.grid(axis="x", color="0.9", lw=0.5)
    ax_g.set_title("Timeline (yellow: spasm clusters; grey: excluded artifact; hatched: not "
                   "recorded)", fontsize=9, loc="left")
    # fixed margins (twin axes defeat the tight layout, and a tight bounding box at save time
    # would draw the figure twice)
    fig.subplots_adjust(left=0.07, right=0.93, top=0.95, bottom=0.08)
    fig.hypsa_fixed_layout = True  # type: ignore[attr-defined]
    return fig


def hourly_figure(summary: dict, events: pd.DataFrame, start_time: datetime | None) -> Figure:
    """Number of detected spasms per clock hour (per hour since the start if the clock is unknown).

    Parameters
    ----------
    summary : dict
        ``Analysis.summary_`` (for the duration).
    events : DataFrame
        Detected spasms with ``onset`` in seconds from the start.
    start_time : datetime or None
        Recording start.

    Returns
    -------
    Figure
    """
    dur = float(summary.get("duration_s") or 0.0)
    off = 0.0
    if start_time is not None:
        off = start_time.minute * 60 + start_time.second + start_time.microsecond / 1e6
    n_h = max(1, int(np.ceil((dur + off) / 3600.0)))
    on = events["onset"].to_numpy(float) if len(events) else np.zeros(0)
    counts = np.bincount(((on + off) // 3600).astype(int), minlength=n_h)[:n_h]
    fig, ax = _new((11, 2.4))
    ax.bar(np.arange(n_h), counts, color="crimson", width=0.8)
    if start_time is not None:
        h0 = start_time.replace(minute=0, second=0, microsecond=0)
        labels = [(h0 + timedelta(hours=int(i))).strftime("%H:00") for i in range(n_h)]
        ax.set_xlabel("clock hour (start of the hour)", fontsize=8)
    else:
        labels = [f"{i}" for i in range(n_h)]
        ax.set_xlabel("hour since recording start", fontsize=8)
    step = max(1, n_h // 24)
    ax.set_xticks(np.arange(n_h)[::step])
    ax.set_xticklabels(labels[::step], fontsize=7, rotation=45 if n_h > 12 else 0)
    ax.set_ylabel("spasms", fontsize=8)
    ax.set_xlim(-0.6, n_h - 0.4)
    ax.tick_params(labelsize=7)
    ax.set_title("Detected spasms per hour", fontsize=9, loc="left")
    return fig


#: Display sensitivity of every EEG and EMG trace in the snippets (µV per mm of the printed
#: figure); one fixed value so that voltages compare between snippets and recordings.
SENSITIVITY_UV_MM = 20.0
#: Time base of the snippets (mm per second of the printed figure).
TIMEBASE_MM_S = 15.0
#: Distance between two traces (mm).
TRACE_SPACING_MM = 10.0
#: Display band of the EEG snippets (Hz) and of the EMG trace.
EEG_BAND = (0.5, 45.0)
EMG_BAND = (10.0, 100.0)
_MM = 1 / 25.4


@dataclass
class Snippet:
    """A stretch of EEG to show: longitudinal bipolar derivations and the EMG beneath.

    Attributes
    ----------
    data : ndarray, shape (n_channels, n_samples)
        µV, band-passed (``band``), notched where mains was detected.
    sfreq : float
        Sampling rate.
    names : list of str
        Derivation names (``"Fp1-F7"`` ...).
    start_s : float
        Recording time of the first sample.
    mark_s : float or None
        Recording time to mark (spasm onset).
    title : str
        Caption.
    emg : ndarray or None
        The EMG channel over the same span (µV, ``EMG_BAND``), at ``sfreq``.
    emg_name : str or None
        Its name.
    notch_hz : float or None
        Mains notch applied (with its harmonics), or None.
    band : (float, float)
        Pass band applied to the EEG.
    """

    data: np.ndarray
    sfreq: float
    names: list[str]
    start_s: float
    mark_s: float | None
    title: str
    emg: np.ndarray | None = None
    emg_name: str | None = None
    notch_hz: float | None = None
    band: tuple[float, float] = EEG_BAND


def _filtered(x: np.ndarray, fs: float, band: tuple[float, float],
              notch_hz: float | None) -> np.ndarray:
    from hypsa.signal import notch

    x = x.astype(np.float64) - x.mean(axis=1, keepdims=True)
    if x.shape[1] <= 3 * 2 * 4 * 3:
        return x
    if notch_hz and notch_hz < fs / 2 - 1:
        x = notch(x, fs, notch_hz).astype(np.float64)
    hi = min(band[1], 0.45 * fs)
    if hi <= band[0]:
        return x
    sos = sps.butter(4, [band[0], hi], btype="bandpass", fs=fs, output="sos")
    return sps.sosfiltfilt(sos, x, axis=1)


def read_snippet(rec: Any, start_s: float, stop_s: float, *, mark_s: float | None = None,
                 title: str = "", band: tuple[float, float] = EEG_BAND,
                 pad_s: float = 2.0, notch_hz: float | None = None) -> Snippet:
    """Read ``[start_s, stop_s]`` as longitudinal bipolar (double banana) derivations with the
    EMG channel beneath, filtered as stated (zero phase).

    The span is clipped to the recorded segment holding its middle; ``pad_s`` of context is read
    on each side (where it exists) for the filters and dropped afterwards. Derivations whose
    electrodes are missing are left out.

    Parameters
    ----------
    rec : hypsa.io.Recording
        The recording.
    start_s, stop_s : float
        Span in recording time (seconds).
    mark_s : float, optional
        Time to mark with a vertical line.
    title : str
        Caption.
    band : (float, float)
        EEG pass band in Hz (4th-order Butterworth, forwards and backwards).
    pad_s : float
        Filter context.
    notch_hz : float, optional
        Mains frequency to notch (with its harmonics; Q 30), as in the analysis.

    Returns
    -------
    Snippet
    """
    from hypsa.channels import DOUBLE_BANANA, bipolar

    mid = 0.5 * (start_s + stop_s)
    seg = next((s for s in rec.segments if s.onset_s <= mid <= s.end_s), None)
    lo_lim, hi_lim = (seg.onset_s, seg.end_s) if seg is not None else (0.0, rec.duration_s)
    start_s = max(lo_lim, start_s)
    stop_s = min(hi_lim, stop_s)
    r0 = max(lo_lim, start_s - pad_s)
    r1 = min(hi_lim, stop_s + pad_s)
    fs = float(rec.sfreq)
    x = _filtered(rec.get_data(picks="eeg", start_s=r0, stop_s=r1, sfreq=fs), fs, band,
                  notch_hz)
    bip, names = bipolar(x, list(rec.eeg_names), DOUBLE_BANANA)
    i0 = int(round((start_s - r0) * fs))
    i1 = i0 + int(round((stop_s - start_s) * fs))
    emg = emg_name = None
    emg_ch = next((c for c in rec.channels if c.kind == "emg"), None)
    if emg_ch is not None:
        e = rec.get_data(picks=[emg_ch.name], start_s=r0, stop_s=r1, sfreq=fs)
        emg = _filtered(e, fs, EMG_BAND, notch_hz)[0, i0:i1].astype(np.float32)
        emg_name = emg_ch.name
    return Snippet(np.asarray(bip)[:, i0:i1].astype(np.float32), fs, list(names), start_s,
                   mark_s, title, emg, emg_name, notch_hz, band)


def snippet_figure(sn: Snippet, bad: list[str] | None = None,
                   sensitivity_uv_mm: float = SENSITIVITY_UV_MM,
                   timebase_mm_s: float = TIMEBASE_MM_S) -> Figure:
    """Stacked bipolar traces and the EMG beneath, at a fixed sensitivity and time base.

    The figure's physical size is set so that, printed at 100 %, one millimetre is
    ``sensitivity_uv_mm`` µV vertically and ``1 / timebase_mm_s`` s horizontally; a 100 µV and
    1 s scale bar is drawn. Traces are not clipped: high-voltage activity overlaps its
    neighbours, as on a paper or screen display at a fixed sensitivity.

    Parameters
    ----------
    sn : Snippet
        What to draw.
    bad : list of str, optional
        Electrodes flagged bad: derivations using them are drawn grey.
    sensitivity_uv_mm : float
        µV per mm.
    timebase_mm_s : float
        mm per second.

    Returns
    -------
    Figure
        With ``hypsa_size_mm`` (width, height) for the page to show it at its physical size.
    """
    bad = set(bad or [])
    n, m = sn.data.shape
    dur = max(m / sn.sfreq, 1.0)
    traces = [(nm, sn.data[i], any(e in bad for e in nm.split("-")))
              for i, nm in enumerate(sn.names)]
    if sn.emg is not None:
        name = str(sn.emg_name or "EMG")
        traces.append((name if name.upper().startswith("EMG") else f"EMG {name}", sn.emg[:m],
                       False))
    k = len(traces)
    left, right, top, bottom = 22.0, 6.0, 9.0, 14.0  # margins, mm
    w_mm = dur * timebase_mm_s
    h_mm = (k + 1.8) * TRACE_SPACING_MM
    fig = Figure(figsize=((left + w_mm + right) * _MM, (top + h_mm + bottom) * _MM))
    FigureCanvasAgg(fig)
    W, H = left + w_mm + right, top + h_mm + bottom
    ax = fig.add_axes((left / W, bottom / H, w_mm / W, h_mm / H))
    sp = TRACE_SPACING_MM * sensitivity_uv_mm  # µV between traces
    t = sn.start_s + np.arange(m) / sn.sfreq
    for j, (nm, y, is_bad) in enumerate(traces):
        y0 = (k - j) * sp
        emg = nm.startswith("EMG")
        ax.plot(t, y + y0, lw=0.45, color="0.6" if is_bad else ("#1864ab" if emg else "k"))
    ax.set_yticks([(k - j) * sp for j in range(k)])
    ax.set_yticklabels([nm for nm, _, _ in traces], fontsize=5.5)
    if sn.emg is not None:
        ax.axhline(1.5 * sp, color="0.8", lw=0.5)
    if sn.mark_s is not None:
        ax.axvline(sn.mark_s, color="crimson", lw=0.8, ls="--")
    ax.set_ylim(-0.8 * sp, (k + 1) * sp)
    ax.set_xlim(sn.start_s, sn.start_s + dur)
    # scale bars: 1 s, 100 µV
    x1 = sn.start_s + dur - 0.1
    yb = -0.45 * sp
    ax.plot([x1 - 1.0, x1], [yb, yb], color="#1971c2", lw=1.5, solid_capstyle="butt")
    ax.plot([x1, x1], [yb, yb + 100.0], color="#1971c2", lw=1.5, solid_capstyle="butt")
    ax.text(x1 - 0.5, yb - 0.05 * sp, "1 s", ha="center", va="top", fontsize=5.5,
            color="#1971c2")
    ax.text(x1 - 0.06, yb + 50.0, "100 µV", ha="right", va="center", fontsize=5.5,
            color="#1971c2")
    notch = f", notch {sn.notch_hz:g} Hz" if sn.notch_hz else ", no notch"
    emg = (f"; EMG {EMG_BAND[0]:g}-{EMG_BAND[1]:g} Hz" if sn.emg is not None
           else "; no EMG channel")
    ax.set_xlabel(f"recording time (s) · longitudinal bipolar, {sensitivity_uv_mm:g} µV/mm, "
                  f"{timebase_mm_s:g} mm/s, EEG {sn.band[0]:g}-{sn.band[1]:g} Hz{notch}{emg}",
                  fontsize=5.5)
    ax.tick_params(axis="x", labelsize=5.5)
    for s_ in ("top", "right", "left"):
        ax.spines[s_].set_visible(False)
    ax.set_title(sn.title, fontsize=6.5, loc="left")
    fig.hypsa_fixed_layout = True  # type: ignore[attr-defined]
    fig.hypsa_size_mm = (W, H)  # type: ignore[attr-defined]
    return fig
