"""Epileptiform discharge (spike / sharp wave) detection and grouping into foci.

A discharge is a transient that stands out from the ongoing activity by its steep slopes: we
detect peaks of the 8-45 Hz component of each average-referenced channel that exceed both an
absolute floor and a multiple of that channel's robust background level, and keep those whose
broadband deflection is large enough to be a spike or sharp wave (20-200 ms). Detections on
several channels within ``group_ms`` are one discharge, located at the channel where it is
largest. Discharges whose locations lie within one inter-electrode distance form one focus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

from hypsa.kernels import median
from hypsa.signal import bandpass

__all__ = ["SpikeParams", "Discharges", "detect_discharges", "group_foci"]


@dataclass(frozen=True)
class SpikeParams:
    """Documented thresholds of the discharge detector.

    Attributes
    ----------
    k_mad : float
        Threshold on the 8-45 Hz envelope in robust standard deviations of that channel.
    floor_uv : float
        Absolute floor of the 8-45 Hz peak (µV).
    min_ptp_uv : float
        Minimum broadband peak-to-peak within ±100 ms (µV).
    group_ms : float
        Detections closer than this on different channels form one discharge.
    min_channels : int
        Channels a discharge must be seen on: a "spike" confined to one electrode is an
        electrode artifact more often than a cerebral discharge, whose field spans neighbours.
    max_channel_fraction : float
        Discharges seen on more than this fraction of channels are generalized transients
        (or artifacts common to all electrodes) and are not counted as focal.
    outlier_factor : float
        1-s bins whose peak-to-peak on a channel exceeds this multiple of the channel's median
        are artifact for that channel (applied by :func:`hypsa.analysis.analyze_window`).
    focus_min_events, focus_min_per_min, focus_min_fraction : int, float, float
        A focus counts when it fires recurrently: at least ``focus_min_events`` discharges and
        ``focus_min_per_min`` per minute of usable EEG (15 in a 5-minute epoch), and this share
        of all discharges.
    """

    k_mad: float = 6.0
    floor_uv: float = 15.0
    min_ptp_uv: float = 60.0
    group_ms: float = 80.0
    min_channels: int = 2
    max_channel_fraction: float = 0.5
    focus_min_events: int = 8
    focus_min_per_min: float = 1.6
    outlier_factor: float = 3.0
    focus_min_fraction: float = 0.05


@dataclass
class Discharges:
    """Discharges found in one stretch of EEG.

    Attributes
    ----------
    time_s : ndarray
        Time of each discharge (s from the start of the analysed array).
    channel : ndarray of int
        Index of the channel where it is largest (its location).
    n_channels : ndarray of int
        Number of channels on which it was seen.
    amplitude : ndarray
        Peak-to-peak broadband amplitude at the location (µV).
    """

    time_s: np.ndarray
    channel: np.ndarray
    n_channels: np.ndarray
    amplitude: np.ndarray

    def __len__(self) -> int:
        return int(self.time_s.size)

    def select(self, keep: np.ndarray) -> Discharges:
        """Subset by a boolean mask."""
        return Discharges(self.time_s[keep], self.channel[keep], self.n_channels[keep],
                          self.amplitude[keep])


def detect_discharges(
    data: np.ndarray,
    sfreq: float,
    *,
    k_mad: float = 6.0,
    floor_uv: float = 15.0,
    min_ptp_uv: float = 60.0,
    group_ms: float = 80.0,
    excluded: np.ndarray | None = None,
    band: np.ndarray | None = None,
) -> Discharges:
    """Detect spikes and sharp waves.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        Band-passed (0.5-45 Hz) EEG in µV, referential; it is average-referenced here.
    sfreq : float
        Sampling rate in Hz (>= 100).
    k_mad : float
        Threshold on the 8-45 Hz envelope in robust standard deviations of that channel.
    floor_uv : float
        Absolute floor of the 8-45 Hz peak (µV): keeps low-voltage noise from counting.
    min_ptp_uv : float
        Minimum broadband peak-to-peak within ±100 ms (µV).
    group_ms : float
        Detections closer than this on different channels form one discharge.
    excluded : ndarray of bool, shape (n_channels, n_bins) or (n_bins,), optional
        1-s bins (per channel or for all) where detections are ignored (artifact).
    band : ndarray, optional
        ``data`` already filtered to 8-45 Hz (referential); computed when absent.

    Returns
    -------
    Discharges
    """
    x = data - data.mean(axis=0, keepdims=True)
    if band is None:
        hp = bandpass(x, sfreq, 8.0, 45.0, order=3)
    else:
        hp = band - band.mean(axis=0, keepdims=True)
    env = np.abs(hp)
    sigma = median(env, axis=1) / 0.6745  # robust scale per channel
    half = int(round(0.1 * sfreq))
    dist = max(1, int(round(0.15 * sfreq)))
    times: list[np.ndarray] = []
    chans: list[np.ndarray] = []
    amps: list[np.ndarray] = []
    n = x.shape[1]
    for c in range(x.shape[0]):
        thr = max(floor_uv, k_mad * float(sigma[c]))
        pk, _ = sps.find_peaks(env[c], height=thr, distance=dist)
        if pk.size == 0:
            continue
        lo = np.clip(pk - half, 0, n - 1)
        hi = np.clip(pk + half, 0, n - 1)
        seg_idx = lo[:, None] + np.arange(2 * half + 1)[None, :]
        seg_idx = np.minimum(seg_idx, hi[:, None])
        seg = x[c][seg_idx]
        ptp = seg.max(axis=1) - seg.min(axis=1)
        keep = ptp >= min_ptp_uv
        if excluded is not None:
            b = np.minimum((pk / sfreq).astype(int), excluded.shape[-1] - 1)
            ex = excluded[c, b] if excluded.ndim == 2 else excluded[b]
            keep &= ~ex
        times.append(pk[keep] / sfreq)
        chans.append(np.full(int(keep.sum()), c))
        amps.append(ptp[keep])
    if not times:
        e = np.zeros(0)
        return Discharges(e, e.astype(int), e.astype(int), e)
    t = np.concatenate(times)
    ch = np.concatenate(chans)
    a = np.concatenate(amps)
    order = np.argsort(t, kind="stable")
    t, ch, a = t[order], ch[order], a[order]
    if t.size == 0:
        return Discharges(t, ch, ch.copy(), a)
    gid = _group_ids(t, group_ms / 1000.0)
    ng = int(gid[-1]) + 1
    # location = channel of largest amplitude in each group
    best = np.full(ng, -1.0)
    np.maximum.at(best, gid, a)
    is_best = a >= best[gid]
    first_best = np.zeros(ng, dtype=int)
    idx = np.flatnonzero(is_best)
    first_best[gid[idx][::-1]] = idx[::-1]
    counts = np.bincount(gid, minlength=ng)
    return Discharges(
        time_s=t[first_best], channel=ch[first_best], n_channels=counts, amplitude=a[first_best]
    )


def _group_ids(t: np.ndarray, window_s: float) -> np.ndarray:
    """Group sorted times: a group takes every time within ``window_s`` of its first one
    (no chaining, so dense multifocal activity is not merged into one long group)."""
    gid = np.empty(t.size, dtype=np.int64)
    g, start = -1, -np.inf
    for i, ti in enumerate(t.tolist()):
        if ti - start > window_s:
            g += 1
            start = ti
        gid[i] = g
    return gid


def group_foci(
    channel: np.ndarray,
    positions: np.ndarray,
    *,
    min_events: int = 3,
    min_fraction: float = 0.05,
    radius: float | None = None,
) -> tuple[list[list[int]], np.ndarray]:
    """Group discharge locations into spatially separate foci.

    Greedy: the electrode with most discharges seeds a focus that absorbs every location within
    ``radius``; repeat on what is left. A focus counts when it holds at least ``min_events``
    discharges and ``min_fraction`` of all.

    Parameters
    ----------
    channel : ndarray of int
        Location (channel index) of each discharge.
    positions : ndarray, shape (n_channels, 2)
        Scalp positions of the channels.
    min_events, min_fraction : int, float
        What it takes for a group to count as a focus.
    radius : float, optional
        Grouping radius; default 1.5 × the median nearest-neighbour electrode distance, so that
        a focus takes in the electrodes adjacent to its centre.

    Returns
    -------
    foci : list of list of int
        Channel indices of each focus, largest first.
    label : ndarray of int
        Focus index of each discharge (-1 when its group did not count).
    """
    n_ch = positions.shape[0]
    d = np.sqrt(((positions[:, None, :] - positions[None, :, :]) ** 2).sum(-1))
    if radius is None:
        nn = np.sort(d, axis=1)[:, 1] if n_ch > 1 else np.array([1.0])
        radius = 1.5 * float(median(nn))
    counts = np.bincount(channel, minlength=n_ch).astype(float)
    remaining = counts.copy()
    total = counts.sum()
    chan_focus = np.full(n_ch, -1)
    foci: list[list[int]] = []
    while remaining.sum() > 0:
        seed = int(np.argmax(remaining))
        members = np.flatnonzero((d[seed] <= radius) & (remaining > 0) & (chan_focus < 0))
        n_ev = counts[members].sum()
        remaining[members] = 0
        if n_ev >= min_events and n_ev >= min_fraction * total:
            chan_focus[members] = len(foci)
            foci.append([int(m) for m in members])
        else:
            chan_focus[members] = -2
    label = chan_focus[channel] if channel.size else np.zeros(0, dtype=int)
    label = np.where(label < 0, -1, label)
    return foci, label
