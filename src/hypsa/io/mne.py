"""Every format MNE reads (BrainVision, EEGLAB, FIF, Nihon Kohden ...), and ``mne.io.Raw``
objects already in memory, as :class:`~hypsa.io.recording.Recording` s."""

from __future__ import annotations

import collections
import datetime as _dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hypsa.channels import normalize_label
from hypsa.errors import FileAccessError, NoEEGChannelsError, ParameterError
from hypsa.io.recording import (
    ChannelInfo,
    Recording,
    Segment,
    _as_annotations,
    _Reader,
    _unique_names,
)

__all__ = ["MNE_EXTENSIONS", "from_raw", "read_mne"]

#: Extensions handed to :func:`mne.io.read_raw` (and the format name reported).
MNE_EXTENSIONS: dict[str, str] = {
    ".vhdr": "BrainVision",
    ".ahdr": "BrainVision",
    ".set": "EEGLAB",
    ".fif": "FIF",
    ".fif.gz": "FIF",
    ".eeg": "NihonKohden",
    ".cnt": "CNT",
    ".gdf": "GDF",
    ".mff": "EGI-MFF",
    ".nxe": "Nexstim",
    ".lay": "Persyst",
    ".cdt": "Curry",
    ".nedf": "NEDF",
}


class _MNEReader(_Reader):
    def __init__(self, path: Path, raw: Any, scales: np.ndarray) -> None:
        self.name = str(path)
        self.raw = raw
        self.scales = scales

    def native_len(self, seg: int, ch: int) -> int:
        return int(self.raw.n_times)

    def read(self, seg: int, requests: Sequence[tuple[int, int, int]]) -> list[np.ndarray]:
        out = []
        # group identical spans into one call
        by_span: dict[tuple[int, int], list[int]] = collections.defaultdict(list)
        for c, a, b in requests:
            by_span[(a, b)].append(c)
        got: dict[tuple[int, int, int], np.ndarray] = {}
        for (a, b), chans in by_span.items():
            arr = self.raw.get_data(picks=chans, start=a, stop=b, verbose="error")
            for i, c in enumerate(chans):
                got[(c, a, b)] = (arr[i] * self.scales[c]).astype(np.float32)
        for req in requests:
            out.append(got[req])
        return out



#: MNE channel types kept as such; every other non-EEG type (stim, misc, bio ...) becomes misc.
_KEPT_TYPES = ("ecg", "emg", "eog", "resp")


def _recording_from_raw(raw: Any, *, path: Path | None, name: str, fmt: str,
                        require_eeg: bool, explicit_types: bool) -> Recording:
    """A :class:`Recording` whose signals come from ``raw`` (read on demand).

    MNE calls every channel of an EDF or BrainVision file ``eeg``, so the kind of an ``eeg``
    channel comes from its label. With ``explicit_types`` (a Raw the user built), the other MNE
    types are respected too (``misc``, ``stim`` ... are not EEG) and channels in
    ``info["bads"]`` are left out of the EEG."""
    import mne

    sfreq = float(raw.info["sfreq"])
    bads = set(raw.info["bads"]) if explicit_types else set()
    names, kinds, labels, scales = [], [], [], []
    for lab, t, ch in zip(raw.ch_names, raw.get_channel_types(), raw.info["chs"], strict=True):
        cname, kind = normalize_label(lab)
        if t in _KEPT_TYPES:
            kind = t
        elif explicit_types and (t != "eeg" or lab in bads):
            kind = "misc"
        names.append(cname)
        kinds.append(kind)
        labels.append(lab)
        scales.append(1e6 if ch["unit"] == mne.io.constants.FIFF.FIFF_UNIT_V else 1.0)
    names = _unique_names(names)
    channels = [
        ChannelInfo(n, lab, k, sfreq) for n, lab, k in zip(names, labels, kinds, strict=True)
    ]
    if require_eeg and not any(k == "eeg" for k in kinds):
        raise NoEEGChannelsError(
            path or name, f"no EEG channel among {len(names)} signal(s) ({', '.join(labels[:6])})"
        )
    ann = raw.annotations
    offset = raw.first_time if ann.orig_time is not None else 0.0
    rows = [
        (float(o) - offset, float(d), str(t))
        for o, d, t in zip(ann.onset, ann.duration, ann.description, strict=True)
    ]
    start = raw.info["meas_date"]
    if isinstance(start, _dt.datetime):
        start = start.replace(tzinfo=None)
        if explicit_types:  # a cropped Raw starts at its first sample
            start += _dt.timedelta(seconds=float(raw.first_time))
    header: dict[str, str] = {}
    subj = raw.info.get("subject_info") or {}
    for key_in, key_out in (("his_id", "patient_id"), ("first_name", "patient_name")):
        if subj.get(key_in):
            header[key_out] = str(subj[key_in])
    rec = Recording(
        path=path,
        channels=channels,
        start_time=start if isinstance(start, _dt.datetime) else None,
        annotations=_as_annotations(rows),
        header=header,
        segments=[Segment(0.0, raw.n_times / sfreq)],
        format=fmt,
        reader=_MNEReader(path or Path(name), raw, np.asarray(scales)),
    )
    rec._name = name
    return rec


def read_mne(path: Path, fmt: str, require_eeg: bool = True) -> Recording:
    """Open a file that MNE reads (signals stay on disk until asked for).

    Parameters
    ----------
    path : Path
        The file.
    fmt : str
        The format name reported (:data:`MNE_EXTENSIONS`).
    require_eeg : bool
        Raise :class:`NoEEGChannelsError` when no channel is a 10-20 EEG electrode.

    Returns
    -------
    Recording
    """
    import mne

    try:
        raw = mne.io.read_raw(path, preload=False, verbose="error")
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        raise FileAccessError(path, f"cannot read: {exc.strerror or exc}") from exc
    return _recording_from_raw(raw, path=path, name=str(path), fmt=fmt, require_eeg=require_eeg,
                               explicit_types=False)


def from_raw(raw: Any, require_eeg: bool = True) -> Recording:
    """Wrap an ``mne.io.Raw`` as a :class:`Recording` (signals read from it on demand).

    Channel types are respected: ``emg``, ``ecg``, ``eog`` and ``resp`` channels keep their
    type; ``eeg`` channels are EEG when their label is a 10-20 electrode (``"EEG Fp1-REF"``,
    ``"T3"`` ...); ``misc``, ``stim`` and other types, and the channels in ``info["bads"]``,
    are not analysed as EEG. Volts become microvolts; annotations (onsets relative to the
    first sample) and the measurement date are kept.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The recording, preloaded or not.
    require_eeg : bool
        Raise :class:`NoEEGChannelsError` when no channel is 10-20 EEG.

    Returns
    -------
    Recording
        Format ``"mne.Raw"``; ``path`` is None (the name is the Raw's file, if any).
    """
    import mne

    if not isinstance(raw, mne.io.BaseRaw):
        raise ParameterError(f"expected an mne.io.Raw, got {type(raw).__name__}")
    files = [f for f in (getattr(raw, "filenames", None) or []) if f]
    name = str(files[0]) if files else "<mne.io.Raw>"
    return _recording_from_raw(raw, path=None, name=name, fmt="mne.Raw",
                               require_eeg=require_eeg, explicit_types=True)
