"""Per-epoch features: reference checks against antropy and known signals."""

from __future__ import annotations

import math

import antropy
import numpy as np
import pytest

from hypsa import features as F


@pytest.fixture(scope="module")
def epochs() -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.standard_normal((4, 3, 1280)).astype(np.float32)


def test_permutation_entropy_matches_antropy(epochs):
    ours = F.permutation_entropy(epochs, order=3, delay=1)
    for c in range(epochs.shape[0]):
        for e in range(epochs.shape[1]):
            ref = antropy.perm_entropy(epochs[c, e].astype(float), order=3, delay=1,
                                       normalize=True)
            assert ours[c, e] == pytest.approx(ref, abs=1e-9)


def test_permutation_entropy_low_for_regular_signal():
    t = np.arange(1280) / 128
    sine = np.sin(2 * np.pi * 2 * t)[None, None, :]
    noise = np.random.default_rng(0).standard_normal((1, 1, 1280))
    assert F.permutation_entropy(sine)[0, 0] < 0.6 < F.permutation_entropy(noise)[0, 0]


def test_band_powers_put_a_sine_in_its_band():
    fs = 128.0
    t = np.arange(int(10 * fs)) / fs
    x = (50 * np.sin(2 * np.pi * 10 * t))[None, None, :]
    bands, total = F.band_powers(x, fs)
    assert bands["alpha"][0, 0] / total[0, 0] > 0.95
    # power of a sine of amplitude A is A^2 / 2
    assert total[0, 0] == pytest.approx(50**2 / 2, rel=0.05)


def test_envelope_and_line_length_scale_with_amplitude(epochs):
    a = F.envelope_amplitude(epochs)
    b = F.envelope_amplitude(3 * epochs)
    np.testing.assert_allclose(b, 3 * a, rtol=1e-5)
    np.testing.assert_allclose(F.line_length(3 * epochs, 128), 3 * F.line_length(epochs, 128),
                               rtol=1e-5)


def test_correlation_measures():
    rng = np.random.default_rng(1)
    common = rng.standard_normal(1280)
    sync = np.stack([common + 0.1 * rng.standard_normal(1280) for _ in range(19)])[:, None, :]
    indep = rng.standard_normal((19, 1, 1280))
    assert F.mean_abs_correlation(sync)[0] > 0.9
    assert F.mean_abs_correlation(indep)[0] < 0.1
    names = ["Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz", "C4", "T8", "P7", "P3",
             "Pz", "P4", "P8", "O1", "O2"]
    assert F.interhemispheric_correlation(sync, names)[0] > 0.9
    assert np.isnan(F.interhemispheric_correlation(sync[:1], ["Cz"])[0])


def test_spectral_and_shannon_entropy_bounds(epochs):
    se = F.spectral_entropy(epochs, 128.0)
    assert np.all((se > 0.8) & (se <= 1.0))  # white noise: flat spectrum
    sh = F.shannon_entropy(epochs)
    assert np.all((sh > 2.5) & (sh <= 4.0))  # 16 bins: at most 4 bits


def test_welch_psd_matches_scipy() -> None:
    from scipy import signal as sps

    rng = np.random.default_rng(3)
    for n in (1920, 1281, 100):
        ep = (rng.standard_normal((3, 4, n)) * 30 + 5).astype(np.float32)
        f, p = F.welch_psd(ep, 128.0)
        f0, p0 = sps.welch(ep.astype(np.float64), fs=128.0, nperseg=min(n, 256), noverlap=0,
                           axis=-1)
        np.testing.assert_allclose(f, f0)
        np.testing.assert_allclose(p, p0, rtol=2e-4, atol=1e-6 * p0.max())
        from hypsa.signal import welch

        f, p = welch(ep, 128.0, 256)
        f0, p0 = sps.welch(ep.astype(np.float64), fs=128.0, nperseg=min(n, 256), axis=-1)
        np.testing.assert_allclose(p, p0, rtol=2e-4, atol=1e-6 * p0.max())


