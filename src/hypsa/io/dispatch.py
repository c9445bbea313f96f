"""Opening a recording by its file name: :func:`read` chooses the reader from the extension and
turns every failure inside a reader into a one-line :class:`hypsa.errors.InputError`."""

from __future__ import annotations

import os
from pathlib import Path

from hypsa.errors import (
    CorruptFileError,
    FileAccessError,
    HypsaError,
    ParameterError,
    UnsupportedFormatError,
)
from hypsa.io.edf import EDF_EXTENSIONS, read_edf
from hypsa.io.mne import MNE_EXTENSIONS, read_mne
from hypsa.io.recording import Recording

__all__ = ["read"]


def _extension(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".fif.gz"):
        return ".fif.gz"
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
        (BrainVision ``.vhdr``, EEGLAB ``.set``, FIF, Nihon Kohden ``.eeg`` ...).
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
    else:
        known = ", ".join(list(EDF_EXTENSIONS) + list(MNE_EXTENSIONS))
        raise UnsupportedFormatError(
            p, f"unknown extension {ext or '(none)'!r}; hypsa reads {known}"
        )
    try:
        size = p.stat().st_size
        if size == 0 and not p.is_dir():
            raise CorruptFileError(p, "empty file (0 bytes)")
        if ext in EDF_EXTENSIONS:
            return read_edf(p, size, require_eeg)
        return read_mne(p, fmt_name, require_eeg)
    except HypsaError:
        raise
    except OSError as exc:
        raise FileAccessError(p, f"cannot read: {exc.strerror or exc}") from exc
    except Exception as exc:  # noqa: BLE001 - never a traceback for a bad file
        raise CorruptFileError(
            p, f"unreadable {fmt_name} file ({type(exc).__name__}: {exc})"
        ) from exc
