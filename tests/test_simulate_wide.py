"""Tests of the simulator's spasm drawing: the classic default is unchanged, the wide drawing
covers its documented ranges and its truth matches the signal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from hypsa.errors import ParameterError
from hypsa.simulate import EEG_NAMES, SPASM_FORMS, simulate, simulate_to_edf
from hypsa.simulate.spasms import (
    WIDE_DECREMENT_S,
    WIDE_RESIDUAL,
    WIDE_WAVE_RATIO,
    _one_spasm_wide,
    background_level,
    render_spasms_eeg_wide,
    wave_shape,
    wide_field,
)

FS = 256


def test_classic_default_unchanged():
    """Fingerprint of a short classic simulation, taken before the wide drawing existed.

    Values, not a byte hash, so that last-bit FFT differences between machines do not fail it;
    any change in what is drawn moves them by far more than the tolerance.
    """
    kw = dict(n_clusters=1, spasms_per_cluster=(3, 3), spasm_interval_s=(8.0, 12.0), emg=True,
              seed=3, chunk_s=60)
    s = simulate(120, **kw)
    x = s.data.astype(np.float64)
    np.testing.assert_allclose(np.abs(x).mean(axis=1), [
        51.3308, 52.0582, 50.5711, 51.371, 52.3041, 54.6044, 49.2358, 49.1934, 48.536, 57.2582,
        53.8977, 49.2062, 0.3978, 46.3987, 49.5316, 61.4265, 50.4349, 45.5889, 45.9693, 14.7464,
    ], rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(x[[0, 9, 18, 19]][:, [1000, 12345, 20000, 30000]], [
        [11.2861, -8.9914, 6.5341, -46.5114], [-27.6365, -8.2064, 4.0136, -213.7067],
        [84.4673, 9.7467, -26.195, -29.3067], [9.6848, -9.138, 12.5113, 3.2631],
    ], atol=2e-3)
    np.testing.assert_allclose(s.events["onset"], [27.221182, 35.63238, 44.912167], atol=1e-5)
    np.testing.assert_allclose(s.events["slow_wave_uv"], [370.585288, 411.97743, 428.252055],
                               atol=1e-4)
    assert "form" not in s.events and "spasm_variety" not in s.truth
    same = simulate(120, spasm_variety="classic", **kw)
    np.testing.assert_array_equal(same.data, s.data)
    pd.testing.assert_frame_equal(same.events, s.events)


def test_wide_draws_cover_the_documented_ranges():
    rng = np.random.default_rng(0)
    ev = pd.DataFrame([_one_spasm_wide(100.0 + 20 * i, 1, True, rng) for i in range(3000)])
    share = ev["form"].value_counts(normalize=True)
    assert set(share.index) == set(SPASM_FORMS)
    assert share["complete"] == pytest.approx(0.75, abs=0.03)
    assert share["wave_only"] == pytest.approx(0.12, abs=0.02)
    assert share["decrement_only"] == pytest.approx(0.13, abs=0.02)
    wave = ev[ev["form"] != "decrement_only"]
    lo, hi = WIDE_WAVE_RATIO
    assert wave["wave_ratio"].between(lo, hi).all()
    assert wave["wave_ratio"].min() < 0.85 and wave["wave_ratio"].max() > 3.8
    assert np.median(np.log(wave["wave_ratio"])) == pytest.approx(np.log(lo * hi) / 2, abs=0.06)
    assert set(wave["phases"]) == {1, 2} and set(wave["polarity"]) == {-1.0, 1.0}
    assert wave["polarity"].mean() == pytest.approx(0.0, abs=0.06)
    assert set(wave["field"]) == {"generalized", "vertex", "lateralized", "focal"}
    assert wave["max_lag_s"].between(0, 0.05).all() and wave["max_lag_s"].max() > 0.045
    assert 0.4 < wave["has_transient"].mean() < 0.6
    dec = ev[ev["form"] != "wave_only"]
    assert dec["decrement_gain"].between(*WIDE_RESIDUAL).all()
    assert dec["decrement_duration"].between(*WIDE_DECREMENT_S).all()
    assert dec["decrement_duration"].min() < 0.6 and dec["decrement_duration"].max() > 5.9
    assert 0.4 < dec["has_fast"].mean() < 0.6
    only_wave = ev[ev["form"] == "wave_only"]
    assert (only_wave["decrement_gain"] == 1.0).all() and not only_wave["has_fast"].any()
    only_dec = ev[ev["form"] == "decrement_only"]
    assert (only_dec["slow_wave_uv"] == 0).all() and not only_dec["has_transient"].any()
    assert (only_dec["decrement_onset"] == only_dec["onset"]).all()
    assert ev["duration"].between(0.5, 2.0).all()
    assert 0.85 < ev["has_emg"].mean() < 0.95


def test_wave_shape_unit_peak_to_peak():
    for phases, first, second in ((1, 1.0, 0.0), (2, 0.4, 0.5), (2, 0.6, 1.0)):
        ev = pd.Series({"slow_wave_duration": 0.8, "phases": phases, "first_lobe_frac": first,
                        "second_lobe": second})
        w = wave_shape(ev, FS)
        assert np.ptp(w) == pytest.approx(1.0, abs=0.01) and w.max() > 0
        if phases == 2:
            assert w.min() == pytest.approx(-second * w.max(), rel=0.02)


@pytest.fixture(scope="module")
def wide_sim():
    return simulate(900, hypsarrhythmia="classic", n_clusters=3, spasms_per_cluster=(8, 10),
                    spasm_interval_s=(12.0, 20.0), emg=True, artifacts=False, seed=21,
                    chunk_s=100, spasm_variety="wide")


def test_wide_events_table(wide_sim):
    ev = wide_sim.events
    assert set(ev["form"]) <= set(SPASM_FORMS) and len(ev) >= 20
    assert (ev["eventType"] == "sz_gen_m_spasms").all()
    assert (ev["trial_type"] == "sz_gen_m_spasms").all()
    assert ev["background_uv"].gt(0).all() and np.isfinite(ev["slow_wave_uv"]).all()
    wave = ev["form"] != "decrement_only"
    np.testing.assert_allclose(ev.loc[wave, "slow_wave_uv"],
                               ev.loc[wave, "wave_ratio"] * ev.loc[wave, "background_uv"])
    tr = ev["has_transient"]
    np.testing.assert_allclose(ev.loc[tr, "transient_uv"],
                               ev.loc[tr, "transient_ratio"] * ev.loc[tr, "slow_wave_uv"])
    assert wide_sim.truth["spasm_variety"] == "wide"
    # decrements end before the next spasm of the cluster starts
    for _, g in ev.groupby("cluster"):
        end = (g["decrement_onset"] + g["decrement_duration"]).to_numpy()[:-1]
        assert (end <= g["onset"].to_numpy()[1:] - 0.2 + 1e-9).all()


def test_wide_levels_measured_on_the_drawn_background(wide_sim):
    """The first spasm of each cluster has nothing but ongoing activity in the 10 s before it, so
    its recorded level is the level of the signal there."""
    s = wide_sim
    first = s.events.groupby("cluster").head(1)
    for _, e in first.iterrows():
        i1 = int(round(e["onset"] * FS))
        measured = background_level(s.data[:19, i1 - 10 * FS : i1].astype(float))
        assert measured == pytest.approx(e["background_uv"], rel=1e-3)


def test_wide_signal_shows_the_drawn_wave_and_decrement(wide_sim):
    s, ev = wide_sim, wide_sim.events
    x = s.data[:19].astype(float)
    t = np.arange(x.shape[1]) / FS
    added = render_spasms_eeg_wide(ev, t, FS, 21)  # the spasms' own additive part
    on_signal, alone, drawn, depth, residual = [], [], [], [], []
    for idx, e in ev.iterrows():
        i0 = int(round(e["onset"] * FS))
        if e["form"] != "decrement_only":
            fld, _ = wide_field(e, np.random.default_rng([21, 311, int(idx)]))
            c = int(np.argmax(fld))
            a = int(round(e["slow_wave_onset"] * FS))
            b = a + int(round((e["slow_wave_duration"] + e["max_lag_s"]) * FS)) + 1
            on_signal.append(np.ptp(x[c, a:b]) / e["background_uv"])
            alone.append(np.ptp(added[c, a:b]) / e["background_uv"])
            drawn.append(e["wave_ratio"])
        if e["form"] != "wave_only" and e["decrement_duration"] >= 1.0:
            a = int(round((e["decrement_onset"] + 0.3) * FS))
            b = int(round((e["decrement_onset"] + e["decrement_duration"] - 0.2) * FS))
            before = x[:, i0 - 6 * FS : i0 - FS]
            rms_dec = np.sqrt(np.mean((x[:, a:b] - x[:, a:b].mean(1, keepdims=True)) ** 2, 1))
            rms_bg = np.sqrt(np.mean((before - before.mean(1, keepdims=True)) ** 2, 1))
            depth.append(float(np.median(rms_dec / rms_bg)))
            residual.append(e["decrement_gain"])
    on_signal, alone, drawn = np.array(on_signal), np.array(alone), np.array(drawn)
    # the wave alone has the drawn size (a transient can overlap its start on lagged channels)
    assert np.median(np.abs(alone / drawn - 1)) < 0.02 and (alone > 0.97 * drawn).all()
    # on the signal the background adds to (or cancels part of) it
    assert spearmanr(on_signal, drawn).statistic > 0.6
    assert 0.9 < np.median(on_signal / drawn) < 1.6
    depth, residual = np.array(depth), np.array(residual)
    assert spearmanr(depth, residual).statistic > 0.5
    assert np.median(np.abs(depth - residual)) < 0.15


def test_wide_streams_the_same_samples_and_writes_form(tmp_path):
    kw = dict(n_clusters=1, spasms_per_cluster=(4, 5), spasm_interval_s=(6.0, 9.0), emg=True,
              seed=4, chunk_s=20, spasm_variety="wide")
    path = simulate_to_edf(tmp_path / "w.edf", 90, **kw)
    ref = simulate(90, **kw)
    edfio = pytest.importorskip("edfio")
    edf = edfio.read_edf(path)
    for i in range(len(EEG_NAMES)):
        np.testing.assert_allclose(edf.signals[i].data, np.clip(ref.data[i], -3276.8, 3276.7),
                                   atol=0.06)
    tsv = pd.read_csv(tmp_path / "w_events.tsv", sep="\t")
    assert list(tsv["form"]) == list(ref.events["form"])
    assert (tsv["trial_type"] == "sz_gen_m_spasms").all()
    classic = simulate(90, **{**kw, "spasm_variety": "classic"})
    assert not np.array_equal(classic.data, ref.data)


def test_bad_variety():
    with pytest.raises(ParameterError, match="spasm_variety"):
        simulate(60, spasm_variety="broad")


def test_cli_spasm_variety(tmp_path):
    from typer.testing import CliRunner

    from hypsa.cli import app

    runner = CliRunner()
    out = tmp_path / "c.edf"
    res = runner.invoke(app, ["simulate", str(out), "--hours", "0.02", "--clusters", "1",
                              "--spasm-variety", "wide", "--seed", "2", "--quiet"])
    assert res.exit_code == 0, res.output
    assert "form" in pd.read_csv(tmp_path / "c_events.tsv", sep="\t")
    bad = runner.invoke(app, ["simulate", str(out), "--spasm-variety", "odd", "--quiet"])
    assert bad.exit_code == 2 and "spasm_variety" in bad.output