def test_kernels_match_numpy() -> None:
    from hypsa import kernels as K

    rng = np.random.default_rng(5)
    x = (rng.standard_normal((4, 1001)) * 40).astype(np.float32)
    v = x[:, :992].reshape(4, 62, 16)
    np.testing.assert_array_equal(K.frames_absmax(x, 16), np.abs(v).max(-1))
    np.testing.assert_allclose(K.frames_rms(x, 16),
                               np.sqrt((v.astype(np.float64) ** 2).mean(-1)), rtol=1e-10)
    np.testing.assert_allclose(K.mean_abs_diff(x), np.abs(np.diff(x.astype(np.float64))).mean(-1),
                               rtol=1e-10)
    counts = K.amplitude_counts(x, 16)
    for r in range(4):
        ref, _ = np.histogram(x[r], bins=16, range=(float(x[r].min()), float(x[r].max())))
        np.testing.assert_array_equal(counts[r], ref)
    ties = np.repeat(rng.integers(0, 3, (2, 300)), 2, axis=-1).astype(np.float32)
    for order, delay in ((3, 1), (3, 2), (4, 1)):
        c = K.ordinal_counts(ties, order, delay)
        assert c.sum(-1).tolist() == [600 - (order - 1) * delay] * 2
        for r in range(2):
            p = c[r][c[r] > 0] / c[r].sum()
            h = -(p * np.log2(p)).sum() / np.log2(math.factorial(order))
            assert h == pytest.approx(antropy.perm_entropy(ties[r], order=order, delay=delay,
                                                           normalize=True), abs=1e-12)


@pytest.mark.parametrize("dip", [(610, 630), (610, 611), (600, 760)])
def test_candidate_kernels_match_numpy(dip: tuple[int, int]) -> None:
    """The spasm detector's per-candidate pass (hypsa.kernels.candidate_channels,
    band_share_change, span_share_below) equals its numpy definition, for short and long dips
    (a long one is sorted, a short one inserted), spans of odd and even length and float32
    ties."""
    from hypsa import kernels as K
    from hypsa.kernels import median

    rng = np.random.default_rng(9)
    nch, nf = 7, 1300
    rms_n, mid_n = rng.gamma(2.0, 0.5, (nch, nf)), rng.gamma(2.0, 0.5, (nch, nf))
    ratio_w = np.round(rng.gamma(2.0, 0.5, (nch, nf)), 1).astype(np.float32)  # ties
    sa = rng.gamma(2.0, 20.0, (nch, nf)).astype(np.float32)
    rms_n[:4, dip[0]:dip[1]] *= 0.3  # an electrodecrement on four of the electrodes
    active = rng.random(nf) > 0.3
    before, wave, p = ((548, 588), (580, 595)), (596, 606), 600
    ctx = [(120, 572), (dip[1] + 24, 1080)]
    dec, dec_mid, rank_w, rank_d, rank_wa, wave_pre, n_ctx, n_act = K.candidate_channels(
        rms_n, mid_n, ratio_w, sa, before, dip, wave, p, ctx, active)

    def lvl(x: np.ndarray) -> np.ndarray:
        return np.maximum(*(median(x[:, i:j], axis=1) for i, j in before))

    cols = np.r_[np.arange(*ctx[0]), np.arange(*ctx[1])]
    act = cols[active[cols]]
    d = median(rms_n[:, dip[0]:dip[1]], axis=1)
    np.testing.assert_array_equal(dec, d <= 0.5 * np.maximum(lvl(rms_n), 1e-3))
    np.testing.assert_array_equal(
        dec_mid, median(mid_n[:, dip[0]:dip[1]], axis=1) <= 0.5 * np.maximum(lvl(mid_n), 1e-3))
    assert 0 < dec.sum() < nch  # the comparison is not one-sided
    np.testing.assert_array_equal(rank_w, (ratio_w[:, cols] < ratio_w[:, p, None]).mean(1))
    np.testing.assert_array_equal(rank_d, (rms_n[:, cols] < d[:, None]).mean(1))
    np.testing.assert_array_equal(rank_wa, (ratio_w[:, act] < ratio_w[:, p, None]).mean(1))
    pre_sa = np.maximum(median(sa[:, before[0][0]:before[0][1]], axis=1), 1e-3)
    np.testing.assert_array_equal(wave_pre, sa[:, wave[0]:wave[1]].max(1) / pre_sa)
    assert (n_ctx, n_act) == (cols.size, act.size)

    def rms(a: np.ndarray, i: int, j: int) -> np.ndarray:
        return np.sqrt(np.mean(np.square(a[:, i:j], dtype=np.float64), axis=1)) + 1e-6

    band = sa * rng.uniform(0.1, 0.5, sa.shape).astype(np.float32)
    np.testing.assert_allclose(
        K.band_share_change(sa, band, (10, 90), (95, 131)),
        (rms(band, 95, 131) / rms(sa, 95, 131)) / (rms(band, 10, 90) / rms(sa, 10, 90)),
        rtol=1e-12)
    assert np.isnan(K.band_share_change(sa, band, (10, 90), (95, 95))).all()
    np.testing.assert_array_equal(K.span_share_below(ratio_w, ratio_w[:, p], ctx, active),
                                  rank_wa)


