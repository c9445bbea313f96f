"""Signal conditioning: resampling, mains detection and notch, band-pass, 1-s bins, artifact masks.

Pure functions on ``(n_channels, n_samples)`` arrays in µV. Nothing here knows about files.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np
from scipy import fft as spfft
from scipy import signal as sps

from hypsa.errors import ParameterError
from hypsa.kernels import frames_minmax, frames_ms, frames_ptp, median

__all__ = [
    "ANALYSIS_SFREQ",
    "EYE_CHANNELS",
    "ArtifactMask",
    "bandpass",
    "bin_view",
    "bin_ptp",
    "detect_mains",
    "notch",
    "preprocess",
    "conditioned",
    "FilterBank",
    "resample",
    "welch",
    "artifact_mask",
    "flat_channels",
]

#: Channels that eye blinks and eye movements reach (ignored in eye-artifact bins).
EYE_CHANNELS: tuple[str, ...] = ("Fp1", "Fp2", "F7", "F8")

#: Rate (Hz) at which the analysis runs. Spikes (20-200 ms) and spasm fast activity (15-30 Hz) are
#: fully resolved at 128 Hz; halving 256 Hz recordings halves the work.
ANALYSIS_SFREQ = 128.0


def resample(data: np.ndarray, sfreq: float, target: float) -> tuple[np.ndarray, float]:
    """Resample to ``target`` Hz with a polyphase FIR (no-op when already there or below).

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        Signals.
    sfreq : float
        Their sampling rate in Hz.
    target : float
        Wanted rate in Hz. Recordings sampled below ``target`` are left as they are.

    Returns
    -------
    data, sfreq : ndarray, float
        The resampled signals (float32) and their rate.
    """
    if sfreq <= target * 1.001:
        return np.asarray(data, dtype=np.float32), float(sfreq)
    frac = Fraction(target / sfreq).limit_denominator(1000)
    out = sps.resample_poly(data, frac.numerator, frac.denominator, axis=-1)
    return out.astype(np.float32, copy=False), sfreq * frac.numerator / frac.denominator


def welch(x: np.ndarray, sfreq: float, nperseg: int,
          overlap: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Welch PSD along the last axis: ``(freqs, psd)`` in units²/Hz.

    The estimate of ``scipy.signal.welch(x, fs=sfreq, nperseg=nperseg,
    noverlap=int(overlap * nperseg))`` (Hann window, constant detrend, density scaling,
    one-sided, mean of the segments), computed for every leading index in one
    single-precision FFT call: about 3x faster than scipy's general path for the many short
    epochs of a recording. ``tests/test_features.py`` checks they agree.
    """
    nper = int(min(x.shape[-1], nperseg))
    step = max(1, nper - int(overlap * nper))
    a = np.asarray(x, dtype=np.float32)
    seg = np.lib.stride_tricks.sliding_window_view(a, nper, axis=-1)[..., ::step, :]
    win = sps.get_window("hann", nper).astype(np.float32)
    s = seg * win
    s -= seg.mean(-1, keepdims=True) * win
    spec = spfft.rfft(s, axis=-1, overwrite_x=True)
    p = spec.real**2
    p += spec.imag**2
    psd = p.mean(-2)
    psd *= np.float32(1.0 / (sfreq * float((win.astype(np.float64) ** 2).sum())))
    if nper % 2:
        psd[..., 1:] *= 2
    else:
        psd[..., 1:-1] *= 2
    return np.fft.rfftfreq(nper, 1.0 / sfreq), psd


