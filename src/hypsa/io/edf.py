"""hypsa's own EDF/EDF+/BDF/BDF+ reader: positioned reads of whole data records, never the
whole file; EDF+D (discontinuous) files keep their gaps as separate segments, which edfio and MNE
do not (they read EDF+D as continuous)."""

from __future__ import annotations

import datetime as _dt
import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hypsa.channels import normalize_label
from hypsa.errors import CorruptFileError, NoEEGChannelsError, UnsupportedFormatError
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

__all__ = ["EDF_EXTENSIONS", "read_edf"]

#: Extensions read by hypsa's own EDF/BDF reader.
EDF_EXTENSIONS = (".edf", ".bdf", ".rec")
_ANNOT_LABELS = ("EDF Annotations", "BDF Annotations")


@dataclass
class _SegMap:
    """Where a segment lives in the file (records) for the EDF reader."""

    first_record: int
    n_records: int



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


@dataclass
class _MainHeader:
    """The fixed 256-byte part of an EDF/BDF header."""

    bdf: bool
    ns: int
    header_bytes: int
    n_records: int
    rec_dur: float
    reserved: str
    patient: str
    recording: str
    date: str
    time: str

    @property
    def format(self) -> str:
        discontinuous = self.reserved.startswith(("EDF+D", "BDF+D"))
        if self.bdf:
            return "BDF+D" if discontinuous else ("BDF+" if self.reserved.startswith("BDF+")
                                                  else "BDF")
        return "EDF+D" if discontinuous else ("EDF+C" if self.reserved.startswith("EDF+")
                                              else "EDF")

    @property
    def discontinuous(self) -> bool:
        return self.format.endswith("+D")


@dataclass
class _SignalHeader:
    """The per-signal part of the header, one list entry per signal."""

    labels: list[str]
    units: list[str]
    pmin: list[float]
    pmax: list[float]
    dmin: list[int]
    dmax: list[int]
    nsamp: list[int]


def _read_main_header(path: Path, f: Any, size: int) -> _MainHeader:
    main = f.read(256)
    if len(main) < 8 or (main[:8] != b"0       " and main[:8] != b"\xffBIOSEMI"):
        raise UnsupportedFormatError(
            path,
            "not an EDF/BDF file: the header does not start with '0' (EDF) or "
            "'\\xffBIOSEMI' (BDF)",
        )
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
    text = main.decode("latin-1")
    return _MainHeader(
        bdf=main[:1] == b"\xff", ns=ns, header_bytes=header_bytes, n_records=n_records,
        rec_dur=rec_dur, reserved=text[192:236].strip(), patient=text[8:88].strip(),
        recording=text[88:168].strip(), date=text[168:176], time=text[176:184],
    )  # fmt: skip


def _read_signal_header(path: Path, f: Any, mh: _MainHeader) -> _SignalHeader:
    ns = mh.ns
    sh = f.read(256 * ns)
    if len(sh) < 256 * ns:
        raise CorruptFileError(path, "truncated signal header")

    def col(off: int, width: int) -> list[bytes]:
        base = off * ns
        return [sh[base + i * width : base + (i + 1) * width] for i in range(ns)]

    def nums(off: int, what: str, kind: type = float) -> list[Any]:
        return [_num(path, b, f"'{what}' of signal {i + 1}", kind)
                for i, b in enumerate(col(off, 8))]  # fmt: skip

    hdr = _SignalHeader(
        labels=[b.decode("latin-1").strip() for b in col(0, 16)],
        units=[b.decode("latin-1").strip() for b in col(96, 8)],
        pmin=nums(104, "physical minimum"),
        pmax=nums(112, "physical maximum"),
        dmin=nums(120, "digital minimum", int),
        dmax=nums(128, "digital maximum", int),
        nsamp=nums(216, "samples per record", int),
    )
    for i in range(ns):
        lab = hdr.labels[i]
        if hdr.nsamp[i] < 1:
            raise CorruptFileError(
                path, f"signal {i + 1} ({lab!r}) has {hdr.nsamp[i]} samples per record"
            )
        if hdr.dmin[i] >= hdr.dmax[i]:
            raise CorruptFileError(
                path,
                f"signal {i + 1} ({lab!r}): digital minimum {hdr.dmin[i]} is not below "
                f"digital maximum {hdr.dmax[i]}",
            )
        if hdr.nsamp[i] / mh.rec_dur > _MAX_RATE_HZ:
            raise CorruptFileError(
                path, f"signal {i + 1} ({lab!r}): implausible rate {hdr.nsamp[i] / mh.rec_dur:g} Hz"
            )
    return hdr


def _count_records(path: Path, size: int, mh: _MainHeader, record_bytes: int) -> int:
    """The number of data records, checked against the file size (``-1``: recording in
    progress, counted from the size)."""
    n_records = mh.n_records
    data_bytes = size - mh.header_bytes
    n_full, rem = divmod(data_bytes, record_bytes)
    if n_records == -1:
        if n_full < 1:
            raise CorruptFileError(path, "recording in progress (-1 records) holds no full record")
        return n_full
    if n_records < 1:
        raise CorruptFileError(path, f"header declares {n_records} data records")
    if data_bytes < n_records * record_bytes:
        partial = " and a partial one" if rem else ""
        raise CorruptFileError(
            path,
            f"truncated: the header declares {n_records} data records of {record_bytes} bytes but "
            f"the file holds {n_full} complete record(s){partial}",
        )
    if n_full > n_records:
        raise CorruptFileError(
            path,
            f"header declares {n_records} data records but the file holds {n_full}: "
            "the record count in the header is wrong",
        )
    return n_records


