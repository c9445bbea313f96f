"""Tests of the third video generator (benchmarks/generalize/video_third.py)."""

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

import video_third as v3  # noqa: E402

from hypsa.errors import ParameterError  # noqa: E402
from hypsa.video import probe  # noqa: E402


@pytest.fixture(scope="module")
def spasm_clip(tmp_path_factory: pytest.TempPathFactory) -> v3.Generated:
    """A 30-s clip with spasms: dim, fixed camera, landscape (the smallest pictures)."""
    return v3.generate(tmp_path_factory.mktemp("sp"), 4, kind="spasms", minutes=0.5,
                       camera="fixed", orientation="landscape", light="dim")


def test_clip_is_a_video_probe_reads(spasm_clip: v3.Generated) -> None:
    info = probe(spasm_clip.clip)
    t = spasm_clip.truth
    assert (info.width, info.height) == (t["width"], t["height"])
    assert info.codec == "h264"
    assert info.duration_s == pytest.approx(30.0, abs=0.5)
    assert t["kind"] == "spasms" and t["camera"]["mode"] == "fixed"
    assert t["orientation"] == "landscape" and t["light"] == "dim"


def test_spasm_truth_rows(spasm_clip: v3.Generated) -> None:
    ev = pd.read_csv(spasm_clip.events, sep="\t", na_values="n/a")
    assert list(ev.columns[:4]) == ["onset", "duration", "trial_type", "cluster"]
    sp = ev[ev.trial_type == "spasm"]
    assert len(sp) >= 1
    assert (sp.onset >= 0).all() and (sp.onset < 30.0).all()
    assert sp.cluster.notna().all() and ev[ev.trial_type != "spasm"].cluster.isna().all()
    assert sp.amplitude.between(0, 1).all() and sp.symmetry.between(0, 1).all()
    truth = json.loads(spasm_clip.truth_json.read_text())
    assert truth["seed"] == 4 and set(truth) >= {"fps", "variable_fps", "framing",
                                                  "body_rotation_rad"}


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    kw = dict(kind="ordinary", minutes=0.5, camera="fixed", orientation="landscape",
              light="dim")
    a = v3.generate(tmp_path / "a", 7, **kw)
    b = v3.generate(tmp_path / "b", 7, **kw)
    assert a.events.read_text() == b.events.read_text()
    assert a.clip.read_bytes() == b.clip.read_bytes()
    assert not (a.events_table.trial_type == "spasm").any()


@pytest.mark.parametrize("kwargs, words", [
    (dict(kind="seizure"), "kind"),
    (dict(seed=-1), "seed"),
    (dict(minutes=0), "minutes"),
    (dict(camera="drone"), "camera"),
    (dict(light="infrared"), "light"),
])
def test_refuses_bad_arguments(tmp_path: Path, kwargs: dict, words: str) -> None:
    kwargs = {"seed": 0, "kind": "ordinary", "minutes": 0.5, **kwargs}
    with pytest.raises(ParameterError, match=words):
        v3.generate(tmp_path, **kwargs)
    assert not (tmp_path / "clip.mp4").exists()


def test_balanced_conditions() -> None:
    combos = {v3.condition_of(i) for i in range(8)}
    assert len(combos) == 8
    assert v3.condition_of(8) == v3.condition_of(0)
    assert np.all([c in ("fixed", "handheld") for c, _, _ in combos])
