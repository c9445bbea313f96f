"""The spasm detector's stages, each alone, its event vocabulary, and a plain spasm on the
hypsarrhythmic background of each generator of the generalization bench."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hypsa.analysis import analyze
from hypsa.evaluate import score_events
from hypsa.signal import bandpass
from hypsa.spasm_window import window_logit
from hypsa.spasms import (
    EEG_DECREMENT,
    EVENT_TYPES,
    FEATURE_COLUMNS,
    SPASM_EEG,
    SPASM_EEG_MOVEMENT,
    SpasmParams,
    decide,
    detect_spasms,
    find_candidates,
    frame_measures,
    measure_candidates,
    to_events,
)

ROOT = Path(__file__).resolve().parents[1]
GEN = ROOT / "benchmarks" / "generalize"
REAL = ROOT.parent / "shared" / "data" / "real" / "children_19ch"
FS = 256.0


def background(seconds: float = 90.0, n_ch: int = 19, seed: int = 0) -> np.ndarray:
    """Asynchronous 1/f-like EEG, about 50 µV, different on every channel."""
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.standard_normal((n_ch, int(seconds * FS))), axis=1)
    x = bandpass(x, FS, 0.5, 45.0, order=2)
    return 50.0 * x / x.std(axis=1, keepdims=True)


def add_spasm(x: np.ndarray, t: float, *, wave_uv: float = 300.0, depth: float = 0.25,
              dec_s: float = 2.0, wave: bool = True) -> np.ndarray:
    """A generalized 0.7-s slow wave at ``t`` then the activity cut to ``depth`` for ``dec_s``."""
    y = x.copy()
    i0 = int(t * FS)
    n = int(0.7 * FS)
    if wave:
        y[:, i0:i0 + n] += wave_uv * np.sin(np.pi * np.arange(n) / n)[None, :]
    d0, d1 = i0 + n, i0 + n + int(dec_s * FS)
    ramp = int(0.15 * FS)
    gain = np.ones(y.shape[1])
    gain[d0:d1] = depth
    gain[d0 - ramp:d0] = np.linspace(1, depth, ramp)
    gain[d1:d1 + ramp] = np.linspace(depth, 1, ramp)
    return y * gain[None, :]


def _fast_dec_at(x: np.ndarray, t: float, fm=None) -> float:
    p = SpasmParams()
    fm = fm if fm is not None else frame_measures(x, FS, p)
    frames, _ = find_candidates(fm, p)
    near = frames[np.abs(frames / fm.fs_fr - (t + 0.3)) < 1.0]
    assert near.size >= 1
    return float(measure_candidates(fm, near[:1], p)["fast_dec"].iloc[0])


def test_fast_activity_share_in_the_decrement():
    rng = np.random.default_rng(3)
    x = add_spasm(background(), 45.0)
    # low-voltage fast activity (20-30 Hz, 8 µV) filling the 2-s decrement
    fast = bandpass(rng.standard_normal(x.shape), FS, 20.0, 30.0, order=4)
    fast = 8.0 * fast / fast.std(axis=1, keepdims=True)
    filled = x.copy()
    i0, i1 = int(45.7 * FS), int(47.7 * FS)
    filled[:, i0:i1] += fast[:, i0:i1]
    scaled, with_fast = _fast_dec_at(x, 45.0), _fast_dec_at(filled, 45.0)
    assert 0.6 < scaled < 1.6 and with_fast > 1.5 * scaled
    # the band given with the others (as hypsa.analyze takes it from its filter bank) reads the
    # same as the one frame_measures filters itself
    p = SpasmParams()
    bands = (bandpass(filled, FS, 0.5, 4.0, order=2), bandpass(filled, FS, 1.0, 45.0, order=2),
             bandpass(filled, FS, 4.0, 12.0, order=2), bandpass(filled, FS, 15.0, 40.0, order=4))
    given = _fast_dec_at(filled, 45.0, frame_measures(filled, FS, p, bands=bands))
    assert given == pytest.approx(with_fast, rel=1e-3)


def test_each_stage_alone_on_a_plain_spasm():
    x = add_spasm(background(), 45.0)
    p = SpasmParams()
    fm = frame_measures(x, FS, p)
    assert fm.rn.shape == fm.g.shape == (fm.nf,)
    frames, orphan = find_candidates(fm, p)
    near = frames[np.abs(frames / fm.fs_fr - 45.3) < 1.0]
    assert near.size >= 1 and orphan >= 0
    c = measure_candidates(fm, near, p)
    assert list(c.columns) == ["onset", "duration", *FEATURE_COLUMNS, "channels"]
    r = c.iloc[0]
    assert r.decrement < 0.45 and r.n_dec > 0.8 and r.n_wave > 0.8 and r.slow_ratio > 2
    assert r.dec_rank < 0.05 and r.slow_rank > 0.9 and 1.0 <= r.dip_s <= 3.0
    # the window score of the EEG around it, as detect_spasms adds it
    c = c.assign(window=window_logit(fm, c["onset"].to_numpy(float)))
    assert c["window"].iloc[0] > 0
    d = decide(c, p)
    assert d["keep"].iloc[0] and d["confidence"].iloc[0] >= p.min_confidence
    ev = to_events(d, p)
    assert list(ev["trial_type"]) == [SPASM_EEG] and list(ev["eventType"]) == ["sz_gen"]
    assert abs(ev["onset"].iat[0] - 45.0) < 1.0


def test_the_same_background_without_the_spasm_gives_no_event():
    ev = detect_spasms(background(seed=3), FS)
    assert not ev["trial_type"].isin([SPASM_EEG, SPASM_EEG_MOVEMENT]).any()


def test_a_decrement_with_no_wave_is_an_eeg_decrement_not_a_spasm():
    x = add_spasm(background(seed=1), 45.0, wave=False, depth=0.15, dec_s=2.5)
    ev = detect_spasms(x, FS)
    assert not ev["trial_type"].isin([SPASM_EEG, SPASM_EEG_MOVEMENT]).any()
    dec = ev[ev["trial_type"] == EEG_DECREMENT]
    assert len(dec) == 1 and abs(dec["onset"].iat[0] - 45.5) < 1.5
    assert dec["eventType"].iat[0] == EVENT_TYPES[EEG_DECREMENT]


def test_a_movement_burst_makes_the_spasm_a_spasm_with_movement():
    x = add_spasm(background(seed=2), 45.0)
    p = SpasmParams()
    nf = x.shape[1] // int(p.frame_s * FS)
    env = np.ones(nf) + 0.1 * np.random.default_rng(0).random(nf)
    k = int(45.0 / p.frame_s)
    env[k:k + 8] = 30.0  # a 1-s burst, 30x its background
    ev = detect_spasms(x, FS, emg_env=env)
    sp = ev[ev["trial_type"] == SPASM_EEG_MOVEMENT]
    assert len(sp) == 1 and sp["eventType"].iat[0] == "sz_gen_m_spasms"
    assert sp["emg_ratio"].iat[0] > 10


def test_events_stage_merges_and_keeps_decrements_apart_from_spasms():
    c = pd.DataFrame({
        "onset": [10.0, 11.0, 20.0, 21.5, 40.0], "duration": 1.0,
        "confidence": [0.9, 0.95, 0.1, 0.2, 0.1], "emg_ratio": [np.nan, 20.0, np.nan, 1, 1],
        "decrement": [0.2, 0.2, 0.3, 0.2, 0.25],
        "keep": [True, True, False, False, False],
        "eeg_decrement": [False, False, True, True, True],
    })
    ev = to_events(c, SpasmParams())
    # the more confident of two spasms 1 s apart stands; of two decrements the deeper one
    assert list(ev["onset"]) == [11.0, 21.5, 40.0]
    assert list(ev["trial_type"]) == [SPASM_EEG_MOVEMENT, EEG_DECREMENT, EEG_DECREMENT]
    # a decrement within the refractory time of a spasm is the spasm's own
    c2 = c.assign(eeg_decrement=[False, False, False, False, False])
    c2.loc[0, "keep"] = False
    c2.loc[0, "eeg_decrement"] = True
    assert list(to_events(c2, SpasmParams())["onset"]) == [11.0]
    assert len(to_events(c, SpasmParams(), core=(15.0, 30.0))) == 1


def _found(truth: pd.DataFrame, a, minutes: float) -> float:
    ev = a.events[a.events["trial_type"].isin([SPASM_EEG, SPASM_EEG_MOVEMENT])]
    s = score_events(truth, ev, minutes * 60, "spasm")
    return s.tp / max(s.n_ref, 1)


def test_plain_spasms_on_hypsarrhythmia_of_hypsa_simulate():
    from hypsa.simulate import simulate

    sim = simulate(300.0, hypsarrhythmia="classic", n_clusters=1, spasms_per_cluster=(6, 8),
                   seed=11)
    a = analyze(sim.to_recording())
    assert _found(sim.events, a, 5.0) >= 0.8
    sp = a.summary_["spasms"]
    assert sp["count"] == sp["count_eeg_only"] + sp["count_with_movement"]
    assert sp["model"]["sha256"]


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/data/real is absent")
def test_plain_spasms_on_hypsarrhythmia_of_the_crosscheck_generator(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks" / "crosscheck"))
    import gen

    P = dict(gen.PARAMS, p_slow_wave=1.0, p_decrement=1.0, dec_depth=(0.25, 0.25),
             dec_dur_s=(2.0, 2.0), slow_amp_uv=(400.0, 400.0), p_vertex_max=1.0,
             slow_floor=(0.4, 0.4), p_emg_at_256=0.0, n_clusters=(1, 1),
             spasms_per_cluster=(6, 8))
    tr = gen.make_recording(4, "classic", str(tmp_path), duration_s=300.0, spasms=True,
                            fs=256.0, P=P)
    truth = pd.read_csv(tmp_path / f"{tr.stem}.spasms.tsv", sep="\t")
    a = analyze(tmp_path / f"{tr.stem}.edf")
    assert len(truth) >= 3 and _found(truth, a, 5.0) >= 0.8


@pytest.mark.skipif(not (GEN / "independent.py").is_file(),
                    reason="the independent generator is not in the tree")
def test_plain_spasms_on_hypsarrhythmia_of_the_independent_generator(tmp_path):
    sys.path.insert(0, str(GEN))
    import independent

    case = independent.generate(tmp_path, seed=5, background="hyps_classic", minutes=5.0,
                                plain=True, n_clusters=1)
    ev = pd.read_csv(case.events, sep="\t")
    truth = ev[ev["trial_type"] == "spasm"]
    a = analyze(case.edf)
    assert len(truth) >= 3 and _found(truth, a, 5.0) >= 0.8


@pytest.mark.parametrize("name", ["fourth", "fifth", "sixth"])
def test_plain_spasms_on_hypsarrhythmia_of_the_file_generators(tmp_path, name):
    # the fifth and sixth generators are held out from every fit and choice
    # (benchmarks/generalize/shipped.py)
    sys.path.insert(0, str(GEN))
    g = importlib.import_module(name)

    case = g.generate(tmp_path, seed=5, background="hyps_classic", minutes=5.0, plain=True)
    ev = pd.read_csv(case.events, sep="\t")
    truth = ev[ev["trial_type"] == "spasm"]
    a = analyze(case.edf)
    assert len(truth) >= 3 and _found(truth, a, 5.0) >= 0.8


def test_a_slow_wave_without_decrement_needs_a_strong_short_movement_burst():
    from hypsa.spasms import eligible

    c = pd.DataFrame({"decrement": 1.0, "synchrony": 0.8, "slow_ratio": 3.0, "emg_lag_s": 0.1,
                      "slow_uv": 150.0, "fraction": 0.9,
                      "emg_ratio": [20.0, 20.0, 8.0, np.nan, 20.0, 20.0, 20.0],
                      "emg_burst_s": [1.2, 3.0, 1.2, 1.2, 1.2, 1.2, 1.2]})
    c.loc[4, "synchrony"] = 0.4   # the wave is not generalized
    c.loc[5, "slow_ratio"] = 2.2  # nor clear above its background
    c.loc[6, "emg_lag_s"] = 1.5   # the burst starts well after the wave
    assert eligible(c).tolist() == [True, False, False, False, False, False, False]
    # followed by a decrement, every candidate is for the model to decide
    assert eligible(c.assign(decrement=0.3)).all()
    # but never a "wave" of a few µV (a dip in the suppression of burst suppression)
    assert not eligible(c.assign(decrement=0.3, slow_uv=8.0)).any()


def test_a_full_generalized_wave_may_be_followed_by_a_shallow_decrement():
    from hypsa.spasms import eligible

    c = pd.DataFrame({"decrement": 0.7, "synchrony": 0.8, "slow_uv": 150.0,
                      "slow_ratio": [3.0, 1.7, 3.0, 3.0], "fraction": [0.9, 0.9, 0.4, 0.9],
                      "emg_ratio": np.nan, "emg_burst_s": np.nan, "emg_lag_s": np.nan})
    c.loc[3, "decrement"] = 0.9  # no decrement at all
    # a shallow dip after a full generalized wave is for the model to decide; after a weaker
    # or a less widespread wave, or with no dip, it is not
    assert eligible(c).tolist() == [True, False, False, False]


def test_a_decrement_with_a_strong_short_time_locked_burst_takes_the_movement_path():
    from hypsa.spasms import spasm_decision

    c = pd.DataFrame({"decrement": 0.35, "synchrony": 0.5, "slow_ratio": 1.8, "slow_uv": 150.0,
                      "fraction": 0.7,
                      "emg_ratio": [20.0, 3.0, 20.0, 20.0, np.nan, 20.0],
                      "emg_burst_s": [1.5, 1.5, 4.0, 1.5, np.nan, 1.5],
                      "emg_lag_s": [1.0, 1.0, 1.0, 2.5, np.nan, 0.2]})
    c.loc[5, "decrement"] = 0.9  # no decrement (and no clear wave): the burst is not enough
    p = SpasmParams()
    conf = np.full(len(c), 0.6)  # under the model's threshold, over movement_confidence
    assert spasm_decision(c, conf, p).tolist() == [True, False, False, False, False, False]
    # under movement_confidence nothing passes; at the threshold every eligible one does
    assert not spasm_decision(c, np.full(len(c), 0.4), p).any()
    assert spasm_decision(c, np.full(len(c), p.min_confidence), p).tolist() == \
        [True, True, True, True, True, False]


def test_the_movement_path_judges_the_wave_relative_to_its_background_not_in_microvolts():
    from hypsa.spasms import eligible, spasm_decision

    # the pattern at a quarter of the usual voltage (a recording at low gain), and a "wave" of
    # a few µV (a dip in suppression); each with a strong, short, time-locked burst
    c = pd.DataFrame({"decrement": 0.3, "synchrony": 0.7, "slow_ratio": 2.2, "fraction": 0.8,
                      "slow_uv": [12.0, 3.0, 12.0], "emg_ratio": [20.0, 20.0, np.nan],
                      "emg_burst_s": [1.2, 1.2, np.nan], "emg_lag_s": [0.2, 0.2, np.nan]})
    p = SpasmParams()
    assert not eligible(c).any()  # under half of min_slow_uv: no path without movement
    assert spasm_decision(c, np.full(len(c), 0.6), p).tolist() == [True, False, False]
    # with no movement channel even a certain score does not make the small wave a spasm
    assert not spasm_decision(c, np.full(len(c), 0.99), p)[2]


def _events_on_quiet_background(seed: int, edit) -> tuple[pd.DataFrame, list[str], float]:
    from hypsa.simulate import simulate

    sim = simulate(300.0, hypsarrhythmia="none", n_clusters=0, emg=False, artifacts=False,
                   seed=seed)
    rec = sim.to_recording()
    fs = rec.sfreq
    names = [c.name for c in rec.channels if c.kind == "eeg"]
    eeg = rec.get_data("eeg").copy()
    edit(eeg, fs)
    return detect_spasms(bandpass(eeg, fs, 0.5, 45.0, order=2), fs, ch_names=names), names, fs


def test_each_spasm_names_the_channels_it_involves():
    """Four spasm-like events (a slow wave, then activity cut to 15 % for 3 s) on 14 of the 19
    channels: the events name those 14 channels and few others."""
    def edit(eeg, fs):
        n1 = int(fs)
        wave = 200.0 * np.sin(np.pi * np.arange(n1) / n1)
        for t in (60.0, 110.0, 160.0, 210.0):
            a = int(t * fs)
            eeg[:14, a:a + n1] += wave
            eeg[:14, a + n1:a + 4 * n1] *= 0.15

    ev, names, _ = _events_on_quiet_background(3, edit)
    # (every event names its channels, a spasm or an eeg_decrement alike: on this quiet,
    # synchronous background the model calls some of these events decrements)
    assert len(ev) == 4
    involved = [set(c.split(",")) for c in ev.channels]
    assert all(set(names[:14]) <= s for s in involved)
    assert sum(s == set(names[:14]) for s in involved) >= 3


def test_a_spasm_just_after_an_attenuation_episode_keeps_its_decrement():
    """Each of four spasm-like events comes 2.5 s after the background recovers from a 4-s
    flattening: measured against the activity just before the wave, its decrement shows."""
    onsets = (60.0, 110.0, 160.0, 210.0)

    def edit(eeg, fs):
        n1 = int(fs)
        wave = 250.0 * np.sin(np.pi * np.arange(n1) / n1)
        for t in onsets:
            a = int(t * fs)
            eeg[:, a - int(6.5 * fs):a - int(2.5 * fs)] *= 0.1
            eeg[:, a:a + n1] += wave
            eeg[:, a + n1:a + 3 * n1] *= 0.25

    ev, _, _ = _events_on_quiet_background(4, edit)
    sp = ev[ev["trial_type"].isin([SPASM_EEG, SPASM_EEG_MOVEMENT])]
    near = np.abs(sp.onset.to_numpy()[:, None] - np.array(onsets)[None, :]) <= 1.0
    assert near.any(axis=0).all()
    assert (sp.decrement[near.any(axis=1)] <= SpasmParams().max_decrement).all()


def test_an_artifact_at_the_very_end_does_not_set_the_last_blocks_level():
    """The background of the last, partial 30-s block is the median of its own frames: one large
    artifact in the final frames must not raise it (and fake an electrodecrement before it)."""
    from hypsa.spasms import _background

    block = 240
    fr = np.ones((2, 2 * block + 40))
    fr[:, -1] = 100.0
    bg = _background(fr, block)
    np.testing.assert_allclose(bg[:, -40:], 1.0)
    # an ordinary background with a burst of artifact in its last half second: no event
    x = background(75.0, seed=3)
    x[:, -int(0.5 * FS):] += 800.0 * np.sign(np.sin(np.arange(int(0.5 * FS)) / 5.0))[None, :]
    ev = detect_spasms(x, FS)
    assert not len(ev)


def test_a_strong_movement_burst_anchors_a_candidate_the_eeg_alone_does_not():
    """A faint spasm (a wave of about the background's size, a shallow decrement) makes no EEG
    anchor; with a movement channel its strong, short burst anchors a candidate at it, measured
    with the burst's width at half height."""
    x = bandpass(add_spasm(background(120.0, seed=5), 60.0, wave_uv=40.0, depth=0.8,
                           dec_s=1.0), FS, 0.5, 45.0, order=2)
    p = SpasmParams()
    nf = int(120.0 / p.frame_s)
    env = np.full(nf, 2.0) + np.random.default_rng(1).uniform(0, 0.5, nf)
    t = np.arange(nf) * p.frame_s
    env += 60.0 * np.clip(1.0 - np.abs(t - 60.5) / 0.5, 0.0, None)  # a 1-s diamond
    fm_eeg = frame_measures(x, FS, p)
    fm_mv = frame_measures(x, FS, p, emg_env=env)
    eeg_only, _ = find_candidates(fm_eeg, p)
    moved, _ = find_candidates(fm_mv, p)
    near = lambda f: np.abs(f * p.frame_s - 60.3) <= 1.0  # noqa: E731
    assert not near(eeg_only).any() and near(moved).any()
    c = measure_candidates(fm_mv, moved[near(moved)], p)
    assert (c["emg_ratio"] >= 2 * p.emg_ratio).all()
    assert c["emg_half_s"].between(0.25, 1.0).all()
