"""The spasm bench's own measurements (``benchmarks/generalize/data.py``): the cross-check
generator's wave measured against the background it lands on."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "crosscheck"))
sys.path.insert(0, str(ROOT / "benchmarks" / "generalize"))

import data  # noqa: E402
import gen  # noqa: E402


def _recording(tmp_path: Path, amp: float, name: str) -> tuple[str, pd.DataFrame]:
    P = dict(gen.PARAMS, p_slow_wave=1.0, p_decrement=1.0, p_emg_at_256=0.0,
             slow_amp_uv=(amp, amp), n_clusters=(1, 1), spasms_per_cluster=(4, 5))
    out = tmp_path / name
    tr = gen.make_recording(3, "classic", str(out), duration_s=120.0, spasms=True, fs=128.0, P=P)
    t = pd.read_csv(out / f"{tr.stem}.spasms.tsv", sep="\t")
    return str(out / f"{tr.stem}.edf"), t


@pytest.mark.skipif(not list(Path(gen.PARAMS["real_dir"]).glob("*.edf")),
                    reason="../shared/data/real is absent (the cross-check draws on it)")
def test_crosscheck_wave_ratio_follows_the_drawn_wave(tmp_path):
    """The same recording drawn with a wave twice as high measures twice the ratio (the
    background, other spasms left out, is the same), and a plain spasm needs the wave."""
    edf1, t1 = _recording(tmp_path, 150.0, "a")
    edf2, t2 = _recording(tmp_path, 300.0, "b")
    r1, r2 = data._cc_wave_ratio(edf1, t1), data._cc_wave_ratio(edf2, t2)
    assert len(t1) >= 3 and np.isfinite(r1).all() and np.isfinite(r2).all()
    assert np.allclose(r2 / r1, 2.0, rtol=0.02)
    # the plain flag follows the measured ratio: none below 1.7, the decrement rule above it
    p1 = data._plain_crosscheck(t1, edf1, r1)
    assert not p1[r1 < data.PLAIN["wave_ratio"]].any()
    big = data._plain_crosscheck(t1, edf1, np.full(len(t1), 10.0))
    depth = pd.to_numeric(t1["dec_depth"], errors="coerce")
    dur = pd.to_numeric(t1["dec_dur"], errors="coerce")
    central = t1["slow_centre"].isin(["Cz", "Fz", "Pz", "C3", "C4"])
    expect = ((depth <= data.PLAIN["residual"]) & (dur >= data.PLAIN["decrement_s"])
              & central).to_numpy(bool)
    assert np.array_equal(big, expect)


def test_cluster_ceiling_counts_what_the_gap_allows():
    import model as M

    on_a = [10.0, 25.0, 40.0, 100.0, 115.0, 130.0]      # two series 60 s apart
    on_b = [10.0, 25.0, 40.0, 300.0, 315.0, 330.0]      # two series 260 s apart
    truth = pd.DataFrame({"recording": ["g/a"] * 6 + ["g/b"] * 6, "onset": on_a + on_b})
    recs = pd.DataFrame({"recording": ["g/a", "g/b"], "generator": ["g", "g"],
                         "n_clusters_true": [2, 2]})
    assert M.cluster_ceiling(truth, recs, gap_s=120.0)["g"] == 0.5  # the first reads as one
    assert M.cluster_ceiling(truth, recs, gap_s=45.0)["g"] == 1.0


def test_a_spasm_moved_only_where_its_emg_burst_was_drawn(tmp_path, monkeypatch):
    # the fourth generator draws an EMG burst for most spasms, not all: the truth's movement
    # (what the detector must find with a movement channel) follows each spasm's own flag
    monkeypatch.setattr(data, "WORK", tmp_path)
    s = data.Spec("fourth", "t", "hyps_classic", seed=2, emg=True, minutes=3)
    _, truth, _ = data._build_from_files(s)
    ev = pd.read_csv(next(s.folder.glob("*_events.tsv")), sep="\t")
    ev = ev[ev["trial_type"].str.startswith("spasm")]
    drawn = ev["emg"].astype(str).str.lower().eq("true").to_numpy()
    assert 0 < drawn.sum() < len(drawn)  # seed 2: 8 of its 9 spasms with a burst
    assert len(truth) == len(ev) and (truth["movement"].to_numpy() == drawn).all()
    no_emg = data.Spec("fourth", "u", "hyps_classic", seed=2, emg=False, minutes=3)
    assert not data._build_from_files(no_emg)[1]["movement"].any()
    ev_all = pd.DataFrame({"onset": [1.0, 2.0]})  # a generator without the column: all moved
    assert data._moved(ev_all, True).all() and not data._moved(ev_all, False).any()


def test_recording_relative_reads_each_candidate_against_its_own_recording():
    import model as M

    from hypsa.spasms import FEATURE_COLUMNS

    rng = np.random.default_rng(0)
    n = 40
    base = {k: rng.uniform(0.2, 0.9, n) for k in FEATURE_COLUMNS}
    base.update(slow_ratio=rng.uniform(1.0, 4.0, n), emg_ratio=np.full(n, np.nan))
    a = pd.DataFrame(base).assign(recording="g/a", onset=np.linspace(0.0, 590.0, n))
    # the same candidates at another gain of the wave: every slow-wave ratio doubled
    b = a.assign(recording="g/b", slow_ratio=a["slow_ratio"] * 2.0)
    c = M.recording_relative(pd.concat([a, b], ignore_index=True), ["log_slow_ratio"])
    ra = c.loc[c.recording == "g/a", "log_slow_ratio_rec"].to_numpy()
    rb = c.loc[c.recording == "g/b", "log_slow_ratio_rec"].to_numpy()
    assert np.allclose(ra, rb)                        # the gain is gone
    assert abs(np.median(ra)) < 1e-9 and ra.std() > 0.1  # each against its own median
    # and a recording's values do not depend on another recording's
    alone = M.recording_relative(a, ["log_slow_ratio"])["log_slow_ratio_rec"].to_numpy()
    assert np.allclose(alone, ra)
    # the model's design carries the column
    assert "log_slow_ratio_rec" in M._design(c).columns


def test_no_shipped_model_was_trained_on_a_held_out_generator():
    import run

    assert {"fifth", "sixth"} <= set(data.HELD_OUT)
    assert not set(data.HELD_OUT) & set(data.GENERATORS)
    assert not set(run.available()) & set(data.HELD_OUT)
    for card in (ROOT / "src" / "hypsa" / "models").glob("*.json"):
        gens = json.loads(card.read_text()).get("generators")
        assert gens and not set(ast.literal_eval(gens) if isinstance(gens, str) else gens) & \
            set(data.HELD_OUT), card.name


def test_the_shipped_analysis_of_a_held_out_recording_is_scored_against_its_truth(
        tmp_path, monkeypatch):
    # shipped.py: hypsa.analyze of a fifth-generator recording (held out from every fit),
    # cached, its spasm events scored per spasm and its verdict and grade beside the truth's
    import model
    import shipped

    monkeypatch.setattr(data, "WORK", tmp_path)
    s = data.Spec("fifth", "t", "hyps_classic", seed=3, emg=True, minutes=3)
    sp, de, truth, recs = shipped.read([s], jobs=1)
    assert shipped.cache_path(s).is_file() and len(recs) == 1
    r = recs.iloc[0]
    assert r["hyps"] and r["intended"] == 5 and r["verdict"] == "present"
    assert len(truth) > 0 and set(sp["recording"]) <= {r["recording"]}
    score = model.score_detections(sp, de, truth, recs)
    assert score["n_complete"].iat[0] == int((truth["form"] == "complete").sum())
    assert 0 <= score["tp_complete"].iat[0] <= score["n_complete"].iat[0]
    row, confusion = shipped.grading(recs)
    assert row["sensitivity"] == 1.0 and row["specificity"] is None
    assert confusion.loc[5].sum() == 1
    # a second read comes from the cache, the same
    again = shipped.read([s], jobs=1)[3]
    assert again["verdict"].iat[0] == r["verdict"] and again["grade"].iat[0] == r["grade"]
