"""De-identified copies of EDF/EDF+/BDF/BDF+ files (signals bit-identical).

What identifies a patient in an EDF header is cleared: the patient field (code, sex, birth date,
name), the recording field's hospital administration code, technician and equipment, and any
patient name, code, birth date, administration code or technician written in annotation texts.
The start date is kept, or shifted by a whole number of days on request; onsets are relative to
the start, so every event keeps its place in the recording.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import re
import shutil
from pathlib import Path
from typing import BinaryIO

import numpy as np

from hypsa.errors import CorruptFileError, FileAccessError, ParameterError, UnsupportedFormatError
from hypsa.io.dispatch import _check_path, _extension, read
from hypsa.io.edf import _ANNOT_LABELS, EDF_EXTENSIONS, _EDFReader, _parse_edfplus_date
from hypsa.io.recording import Recording

__all__ = ["anonymize"]

_MONTH_NAMES = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
#: Header fields that must read "X" (or be absent) in a de-identified copy.
_CLEARED = ("patient_id", "birthdate", "admin_code", "technician", "equipment")


def _age_months(birth: _dt.date, at: _dt.date) -> int:
    return (at.year - birth.year) * 12 + (at.month - birth.month) - (at.day < birth.day)


def _secrets(header: dict[str, str]) -> list[str]:
    """Texts to remove from annotations: patient name (and its parts), code, birth date,
    administration code and technician; three characters or more, longest first."""
    out: set[str] = set()
    for key in ("patient_name", "patient_id", "birthdate", "admin_code", "technician"):
        v = header.get(key, "").strip()
        if not v or v == "X":
            continue
        out.add(v)
        if key in ("patient_name", "technician"):
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


def _edfplus_date(d: _dt.date) -> str:
    return f"{d.day:02d}-{_MONTH_NAMES[d.month - 1]}-{d.year:04d}"


def _patient_field(rec: Recording, keep_age_months: bool) -> str:
    """``X X X X``, or ``X X X age_N_months`` (age at the start of the recording)."""
    if keep_age_months:
        birth = _parse_edfplus_date(rec.header.get("birthdate", ""))
        at = _parse_edfplus_date(rec.header.get("startdate", "")) or (
            rec.start_time.date() if rec.start_time else None
        )
        if birth is not None and at is not None and at >= birth:
            return f"X X X age_{_age_months(birth, at)}_months"
    return "X X X X"


def _start_fields(p: Path, rec: Recording, shift_days: int) -> tuple[str, str | None]:
    """The EDF+ recording field (``Startdate <date> X X X``) and, when shifted, the new
    ``dd.mm.yy`` start date of the header (None: unchanged)."""
    plus = _parse_edfplus_date(rec.header.get("startdate", ""))
    if not shift_days:
        return f"Startdate {_edfplus_date(plus) if plus else 'X'} X X X", None
    if rec.start_time is None:
        raise CorruptFileError(p, "cannot shift the start date: the header's date is unreadable")
    try:
        start = rec.start_time + _dt.timedelta(days=shift_days)
    except OverflowError as exc:
        raise ParameterError(f"shift of {shift_days} days leaves the calendar") from exc
    if not 1985 <= start.year <= 2084:
        raise ParameterError(
            f"shift of {shift_days} days puts the start in {start.year}; an EDF header holds "
            "years 1985-2084"
        )
    return (f"Startdate {_edfplus_date(start.date())} X X X",
            start.strftime("%d.%m.") + f"{start.year % 100:02d}")  # fmt: skip


def _scrub_annotations(f: BinaryIO, src: Path, reader: _EDFReader,
                       patterns: list[re.Pattern[bytes]]) -> None:
    """Rewrite, in the open copy ``f``, the annotation texts that hold a secret."""
    with open(src, "rb") as g:
        g.seek(184)
        ns = int(g.read(256)[252 - 184 : 256 - 184].decode("latin-1").strip())
        g.seek(256)
        sh = g.read(256 * ns)
    labels = [sh[i * 16 : (i + 1) * 16].decode("latin-1").strip() for i in range(ns)]
    nsamp = [int(sh[216 * ns + i * 8 : 216 * ns + (i + 1) * 8]) for i in range(ns)]
    annot = [i for i, lab in enumerate(labels) if lab in _ANNOT_LABELS]
    if not annot or not patterns:
        return
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
                    f.seek(reader.header_bytes + (r0 + r) * rb + int(offs[ai]) * reader.bps)
                    f.write(new)


def _leaks(out: Path, secrets: list[str]) -> list[str]:
    """What of the patient is still in the copy (empty when nothing is)."""
    check = read(out, require_eeg=False)
    hdr = check.header
    leaks = [k for k in _CLEARED if hdr.get(k, "X") not in ("X", "")]
    if hdr.get("patient_name", "X") not in ("X", "") and not hdr["patient_name"].startswith("age_"):
        leaks.append("patient_name")
    texts = " ".join(check.annotations["description"]).lower() + " " + hdr.get(
        "recording_info", "").lower()
    return leaks + [s for s in secrets if s.lower() in texts]


def anonymize(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    keep_age_months: bool = False,
    shift_days: int = 0,
) -> Path:
    """Write a de-identified copy of an EDF/EDF+/BDF/BDF+ file; signals stay bit-identical.

    The one function for de-identification, used by ``hypsa anonymize`` and by the web app on
    upload. In the copy:

    - the 80-character patient field becomes ``X X X X`` (EDF+ for "unknown"), or
      ``X X X age_N_months`` with ``keep_age_months`` (age from birth date and start date);
    - the 80-character recording field becomes ``Startdate dd-MMM-yyyy X X X``: the hospital
      administration code, technician and equipment are cleared, the start date is kept
      (``X`` where the file had none);
    - with ``shift_days``, the start date (recording field and the header's ``dd.mm.yy``) moves
      by that many days; the start time of day and every onset (relative to the start) stay;
    - patient name (and its parts), patient code, birth date, administration code and
      technician are replaced by ``X`` characters, same length, where they appear in annotation
      texts (onsets untouched).

    The input is never written: the copy is made beside ``dst``, re-read to check that nothing
    of the above is left, and only then moved into place.

    Parameters
    ----------
    src : str or Path
        The EDF/BDF file.
    dst : str or Path
        Where to write the copy (must differ from ``src``).
    keep_age_months : bool
        Keep the age at recording, in months, in the name subfield.
    shift_days : int
        Days added to the start date (negative: earlier); 0 keeps it.

    Returns
    -------
    Path
        ``dst``.

    Raises
    ------
    UnsupportedFormatError
        Not an EDF/BDF file.
    ParameterError
        ``dst`` is ``src`` or a directory; a shift that leaves the years an EDF header holds
        (1985-2084).
    CorruptFileError
        The input cannot be read, or the check of the copy found a field not cleared (the copy
        is then removed).
    FileAccessError
        The copy cannot be written.
    """
    p = _check_path(src)
    if _extension(p) not in EDF_EXTENSIONS:
        raise UnsupportedFormatError(p, "anonymize handles only EDF/EDF+/BDF/BDF+ files")
    out = Path(dst)
    if out.exists() and (out.is_dir() or os.path.samefile(p, out)):
        raise ParameterError(f"output {out} must be a new file, not the input or a directory")
    if out.resolve() == p.resolve():
        raise ParameterError(f"output {out} is the input file")
    if isinstance(shift_days, bool) or not isinstance(shift_days, int | np.integer):
        raise ParameterError(f"shift_days must be a whole number of days, got {shift_days!r}")
    rec = read(p, require_eeg=False)
    if not isinstance(rec._reader, _EDFReader):  # pragma: no cover - guarded above
        raise UnsupportedFormatError(p, "anonymize handles only EDF/BDF files")
    patient = _patient_field(rec, keep_age_months)
    recording_field, start_date = _start_fields(p, rec, int(shift_days))
    secrets = _secrets(rec.header)
    patterns = [re.compile(re.escape(s.encode("utf-8")), re.IGNORECASE) for s in secrets]
    patterns += [
        re.compile(re.escape(s.encode("latin-1", errors="ignore")), re.IGNORECASE)
        for s in secrets
        if s.encode("latin-1", errors="ignore") != s.encode("utf-8")
    ]
    tmp = out.with_name(out.name + ".hypsa-tmp")
    try:
        shutil.copyfile(p, tmp)
        os.chmod(tmp, 0o644)
        with open(tmp, "r+b") as f:
            f.seek(8)
            f.write(patient.ljust(80)[:80].encode("ascii"))
            f.write(recording_field.ljust(80)[:80].encode("ascii"))
            if start_date is not None:
                f.seek(168)
                f.write(start_date.encode("ascii"))
            _scrub_annotations(f, p, rec._reader, patterns)
        os.replace(tmp, out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise FileAccessError(exc.filename or out, f"cannot write: {exc.strerror or exc}") from exc
    leaks = _leaks(out, secrets)
    if leaks:
        with contextlib.suppress(OSError):
            out.unlink()
        raise CorruptFileError(p, f"anonymization could not remove {', '.join(leaks)}")
    return out
