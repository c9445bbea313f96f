"""Bad input files: every failure is a one-line typed InputError, never a traceback or a hang."""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

import edfio
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hypsa.cli import app
from hypsa.errors import (
    BadSignalError,
    CorruptFileError,
    FileAccessError,
    InputError,
    NoEEGChannelsError,
    UnsupportedFormatError,
)
from hypsa.io import Recording, read


def _edf_bytes(labels: tuple[str, ...] = ("EEG Fp1-REF", "EEG Cz-REF", "ECG"), seconds: int = 4,
               fs: int = 32, flat: bool = False) -> bytes:  # fmt: skip
    rng = np.random.default_rng(0)
    sigs = [
        edfio.EdfSignal(
            np.zeros(fs * seconds) if flat else rng.normal(0, 40, fs * seconds),
            fs,
            label=lab,
            physical_dimension="uV",
            physical_range=(-500, 500),
        )  # fmt: skip
        for lab in labels
    ]
    edf = edfio.Edf(sigs, annotations=[edfio.EdfAnnotation(1.0, None, "event")])
    buf = io.BytesIO()
    edf.write(buf)
    return buf.getvalue()


BASE = _edf_bytes()
HEADER_LEN = int(BASE[184:192])
RECORD_LEN = (len(BASE) - HEADER_LEN) // int(BASE[236:244])


def _read_all(path: Path) -> None:
    rec = read(path)
    for seg in rec.segments:
        rec.get_data("all", seg.onset_s)
    rec.check_signals()
    for _ in rec.iter_windows(2.0, pad_s=0.5):
        pass


# --------------------------------------------------------------------------------------------
# property test
# --------------------------------------------------------------------------------------------
_digits = st.binary(min_size=1, max_size=12).map(
    lambda b: bytes(b"0123456789 .-+eE"[x % 16] for x in b)
)
_overwrite = st.tuples(
    st.just("overwrite"),
    st.integers(0, HEADER_LEN - 1),
    st.one_of(st.binary(min_size=1, max_size=16), _digits),
)
_truncate = st.tuples(st.just("truncate"), st.integers(0, len(BASE) - 1), st.just(b""))
_count = st.tuples(
    st.just("count"),
    st.integers(-3, 40),
    st.sampled_from([b"", b"x"]),
)
_data = st.tuples(
    st.just("data"),
    st.integers(HEADER_LEN, len(BASE) - 1),
    st.binary(min_size=1, max_size=64),
)


