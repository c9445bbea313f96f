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
from hypsa.errors import FileAccessError, NoEEGChannelsError
from hypsa.io.recording import (
    ChannelInfo,
    Recording,
    Segment,
    _as_annotations,
    _Reader,
    _unique_names,
)

__all__ = ["MNE_EXTENSIONS", "read_mne"]

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



def read_mne(path: Path, fmt: str, require_eeg: bool = True) -> Recording:
    import mne

    try:
        raw = mne.io.read_raw(path, preload=False, verbose="error")
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        raise FileAccessError(path, f"cannot read: {exc.strerror or exc}") from exc
    sfreq = float(raw.info["sfreq"])
    mne_types = raw.get_channel_types()
    names, kinds, labels, scales = [], [], [], []
    for lab, t, ch in zip(raw.ch_names, mne_types, raw.info["chs"], strict=True):
        name, kind = normalize_label(lab)
        if t in ("ecg", "emg", "eog", "resp"):
            kind = t
        names.append(name)
        kinds.append(kind)
        labels.append(lab)
        scales.append(1e6 if ch["unit"] == mne.io.constants.FIFF.FIFF_UNIT_V else 1.0)
    names = _unique_names(names)
    channels = [
        ChannelInfo(n, lab, k, sfreq) for n, lab, k in zip(names, labels, kinds, strict=True)
    ]
    if require_eeg and not any(k == "eeg" for k in kinds):
        raise NoEEGChannelsError(
            path, f"no EEG channel among {len(names)} signal(s) ({', '.join(labels[:6])})"
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
    header: dict[str, str] = {}
    subj = raw.info.get("subject_info") or {}
    for key_in, key_out in (("his_id", "patient_id"), ("first_name", "patient_name")):
        if subj.get(key_in):
            header[key_out] = str(subj[key_in])
    return Recording(
        path=path,
        channels=channels,
        start_time=start if isinstance(start, _dt.datetime) else None,
        annotations=_as_annotations(rows),
        header=header,
        segments=[Segment(0.0, raw.n_times / sfreq)],
        format=fmt,
        reader=_MNEReader(path, raw, np.asarray(scales)),
    )
