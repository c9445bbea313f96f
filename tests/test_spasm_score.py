"""The spasm model: the shipped file and its card, its inputs, its direction, and its training."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hypsa import spasm_score
from hypsa.spasm_score import (
    CARD_FILE,
    INPUTS,
    MODEL_FILE,
    ModelError,
    contributions,
    design,
    load_model,
    model_info,
    spasm_probability,
)
from hypsa.spasms import FEATURE_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "src" / "hypsa" / "models"


def script(name: str, path: Path):
    """A benchmark script as a module (it imports its neighbours)."""
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def candidates(n: int = 50, seed: int = 0, **fixed: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c = pd.DataFrame({
        "slow_ratio": rng.uniform(0.5, 8, n), "fraction": rng.uniform(0, 1, n),
        "slow_uv": rng.uniform(20, 600, n), "smoothness": rng.uniform(0.3, 1.1, n),
        "synchrony": rng.uniform(0.2, 1, n), "sync_all": rng.uniform(0.2, 1, n),
        "wave_s": rng.uniform(0, 3, n), "decrement": rng.uniform(0, 0.9, n),
        "dip_s": rng.uniform(0.1, 12, n), "mid_decrement": rng.uniform(0, 0.9, n),
        "gap_s": rng.uniform(-1, 3, n), "pre": rng.uniform(0.2, 2, n),
        "emg_ratio": np.where(rng.random(n) < 0.5, np.nan, rng.uniform(0.5, 40, n)),
        "emg_burst_s": rng.uniform(0.2, 6, n), "emg_lag_s": rng.uniform(-1, 2, n),
        "background_synchrony": rng.uniform(0.2, 0.9, n), "orphan_rate": rng.uniform(0, 2, n),
        "n_wave": rng.uniform(0, 1, n), "n_dec": rng.uniform(0, 1, n),
        "n_dec_mid": rng.uniform(0, 1, n), "slow_rank": rng.uniform(0, 1, n),
        "dec_rank": rng.uniform(0, 1, n), "wave_rank_ch": rng.uniform(0, 1, n),
        "dec_rank_ch": rng.uniform(0, 1, n), "wave_pre": rng.uniform(0.5, 10, n),
        "slow_rank_active": rng.uniform(0, 1, n), "wave_rank_active": rng.uniform(0, 1, n),
        "dips_ctx": rng.uniform(0, 4, n), "orphans_ctx": rng.uniform(0, 3, n),
        "fast_dec": rng.uniform(0.3, 4, n),
        "emg_bursts_ctx": np.where(rng.random(n) < 0.5, np.nan, rng.integers(0, 4, n)),
        "emg_half_s": rng.uniform(0.1, 2.5, n),
    })
    for k, v in fixed.items():
        c[k] = v
    return c[FEATURE_COLUMNS]


def test_the_shipped_model_loads_and_its_hash_matches_its_card():
    booster, card = load_model()
    text = (MODELS / MODEL_FILE).read_bytes()
    assert hashlib.sha256(text).hexdigest() == card["sha256"] == spasm_score.MODEL_SHA256
    assert booster.num_trees() > 10
    assert set(card["features"]) <= set(INPUTS)
    assert 0.0 < card["threshold"] < 1.0 and spasm_score.THRESHOLD == card["threshold"]
    assert len(card["generators"]) >= 2 and "train_spasm_model.py" in card["command"]
    ys = np.asarray(card["calibration"]["y"])
    assert (np.diff(ys) >= 0).all() and ys[0] < 0.2 and ys[-1] > 0.8
    assert model_info()["sha256"] == card["sha256"]


def test_the_out_of_generator_figures_belong_to_the_shipped_model():
    """A retrained model must have its leave-one-generator-out figures measured again before
    the outputs quote them (``benchmarks/generalize/run.py --recording-relative``; the
    recording-level model makes the final decision)."""
    from hypsa.spasm_recording import load_model as load_recording_model

    g = spasm_score.OUT_OF_GENERATOR
    assert g["model"] == load_recording_model()[1]["sha256"]
    for k in ("eeg_only", "eeg_only_plain", "with_movement", "with_video"):
        assert 0 < g[k][0] <= g[k][1] <= 1
    alone, moved = spasm_score.detection_note(None), spasm_score.detection_note("video")
    assert "0.35-0.74" in alone and "lower bound" in alone and "video 0.71-0.93" in alone
    # the video's own figure (video-EEG bench), the EMG's beside it
    assert "(video)" in moved and "found 0.71-0.93" in moved and "0.87-0.96" in moved
    assert "lower bound" not in moved
    emg = spasm_score.detection_note("EMG")
    assert "found 0.87-0.96" in emg and "0.71" not in emg
    part = spasm_score.detection_note("video", covered=0.2)  # 10 min of video on 50 min of EEG
    assert "covers 20% of the recording" in part and "lower bound" in part
    for k in ("eeg_only_attenuated", "eeg_only_not_attenuated"):
        assert 0 < g[k][0] <= g[k][1] <= 1
    assert g["eeg_only_attenuated"][1] < g["eeg_only_not_attenuated"][1]


def test_the_note_warns_where_attenuation_episodes_are_frequent():
    """A background with frequent attenuation episodes is where the EEG alone finds fewest
    spasms out of generator; the note says so where the EEG is the only channel."""
    th = spasm_score.ATTENUATED_PER_MIN
    warned = spasm_score.detection_note(None, attenuations_per_min=th + 0.5)
    assert "frequent attenuation episodes" in warned and "0.12-0.59" in warned
    assert "attenuation episodes" not in spasm_score.detection_note(
        None, attenuations_per_min=th - 0.1)
    assert "attenuation episodes" not in spasm_score.detection_note(None)
    # the whole recording covered by a movement channel: no warning; part of it: the warning
    assert "attenuation episodes" not in spasm_score.detection_note(
        "EMG", attenuations_per_min=th + 1)
    assert "frequent attenuation" in spasm_score.detection_note(
        "video", covered=0.3, attenuations_per_min=th + 1)


def test_attenuations_per_minute_counts_each_episode_once():
    att = pd.DataFrame({"onset": [10.0, 10.1, 70.0, 130.0], "duration": [2.0, 2.0, 1.5, 3.0]})
    assert spasm_score.attenuations_per_min(att, 120.0) == pytest.approx(1.5)
    assert spasm_score.attenuations_per_min(None, 120.0) == 0.0
    assert spasm_score.attenuations_per_min(pd.DataFrame({"onset": []}), 60.0) == 0.0


def test_a_model_file_that_differs_from_its_card_is_refused(tmp_path):
    for f in (MODEL_FILE, CARD_FILE):
        shutil.copy(MODELS / f, tmp_path / f)
    load_model(str(tmp_path))  # an exact copy loads
    (tmp_path / MODEL_FILE).write_text((tmp_path / MODEL_FILE).read_text() + "\n")
    with pytest.raises(ModelError, match="sha256"):
        load_model.__wrapped__(str(tmp_path))
    (tmp_path / MODEL_FILE).unlink()
    with pytest.raises(ModelError, match="missing"):
        load_model.__wrapped__(str(tmp_path))


def test_design_has_every_input_finite_and_bounded():
    x = design(candidates(300))
    assert list(x.columns) == INPUTS
    assert np.isfinite(x.drop(columns="window").to_numpy()).all()
    # a table without the window score leaves it missing (the trees' missing branch), never 0
    assert x["window"].isna().all()
    w = design(candidates(300).assign(window=np.linspace(-40, 40, 300)))["window"]
    assert w.between(-13.8, 13.8).all() and w.is_monotonic_increasing
    assert x["movement"].between(0, 4).all() and x["dip_s"].between(0, 15).all()
    # no movement channel is no burst: the same inputs as a silent one
    a = design(candidates(5, emg_ratio=np.nan))
    b = design(candidates(5, emg_ratio=1.0))
    assert a[["movement", "movement_s", "movement_lag_s"]].equals(
        b[["movement", "movement_s", "movement_lag_s"]])


def test_probability_moves_with_the_evidence():
    spasm = dict(slow_ratio=4.0, fraction=1.0, n_wave=0.9, slow_rank=0.99, wave_rank_ch=0.97,
                 wave_s=0.8, smoothness=0.85, decrement=0.2, mid_decrement=0.2, n_dec=0.95,
                 n_dec_mid=0.95, dec_rank=0.0, dec_rank_ch=0.01, dip_s=2.0, gap_s=0.0,
                 pre=1.0, emg_ratio=np.nan, synchrony=0.9, sync_all=0.85,
                 background_synchrony=0.4, orphan_rate=0.2, wave_pre=4.0,
                 slow_rank_active=0.99, wave_rank_active=0.97, dips_ctx=0.5, orphans_ctx=0.0,
                 fast_dec=1.5, emg_bursts_ctx=np.nan)
    mimic = dict(spasm, slow_ratio=1.0, fraction=0.3, n_wave=0.05, slow_rank=0.5,
                 wave_rank_ch=0.5, decrement=0.9, mid_decrement=0.95, n_dec=0.05,
                 n_dec_mid=0.05, dec_rank=0.4, dec_rank_ch=0.4, dip_s=0.2, wave_pre=1.0,
                 slow_rank_active=0.5, wave_rank_active=0.5)
    p_spasm = spasm_probability(candidates(20, **spasm))
    p_mimic = spasm_probability(candidates(20, **mimic))
    assert (p_spasm >= spasm_score.THRESHOLD).mean() >= 0.9
    assert (p_mimic < spasm_score.THRESHOLD).all()
    with_burst = spasm_probability(candidates(20, **dict(spasm, decrement=0.5, emg_ratio=30.0,
                                                         emg_burst_s=1.0, emg_lag_s=0.0)))
    without = spasm_probability(candidates(20, **dict(spasm, decrement=0.5)))
    assert with_burst.mean() >= without.mean()


def test_contributions_explain_the_raw_score():
    c = candidates(30)
    booster, card = load_model()
    raw = booster.predict(design(c)[card["features"]].to_numpy(), raw_score=True)
    assert np.allclose(contributions(c).sum(axis=1).to_numpy(), raw, atol=1e-6)


@pytest.mark.slow
def test_the_training_script_runs_on_a_tiny_generated_set(tmp_path, monkeypatch):
    """The training script rebuilds a model (and card) that loads, from a few short recordings
    of hypsa.simulate, and rebuilds it identically."""
    train = script("train_spasm_model", ROOT / "benchmarks" / "train_spasm_model.py")
    monkeypatch.setattr(train.data, "WORK", tmp_path / "work")
    monkeypatch.setattr(train.M, "N_ROUNDS", 40)
    shas = []
    for k in range(2):
        m, card = train.train(3, ["simulate"], 1, max_fp=1.0, minutes=4.0, window=False)
        path = train.write(m, card, tmp_path / f"model{k}",
                           "python benchmarks/train_spasm_model.py")
        booster, loaded = load_model.__wrapped__(str(path.parent))
        shas.append(loaded["sha256"])
    assert shas[0] == shas[1]
    assert loaded["data"]["candidates"]["simulate"]["spasm"] > 10
    p = train.M.predict({"booster": booster, "features": loaded["features"],
                         "calibration": loaded["calibration"]}, candidates(10))
    assert np.all((p >= 0) & (p <= 1))
    assert json.loads((path.parent / CARD_FILE).read_text())["threshold"] == loaded["threshold"]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                    reason="torch (the research extra) is not installed")
def test_the_training_script_builds_the_window_network_too(tmp_path, monkeypatch):
    """With the window score: the networks are trained, the tree model reads their score, and
    the network is written byte for byte the same twice, loads, and scores in numpy."""
    from hypsa import spasm_window as sw

    train = script("train_spasm_model", ROOT / "benchmarks" / "train_spasm_model.py")
    monkeypatch.setattr(train.data, "WORK", tmp_path / "work")
    monkeypatch.setattr(train.M, "N_ROUNDS", 40)
    shas = []
    for k in range(2):
        for f in (tmp_path / "work").rglob("*"):
            if f.name.startswith(("net_", "scores_")):
                f.unlink()  # the networks are trained again, not read from the cache
        m, card = train.train(2, ["simulate", "independent"], 1, max_fp=1.0, minutes=4.0,
                              epochs=1)
        assert "window" in m["features"] and m["window_net"] is not None
        path = train.write(m, card, tmp_path / f"model{k}",
                           "python benchmarks/train_spasm_model.py")
        shas.append(hashlib.sha256((path.parent / sw.WEIGHTS_FILE).read_bytes()).hexdigest())
    assert shas[0] == shas[1]
    w = sw.load_weights(str(path.parent))
    x = np.zeros((2, 9, len(sw.STREAMS), sw.T), np.float32)
    assert np.isfinite(sw.forward(w, x, np.ones((2, 9), bool))).all()
