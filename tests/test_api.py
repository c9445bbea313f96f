"""The Python API: hypsa.read / analyze / simulate, MNE Raw and arrays in, mne.Annotations out,
the eeghdf format, and the extras."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import warnings
from pathlib import Path

import mne
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import hypsa
from hypsa.errors import NoEEGChannelsError, ParameterError, UnsupportedFormatError


@pytest.fixture(scope="module")
def edf(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    sim = hypsa.simulate(300.0, hypsarrhythmia="classic", n_clusters=1, emg=True, seed=3)
    return sim, sim.write_edf(tmp_path_factory.mktemp("api") / "sim.edf")


@pytest.fixture(scope="module")
def by_path(edf):  # noqa: ANN001, ANN201
    return hypsa.analyze(edf[1])


def _same(a, b) -> None:  # noqa: ANN001
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.epochs, b.epochs)
    sa, sb = dict(a.summary_), dict(b.summary_)
    sa.pop("file")
    sb.pop("file")
    assert sa == sb


def test_top_level_names() -> None:
    assert hypsa.read is hypsa.io.read
    assert hypsa.analyze is hypsa.analysis.analyze
    assert hypsa.Analysis is hypsa.results.Analysis
    from hypsa.simulate import simulate_to_edf  # the package stays importable as a package

    assert callable(simulate_to_edf) and callable(hypsa.simulate)
    assert {"read", "analyze", "simulate"} <= set(dir(hypsa))
    with pytest.raises(AttributeError):
        hypsa.no_such_name  # noqa: B018


def test_import_hypsa_stays_light() -> None:
    code = ("import sys, hypsa; "
            "print(sorted(m for m in ('numpy', 'mne', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_analyze_raw_equals_analyze_path(edf, by_path) -> None:  # noqa: ANN001
    raw = mne.io.read_raw_edf(edf[1], verbose="error")
    assert set(raw.get_channel_types()) == {"eeg"}  # MNE calls every EDF channel EEG ...
    a = hypsa.analyze(raw)
    _same(a, by_path)  # ... the EMG channel is still found by its label
    assert a.n_spasms == by_path.n_spasms and a.n_spasms > 0


def test_analyze_array_and_simulation(edf, by_path) -> None:  # noqa: ANN001
    sim, _ = edf
    a = hypsa.analyze(sim.data, sfreq=sim.sfreq, ch_names=sim.ch_names, ch_types=sim.ch_types)
    b = hypsa.analyze(sim)
    pd.testing.assert_frame_equal(a.grades.drop(columns="state", errors="ignore"),
                                  b.grades.drop(columns="state", errors="ignore"))
    assert a.based_score == b.based_score == by_path.based_score
    with pytest.raises(ParameterError, match="sfreq"):
        hypsa.analyze(sim.data)
    with pytest.raises(ParameterError, match="only to an array"):
        hypsa.analyze(sim, sfreq=256.0)
    with pytest.raises(ParameterError, match="cannot analyse a dict"):
        hypsa.analyze({"data": sim.data})


def test_raw_channel_types_units_annotations_respected(edf) -> None:  # noqa: ANN001
    sim, path = edf
    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "unit changed from V to NA" for the misc channel
        raw.set_channel_types({"EMG": "emg", "Fp1": "misc"})
    raw.info["bads"] = ["O2"]
    rec = hypsa.io.from_raw(raw)
    kinds = {c.name: c.kind for c in rec.channels}
    assert kinds["EMG"] == "emg" and kinds["Fp1"] == "misc" and kinds["O2"] == "misc"
    assert "Fp1" not in rec.eeg_names and "C3" in rec.eeg_names
    # volts in MNE, microvolts in hypsa
    np.testing.assert_allclose(rec.get_data(["C3"], 0, 2)[0],
                               raw.get_data(picks=["C3"], start=0, stop=512)[0] * 1e6,
                               rtol=1e-5, atol=1e-3)
    assert len(rec.annotations) == len(raw.annotations) > 0
    np.testing.assert_allclose(rec.annotations["onset"], raw.annotations.onset, atol=1e-6)
    # a cropped Raw starts at its first sample
    cropped = raw.copy().crop(tmin=60.0)
    crec = hypsa.io.from_raw(cropped)
    assert crec.start_time == rec.start_time + dt.timedelta(seconds=60)
    np.testing.assert_allclose(crec.get_data(["C3"], 0, 1), rec.get_data(["C3"], 60, 61),
                               atol=1e-3)
    stim_only = mne.io.RawArray(np.zeros((2, 256)), mne.create_info(["Fp1", "Cz"], 256.0,
                                                                    "stim"), verbose="error")
    with pytest.raises(NoEEGChannelsError):
        hypsa.io.from_raw(stim_only)


def test_to_annotations_back_onto_the_raw(edf, by_path) -> None:  # noqa: ANN001
    a = by_path
    ann = a.to_annotations()
    assert isinstance(ann, mne.Annotations)
    desc = list(ann.description)
    kinds = a.events["trial_type"] if "trial_type" in a.events else ["spasm"] * len(a.events)
    for k in set(kinds):
        assert desc.count(k) == list(kinds).count(k)
    assert desc.count("spasm_cluster") == a.summary_["spasms"]["n_clusters"] >= 1
    assert desc.count(f"BASED_{a.based_score}") >= 1 and desc.count("graded_epoch") == 1
    spasm_onsets = sorted(o for o, d in zip(ann.onset, desc, strict=True)
                          if d.startswith(("spasm_eeg", "spasm")) and d != "spasm_cluster")
    np.testing.assert_allclose(spasm_onsets, np.sort(a.events["onset"]), atol=1e-9)
    raw = mne.io.read_raw_edf(edf[1], verbose="error")
    n0 = len(raw.annotations)
    raw.set_annotations(raw.annotations + ann)
    assert len(raw.annotations) == n0 + len(ann)
    assert len(a.to_annotations(prefix="hypsa/", orig_time=None)) == len(ann)
    assert all(d.startswith("hypsa/") for d in a.to_annotations(prefix="hypsa/").description)


def test_eeghdf_written_by_eeghdf_is_read(tmp_path: Path) -> None:
    eeghdf = pytest.importorskip("eeghdf")
    fs, n = 200, 200 * 12
    labels = ["EEG Fp1-REF", "EEG C3-REF", "EEG O1-REF", "EEG Cz-REF", "EMG"]
    rng = np.random.default_rng(1)
    digital = rng.integers(-3000, 3000, size=(len(labels), n)).astype(np.int16)
    pmin, pmax = np.full(5, -3276.8), np.full(5, 3276.7)
    dmin, dmax = np.full(5, -32768), np.full(5, 32767)
    path = tmp_path / "infant.eeg.h5"
    with eeghdf.EEGHDFWriter(str(path), "w") as w:
        w.write_patient_info(patient_name="Doe^Baby", patientcode="P123", gender="F",
                             birthdate_isostring="2023-05-02")
        rec = w.create_record_block(
            record_duration_seconds=n / fs, start_isodatetime="2023-11-02T09:30:05",
            end_isodatetime="2023-11-02T09:30:17", number_channels=len(labels),
            num_samples_per_channel=n, sample_frequency=fs, signal_labels=labels,
            signal_physical_mins=pmin, signal_physical_maxs=pmax, signal_digital_mins=dmin,
            signal_digital_maxs=dmax, physical_dimensions=["uV"] * 4 + ["mV"],
            patient_age_days=184, technician="tech", studyadmincode="A-1")
        w.stream_dig_signal_to_record_block(rec, iter([(digital, 0, n)]))
        w.write_annotations_b([(int(2.5e7), b"0.5", b"spasm"), (int(8e7), b"", b"Sleeping")])
    r = hypsa.read(path)
    assert r.format == "eeghdf" and r.sfreq == fs and r.duration_s == pytest.approx(12.0)
    assert r.eeg_names == ["Fp1", "C3", "O1", "Cz"] and r.channels[-1].kind == "emg"
    assert r.start_time == dt.datetime(2023, 11, 2, 9, 30, 5)
    assert list(r.annotations["description"]) == ["spasm", "Sleeping"]
    np.testing.assert_allclose(r.annotations["onset"], [2.5, 8.0])
    np.testing.assert_allclose(r.annotations["duration"], [0.5, 0.0])
    assert r.header["patient_id"] == "P123" and r.header["admin_code"] == "A-1"
    gain = (pmax - pmin) / (dmax - dmin)
    want = digital * gain[:, None] + (pmin - gain * dmin)[:, None]
    np.testing.assert_allclose(r.get_data("eeg", 2.0, 4.0), want[:4, 400:800], atol=1e-3)
    np.testing.assert_allclose(r.get_data(["EMG"], 0, 1)[0], want[4, :200] * 1e3, rtol=1e-5)
    # an HDF5 file of another layout is refused in one line
    import h5py

    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(UnsupportedFormatError, match="record-0"):
        hypsa.read(other)


def test_missing_extra_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from hypsa import extras
    from hypsa.cli import app

    monkeypatch.setitem(extras.EXTRAS, "batch", ("dask", "hypsa_absent_module"))
    res = CliRunner().invoke(app, ["batch", str(tmp_path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert res.stderr.strip() == ("hypsa: error: hypsa batch needs the 'batch' extra: pip install "
                                  "'hypsa[batch]' (missing: hypsa_absent_module)")
    monkeypatch.setitem(extras.EXTRAS, "web", ("hypsa_absent_web",))
    res = CliRunner().invoke(app, ["serve"])
    assert res.exit_code == 2 and "'hypsa[web]'" in res.stderr


def test_batch_finds_eeghdf_files(tmp_path: Path) -> None:
    from hypsa.batch import find_recordings

    for name in ("a.eeg.h5", "b.edf", "c.h5", "d.eeghdf"):
        (tmp_path / name).write_bytes(b"0")
    assert [i.rel for i in find_recordings(tmp_path, tmp_path / "out")] == [
        "a.eeg.h5", "b.edf", "d.eeghdf"]


def test_analysis_and_cli_import_no_extra() -> None:
    """``pip install hypsa`` without extras: the CLI and the analysis import none of them (pandas
    itself imports pyarrow when it is installed, so pyarrow is not checked)."""
    code = ("import sys, hypsa.cli, hypsa.analysis, hypsa.report, hypsa.io; "
            "print(sorted(m for m in ('fastapi', 'uvicorn', 'sqlalchemy', 'alembic', 'dask', "
            "'distributed', 'eeghdf', 'h5py', 'psycopg', 'argon2') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
