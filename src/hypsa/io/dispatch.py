"""Opening a recording by its file name: :func:`read` chooses the reader from the extension and
turns every failure inside a reader into a one-line :class:`hypsa.errors.InputError`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hypsa.errors import (
    CorruptFileError,
    FileAccessError,
    HypsaError,
    ParameterError,
    UnsupportedFormatError,
)
from hypsa.io.edf import EDF_EXTENSIONS, read_edf
from hypsa.io.hdf5 import HDF5_EXTENSIONS, read_eeghdf
from hypsa.io.mne import MNE_EXTENSIONS, from_raw, read_mne
from hypsa.io.recording import Recording

__all__ = ["as_recording", "read"]


def _extension(path: Path) -> str:
    name = path.name.lower()
    for double in (".fif.gz", ".eeg.h5"):
        if name.endswith(double):
            return double
    return path.suffix.lower()


def _check_path(path: str | os.PathLike[str]) -> Path:
    try:
        p = Path(path)
    except TypeError as exc:
        raise ParameterError(f"not a path: {path!r}") from exc
    if not p.exists():
        raise FileAccessError(p, "no such file")
    if p.is_dir() and _extension(p) not in (".mff", ".ds"):
        raise FileAccessError(p, "is a directory, expected an EEG file")
    if not os.access(p, os.R_OK):
        raise FileAccessError(p, "permission denied")
    return p


def read(path: str | os.PathLike[str], require_eeg: bool = True) -> Recording:
    """Open an EEG recording; signals stay on disk until asked for.

    Parameters
    ----------
    path : str or Path
        EDF, EDF+ (C/D), BDF, BDF+ (own streaming reader), or any format MNE reads
        (BrainVision ``.vhdr``, EEGLAB ``.set``, FIF, Nihon Kohden ``.eeg`` ...), or the eeghdf
        HDF5 format (``.eeg.h5``, ``.eeghdf``; needs the ``hdf5`` extra).
    require_eeg : bool
        Raise :class:`NoEEGChannelsError` when no channel is a 10-20 EEG electrode (default).
        ``False`` opens such files for inspection (``eeg`` picks then select nothing).

    Returns
    -------
    Recording

    Raises
    ------
    FileAccessError
        Missing file, directory, no permission.
    UnsupportedFormatError
        Unknown extension or content that is not the claimed format.
    CorruptFileError
        Inconsistent header, truncated data, or any other failure inside a reader.
    NoEEGChannelsError
        No 10-20 EEG channel in the file.
    """
    p = _check_path(path)
    ext = _extension(p)
    if ext in EDF_EXTENSIONS:
        fmt_name = "EDF/BDF"
    elif ext in MNE_EXTENSIONS:
        fmt_name = MNE_EXTENSIONS[ext]
    elif ext in HDF5_EXTENSIONS:
        fmt_name = "eeghdf"
    else:
        known = ", ".join(list(EDF_EXTENSIONS) + list(MNE_EXTENSIONS) + list(HDF5_EXTENSIONS))
        raise UnsupportedFormatError(
            p, f"unknown extension {ext or '(none)'!r}; hypsa reads {known}"
        )
    try:
        size = p.stat().st_size
        if size == 0 and not p.is_dir():
            raise CorruptFileError(p, "empty file (0 bytes)")
        if ext in EDF_EXTENSIONS:
            return read_edf(p, size, require_eeg)
        if ext in HDF5_EXTENSIONS:
            return read_eeghdf(p, require_eeg)
        return read_mne(p, fmt_name, require_eeg)
    except HypsaError:
        raise
    except OSError as exc:
        raise FileAccessError(p, f"cannot read: {exc.strerror or exc}") from exc
    except Exception as exc:  # noqa: BLE001 - never a traceback for a bad file
        raise CorruptFileError(
            p, f"unreadable {fmt_name} file ({type(exc).__name__}: {exc})"
        ) from exc


def as_recording(
    source: Any,
    *,
    sfreq: float | None = None,
    ch_names: Sequence[str] | None = None,
    ch_types: Sequence[str] | None = None,
) -> Recording:
    """Whatever :func:`hypsa.analyze` is given, as a :class:`Recording`.

    Parameters
    ----------
    source : path, Recording, mne.io.Raw, ndarray or hypsa.simulate.Simulation
        A file (any format :func:`read` opens); a Recording (returned as is); an ``mne.io.Raw``
        (:func:`hypsa.io.mne.from_raw`: channel types, units and annotations respected); an
        array of shape (n_channels, n_samples) in microvolts, which needs ``sfreq`` and
        ``ch_names``; or a simulation (its signals and annotations).
    sfreq : float, optional
        Sampling rate of an array, in Hz.
    ch_names : sequence of str, optional
        Channel labels of an array (10-20 names such as ``"Fp1"``, ``"EEG T3-REF"``).
    ch_types : sequence of str, optional
        Kinds of an array's channels (``eeg``, ``emg`` ...); guessed from the labels if omitted.

    Returns
    -------
    Recording

    Raises
    ------
    ParameterError
        An array without ``sfreq`` or ``ch_names``, array options given with another source,
        or a source of another type.
    """
    array_opts = sfreq is not None or ch_names is not None or ch_types is not None
    if isinstance(source, Recording):
        rec = source
    elif isinstance(source, str | os.PathLike):
        rec = read(source)
    elif isinstance(source, np.ndarray) or (
        isinstance(source, list | tuple) and len(source) and not isinstance(source[0], str)
    ):
        if sfreq is None or ch_names is None:
            raise ParameterError(
                "an array needs sfreq= (Hz) and ch_names= (one label per row); data in µV"
            )
        return Recording.from_array(source, sfreq, ch_names, ch_types=ch_types)
    elif _is_raw(source):
        rec = from_raw(source)
    elif hasattr(source, "to_recording") and callable(source.to_recording):
        rec = source.to_recording()
    else:
        raise ParameterError(
            f"cannot analyse a {type(source).__name__}: give a file path, an mne.io.Raw, a "
            "Recording, or an array with sfreq= and ch_names="
        )
    if array_opts:
        raise ParameterError("sfreq=, ch_names= and ch_types= apply only to an array")
    return rec


def _is_raw(obj: Any) -> bool:
    """An ``mne.io.Raw``, checked without importing MNE when it is not loaded."""
    import sys

    mne = sys.modules.get("mne")
    return mne is not None and isinstance(obj, mne.io.BaseRaw)
