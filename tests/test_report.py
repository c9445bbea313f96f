"""The per-recording report, as a person sees it: HTML in a browser, PDF pages."""

from __future__ import annotations

import html as html_lib
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from hypsa import DISCLAIMER
from hypsa.analysis import analyze
from hypsa.report import write_pdf, write_report
from hypsa.results import load
from hypsa.simulate import simulate

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """A 10-min classic hypsarrhythmia with two spasm clusters and EMG, analysed and saved."""
    d = tmp_path_factory.mktemp("report")
    edf = simulate(600, hypsarrhythmia="classic", n_clusters=2, emg=True, seed=3).write_edf(
        d / "infant_a.edf")
    res = analyze(edf)
    res.save(d)
    t = time.perf_counter()
    html = write_report(res, d, source=edf)
    return res, d, edf, html, time.perf_counter() - t


def _image_ok(png: Path) -> None:
    import matplotlib.image as mpimg

    img = mpimg.imread(str(png))
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    assert float(np.std(img[..., :3])) > 0.05, "rendered page looks blank"


def test_html_holds_the_verdict(analysed: tuple) -> None:
    res, d, _, html, secs = analysed
    assert html == d / "infant_a.report.html"
    text = html.read_text(encoding="utf-8")
    s = res.summary_
    assert f"BASED grade {s['hypsarrhythmia']['based_score']}:" in text
    assert "Hypsarrhythmia PRESENT" in text and "Rule: BASED grade" in text
    assert "not a probability" in text  # the score is labelled as a score
    assert f"<b>{s['spasms']['count']}</b>spasms detected" in text
    assert f"{s['hypsarrhythmia']['probability']:.2f}" in text
    assert DISCLAIMER in text
    assert f"from a score of {s['spasms']['min_confidence']:.2f}" in text  # the operating point
    for section in ("recording", "verdict", "timeline", "hourly", "clusters", "gallery",
                    "methods", "limitations"):
        assert f'id="{section}"' in text
    # sections in the prescribed order
    pos = [text.index(f'id="{s}"') for s in ("recording", "verdict", "timeline", "hourly",
                                              "clusters", "gallery", "methods", "limitations")]
    assert pos == sorted(pos)
    # snippets: hypsarrhythmic stretch + spasms, all embedded
    assert text.count("data:image/png;base64,") >= 4
    assert secs < 20


def test_html_is_self_contained_and_deidentified(analysed: tuple) -> None:
    _, _, edf, html, _ = analysed
    text = html.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href|action)\s*=\s*["']?\s*(https?:)?//""", text, re.I)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text, re.I)
    assert "<script" not in text.lower()
    assert "@import" not in text
    assert str(edf.parent) not in text  # no path of the recording
    assert "2024-01-01" in text  # the date is shown
    assert html.stat().st_size < 10 * 2**20


def test_report_without_source_says_so(analysed: tuple, tmp_path: Path) -> None:
    res, d, _, _, _ = analysed
    p = write_report(load(d, "infant_a"), tmp_path)
    assert "recording was not given" in p.read_text(encoding="utf-8")
    p = write_report(res, tmp_path, source=tmp_path / "missing.edf")
    assert "could not be read" in p.read_text(encoding="utf-8")


def test_report_cli_rebuilds_from_outputs(analysed: tuple, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hypsa.cli import app

    _, d, edf, _, _ = analysed
    out = tmp_path / "copy"
    shutil.copytree(d, out, ignore=shutil.ignore_patterns("*.edf", "*.html", "*.pdf"))
    r = CliRunner().invoke(app, ["report", str(out / "infant_a.summary.json"),
                                 "--source", str(edf)])
    assert r.exit_code == 0, r.output
    assert (out / "infant_a.report.html").is_file()
    r = CliRunner().invoke(app, ["report", str(tmp_path / "nothing")])
    assert r.exit_code == 2


@pytest.mark.skipif(BROWSER is None, reason="chromium not installed")
def test_renders_in_headless_chromium(analysed: tuple, tmp_path: Path) -> None:
    _, _, _, html, _ = analysed
    png = tmp_path / "page.png"
    cmd = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
           "--window-size=1280,4000", html.resolve().as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    if not png.is_file():
        pytest.skip("chromium ran but wrote no screenshot (sandbox/display problem)")
    _image_ok(png)


@pytest.mark.parametrize("engine", ["matplotlib", "chromium"])
def test_pdf_pages_and_text(analysed: tuple, tmp_path: Path, engine: str) -> None:
    if not (shutil.which("pdftoppm") and shutil.which("pdftotext")):
        pytest.skip("poppler-utils not installed")
    if engine == "chromium" and BROWSER is None:
        pytest.skip("chromium not installed")
    res, _, edf, _, _ = analysed
    pdf = write_pdf(res, tmp_path / "r.pdf", source=edf, engine=engine)
    assert pdf.stat().st_size > 10_000
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(tmp_path / "pg")],
                   check=True, capture_output=True, timeout=60)
    pages = sorted(tmp_path.glob("pg*.png"))
    assert len(pages) >= 2
    _image_ok(pages[0])
    txt = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    flat = " ".join(txt.split())
    assert f"BASED grade {res.based_score}" in flat and "Hypsarrhythmia PRESENT" in flat
    assert str(res.n_spasms) in flat
    assert "does not replace" in flat


