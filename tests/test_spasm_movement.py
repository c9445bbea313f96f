"""Spasms seen on video-EEG (hypsa.spasm_movement): a sudden movement in a series with the EEG's
pattern is counted; movement alone, or with an ordinary EEG, is not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hypsa.spasm_movement import (
    MOVEMENT_MATCH_S,
    PARTIAL_DECREMENT,
    VIDEO_FEATURE,
    movement_spasms,
    movements_without_spasm,
    pattern_with_movement,
)
from hypsa.spasms import (
    EEG_DECREMENT,
    FEATURE_COLUMNS,
    SPASM_EEG,
    SPASM_EEG_MOVEMENT,
    SpasmParams,
    decrement_only,
)


def _cands(rows: list[dict]) -> pd.DataFrame:
    """Candidates with every feature column: an ordinary high-voltage delta wave of the
    background unless a row says otherwise."""
    base = {k: np.nan for k in FEATURE_COLUMNS}
    base.update(slow_ratio=1.3, fraction=0.4, slow_uv=150.0, decrement=0.9, mid_decrement=0.9,
                n_dec=0.1, dip_s=0.125, gap_s=0.0, confidence=0.1, duration=1.5,
                features="pattern_score", channels="Fp1,Fp2")
    return pd.DataFrame([{**base, **r} for r in rows])


P = SpasmParams()
WAVE = {"slow_ratio": 2.8, "fraction": 0.85}  # a generalized slow wave, no decrement
DECREMENT = {"decrement": 0.3, "mid_decrement": 0.3, "n_dec": 0.8, "dip_s": 2.5, "gap_s": 0.2}


def test_pattern_is_a_generalized_wave_or_a_generalized_decrement():
    c = _cands([{}, WAVE, DECREMENT, {**WAVE, "fraction": 0.4}, {**WAVE, "slow_uv": 2.0}])
    assert pattern_with_movement(c, P).tolist() == [False, True, True, False, False]


def test_a_wave_of_twice_the_background_needs_a_shallow_decrement_after_it():
    # a generalized wave of k_slow (not clear enough alone), then activity at 50 %, 70 %, or
    # unmeasured; the same dip after a wave under k_slow or on too few channels
    wave = {"slow_ratio": P.k_slow + 0.1, "fraction": 0.8}
    shallow = {"decrement": PARTIAL_DECREMENT - 0.1}
    c = _cands([{**wave, **shallow}, {**wave, "decrement": PARTIAL_DECREMENT + 0.1},
                {**wave, "decrement": np.nan},
                {**wave, **shallow, "slow_ratio": P.k_slow - 0.2},
                {**wave, **shallow, "fraction": P.min_fraction - 0.1}])
    assert pattern_with_movement(c, P).tolist() == [True, False, False, False, False]
    # neither part alone is a generalized electrodecrement
    assert not decrement_only(c, P).any()


def test_a_sudden_movement_with_the_pattern_is_counted_once():
    cands = _cands([{"onset": 99.5, **WAVE, "confidence": 0.2},   # the spasm's wave
                    {"onset": 101.5, "confidence": 0.4},             # ordinary delta after it
                    {"onset": 200.8, **DECREMENT},                   # decrement-only form
                    {"onset": 300.2}])                               # movement, ordinary EEG
    events = _cands([{"onset": 200.9, **DECREMENT}]).assign(trial_type=EEG_DECREMENT)
    moves = [{"onset": t, "duration": 1.0} for t in (100.0, 200.0, 300.0, 400.0)]
    out = movement_spasms(events, cands, moves, P)
    sp = out[out["trial_type"] == SPASM_EEG_MOVEMENT]
    assert sp["onset"].tolist() == [99.5, 200.8]
    assert all(f.endswith(VIDEO_FEATURE) for f in sp["features"])
    # the decrement event at the same moment is now that spasm, not a second event
    assert EEG_DECREMENT not in set(out["trial_type"])
    assert (sp["eventType"] == "sz_gen_m_spasms").all()
    # the movement at 300 s (no pattern) and at 400 s (no EEG candidate) stay listed, uncounted
    assert [m["onset"] for m in movements_without_spasm(moves, out)] == [300.0, 400.0]


def test_a_movement_already_matched_by_a_spasm_adds_nothing():
    cands = _cands([{"onset": 100.5, **WAVE}, {"onset": 99.0, **WAVE}])
    events = _cands([{"onset": 100.5, **WAVE}]).assign(trial_type=SPASM_EEG)
    moves = [{"onset": 100.0 + MOVEMENT_MATCH_S - 0.5, "duration": 1.0}]
    out = movement_spasms(events, cands, moves, P)
    assert len(out) == 1 and out["trial_type"].tolist() == [SPASM_EEG]


def test_nothing_to_add_returns_the_events_unchanged():
    events = _cands([{"onset": 10.0}]).assign(trial_type=SPASM_EEG)
    moves = [{"onset": 100.0, "duration": 1.0}]
    assert movement_spasms(events, None, moves, P) is events
    assert movement_spasms(events, _cands([{"onset": 100.0, **WAVE}]), [], P) is events
    # no events at all yet: the new one still carries the event columns
    out = movement_spasms(events.iloc[:0], _cands([{"onset": 100.0, **WAVE}]), moves, P)
    assert out["trial_type"].tolist() == [SPASM_EEG_MOVEMENT] and "keep" not in out
