"""Compiled inner loops (numba) for the reductions numpy does slowly.

numpy reduces a short last axis (a 0.125-s frame is 16 samples at 128 Hz) one tiny row at a
time, and builds the histograms of the entropy features through large temporary index arrays.
These few loops run once per sample, in one pass, with no temporary. The spasm detector
measures each of thousands of candidates a day on a few short spans of its frame curves; there
numpy's cost is its per-call overhead, and one compiled pass per candidate
(:func:`candidate_channels`, :func:`band_share_change`, :func:`span_share_below`) replaces some
thirty small calls. Each function has a plain numpy definition in its docstring, and
``tests/test_features.py`` checks the two agree.

Compiled functions are cached on disk (``cache=True``), so worker processes do not compile
them again.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["median", "frames_minmax", "frames_ptp", "frames_absmax", "frames_rms",
           "frames_ms", "mean_abs_diff", "ordinal_counts", "amplitude_counts",
           "band_share_change", "candidate_channels", "span_share_below"]


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


@numba.njit(cache=True, nogil=True)
def _median_of(v: np.ndarray, buf: np.ndarray) -> float:  # pragma: no cover - compiled
    # insertion sort into a buffer for the usual short span (tens of frames: nothing is
    # allocated), a full sort for a long one
    n = v.size
    if n > 64:
        buf = np.sort(v)
    else:
        _insertion_sort(v, buf)
    k = n // 2
    if n % 2:
        return buf[k]
    return (buf[k - 1] + buf[k]) / 2  # the sum in the array's own type, as numpy computes it


@numba.njit(cache=True, nogil=True)
def _insertion_sort(v: np.ndarray, buf: np.ndarray) -> None:  # pragma: no cover - compiled
    for i in range(v.size):
        x = v[i]
        j = i
        while j > 0 and buf[j - 1] > x:
            buf[j] = buf[j - 1]
            j -= 1
        buf[j] = x


@numba.njit(cache=True, nogil=True)
def _candidate_channels(rms_n, mid_n, ratio_w, sa, before, dip, wave, p, ctx,
                        active):  # pragma: no cover - compiled
    nch = rms_n.shape[0]
    dec = np.zeros(nch, np.bool_)
    dec_mid = np.zeros(nch, np.bool_)
    rank_w = np.full(nch, np.nan)
    rank_d = np.full(nch, np.nan)
    rank_wa = np.full(nch, np.nan)
    wave_pre = np.empty(nch, np.float32)
    n_ctx = 0
    n_act = 0
    for s in range(ctx.shape[0]):
        for t in range(ctx[s, 0], ctx[s, 1]):
            n_ctx += 1
            if active[t]:
                n_act += 1
    floor32 = np.float32(1e-3)
    longest = min(64, max(before[0, 1] - before[0, 0], before[1, 1] - before[1, 0],
                          dip[1] - dip[0]))
    buf = np.empty(longest, rms_n.dtype)
    buf_m = np.empty(longest, mid_n.dtype)
    buf_s = np.empty(longest, sa.dtype)
    for c in range(nch):
        pre = max(_median_of(rms_n[c, before[0, 0]:before[0, 1]], buf),
                  _median_of(rms_n[c, before[1, 0]:before[1, 1]], buf))
        d = _median_of(rms_n[c, dip[0]:dip[1]], buf)
        dec[c] = d <= 0.5 * max(pre, 1e-3)
        pre_m = max(_median_of(mid_n[c, before[0, 0]:before[0, 1]], buf_m),
                    _median_of(mid_n[c, before[1, 0]:before[1, 1]], buf_m))
        dec_mid[c] = _median_of(mid_n[c, dip[0]:dip[1]], buf_m) <= 0.5 * max(pre_m, 1e-3)
        x = ratio_w[c, p]
        bw = 0
        bd = 0
        ba = 0
        for s in range(ctx.shape[0]):
            for t in range(ctx[s, 0], ctx[s, 1]):
                b = np.int64(ratio_w[c, t] < x)  # branch-free counts
                bw += b
                ba += b & np.int64(active[t])
                bd += np.int64(rms_n[c, t] < d)
        if n_ctx:
            rank_w[c] = bw / n_ctx
            rank_d[c] = bd / n_ctx
        if n_act:
            rank_wa[c] = ba / n_act
        ps = max(np.float32(_median_of(sa[c, before[0, 0]:before[0, 1]], buf_s)), floor32)
        wave_pre[c] = sa[c, wave[0]:wave[1]].max() / ps
    return dec, dec_mid, rank_w, rank_d, rank_wa, wave_pre, n_ctx, n_act


@numba.njit(cache=True, nogil=True)
def _band_share_change(x: np.ndarray, band: np.ndarray, before: tuple, during: tuple
                       ) -> np.ndarray:  # pragma: no cover - compiled
    rows = x.shape[0]
    out = np.empty(rows, np.float64)
    for r in range(rows):
        rms = np.zeros(4)
        for k, (i, j) in enumerate((before, during)):
            sx = 0.0
            sb = 0.0
            for t in range(i, j):
                v = np.float64(x[r, t])
                w = np.float64(band[r, t])
                sx += v * v
                sb += w * w
            rms[2 * k] = np.sqrt(sx / (j - i)) + 1e-6
            rms[2 * k + 1] = np.sqrt(sb / (j - i)) + 1e-6
        out[r] = (rms[3] / rms[2]) / (rms[1] / rms[0])
    return out


@numba.njit(cache=True, nogil=True)
def _span_share_below(x: np.ndarray, ref: np.ndarray, spans: np.ndarray,
                      use: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    rows = x.shape[0]
    out = np.empty(rows, np.float64)
    for r in range(rows):
        below = 0
        n = 0
        for s in range(spans.shape[0]):
            for t in range(spans[s, 0], spans[s, 1]):
                if use[t]:
                    n += 1
                    if x[r, t] < ref[r]:
                        below += 1
        out[r] = below / n if n else np.nan
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


def span_share_below(x: np.ndarray, ref: np.ndarray, spans: list[tuple[int, int]],
                     use: np.ndarray | None = None) -> np.ndarray:
    """Share of each row's values below that row's ``ref``, over the columns of ``spans``
    (half-open, disjoint) where ``use`` is true (NaN where none is):
    ``(x[:, cols] < ref[:, None]).mean(axis=1)`` with ``cols`` those columns."""
    a = np.asarray(x)
    sp = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    u = np.ones(a.shape[1], dtype=np.bool_) if use is None else np.asarray(use, dtype=np.bool_)
    return _span_share_below(a, np.asarray(ref, dtype=a.dtype), sp, u)


def candidate_channels(rms_n: np.ndarray, mid_n: np.ndarray, ratio_w: np.ndarray, sa: np.ndarray,
                       before: tuple[tuple[int, int], tuple[int, int]], dip: tuple[int, int],
                       wave: tuple[int, int], p: int, ctx: list[tuple[int, int]],
                       active: np.ndarray) -> tuple:
    """The per-electrode measurements of one spasm candidate, in one pass over its frames.

    With ``med(x, (i, j)) = median(x[:, i:j], axis=1)`` and ``lvl(x) = max(med(x, before[0]),
    med(x, before[1]))`` (each electrode's level before the wave), ``cols`` the frames of
    the ``ctx`` spans and ``act`` those of them where ``active``:

    - ``dec = med(rms_n, dip) <= 0.5 * max(lvl(rms_n), 1e-3)``, ``dec_mid`` the same on ``mid_n``;
    - ``rank_w = (ratio_w[:, cols] < ratio_w[:, p, None]).mean(1)``, ``rank_d`` the same of
      ``rms_n`` against ``med(rms_n, dip)``, ``rank_wa`` that of ``rank_w`` over ``act``
      (NaN where there is no such frame);
    - ``wave_pre = sa[:, wave].max(1) / max(med(sa, before[0]), 1e-3)`` (float32);
    - ``n_ctx``, ``n_act``: the numbers of frames in ``cols`` and ``act``.

    Every span must be non-empty.
    """
    sp = np.asarray(ctx, dtype=np.int64).reshape(-1, 2)
    return _candidate_channels(rms_n, mid_n, ratio_w, sa, np.asarray(before, dtype=np.int64),
                               np.asarray(dip, dtype=np.int64),
                               np.asarray(wave, dtype=np.int64), int(p), sp,
                               np.asarray(active, dtype=np.bool_))


def band_share_change(x: np.ndarray, band: np.ndarray, before: tuple[int, int],
                      during: tuple[int, int]) -> np.ndarray:
    """How much each row's share of activity in ``band`` (``x`` filtered to it) changes from the
    samples ``before`` to the samples ``during`` (both half-open, non-empty), in one pass:
    ``(rms(band, during) / rms(x, during)) / (rms(band, before) / rms(x, before))`` with
    ``rms(a, (i, j)) = np.sqrt(np.mean(np.square(a[:, i:j], dtype=np.float64), axis=1)) + 1e-6``
    (NaN where a span is empty)."""
    if before[1] <= before[0] or during[1] <= during[0]:
        return np.full(np.asarray(x).shape[0], np.nan)
    return _band_share_change(np.asarray(x), np.asarray(band),
                              (int(before[0]), int(before[1])), (int(during[0]), int(during[1])))
