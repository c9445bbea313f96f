"""EEG in the eeghdf HDF5 format (``.eeg.h5``, ``.eeghdf``), read with the ``eeghdf`` package.

eeghdf (Stanford's pediatric EEG format) keeps an EDF-like recording in one HDF5 group
``record-0``: a ``signals`` dataset of digital samples (channels x samples), the per-signal
``signal_labels``, ``physical_dimensions``, physical and digital minima and maxima, the
``sample_frequency`` and ``start_isodatetime`` attributes, and the EDF annotations in
``edf_annotations`` (``starts_100ns``, ``durations_char16``, ``texts``); patient fields are the
attributes of the ``patient`` group. Signals are read from the dataset on demand.
Needs the ``hdf5`` extra: ``pip install 'hypsa[hdf5]'``.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hypsa.channels import normalize_label
from hypsa.errors import CorruptFileError, NoEEGChannelsError, UnsupportedFormatError
from hypsa.extras import require_extra
from hypsa.io.recording import (
    _MAX_RATE_HZ,
    _UNIT_TO_UV,
    ChannelInfo,
    Recording,
    Segment,
    _as_annotations,
    _Reader,
    _unique_names,
)

__all__ = ["HDF5_EXTENSIONS", "read_eeghdf"]

#: Extensions of eeghdf files (by the format's convention).
HDF5_EXTENSIONS = (".eeg.h5", ".eeghdf", ".h5", ".hdf5")


class _EeghdfReader(_Reader):
    """Slices of ``record-0/signals``, scaled to µV; the file is opened for each read."""

    def __init__(self, path: Path, n_samples: int, gain: np.ndarray, offset: np.ndarray) -> None:
        self.name = str(path)
        self.path = path
        self.n_samples = n_samples
        self.gain = gain
        self.offset = offset

    def native_len(self, seg: int, ch: int) -> int:
        return self.n_samples

    def read(self, seg: int, requests: Sequence[tuple[int, int, int]]) -> list[np.ndarray]:
        import h5py

        if not requests:
            return []
        a0 = min(a for _, a, _ in requests)
        b1 = max(b for _, _, b in requests)
        chans = sorted({c for c, _, _ in requests})
        with h5py.File(self.path, "r") as f:
            block = f["record-0"]["signals"][chans, a0:b1]
        row = {c: i for i, c in enumerate(chans)}
        out = []
        for c, a, b in requests:
            x = block[row[c], a - a0 : b - a0].astype(np.float32)
            out.append(x * np.float32(self.gain[c]) + np.float32(self.offset[c]))
        return out


def _text(v: Any) -> str:
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    if isinstance(v, np.ndarray) and v.shape == ():
        return _text(v.item())
    return str(v)


def _start(iso: str) -> _dt.datetime | None:
    try:
        t = _dt.datetime.fromisoformat(iso.strip())
    except ValueError:
        return None
    return t.replace(tzinfo=None)


def read_eeghdf(path: Path, require_eeg: bool = True) -> Recording:
    """Open an eeghdf file (``record-0``) with its annotations and patient fields.

    Parameters
    ----------
    path : Path
        The ``.eeg.h5`` / ``.eeghdf`` file.
    require_eeg : bool
        Raise :class:`NoEEGChannelsError` when no signal is a 10-20 EEG electrode.

    Returns
    -------
    Recording
        Format ``"eeghdf"``, one segment; annotation onsets in seconds from the start.

    Raises
    ------
    MissingExtraError
        When eeghdf or h5py is not installed.
    UnsupportedFormatError
        An HDF5 file without an eeghdf ``record-0`` group.
    """
    require_extra("hdf5", f"reading {path.name}")
    import eeghdf
    import h5py

    if not h5py.is_hdf5(path):
        raise UnsupportedFormatError(path, "not an HDF5 file")
    with h5py.File(path, "r") as f:
        if "record-0" not in f or "signals" not in f["record-0"]:
            raise UnsupportedFormatError(
                path, "an HDF5 file without an eeghdf 'record-0/signals' dataset"
            )
        if "edf_annotations" not in f["record-0"]:
            raise CorruptFileError(path, "eeghdf record-0 lacks its 'edf_annotations' group")
    eeg = eeghdf.Eeghdf(str(path))
    try:
        sfreq = float(eeg.sample_frequency)
        if not (math.isfinite(sfreq) and 0 < sfreq <= _MAX_RATE_HZ):
            raise CorruptFileError(path, f"implausible sample_frequency {sfreq!r}")
        n_ch, n_samples = (int(v) for v in eeg.shape)
        labels = [str(s) for s in eeg.signal_labels]
        units = list(eeg.physical_dimensions)
        pmin = np.asarray(eeg.signal_physical_mins, dtype=np.float64)
        pmax = np.asarray(eeg.signal_physical_maxs, dtype=np.float64)
        dmin = np.asarray(eeg.signal_digital_mins, dtype=np.float64)
        dmax = np.asarray(eeg.signal_digital_maxs, dtype=np.float64)
        if not (len(labels) == len(units) == len(pmin) == len(pmax) == len(dmin) == len(dmax)
                == n_ch):
            raise CorruptFileError(path, f"{n_ch} signals but per-signal fields of other lengths")
        if n_samples < 1:
            raise CorruptFileError(path, "record-0/signals holds no sample")
        bad = np.flatnonzero((dmax <= dmin) | (pmax == pmin))
        if bad.size:
            i = int(bad[0])
            raise CorruptFileError(
                path, f"signal {i + 1} ({labels[i]!r}): digital or physical range is empty"
            )
        factor = np.array([_UNIT_TO_UV.get(u.strip().lower(), 1.0) for u in units])
        gain = (pmax - pmin) / (dmax - dmin)
        offset = pmin - gain * dmin
        names, kinds = [], []
        for lab in labels:
            n, k = normalize_label(lab)
            names.append(n)
            kinds.append(k)
        names = _unique_names(names)
        if require_eeg and "eeg" not in kinds:
            raise NoEEGChannelsError(
                path, f"no EEG channel among {n_ch} signal(s) ({', '.join(labels[:6])})"
            )
        channels = [ChannelInfo(n, lab, k, sfreq)
                    for n, lab, k in zip(names, labels, kinds, strict=True)]  # fmt: skip
        rows = [(float(s), float(d), str(t)) for s, d, t in eeg.edf_annotations_sec]
        patient = {k: _text(v) for k, v in eeg.patient.items()}
        rec0 = eeg.rec0.attrs
        header = {
            "patient_name": patient.get("patient_name", ""),
            "patient_id": patient.get("patientcode", ""),
            "birthdate": patient.get("birthdate", ""),
            "sex": patient.get("gender", ""),
            "patient_additional": patient.get("patient_additional", ""),
            "technician": _text(rec0.get("technician", "")),
            "admin_code": _text(rec0.get("studyadmincode", "")),
        }
        start = _start(_text(eeg.start_isodatetime))
    finally:
        eeg.hdf.close()
    return Recording(
        path=path,
        channels=channels,
        start_time=start,
        annotations=_as_annotations(rows),
        header=header,
        segments=[Segment(0.0, n_samples / sfreq)],
        format="eeghdf",
        reader=_EeghdfReader(path, n_samples, gain * factor, offset * factor),
    )
