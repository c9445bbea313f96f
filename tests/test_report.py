"""The per-recording report, as a person sees it: HTML in a browser, PDF pages."""

from __future__ import annotations

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
    assert f"BASED {s['hypsarrhythmia']['based_score']}" in text
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
    assert f"BASED {res.based_score}" in flat
    assert str(res.n_spasms) in flat
    assert "does not replace" in flat
