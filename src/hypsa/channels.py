"""EEG channel names, kinds and montages.

Vendors spell the same 10-20 electrode in many ways (``EEG Fp1-REF``, ``FP1-LE``, ``Fp1``,
``EEG T3-Ref``); :func:`normalize_label` maps them all to one modern name (``Fp1``, ``T7``) and
guesses the kind of signal (EEG, EMG, ECG, EOG, respiration or other). The montage helpers are
pure numpy functions on ``(n_channels, n_samples)`` arrays.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from hypsa.errors import ParameterError

__all__ = [
    "STANDARD_19",
    "DOUBLE_BANANA",
    "POSITIONS",
    "KINDS",
    "normalize_label",
    "is_eeg_name",
    "bipolar",
    "average_reference",
    "hemisphere",
]

#: The 19 electrodes of the international 10-20 system, modern names, in a fixed order.
STANDARD_19: tuple[str, ...] = (
    "Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz",
    "C4", "T8", "P7", "P3", "Pz", "P4", "P8", "O1", "O2",
)  # fmt: skip

#: The kinds of signal :func:`normalize_label` returns.
KINDS: tuple[str, ...] = ("eeg", "emg", "ecg", "eog", "resp", "misc")

#: The 18-channel longitudinal bipolar montage ("double banana").
DOUBLE_BANANA: tuple[tuple[str, str], ...] = (
    ("Fp1", "F7"), ("F7", "T7"), ("T7", "P7"), ("P7", "O1"),
    ("Fp1", "F3"), ("F3", "C3"), ("C3", "P3"), ("P3", "O1"),
    ("Fz", "Cz"), ("Cz", "Pz"),
    ("Fp2", "F4"), ("F4", "C4"), ("C4", "P4"), ("P4", "O2"),
    ("Fp2", "F8"), ("F8", "T8"), ("T8", "P8"), ("P8", "O2"),
)  # fmt: skip

#: Approximate 2-D scalp positions (x: left -1 to right +1, y: back -1 to front +1, Cz at 0).
POSITIONS: dict[str, tuple[float, float]] = {
    "Fp1": (-0.31, 0.95), "Fp2": (0.31, 0.95),
    "F7": (-0.81, 0.59), "F3": (-0.40, 0.52), "Fz": (0.0, 0.50), "F4": (0.40, 0.52),
    "F8": (0.81, 0.59),
    "T7": (-1.0, 0.0), "C3": (-0.50, 0.0), "Cz": (0.0, 0.0), "C4": (0.50, 0.0), "T8": (1.0, 0.0),
    "P7": (-0.81, -0.59), "P3": (-0.40, -0.52), "Pz": (0.0, -0.50), "P4": (0.40, -0.52),
    "P8": (0.81, -0.59),
    "O1": (-0.31, -0.95), "O2": (0.31, -0.95),
}  # fmt: skip

# 10-10 names plus ear/mastoid references and the anterior temporal T1/T2 (EEG-ish electrodes).
_TEN_TEN = (
    "Fp1 Fpz Fp2 AF7 AF3 AFz AF4 AF8 F9 F7 F5 F3 F1 Fz F2 F4 F6 F8 F10 "
    "FT9 FT7 FC5 FC3 FC1 FCz FC2 FC4 FC6 FT8 FT10 T9 T7 C5 C3 C1 Cz C2 C4 C6 T8 T10 "
    "TP9 TP7 CP5 CP3 CP1 CPz CP2 CP4 CP6 TP8 TP10 P9 P7 P5 P3 P1 Pz P2 P4 P6 P8 P10 "
    "PO7 PO3 POz PO4 PO8 O1 Oz O2 Iz A1 A2 M1 M2 T1 T2"
).split()
_CANON: dict[str, str] = {n.upper(): n for n in _TEN_TEN}
_ALIASES = {"T3": "T7", "T4": "T8", "T5": "P7", "T6": "P8"}
_CANON.update(_ALIASES)

# Reference suffixes stripped from referential labels ("Fp1-REF", "FP1-LE", "Fp1-A1" ...).
_REF_SUFFIXES = {
    "REF", "REF1", "REF2", "LE", "RE", "AVG", "AV", "AVE", "AVER", "CAR", "CA", "A1", "A2",
    "M1", "M2", "A1A2", "A12", "M1M2", "LINKED", "LNK", "EAR", "EARS", "G2", "COMMON",
}  # fmt: skip
_PREFIX_RE = re.compile(r"^(EEG|POL|EMG|ECG|EKG|EOG|RESP|BIP|REF)[\s_:]+", re.IGNORECASE)
_EMG_RE = re.compile(r"EMG|DELT", re.IGNORECASE)
_ECG_RE = re.compile(r"ECG|EKG", re.IGNORECASE)
_EOG_RE = re.compile(r"EOG|(?<![A-Z])(LOC|ROC)(?![A-Z])", re.IGNORECASE)
_RESP_RE = re.compile(r"RESP|EFFORT|THOR|ABDO", re.IGNORECASE)


def _canonical(token: str) -> str | None:
    """Return the canonical 10-10 name of ``token`` or None."""
    return _CANON.get(token.strip().strip("._").upper())


def is_eeg_name(name: str) -> bool:
    """Whether ``name`` (any spelling) is a 10-20 / 10-10 electrode name.

    Parameters
    ----------
    name : str
        A label such as ``"EEG T3-REF"`` or ``"Fp1"``.

    Returns
    -------
    bool
        True when :func:`normalize_label` classifies it as EEG.
    """
    return normalize_label(name)[1] == "eeg"


def normalize_label(label: str) -> tuple[str, str]:
    """Normalise a channel label and guess its kind.

    Parameters
    ----------
    label : str
        The label as written in the file, e.g. ``"EEG Fp1-REF"``, ``"FP1-LE"``, ``"EEG T3-Ref"``,
        ``"ECG EKG-Ref"``.

    Returns
    -------
    name : str
        The modern 10-20 name for EEG electrodes (``"Fp1"``, ``"T7"`` for ``T3`` ...), a bipolar
        ``"Fp1-F7"`` for a derivation between two electrodes, else a cleaned label (type prefix
        and reference suffix removed).
    kind : str
        One of ``"eeg"``, ``"emg"``, ``"ecg"``, ``"eog"``, ``"resp"``, ``"misc"``.
    """
    raw = " ".join(str(label).split())
    body = raw
    # strip vendor type prefixes repeatedly ("EEG Fp1", "POL E")
    while True:
        m = _PREFIX_RE.match(body)
        if not m or not body[m.end() :].strip():
            break
        body = body[m.end() :].strip()
    parts = [p.strip() for p in re.split(r"\s*-\s*", body) if p.strip()]
    cleaned = body
    if len(parts) == 2 and parts[1].strip("._").upper() in _REF_SUFFIXES:
        cleaned = parts[0]
        canon = _canonical(parts[0])
        if canon is not None:
            return canon, "eeg"
    elif len(parts) == 2:
        a, b = _canonical(parts[0]), _canonical(parts[1])
        if a is not None and b is not None:
            return f"{a}-{b}", "eeg"
    elif len(parts) == 1:
        cleaned = parts[0].rstrip("._") or parts[0]
        canon = _canonical(parts[0])
        if canon is not None:
            return canon, "eeg"
    if not cleaned:
        cleaned = raw or "?"
    for regex, kind in ((_EMG_RE, "emg"), (_ECG_RE, "ecg"), (_EOG_RE, "eog"), (_RESP_RE, "resp")):
        if regex.search(raw):
            return cleaned, kind
    return cleaned, "misc"


def bipolar(
    data: np.ndarray,
    ch_names: Sequence[str],
    pairs: Sequence[tuple[str, str]] = DOUBLE_BANANA,
) -> tuple[np.ndarray, list[str]]:
    """Bipolar derivations ``a - b`` for each pair whose two channels are present.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        Referential signals.
    ch_names : sequence of str
        Names of the rows of ``data`` (any spelling; they are normalised).
    pairs : sequence of (str, str)
        Derivations to compute; default :data:`DOUBLE_BANANA`. Pairs with a missing channel are
        skipped.

    Returns
    -------
    data : ndarray, shape (n_pairs_found, n_samples)
        The derivations, same dtype as the input (float).
    names : list of str
        ``"Fp1-F7"``-style names of the rows.
    """
    arr = np.asarray(data)
    if arr.ndim != 2 or arr.shape[0] != len(ch_names):
        raise ParameterError(
            f"data must be (n_channels, n_samples) with {len(ch_names)} rows, got {arr.shape}"
        )
    index: dict[str, int] = {}
    for i, n in enumerate(ch_names):
        index.setdefault(normalize_label(n)[0], i)
    rows, names = [], []
    for a, b in pairs:
        ia, ib = index.get(normalize_label(a)[0]), index.get(normalize_label(b)[0])
        if ia is None or ib is None:
            continue
        rows.append(arr[ia] - arr[ib])
        names.append(f"{normalize_label(a)[0]}-{normalize_label(b)[0]}")
    dtype = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.float64
    if not rows:
        return np.empty((0, arr.shape[1]), dtype=dtype), []
    return np.asarray(rows, dtype=dtype), names


def average_reference(data: np.ndarray, exclude: Sequence[int] | None = None) -> np.ndarray:
    """Re-reference to the common average.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        Referential signals.
    exclude : sequence of int, optional
        Row indices left out of the average (dead or flat channels); they are still
        re-referenced.

    Returns
    -------
    ndarray
        ``data - mean(data[included], axis=0)``, a new array.
    """
    arr = np.asarray(data)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ParameterError(f"data must be (n_channels, n_samples), got shape {arr.shape}")
    keep = np.ones(arr.shape[0], dtype=bool)
    if exclude is not None:
        for i in exclude:
            if not -arr.shape[0] <= int(i) < arr.shape[0]:
                raise ParameterError(f"exclude index {i} out of range for {arr.shape[0]} rows")
            keep[int(i)] = False
    if not keep.any():
        raise ParameterError("average_reference: every channel is excluded")
    out = arr.astype(np.result_type(arr.dtype, np.float32), copy=True)
    out -= out[keep].mean(axis=0, keepdims=True)
    return out


def hemisphere(name: str) -> str:
    """Side of the head of an electrode.

    Parameters
    ----------
    name : str
        An electrode name in any spelling (``"T3"``, ``"EEG Fp1-REF"``, ``"Cz"``).

    Returns
    -------
    str
        ``"left"`` (odd numbers), ``"right"`` (even numbers) or ``"mid"`` (``z`` electrodes).
    """
    canon, kind = normalize_label(name)
    if kind != "eeg" or "-" in canon:
        raise ParameterError(f"{name!r} is not a 10-20 electrode name")
    if canon.endswith("z"):
        return "mid"
    digits = re.findall(r"\d+", canon)
    if not digits:
        return "mid"
    return "left" if int(digits[-1]) % 2 == 1 else "right"