def test_fast_median_matches_numpy() -> None:
    from hypsa.kernels import median

    rng = np.random.default_rng(8)
    for shape in ((19, 2720), (4, 7), (5, 3, 6), (1, 1)):
        a = rng.standard_normal(shape)
        for axis in range(a.ndim):
            np.testing.assert_allclose(median(a, axis=axis), np.median(a, axis=axis))
            np.testing.assert_allclose(median(a, axis=axis, keepdims=True),
                                       np.median(a, axis=axis, keepdims=True))


@pytest.mark.parametrize("sfreq", [128.0, 256.0, 500.0])
def test_filter_bank_matches_sosfiltfilt(sfreq: float) -> None:
    """Away from the edges, each band of the bank is the Butterworth band-pass that
    ``sosfiltfilt`` applies after polyphase resampling to 128 Hz."""
    from hypsa.signal import FilterBank, bandpass, resample

    rng = np.random.default_rng(2)
    n = int(sfreq * 120)
    t = np.arange(n) / sfreq
    x = (rng.standard_normal((4, n)).cumsum(1) + 40 * np.sin(2 * np.pi * 1.3 * t)
         + 10 * np.sin(2 * np.pi * 17 * t)).astype(np.float32)
    x -= np.median(x, axis=1, keepdims=True)
    xr, fs = resample(x, sfreq, 128.0)
    bank = FilterBank(x, sfreq, target_sfreq=128.0)
    assert bank.sfreq == fs and bank.n == xr.shape[1]
    inner = slice(int(15 * fs), -int(15 * fs))
    for stages in (((0.5, 45.0, 4),), ((0.5, 45.0, 4), (8.0, 45.0, 3)),
                   ((0.5, 45.0, 4), (0.5, 4.0, 2))):
        ref = xr
        for lo, hi, order in stages:
            ref = bandpass(ref, fs, lo, hi, order)
        y = bank.band(*stages)
        err = np.sqrt(np.mean((y - ref)[:, inner] ** 2)) / np.sqrt(np.mean(ref[:, inner] ** 2))
        assert err < 5e-3, (stages, err)


def test_frames_minmax_and_ptp_match_numpy() -> None:
    from hypsa import kernels as K

    x = np.random.default_rng(4).standard_normal((3, 1000)).astype(np.float32)
    v = x[:, :896].reshape(3, 7, 128)
    lo, hi = K.frames_minmax(x, 128)
    np.testing.assert_array_equal(lo, v.min(-1))
    np.testing.assert_array_equal(hi, v.max(-1))
    np.testing.assert_array_equal(K.frames_ptp(x, 128), v.max(-1) - v.min(-1))
    assert K.frames_ptp(x[:, :100], 128).shape == (3, 0)


def test_artifact_mask_finds_clipping_and_flat() -> None:
    from hypsa.signal import artifact_mask, bandpass

    rng = np.random.default_rng(6)
    fs = 128.0
    raw = (rng.standard_normal((6, 30 * 128)) * 20).astype(np.float32)
    raw -= raw.mean(axis=1, keepdims=True)
    t = np.arange(raw.shape[1]) / fs
    raw[:3, 10 * 128:13 * 128] += (400 * np.sin(2 * np.pi * 0.7 * t[10 * 128:13 * 128]))
    raw[:3] = np.clip(raw[:3], -250, 250)         # the amplifier's rails on three channels
    raw[:, 18 * 128:27 * 128] = 0.0                # all channels flat for 9 s
    names = ["C3", "C4", "Cz", "P3", "P4", "Pz"]
    mask = artifact_mask(raw, bandpass(raw, fs, 0.5, 45.0), fs, names)
    assert mask.clipped[10:13].any() and not mask.clipped[:8].any()
    assert mask.flat[21:24].all() and not mask.flat[:8].any()
