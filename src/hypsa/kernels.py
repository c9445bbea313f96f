"""Compiled inner loops (numba) for the reductions numpy does slowly.

numpy reduces a short last axis (a 0.125-s frame is 16 samples at 128 Hz) one tiny row at a
time, and builds the histograms of the entropy features through large temporary index arrays.
These few loops run once per sample, in one pass, with no temporary. Each has a plain numpy
definition in its docstring, and ``tests/test_features.py`` checks the two agree.

Compiled functions are cached on disk (``cache=True``), so worker processes do not compile
them again.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["median", "frames_minmax", "frames_ptp", "frames_absmax", "frames_rms",
           "frames_ms", "mean_abs_diff", "ordinal_counts", "amplitude_counts"]


@numba.njit(cache=True, nogil=True)
def _frames_minmax(x: np.ndarray, spf: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    nc, n = x.shape
    nf = n // spf
    lo_out = np.empty((nc, nf), np.float32)
    hi_out = np.empty((nc, nf), np.float32)
    for c in range(nc):
        for f in range(nf):
            lo = x[c, f * spf]
            hi = lo
            for k in range(f * spf + 1, f * spf + spf):
                v = x[c, k]
                if v > hi:
                    hi = v
                if v < lo:
                    lo = v
            lo_out[c, f] = lo
            hi_out[c, f] = hi
    return lo_out, hi_out


@numba.njit(cache=True, nogil=True)
def _frames_ms(x: np.ndarray, spf: int) -> np.ndarray:  # pragma: no cover - compiled
    nc, n = x.shape
    nf = n // spf
    out = np.empty((nc, nf), np.float64)
    for c in range(nc):
        for f in range(nf):
            s = 0.0
            for k in range(f * spf, f * spf + spf):
                v = np.float64(x[c, k])
                s += v * v
            out[c, f] = s / spf
    return out


@numba.njit(cache=True, nogil=True)
def _ordinal_counts(x: np.ndarray, order: int, delay: int) -> np.ndarray:  # pragma: no cover
    rows, n = x.shape
    m = n - (order - 1) * delay
    nbits = order * (order - 1) // 2
    out = np.zeros((rows, 1 << nbits), np.int64)
    if order == 3:  # the usual case, unrolled
        d2 = 2 * delay
        for r in range(rows):
            cnt = np.zeros(8, np.int64)
            for t in range(m):
                a = x[r, t]
                b = x[r, t + delay]
                c = x[r, t + d2]
                cnt[(a <= b) | ((a <= c) << 1) | ((b <= c) << 2)] += 1
            out[r] = cnt
        return out
    for r in range(rows):
        for t in range(m):
            code = 0
            bit = 0
            for i in range(order):
                for j in range(i + 1, order):
                    if x[r, t + i * delay] <= x[r, t + j * delay]:
                        code |= 1 << bit
                    bit += 1
            out[r, code] += 1
    return out


@numba.njit(cache=True, nogil=True)
def _amplitude_counts(x: np.ndarray, n_bins: int) -> np.ndarray:  # pragma: no cover
    rows, n = x.shape
    out = np.zeros((rows, n_bins), np.int64)
    for r in range(rows):
        lo = x[r, 0]
        hi = x[r, 0]
        for t in range(n):
            if x[r, t] < lo:
                lo = x[r, t]
            if x[r, t] > hi:
                hi = x[r, t]
        span = max(np.float64(hi) - np.float64(lo), 1e-9)
        for t in range(n):
            b = int((np.float64(x[r, t]) - lo) / span * n_bins)
            out[r, min(max(b, 0), n_bins - 1)] += 1
    return out


@numba.njit(cache=True, nogil=True)
def _mean_abs_diff(x: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    rows, n = x.shape
    out = np.zeros(rows, np.float64)
    for r in range(rows):
        s = 0.0
        for t in range(1, n):
            s += abs(np.float64(x[r, t]) - np.float64(x[r, t - 1]))
        out[r] = s / max(n - 1, 1)
    return out


def _rows(x: np.ndarray) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float64)
    return a.reshape(-1, a.shape[-1])


def median(a: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """``np.median`` of finite values along one axis, by a direct partition.

    ``np.median`` also scans for NaN and sorts the two middle ranks separately; on the many
    small medians of a window (over 19 channels, over 30-s blocks) it costs several times a
    partition. Inputs must be finite (every caller's are: filtered signals and their
    envelopes).
    """
    a = np.asarray(a)
    n = a.shape[axis]
    if n == 0:
        return np.median(a, axis=axis, keepdims=keepdims)
    k = n // 2
    if n % 2:
        out = np.take(np.partition(a, k, axis=axis), [k], axis=axis)
    else:  # one selection: the k-th smallest, and the largest of the k below it
        part = np.partition(a, k, axis=axis)
        upper = np.take(part, [k], axis=axis)
        lower = np.take(part, np.arange(k), axis=axis).max(axis=axis, keepdims=True)
        out = (lower + upper) / 2
    return out if keepdims else np.squeeze(out, axis=axis)


def frames_minmax(x: np.ndarray, spf: int) -> tuple[np.ndarray, np.ndarray]:
    """Minimum and maximum per frame of ``spf`` samples (a trailing partial frame is dropped),
    in one pass; float32 results shaped ``(..., n_frames)``."""
    a = np.asarray(x, dtype=np.float32)
    if a.shape[-1] < spf or a.size == 0:
        e = np.zeros((*a.shape[:-1], 0), dtype=np.float32)
        return e, e.copy()
    lo, hi = _frames_minmax(a.reshape(-1, a.shape[-1]), int(spf))
    shape = (*a.shape[:-1], lo.shape[-1])
    return lo.reshape(shape), hi.reshape(shape)


def frames_ptp(x: np.ndarray, spf: int) -> np.ndarray:
    """Peak-to-peak (max - min) per frame of ``spf`` samples (a trailing partial frame is
    dropped); float32. Same as ``v.max(-1) - v.min(-1)`` with
    ``v = x[..., :nf*spf].reshape(..., nf, spf)``."""
    lo, hi = frames_minmax(x, spf)
    return hi - lo


def frames_absmax(x: np.ndarray, spf: int) -> np.ndarray:
    """Largest absolute value per frame of ``spf`` samples (a trailing partial frame is dropped).

    Same as ``np.abs(x[..., :nf*spf]).reshape(..., nf, spf).max(-1)``; float32 result.
    """
    lo, hi = frames_minmax(x, spf)
    return np.maximum(hi, -lo)


def frames_ms(x: np.ndarray, spf: int) -> np.ndarray:
    """Mean square per frame of ``spf`` samples (a trailing partial frame is dropped).

    Same as ``(x[..., :nf*spf].reshape(..., nf, spf) ** 2).mean(-1)`` in float64.
    """
    a = np.asarray(x)
    out = _frames_ms(_rows(a), int(spf))
    return out.reshape(*a.shape[:-1], out.shape[-1])


def frames_rms(x: np.ndarray, spf: int) -> np.ndarray:
    """Root mean square per frame of ``spf`` samples: ``np.sqrt(frames_ms(x, spf))``."""
    return np.sqrt(frames_ms(x, spf))


def mean_abs_diff(x: np.ndarray) -> np.ndarray:
    """Mean absolute first difference along the last axis: ``np.abs(np.diff(x)).mean(-1)``."""
    a = np.asarray(x)
    return _mean_abs_diff(_rows(a)).reshape(a.shape[:-1])


def ordinal_counts(x: np.ndarray, order: int = 3, delay: int = 1) -> np.ndarray:
    """Counts of each ordinal pattern along the last axis, shape ``(..., 2**(order*(order-1)/2))``.

    A pattern is coded by the pairwise comparisons ``x[t+i*delay] <= x[t+j*delay]`` (i < j),
    which fixes the ranking of its samples with the tie-breaking of a stable argsort.
    """
    a = np.asarray(x)
    out = _ordinal_counts(_rows(a), int(order), int(delay))
    return out.reshape(*a.shape[:-1], out.shape[-1])


def amplitude_counts(x: np.ndarray, n_bins: int = 16) -> np.ndarray:
    """Histogram of each row over ``n_bins`` equal bins spanning its own min..max, shape
    ``(..., n_bins)`` (the maximum falls in the last bin)."""
    a = np.asarray(x)
    out = _amplitude_counts(_rows(a), int(n_bins))
    return out.reshape(*a.shape[:-1], n_bins)