def detect_mains(data: np.ndarray, sfreq: float, ratio: float = 4.0) -> float | None:
    """Find 50 or 60 Hz mains interference.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        Raw signals (not yet low-passed).
    sfreq : float
        Sampling rate in Hz.
    ratio : float
        How many times the median power of the neighbouring 3-Hz band the mains line must reach.

    Returns
    -------
    float or None
        50.0, 60.0, or None when neither line stands out (or lies above Nyquist).
    """
    n = data.shape[-1]
    if n < sfreq * 2:
        return None
    nper = int(min(n, 4 * sfreq))
    freqs, psd = welch(data, sfreq, nper)
    psd = np.median(psd, axis=0)
    best, best_ratio = None, ratio
    for f0 in (50.0, 60.0):
        if f0 >= sfreq / 2 - 1:
            continue
        line = psd[np.abs(freqs - f0) <= 0.5].max(initial=0.0)
        side = psd[(np.abs(freqs - f0) > 1.0) & (np.abs(freqs - f0) <= 4.0)]
        if side.size == 0:
            continue
        r = line / max(float(np.median(side)), 1e-12)
        if r > best_ratio:
            best, best_ratio = f0, r
    return best


def notch(data: np.ndarray, sfreq: float, freq: float, quality: float = 30.0) -> np.ndarray:
    """Zero-phase IIR notch at ``freq`` and its harmonics below Nyquist."""
    sos = []
    f = freq
    while f < sfreq / 2 - 1:
        sos.append(sps.tf2sos(*sps.iirnotch(f, quality, fs=sfreq)))
        f += freq
    if not sos:
        return np.asarray(data, dtype=np.float32)
    padlen = min(data.shape[-1] - 1, 3 * int(sfreq))
    return sps.sosfiltfilt(np.vstack(sos), data, axis=-1, padlen=padlen).astype(np.float32)


def _butter(l_freq: float | None, h_freq: float | None, sfreq: float,
            order: int) -> np.ndarray | None:
    """Butterworth second-order sections for a band-, high- or low-pass (None: no filter);
    ``h_freq`` is capped at 0.45 × ``sfreq``."""
    if h_freq is not None:
        h_freq = min(h_freq, 0.45 * sfreq)
    if l_freq is not None and h_freq is not None:
        if l_freq >= h_freq:
            raise ParameterError(f"band-pass {l_freq}-{h_freq} Hz is empty at {sfreq} Hz")
        return sps.butter(order, [l_freq, h_freq], btype="bandpass", fs=sfreq, output="sos")
    if l_freq is not None:
        return sps.butter(order, l_freq, btype="highpass", fs=sfreq, output="sos")
    if h_freq is not None:
        return sps.butter(order, h_freq, btype="lowpass", fs=sfreq, output="sos")
    return None


def bandpass(
    data: np.ndarray, sfreq: float, l_freq: float | None, h_freq: float | None, order: int = 4
) -> np.ndarray:
    """Zero-phase Butterworth band-pass (high-pass when ``h_freq`` is None, low-pass when
    ``l_freq`` is None). ``h_freq`` is capped at 0.45 × ``sfreq``."""
    sos = _butter(l_freq, h_freq, sfreq, order)
    if sos is None:
        return np.asarray(data, dtype=np.float32)
    n = data.shape[-1]
    padlen = min(n - 1, 3 * int(sfreq))
    return sps.sosfiltfilt(sos, data, axis=-1, padlen=padlen).astype(np.float32)


@lru_cache(maxsize=64)
def _butter_gain(nfft: int, sfreq: float, l_freq: float | None, h_freq: float | None,
                 order: int) -> np.ndarray:
    """``|H|^2`` of :func:`_butter` on the bins of an ``nfft``-point real FFT (cached: windows
    of a recording share their length, so each response is designed once per process)."""
    freqs = np.fft.rfftfreq(nfft, 1.0 / sfreq)
    sos = _butter(l_freq, h_freq, sfreq, order)
    if sos is None:
        g = np.ones(freqs.size, dtype=np.float32)
    else:
        _, h = sps.sosfreqz(sos, worN=freqs, fs=sfreq)
        g = (np.abs(h) ** 2).astype(np.float32)
    g.flags.writeable = False
    return g