def test_report_shows_what_a_reader_needs(analysed: tuple) -> None:
    """Montage, reference, filters, notch; derivations and epochs graded; fixed-sensitivity
    bipolar snippets with the EMG; the sleep-wake state source; no per-24-h figure from 10 min."""
    res, _, _, html, _ = analysed
    text = html.read_text(encoding="utf-8")
    flat = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", text)).split())
    assert "longitudinal bipolar (double banana), 18 derivations" in flat
    assert "Reference" in flat and "0.5-45 Hz band-pass" in flat
    assert "Notch" in flat and ("50 Hz and harmonics" in flat or "no mains" in flat)
    assert re.search(r"Derivations graded \d+ of 18", flat)
    pr = res.grades["grade"].dropna()
    n4 = int((pr >= 4).sum())
    assert f"Epochs at grade ≥ 4 {n4}" in flat
    assert "20 µV/mm" in flat and "15 mm/s" in flat
    assert 'style="width: ' in text and "mm\"" in text
    scored = "state_source" in res.epochs and (res.epochs["state_source"] == "annotations").any()
    assert ("Sleep-wake state taken from the recording's sleep-stage annotations" if scored
            else "Sleep-wake state is estimated from the EEG alone") in flat
    # 10 minutes: count, analysed hours, rate per hour with its interval, no per-24-h figure
    assert "per 24 h" not in flat.replace("per-24-h", "")
    assert "No per-24-h figure" in flat and "95 % CI" in flat
    # what the count can be relied on for, given the EMG channel analysed
    assert res.summary_["spasms"]["detection_note"] in flat
    assert "movement channel (EMG)" in flat


def test_snippets_are_bipolar_at_a_fixed_sensitivity_with_emg(analysed: tuple) -> None:
    from hypsa.io import read
    from hypsa.report import figures as FG

    res, _, edf, _, _ = analysed
    rec = read(edf)
    on = float(res.events["onset"].iloc[0])
    sn = FG.read_snippet(rec, on - 5, on + 5, mark_s=on, title="t")
    assert sn.names[:2] == ["Fp1-F7", "F7-T7"] and len(sn.names) == 18
    assert sn.emg is not None and sn.emg.shape[0] == sn.data.shape[1]
    a = FG.snippet_figure(sn)
    b = FG.snippet_figure(FG.Snippet(sn.data * 5, sn.sfreq, sn.names, sn.start_s, on, "x",
                                     sn.emg, sn.emg_name))
    # the same physical size and the same µV per mm whatever the voltage
    assert a.get_size_inches().tolist() == b.get_size_inches().tolist()
    ax = a.axes[0]
    h_mm = ax.get_position().height * a.get_size_inches()[1] * 25.4
    y0, y1 = ax.get_ylim()
    assert (y1 - y0) / h_mm == pytest.approx(FG.SENSITIVITY_UV_MM, rel=1e-6)
    assert ax.get_ylim() == b.axes[0].get_ylim()
    w_mm = ax.get_position().width * a.get_size_inches()[0] * 25.4
    x0, x1 = ax.get_xlim()
    assert w_mm / (x1 - x0) == pytest.approx(FG.TIMEBASE_MM_S, rel=1e-6)
    assert any("EMG" in t.get_text() for t in ax.get_yticklabels())


def test_metadata_from_the_command_line_is_shown(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hypsa.cli import app

    edf = simulate(180, hypsarrhythmia="classic", n_clusters=1, emg=True, seed=4).write_edf(
        tmp_path / "short.edf")
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["analyze", str(edf), "--out", str(out), "--jobs", "1",
                                 "--age-weeks", "26", "--corrected-age-weeks", "22",
                                 "--medication", "vigabatrin 100 mg/kg/day",
                                 "--indication", "clusters of flexor spasms"])
    assert r.exit_code == 0, r.output
    import json

    s = json.loads((out / "short.summary.json").read_text())
    assert s["metadata"]["corrected_age_weeks"] == 22
    assert s["metadata"]["sources"]["medication"] == "given"
    # a 3-minute recording: no per-24-h figure in the summary or the report
    assert s["spasms"]["per_24h"] is None and s["spasms"]["rate"]["per_24h"] is None
    text = (out / "short.report.html").read_text(encoding="utf-8")
    flat = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", text)).split())
    assert "vigabatrin 100 mg/kg/day" in flat and "22 weeks" in flat
    assert "clusters of flexor spasms" in flat
    assert "per 24 h" not in flat.replace("per-24-h", "")
    assert "per 24 h" not in r.output
