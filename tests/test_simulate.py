"""Tests of hypsa.simulate: determinism, truth consistent with signals, EDF output, parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.ndimage import uniform_filter1d

from hypsa.errors import ParameterError
from hypsa.simulate import EEG_NAMES, VARIANTS, simulate, simulate_to_edf

edfio = pytest.importorskip("edfio")

PAIRS = [("Fp1", "F7"), ("F7", "T7"), ("T7", "P7"), ("P7", "O1"), ("Fp2", "F8"), ("F8", "T8"),
         ("T8", "P8"), ("P8", "O2"), ("Fp1", "F3"), ("F3", "C3"), ("C3", "P3"), ("P3", "O1"),
         ("Fp2", "F4"), ("F4", "C4"), ("C4", "P4"), ("P4", "O2"), ("Fz", "Cz"), ("Cz", "Pz")]
IDX = {n: i for i, n in enumerate(EEG_NAMES)}


def bipolar_p2p(data: np.ndarray, fs: int) -> np.ndarray:
    """Peak-to-peak (n_pairs, n_bins) of the longitudinal bipolar montage in 1-s bins."""
    b = np.stack([data[IDX[a]] - data[IDX[c]] for a, c in PAIRS]).astype(float)
    n = b.shape[1] // fs
    r = b[:, : n * fs].reshape(len(PAIRS), n, fs)
    return r.max(-1) - r.min(-1)


def mean_abs_corr(data: np.ndarray) -> float:
    c = np.corrcoef(data[:19])
    return float(np.abs(c[~np.eye(19, dtype=bool)]).mean())


@pytest.fixture(scope="module")
def spasm_sim():
    return simulate(900, hypsarrhythmia="classic", n_clusters=2, spasms_per_cluster=(4, 6),
                    spasm_interval_s=(10.0, 30.0), emg=True, artifacts=False, seed=11)


def test_shapes_dtypes_and_tables(spasm_sim):
    s = spasm_sim
    assert s.data.dtype == np.float32
    assert s.data.shape == (20, 900 * 256)
    assert s.ch_names == [*EEG_NAMES, "EMG"] and s.ch_types == ["eeg"] * 19 + ["emg"]
    assert np.isfinite(s.data).all()
    for col in ("onset", "duration", "cluster", "eventType", "trial_type", "has_emg"):
        assert col in s.events
    assert (s.events["eventType"] == "sz_gen_m_spasms").all()
    assert s.events["duration"].between(0.5, 2.0).all()
    assert list(s.clusters.columns) == ["cluster", "onset", "offset", "count"]
    assert s.clusters["count"].sum() == len(s.events)
    assert set(s.states["state"]) <= {"wake", "nrem", "rem"}
    assert np.isclose(s.states["duration"].sum(), 900)
    assert s.truth["expected_present"] and s.truth["form"] == "classic"
    assert len(s.truth["artifacts"]) == 0


def test_determinism_by_seed():
    a = simulate(60, seed=5, emg=True)
    b = simulate(60, seed=5, emg=True)
    c = simulate(60, seed=6, emg=True)
    np.testing.assert_array_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.truth["artifacts"], b.truth["artifacts"])
    assert not np.array_equal(a.data, c.data)


def test_spasm_slow_wave_larger_and_decrement_lower(spasm_sim):
    s, fs = spasm_sim, 256
    cz = s.data[IDX["Cz"]].astype(float)
    eeg = s.data[:19].astype(float)
    ratios, decs = [], []
    for ev in s.events.itertuples():
        a = int(ev.slow_wave_onset * fs)
        b = int((ev.slow_wave_onset + ev.slow_wave_duration) * fs)
        pre = cz[int((ev.onset - 8) * fs) : int((ev.onset - 1) * fs)].reshape(-1, fs)
        ratios.append(np.ptp(cz[a:b]) / np.median(np.ptp(pre, axis=1)))
        d0 = int((ev.decrement_onset + 0.4 * ev.slow_wave_duration + 0.1) * fs)
        d1 = int((ev.decrement_onset + ev.decrement_duration - 0.1) * fs)
        pre_rms = eeg[:, int((ev.onset - 6) * fs) : int((ev.onset - 1) * fs)].std(axis=1)
        decs.append(np.median(eeg[:, d0:d1].std(axis=1) / pre_rms))
    assert np.median(ratios) > 1.2 and np.mean(np.array(ratios) > 1) >= 0.8
    assert max(decs) < 0.7 and np.median(decs) < 0.5


def test_spasm_amplitude_on_normal_background():
    s = simulate(400, hypsarrhythmia="none", n_clusters=1, spasms_per_cluster=(5, 5),
                 spasm_interval_s=(10, 20), artifacts=False, seed=2)
    cz, fs = s.data[IDX["Cz"]].astype(float), 256
    for ev in s.events.itertuples():
        a, b = int(ev.slow_wave_onset * fs), int((ev.slow_wave_onset + ev.slow_wave_duration) * fs)
        pre = cz[int((ev.onset - 8) * fs) : int((ev.onset - 1) * fs)].reshape(-1, fs)
        assert np.ptp(cz[a:b]) > 2 * np.median(np.ptp(pre, axis=1))


def test_emg_burst_diamond(spasm_sim):
    s, fs = spasm_sim, 256
    emg = s.data[s.ch_names.index("EMG")].astype(float)
    env = np.sqrt(uniform_filter1d(emg**2, int(0.15 * fs)))
    baseline = np.median(env)
    with_emg = s.events[s.events["has_emg"]]
    assert len(with_emg) >= 0.6 * len(s.events)
    for ev in with_emg.itertuples():
        a, b = int(ev.emg_onset * fs), int((ev.emg_onset + ev.emg_duration) * fs)
        seg = env[a:b]
        assert seg.max() > 5 * baseline
        q = len(seg) // 4
        assert 0.2 < np.argmax(seg) / len(seg) < 0.8
        middle = seg[q : 3 * q].mean()
        assert middle > seg[:q].mean() and middle > seg[3 * q :].mean()


def test_cluster_structure():
    s = simulate(2400, n_clusters=3, spasms_per_cluster=(3, 6), artifacts=False, seed=4)
    assert len(s.clusters) == 3
    groups = s.events.groupby("cluster")
    inside = np.concatenate([np.diff(g["onset"].to_numpy()) for _, g in groups])
    between = s.clusters["onset"].to_numpy()[1:] - s.clusters["offset"].to_numpy()[:-1]
    assert inside.max() < between.min()
    assert inside.min() >= 5.0 and inside.max() <= 40.0


def test_amplitude_and_synchrony_contrasts():
    kw = dict(n_clusters=0, artifacts=False, sleep=False, seed=3)
    classic = simulate(240, hypsarrhythmia="classic", **kw)
    normal = simulate(240, hypsarrhythmia="none", **kw)
    sync = simulate(240, hypsarrhythmia="modified", variant="synchronous", **kw)
    slow_sleep = simulate(240, hypsarrhythmia="none", background="sleep_slow", **kw)
    high_classic = (bipolar_p2p(classic.data, 256) > 200).any(axis=0).mean()
    high_normal = (bipolar_p2p(normal.data, 256) > 200).any(axis=0).mean()
    assert high_classic > 0.8 and high_normal < 0.2
    assert (bipolar_p2p(slow_sleep.data, 256) > 200).any(axis=0).mean() < 0.5
    c_classic = mean_abs_corr(classic.data)
    assert c_classic < mean_abs_corr(sync.data) and c_classic < mean_abs_corr(slow_sleep.data)


@pytest.mark.parametrize("variant", VARIANTS)
def test_modified_variants_run(variant):
    s = simulate(60, hypsarrhythmia="modified", variant=variant, n_clusters=0, seed=1)
    assert s.truth["variant"] == variant and s.truth["expected_present"]
    assert np.isfinite(s.data).all()


@pytest.mark.parametrize(
    "background", ["normal", "sleep_slow", "single_focus", "burst_suppression"]
)
def test_backgrounds_are_negatives(background):
    s = simulate(60, hypsarrhythmia="none", background=background, n_clusters=0, seed=1)
    assert not s.truth["expected_present"]
    assert np.isfinite(s.data).all()


def test_burst_suppression_has_suppressed_stretches():
    s = simulate(120, hypsarrhythmia="none", background="burst_suppression", n_clusters=0,
                 artifacts=False, sleep=False, seed=2)
    rms = s.data[:19].astype(float).reshape(19, -1, 128).std(axis=2).mean(axis=0)
    assert np.mean(rms < 10) > 0.25 and rms.max() > 40


def test_artifacts_listed_and_mains():
    s = simulate(600, emg=True, n_clusters=0, mains_hz=60.0, seed=8)
    art = s.truth["artifacts"]
    assert list(art.columns) == ["onset", "duration", "kind", "channel"]
    assert {"flat_channel", "noisy_channel", "mains"} <= set(art["kind"])
    flat = art.loc[art["kind"] == "flat_channel", "channel"].iloc[0]
    assert s.data[s.ch_names.index(flat)].std() < 2.0
    spec = np.abs(np.fft.rfft(s.data[IDX["Cz"]].astype(float)))
    f = np.fft.rfftfreq(s.data.shape[1], 1 / 256)
    assert spec[np.argmin(np.abs(f - 60))] > 5 * np.median(spec[(f > 55) & (f < 65)])


def test_write_edf_round_trip(tmp_path, spasm_sim):
    s = spasm_sim
    path = s.write_edf(tmp_path / "sub-01_eeg.edf")
    edf = edfio.read_edf(path)
    assert [sig.label for sig in edf.signals] == s.ch_names
    assert edf.duration == pytest.approx(900)
    assert len(edf.annotations) == len(s.annotations())
    assert sum(a.text == "sz_gen_m_spasms" for a in edf.annotations) == len(s.events)
    np.testing.assert_allclose(edf.signals[9].data, s.data[9], atol=0.06)
    ev = pd.read_csv(tmp_path / "sub-01_events.tsv", sep="\t")
    assert list(ev.columns) == ["onset", "duration", "eventType", "trial_type", "confidence",
                                "channels", "dateTime", "recordingDuration"]
    assert len(ev) == len(s.events)


def test_bckg_row_without_spasms(tmp_path):
    s = simulate(30, n_clusters=0, seed=1)
    s.write_edf(tmp_path / "x.edf")
    ev = pd.read_csv(tmp_path / "x_events.tsv", sep="\t")
    assert len(ev) == 1 and ev["eventType"].iloc[0] == "bckg"
    assert ev["duration"].iloc[0] == pytest.approx(30)


def test_simulate_to_edf_streams_same_content(tmp_path):
    kw = dict(n_clusters=1, spasms_per_cluster=(2, 3), emg=True, seed=9, chunk_s=50)
    path = simulate_to_edf(tmp_path / "long.edf", 125, **kw)
    edf = edfio.read_edf(path)
    assert edf.num_data_records == 125 and edf.data_record_duration == 1
    ref = simulate(125, **kw)
    assert [sig.label for sig in edf.signals] == ref.ch_names
    assert len(edf.annotations) == len(ref.annotations())
    for i in (0, 9, 19):
        np.testing.assert_allclose(edf.signals[i].data, np.clip(ref.data[i], -3276.8, 3276.7),
                                   atol=0.06)
    assert (tmp_path / "long_events.tsv").exists()


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(duration_s=-1), dict(duration_s=float("nan")), dict(sfreq=10),
        dict(hypsarrhythmia="severe"), dict(hypsarrhythmia="classic", variant="slow"),
        dict(hypsarrhythmia="modified", variant="wobbly"), dict(background="flat"),
        dict(background="sleep_slow"), dict(n_clusters=-1), dict(spasms_per_cluster=(5, 2)),
        dict(mains_hz=200.0), dict(seed=-3), dict(age_months=40),
    ],
)
def test_bad_parameters(kwargs):
    with pytest.raises(ParameterError):
        simulate(**{"duration_s": 60, **kwargs})


def test_streaming_needs_whole_seconds(tmp_path):
    with pytest.raises(ParameterError):
        simulate_to_edf(tmp_path / "a.edf", 60.5)
