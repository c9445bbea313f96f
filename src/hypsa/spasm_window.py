"""The window score of a spasm candidate: a small convolutional network reads the EEG around it.

The measurements of :func:`hypsa.spasms.measure_candidates` describe a candidate in about thirty
numbers chosen by hand. The window score looks at the curves themselves: from 6 s before the
candidate's onset to 8 s after, per electrode and per 1/8-s frame, three of the detector's own
curves (:class:`hypsa.spasms.FrameMeasures`), each against the same electrode's own background:
the 0.5-4 Hz EEG (signed, over its background level), and the log of the 1-45 Hz and of the
4-12 Hz RMS over theirs. No microvolt enters, so any gain reads alike, and nothing is filtered
again.

The network: one encoder shared by every electrode (three convolutions), pooled over the
electrodes present (mean, maximum and spread: any montage, any order of electrodes), a
convolution over time and a small dense head; its output, a log-odds, is one more input of the
spasm probability (:mod:`hypsa.spasm_score`). It is trained across four independent generators
with heavy randomisation of time, gain and electrodes (``benchmarks/train_spasm_model.py``,
which needs PyTorch: ``pip install -e .[research]``); inference here is plain numpy.

The weights ship in the package (``hypsa/models/spasm_window.npz``) with a card
(``spasm_window.json``: sha256, the command that rebuilt them, the architecture).
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np

from hypsa.errors import HypsaError
from hypsa.model_files import read_checked

__all__ = ["windows", "forward", "window_logit", "load_weights", "window_info",
           "WindowModelError", "PRE", "POST", "T", "STREAMS", "WEIGHTS_FILE", "CARD_FILE"]

PRE, POST = 6.0, 8.0   #: the window around the candidate's onset (s)
FRAMES_PER_S = 8       #: the detector's frame rate (``SpasmParams.frame_s`` = 0.125 s)
T = int((PRE + POST) * FRAMES_PER_S)  #: frames in a window
STREAMS = ("slow over background", "log 1-45 Hz RMS over background",
           "log 4-12 Hz RMS over background")
WEIGHTS_FILE = "spasm_window.npz"
CARD_FILE = "spasm_window.json"
_BATCH = 256


class WindowModelError(HypsaError):
    """The shipped window network is missing or does not match its card."""


def windows(fm, onsets: np.ndarray) -> np.ndarray:
    """One window per onset from the detector's frame curves.

    Parameters
    ----------
    fm : hypsa.spasms.FrameMeasures
        The curves of one stretch of EEG (:func:`hypsa.spasms.frame_measures`).
    onsets : ndarray, shape (n,)
        Candidate onsets in seconds from the stretch's start.

    Returns
    -------
    ndarray, shape (n, n_channels, 3, :data:`T`), float32
        Per electrode and frame (:data:`STREAMS`): the 0.5-4 Hz EEG at the frame's centre over
        its background level (clipped to ±30), and the log of the 1-45 Hz and 4-12 Hz RMS over
        theirs (at least log 0.01). Frames outside the stretch are 0 (padded, never shifted).

    Raises
    ------
    WindowModelError
        When the curves are not at :data:`FRAMES_PER_S` frames a second.
    """
    if abs(fm.fs_fr - FRAMES_PER_S) > 0.5:
        raise WindowModelError(f"the spasm window network reads {FRAMES_PER_S} frames a second; "
                               f"these curves have {fm.fs_fr:.2f} (SpasmParams.frame_s must be "
                               f"{1 / FRAMES_PER_S:g} s)")
    onsets = np.asarray(onsets, dtype=float)
    nch, nf = fm.rms_n.shape
    bg = fm.slow_bg if fm.slow_bg is not None else np.ones((nch, nf))
    centre = fm.slow[:, fm.spf // 2::fm.spf][:, :nf]
    k = min(nf, centre.shape[1])
    cur = np.zeros((nch, 3, nf + 2 * T), np.float32)
    cur[:, 0, T:T + k] = np.clip(centre[:, :k] / np.maximum(bg[:, :k], 1e-6), -30, 30)
    cur[:, 1, T:T + nf] = np.log(np.maximum(fm.rms_n, 1e-2))
    cur[:, 2, T:T + nf] = np.log(np.maximum(fm.mid_n, 1e-2))
    start = np.round((onsets - PRE) * fm.fs_fr).astype(int) + T
    start = np.clip(start, 0, nf + T)
    idx = start[:, None] + np.arange(T)[None, :]
    return np.ascontiguousarray(cur[:, :, idx].transpose(2, 0, 1, 3))


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0, out=x)


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int) -> np.ndarray:
    """1-D convolution of (batch, in, time) with (out, in, kernel) weights, as torch's Conv1d."""
    k = w.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad)))
    v = np.lib.stride_tricks.sliding_window_view(xp, k, axis=2)[:, :, ::stride]
    cols = v.transpose(0, 2, 1, 3).reshape(x.shape[0], v.shape[2], -1)
    return (cols @ w.reshape(w.shape[0], -1).T + b).transpose(0, 2, 1)


