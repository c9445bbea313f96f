"""Reading EEG recordings: EDF/EDF+/BDF/BDF+ natively (streaming), everything else through MNE.

:func:`read` returns a :class:`Recording` that holds only the header; signals are read on demand
(:meth:`Recording.get_data`, :meth:`Recording.iter_windows`), so a 24 h recording never has to
fit in memory. EDF+D (discontinuous) files keep their gaps as separate :class:`Segment` s, which
edfio and MNE do not (they read EDF+D as continuous). Every problem with an input file raises a
typed :class:`hypsa.errors.InputError` with a one-line message naming the file.

Modules: :mod:`~hypsa.io.recording` (the :class:`Recording`), :mod:`~hypsa.io.edf` (the native
EDF/BDF reader), :mod:`~hypsa.io.mne` (formats MNE reads, and ``mne.io.Raw`` objects),
:mod:`~hypsa.io.hdf5` (the eeghdf HDF5 format), :mod:`~hypsa.io.dispatch` (:func:`read`,
:func:`as_recording`), :mod:`~hypsa.io.anonymize` (de-identified copies).
"""

from __future__ import annotations

from hypsa.io.anonymize import anonymize
from hypsa.io.dispatch import as_recording, read
from hypsa.io.edf import EDF_EXTENSIONS
from hypsa.io.hdf5 import HDF5_EXTENSIONS
from hypsa.io.mne import MNE_EXTENSIONS, from_raw
from hypsa.io.recording import ChannelInfo, Recording, Segment, Window

__all__ = [
    "ChannelInfo",
    "Segment",
    "Window",
    "Recording",
    "read",
    "as_recording",
    "from_raw",
    "anonymize",
    "EDF_EXTENSIONS",
    "MNE_EXTENSIONS",
    "HDF5_EXTENSIONS",
]