@lru_cache(maxsize=64)
def _stages_gain(nfft: int, sfreq: float,
                 stages: tuple[tuple[float | None, float | None, int], ...],
                 scale: float = 1.0) -> np.ndarray:
    """``scale`` times the product of the :func:`_butter_gain` of each stage (cached)."""
    g = np.full(nfft // 2 + 1, scale, dtype=np.float32)
    for lo, hi, order in stages:
        g = g * _butter_gain(nfft, sfreq, lo, hi, order)
    g.flags.writeable = False
    return g


@lru_cache(maxsize=16)
def _notch_gain(nfft: int, sfreq: float, freq: float, quality: float) -> np.ndarray:
    """``|H|^2`` of the notch at ``freq`` and its harmonics below Nyquist (cached)."""
    freqs = np.fft.rfftfreq(nfft, 1.0 / sfreq)
    g = np.ones(freqs.size, dtype=np.float64)
    f = freq
    while f < sfreq / 2 - 1:
        _, h = sps.freqz(*sps.iirnotch(f, quality, fs=sfreq), worN=freqs, fs=sfreq)
        g *= np.abs(h) ** 2
        f += freq
    out = g.astype(np.float32)
    out.flags.writeable = False
    return out


class FilterBank:
    """Zero-phase FFT band-pass filters of one window: one forward FFT, one inverse per band.

    Every stage of the analysis needs the same window in several bands (0.5-45 Hz for display
    and amplitude, 0.5-4 Hz for slow waves, 8-45 Hz for spikes, 25 Hz high-pass for muscle); a
    filter bank in the frequency domain computes them all for the price of a few FFTs. Each band
    applies the power response of the Butterworth filter :func:`bandpass` would use, so it
    reproduces ``sosfiltfilt`` (the window is extended by odd reflection, as sosfiltfilt does).

    With ``target_sfreq`` below ``sfreq`` the bank also resamples: the spectrum of the window at
    its own rate is cut at the new Nyquist frequency, so every band comes out at the analysis
    rate from one forward FFT, with no separate polyphase resampling pass (every band the
    analysis uses is already low-passed at 45 Hz, well inside the new Nyquist frequency).

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        Signals (float32).
    sfreq : float
        Sampling rate in Hz.
    pad_s : float
        Odd-reflection padding on each side (s).
    target_sfreq : float, optional
        Rate of the bands (Hz); the rate of ``data`` when None or when ``data`` is not faster.

    Attributes
    ----------
    sfreq : float
        Rate of the bands: ``sfreq × p / q`` with ``p / q`` the ratio of :func:`resample`.
    n : int
        Samples per band (``ceil(n_samples × p / q)``, as :func:`resample` returns).
    """

    def __init__(self, data: np.ndarray, sfreq: float, pad_s: float = 5.0,
                 target_sfreq: float | None = None) -> None:
        from scipy import fft as spfft

        n_in = data.shape[-1]
        p = q = 1
        if target_sfreq is not None and sfreq > target_sfreq * 1.001:
            frac = Fraction(target_sfreq / sfreq).limit_denominator(1000)
            p, q = frac.numerator, frac.denominator
        # padding a multiple of q input samples, so it is a whole number of output samples
        pad = int(min(pad_s * sfreq, n_in - 1)) // q * q if n_in > 1 else 0
        x = np.asarray(data, dtype=np.float32)
        if pad:
            x = np.pad(x, ((0, 0), (pad, pad)), mode="reflect", reflect_type="odd")
        m = spfft.next_fast_len(-(-x.shape[-1] // q), real=True)
        nfft_in = m * q
        self.nfft = m * p
        self.sfreq = float(sfreq) * p / q
        self.pad = pad // q * p
        self.n = -(-n_in * p // q)
        spec = spfft.rfft(x, n=nfft_in, axis=-1, overwrite_x=bool(pad))
        # cut at the new Nyquist frequency (a view); the amplitude factor p/q of the shorter
        # inverse transform goes into the band gains
        self._spec = spec[..., : self.nfft // 2 + 1] if q != p else spec
        self._scale = p / q
        self.freqs = np.fft.rfftfreq(self.nfft, 1.0 / self.sfreq)
        self._fft = spfft

    def notch(self, freq: float, quality: float = 30.0) -> None:
        """Remove ``freq`` and its harmonics from every band (zero-phase IIR notch response)."""
        self._spec = self._spec * _notch_gain(self.nfft, self.sfreq, freq, quality)

    def gain(self, l_freq: float | None, h_freq: float | None, order: int = 4) -> np.ndarray:
        """Power response of :func:`bandpass` with the same arguments applied forwards and
        backwards (``|H|^2`` of the Butterworth filter): the bank reproduces ``sosfiltfilt``."""
        return _butter_gain(self.nfft, self.sfreq, l_freq, h_freq, order)

    def band(self, *stages: tuple[float | None, float | None, int],
             rows: np.ndarray | list[int] | None = None) -> np.ndarray:
        """The signals passed through each ``(l_freq, h_freq, order)`` stage in turn (zero-phase;
        float32, original length)."""
        if rows is not None and len(rows) == self._spec.shape[0] and \
                np.array_equal(rows, np.arange(len(rows))):
            rows = None  # every row, in order: no copy
        spec = self._spec if rows is None else self._spec[rows]
        g = _stages_gain(self.nfft, self.sfreq, stages, self._scale)
        y = self._fft.irfft(spec * g, n=self.nfft, axis=-1, overwrite_x=True)
        return y[..., self.pad : self.pad + self.n].astype(np.float32, copy=False)


def preprocess(
    data: np.ndarray,
    sfreq: float,
    mains: float | None | str = "detect",
    l_freq: float = 0.5,
    h_freq: float = 45.0,
    target_sfreq: float = ANALYSIS_SFREQ,
) -> tuple[np.ndarray, float]:
    """Resample to the analysis rate, remove mains, band-pass.

    See :func:`conditioned` for a version that also returns the resampled unfiltered signals
    and the mains frequency found.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        Referential EEG in µV.
    sfreq : float
        Sampling rate in Hz.
    mains : float, None or "detect"
        Mains frequency to notch; ``"detect"`` finds it (:func:`detect_mains`).
    l_freq, h_freq : float
        Band-pass edges in Hz. The 45 Hz low-pass also removes 50/60 Hz lines.
    target_sfreq : float
        Analysis rate.

    Returns
    -------
    data, sfreq : ndarray, float
    """
    filt, fs, _, _, _ = conditioned(data, sfreq, mains, l_freq, h_freq, target_sfreq)
    return filt, fs


def conditioned(
    data: np.ndarray,
    sfreq: float,
    mains: float | None | str = "detect",
    l_freq: float = 0.5,
    h_freq: float = 45.0,
    target_sfreq: float = ANALYSIS_SFREQ,
    pad_s: float = 5.0,
) -> tuple[np.ndarray, float, np.ndarray, float | None, FilterBank]:
    """Like :func:`preprocess`, returning ``(filtered, sfreq, resampled, mains, bank)``.

    Mains is looked for in the first 30 s of the signals at their own rate and reported; the
    :class:`FilterBank` (``bank``) resamples to ``target_sfreq`` in the frequency domain and
    notches and band-passes there. ``resampled`` holds the unfiltered signals at the analysis
    rate, taken sample by sample (for the clipping and flat-line checks, which need the raw
    values). ``pad_s`` is the bank's odd-reflection padding; a caller whose array already holds
    enough real context on both sides may pass 0.
    """
    x = np.asarray(data, dtype=np.float32)
    # a channel's constant offset reaches no band (every band is high-passed) and no artifact
    # check (they use ranges), so it stays; missing samples (NaN) become the channel's median
    if not np.isfinite(np.add.reduce(x, axis=None, dtype=np.float64)):
        step = max(1, x.shape[-1] // 4096)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN channel: offset 0
            off = np.nan_to_num(np.nanmedian(np.where(np.isfinite(x[:, ::step]), x[:, ::step],
                                                      np.nan), axis=-1, keepdims=True))
        x = np.where(np.isfinite(x), x, off).astype(np.float32)
    if isinstance(mains, str):
        mains = detect_mains(x[:, : int(min(x.shape[1], 30 * sfreq))], sfreq)
    bank = FilterBank(x, sfreq, pad_s=pad_s, target_sfreq=target_sfreq)
    if mains is not None and mains < bank.sfreq / 2 - 1:
        bank.notch(mains)
    return bank.band((l_freq, h_freq, 4)), bank.sfreq, _pick(x, sfreq, bank), mains, bank


def _pick(x: np.ndarray, sfreq: float, bank: FilterBank) -> np.ndarray:
    """The unfiltered signals at the bank's rate by picking the nearest samples: values at the
    amplifier's rails stay at the rails, so clipping is still seen after resampling."""
    if bank.sfreq == sfreq:
        return x
    step = sfreq / bank.sfreq
    if abs(step - round(step)) < 1e-9:  # integer ratio: a strided view, no copy
        return x[:, :: int(round(step))][:, : bank.n]
    idx = np.minimum(np.round(np.arange(bank.n) * (sfreq / bank.sfreq)).astype(np.int64),
                     x.shape[-1] - 1)
    return x[:, idx]


def bin_view(data: np.ndarray, sfreq: float, bin_s: float = 1.0) -> np.ndarray:
    """Reshape to ``(n_channels, n_bins, samples_per_bin)``, dropping a trailing partial bin."""
    spb = int(round(bin_s * sfreq))
    nb = data.shape[-1] // spb
    return data[..., : nb * spb].reshape(*data.shape[:-1], nb, spb)


def bin_ptp(data: np.ndarray, sfreq: float, bin_s: float = 1.0) -> np.ndarray:
    """Peak-to-peak amplitude per channel and bin, shape ``(n_channels, n_bins)`` (float32)."""
    return frames_ptp(data, int(round(bin_s * sfreq)))


def flat_channels(data: np.ndarray, sfreq: float, flat_uv: float = 1.0) -> np.ndarray:
    """Boolean per channel: flat (median 1-s peak-to-peak below ``flat_uv`` µV) or dead."""
    ptp = bin_ptp(data, sfreq)
    if ptp.shape[1] == 0:
        return np.zeros(data.shape[0], dtype=bool)
    return np.median(ptp, axis=1) < flat_uv


@dataclass
class ArtifactMask:
    """Per 1-s bin artifact flags (each a boolean array of length ``n_bins``).

    Attributes
    ----------
    flat : every usable channel nearly flat (disconnection, amplifier off).
    clipped : samples stuck at the rails on several channels.
    extreme : peak-to-peak beyond any physiological EEG on most channels (movement, pops).
    muscle : broadband high-frequency power (EMG, chewing) dominating.
    eye : blink / eye-movement deflection confined to the frontal channels (:data:`EYE_CHANNELS`).
    """

    flat: np.ndarray
    clipped: np.ndarray
    extreme: np.ndarray
    muscle: np.ndarray
    eye: np.ndarray

    @property
    def bad(self) -> np.ndarray:
        """Bins unusable for grading (eye bins stay usable: only :data:`EYE_CHANNELS` are hit)."""
        return self.flat | self.clipped | self.extreme | self.muscle


def artifact_mask(
    raw: np.ndarray,
    filt: np.ndarray,
    sfreq: float,
    ch_names: list[str],
    *,
    extreme_uv: float = 1500.0,
    muscle_ratio: float = 0.35,
    muscle_uv: float = 8.0,
    eye_ratio: float = 2.5,
    hf: np.ndarray | None = None,
    slow: np.ndarray | None = None,
    ptp: np.ndarray | None = None,
) -> ArtifactMask:
    """Mark artifact per 1-s bin.

    Parameters
    ----------
    raw : ndarray, shape (n_channels, n_samples)
        Referential signals at the analysis rate after resampling but before the band-pass
        (clipping and flat lines are judged here).
    filt : ndarray, shape (n_channels, n_samples)
        The same signals band-passed (0.5-45 Hz).
    sfreq : float
        Sampling rate in Hz.
    ch_names : list of str
        Normalised channel names (used to locate Fp1/Fp2 for eye artifact).
    extreme_uv : float
        Peak-to-peak above which a bin is non-physiological on a channel; hypsarrhythmia rarely
        exceeds 500-1000 µV.
    muscle_ratio : float
        Fraction of 0.5-45 Hz power above 25 Hz, in the median channel, that marks muscle.
        Infant EEG, including hypsarrhythmia, keeps well under 10 %.
    muscle_uv : float
        RMS (µV) above 25 Hz, in the median channel, that muscle must also reach.
    eye_ratio : float
        How much larger the slow (< 4 Hz) frontopolar deflection must be than the median of the
        other channels to be called eye artifact.
    hf, slow : ndarray, optional
        ``filt`` high-passed at 25 Hz and low-passed at 4 Hz, when already computed.
    ptp : ndarray, optional
        ``bin_ptp(filt, sfreq)``, when already computed.

    Returns
    -------
    ArtifactMask
    """
    ptp_f = bin_ptp(filt, sfreq) if ptp is None else ptp
    nb = ptp_f.shape[1]
    flat = median(ptp_f, axis=0) < 1.0
    spb = int(round(sfreq))
    fmin, fmax = frames_minmax(raw, spb)
    rng = fmax - fmin
    # clipping: a flat top or bottom at the channel's extreme value over >= 10 % of a bin; only
    # bins that reach the channel's extreme can hold such samples, so only they are counted
    at_rail = np.zeros(fmin.shape, dtype=bool)
    if fmin.size:
        hi = fmax.max(axis=-1, keepdims=True)
        lo = fmin.min(axis=-1, keepdims=True)
        eps = 1e-3 * np.maximum(hi - lo, 1e-6)
        cand = (fmax >= hi - eps) | (fmin <= lo + eps)
        for c, b in zip(*np.nonzero(cand), strict=True):
            v = raw[c, b * spb:(b + 1) * spb]
            at_rail[c, b] = ((v >= hi[c, 0] - eps[c, 0]) | (v <= lo[c, 0] + eps[c, 0])).mean() \
                >= 0.1
    clipped = (at_rail & (rng > 50.0)).sum(axis=0) >= 2
    extreme = (ptp_f > extreme_uv).mean(axis=0) > 0.3
    if hf is None:
        hf = bandpass(filt, sfreq, 25.0, None, order=4)
    hf_ms = frames_ms(hf, int(round(sfreq)))
    ratio = hf_ms / np.maximum(frames_ms(filt, int(round(sfreq))), 1e-6)
    hf_rms = np.sqrt(hf_ms)
    # muscle: high-frequency power both dominant and large (the low-voltage fast activity of an
    # electrodecrement is dominant but small)
    muscle = (median(ratio, axis=0) > muscle_ratio) & (median(hf_rms, axis=0) > muscle_uv)
    eye = np.zeros(nb, dtype=bool)
    fp = [i for i, n in enumerate(ch_names) if n in ("Fp1", "Fp2")]
    lat = [i for i, n in enumerate(ch_names) if n in ("F7", "F8")]
    rest = [i for i, n in enumerate(ch_names) if n not in EYE_CHANNELS + ("F3", "F4", "Fz")]
    if rest and (fp or lat):
        if slow is None:
            slow = bandpass(filt, sfreq, None, 4.0, order=2)
        sp = bin_ptp(slow, sfreq)[:, :nb]
        ref = eye_ratio * median(sp[rest], axis=0)
        # blinks: both frontopolar channels; lateral eye movements: F7 and F8 (opposite signs)
        for group in (fp, lat):
            if len(group) == 2:
                m = sp[group].min(axis=0)
                eye |= (m > ref) & (m > 60.0)
    return ArtifactMask(flat=flat, clipped=clipped, extreme=extreme, muscle=muscle, eye=eye)