def _data_signals(path: Path, sh: _SignalHeader, annot_idx: list[int], offsets: np.ndarray,
                  rec_dur: float, require_eeg: bool) -> tuple[list[_EDFSignal], list[ChannelInfo]]:
    """The signals that are not annotations: scaling to µV, normalised names and kinds."""
    signals: list[_EDFSignal] = []
    names: list[str] = []
    kinds: list[str] = []
    for i, label in enumerate(sh.labels):
        if i in annot_idx:
            continue
        name, kind = normalize_label(label)
        pmin, pmax = sh.pmin[i], sh.pmax[i]
        if pmax == pmin:
            raise CorruptFileError(
                path, f"signal {i + 1} ({label!r}): physical minimum equals maximum"
            )
        if max(abs(pmin), abs(pmax)) > 1e20:
            raise CorruptFileError(path, f"signal {i + 1} ({label!r}): implausible physical range")
        unit_factor = _UNIT_TO_UV.get(sh.units[i].lower())
        if unit_factor is None:
            unit_factor = 1.0  # non-voltage unit (%, G, sec ...) or blank: keep physical values
        gain = (pmax - pmin) / (sh.dmax[i] - sh.dmin[i])
        offset = pmin - gain * sh.dmin[i]
        signals.append(
            _EDFSignal(
                label, sh.units[i], sh.nsamp[i], int(offsets[i]), gain * unit_factor,
                offset * unit_factor,
            )
        )  # fmt: skip
        names.append(name)
        kinds.append(kind)
    names = _unique_names(names)
    channels = [
        ChannelInfo(name, sig.label, kind, sig.n_samples / rec_dur)
        for sig, name, kind in zip(signals, names, kinds, strict=True)
    ]
    if require_eeg and not any(k == "eeg" for k in kinds):
        shown = ", ".join(repr(s.label) for s in signals[:6]) or "none"
        raise NoEEGChannelsError(
            path,
            f"no EEG channel among {len(signals)} signal(s) ({shown}); "
            "expected 10-20 labels such as Fp1, C3, O2",
        )
    return signals, channels


def _segments(path: Path, rec_onsets: np.ndarray, rec_dur: float,
              split: bool) -> tuple[list[_SegMap], list[Segment]]:
    """Runs of contiguous data records; with ``split`` (EDF+D), a new segment wherever a
    record starts later than the previous one ends."""
    n_records = len(rec_onsets)
    if not split:
        return [_SegMap(0, n_records)], [Segment(0.0, n_records * rec_dur)]
    segmaps: list[_SegMap] = []
    segments: list[Segment] = []
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
    return segmaps, segments


def read_edf(path: Path, size: int, require_eeg: bool = True) -> Recording:
    """Open an EDF/EDF+/BDF/BDF+ file: header, channels, segments; signals stay on disk.

    Parameters
    ----------
    path : Path
        The file.
    size : int
        Its size in bytes.
    require_eeg : bool
        Raise :class:`NoEEGChannelsError` when no signal is a 10-20 EEG electrode.

    Returns
    -------
    Recording
        Annotations of a continuous file are parsed when first used; those of an EDF+D file
        at once (their record times place the segments).
    """
    with open(path, "rb") as f:
        mh = _read_main_header(path, f, size)
        sh = _read_signal_header(path, f, mh)
    bps = 3 if mh.bdf else 2
    record_samples = sum(sh.nsamp)
    record_bytes = record_samples * bps
    n_records = _count_records(path, size, mh, record_bytes)
    annot_idx = [i for i, lab in enumerate(sh.labels) if lab in _ANNOT_LABELS]
    offsets = np.concatenate([[0], np.cumsum(sh.nsamp)]).astype(int)
    signals, channels = _data_signals(path, sh, annot_idx, offsets, mh.rec_dur, require_eeg)

    # the record start times matter only for EDF+D (gaps); a continuous file's annotations are
    # parsed when first used
    rec_onsets = np.arange(n_records, dtype=np.float64) * mh.rec_dur
    args = (path, mh.header_bytes, n_records, record_bytes, tuple(annot_idx),
            tuple(int(offsets[i]) for i in annot_idx), bps,
            tuple(int(sh.nsamp[i]) for i in annot_idx))  # fmt: skip
    annotations: pd.DataFrame | Callable[[], pd.DataFrame]
    if mh.discontinuous:
        annotations = _as_annotations(_edf_annotation_rows(*args, rec_onsets=rec_onsets))
    else:
        annotations = functools.partial(_edf_annotations, *args)
    segmaps, segments = _segments(path, rec_onsets, mh.rec_dur,
                                  split=mh.discontinuous and bool(annot_idx))

    recording = _parse_recording(mh.recording)
    header = {**_parse_patient(mh.patient), **recording, "reserved": mh.reserved}
    return Recording(
        path=path,
        channels=channels,
        start_time=_parse_start(mh.date, mh.time, recording),
        annotations=annotations,
        header=header,
        segments=segments,
        format=mh.format,
        reader=_EDFReader(path, mh.header_bytes, record_samples, bps, signals, segmaps),
    )
