"""The :class:`Recording`: header, channels, segments and annotations of an EEG recording, with
signals read on demand from a backend reader (a file, MNE, or an array in memory)."""

from __future__ import annotations

import collections
import contextlib
import datetime as _dt
import math
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
)

__all__ = ["ChannelInfo", "Segment", "Window", "Recording"]

_ARRAY_NAME = "<array>"
_TIME_EPS = 1e-6
_MAX_RATE_HZ = 1e6
#: Physical units of a signal (lower case) and their factor to µV.
_UNIT_TO_UV = {"uv": 1.0, "µv": 1.0, "μv": 1.0, "mv": 1e3, "v": 1e6, "nv": 1e-3}
_KINDS = ("eeg", "emg", "ecg", "eog", "resp", "misc")

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
        plans = []
        for c in idx:
            fs_c = self.channels[c].sfreq
            if abs(fs_c - fs) <= 1e-9 * fs:
                plans.append(_Plan(c, s0, s1, None))
            else:
                plans.append(_resample_plan(c, s0, s1, fs, fs_c, self._reader.native_len(seg, c)))
        try:
            arrays = self._reader.read(seg, [(q.channel, q.first, q.stop) for q in plans])
        except HypsaError:
            raise
        except OSError as exc:
            raise FileAccessError(self._name, f"cannot read: {exc.strerror or exc}") from exc
        except Exception as exc:  # noqa: BLE001 - any reader failure becomes a one-line error
            raise CorruptFileError(
                self._name, f"cannot read the signals ({type(exc).__name__}: {exc})"
            ) from exc
        for row, (q, x) in enumerate(zip(plans, arrays, strict=True)):
            if q.ratio is None:
                out[row] = _fit(x, n)
            else:
                out[row] = _resampled(x, q, s0, n, fs, self.channels[q.channel].sfreq)
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
        moments = _Moments(len(self.channels))
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
                    moments.add(np.asarray(chans), x)
        result = {
            self.channels[i].name: why
            for i in idx
            if (why := moments.dead_or_flat(i, flat_uv)) is not None
        }
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


@dataclass(frozen=True)
class _Plan:
    """Native samples ``[first, stop)`` of one channel to read for a span; ``ratio`` is None
    when the channel is at the output rate, ``(up, down)`` for polyphase resampling, ``(0, 0)``
    for linear interpolation (ratios too odd for a polyphase filter)."""

    channel: int
    first: int
    stop: int
    ratio: tuple[int, int] | None


def _resample_plan(c: int, s0: int, s1: int, fs: float, fs_c: float, nat_len: int) -> _Plan:
    """The native samples that output samples ``[s0, s1)`` at ``fs`` need, with filter margin."""
    up, down = _ratio(fs, fs_c)
    if max(up, down) > 2000:
        a = max(0, int(math.floor(s0 * fs_c / fs)) - 2)
        b = min(nat_len, int(math.ceil(s1 * fs_c / fs)) + 2)
        return _Plan(c, a, max(b, a + 1), (0, 0))
    margin = int(math.ceil(10 * max(up, down) / up)) + 2
    a = (max(0, s0 * down // up - margin) // down) * down
    b = min(nat_len, -(-s1 * down // up) + margin)
    return _Plan(c, a, max(b, a + 1), (up, down))


def _resampled(x: np.ndarray, plan: _Plan, s0: int, n: int, fs: float, fs_c: float) -> np.ndarray:
    """Output samples ``[s0, s0 + n)`` at ``fs`` from the native samples ``x`` of ``plan``."""
    from scipy.signal import resample_poly

    up, down = plan.ratio or (0, 0)
    if up == 0:
        if not x.size:
            return np.zeros(n, dtype=np.float32)
        t_nat = (plan.first + np.arange(x.size)) / fs_c
        t_out = (s0 + np.arange(n)) / fs
        return np.interp(t_out, t_nat, x).astype(np.float32)
    y = resample_poly(x.astype(np.float64), up, down) if x.size else np.zeros(0)
    off = plan.first * up // down
    return _fit(y[max(0, s0 - off) :], n)


class _Moments:
    """Running count, mean, variance, minimum and maximum per channel (shifted sums: exact
    enough for microvolt signals with a large offset)."""

    def __init__(self, n_channels: int) -> None:
        self.n = np.zeros(n_channels)
        self.shift = np.full(n_channels, np.nan)
        self.s1 = np.zeros(n_channels)
        self.s2 = np.zeros(n_channels)
        self.lo = np.full(n_channels, np.inf)
        self.hi = np.full(n_channels, -np.inf)

    def add(self, ch: np.ndarray, x: np.ndarray) -> None:
        """Add samples ``x`` (rows: channels ``ch``)."""
        first = np.isnan(self.shift[ch])
        self.shift[ch[first]] = x[first, 0]
        d = x - self.shift[ch][:, None]
        self.n[ch] += x.shape[1]
        self.s1[ch] += d.sum(axis=1)
        self.s2[ch] += (d * d).sum(axis=1)
        self.lo[ch] = np.minimum(self.lo[ch], x.min(axis=1, initial=np.inf))
        self.hi[ch] = np.maximum(self.hi[ch], x.max(axis=1, initial=-np.inf))

    def dead_or_flat(self, i: int, flat_uv: float) -> str | None:
        """Why channel ``i`` is dead or flat, or None."""
        if self.n[i] == 0:
            return "dead: no samples"
        sd = math.sqrt(max(0.0, self.s2[i] / self.n[i] - (self.s1[i] / self.n[i]) ** 2))
        if self.hi[i] - self.lo[i] == 0:
            return f"dead: constant {self.lo[i]:.1f} µV"
        if sd < flat_uv:
            return f"flat: SD {sd:.2f} µV < {flat_uv:g} µV"
        return None


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    """Trim or edge-pad ``x`` to length ``n``."""
    if x.size >= n:
        return x[:n]
    if x.size == 0:
        return np.zeros(n, dtype=np.float32)
    return np.concatenate([x, np.full(n - x.size, x[-1], dtype=x.dtype)])
