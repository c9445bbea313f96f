"""``hypsa batch``: a cohort on Dask, resumable, BIDS derivatives, cohort table and figure."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest

from hypsa.batch import find_recordings, run_batch
from hypsa.errors import InputError, ParameterError
from hypsa.simulate import simulate

FORMS = [("classic", 60, 1), ("modified", 90, 1), ("none", 60, 0), ("classic", 120, 2),
         ("modified", 60, 0), ("none", 90, 1)]  # fmt: skip


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pd.DataFrame]:
    """Six short simulated recordings (two in a subfolder) and one corrupt file, batched once."""
    root = tmp_path_factory.mktemp("cohort")
    (root / "site2").mkdir()
    for i, (form, dur, nc) in enumerate(FORMS):
        folder = root / "site2" if i >= 4 else root
        simulate(dur, hypsarrhythmia=form, n_clusters=nc, seed=10 + i).write_edf(
            folder / f"rec{i}.edf")
    (root / "bad.edf").write_text("this is not an EDF file\n")
    out = tmp_path_factory.mktemp("out")
    df = run_batch(root, out, workers=2, progress=False)
    return root, out, df


def test_cohort_row_gives_the_grade_without_the_flagged_foci(
        cohort: tuple[Path, Path, pd.DataFrame], tmp_path: Path) -> None:
    """A summary whose grade rests on foci flagged for review: the cohort row carries the grade
    without them beside the grade; a summary without any flagged focus leaves it empty."""
    from hypsa.batch import BatchItem, cohort_row

    root, _, df = cohort
    row = df[df["status"] == "analysed"].iloc[0]
    summary = json.loads((Path(row["output"]) / f"{Path(row['file']).stem}.summary.json")
                         .read_text())
    plain = cohort_row(BatchItem(root / row["file"], row["file"], Path(row["output"]),
                                 Path(row["file"]).stem), "analysed")
    assert plain["based_score_unflagged"] is None
    summary["hypsarrhythmia"]["based_score"] = 4
    summary["hypsarrhythmia"]["evidence"]["graded_epoch"]["grade_unflagged"] = 3
    (tmp_path / "x.summary.json").write_text(json.dumps(summary))
    r = cohort_row(BatchItem(root / "x.edf", "x.edf", tmp_path, "x"), "analysed")
    assert (r["based_score"], r["based_score_unflagged"]) == (4, 3)


def test_batch_cohort_outputs(cohort: tuple[Path, Path, pd.DataFrame]) -> None:
    root, out, df = cohort
    d = out / "hypsa"
    assert df.attrs["analysed"] == 6 and df.attrs["failed"] == 1 and df.attrs["skipped"] == 0
    csv = pd.read_csv(d / "cohort.csv")
    pq = pd.read_parquet(d / "cohort.parquet")
    assert len(csv) == len(pq) == 7
    good = pq[pq["status"] == "analysed"]
    assert sorted(good["file"]) == sorted(
        [f"rec{i}.edf" for i in range(4)] + ["site2/rec4.edf", "site2/rec5.edf"])
    for col in ("duration_s", "analysed_s", "excluded_s", "based_score", "probability",
                "present", "spasm_count", "per_hour", "n_clusters", "movement_channel",
                "attenuated_background", "clusters_on_waking", "bad_channels", "error"):
        assert col in pq.columns
    # the simulated recordings carry no EMG: every count is from the EEG alone
    assert good["movement_channel"].isna().all()
    assert good["attenuated_background"].notna().all()
    assert good["based_score"].notna().all() and good["error"].isna().all()
    # the grade without the foci flagged for review: given only where one is flagged, never higher
    unflagged = good["based_score_unflagged"]
    assert str(unflagged.dtype) == "Int64"
    assert (unflagged.isna() | (unflagged <= good["based_score"])).all()
    assert set(good["duration_s"]) == {60.0, 90.0, 120.0}
    # the hypsarrhythmic forms are graded higher than the normal backgrounds
    by = good.set_index("file")["based_score"]
    assert by["rec3.edf"] >= 4 and by["rec2.edf"] <= 3  # 2-min classic vs 1-min normal
    # outputs mirror the folder layout
    for rel in good["file"]:
        stem = Path(rel).with_suffix("")
        for ext in ("summary.json", "epochs.tsv", "grades.tsv", "events.tsv"):
            assert (d / stem / f"{stem.name}.{ext}").is_file()
    assert not list(d.rglob(".partial-*"))
    err = pd.read_csv(d / "errors.tsv", sep="\t")
    assert list(err["file"]) == ["bad.edf"]
    assert "bad.edf" in err["error"].iat[0] and "\n" not in err["error"].iat[0]
    assert not (d / "bad").exists()
    assert (d / "cohort.png").stat().st_size > 5000
    desc = json.loads((d / "dataset_description.json").read_text())
    assert desc["DatasetType"] == "derivative" and desc["BIDSVersion"]
    assert desc["GeneratedBy"][0]["Name"] == "hypsa"


def test_batch_resume_skips_finished(cohort: tuple[Path, Path, pd.DataFrame]) -> None:
    root, out, first = cohort
    markers = sorted((out / "hypsa").rglob("*.summary.json"))
    assert len(markers) == 6
    before = {p: p.stat().st_mtime_ns for p in markers}
    epochs_before = {p: p.stat().st_mtime_ns for p in (out / "hypsa").rglob("*.epochs.tsv")}
    df = run_batch(root, out, workers=2, progress=False)
    assert df.attrs["skipped"] == 6 and df.attrs["analysed"] == 0 and df.attrs["failed"] == 1
    assert {p: p.stat().st_mtime_ns for p in markers} == before
    assert {p: p.stat().st_mtime_ns for p in (out / "hypsa").rglob("*.epochs.tsv")} \
        == epochs_before
    cols = ["file", "based_score", "spasm_count", "per_hour"]
    pd.testing.assert_frame_equal(df[cols], first[cols])


def test_batch_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        run_batch(tmp_path / "missing", tmp_path / "out", progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no EEG recording"):
        run_batch(tmp_path / "empty", tmp_path / "out", progress=False)
    with pytest.raises(ParameterError):
        run_batch(tmp_path / "empty", tmp_path / "out", workers=0, progress=False)


def test_batch_ignores_its_own_outputs(tmp_path: Path) -> None:
    simulate(20, hypsarrhythmia="none", n_clusters=0, seed=1).write_edf(tmp_path / "a.edf")
    (tmp_path / "hypsa" / "x").mkdir(parents=True)
    (tmp_path / "hypsa" / "x" / "old.edf").write_text("not a recording")
    items = find_recordings(tmp_path, tmp_path)  # out == root
    assert [it.rel for it in items] == ["a.edf"]


def _hypsa_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("hypsa")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "hypsa.cli"]


def _done_markers(out: Path) -> list[Path]:
    """Summaries in place (not those still in a ``.partial-*`` staging folder)."""
    return [p for p in (out / "hypsa").rglob("*.summary.json")
            if not any(part.startswith(".partial-") for part in p.parts)]


def test_batch_cli_killed_halfway_resumes(tmp_path: Path) -> None:
    root = tmp_path / "eeg"
    root.mkdir()
    src = simulate(600, hypsarrhythmia="classic", n_clusters=1, seed=5).write_edf(
        tmp_path / "template.edf")
    for i in range(8):
        shutil.copy(src, root / f"r{i}.edf")
    out = tmp_path / "out"
    cmd = [*_hypsa_cmd(), "batch", str(root), "--out", str(out), "--workers", "1", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if _done_markers(out):
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()  # still running: kill it
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI, its cluster and workers: a crash
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    time.sleep(0.3)
    finished = {p: p.stat().st_mtime_ns for p in _done_markers(out)}
    assert 1 <= len(finished) < 8
    assert not (out / "hypsa" / "cohort.csv").exists()
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr
    assert f"{len(finished)} skipped" in res.stdout
    assert f"{8 - len(finished)} analysed" in res.stdout
    for p, m in finished.items():
        assert p.stat().st_mtime_ns == m
    df = pd.read_csv(out / "hypsa" / "cohort.csv")
    assert len(df) == 8 and set(df["status"]) <= {"analysed", "skipped"}
    assert (df["status"] == "skipped").sum() == len(finished)
    assert df["based_score"].nunique() == 1  # the same recording eight times
    assert not list((out / "hypsa").rglob(".partial-*"))


def test_batch_bids_dataset(tmp_path: Path) -> None:
    mne_bids = pytest.importorskip("mne_bids")
    import mne

    mne.set_log_level("ERROR")
    bids_root = tmp_path / "bids"
    for sub, ses, form, seed in (("01", "01", "classic", 1), ("02", "02", "none", 2)):
        sim = simulate(60, hypsarrhythmia=form, n_clusters=1, seed=seed)
        raw = mne.io.RawArray(sim.data[:19].astype(float) * 1e-6,
                              mne.create_info(sim.ch_names[:19], sim.sfreq, "eeg"))
        bp = mne_bids.BIDSPath(subject=sub, session=ses, task="sleep", datatype="eeg",
                               root=bids_root)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "no events found"
            mne_bids.write_raw_bids(raw, bp, allow_preload=True, format="EDF", overwrite=True,
                                    verbose=False)
    out = tmp_path / "out"
    df = run_batch(bids_root, out, workers=1, progress=False)
    assert df.attrs["analysed"] == 2 and df.attrs["failed"] == 0
    df = df.set_index("subject")
    assert df.loc["01", "session"] == "01" and df.loc["02", "session"] == "02"
    assert (df["task"] == "sleep").all()
    assert df.loc["01", "file"] == "sub-01/ses-01/eeg/sub-01_ses-01_task-sleep_eeg.edf"
    d = out / "hypsa"
    assert (d / "sub-01" / "ses-01" / "eeg" / "sub-01_ses-01_task-sleep_eeg.summary.json"
            ).is_file()
    assert (d / "sub-02" / "ses-02" / "eeg" / "sub-02_ses-02_task-sleep_eeg.events.tsv"
            ).is_file()
    pq = pd.read_parquet(d / "cohort.parquet")
    assert sorted(pq["subject"]) == ["01", "02"]
    desc = json.loads((d / "dataset_description.json").read_text())
    assert desc["DatasetType"] == "derivative" and "SourceDatasets" in desc


def test_batch_cli_operating_point_reaches_every_recording(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hypsa.cli import app

    root = tmp_path / "eeg"
    root.mkdir()
    simulate(60, hypsarrhythmia="classic", n_clusters=1, seed=3).write_edf(root / "a.edf")
    runner = CliRunner()
    bad = runner.invoke(app, ["batch", str(root), "--out", str(tmp_path / "x"),
                              "--spasm-threshold", "1.2"])
    assert bad.exit_code == 2 and "--spasm-threshold" in bad.output
    assert bad.output.strip().count("\n") == 0 and not (tmp_path / "x").exists()
    res = runner.invoke(app, ["batch", str(root), "--out", str(tmp_path / "out"), "--workers",
                              "1", "--quiet", "--spasm-threshold", "0.95", "--cluster-gap", "30"])
    assert res.exit_code == 0, res.output
    spasms = json.loads(next((tmp_path / "out" / "hypsa").rglob("a.summary.json"))
                        .read_text())["spasms"]
    assert spasms["min_confidence"] == 0.95 and spasms["cluster_gap_s"] == 30.0
