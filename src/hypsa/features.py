"""Quantitative EEG features per epoch (pure, vectorised functions).

The published markers of hypsarrhythmia (Smith et al. 2021; see docs/methods.md) are higher
amplitude at every electrode, lower Shannon and permutation entropy, and stronger functional
connectivity. Every function takes epochs shaped ``(n_channels, n_epochs, n_samples)`` and returns
``(n_channels, n_epochs)`` or ``(n_epochs,)`` arrays.
"""

from __future__ import annotations

import math

import numpy as np

from hypsa.kernels import amplitude_counts, frames_rms, mean_abs_diff, ordinal_counts
from hypsa.signal import welch

__all__ = [
    "BANDS",
    "HOMOLOGOUS",
    "band_powers",
    "welch_psd",
    "epochs_view",
    "line_length",
    "mean_abs_correlation",
    "interhemispheric_correlation",
    "permutation_entropy",
    "shannon_entropy",
    "spectral_entropy",
    "envelope_amplitude",
]

#: Frequency bands (Hz) used for absolute and relative power.
BANDS: dict[str, tuple[float, float]] = {
    "delta": (0.5, 4.0),
    "theta": (4.0, 8.0),
    "alpha": (8.0, 13.0),
    "beta": (13.0, 30.0),
    "gamma": (30.0, 45.0),
}

#: Homologous left/right channel pairs for interhemispheric synchrony.
HOMOLOGOUS: tuple[tuple[str, str], ...] = (
    ("Fp1", "Fp2"), ("F3", "F4"), ("F7", "F8"), ("C3", "C4"), ("T7", "T8"),
    ("P3", "P4"), ("P7", "P8"), ("O1", "O2"),
)


def epochs_view(data: np.ndarray, sfreq: float, epoch_s: float) -> np.ndarray:
    """Reshape ``(n_channels, n_samples)`` into ``(n_channels, n_epochs, samples_per_epoch)``."""
    spe = int(round(epoch_s * sfreq))
    ne = data.shape[-1] // spe
    return data[:, : ne * spe].reshape(data.shape[0], ne, spe)


def welch_psd(ep: np.ndarray, sfreq: float) -> tuple[np.ndarray, np.ndarray]:
    """Welch PSD (µV²/Hz) of every channel and epoch with 2-s Hann segments without overlap:
    ``(freqs, psd)`` (:func:`hypsa.signal.welch`, the estimate of ``scipy.signal.welch`` in one
    FFT call; seven segments in a 15-s epoch)."""
    return welch(ep, sfreq, min(ep.shape[-1], int(2 * sfreq)), overlap=0.0)


def band_powers(ep: np.ndarray, sfreq: float,
                psd: tuple[np.ndarray, np.ndarray] | None = None,
                ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Absolute band powers (µV²) per channel and epoch, from a Welch PSD with 2-s segments
    (pass ``psd=welch_psd(ep, sfreq)`` to reuse one already computed).

    Returns
    -------
    powers : dict of band name -> ndarray (n_channels, n_epochs)
    total : ndarray (n_channels, n_epochs)
        Power in 0.5-45 Hz.
    """
    freqs, psd = psd if psd is not None else welch_psd(ep, sfreq)
    df = freqs[1] - freqs[0]
    out = {}
    for name, (lo, hi) in BANDS.items():
        m = (freqs >= lo) & (freqs < hi)
        out[name] = psd[..., m].sum(-1) * df
    m = (freqs >= 0.5) & (freqs < 45.0)
    return out, psd[..., m].sum(-1) * df


def spectral_entropy(ep: np.ndarray, sfreq: float,
                     psd: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Normalised spectral (Shannon) entropy of the 0.5-45 Hz Welch PSD, 0..1."""
    freqs, psd = psd if psd is not None else welch_psd(ep, sfreq)
    psd = psd[..., (freqs >= 0.5) & (freqs < 45.0)]
    p = psd / np.maximum(psd.sum(-1, keepdims=True), 1e-20)
    h = -(p * np.log2(np.where(p > 0, p, 1.0))).sum(-1)
    return h / math.log2(psd.shape[-1])


def shannon_entropy(ep: np.ndarray, n_bins: int = 16) -> np.ndarray:
    """Shannon entropy (bits) of the amplitude distribution, each epoch scaled to its own range."""
    p = amplitude_counts(ep, n_bins) / ep.shape[-1]
    return -(p * np.log2(np.where(p > 0, p, 1.0))).sum(-1)


def permutation_entropy(ep: np.ndarray, order: int = 3, delay: int = 1) -> np.ndarray:
    """Normalised permutation entropy (0..1) along the last axis.

    Same definition as :func:`antropy.perm_entropy` (``normalize=True``), counted for all
    channels and epochs in one compiled pass (:func:`hypsa.kernels.ordinal_counts`; antropy
    works on one 1-D signal per call, far too slow for a 24-h recording of 19 channels).
    ``tests/test_features.py`` checks the two agree.
    """
    n = ep.shape[-1] - (order - 1) * delay
    p = ordinal_counts(ep, order, delay) / n
    h = -(p * np.log2(np.where(p > 0, p, 1.0))).sum(-1)
    return h / math.log2(math.factorial(order))


def line_length(ep: np.ndarray, sfreq: float) -> np.ndarray:
    """Mean absolute first difference per second (µV/s)."""
    return mean_abs_diff(ep) * sfreq


def envelope_amplitude(ep: np.ndarray) -> np.ndarray:
    """Envelope amplitude (µV) as 2·√2·RMS, the peak-to-peak of a sinusoid of that power."""
    return 2.0 * math.sqrt(2.0) * frames_rms(ep, ep.shape[-1])[..., 0]


def mean_abs_correlation(ep: np.ndarray) -> np.ndarray:
    """Mean absolute zero-lag correlation over all channel pairs per epoch (connectivity
    strength)."""
    z = ep - ep.mean(-1, keepdims=True)
    z = z / np.maximum(np.sqrt((z**2).sum(-1, keepdims=True)), 1e-9)
    zt = np.ascontiguousarray(z.transpose(1, 0, 2))
    c = zt @ zt.transpose(0, 2, 1)
    nc = ep.shape[0]
    iu = np.triu_indices(nc, 1)
    return np.abs(c[:, iu[0], iu[1]]).mean(-1) if nc > 1 else np.zeros(ep.shape[1])


def interhemispheric_correlation(ep: np.ndarray, ch_names: list[str]) -> np.ndarray:
    """Mean zero-lag correlation of homologous left/right channels per epoch (NaN if none)."""
    idx = {n: i for i, n in enumerate(ch_names)}
    pairs = [(idx[a], idx[b]) for a, b in HOMOLOGOUS if a in idx and b in idx]
    if not pairs:
        return np.full(ep.shape[1], np.nan)
    a = ep[[p[0] for p in pairs]]
    b = ep[[p[1] for p in pairs]]
    a = a - a.mean(-1, keepdims=True)
    b = b - b.mean(-1, keepdims=True)
    num = (a * b).sum(-1)
    den = np.sqrt((a**2).sum(-1) * (b**2).sum(-1))
    return (num / np.maximum(den, 1e-9)).mean(0)
