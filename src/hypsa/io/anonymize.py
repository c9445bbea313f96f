"""De-identified copies of EDF/EDF+/BDF/BDF+ files (signals bit-identical)."""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import re
import shutil
from pathlib import Path

import numpy as np

from hypsa.errors import CorruptFileError, FileAccessError, ParameterError, UnsupportedFormatError
from hypsa.io.dispatch import _check_path, _extension, read
from hypsa.io.edf import _ANNOT_LABELS, EDF_EXTENSIONS, _EDFReader, _parse_edfplus_date

__all__ = ["anonymize"]


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
