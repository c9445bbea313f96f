"""Reading recordings: real files, EDF+D gaps, mixed rates, streaming, anonymize."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hypsa.cli import app
from hypsa.errors import (
    BadSignalError,
    NoEEGChannelsError,
    ParameterError,
    UnsupportedFormatError,
)
from hypsa.io import Recording, Segment, anonymize, read

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
REAL_FILES = (
    sorted(p for p in REAL.rglob("*") if p.suffix.lower() in (".edf", ".bdf"))
    if REAL.is_dir()
    else []
)
CANON = {"Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz", "C4", "T8", "P7", "P3",
         "Pz", "P4", "P8", "O1", "O2"}  # fmt: skip
NO_EEG = {"test_utf8_annotations.edf"}  # a test-generator file: sine, ramp, ECG ... no EEG
MNE_WRONG_ANNOT = {"nihon_kohden_MB0400FU_export.edf": 2}  # MNE splits TALs lacking NULs


# --------------------------------------------------------------------------------------------
# a minimal EDF/EDF+ writer (raw bytes), for files no library writes (EDF+D with gaps)
# --------------------------------------------------------------------------------------------
def build_edf(
    path: Path,
    labels: list[str],
    data: list[np.ndarray],  # per signal, digital int16 values, length n_records * spr
    spr: list[int],
    n_records: int,
    rec_dur: float = 1.0,
    reserved: str = "",
    patient: str = "X X X X",
    recording: str = "Startdate 02-NOV-2023 X X X",
    record_onsets: list[float] | None = None,
    annotations: dict[int, list[tuple[float, str]]] | None = None,
    annot_bytes: int = 120,
) -> Path:
    """Write an EDF; with ``record_onsets`` or ``annotations`` an 'EDF Annotations' signal."""
    plus = record_onsets is not None or annotations is not None
    labs = list(labels) + (["EDF Annotations"] if plus else [])
    ns = len(labs)
    samples = list(spr) + ([annot_bytes // 2] if plus else [])

    def f(vals: list[str], w: int) -> bytes:
        return b"".join(v.encode("utf-8").ljust(w)[:w] for v in vals)

    hdr = (
        b"0       "
        + patient.encode().ljust(80)
        + recording.encode().ljust(80)
        + b"02.11.2310.00.00"
        + str(256 * (ns + 1)).encode().ljust(8)
        + reserved.encode().ljust(44)
        + str(n_records).encode().ljust(8)
        + f"{rec_dur:g}".encode().ljust(8)
        + str(ns).encode().ljust(4)
    )
    hdr += f(labs, 16) + f([""] * ns, 80)
    hdr += f(["uV" if i < len(labels) else "" for i in range(ns)], 8)
    hdr += f(["-3276.8" if i < len(labels) else "-1" for i in range(ns)], 8)
    hdr += f(["3276.7" if i < len(labels) else "1" for i in range(ns)], 8)
    hdr += f(["-32768"] * ns, 8) + f(["32767"] * ns, 8) + f([""] * ns, 80)
    hdr += f([str(s) for s in samples], 8) + f([""] * ns, 32)
    body = bytearray()
    for r in range(n_records):
        for i in range(len(labels)):
            body += np.asarray(data[i][r * spr[i] : (r + 1) * spr[i]], dtype="<i2").tobytes()
        if plus:
            onset = record_onsets[r] if record_onsets is not None else r * rec_dur
            tal = f"+{onset:g}\x14\x14\x00".encode()
            for a_on, text in (annotations or {}).get(r, []):
                tal += f"+{a_on:g}\x14{text}\x14\x00".encode()
            assert len(tal) <= annot_bytes
            body += tal.ljust(annot_bytes, b"\x00")
    path.write_bytes(hdr + bytes(body))
    return path


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------
# real files
# --------------------------------------------------------------------------------------------
def _mne_raw(p: Path):  # noqa: ANN202
    import mne

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mne.io.read_raw(p, preload=False, verbose="error")


@pytest.mark.real
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_real_file_reads(path: Path) -> None:
    if path.name in NO_EEG:
        with pytest.raises(NoEEGChannelsError):
            read(path)
        rec = read(path, require_eeg=False)
    else:
        rec = read(path)
        assert rec.eeg_names
        assert set(rec.eeg_names) & CANON
    for c in rec.channels:
        assert not re.search(r"EEG |-REF|-Ref", c.name), c
    assert len(set(rec.ch_names)) == len(rec.ch_names)
    raw = _mne_raw(path)
    # durations and sample counts agree with MNE (which reads EDF+D as continuous)
    assert rec.recorded_s == pytest.approx(raw.n_times / raw.info["sfreq"], abs=1e-9)
    types = raw.get_channel_types()
    main = [
        i
        for i, c in enumerate(rec.channels)
        if c.sfreq == raw.info["sfreq"] and types[i] != "stim" and c.kind != "misc"
    ]
    n = min(raw.n_times, int(2 * raw.info["sfreq"]))
    ours = rec.get_data([rec.channels[i].name for i in main], 0, n / raw.info["sfreq"])
    theirs = raw.get_data(picks=main, start=0, stop=n)
    units = [raw.info["chs"][i]["unit"] for i in main]
    scale = np.array([1e6 if u == 107 else 1.0 for u in units])[:, None]  # FIFF_UNIT_V
    np.testing.assert_allclose(ours, theirs * scale, rtol=1e-5, atol=1e-2)
    expected = MNE_WRONG_ANNOT.get(path.name, len(raw.annotations))
    assert len(rec.annotations) == expected
    if path.name not in MNE_WRONG_ANNOT:
        np.testing.assert_allclose(
            rec.annotations["onset"], np.sort(raw.annotations.onset), atol=1e-6
        )


@pytest.mark.real
def test_not_eeg_files_in_real_folder(real_dir: Path) -> None:
    for p in list(real_dir.rglob("*.mat")) + list(real_dir.rglob("*.hdf5")):
        with pytest.raises(UnsupportedFormatError):
            read(p)


@pytest.mark.real
def test_utf8_annotations(real_dir: Path) -> None:
    rec = read(real_dir / "clinical_formats" / "test_utf8_annotations.edf", require_eeg=False)
    assert list(rec.annotations["description"]) == ["RECORD START", "仰卧"]


@pytest.mark.real
def test_neonatal_nonstandard_header_and_flat_cz(real_dir: Path) -> None:
    rec = read(real_dir / "neonatal" / "neonatal_burst_suppression_19ch_256hz.edf")
    assert rec.format == "EDF+C"
    assert rec.duration_s == 211.0 and rec.sfreq == 256.0
    assert sorted(rec.eeg_names) == sorted(CANON)
    assert {c.name: c.kind for c in rec.channels}["EKG"] == "ecg"
    assert {c.name: c.kind for c in rec.channels}["Effort"] == "resp"
    flat = rec.check_signals()
    assert list(flat) == ["Cz"]
    assert flat["Cz"].startswith("flat")


def _record_onsets(path: Path) -> list[float]:
    """Timekeeping TAL of each record, parsed independently of hypsa."""
    b = path.read_bytes()
    ns, hb, nrec = int(b[252:256]), int(b[184:192]), int(b[236:244])
    labels = [b[256 + i * 16 : 256 + (i + 1) * 16].strip() for i in range(ns)]
    spr = [int(b[256 + 216 * ns + i * 8 : 256 + 216 * ns + (i + 1) * 8]) for i in range(ns)]
    ai = labels.index(b"EDF Annotations")
    rec_bytes, off = 2 * sum(spr), 2 * sum(spr[:ai])
    out = []
    for r in range(nrec):
        chunk = b[hb + r * rec_bytes + off : hb + r * rec_bytes + off + 2 * spr[ai]]
        out.append(float(re.match(rb"([+-][0-9.]+)\x14\x14", chunk).group(1)))
    return out


@pytest.mark.real
def test_nihon_kohden_edfplusd_segments_match_record_times(real_dir: Path) -> None:
    path = real_dir / "clinical_formats" / "nihon_kohden_MB0400FU_export.edf"
    rec = read(path)
    assert rec.format == "EDF+D"
    onsets = _record_onsets(path)
    # expected segments from the record timestamps (records are 1 s long)
    expected, start = [], 0
    for r in range(1, len(onsets) + 1):
        if r == len(onsets) or abs(onsets[r] - onsets[r - 1] - 1.0) > 1e-3:
            expected.append(Segment(onsets[start], float(r - start)))
            start = r
    assert rec.segments == expected
    assert list(rec.annotations["description"]) == ["Segment: REC START ALLE EEG", "A1+A2 OFF"]
    np.testing.assert_allclose(rec.annotations["onset"], [0.0, 1.14])


@pytest.mark.real
def test_mixed_rates_test_reduced(real_dir: Path) -> None:
    rec = read(real_dir / "clinical_formats" / "test_reduced.edf")
    rates = {c.name: c.sfreq for c in rec.channels}
    assert len(set(rates.values())) >= 5
    assert rates["A1"] == 1.0 and rates["A5"] == 16.0 and rec.sfreq == 512.0
    x = rec.get_data(["A1", "A5", "A9", "B1"], 0, 6)
    assert x.shape == (4, 6 * 512) and np.isfinite(x).all()  # tie: highest rate among picks
    y = rec.get_data(["A5", "A9"], 1, 5, sfreq=64)
    assert y.shape == (2, 4 * 64)
    native = rec.get_data(["A9"], 1, 5)
    assert native.shape == (1, 4 * 256)


@pytest.mark.real
def test_streaming_equals_full_read(real_dir: Path) -> None:
    rec = read(real_dir / "neonatal" / "neonatal_burst_suppression_19ch_256hz.edf")
    full = rec.get_data("all")
    assert full.shape == (21, 211 * 256) and full.dtype == np.float32
    part = rec.get_data("all", 13.37, 77.1)
    a = round(13.37 * 256)
    np.testing.assert_array_equal(part, full[:, a : a + part.shape[1]])
    cores = [w.core for w in rec.iter_windows(30.0, picks="all")]
    np.testing.assert_array_equal(np.concatenate(cores, axis=1), full)
    for w in rec.iter_windows(30.0, step_s=20.0, pad_s=2.0):
        a = round((w.onset_s) * 256) - w.pad_before
        np.testing.assert_array_equal(w.data, full[:19, a : a + w.data.shape[1]])


# --------------------------------------------------------------------------------------------
# synthetic files
# --------------------------------------------------------------------------------------------
def _sine_digital(n: int, fs: float, f: float, amp: float = 1000.0) -> np.ndarray:
    return np.round(amp * np.sin(2 * np.pi * f * np.arange(n) / fs)).astype(np.int16)


def test_edfplus_d_gaps(tmp_path: Path) -> None:
    fs, n_rec = 64, 10
    onsets = [0, 1, 2, 10, 11, 12, 13, 30.5, 31.5, 32.5]
    labels = ["EEG Fp1-REF", "EEG T3-REF", "ECG"]
    data = [_sine_digital(fs * n_rec, fs, f) for f in (3.0, 5.0, 1.0)]
    p = build_edf(
        tmp_path / "d.edf", labels, data, [fs] * 3, n_rec, reserved="EDF+D",
        record_onsets=onsets, annotations={3: [(10.5, "spasm")], 8: [(32.0, "cry")]},
    )  # fmt: skip
    rec = read(p)
    assert rec.format == "EDF+D"
    assert rec.segments == [Segment(0.0, 3.0), Segment(10.0, 4.0), Segment(30.5, 3.0)]
    assert rec.duration_s == 33.5 and rec.recorded_s == 10.0
    assert list(rec.annotations.itertuples(index=False, name=None)) == [
        (10.5, 0.0, "spasm"),
        (32.0, 0.0, "cry"),
    ]
    assert rec.eeg_names == ["Fp1", "T7"]
    x = rec.get_data("eeg", 10.0, 14.0)
    np.testing.assert_allclose(x[0], data[0][3 * fs : 7 * fs] * 0.1, atol=1e-3)
    with pytest.raises(ParameterError):
        rec.get_data("eeg", 2.0, 11.0)  # crosses a gap
    with pytest.raises(ParameterError):
        rec.get_data("eeg", 5.0, 6.0)  # inside a gap
    wins = list(rec.iter_windows(2.0, step_s=1.0, pad_s=0.5))
    for w in wins:
        seg = rec.segments[w.segment]
        start = w.onset_s - w.pad_before / w.sfreq
        end = start + w.data.shape[1] / w.sfreq
        assert seg.onset_s - 1e-9 <= start and end <= seg.end_s + 1e-9
        assert w.duration_s >= 1.0
    assert {w.segment for w in wins} == {0, 1, 2}
    assert [w.onset_s for w in wins if w.segment == 2] == [30.5, 31.5]
    raw = rec.to_mne()
    assert "BAD_ACQ_SKIP" in raw.annotations.description
    assert raw.n_times == int(33.5 * fs)
    out = CliRunner().invoke(app, ["info", str(p), "--json"])
    assert out.exit_code == 0, out.output
    info = json.loads(out.stdout)
    assert len(info["segments"]) == 3 and len(info["gaps"]) == 2


def test_mixed_rates_resample(tmp_path: Path) -> None:
    n_rec = 8
    labels = ["Fp1", "Cz", "O2"]
    spr = [256, 128, 256]
    data = [_sine_digital(s * n_rec, s, 4.0) for s in spr]
    rec = read(build_edf(tmp_path / "m.edf", labels, data, spr, n_rec))
    assert [c.sfreq for c in rec.channels] == [256.0, 128.0, 256.0]
    x = rec.get_data()
    assert x.shape == (3, 8 * 256)
    np.testing.assert_allclose(x[1, 64:-64], x[0, 64:-64], atol=1.0)  # ~100 µV sine
    y = rec.get_data(sfreq=128)
    np.testing.assert_allclose(y[1], data[1] * 0.1, atol=1e-3)
    # a window read at 256 Hz from the middle equals the full read
    np.testing.assert_allclose(rec.get_data(start_s=2, stop_s=5)[1], x[1, 512:1280], atol=0.5)


def test_edfio_roundtrip(tmp_path: Path) -> None:
    import edfio

    rng = np.random.default_rng(1)
    fs, n = 200, 200 * 12
    names = ["EEG Fp1-Ref", "EEG Cz-Ref", "EEG T4-Ref", "ECG EKG"]
    sig = rng.normal(0, 50, size=(4, n))
    edf = edfio.Edf(
        [
            edfio.EdfSignal(s, fs, label=lab, physical_dimension="uV", physical_range=(-500, 500))
            for s, lab in zip(sig, names, strict=True)
        ],
        starttime=dt.time(10, 30, 0),
        recording=edfio.Recording(startdate=dt.date(2024, 3, 1)),
        annotations=[edfio.EdfAnnotation(1.5, 0.5, "spasm"), edfio.EdfAnnotation(7.0, None, "é")],
    )
    p = tmp_path / "rt.edf"
    edf.write(p)
    rec = read(p)
    assert rec.ch_names == ["Fp1", "Cz", "T8", "EKG"]
    assert [c.kind for c in rec.channels] == ["eeg", "eeg", "eeg", "ecg"]
    assert rec.start_time == dt.datetime(2024, 3, 1, 10, 30, 0)
    assert rec.duration_s == pytest.approx(12.0)
    q = 1000 / 65535
    np.testing.assert_allclose(rec.get_data("all"), np.clip(sig, -500, 500), atol=q)
    assert list(rec.annotations["description"]) == ["spasm", "é"]
    assert rec.annotations["duration"].iloc[0] == 0.5


def test_mv_and_v_units(tmp_path: Path) -> None:
    import edfio

    sig = np.linspace(-0.1, 0.1, 256 * 2)
    for unit, factor in (("mV", 1e3), ("V", 1e6), ("nV", 1e-3)):
        edf = edfio.Edf([edfio.EdfSignal(sig, 256, label="C3", physical_dimension=unit,
                                         physical_range=(-0.2, 0.2))])  # fmt: skip
        p = tmp_path / f"u{unit}.edf"
        edf.write(p)
        np.testing.assert_allclose(read(p).get_data()[0], sig * factor, atol=factor * 1e-5)


def test_bdf_read(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    data = rng.normal(0, 30e-6, size=(3, 512 * 4))
    p = tmp_path / "x.bdf"
    # write BDF by hand: 24-bit little-endian, 1 µV per digit
    dig = np.round(data * 1e6 * 10).astype(np.int32)  # 1 unit per digit, negative values too
    ns = 3
    hdr = b"\xffBIOSEMI" + b"X X X X".ljust(80) + b"Startdate X X X X".ljust(80)
    hdr += b"01.01.2410.00.00" + str(256 * (ns + 1)).encode().ljust(8) + b"BDF+C".ljust(44)
    hdr += b"4".ljust(8) + b"1".ljust(8) + b"3".ljust(4)
    hdr += b"".join(n.encode().ljust(16) for n in ["Fp1", "Fp2", "EMG"]) + b" " * 80 * ns
    hdr += b"uV".ljust(8) * ns + b"-8388608".ljust(8) * ns + b"8388607".ljust(8) * ns
    hdr += b"-8388608".ljust(8) * ns + b"8388607".ljust(8) * ns + b" " * 80 * ns
    hdr += b"512".ljust(8) * ns + b" " * 32 * ns
    body = bytearray()
    for r in range(4):
        for i in range(ns):
            v = dig[i, r * 512 : (r + 1) * 512].astype("<i4").view(np.uint8).reshape(-1, 4)
            body += v[:, :3].tobytes()
    p.write_bytes(hdr + bytes(body))
    rec = read(p)
    assert rec.format == "BDF+" and rec.ch_names == ["Fp1", "Fp2", "EMG"]
    np.testing.assert_allclose(rec.get_data("all"), dig, atol=1e-3)


def test_fif_through_mne(tmp_path: Path) -> None:
    import mne

    rng = np.random.default_rng(3)
    data = rng.normal(0, 20e-6, size=(3, 250 * 5))
    info = mne.create_info(["Fp1", "T3", "ECG"], 250, ["eeg", "eeg", "ecg"])
    raw = mne.io.RawArray(data, info, verbose="error")
    raw.set_annotations(mne.Annotations([1.0], [0.5], ["spasm"]))
    p = tmp_path / "x_raw.fif"
    raw.save(p, verbose="error")
    rec = read(p)
    assert rec.format == "FIF" and rec.ch_names == ["Fp1", "T7", "ECG"]
    np.testing.assert_allclose(rec.get_data("all"), data * 1e6, rtol=1e-5, atol=1e-4)
    assert list(rec.annotations["description"]) == ["spasm"]
    assert rec.annotations["onset"].iloc[0] == pytest.approx(1.0)


def test_from_array() -> None:
    rng = np.random.default_rng(4)
    data = rng.normal(0, 20, size=(4, 256 * 10))
    ann = pd.DataFrame({"onset": [2.0], "duration": [1.0], "description": ["spasm"]})
    rec = Recording.from_array(data, 256, ["EEG Fp1-REF", "T3", "Cz", "EMG"], annotations=ann)
    assert rec.ch_names == ["Fp1", "T7", "Cz", "EMG"] and rec.eeg_names == ["Fp1", "T7", "Cz"]
    assert rec.format == "array" and rec.duration_s == 10.0 and rec.path is None
    np.testing.assert_allclose(rec.get_data(), data[:3].astype(np.float32))
    np.testing.assert_allclose(rec.get_data(["EMG"], 1, 2), data[3:, 256:512].astype(np.float32))
    assert rec.get_data(sfreq=128).shape == (3, 1280)
    wins = list(rec.iter_windows(4.0, pad_s=1.0))
    assert [w.onset_s for w in wins] == [0.0, 4.0, 8.0]
    assert [(w.pad_before, w.pad_after) for w in wins] == [(0, 256), (256, 256), (256, 0)]
    assert wins[-1].duration_s == 2.0
    assert rec.check_signals() == {}
    raw = rec.to_mne("all")
    assert raw.get_channel_types() == ["eeg", "eeg", "eeg", "emg"]
    np.testing.assert_allclose(raw.get_data()[0] * 1e6, data[0], rtol=1e-5, atol=1e-3)
    with pytest.raises(ParameterError):
        Recording.from_array(data, 256, ["Fp1"])
    with pytest.raises(ParameterError):
        rec.get_data(["Oz"])
    with pytest.raises(ParameterError):
        list(rec.iter_windows(0))


def test_from_array_bad_signals() -> None:
    data = np.ones((3, 1000)) * 5.0
    data[0] = np.sin(np.arange(1000))
    rec = Recording.from_array(data, 100, ["Fp1", "Fp2", "Cz"])
    assert set(rec.check_signals()) == {"Fp2", "Cz"}
    with pytest.raises(BadSignalError):
        Recording.from_array(np.ones((3, 1000)), 100, ["Fp1", "Fp2", "Cz"]).check_signals()
    data[1, 500] = np.nan
    with pytest.raises(BadSignalError, match="Fp2.*NaN"):
        Recording.from_array(data, 100, ["Fp1", "Fp2", "Cz"]).check_signals()
    with pytest.raises(NoEEGChannelsError):
        Recording.from_array(data, 100, ["ECG", "EMG", "Resp"])


# --------------------------------------------------------------------------------------------
# anonymize
# --------------------------------------------------------------------------------------------
def _identified_edf(tmp_path: Path) -> Path:
    fs, n_rec = 32, 6
    data = [_sine_digital(fs * n_rec, fs, f) for f in (2.0, 3.0)]
    return build_edf(
        tmp_path / "patient.edf", ["Fp1", "Cz"], data, [fs, fs], n_rec, reserved="EDF+C",
        patient="MCH-0234567 F 02-MAY-2023 Doe_Jane",
        recording="Startdate 02-NOV-2023 MCH-0234567 tech eq",
        annotations={1: [(1.2, "Jane Doe awake")], 4: [(4.5, "id MCH-0234567 moved")]},
    )  # fmt: skip


def test_anonymize_roundtrip(tmp_path: Path) -> None:
    src = _identified_edf(tmp_path)
    before = _sha(src)
    orig = read(src)
    assert orig.header["patient_name"] == "Doe_Jane" and orig.header["birthdate"] == "02-MAY-2023"
    dst = anonymize(src, tmp_path / "anon.edf")
    assert _sha(src) == before
    rec = read(dst)
    text = dst.read_bytes()
    for secret in (b"Doe", b"Jane", b"MCH-0234567", b"02-MAY-2023"):
        assert secret.lower() not in text.lower()
    assert rec.header["patient_field"] == "X X X X"
    assert rec.header["patient_id"] == "X" and rec.header["birthdate"] == "X"
    assert len(rec.annotations) == 2
    assert "awake" in rec.annotations["description"].iloc[0]
    np.testing.assert_array_equal(rec.get_data("all"), orig.get_data("all"))
    # signal bytes bit-identical: only the header and annotation texts differ
    a, b = src.read_bytes(), dst.read_bytes()
    assert len(a) == len(b)
    diff = np.flatnonzero(np.frombuffer(a, np.uint8) != np.frombuffer(b, np.uint8))
    hb, rec_bytes = 256 * 4, (32 + 32 + 60) * 2
    in_data = diff[diff >= hb] - hb
    assert ((in_data % rec_bytes) >= 128).all()  # only inside the annotation signal


def test_anonymize_keep_age(tmp_path: Path) -> None:
    src = _identified_edf(tmp_path)
    rec = read(anonymize(src, tmp_path / "a.edf", keep_age_months=True))
    assert rec.header["patient_field"] == "X X X age_6_months"


def test_anonymize_refusals(tmp_path: Path) -> None:
    src = _identified_edf(tmp_path)
    with pytest.raises(ParameterError):
        anonymize(src, src)
    txt = tmp_path / "x.vhdr"
    txt.write_text("Brain Vision Data Exchange Header File Version 1.0\n")
    with pytest.raises(UnsupportedFormatError):
        anonymize(txt, tmp_path / "y.vhdr")


@pytest.mark.real
def test_anonymize_real_tuh(real_dir: Path, tmp_path: Path) -> None:
    src = real_dir / "tuh_adult" / "00009578_s002_t001.edf"
    before = _sha(src)
    dst = anonymize(src, tmp_path / "tuh.edf", keep_age_months=True)
    assert _sha(src) == before
    assert b"00009578" not in dst.read_bytes()[:256]
    rec = read(dst)
    assert rec.header["patient_name"].startswith("age_")
    np.testing.assert_array_equal(rec.get_data("all", 0, 5), read(src).get_data("all", 0, 5))


def test_cli_info_and_anonymize(tmp_path: Path) -> None:
    src = _identified_edf(tmp_path)
    runner = CliRunner()
    res = runner.invoke(app, ["info", str(src)])
    assert res.exit_code == 0, res.output
    assert "EDF+C" in res.stdout and "montage" in res.stdout
    res = runner.invoke(app, ["anonymize", str(src), str(tmp_path / "o.edf"), "--keep-age"])
    assert res.exit_code == 0, res.output
    assert read(tmp_path / "o.edf").header["patient_name"] == "age_6_months"
    res = runner.invoke(app, ["anonymize", str(src), str(src)])
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("hypsa: error:")
