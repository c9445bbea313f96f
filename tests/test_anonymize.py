"""De-identification: patient and recording fields, annotation texts, start date kept or shifted,
signals bit-identical; on a written file and on every real EDF/BDF file."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hypsa.cli import app
from hypsa.errors import ParameterError
from hypsa.io import anonymize, read

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
REAL_EDF = sorted(p for p in REAL.rglob("*") if p.suffix.lower() in (".edf", ".bdf", ".rec")) \
    if REAL.is_dir() else []


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _identified(path: Path) -> Path:
    """An EDF+ file whose header and annotations name the patient, hospital and technician."""
    import edfio

    rng = np.random.default_rng(0)
    signals = [edfio.EdfSignal(rng.normal(0, 20, 256 * 8), 256, label=f"EEG {n}-REF",
                               physical_dimension="uV", physical_range=(-500, 500))
               for n in ("Fp1", "C3", "O1")]
    edf = edfio.Edf(
        signals,
        patient=edfio.Patient(code="MCH-0234567", sex="F", birthdate=dt.date(2023, 5, 2),
                              name="Doe_Jane"),
        recording=edfio.Recording(startdate=dt.date(2023, 11, 2),
                                  hospital_administration_code="ADM-99817",
                                  investigator_technician_code="Smithers",
                                  equipment_code="NeuroLab-7"),
        starttime=dt.time(9, 30, 5),
        annotations=[edfio.EdfAnnotation(1.0, None, "Jane awake, tech Smithers"),
                     edfio.EdfAnnotation(3.5, 0.5, "order ADM-99817 sleep")],
    )
    edf.write(path)
    return path


def _annotation_mask(rec, size: int) -> np.ndarray:  # noqa: ANN001
    """True on the bytes of the file that belong to annotation signals."""
    r = rec._reader
    mask = np.zeros(size, dtype=bool)
    sizes = [s.n_samples for s in r.signals]
    data_bytes = sum(sizes) * r.bps
    per_record = np.zeros(r.record_bytes, dtype=bool)
    if r.record_bytes > data_bytes:  # annotation signals are the samples no data signal holds
        covered = np.zeros(r.record_bytes, dtype=bool)
        for s in r.signals:
            covered[s.sample_offset * r.bps : (s.sample_offset + s.n_samples) * r.bps] = True
        per_record = ~covered
    n_rec = (size - r.header_bytes) // r.record_bytes
    mask[r.header_bytes : r.header_bytes + n_rec * r.record_bytes] = np.tile(per_record, n_rec)
    return mask


def test_recording_field_and_annotations_cleared(tmp_path: Path) -> None:
    src = _identified(tmp_path / "id.edf")
    orig = read(src)
    assert orig.header["admin_code"] == "ADM-99817" and orig.header["technician"] == "Smithers"
    before = _sha(src)
    out = anonymize(src, tmp_path / "anon.edf")
    assert _sha(src) == before
    raw = out.read_bytes()
    for secret in (b"Doe", b"Jane", b"MCH-0234567", b"02-MAY-2023", b"ADM-99817", b"Smithers",
                   b"NeuroLab"):
        assert secret.lower() not in raw.lower(), secret
    rec = read(out)
    assert rec.header["recording_info"] == "Startdate 02-NOV-2023 X X X"
    assert (rec.header["admin_code"], rec.header["technician"], rec.header["equipment"]) == (
        "X", "X", "X")
    assert rec.start_time == orig.start_time == dt.datetime(2023, 11, 2, 9, 30, 5)
    assert list(rec.annotations["onset"]) == list(orig.annotations["onset"])
    assert "awake" in rec.annotations["description"].iloc[0]
    np.testing.assert_array_equal(rec.get_data("all"), orig.get_data("all"))


@pytest.mark.parametrize("days", [-400, 17])
def test_start_date_shifted_on_request(tmp_path: Path, days: int) -> None:
    src = _identified(tmp_path / "id.edf")
    rec = read(anonymize(src, tmp_path / "s.edf", keep_age_months=True, shift_days=days))
    assert rec.start_time == dt.datetime(2023, 11, 2, 9, 30, 5) + dt.timedelta(days=days)
    new = (dt.date(2023, 11, 2) + dt.timedelta(days=days)).strftime("%d-%b-%Y").upper()
    assert rec.header["startdate"] == new
    assert rec.header["patient_field"] == "X X X age_6_months"  # age from the true dates


def test_shift_refusals(tmp_path: Path) -> None:
    src = _identified(tmp_path / "id.edf")
    with pytest.raises(ParameterError, match="1985-2084"):
        anonymize(src, tmp_path / "far.edf", shift_days=365 * 70)
    with pytest.raises(ParameterError, match="whole number"):
        anonymize(src, tmp_path / "half.edf", shift_days=1.5)  # type: ignore[arg-type]
    assert not (tmp_path / "far.edf").exists() and not (tmp_path / "half.edf").exists()


def test_cli_shift_days(tmp_path: Path) -> None:
    src = _identified(tmp_path / "id.edf")
    runner = CliRunner()
    res = runner.invoke(app, ["anonymize", str(src), str(tmp_path / "o.edf"), "--shift-days",
                              "-3"])
    assert res.exit_code == 0, res.output
    assert read(tmp_path / "o.edf").start_time == dt.datetime(2023, 10, 30, 9, 30, 5)
    res = runner.invoke(app, ["anonymize", str(src), str(tmp_path / "p.edf"), "--shift-days",
                              "40000"])
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1 and "1985-2084" in res.stderr


@pytest.mark.real
@pytest.mark.parametrize("path", REAL_EDF, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_real_edf(path: Path, tmp_path: Path) -> None:
    before = _sha(path)
    orig = read(path, require_eeg=False)
    out = anonymize(path, tmp_path / f"anon{path.suffix}")
    assert _sha(path) == before
    rec = read(out, require_eeg=False)
    hdr = rec.header
    assert hdr["patient_field"] == "X X X X"
    assert (hdr["admin_code"], hdr["technician"], hdr["equipment"]) == ("X", "X", "X")
    assert hdr.get("startdate", "X") in (orig.header.get("startdate"), "X")
    assert rec.start_time == orig.start_time
    for key in ("patient_id", "patient_name", "admin_code", "technician"):
        v = orig.header.get(key, "X")
        if len(v) >= 3 and v != "X":
            assert v.encode("latin-1", "replace") not in out.read_bytes()[:256], key
    # signals bit-identical: the only changed bytes are the two header fields (8-168) and the
    # annotation signals
    a = np.frombuffer(path.read_bytes(), np.uint8)
    b = np.frombuffer(out.read_bytes(), np.uint8)
    assert a.size == b.size
    changed = np.flatnonzero(a != b)
    allowed = _annotation_mask(orig, a.size)
    allowed[8:168] = True
    assert allowed[changed].all()
    np.testing.assert_array_equal(rec.annotations["onset"], orig.annotations["onset"])


@pytest.mark.real
def test_real_edf_files_found(real_dir: Path) -> None:
    assert len(REAL_EDF) >= 100  # every EDF/BDF of the real folder is tested above