def forward(weights: dict[str, np.ndarray], x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The network's log-odds for a batch of windows.

    Parameters
    ----------
    weights : dict of str to ndarray
        The network's parameters (:func:`load_weights`), named as in the training code.
    x : ndarray, shape (n, n_electrodes, 3, :data:`T`)
        Windows (:func:`windows`).
    mask : ndarray of bool, shape (n, n_electrodes)
        The electrodes present.

    Returns
    -------
    ndarray, shape (n,)
    """
    w = weights
    bsz, c, s, t = x.shape
    h = x.reshape(bsz * c, s, t).astype(np.float32, copy=False)
    for i, (stride, pad) in zip((0, 2, 4), ((2, 2), (2, 2), (1, 1)), strict=True):
        h = _relu(_conv(h, w[f"enc.{i}.weight"], w[f"enc.{i}.bias"], stride, pad))
    h = h.reshape(bsz, c, h.shape[1], h.shape[2])
    mf = mask[:, :, None, None].astype(np.float32)
    n = np.maximum(mf.sum(1), 1.0)
    mean = (h * mf).sum(1) / n
    mx = (h + (mf - 1.0) * 1e4).max(1)
    sd = np.sqrt((((h - mean[:, None]) ** 2) * mf).sum(1) / n + 1e-6)
    z = _relu(_conv(np.concatenate([mean, mx, sd], 1), w["time.0.weight"], w["time.0.bias"],
                    2, 1))
    z = _relu(z.reshape(bsz, -1) @ w["head.1.weight"].T + w["head.1.bias"])
    return (z @ w["head.4.weight"].T + w["head.4.bias"])[:, 0]


@lru_cache(maxsize=4)
def _load(directory: str | None) -> tuple[dict[str, np.ndarray], dict]:
    raw, card = read_checked(directory, WEIGHTS_FILE, CARD_FILE, WindowModelError,
                             "the spasm window network is missing; reinstall hypsa or rebuild "
                             "it with benchmarks/train_spasm_model.py --write")
    with np.load(io.BytesIO(raw)) as z:
        w = {k: z[k].astype(np.float32) for k in z.files}
    return w, card


def load_weights(directory: str | None = None) -> dict[str, np.ndarray]:
    """The shipped network's parameters, checked against their card's sha256.

    Parameters
    ----------
    directory : str, optional
        Folder holding ``spasm_window.npz`` and its card (default: the package's).

    Returns
    -------
    dict of str to ndarray

    Raises
    ------
    WindowModelError
        When a file is missing or does not match its card.
    """
    return _load(None if directory is None else str(directory))[0]


def window_info() -> dict:
    """The shipped network's file, sha256 and size (for ``summary.json`` and the report).

    Returns
    -------
    dict
    """
    card = _load(None)[1]
    return {"file": f"hypsa/models/{WEIGHTS_FILE}", "sha256": card.get("sha256"),
            "parameters": card.get("parameters"), "trained_on": card.get("generators")}


def window_logit(fm, onsets: np.ndarray,
                 weights: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """The window score (log-odds) of each candidate onset.

    Parameters
    ----------
    fm : hypsa.spasms.FrameMeasures
        The detector's curves of the stretch of EEG the onsets belong to.
    onsets : ndarray, shape (n,)
        Candidate onsets in seconds from the stretch's start.
    weights : dict, optional
        Network parameters (default: the shipped network).

    Returns
    -------
    ndarray, shape (n,)
    """
    onsets = np.asarray(onsets, dtype=float)
    if not onsets.size:
        return np.zeros(0)
    w = load_weights() if weights is None else weights
    out = []
    for i in range(0, len(onsets), _BATCH):
        x = windows(fm, onsets[i:i + _BATCH])
        out.append(forward(w, x, np.ones(x.shape[:2], dtype=bool)))
    return np.concatenate(out).astype(float)
