"""A shape model of discharges (spikes and sharp waves), judged leave-one-generator-out.

Every candidate peak of the discharge detector (:mod:`hypsa.spikes`) from ``k_local`` robust SD
is measured (:func:`candidate_features`): each measurement relative to the channel's own local
background, or a count of electrodes, so that it means the same on any recording, gain or
montage. A LightGBM model (:data:`MODEL_PARAMS`, monotone where the clinical direction is clear:
:data:`MONOTONE`) scores them; :func:`detect_with_model` keeps those at or above the card's
threshold, one discharge per group of channels within ``group_ms``. The model is rebuilt
deterministically by ``benchmarks/train_discharge_model.py`` and loaded only with its card's
sha256 (:func:`load_model`).

It is not the default (``SpikeParams.model`` is False, :data:`hypsa.spikes.RULE`) and no model is
shipped: measured leave-one-generator-out it found more discharges at fewer false detections on
two of the three generators, but the BASED grading built on it was worse (docs/validation.md).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import signal as sps

from hypsa.errors import HypsaError
from hypsa.kernels import median
from hypsa.model_files import load_booster
from hypsa.signal import bandpass
from hypsa.spikes import Discharges, SpikeParams, _empty, _group_ids, _local_level, side_of

__all__ = ["candidate_features", "detect_with_model", "load_model", "monotone_constraints",
           "DischargeModelError", "FEATURES", "MONOTONE", "MODEL_PARAMS", "MODEL_ROUNDS",
           "MODEL", "MODEL_FILE", "CARD_FILE"]

#: The shipped discharge model (LightGBM text format) and its card (sha256, threshold, data).
MODEL_FILE = "discharge_lgbm.txt"
CARD_FILE = "discharge_lgbm.json"


class DischargeModelError(HypsaError):
    """The shipped discharge model is missing or does not match its card."""



def detect_with_model(data: np.ndarray, sfreq: float, p: SpikeParams,
                  excluded: np.ndarray | None, band: np.ndarray | None,
                  positions: np.ndarray | None) -> Discharges:
    """The model's discharges: candidates scoring at or above the threshold; those on several
    channels within ``group_ms`` are one discharge, located at the highest-scoring one."""
    pk, ch, f = candidate_features(data, sfreq, params=p, excluded=excluded, band=band,
                                   positions=positions, k_candidate=p.k_local)
    if pk.size == 0:
        return _empty()
    booster, card = load_model(p.model_dir)
    col = [FEATURES.index(k) for k in card["features"]]
    score = np.asarray(booster.predict(f[:, col], num_threads=1), dtype=float)
    thr = float(card["threshold"] if p.model_threshold is None else p.model_threshold)
    keep = np.flatnonzero(score >= thr)
    if keep.size == 0:
        return _empty()
    keep = keep[np.argsort(pk[keep], kind="stable")]
    t = pk[keep] / sfreq
    gid = _group_ids(t, p.group_ms / 1000.0)
    best = np.full(int(gid[-1]) + 1, -np.inf)
    np.maximum.at(best, gid, score[keep])
    first = np.full(best.size, -1)
    idx = np.flatnonzero(score[keep] >= best[gid])[::-1]
    first[gid[idx]] = idx
    sel = keep[first]
    x = data - data.mean(axis=0, keepdims=True)
    half = int(round(0.1 * sfreq))
    w = np.clip(pk[sel][:, None] + np.arange(-half, half + 1)[None, :], 0, x.shape[1] - 1)
    seg = x[ch[sel][:, None], w]
    nb = f[sel, FEATURES.index("nb_seen")].astype(int)
    return Discharges(time_s=pk[sel] / sfreq, channel=ch[sel], n_channels=nb + 1,
                      amplitude=seg.max(axis=1) - seg.min(axis=1),
                      contrast=f[sel, FEATURES.index("contrast")])


@lru_cache(maxsize=4)
def load_model(directory: str | None = None):
    """A discharge model and its card (cached).

    Parameters
    ----------
    directory : str, optional
        Folder holding :data:`MODEL_FILE` and :data:`CARD_FILE` (default: ``hypsa/models``).

    Returns
    -------
    (lightgbm.Booster, dict)

    Raises
    ------
    DischargeModelError
        When a file is missing or the model's sha256 differs from its card's.
    """
    booster, card = load_booster(directory, MODEL_FILE, CARD_FILE, DischargeModelError,
                                 f"no discharge model ({MODEL_FILE}, {CARD_FILE}); build one "
                                 "with benchmarks/train_discharge_model.py --out DIR")
    unknown = [k for k in card.get("features", []) if k not in FEATURES]
    if unknown or "threshold" not in card:
        raise DischargeModelError(f"{CARD_FILE}: the card names unknown measurements "
                                  f"{unknown} or no threshold")
    return booster, card



#: The measurements :func:`candidate_features` gives each candidate peak; each is relative to
#: the channel's own local background (or a count of electrodes), so that it means the same on
#: any recording, gain or montage.
FEATURES: tuple[str, ...] = (
    "contrast",          # 8-45 Hz envelope peak / the channel's local level (robust SD)
    "contrast_global",   # ... / the channel's level over the whole window
    "amplitude",         # apex height from the local baseline / local robust SD of the EEG
    "rise",              # steepest slope of the rising flank / local median absolute slope
    "fall",              # steepest slope of the falling flank / local median absolute slope
    "sharpness",         # second difference at the apex / its local median
    "duration_ms",       # width of the apex at half its height (ms)
    "asymmetry",         # log(falling-flank duration / rising-flank duration)
    "slow_after",        # 0.5-4 Hz wave 100-400 ms after the apex, same polarity, / local level
    "nb_seen",           # neighbours whose envelope peaks within ±20 ms above 3 local SD
    "nb_shape",          # neighbours with the same 8-45 Hz waveform, smaller (corr, RMS share)
    "nb_share",          # nb_seen / neighbours on the montage
    "best_nb_contrast",  # the largest neighbour's own contrast within ±20 ms
    "is_location",       # the largest 8-45 Hz peak of all channels within ±20 ms
    "strong_share",      # share of channels at >= half the peak within ±20 ms (generalized)
    "contra_same",       # channels on the other side with the same waveform at >= half size
    "rank_10s",          # peaks larger than this one on the channel within ±5 s
    "density_10s",       # candidate peaks on the channel within ±5 s
    "hf_share",          # 8-45 Hz envelope peak / broadband apex height (a spike's fast part)
    "isolation",         # envelope peak / the largest envelope 150-500 ms either side
)


def _level(a: np.ndarray, sfreq: float, span_s: float, robust: bool = True) -> tuple:
    lv, blk = _local_level(a, sfreq, span_s)
    return (lv / 0.6745 if robust else lv), blk


def candidate_features(
    data: np.ndarray,
    sfreq: float,
    *,
    params: SpikeParams | None = None,
    excluded: np.ndarray | None = None,
    band: np.ndarray | None = None,
    positions: np.ndarray | None = None,
    k_candidate: float = 3.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate peaks and their measurements, for the discharge model.

    A candidate is a peak of a channel's 8-45 Hz envelope at ``k_candidate`` robust SD of the
    channel's local level or more that passes the morphology floors of ``params``
    (``min_ptp_uv``, ``k_slope``) outside ``excluded``. Its measurements (:data:`FEATURES`)
    are taken against the channel's own local background or count electrodes.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        Band-passed EEG in µV, referential; it is average-referenced here.
    sfreq : float
        Sampling rate in Hz.
    params : SpikeParams, optional
        Spans and floors (``local_s``, ``k_global``, ``floor_uv``, ``min_ptp_uv``, ``k_slope``,
        ``min_interval_ms``, ``k_field``, ``field_corr``, ``field_gain``, ``field_ms``).
    excluded : ndarray of bool, shape (n_channels, n_bins) or (n_bins,), optional
        1-s bins where candidates are ignored.
    band : ndarray, optional
        ``data`` filtered to 8-45 Hz (referential); computed when absent.
    positions : ndarray, shape (n_channels, 2), optional
        Scalp positions (neighbours and sides); without them every other channel is a
        neighbour and none is on the other side.
    k_candidate : float
        Lowest local contrast of a candidate.

    Returns
    -------
    sample : ndarray of int
        Sample of each candidate's envelope peak.
    channel : ndarray of int
        Its channel.
    features : ndarray, shape (n_candidates, len(FEATURES))
    """
    p = params or SpikeParams()
    x = np.asarray(data, dtype=np.float64)
    x = x - x.mean(axis=0, keepdims=True)
    hp = bandpass(x, sfreq, 8.0, 45.0, order=3) if band is None else \
        np.asarray(band, dtype=np.float64) - band.mean(axis=0, keepdims=True)
    n_ch, n = x.shape
    empty = (np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros((0, len(FEATURES))))
    if n < 2 * int(sfreq) or n_ch < 2:
        return empty
    env = np.abs(hp)
    sig_glob = median(env, axis=1) / 0.6745
    loc_b, blk = _level(env, sfreq, p.local_s)
    nbk = loc_b.shape[1]
    dx = np.diff(x, axis=1, append=x[:, -1:]) * sfreq
    slope_b, _ = _level(np.abs(dx), sfreq, p.local_s, robust=False)
    d2 = np.abs(np.diff(x, n=2, axis=1, prepend=x[:, :1], append=x[:, -1:])) * sfreq ** 2
    d2_b, _ = _level(d2, sfreq, p.local_s, robust=False)
    lp = bandpass(x, sfreq, None, 4.0, order=2).astype(np.float64)
    lp_b, _ = _level(np.abs(lp), sfreq, p.local_s)
    amp_b, _ = _level(np.abs(x), sfreq, p.local_s)
    half = int(round(0.1 * sfreq))
    q = max(1, int(round(0.05 * sfreq)))
    dist = max(1, int(round(p.min_interval_ms / 1000.0 * sfreq)))
    win = np.arange(-half, half + 1)
    win_s = np.arange(-q, q + 1)
    ten = int(round(5.0 * sfreq))
    pks, chs, rank, dens = [], [], [], []
    for c in range(n_ch):
        allp, _ = sps.find_peaks(env[c], height=max(p.k_global * float(sig_glob[c]), p.floor_uv),
                                 distance=dist)
        pk = allp[(allp >= half) & (allp < n - half)]
        bk = np.minimum(pk // blk, nbk - 1)
        pk = pk[env[c, pk] >= k_candidate * loc_b[c, bk]]
        if pk.size == 0:
            continue
        bk = np.minimum(pk // blk, nbk - 1)
        seg = x[c][pk[:, None] + win[None, :]]
        steep = np.abs(dx[c])[pk[:, None] + win_s[None, :]].max(axis=1)
        keep = ((seg.max(axis=1) - seg.min(axis=1)) >= p.min_ptp_uv) & \
            (steep >= p.k_slope * slope_b[c, bk])
        if excluded is not None:
            b = np.minimum((pk / sfreq).astype(int), excluded.shape[-1] - 1)
            keep &= ~(excluded[c, b] if excluded.ndim == 2 else excluded[b])
        pk = pk[keep]
        if pk.size == 0:
            continue
        # rank among the channel's peaks within ±5 s; candidates within ±5 s
        lo = np.searchsorted(allp, pk - ten)
        hi = np.searchsorted(allp, pk + ten, side="right")
        ev = env[c, allp]
        rank.append(np.array([(ev[a:b] > env[c, i]).sum() for a, b, i in zip(
            lo.tolist(), hi.tolist(), pk.tolist(), strict=True)], dtype=float))
        dens.append((np.searchsorted(pk, pk + ten, side="right")
                     - np.searchsorted(pk, pk - ten)).astype(float))
        pks.append(pk)
        chs.append(np.full(pk.size, c))
    if not pks:
        return empty
    pk = np.concatenate(pks)
    ch = np.concatenate(chs)
    f = np.zeros((pk.size, len(FEATURES)))
    col = {k: i for i, k in enumerate(FEATURES)}
    f[:, col["rank_10s"]] = np.concatenate(rank)
    f[:, col["density_10s"]] = np.concatenate(dens)
    bk = np.minimum(pk // blk, nbk - 1)
    f[:, col["contrast"]] = env[ch, pk] / np.maximum(loc_b[ch, bk], 1e-6)
    f[:, col["contrast_global"]] = env[ch, pk] / np.maximum(sig_glob[ch], 1e-6)
    # the apex: the largest broadband deflection from the local baseline within ±40 ms
    w4 = max(1, int(round(0.04 * sfreq)))
    wb = int(round(0.25 * sfreq))
    idx = np.clip(pk[:, None] + np.arange(-wb, wb + 1)[None, :], 0, n - 1)
    base = median(x[ch[:, None], idx], axis=1)
    near_i = np.clip(pk[:, None] + np.arange(-w4, w4 + 1)[None, :], 0, n - 1)
    dev = x[ch[:, None], near_i] - base[:, None]
    off = np.abs(dev).argmax(axis=1)
    apex = np.clip(pk - w4 + off, 0, n - 1)
    s = np.sign(dev[np.arange(pk.size), off])
    s[s == 0] = 1.0
    h = np.abs(dev[np.arange(pk.size), off])
    abk = np.minimum(apex // blk, nbk - 1)
    f[:, col["amplitude"]] = h / np.maximum(amp_b[ch, abk], 1e-6)
    f[:, col["hf_share"]] = env[ch, pk] / np.maximum(h, 1e-6)
    w50, w15i = int(round(0.5 * sfreq)), int(round(0.15 * sfreq))
    ring = np.r_[np.arange(-w50, -w15i + 1), np.arange(w15i, w50 + 1)]
    ri = np.clip(pk[:, None] + ring[None, :], 0, n - 1)
    f[:, col["isolation"]] = env[ch, pk] / np.maximum(env[ch[:, None], ri].max(axis=1), 1e-6)
    w8 = max(2, int(round(0.08 * sfreq)))
    before = np.clip(apex[:, None] + np.arange(-w8, 0)[None, :], 0, n - 1)
    after = np.clip(apex[:, None] + np.arange(0, w8)[None, :], 0, n - 1)
    sb = np.maximum(slope_b[ch, abk], 1e-6)
    f[:, col["rise"]] = (s[:, None] * dx[ch[:, None], before]).max(axis=1) / sb
    f[:, col["fall"]] = (-s[:, None] * dx[ch[:, None], after]).max(axis=1) / sb
    f[:, col["sharpness"]] = d2[ch, apex] / np.maximum(d2_b[ch, abk], 1e-6)
    # duration at half height, and the two flanks' durations
    w15 = int(round(0.15 * sfreq))
    prof_i = np.clip(apex[:, None] + np.arange(-w15, w15 + 1)[None, :], 0, n - 1)
    prof = s[:, None] * (x[ch[:, None], prof_i] - base[:, None])
    below = prof < 0.5 * h[:, None]
    left_b = below[:, :w15][:, ::-1]
    right_b = below[:, w15 + 1:]
    rise_n = np.where(left_b.any(axis=1), left_b.argmax(axis=1) + 1, w15)
    fall_n = np.where(right_b.any(axis=1), right_b.argmax(axis=1) + 1, w15)
    f[:, col["duration_ms"]] = (rise_n + fall_n) / sfreq * 1000.0
    f[:, col["asymmetry"]] = np.log(fall_n / rise_n)
    # after-going slow wave, same polarity as the apex, against the local slow level
    sw = np.clip(apex[:, None] + np.arange(int(round(0.1 * sfreq)), int(round(0.4 * sfreq)))
                 [None, :], 0, n - 1)
    f[:, col["slow_after"]] = s * lp[ch[:, None], sw].mean(axis=1) / \
        np.maximum(lp_b[ch, abk], 1e-6)
    # the field: the other channels within ±20 ms, each against its own local level
    if positions is not None:
        pos = np.asarray(positions, dtype=float)
        d = np.sqrt(((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1))
        nn = float(median(np.sort(d, axis=1)[:, 1]))
        near = (d <= 1.6 * nn) & ~np.eye(n_ch, dtype=bool)
        side = side_of(pos)
        other = (side[:, None] * side[None, :]) < 0
    else:
        near = ~np.eye(n_ch, dtype=bool)
        other = np.zeros((n_ch, n_ch), dtype=bool)
    r = max(1, int(round(0.02 * sfreq)))
    hf = max(1, int(round(p.field_ms / 1000.0 * sfreq)))
    for a in range(0, pk.size, 4000):
        sl = slice(a, a + 4000)
        pa, ca, ba = pk[sl], ch[sl], bk[sl]
        m = pa.size
        wi = np.clip(pa[None, :, None] + np.arange(-r, r + 1)[None, None, :], 0, n - 1)
        epk = env[np.arange(n_ch)[:, None, None], wi].max(axis=2)          # (n_ch, m)
        ratio = epk / np.maximum(loc_b[:, ba], 1e-6)
        wf = np.clip(pa[None, :, None] + np.arange(-hf, hf + 1)[None, None, :], 0, n - 1)
        segf = hp[np.arange(n_ch)[:, None, None], wf]
        segf = segf - segf.mean(axis=2, keepdims=True)
        ref = segf[ca, np.arange(m)]
        e_ch = (segf ** 2).sum(axis=2)
        e_ref = np.maximum((ref ** 2).sum(axis=1), 1e-9)[None, :]
        corr = (segf * ref[None]).sum(axis=2) / (np.sqrt(e_ch * e_ref) + 1e-9)
        gain = np.sqrt(e_ch / e_ref)
        nb = near[ca].T                                                      # (n_ch, m)
        f[sl, col["nb_seen"]] = (nb & (ratio >= p.k_field)).sum(axis=0)
        f[sl, col["nb_shape"]] = (nb & (corr >= p.field_corr) & (gain >= p.field_gain)).sum(0)
        f[sl, col["nb_share"]] = f[sl, col["nb_seen"]] / np.maximum(nb.sum(axis=0), 1)
        f[sl, col["best_nb_contrast"]] = np.where(nb, ratio, 0.0).max(axis=0)
        own = env[ca, pa]
        f[sl, col["is_location"]] = (epk.max(axis=0) <= own + 1e-9).astype(float)
        f[sl, col["strong_share"]] = (epk >= 0.5 * own[None, :]).mean(axis=0)
        f[sl, col["contra_same"]] = (other[ca].T & (corr >= p.field_corr)
                                     & (epk >= 0.5 * own[None, :])).sum(axis=0)
    return pk, ch, f


#: Direction of each measurement where the clinical sense is clear: standing out from the
#: background (8-45 Hz contrast, apex height), a pointed apex and a field make a discharge
#: likelier (+1); a transient as large on most channels (generalized) or mirrored on the other
#: side (vertex wave, K-complex) less (-1). Left free, the apex height learned from real
#: backgrounds that tall broadband transients are rarely discharges, and textbook spikes were
#: missed (docs/validation.md).
MONOTONE: dict[str, int] = {
    "contrast": 1, "contrast_global": 1, "amplitude": 1, "sharpness": 1, "nb_seen": 1,
    "nb_shape": 1, "best_nb_contrast": 1, "strong_share": -1, "contra_same": -1,
}

#: LightGBM settings of the discharge model (small, deterministic, one thread).
MODEL_PARAMS: dict = {
    "objective": "binary", "num_leaves": 15, "learning_rate": 0.05, "min_data_in_leaf": 100,
    "lambda_l2": 1.0, "num_threads": 1, "deterministic": True, "force_row_wise": True,
    "seed": 0, "verbose": -1,
}
MODEL_ROUNDS = 200


#: The model's detector: candidate peaks from 3.5 robust SD judged by the model (give its
#: folder as ``model_dir``), every one of its discharges counted (no weaker tier).
MODEL = SpikeParams(k_local=3.5, k_in_focus=3.5, model=True)


def monotone_constraints(features: list[str] | tuple[str, ...]) -> list[int]:
    """LightGBM's monotone constraints for ``features`` (:data:`MONOTONE`, 0 elsewhere)."""
    return [MONOTONE.get(f, 0) for f in features]
