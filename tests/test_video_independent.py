"""Tests of the independent video generator (benchmarks/generalize/video_independent.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

av = pytest.importorskip("av")
pytest.importorskip("cv2")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "generalize"))

import video_independent as vi  # noqa: E402

from hypsa.errors import ParameterError  # noqa: E402
from hypsa.video import probe  # noqa: E402


@pytest.fixture(scope="module")
def spasm_clip(tmp_path_factory: pytest.TempPathFactory) -> vi.GeneratedClip:
    """A 20-s clip with one cluster, tripod, landscape, bright, 640x360 at 20 fps."""
    return vi.generate(tmp_path_factory.mktemp("sp"), 1, kind="spasms", minutes=1 / 3,
                       camera="fixed", orientation="landscape", light="bright", fps=20.0,
                       variable_fps=False, size=(640, 360))


@pytest.fixture(scope="module")
def ordinary_clip(tmp_path_factory: pytest.TempPathFactory) -> vi.GeneratedClip:
    """A 12-s clip without spasms, hand-held, portrait, dim, variable frame rate at 15 fps."""
    return vi.generate(tmp_path_factory.mktemp("od"), 4, kind="ordinary", minutes=0.2,
                       camera="handheld", orientation="portrait", light="dim", fps=15.0,
                       variable_fps=True, size=(360, 640))


def _frames(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Frame times and mean absolute change from the previous frame (grey, quarter size)."""
    times, motion, prev = [], [], None
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            g = f.to_ndarray(format="gray")[::4, ::4].astype(np.float32)
            times.append(f.time)
            motion.append(0.0 if prev is None else float(np.abs(g - prev).mean()))
            prev = g
    return np.array(times), np.array(motion)


def test_clip_is_a_video_probe_reads(spasm_clip: vi.GeneratedClip) -> None:
    info = probe(spasm_clip.clip)
    assert (info.width, info.height) == (640, 360)
    assert info.fps == pytest.approx(20.0, abs=0.05)
    assert info.duration_s == pytest.approx(20.0, abs=0.2)
    assert info.codec == "h264"
    assert spasm_clip.truth["n_frames"] == 400


def test_variable_frame_rate_portrait(ordinary_clip: vi.GeneratedClip) -> None:
    info = probe(ordinary_clip.clip)
    assert (info.width, info.height) == (360, 640)
    assert info.duration_s == pytest.approx(12.0, abs=0.3)
    times, _ = _frames(ordinary_clip.clip)
    dt = np.diff(times)
    assert len(times) == ordinary_clip.truth["n_frames"]
    assert dt.min() > 0 and dt.max() / dt.min() > 1.4  # irregular, as a phone records
    assert abs(np.median(dt) - 1 / 15) < 0.01


def test_spasm_truth_rows(spasm_clip: vi.GeneratedClip) -> None:
    ev = pd.read_csv(spasm_clip.events, sep="\t", na_values="n/a")
    assert list(ev.columns[:3]) == ["onset", "duration", "trial_type"]
    sp = ev[ev.trial_type == "spasm"]
    assert len(sp) >= 3 and len(sp) == spasm_clip.truth["n_spasms"]
    assert (sp.onset >= 0).all() and (sp.onset + sp.duration <= 20.0).all()
    assert sp.duration.between(0.5, 2.0).all()
    clusters = sorted(sp.cluster.astype(int).unique())
    assert clusters == list(range(1, len(clusters) + 1))
    assert all(len(g) >= 3 for _, g in sp.groupby("cluster"))
    assert (np.diff(sp.onset) >= 4.0 - 1e-6).all()
    assert ev[ev.trial_type != "spasm"].cluster.isna().all()
    truth = json.loads(spasm_clip.truth_json.read_text())
    assert truth["kind"] == "spasms" and truth["seed"] == 1 and truth["fps"] == 20.0
    assert truth["camera"]["mode"] == "fixed" and truth["light"] == "bright"
    assert [s["onset"] for s in truth["spasms"]] == pytest.approx(list(sp.onset))


def test_ordinary_has_no_spasm_and_a_startle_or_handling(
        ordinary_clip: vi.GeneratedClip) -> None:
    ev = ordinary_clip.events_table
    assert not (ev.trial_type == "spasm").any()
    assert ordinary_clip.truth["n_spasms"] == 0
    assert {"startle", "handling"} & set(ev.trial_type)
    assert (ev.onset >= 0).all() and (ev.onset < 12.0).all()


def test_spasms_move_the_picture(spasm_clip: vi.GeneratedClip) -> None:
    """The picture changes more during the largest spasm than in stretches with nothing drawn."""
    times, motion = _frames(spasm_clip.clip)
    ev = spasm_clip.events_table
    busy = np.zeros(len(times), bool)
    for r in ev.itertuples():
        busy |= (times >= r.onset - 1.0) & (times <= r.onset + r.duration + 1.0)
    sp = ev[ev.trial_type == "spasm"]
    big = sp.loc[sp.amplitude.idxmax()]
    during = motion[(times >= big.onset) & (times <= big.onset + big.duration)]
    assert during.max() > 3 * np.median(motion[~busy])


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    kw = dict(kind="ordinary", minutes=0.1, fps=15.0, size=(640, 360))
    a = vi.generate(tmp_path / "a", 7, **kw)
    b = vi.generate(tmp_path / "b", 7, **kw)
    c = vi.generate(tmp_path / "c", 8, **kw)
    assert a.events.read_text() == b.events.read_text()
    assert a.truth_json.read_text() == b.truth_json.read_text()
    assert a.clip.read_bytes() == b.clip.read_bytes()
    assert a.truth["drawing"] != c.truth["drawing"]


@pytest.mark.parametrize("kwargs, words", [
    (dict(kind="seizure"), "kind"),
    (dict(kind="spasms", seed=-1), "seed"),
    (dict(kind="spasms", minutes=0), "minutes"),
    (dict(kind="spasms", minutes=0.2), "at least 20 s"),
    (dict(kind="ordinary", minutes=90), "at most 60"),
    (dict(kind="ordinary", camera="drone"), "camera"),
    (dict(kind="ordinary", light="infrared"), "light"),
    (dict(kind="ordinary", size=(641, 360)), "size"),
    (dict(kind="ordinary", fps=5), "fps"),
    (dict(kind="ordinary", body_axis="upside"), "body_axis"),
])
def test_refuses_bad_arguments(tmp_path: Path, kwargs: dict, words: str) -> None:
    kwargs = {"seed": 0, **kwargs}
    seed = kwargs.pop("seed")
    with pytest.raises(ParameterError, match=words):
        vi.generate(tmp_path, seed, **kwargs)
    assert not (tmp_path / "clip.mp4").exists()


def test_balanced_conditions() -> None:
    combos = {vi.condition_of(i) for i in range(8)}
    assert len(combos) == 8
    assert vi.condition_of(8) == vi.condition_of(0)
