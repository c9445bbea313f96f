"""The discharge candidates' measurements, the model's training script and its loading.

No discharge model ships with hypsa (the rule stays the detector, docs/validation.md); these
tests build a small one with ``benchmarks/train_discharge_model.py`` from one-minute
``hypsa.simulate`` recordings and check that it loads only with its hash, finds clear spikes and
leaves ordinary background alone.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hypsa.channels import POSITIONS, STANDARD_19
from hypsa.discharge_model import (
    CARD_FILE,
    FEATURES,
    MODEL,
    MODEL_FILE,
    DischargeModelError,
    candidate_features,
    load_model,
)
from hypsa.signal import bandpass
from hypsa.spikes import SpikeParams, detect_discharges

ROOT = Path(__file__).resolve().parents[1]
FS = 128.0
POS = np.array([POSITIONS[n] for n in STANDARD_19])
TINY = ["--generators", "simulate", "--cases", "hyps_classic,normal,single_focus",
        "--seeds", "1", "--seed0", "7", "--minutes", "1"]


def _background(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((19, int(seconds * FS))).astype(np.float32) * 20
    return bandpass(x, FS, 0.5, 30.0)


def _add_spike(x: np.ndarray, t: float, centre: str, amp: float = 200.0) -> None:
    """A spike (steep 20-ms rise, 40-ms fall) with a field falling off around ``centre``."""
    w, rise = int(0.06 * FS), int(0.02 * FS)
    shape = -amp * np.r_[np.linspace(0, 1, rise, endpoint=False), np.linspace(1, 0, w - rise)]
    c = np.array(POSITIONS[centre])
    i0 = int(t * FS)
    for i, n in enumerate(STANDARD_19):
        d2 = float(((np.array(POSITIONS[n]) - c) ** 2).sum())
        x[i, i0:i0 + w] += shape * np.exp(-d2 / 0.3)


def _train(out: Path) -> dict:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import train_discharge_model as tdm

    assert tdm.main([*TINY, "--out", str(out)]) == 0
    return json.loads((out / CARD_FILE).read_text())


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("discharge_model")
    _train(out)
    return out


def test_candidate_measurements_of_a_clear_spike():
    x = _background(30, seed=3)
    _add_spike(x, 10.0, "C4")
    pk, ch, f = candidate_features(x, FS, positions=POS)
    assert f.shape == (pk.size, len(FEATURES))
    col = {k: i for i, k in enumerate(FEATURES)}
    at = np.flatnonzero((np.abs(pk / FS - 10.02) < 0.06) & (ch == STANDARD_19.index("C4")))
    assert at.size == 1
    s = f[at[0]]
    assert s[col["contrast"]] > 6 and s[col["is_location"]] == 1
    assert 20 <= s[col["duration_ms"]] <= 200
    assert s[col["nb_seen"]] >= 1 and s[col["strong_share"]] < 0.5
    assert s[col["isolation"]] > 1.5
    # ordinary background: no candidate stands out like it
    others = np.flatnonzero(np.abs(pk / FS - 10.02) > 0.5)
    assert f[others, col["contrast"]].max(initial=0) < s[col["contrast"]]


def test_excluded_bins_give_no_candidates():
    x = _background(20, seed=5)
    _add_spike(x, 7.3, "O1")
    excluded = np.zeros(20, dtype=bool)
    excluded[7] = True
    pk, _, _ = candidate_features(x, FS, positions=POS, excluded=excluded)
    assert not np.any((pk / FS >= 7) & (pk / FS < 8))


@pytest.mark.slow
def test_training_script_is_deterministic(tiny, tmp_path):
    card = _train(tmp_path)
    assert card["sha256"] == json.loads((tiny / CARD_FILE).read_text())["sha256"]
    assert (tmp_path / MODEL_FILE).read_bytes() == (tiny / MODEL_FILE).read_bytes()
    assert card["features"] == list(FEATURES) and 0 < card["threshold"] < 1
    assert "--out" not in card["command"]


@pytest.mark.slow
def test_model_loads_only_with_its_hash(tiny, tmp_path):
    booster, card = load_model(str(tiny))
    assert booster.num_feature() == len(card["features"])
    bad = tmp_path / "bad"
    shutil.copytree(tiny, bad)
    (bad / MODEL_FILE).write_text((bad / MODEL_FILE).read_text() + "\n")
    with pytest.raises(DischargeModelError, match="sha256"):
        load_model(str(bad))
    with pytest.raises(DischargeModelError, match="no discharge model"):
        load_model(str(tmp_path / "none"))
    with pytest.raises(DischargeModelError):
        detect_discharges(_background(5), FS, params=replace(MODEL, model_dir=str(tmp_path)))


@pytest.mark.slow
def test_model_finds_clear_spikes_and_not_background(tiny):
    p = replace(MODEL, model_dir=str(tiny))
    for seed in range(2):
        x = _background(60, seed=seed)
        assert len(detect_discharges(x.copy(), FS, params=p, positions=POS)) <= 3
        times = np.arange(2, 58, 4.0)
        for t in times:
            _add_spike(x, t, "C4")
        d = detect_discharges(x, FS, params=p, positions=POS)
        assert np.mean([np.min(np.abs(d.time_s - t)) < 0.1 for t in times]) >= 0.9
        at = np.min(np.abs(d.time_s[:, None] - times[None, :]), axis=1) < 0.1
        assert np.mean([STANDARD_19[c] in ("C4", "T8", "P4", "F4", "Cz")
                        for c in d.channel[at]]) > 0.9
        assert d.contrast is not None and np.all(d.contrast >= MODEL.k_local)


def test_rule_stays_the_default():
    assert SpikeParams().model is False
