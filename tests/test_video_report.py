"""Video-EEG report: the frames of each spasm beside its EEG, and the de-identification options."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("av")
pytest.importorskip("cv2")

from typer.testing import CliRunner  # noqa: E402

from hypsa.cli import app  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def analysed(tmp_path_factory) -> dict:
    """A 75-s simulated video (256x144, 15 fps) with its EEG, analysed with ``--video``."""
    from hypsa.video.simulate import simulate_video

    d = tmp_path_factory.mktemp("video-report")
    sim = simulate_video(d / "clip.mp4", 1.25, width=256, height=144, fps=15, eeg=d / "rec.edf",
                         seed=1)
    out = d / "out"
    res = runner.invoke(app, ["analyze", str(sim.eeg), "--video", str(sim.video), "--out",
                              str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    return {"dir": d, "edf": sim.eeg, "clip": sim.video, "out": out,
            "truth": sim.spasms}


def _spasm_rows(out: Path) -> int:
    import pandas as pd

    ev = pd.read_csv(out / "rec.events.tsv", sep="\t")
    return int((ev["trial_type"].astype(str) != "eeg_decrement").sum())


def test_report_shows_frames_of_each_spasm(analysed):
    html = (analysed["out"] / "rec.report.html").read_text()
    n = _spasm_rows(analysed["out"])
    assert n >= 1
    sec = html[html.index('<section id="video">'):html.index('<section id="methods">')]
    # one row per spasm, each with three embedded JPEG frames and its EEG beside them
    assert sec.count('class="vspasm"') == min(n, 30)
    frames = re.findall(r'class="vframe" alt="[^"]*" src="(data:image/jpeg;base64,[^"]+)"', sec)
    assert len(frames) == 3 * min(n, 30)
    assert len(set(frames)) > 1  # not one picture repeated
    assert sec.count('class="veeg"') == min(n, 30)
    assert "placed by the clock times" in sec
    assert "src=\"http" not in html and "<script" not in html  # still self-contained


def test_report_no_frames_and_blur(analysed):
    out = analysed["out"]
    res = runner.invoke(app, ["report", str(out), "--source", str(analysed["edf"]),
                              "--no-frames"])
    assert res.exit_code == 0, res.output
    html = (out / "rec.report.html").read_text()
    assert '<section id="video">' in html
    assert "data:image/jpeg" not in html and 'class="vframe"' not in html
    assert "Frames left out" in html
    # rebuilt from the folder with the clip given again: frames are back, faces blurred
    res = runner.invoke(app, ["report", str(out), "--source", str(analysed["edf"]),
                              "--video", str(analysed["clip"]), "--blur-faces"])
    assert res.exit_code == 0, res.output
    html = (out / "rec.report.html").read_text()
    assert html.count('class="vframe"') == 3 * min(_spasm_rows(out), 30)
    assert "blurred in every frame" in html


def test_report_cap_and_missing_clip(analysed, tmp_path):
    from hypsa.report.html import build_content
    from hypsa.report.video import video_section
    from hypsa.results import load

    res = load(analysed["out"], "rec")
    n = _spasm_rows(analysed["out"])
    sec = video_section(res, None, clips=[(analysed["clip"], 0.0)], max_spasms=1)
    assert len(sec.rows) == 1 and sec.rows[0]["figure"] is None  # no recording: frames only
    if n > 1:
        assert any(f"{n - 1} more spasm" in x for x in sec.notes)
    # the summary names the clip; moved away, the report says it was not found
    res.summary_["video"]["clips"][0]["file"] = str(tmp_path / "elsewhere.mp4")
    content = build_content(res, None)
    try:
        assert content.video is not None and not content.video.rows
        assert any("was not found" in x for x in content.video.notes)
    finally:
        content.close()
    bad = runner.invoke(app, ["report", str(analysed["out"]), "--video",
                              str(tmp_path / "other.mp4")])
    assert bad.exit_code == 2 and "not a clip" in bad.output