def _mutate(data: bytes, ops: list[tuple[str, int, bytes]]) -> bytes:
    b = bytearray(data)
    for kind, pos, payload in ops:
        if kind == "overwrite" or kind == "data":
            b[pos : pos + len(payload)] = payload
            del b[len(data) :]  # never grow the file by overwriting
        elif kind == "truncate":
            del b[pos:]
        elif kind == "count" and len(b) >= 244:
            b[236:244] = (str(pos).encode() + payload).ljust(8)[:8]
    return bytes(b)


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(st.one_of(_overwrite, _truncate, _count, _data), min_size=1, max_size=3))
def test_mutated_edf_fails_cleanly(ops: list[tuple[str, int, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "m.edf"
        p.write_bytes(_mutate(BASE, ops))
        t0 = time.monotonic()
        try:
            _read_all(p)
        except InputError as exc:
            msg = str(exc)
            assert "\n" not in msg and msg.startswith(str(p))
        assert time.monotonic() - t0 < 10.0


def test_base_file_is_valid(tmp_path: Path) -> None:
    p = tmp_path / "ok.edf"
    p.write_bytes(BASE)
    _read_all(p)
    assert read(p).ch_names == ["Fp1", "Cz", "ECG"]


# --------------------------------------------------------------------------------------------
# explicit cases (each also through the CLI: one line on stderr, exit status 2)
# --------------------------------------------------------------------------------------------
def _case_truncated(tmp: Path) -> Path:
    p = tmp / "truncated.edf"
    p.write_bytes(BASE[: HEADER_LEN + RECORD_LEN * 2 + 10])
    return p


def _case_lying_count(tmp: Path) -> Path:
    p = tmp / "lying.edf"
    p.write_bytes(BASE[:236] + b"2".ljust(8) + BASE[244:])
    return p


def _case_text(tmp: Path) -> Path:
    p = tmp / "notes.edf"
    p.write_text("This is a referral letter, not an EEG.\n" * 20)
    return p


def _case_empty(tmp: Path) -> Path:
    p = tmp / "empty.edf"
    p.write_bytes(b"")
    return p


def _case_ecg_only(tmp: Path) -> Path:
    p = tmp / "ecg.edf"
    p.write_bytes(_edf_bytes(("ECG", "EKG2", "Resp")))
    return p


def _case_unknown_ext(tmp: Path) -> Path:
    p = tmp / "rec.xyz"
    p.write_bytes(BASE)
    return p


def _case_missing(tmp: Path) -> Path:
    return tmp / "does_not_exist.edf"


def _case_directory(tmp: Path) -> Path:
    p = tmp / "folder.edf"
    p.mkdir()
    return p


def _case_flat(tmp: Path) -> Path:
    p = tmp / "flat.edf"
    p.write_bytes(_edf_bytes(flat=True))
    return p


def _case_nan_fif(tmp: Path) -> Path:
    import mne

    data = np.random.default_rng(0).normal(0, 2e-5, (2, 500))
    data[1, 100:110] = np.nan
    raw = mne.io.RawArray(data, mne.create_info(["Fp1", "Cz"], 100, "eeg"), verbose="error")
    p = tmp / "nan_raw.fif"
    raw.save(p, verbose="error")
    return p


def _case_bad_digital(tmp: Path) -> Path:
    ns = int(BASE[252:256])
    b = bytearray(BASE)
    o = 256 + 120 * ns  # digital minimum of signal 1 -> above its maximum
    b[o : o + 8] = b"40000   "
    p = tmp / "digital.edf"
    p.write_bytes(bytes(b))
    return p


def _case_zero_duration(tmp: Path) -> Path:
    p = tmp / "zero_dur.edf"
    p.write_bytes(BASE[:244] + b"0".ljust(8) + BASE[252:])
    return p


def _case_too_many_signals(tmp: Path) -> Path:
    p = tmp / "signals.edf"
    p.write_bytes(BASE[:252] + b"9999" + BASE[256:])
    return p


def _case_non_numeric(tmp: Path) -> Path:
    p = tmp / "nonnum.edf"
    p.write_bytes(BASE[:236] + b"many    " + BASE[244:])
    return p


CASES = {
    "truncated": (_case_truncated, CorruptFileError),
    "lying_count": (_case_lying_count, CorruptFileError),
    "text_renamed": (_case_text, UnsupportedFormatError),
    "zero_bytes": (_case_empty, CorruptFileError),
    "ecg_only": (_case_ecg_only, NoEEGChannelsError),
    "unknown_extension": (_case_unknown_ext, UnsupportedFormatError),
    "missing": (_case_missing, FileAccessError),
    "directory": (_case_directory, FileAccessError),
    "all_flat": (_case_flat, BadSignalError),
    "nan_samples": (_case_nan_fif, BadSignalError),
    "digital_min_ge_max": (_case_bad_digital, CorruptFileError),
    "zero_record_duration": (_case_zero_duration, CorruptFileError),
    "absurd_signal_count": (_case_too_many_signals, CorruptFileError),
    "non_numeric_field": (_case_non_numeric, CorruptFileError),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_raises_typed_error(case: str, tmp_path: Path) -> None:
    make, err = CASES[case]
    p = make(tmp_path)
    with pytest.raises(err) as info:
        rec = read(p)
        rec.check_signals()
    msg = str(info.value)
    assert msg.startswith(f"{p}: ") and "\n" not in msg


@pytest.mark.parametrize("case", list(CASES))
def test_cli_bad_input_one_line_exit_2(case: str, tmp_path: Path) -> None:
    p = CASES[case][0](tmp_path)
    res = CliRunner().invoke(app, ["info", str(p)])
    assert res.exit_code == 2, res.output
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"hypsa: error: {p}: ")
    assert "Traceback" not in res.output


def test_truncated_message_is_clear(tmp_path: Path) -> None:
    with pytest.raises(CorruptFileError, match="truncated"):
        read(_case_truncated(tmp_path))
    with pytest.raises(CorruptFileError, match="record count"):
        read(_case_lying_count(tmp_path))


def test_recording_in_progress_count(tmp_path: Path) -> None:
    p = tmp_path / "live.edf"
    p.write_bytes(BASE[:236] + b"-1".ljust(8) + BASE[244:])
    assert read(p).duration_s == pytest.approx(4.0)


def test_from_array_nan_and_flat() -> None:
    x = np.random.default_rng(0).normal(0, 10, (2, 300))
    x[0, 5] = np.inf
    with pytest.raises(BadSignalError, match="<array>"):
        Recording.from_array(x, 100, ["Fp1", "Cz"]).check_signals()
    with pytest.raises(BadSignalError, match="flat"):
        Recording.from_array(np.zeros((2, 300)), 100, ["Fp1", "Cz"]).check_signals()
