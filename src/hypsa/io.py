"""Reading EEG recordings: EDF/EDF+/BDF/BDF+ natively (streaming), everything else through MNE.

:func:`read` returns a :class:`Recording` that holds only the header; signals are read on demand
(:meth:`Recording.get_data`, :meth:`Recording.iter_windows`), so a 24 h recording never has to
fit in memory. EDF+D (discontinuous) files keep their gaps as separate :class:`Segment` s, which
edfio and MNE do not (they read EDF+D as continuous). Every problem with an input file raises a
typed :class:`hypsa.errors.InputError` with a one-line message naming the file.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as _dt
import functools
import math
import os
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hypsa.channels import DOUBLE_BANANA, STANDARD_19, normalize_label
from hypsa.errors import (
    BadSignalError,
    CorruptFileError,
    FileAccessError,
    HypsaError,
    NoEEGChannelsError,
    ParameterError,
    UnsupportedFormatError,
)

__all__ = [
    "ChannelInfo",
    "Segment",
    "Window",
    "Recording",
    "read",
    "anonymize",
    "EDF_EXTENSIONS",
    "MNE_EXTENSIONS",
]

#: Extensions read by hypsa's own EDF/BDF reader.
EDF_EXTENSIONS = (".edf", ".bdf", ".rec")
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
_ARRAY_NAME = "<array>"
_ANNOT_LABELS = ("EDF Annotations", "BDF Annotations")
_TIME_EPS = 1e-6
_MAX_RATE_HZ = 1e6
_UNIT_TO_UV = {"uv": 1.0, "µv": 1.0, "μv": 1.0, "mv": 1e3, "v": 1e6, "nv": 1e-3}


# --------------------------------------------------------------------------------------------
# data classes
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChannelInfo:
    """One signal of a recording.

    Attributes
    ----------
    name : str
        Normalised name (``"Fp1"``, ``"T7"``); non-EEG signals keep a cleaned, unique label.
    label : str
        The label as written in the file.
    kind : str
        ``eeg``, ``emg``, ``ecg``, ``eog``, ``resp`` or ``misc``.
    sfreq : float
        Sampling rate in Hz.
    """

    name: str
    label: str
    kind: str
    sfreq: float


@dataclass(frozen=True)
class Segment:
    """A contiguous stretch of the recording (EDF+D files have several).

    Attributes
    ----------
    onset_s : float
        Seconds since :attr:`Recording.start_time`.
    duration_s : float
        Length in seconds.
    """

    onset_s: float
    duration_s: float

    @property
    def end_s(self) -> float:
        """Onset plus duration, in seconds."""
        return self.onset_s + self.duration_s


@dataclass
class Window:
    """A window of signal from :meth:`Recording.iter_windows`.

    Attributes
    ----------
    onset_s : float
        Recording time of ``data[:, pad_before]`` (the first sample of the core).
    sfreq : float
        Sampling rate of ``data``.
    ch_names : list of str
        Names of the rows.
    data : ndarray, float32, shape (n_channels, n_samples)
        Microvolts, including the padding.
    pad_before, pad_after : int
        Samples of padding before and after the core (clipped at segment edges).
    segment : int
        Index into :attr:`Recording.segments`.
    """

    onset_s: float
    sfreq: float
    ch_names: list[str]
    data: np.ndarray
    pad_before: int
    pad_after: int
    segment: int

    @property
    def core(self) -> np.ndarray:
        """The data without padding."""
        n = self.data.shape[1]
        return self.data[:, self.pad_before : n - self.pad_after]

    @property
    def duration_s(self) -> float:
        """Duration of the core in seconds."""
        return self.core.shape[1] / self.sfreq


# --------------------------------------------------------------------------------------------
# readers (backends)
# --------------------------------------------------------------------------------------------
@dataclass
class _SegMap:
    """Where a segment lives in the file (records) for the EDF reader."""

    first_record: int
    n_records: int


class _Reader:
    """Backend interface: native-rate samples per channel and segment."""

    name: str

    def native_len(self, seg: int, ch: int) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def read(self, seg: int, requests: Sequence[tuple[int, int, int]]) -> list[np.ndarray]:
        """Return float32 arrays for ``(channel, first_sample, stop_sample)`` requests."""
        raise NotImplementedError  # pragma: no cover


class _ArrayReader(_Reader):
    def __init__(self, data: np.ndarray) -> None:
        self.name = _ARRAY_NAME
        self.data = data

    def native_len(self, seg: int, ch: int) -> int:
        return int(self.data.shape[1])

    def read(self, seg: int, requests: Sequence[tuple[int, int, int]]) -> list[np.ndarray]:
        return [np.array(self.data[c, a:b], dtype=np.float32) for c, a, b in requests]


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


@dataclass
class _EDFSignal:
    label: str
    unit: str
    n_samples: int  # per record
    sample_offset: int  # within the record, in samples
    gain: float  # µV (or physical unit) per digital unit
    offset: float


class _EDFReader(_Reader):
    """Positioned reads of whole data records; never the whole file."""

    def __init__(
        self,
        path: Path,
        header_bytes: int,
        record_samples: int,
        bytes_per_sample: int,
        signals: list[_EDFSignal],
        segmaps: list[_SegMap],
    ) -> None:
        self.name = str(path)
        self.path = path
        self.header_bytes = header_bytes
        self.record_samples = record_samples
        self.bps = bytes_per_sample
        self.record_bytes = record_samples * bytes_per_sample
        self.signals = signals
        self.segmaps = segmaps

    def native_len(self, seg: int, ch: int) -> int:
        return self.segmaps[seg].n_records * self.signals[ch].n_samples

    def _read_records(self, first: int, count: int) -> np.ndarray:
        with open(self.path, "rb") as f:
            f.seek(self.header_bytes + first * self.record_bytes)
            buf = f.read(count * self.record_bytes)
        if len(buf) != count * self.record_bytes:
            raise CorruptFileError(self.path, f"truncated: data record {first + count} missing")
        if self.bps == 2:
            return np.frombuffer(buf, dtype="<i2").reshape(count, self.record_samples)
        return np.frombuffer(buf, dtype=np.uint8).reshape(count, self.record_bytes)

    def _decode(self, block: np.ndarray, sig: _EDFSignal) -> np.ndarray:
        if self.bps == 2:
            cols = block[:, sig.sample_offset : sig.sample_offset + sig.n_samples]
            digital = cols.reshape(-1).astype(np.float32)
        else:
            o = sig.sample_offset * 3
            cols = block[:, o : o + sig.n_samples * 3].reshape(-1, 3).astype(np.int32)
            v = cols[:, 0] | (cols[:, 1] << 8) | (cols[:, 2] << 16)
            digital = ((v ^ 0x800000) - 0x800000).astype(np.float32)
        with np.errstate(over="ignore", invalid="ignore"):
            return digital * np.float32(sig.gain) + np.float32(sig.offset)

    def read(self, seg: int, requests: Sequence[tuple[int, int, int]]) -> list[np.ndarray]:
        if not requests:
            return []
        sm = self.segmaps[seg]
        r0 = min(a // self.signals[c].n_samples for c, a, _ in requests)
        r1 = max(-(-b // self.signals[c].n_samples) for c, _, b in requests)
        r0 = max(0, r0)
        r1 = min(sm.n_records, max(r1, r0 + 1))
        block = self._read_records(sm.first_record + r0, r1 - r0)
        out = []
        for c, a, b in requests:
            sig = self.signals[c]
            x = self._decode(block, sig)
            base = r0 * sig.n_samples
            out.append(np.ascontiguousarray(x[a - base : b - base]))
        return out


# --------------------------------------------------------------------------------------------
# Recording
# --------------------------------------------------------------------------------------------
def _empty_annotations() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "onset": pd.Series(dtype=float),
            "duration": pd.Series(dtype=float),
            "description": pd.Series(dtype=object),
        }
    )


def _as_annotations(annotations: Any) -> pd.DataFrame:
    if annotations is None:
        return _empty_annotations()
    if isinstance(annotations, pd.DataFrame):
        missing = {"onset", "description"} - set(annotations.columns)
        if missing:
            raise ParameterError(f"annotations lack column(s) {sorted(missing)}")
        df = annotations.copy()
        if "duration" not in df:
            df["duration"] = 0.0
        df = df[["onset", "duration", "description"]]
    else:
        rows = [tuple(r) for r in annotations]
        df = pd.DataFrame(
            [(r[0], r[1], r[2]) if len(r) >= 3 else (r[0], 0.0, r[1]) for r in rows],
            columns=["onset", "duration", "description"],
        )
    df["onset"] = df["onset"].astype(float)
    df["duration"] = df["duration"].astype(float).fillna(0.0)
    df["description"] = df["description"].astype(str)
    return df.sort_values("onset", kind="stable").reset_index(drop=True)


def _unique_names(raw: list[str]) -> list[str]:
    seen: collections.Counter[str] = collections.Counter()
    out = []
    for n in raw:
        seen[n] += 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


def _most_common_rate(rates: list[float]) -> float:
    """Most common rate; ties go to the highest."""
    counts = collections.Counter(rates)
    return max(counts, key=lambda r: (counts[r], r))


def _ratio(target: float, native: float) -> tuple[int, int]:
    frac = Fraction(target).limit_denominator(1000) / Fraction(native).limit_denominator(1000)
    return frac.numerator, frac.denominator


class Recording:
    """An EEG recording: header, channels, segments and annotations; signals read on demand.

    Build one with :func:`read` (from a file) or :meth:`from_array` (from memory).

    Attributes
    ----------
    path : Path or None
        The file read, or None for an in-memory recording.
    channels : list of ChannelInfo
        Every signal (annotation channels excluded).
    start_time : datetime or None
        Start of the recording (naive, local clock as written in the file).
    annotations : DataFrame
        Columns ``onset`` (s, recording time), ``duration`` (s), ``description``.
    header : dict of str to str
        De-identifiable header fields (``patient_name``, ``patient_id``, ``birthdate``, ``sex``,
        ``recording_info`` ...).
    segments : list of Segment
        One for continuous files, several for EDF+D files with gaps.
    format : str
        ``"EDF"``, ``"EDF+C"``, ``"EDF+D"``, ``"BDF"``, ``"BDF+"``, ``"BDF+D"``, ``"FIF"``,
        ``"BrainVision"``, ... or ``"array"``.
    """

    def __init__(
        self,
        *,
        path: Path | None,
        channels: list[ChannelInfo],
        start_time: _dt.datetime | None,
        annotations: pd.DataFrame | Callable[[], pd.DataFrame],
        header: dict[str, str],
        segments: list[Segment],
        format: str,
        reader: _Reader,
    ) -> None:
        self.path = path
        self.channels = channels
        self.start_time = start_time
        self.annotations = annotations  # type: ignore[assignment]
        self.header = header
        self.segments = segments
        self.format = format
        self._reader = reader
        self._name = str(path) if path is not None else _ARRAY_NAME

    @property
    def annotations(self) -> pd.DataFrame:
        """Annotations (``onset``, ``duration``, ``description``). Those of a continuous EDF+
        file are parsed on first use: a 24-h file holds 86 400 annotation records, and an
        analysis that does not need them should not wait for them."""
        if callable(self._annotations):
            self._annotations = self._annotations()
        return self._annotations

    @annotations.setter
    def annotations(self, value: pd.DataFrame | Callable[[], pd.DataFrame]) -> None:
        self._annotations = value

    def __repr__(self) -> str:
        return (
            f"<Recording {self._name!r} {self.format}, {len(self.channels)} channels "
            f"({len(self.eeg_names)} EEG), {self.recorded_s:.1f} s in {len(self.segments)} "
            f"segment(s)>"
        )

    # ---- properties ----------------------------------------------------------------------
    @property
    def duration_s(self) -> float:
        """End of the last segment, in seconds since the start."""
        return max(s.end_s for s in self.segments)

    @property
    def recorded_s(self) -> float:
        """Seconds of signal actually recorded (sum of the segments)."""
        return float(sum(s.duration_s for s in self.segments))

    @property
    def ch_names(self) -> list[str]:
        """Normalised names of every channel."""
        return [c.name for c in self.channels]

    @property
    def eeg_names(self) -> list[str]:
        """Normalised names of the EEG channels."""
        return [c.name for c in self.channels if c.kind == "eeg"]

    @property
    def sfreq(self) -> float:
        """Most common sampling rate among the EEG channels (all channels if none is EEG)."""
        rates = [c.sfreq for c in self.channels if c.kind == "eeg"] or [
            c.sfreq for c in self.channels
        ]
        return _most_common_rate(rates)

    # ---- construction ---------------------------------------------------------------------
    @classmethod
    def from_array(
        cls,
        data: np.ndarray,
        sfreq: float,
        ch_names: Sequence[str],
        ch_types: Sequence[str] | None = None,
        start_time: _dt.datetime | None = None,
        annotations: pd.DataFrame | Sequence[Sequence[Any]] | None = None,
        header: dict[str, str] | None = None,
    ) -> Recording:
        """Wrap an in-memory array (microvolts) as a recording.

        Parameters
        ----------
        data : array_like, shape (n_channels, n_samples)
            Signals in µV.
        sfreq : float
            Sampling rate in Hz.
        ch_names : sequence of str
            Labels (normalised like file labels).
        ch_types : sequence of str, optional
            Kinds (``eeg``, ``ecg`` ...); guessed from the labels when omitted.
        start_time : datetime, optional
            Start of the recording.
        annotations : DataFrame or sequence of (onset, duration, description), optional
            Events in recording time.
        header : dict, optional
            Header fields.

        Returns
        -------
        Recording
            Format ``"array"``, one segment.
        """
        arr = np.asarray(data, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr[np.newaxis, :]
        if arr.ndim != 2 or arr.shape[1] == 0:
            raise ParameterError(f"data must be (n_channels, n_samples), got shape {arr.shape}")
        if len(ch_names) != arr.shape[0]:
            raise ParameterError(f"{len(ch_names)} channel names for {arr.shape[0]} rows of data")
        try:
            fs = float(sfreq)
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"sfreq must be a number, got {sfreq!r}") from exc
        if not (math.isfinite(fs) and 0 < fs <= _MAX_RATE_HZ):
            raise ParameterError(f"sfreq must be positive and finite, got {sfreq!r}")
        if ch_types is not None and len(ch_types) != arr.shape[0]:
            raise ParameterError(f"{len(ch_types)} channel types for {arr.shape[0]} channels")
        names, kinds = [], []
        for i, label in enumerate(ch_names):
            name, kind = normalize_label(str(label))
            if ch_types is not None:
                kind = str(ch_types[i]).lower()
                if kind not in ("eeg", "emg", "ecg", "eog", "resp", "misc"):
                    raise ParameterError(f"unknown channel type {ch_types[i]!r}")
            names.append(name)
            kinds.append(kind)
        names = _unique_names(names)
        channels = [
            ChannelInfo(n, str(lab), k, fs)
            for n, lab, k in zip(names, ch_names, kinds, strict=True)
        ]
        if not any(c.kind == "eeg" for c in channels):
            raise NoEEGChannelsError(_ARRAY_NAME, "no EEG channel among " + ", ".join(names[:8]))
        return cls(
            path=None,
            channels=channels,
            start_time=start_time,
            annotations=_as_annotations(annotations),
            header=dict(header or {}),
            segments=[Segment(0.0, arr.shape[1] / fs)],
            format="array",
            reader=_ArrayReader(arr),
        )

    # ---- picking --------------------------------------------------------------------------
    def _pick(self, picks: str | Sequence[str] | None) -> list[int]:
        if picks is None or (isinstance(picks, str) and picks == "eeg"):
            idx = [i for i, c in enumerate(self.channels) if c.kind == "eeg"]
        elif isinstance(picks, str) and picks == "all":
            idx = list(range(len(self.channels)))
        elif isinstance(picks, str) and picks in ("emg", "ecg", "eog", "resp", "misc"):
            idx = [i for i, c in enumerate(self.channels) if c.kind == picks]
        else:
            wanted = [picks] if isinstance(picks, str) else list(picks)
            by_name = {c.name: i for i, c in enumerate(self.channels)}
            by_label = {c.label: i for i, c in enumerate(self.channels)}
            idx = []
            for w in wanted:
                i = by_name.get(w, by_label.get(w))
                if i is None:
                    i = by_name.get(normalize_label(str(w))[0])
                if i is None:
                    raise ParameterError(
                        f"no channel {w!r} in {self._name}; channels: {', '.join(self.ch_names)}"
                    )
                idx.append(i)
        if not idx:
            raise ParameterError(f"picks={picks!r} selects no channel in {self._name}")
        return idx

    def _target_rate(self, idx: list[int], sfreq: float | None) -> float:
        if sfreq is None:
            return _most_common_rate([self.channels[i].sfreq for i in idx])
        try:
            fs = float(sfreq)
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"sfreq must be a number, got {sfreq!r}") from exc
        if not (math.isfinite(fs) and 0 < fs <= _MAX_RATE_HZ):
            raise ParameterError(f"sfreq must be positive, got {sfreq!r}")
        return fs

    def _seg_len(self, seg: int, fs: float) -> int:
        return int(math.floor(self.segments[seg].duration_s * fs + 1e-6))

    def _find_segment(self, t: float) -> int | None:
        for k, s in enumerate(self.segments):
            if s.onset_s - _TIME_EPS <= t < max(s.end_s - _TIME_EPS, s.onset_s + _TIME_EPS):
                return k
        return None

    # ---- reading --------------------------------------------------------------------------
    def _read_span(self, seg: int, idx: list[int], s0: int, s1: int, fs: float) -> np.ndarray:
        """Samples ``[s0, s1)`` of segment ``seg`` at rate ``fs`` (float32 µV)."""
        n = s1 - s0
        out = np.empty((len(idx), n), dtype=np.float32)
        direct: list[tuple[int, int, int]] = []
        direct_rows: list[int] = []
        resampled: list[tuple[int, int, tuple[int, int, int], int, int]] = []
        for row, c in enumerate(idx):
            fs_c = self.channels[c].sfreq
            if abs(fs_c - fs) <= 1e-9 * fs:
                direct.append((c, s0, s1))
                direct_rows.append(row)
                continue
            up, down = _ratio(fs, fs_c)
            nat_len = self._reader.native_len(seg, c)
            if max(up, down) > 2000:
                up, down = 0, 0  # linear interpolation for odd ratios
                a = max(0, int(math.floor(s0 * fs_c / fs)) - 2)
                b = min(nat_len, int(math.ceil(s1 * fs_c / fs)) + 2)
                resampled.append((row, c, (c, a, max(b, a + 1)), 0, 0))
                continue
            margin = int(math.ceil(10 * max(up, down) / up)) + 2
            a = (max(0, s0 * down // up - margin) // down) * down
            b = min(nat_len, -(-s1 * down // up) + margin)
            resampled.append((row, c, (c, a, max(b, a + 1)), up, down))
        reqs = direct + [r[2] for r in resampled]
        try:
            arrays = self._reader.read(seg, reqs)
        except HypsaError:
            raise
        except OSError as exc:
            raise FileAccessError(self._name, f"cannot read: {exc.strerror or exc}") from exc
        except Exception as exc:  # noqa: BLE001 - any reader failure becomes a one-line error
            raise CorruptFileError(
                self._name, f"cannot read the signals ({type(exc).__name__}: {exc})"
            ) from exc
        for row, x in zip(direct_rows, arrays[: len(direct)], strict=True):
            out[row] = _fit(x, n)
        if resampled:
            from scipy.signal import resample_poly

        for (row, c, (_, a, _b), up, down), x in zip(resampled, arrays[len(direct) :], strict=True):
            fs_c = self.channels[c].sfreq
            if up == 0:
                t_nat = (a + np.arange(x.size)) / fs_c
                t_out = (s0 + np.arange(n)) / fs
                out[row] = np.interp(t_out, t_nat, x).astype(np.float32) if x.size else 0.0
                continue
            y = resample_poly(x.astype(np.float64), up, down) if x.size else np.zeros(0)
            off = a * up // down
            out[row] = _fit(y[max(0, s0 - off) :], n)
        return out

    def get_data(
        self,
        picks: str | Sequence[str] = "eeg",
        start_s: float = 0.0,
        stop_s: float | None = None,
        sfreq: float | None = None,
    ) -> np.ndarray:
        """Read signals in microvolts.

        Parameters
        ----------
        picks : "eeg", "all", a kind, or list of str
            Channels by kind or by (normalised or original) name.
        start_s, stop_s : float
            Span in recording time (seconds since :attr:`start_time`). ``stop_s=None`` means the
            end of the segment holding ``start_s``. The span must lie within one segment.
        sfreq : float, optional
            Output rate; default the most common rate among the picks. Channels at other rates
            are resampled (polyphase).

        Returns
        -------
        ndarray, float32, shape (n_channels, n_samples)
            Only the records needed are read from disk.
        """
        idx = self._pick(picks)
        fs = self._target_rate(idx, sfreq)
        seg = self._find_segment(float(start_s))
        if seg is None:
            raise ParameterError(
                f"start_s={start_s} lies outside the recorded segments of {self._name} "
                f"({self._segments_text()})"
            )
        s = self.segments[seg]
        stop = s.end_s if stop_s is None else float(stop_s)
        if stop <= start_s:
            raise ParameterError(f"stop_s ({stop_s}) must be greater than start_s ({start_s})")
        if stop > s.end_s + _TIME_EPS:
            raise ParameterError(
                f"span {start_s}-{stop} s crosses a gap or the end of {self._name} "
                f"({self._segments_text()}); read each segment separately"
            )
        n_seg = self._seg_len(seg, fs)
        s0 = min(n_seg, int(round((float(start_s) - s.onset_s) * fs)))
        s1 = min(n_seg, int(round((stop - s.onset_s) * fs)))
        return self._read_span(seg, idx, s0, max(s0, s1), fs)

    def _segments_text(self) -> str:
        return "; ".join(f"{s.onset_s:.3f}-{s.end_s:.3f} s" for s in self.segments[:5]) + (
            " ..." if len(self.segments) > 5 else ""
        )

    def iter_windows(
        self,
        window_s: float,
        step_s: float | None = None,
        picks: str | Sequence[str] = "eeg",
        sfreq: float | None = None,
        pad_s: float = 0.0,
    ) -> Iterator[Window]:
        """Stream the recording in windows that never straddle a gap.

        Parameters
        ----------
        window_s : float
            Core length in seconds.
        step_s : float, optional
            Hop between window starts; default ``window_s`` (no overlap).
        picks : "eeg", "all", a kind, or list of str
            Channels, as in :meth:`get_data`.
        sfreq : float, optional
            Output rate.
        pad_s : float
            Extra signal on each side of the core (for filters), clipped at segment edges.

        Yields
        ------
        Window
            The last core of a segment may be shorter than ``window_s``; it is kept if it lasts
            at least 1 s (or ``window_s`` if that is shorter).
        """
        for name, v in (("window_s", window_s), ("step_s", step_s), ("pad_s", pad_s)):
            if v is None:
                continue
            ok = isinstance(v, int | float) and math.isfinite(v)
            if not ok or (v <= 0 if name != "pad_s" else v < 0):
                raise ParameterError(f"{name} must be a positive number, got {v!r}")
        idx = self._pick(picks)
        fs = self._target_rate(idx, sfreq)
        names = [self.channels[i].name for i in idx]
        win = max(1, int(round(window_s * fs)))
        step = max(1, int(round((step_s if step_s is not None else window_s) * fs)))
        pad = int(round(pad_s * fs))
        min_core = min(win, max(1, int(round(1.0 * fs))))
        for k, s in enumerate(self.segments):
            n_seg = self._seg_len(k, fs)
            c0 = 0
            while c0 < n_seg:
                c1 = min(c0 + win, n_seg)
                if c1 - c0 < min_core:
                    break
                a, b = max(0, c0 - pad), min(n_seg, c1 + pad)
                data = self._read_span(k, idx, a, b, fs)
                yield Window(
                    onset_s=s.onset_s + c0 / fs,
                    sfreq=fs,
                    ch_names=list(names),
                    data=data,
                    pad_before=c0 - a,
                    pad_after=b - c1,
                    segment=k,
                )
                if c1 >= n_seg:
                    break
                c0 += step

    def check_signals(self, flat_uv: float = 0.5, chunk_s: float = 60.0) -> dict[str, str]:
        """Scan the EEG for dead or flat channels and invalid samples (bounded memory).

        Parameters
        ----------
        flat_uv : float
            A channel whose standard deviation over the whole recording is below this (µV) is
            reported as flat; one with a constant value as dead.
        chunk_s : float
            Seconds read at a time.

        Returns
        -------
        dict of str to str
            ``{channel name: reason}`` for dead or flat EEG channels (empty if none).

        Raises
        ------
        BadSignalError
            If an EEG sample is NaN or infinite, or if every EEG channel is dead or flat.
        """
        idx = self._pick("eeg")
        by_rate: dict[float, list[int]] = collections.defaultdict(list)
        for i in idx:
            by_rate[self.channels[i].sfreq].append(i)
        n = np.zeros(len(self.channels))
        shift = np.full(len(self.channels), np.nan)
        s1 = np.zeros(len(self.channels))
        s2 = np.zeros(len(self.channels))
        lo = np.full(len(self.channels), np.inf)
        hi = np.full(len(self.channels), -np.inf)
        for k, seg in enumerate(self.segments):
            for fs, chans in by_rate.items():
                n_seg = self._seg_len(k, fs)
                step = max(1, int(chunk_s * fs))
                for a in range(0, n_seg, step):
                    b = min(n_seg, a + step)
                    x = self._read_span(k, chans, a, b, fs).astype(np.float64)
                    bad = ~np.isfinite(x)
                    if bad.any():
                        row, col = np.argwhere(bad)[0]
                        raise BadSignalError(
                            self._name,
                            f"channel {self.channels[chans[row]].name} has NaN or infinite "
                            f"samples (first at {seg.onset_s + (a + col) / fs:.2f} s)",
                        )
                    ch = np.asarray(chans)
                    first = np.isnan(shift[ch])
                    shift[ch[first]] = x[first, 0]
                    d = x - shift[ch][:, None]
                    n[ch] += x.shape[1]
                    s1[ch] += d.sum(axis=1)
                    s2[ch] += (d * d).sum(axis=1)
                    lo[ch] = np.minimum(lo[ch], x.min(axis=1, initial=np.inf))
                    hi[ch] = np.maximum(hi[ch], x.max(axis=1, initial=-np.inf))
        result: dict[str, str] = {}
        for i in idx:
            name = self.channels[i].name
            if n[i] == 0:
                result[name] = "dead: no samples"
                continue
            var = max(0.0, s2[i] / n[i] - (s1[i] / n[i]) ** 2)
            sd = math.sqrt(var)
            if hi[i] - lo[i] == 0:
                result[name] = f"dead: constant {lo[i]:.1f} µV"
            elif sd < flat_uv:
                result[name] = f"flat: SD {sd:.2f} µV < {flat_uv:g} µV"
        if len(result) == len(idx):
            raise BadSignalError(
                self._name,
                f"every EEG channel is dead or flat ({len(idx)} channels, SD < {flat_uv:g} µV)",
            )
        return result

    # ---- export ---------------------------------------------------------------------------
    def to_mne(self, picks: str | Sequence[str] = "eeg") -> Any:
        """Load the picks into an :class:`mne.io.RawArray` (volts; gaps zero-filled).

        Parameters
        ----------
        picks : "eeg", "all", a kind, or list of str
            Channels, as in :meth:`get_data`.

        Returns
        -------
        mne.io.RawArray
            Gaps between segments are filled with zeros and annotated ``BAD_ACQ_SKIP``.
        """
        import mne

        idx = self._pick(picks)
        fs = self._target_rate(idx, None)
        total = int(math.floor(self.duration_s * fs + 1e-6))
        data = np.zeros((len(idx), total), dtype=np.float64)
        for k, s in enumerate(self.segments):
            n_seg = self._seg_len(k, fs)
            a = int(round(s.onset_s * fs))
            n_seg = min(n_seg, total - a)
            if n_seg > 0:
                data[:, a : a + n_seg] = self._read_span(k, idx, 0, n_seg, fs)
        types = {"eeg": "eeg", "emg": "emg", "ecg": "ecg", "eog": "eog", "resp": "resp"}
        ch_types = [types.get(self.channels[i].kind, "misc") for i in idx]
        scale = np.array([1e-6 if t != "misc" else 1.0 for t in ch_types])[:, None]
        info = mne.create_info([self.channels[i].name for i in idx], fs, ch_types)
        raw = mne.io.RawArray(data * scale, info, verbose="error")
        if self.start_time is not None:
            with contextlib.suppress(Exception):
                st = self.start_time
                if st.tzinfo is None:
                    st = st.replace(tzinfo=_dt.UTC)
                raw.set_meas_date(st)
        onsets = list(self.annotations["onset"])
        durs = list(self.annotations["duration"])
        descs = list(self.annotations["description"])
        ordered = sorted(self.segments, key=lambda s: s.onset_s)
        prev_end = 0.0
        for s in ordered:
            if s.onset_s > prev_end + _TIME_EPS:
                onsets.append(prev_end)
                durs.append(s.onset_s - prev_end)
                descs.append("BAD_ACQ_SKIP")
            prev_end = max(prev_end, s.end_s)
        if onsets:
            raw.set_annotations(
                mne.Annotations(onsets, durs, descs, orig_time=raw.info["meas_date"])
            )
        return raw

    def describe(self, max_annotations: int = 5, check: bool = True) -> dict[str, Any]:
        """A JSON-ready summary (used by ``hypsa info``).

        Parameters
        ----------
        max_annotations : int
            How many annotations to list.
        check : bool
            Run :meth:`check_signals` (raises :class:`BadSignalError` on NaN / all flat).

        Returns
        -------
        dict
            Format, duration, segments, gaps, channels, annotations, montage, dead channels.
        """
        eeg = set(self.eeg_names)
        gaps = [
            {"onset_s": a.end_s, "duration_s": b.onset_s - a.end_s}
            for a, b in zip(self.segments, self.segments[1:], strict=False)
        ]
        ann = self.annotations.head(max_annotations)
        return {
            "file": self._name,
            "format": self.format,
            "start_time": self.start_time.isoformat() if self.start_time else None,
            "duration_s": round(self.duration_s, 6),
            "recorded_s": round(self.recorded_s, 6),
            "segments": [{"onset_s": s.onset_s, "duration_s": s.duration_s} for s in self.segments],
            "gaps": gaps,
            "sfreq": self.sfreq,
            "channels": [
                {"name": c.name, "label": c.label, "kind": c.kind, "sfreq": c.sfreq}
                for c in self.channels
            ],
            "annotations": {
                "count": int(len(self.annotations)),
                "first": [
                    {"onset": float(o), "duration": float(d), "description": str(t)}
                    for o, d, t in zip(
                        ann["onset"], ann["duration"], ann["description"], strict=True
                    )
                ],
            },
            "montage": {
                "standard_19_found": sum(n in eeg for n in STANDARD_19),
                "standard_19_missing": [n for n in STANDARD_19 if n not in eeg],
                "double_banana_complete": all(a in eeg and b in eeg for a, b in DOUBLE_BANANA),
            },
            "dead_or_flat": self.check_signals() if check else None,
        }


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    """Trim or edge-pad ``x`` to length ``n``."""
    if x.size >= n:
        return x[:n]
    if x.size == 0:
        return np.zeros(n, dtype=np.float32)
    return np.concatenate([x, np.full(n - x.size, x[-1], dtype=x.dtype)])


# --------------------------------------------------------------------------------------------
# EDF / BDF parsing
# --------------------------------------------------------------------------------------------
_MONTHS = {m: i for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}
_ONSET_RE = re.compile(r"^[+-]\d+(\.\d*)?(\x15(\d+(\.\d*)?)?)?$")


def _parse_edfplus_date(s: str) -> _dt.date | None:
    m = re.fullmatch(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})", s.strip())
    if not m:
        return None
    try:
        return _dt.date(int(m.group(3)), _MONTHS[m.group(2).upper()], int(m.group(1)))
    except (KeyError, ValueError):
        return None


def _parse_patient(field: str) -> dict[str, str]:
    out = {"patient_field": field}
    parts = field.split()
    if (
        len(parts) >= 4
        and parts[1] in ("M", "F", "X")
        and (parts[2] == "X" or _parse_edfplus_date(parts[2]))
    ):
        out.update(
            patient_id=parts[0],
            sex=parts[1],
            birthdate=parts[2],
            patient_name=parts[3],
            patient_additional=" ".join(parts[4:]),
        )
    else:
        out["patient_name"] = field
    return out


def _parse_recording(field: str) -> dict[str, str]:
    out = {"recording_info": field}
    parts = field.split()
    if len(parts) >= 5 and parts[0] == "Startdate":
        out.update(
            startdate=parts[1],
            admin_code=parts[2],
            technician=parts[3],
            equipment=" ".join(parts[4:]),
        )
    return out


def _parse_start(date: str, time: str, recording: dict[str, str]) -> _dt.datetime | None:
    try:
        d, mo, y = (int(v) for v in date.strip().split("."))
        h, mi, s = (int(v) for v in time.strip().replace(":", ".").split("."))
        year = 1900 + y if y >= 85 else 2000 + y
        plus = _parse_edfplus_date(recording.get("startdate", ""))
        if plus is not None and plus.year % 100 == y:
            year = plus.year
        return _dt.datetime(year, mo, d, h, mi, s)
    except (ValueError, TypeError):
        return None


def _parse_tals(buf: bytes) -> list[tuple[float, float, list[str]]]:
    """Parse the time-stamped annotation lists of one annotation signal in one record.

    Tolerates TALs not separated by NUL (seen in Nihon Kohden exports).
    """
    tals: list[tuple[float, float, list[str]]] = []
    for chunk in buf.split(b"\x00"):
        if not chunk:
            continue
        fields = chunk.decode("utf-8", errors="replace").split("\x14")
        cur: list[Any] | None = None
        prev_empty = True
        for i, fld in enumerate(fields):
            starts = (i == 0 or prev_empty) and _ONSET_RE.match(fld) is not None
            if starts:
                if cur is not None:
                    tals.append((cur[0], cur[1], cur[2]))
                on, _, dur = fld.partition("\x15")
                try:
                    onset = float(on)
                    duration = float(dur) if dur else 0.0
                except ValueError:
                    cur = None
                    prev_empty = False
                    continue
                if not (math.isfinite(onset) and math.isfinite(duration)):
                    cur = None
                    continue
                cur = [onset, duration, []]
                prev_empty = False
                continue
            if cur is None:
                prev_empty = fld == ""
                continue
            if fld:
                cur[2].append(fld)
            prev_empty = fld == ""
        if cur is not None:
            tals.append((cur[0], cur[1], cur[2]))
    return tals


def _num(path: Path, raw: bytes, what: str, kind: type = float) -> Any:
    txt = raw.decode("latin-1").strip()
    try:
        val = kind(txt) if kind is int else float(txt)
    except ValueError:
        # some writers put "1.000000" in integer fields
        try:
            fv = float(txt)
        except ValueError:
            fv = math.nan
        if kind is int and math.isfinite(fv) and fv == int(fv):
            return int(fv)
        raise CorruptFileError(path, f"header field {what} is not a number: {txt!r}") from None
    if kind is float and not math.isfinite(val):
        raise CorruptFileError(path, f"header field {what} is not a finite number: {txt!r}")
    return val


def _edf_annotation_rows(path: Path, header_bytes: int, n_records: int, record_bytes: int,
                         annot_idx: tuple[int, ...], offsets: tuple[int, ...], bps: int,
                         nsamp: tuple[int, ...], rec_onsets: np.ndarray | None = None,
                         ) -> list[tuple[float, float, str]]:
    """Every annotation of an EDF+/BDF+ file; fills ``rec_onsets`` with the record start times
    (the first TAL of each record's first annotation signal) when given."""
    rows: list[tuple[float, float, str]] = []
    if not annot_idx:
        return rows
    chunk = max(1, 8_000_000 // record_bytes)
    with open(path, "rb") as f:
        for r0 in range(0, n_records, chunk):
            cnt = min(chunk, n_records - r0)
            f.seek(header_bytes + r0 * record_bytes)
            buf = f.read(cnt * record_bytes)
            if len(buf) < cnt * record_bytes:
                raise CorruptFileError(path, "truncated while reading annotations")
            for r in range(cnt):
                base = r * record_bytes
                for j in range(len(annot_idx)):
                    o = base + offsets[j] * bps
                    tals = _parse_tals(buf[o : o + nsamp[j] * bps])
                    if j == 0 and tals:
                        keeper = tals[0]
                        if rec_onsets is not None:
                            rec_onsets[r0 + r] = keeper[0]
                        tals = tals[1:]
                        rows.extend((keeper[0], keeper[1], t) for t in keeper[2])
                    for onset, dur, texts in tals:
                        rows.extend((onset, dur, t) for t in texts)
    return rows


def _edf_annotations(*args: Any) -> pd.DataFrame:
    """The annotations of a continuous EDF+ file as a frame (parsed on first use)."""
    return _as_annotations(_edf_annotation_rows(*args))


def _read_edf(path: Path, size: int, require_eeg: bool = True) -> Recording:
    with open(path, "rb") as f:
        main = f.read(256)
        if len(main) < 8 or (main[:8] != b"0       " and main[:8] != b"\xffBIOSEMI"):
            raise UnsupportedFormatError(
                path,
                "not an EDF/BDF file: the header does not start with '0' (EDF) or "
                "'\\xffBIOSEMI' (BDF)",
            )
        bdf = main[:1] == b"\xff"
        if len(main) < 256:
            raise CorruptFileError(
                path, f"truncated header: {size} bytes, an EDF header needs at least 256"
            )
        ns = _num(path, main[252:256], "'number of signals'", int)
        if ns < 1:
            raise CorruptFileError(path, f"header declares {ns} signals")
        header_bytes = _num(path, main[184:192], "'header bytes'", int)
        if header_bytes != 256 * (ns + 1):
            raise CorruptFileError(
                path,
                f"header size field says {header_bytes} bytes but {ns} signals need "
                f"{256 * (ns + 1)}: the signal count or header is wrong",
            )
        if size < header_bytes:
            raise CorruptFileError(
                path, f"truncated header: {size} bytes, the header alone needs {header_bytes}"
            )
        n_records = _num(path, main[236:244], "'number of data records'", int)
        rec_dur = _num(path, main[244:252], "'duration of a data record'", float)
        if rec_dur <= 0:
            raise CorruptFileError(path, f"data record duration must be positive, got {rec_dur}")
        sh = f.read(256 * ns)
    if len(sh) < 256 * ns:
        raise CorruptFileError(path, "truncated signal header")

    def col(off: int, width: int) -> list[bytes]:
        base = off * ns
        return [sh[base + i * width : base + (i + 1) * width] for i in range(ns)]

    labels = [b.decode("latin-1").strip() for b in col(0, 16)]
    units = [b.decode("latin-1").strip() for b in col(96, 8)]
    pmin = [
        _num(path, b, f"'physical minimum' of signal {i + 1}") for i, b in enumerate(col(104, 8))
    ]
    pmax = [
        _num(path, b, f"'physical maximum' of signal {i + 1}") for i, b in enumerate(col(112, 8))
    ]
    dmin = [
        _num(path, b, f"'digital minimum' of signal {i + 1}", int)
        for i, b in enumerate(col(120, 8))
    ]
    dmax = [
        _num(path, b, f"'digital maximum' of signal {i + 1}", int)
        for i, b in enumerate(col(128, 8))
    ]
    nsamp = [
        _num(path, b, f"'samples per record' of signal {i + 1}", int)
        for i, b in enumerate(col(216, 8))
    ]
    bps = 3 if bdf else 2
    for i in range(ns):
        if nsamp[i] < 1:
            raise CorruptFileError(
                path, f"signal {i + 1} ({labels[i]!r}) has {nsamp[i]} samples per record"
            )
        if dmin[i] >= dmax[i]:
            raise CorruptFileError(
                path,
                f"signal {i + 1} ({labels[i]!r}): digital minimum {dmin[i]} is not below "
                f"digital maximum {dmax[i]}",
            )
        if nsamp[i] / rec_dur > _MAX_RATE_HZ:
            raise CorruptFileError(
                path, f"signal {i + 1} ({labels[i]!r}): implausible rate {nsamp[i] / rec_dur:g} Hz"
            )
    record_samples = sum(nsamp)
    record_bytes = record_samples * bps
    data_bytes = size - header_bytes
    n_full, rem = divmod(data_bytes, record_bytes)
    if n_records == -1:
        n_records = n_full
        if n_records < 1:
            raise CorruptFileError(path, "recording in progress (-1 records) holds no full record")
    elif n_records < 1:
        raise CorruptFileError(path, f"header declares {n_records} data records")
    elif data_bytes < n_records * record_bytes:
        partial = " and a partial one" if rem else ""
        raise CorruptFileError(
            path,
            f"truncated: the header declares {n_records} data records of {record_bytes} bytes but "
            f"the file holds {n_full} complete record(s){partial}",
        )
    elif n_full > n_records:
        raise CorruptFileError(
            path,
            f"header declares {n_records} data records but the file holds {n_full}: "
            "the record count in the header is wrong",
        )

    reserved = main[192:236].decode("latin-1").strip()
    annot_idx = [i for i, lab in enumerate(labels) if lab in _ANNOT_LABELS]
    discontinuous = reserved.startswith(("EDF+D", "BDF+D"))
    if bdf:
        fmt = "BDF+D" if discontinuous else ("BDF+" if reserved.startswith("BDF+") else "BDF")
    else:
        fmt = "EDF+D" if discontinuous else ("EDF+C" if reserved.startswith("EDF+") else "EDF")

    # data signals
    offsets = np.concatenate([[0], np.cumsum(nsamp)]).astype(int)
    signals: list[_EDFSignal] = []
    channels: list[ChannelInfo] = []
    names: list[str] = []
    kinds: list[str] = []
    for i in range(ns):
        if i in annot_idx:
            continue
        name, kind = normalize_label(labels[i])
        if pmax[i] == pmin[i]:
            raise CorruptFileError(
                path, f"signal {i + 1} ({labels[i]!r}): physical minimum equals maximum"
            )
        if max(abs(pmin[i]), abs(pmax[i])) > 1e20:
            raise CorruptFileError(
                path, f"signal {i + 1} ({labels[i]!r}): implausible physical range"
            )
        unit_factor = _UNIT_TO_UV.get(units[i].lower())
        if unit_factor is None:
            unit_factor = 1.0  # non-voltage unit (%, G, sec ...) or blank: keep physical values
        gain = (pmax[i] - pmin[i]) / (dmax[i] - dmin[i])
        offset = pmin[i] - gain * dmin[i]
        signals.append(
            _EDFSignal(
                labels[i], units[i], nsamp[i], int(offsets[i]), gain * unit_factor,
                offset * unit_factor,
            )
        )  # fmt: skip
        names.append(name)
        kinds.append(kind)
    names = _unique_names(names)
    for sig, name, kind in zip(signals, names, kinds, strict=True):
        channels.append(ChannelInfo(name, sig.label, kind, sig.n_samples / rec_dur))
    if require_eeg and not any(k == "eeg" for k in kinds):
        shown = ", ".join(repr(s.label) for s in signals[:6]) or "none"
        raise NoEEGChannelsError(
            path,
            f"no EEG channel among {len(signals)} signal(s) ({shown}); "
            "expected 10-20 labels such as Fp1, C3, O2",
        )

    # annotations and record times
    rec_onsets = np.arange(n_records, dtype=np.float64) * rec_dur

    # the record start times matter only for EDF+D (gaps); a continuous file's annotations are
    # parsed when first used
    args = (path, header_bytes, n_records, record_bytes, tuple(annot_idx),
            tuple(int(offsets[i]) for i in annot_idx), bps, tuple(int(nsamp[i]) for i in annot_idx))
    annotations: pd.DataFrame | Callable[[], pd.DataFrame]
    if discontinuous:
        annotations = _as_annotations(_edf_annotation_rows(*args, rec_onsets=rec_onsets))
    else:
        annotations = functools.partial(_edf_annotations, *args)
    segmaps: list[_SegMap] = []
    segments: list[Segment] = []
    if discontinuous and annot_idx:
        tol = max(1e-6, 0.01 * rec_dur)
        start = 0
        for r in range(1, n_records + 1):
            if r < n_records:
                expected = rec_onsets[r - 1] + rec_dur
                if rec_onsets[r] < expected - tol:
                    raise CorruptFileError(
                        path,
                        f"EDF+D data record {r + 1} starts at {rec_onsets[r]:g} s, before the "
                        f"previous record ends ({expected:g} s)",
                    )
                if rec_onsets[r] <= expected + tol:
                    continue
            segmaps.append(_SegMap(start, r - start))
            segments.append(Segment(float(rec_onsets[start]), (r - start) * rec_dur))
            start = r
    else:
        segmaps.append(_SegMap(0, n_records))
        segments.append(Segment(0.0, n_records * rec_dur))

    patient = _parse_patient(main[8:88].decode("latin-1").strip())
    recording = _parse_recording(main[88:168].decode("latin-1").strip())
    header = {**patient, **recording, "reserved": reserved}
    start = _parse_start(
        main[168:176].decode("latin-1"), main[176:184].decode("latin-1"), recording
    )
    reader = _EDFReader(path, header_bytes, record_samples, bps, signals, segmaps)
    return Recording(
        path=path,
        channels=channels,
        start_time=start,
        annotations=annotations,
        header=header,
        segments=segments,
        format=fmt,
        reader=reader,
    )


# --------------------------------------------------------------------------------------------
# MNE-backed formats
# --------------------------------------------------------------------------------------------
def _read_mne(path: Path, fmt: str, require_eeg: bool = True) -> Recording:
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


# --------------------------------------------------------------------------------------------
# public entry points
# --------------------------------------------------------------------------------------------
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
            return _read_edf(p, size, require_eeg)
        return _read_mne(p, fmt_name, require_eeg)
    except HypsaError:
        raise
    except OSError as exc:
        raise FileAccessError(p, f"cannot read: {exc.strerror or exc}") from exc
    except Exception as exc:  # noqa: BLE001 - never a traceback for a bad file
        raise CorruptFileError(
            p, f"unreadable {fmt_name} file ({type(exc).__name__}: {exc})"
        ) from exc


# --------------------------------------------------------------------------------------------
# anonymize
# --------------------------------------------------------------------------------------------
def _age_months(birth: _dt.date, at: _dt.date) -> int:
    return (at.year - birth.year) * 12 + (at.month - birth.month) - (at.day < birth.day)


def _secrets(header: dict[str, str]) -> list[str]:
    out: set[str] = set()
    for key in ("patient_name", "patient_id", "birthdate"):
        v = header.get(key, "").strip()
        if not v or v == "X":
            continue
        out.add(v)
        if key == "patient_name":
            out.add(v.replace("_", " "))
            out.update(t for t in re.split(r"[\s_,^]+", v) if len(t) >= 3)
    return sorted((s for s in out if len(s) >= 3), key=len, reverse=True)


def _scrub_text(buf: bytes, patterns: list[re.Pattern[bytes]]) -> bytes:
    """Replace secrets by X's (same length) in annotation texts, never in onset fields."""
    out = bytearray(buf)
    for m in re.finditer(rb"[^\x14\x00]+", buf):
        span = m.group(0)
        if re.match(rb"[+-]\d", span):
            continue
        new = span
        for pat in patterns:
            new = pat.sub(lambda mm: b"X" * len(mm.group(0)), new)
        out[m.start() : m.end()] = new
    return bytes(out)


def anonymize(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], keep_age_months: bool = False
) -> Path:
    """Write a de-identified copy of an EDF/EDF+/BDF/BDF+ file; signals stay bit-identical.

    The 80-character patient field becomes ``X X X X`` (EDF+ for "unknown"), or
    ``X X X age_N_months`` with ``keep_age_months`` (age from birth date and start date).
    Patient name, ID and birth date are also replaced by ``X`` characters, same length, where
    they appear in the recording field and in annotation texts. The input is never written.

    Parameters
    ----------
    src : str or Path
        The EDF/BDF file.
    dst : str or Path
        Where to write the copy (must differ from ``src``).
    keep_age_months : bool
        Keep the age at recording, in months, in the name subfield.

    Returns
    -------
    Path
        ``dst``.
    """
    p = _check_path(src)
    if _extension(p) not in EDF_EXTENSIONS:
        raise UnsupportedFormatError(p, "anonymize handles only EDF/EDF+/BDF/BDF+ files")
    out = Path(dst)
    if out.exists() and (out.is_dir() or os.path.samefile(p, out)):
        raise ParameterError(f"output {out} must be a new file, not the input or a directory")
    if out.resolve() == p.resolve():
        raise ParameterError(f"output {out} is the input file")
    rec = read(p)
    if not isinstance(rec._reader, _EDFReader):  # pragma: no cover - guarded above
        raise UnsupportedFormatError(p, "anonymize handles only EDF/BDF files")
    hdr = rec.header
    patient = "X X X X"
    if keep_age_months:
        birth = _parse_edfplus_date(hdr.get("birthdate", ""))
        at = rec.start_time.date() if rec.start_time else None
        plus = _parse_edfplus_date(hdr.get("startdate", ""))
        at = plus or at
        if birth is not None and at is not None and at >= birth:
            patient = f"X X X age_{_age_months(birth, at)}_months"
    secrets = _secrets(hdr)
    patterns = [re.compile(re.escape(s.encode("utf-8")), re.IGNORECASE) for s in secrets]
    patterns += [
        re.compile(re.escape(s.encode("latin-1", errors="ignore")), re.IGNORECASE)
        for s in secrets
        if s.encode("latin-1", errors="ignore") != s.encode("utf-8")
    ]
    recording_field = hdr.get("recording_info", "")
    for s in secrets:
        recording_field = re.sub(re.escape(s), lambda m: "X" * len(m.group(0)), recording_field,
                                 flags=re.IGNORECASE)  # fmt: skip
    reader: _EDFReader = rec._reader
    tmp = out.with_name(out.name + ".hypsa-tmp")
    try:
        shutil.copyfile(p, tmp)
        os.chmod(tmp, 0o644)
        with open(tmp, "r+b") as f:
            f.seek(8)
            f.write(patient.ljust(80)[:80].encode("ascii"))
            f.seek(88)
            f.write(recording_field.encode("latin-1", errors="replace").ljust(80)[:80])
            # annotation signals
            with open(p, "rb") as g:
                g.seek(184)
                ns = int(g.read(256)[252 - 184 : 256 - 184].decode("latin-1").strip())
                g.seek(256)
                sh = g.read(256 * ns)
            labels = [sh[i * 16 : (i + 1) * 16].decode("latin-1").strip() for i in range(ns)]
            nsamp = [int(sh[216 * ns + i * 8 : 216 * ns + (i + 1) * 8]) for i in range(ns)]
            annot = [i for i, lab in enumerate(labels) if lab in _ANNOT_LABELS]
            if annot and patterns:
                offs = np.concatenate([[0], np.cumsum(nsamp)]).astype(int)
                n_records = sum(m.n_records for m in reader.segmaps)
                rb = reader.record_bytes
                chunk = max(1, 8_000_000 // rb)
                for r0 in range(0, n_records, chunk):
                    cnt = min(chunk, n_records - r0)
                    f.seek(reader.header_bytes + r0 * rb)
                    buf = f.read(cnt * rb)
                    for r in range(cnt):
                        for ai in annot:
                            o = r * rb + int(offs[ai]) * reader.bps
                            old = buf[o : o + nsamp[ai] * reader.bps]
                            new = _scrub_text(old, patterns)
                            if new != old:
                                pos = reader.header_bytes + (r0 + r) * rb
                                f.seek(pos + int(offs[ai]) * reader.bps)
                                f.write(new)
        os.replace(tmp, out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise FileAccessError(exc.filename or out, f"cannot write: {exc.strerror or exc}") from exc
    # verify
    check = read(out)
    leaks = [
        k
        for k in ("patient_name", "patient_id", "birthdate")
        if check.header.get(k, "X") not in ("X", "") and not check.header[k].startswith("age_")
    ]
    texts = (
        " ".join(check.annotations["description"]).lower()
        + " "
        + check.header.get("recording_info", "").lower()
    )
    leaks += [s for s in secrets if s.lower() in texts]
    if leaks:
        with contextlib.suppress(OSError):
            out.unlink()
        raise CorruptFileError(p, f"anonymization could not remove {', '.join(leaks)}")
    return out
