"""Reader-study agreement: every statistic against its reference library, and against the known
truth of simulated readers."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("krippendorff")
pytest.importorskip("pingouin")
pytest.importorskip("statsmodels")

from hypsa.errors import InputError, ParameterError  # noqa: E402
from hypsa.study.agreement import (  # noqa: E402
    Study,
    agreement,
    consensus_events,
    event_agreement,
    kappa_replicates,
    label_stats,
    read_study,
    write_study,
)
from hypsa.study.simulate import (  # noqa: E402
    ReaderProfile,
    population_kappa,
    random_truth,
    simulate_study,
)

READERS = [ReaderProfile("A", miss_rate=0.1, false_per_hour=2, jitter_s=0.3, grade_bias=0.0,
                         grade_sd=0.6),
           ReaderProfile("B", miss_rate=0.3, false_per_hour=4, jitter_s=0.4, grade_bias=-0.5,
                         grade_sd=0.8),
           ReaderProfile("C", miss_rate=0.05, false_per_hour=1, jitter_s=0.2, grade_bias=0.3,
                         grade_sd=0.5)]


@pytest.fixture(scope="module")
def study() -> Study:
    truth = random_truth(36, seed=11, duration_s=1800)
    hyp = simulate_study(truth, [ReaderProfile("hypsa", 0.2, 1.0, 0.2, 0.2, 0.7)], seed=5)
    hyp.algorithm = "hypsa"
    return simulate_study(truth, READERS, seed=3, algorithm=hyp)


@pytest.fixture(scope="module")
def result(study):
    return agreement(study, n_boot=200, seed=1)


def test_pair_kappas_equal_scikit_learn(study, result):
    from sklearn.metrics import cohen_kappa_score

    rows = result.labels[result.labels["kind"].isin(["reader-reader", "hypsa-reader"])]
    assert len(rows) == 3 * (3 + 3)
    for _, r in rows.iterrows():
        col = "hypsarrhythmia" if r["measure"].startswith("hyps") else "grade"
        a = study.label_matrix(col, [r["rater_a"]])[:, 0]
        b = study.label_matrix(col, [r["rater_b"]])[:, 0]
        assert set(np.unique(np.r_[a, b])) <= set(range(6))
        w = "quadratic" if "weighted" in r["measure"] else None
        if col == "grade":  # every grade present: scikit-learn's own label set is 0-5
            assert set(np.unique(a)) | set(np.unique(b)) == set(range(6))
        assert r["value"] == pytest.approx(cohen_kappa_score(a, b, weights=w), abs=1e-12)
        assert r["ci_low"] < r["value"] < r["ci_high"]


def test_bootstrap_replicates_equal_scikit_learn():
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(0)
    a = rng.integers(0, 6, 40)
    b = np.clip(a + rng.integers(-1, 2, 40), 0, 5)
    idx = rng.integers(0, 40, (25, 40))
    for w in (None, "linear", "quadratic"):
        got = kappa_replicates(a, b, idx, w, 6)
        ref = [cohen_kappa_score(a[i], b[i], labels=list(range(6)), weights=w) for i in idx]
        np.testing.assert_allclose(got, ref, atol=1e-12)


def test_overall_equal_statsmodels_and_krippendorff(study, result):
    import krippendorff
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    ov = result.overall.set_index(["measure", "raters"])["value"]
    for col, level in (("hypsarrhythmia", "nominal"), ("grade", "ordinal")):
        m = study.label_matrix(col, study.readers)
        fk = fleiss_kappa(aggregate_raters(m.astype(int))[0], method="fleiss")
        assert ov[(f"{col} Fleiss kappa", "readers")] == pytest.approx(fk, abs=1e-12)
        al = krippendorff.alpha(reliability_data=m.T, level_of_measurement=level)
        assert ov[(f"{col} Krippendorff alpha ({level})", "readers")] == pytest.approx(
            al, abs=1e-12)
        m4 = study.label_matrix(col, [*study.readers, "hypsa"])
        al4 = krippendorff.alpha(reliability_data=m4.T, level_of_measurement=level)
        assert ov[(f"{col} Krippendorff alpha ({level})", "readers + hypsa")] == \
            pytest.approx(al4, abs=1e-12)


def test_icc_equals_pingouin_and_bland_altman(study, result):
    import pingouin as pg

    long = pd.DataFrame([{"recording": r, "reader": k, "count": len(study.events_of(k, r))}
                         for r in study.recordings for k in study.readers])
    t = pg.intraclass_corr(data=long, targets="recording", raters="reader", ratings="count")
    ref = t.set_index("Type").loc["ICC(A,1)", "ICC"]
    got = result.counts.set_index("kind").loc["readers", "icc"]
    assert got == pytest.approx(ref, abs=1e-12)
    ba = result.bland_altman.set_index(["rater_a", "rater_b"]).loc[("A", "B")]
    d = np.array([len(study.events_of("B", r)) - len(study.events_of("A", r))
                  for r in study.recordings])
    assert ba["bias"] == pytest.approx(d.mean())
    assert ba["loa_high"] == pytest.approx(d.mean() + 1.96 * d.std(ddof=1))


def test_event_agreement_equals_timescoring(study, result):
    from timescoring import scoring
    from timescoring.annotations import Annotation

    row = result.events[(result.events["rater_a"] == "A") & (result.events["rater_b"] == "C")]
    tp = nref = 0
    for r in study.recordings:
        dur = study.durations[r]

        def ann(df: pd.DataFrame, dur: float = dur) -> Annotation:
            return Annotation([(max(0.0, o), min(dur, o + d)) for o, d in
                               zip(df["onset"], df["duration"], strict=True)], 10,
                              int(round(dur * 10)))

        s = scoring.EventScoring(ann(study.events_of("A", r)), ann(study.events_of("C", r)),
                                 scoring.EventScoring.Parameters(
                                     toleranceStart=1.0, toleranceEnd=1.0, minOverlap=0.0,
                                     maxEventDuration=1e9, minDurationBetweenEvents=0.0))
        tp, nref = tp + s.tp, nref + s.refTrue
    assert int(row["tp"].iloc[0]) == tp
    assert float(row["sensitivity"].iloc[0]) == pytest.approx(tp / nref)


def test_simulated_readers_kappa_within_ci_of_truth():
    """On a larger simulated study, each pair's kappa interval holds the population value
    implied by the readers' profiles."""
    truth = random_truth(240, seed=21, duration_s=600, clusters_mean=0.5)
    st = simulate_study(truth, READERS, seed=8)
    lab, _ = label_stats(st, n_boot=400, seed=2)
    lab = lab[lab["kind"] == "reader-reader"]
    prof = {p.name: p for p in READERS}
    for (a, b), (meas, key) in itertools.product(
            itertools.combinations("ABC", 2),
            [("hypsarrhythmia kappa", "hypsarrhythmia"), ("grade weighted kappa",
                                                          "grade weighted")]):
        r = lab[(lab["measure"] == meas) & (lab["rater_a"] == a) & (lab["rater_b"] == b)]
        true = population_kappa(prof[a], prof[b], measure=key, n=200_000)
        assert float(r["ci_low"].iloc[0]) <= true <= float(r["ci_high"].iloc[0]), (a, b, meas)


def test_simulated_reader_events_within_ci_of_truth():
    """A reader scored against the truth: F1 interval holds the value implied by its miss
    and false-mark rates."""
    truth = random_truth(60, seed=4, duration_s=1800)
    p = READERS[1]
    st = simulate_study(truth, [p, ReaderProfile("truth", 0.0, 0.0, 0.0, 0.0, 0.0)], seed=6)
    st.algorithm = "truth"  # a perfect rater in hypsa's place
    ev = event_agreement(st, n_boot=400, seed=3)
    row = ev[ev["kind"] == "hypsa-reader"].iloc[0]
    n = sum(len(t.events) for t in truth)
    hours = sum(t.duration_s for t in truth) / 3600
    # expected: (1-miss) N of the reader's marks meet a true spasm, false marks f*hours
    tp, fp_marks, missed = (1 - p.miss_rate) * n, p.false_per_hour * hours, p.miss_rate * n
    f1 = 2 * tp / (2 * tp + fp_marks + missed)
    assert row["f1_ci_low"] <= f1 <= row["f1_ci_high"]
    assert row["precision"] == pytest.approx(1 - p.miss_rate, abs=0.06)


def test_consensus_events():
    a = pd.DataFrame({"onset": [10.0, 50.0, 90.0], "duration": [1.0, 1.0, 1.0]})
    b = pd.DataFrame({"onset": [10.4, 70.0, 90.8], "duration": [1.0, 1.0, 1.0]})
    c = pd.DataFrame({"onset": [9.8, 50.5], "duration": [1.0, 1.0]})
    got = consensus_events([a, b, c], 2)
    assert got["onset"].round(1).tolist() == [10.0, 50.2, 90.4]
    assert got["votes"].tolist() == [3, 2, 2]
    assert consensus_events([a, b, c], 3)["onset"].round(1).tolist() == [10.0]


def test_hypsa_in_the_same_table(result):
    kinds = set(result.labels["kind"])
    assert {"reader-reader", "reader-majority", "hypsa-reader", "hypsa-majority"} <= kinds
    assert set(result.range_check["hypsa"]) <= {"within", "below", "above"}
    assert len(result.range_check) == 5


@pytest.mark.slow
def test_write_read_roundtrip_and_cli(tmp_path, study):
    write_study(study, tmp_path / "s")
    back = read_study(tmp_path / "s")
    assert back.readers == study.readers and back.algorithm == "hypsa"
    assert len(back.events) == len(study.events)
    r = subprocess.run([sys.executable, "-c", "from hypsa.cli import app; app()", "study",
                        "agreement", str(tmp_path / "s"), "--n-boot", "50"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "s" / "agreement"
    html = (out / "agreement.html").read_text()
    assert "Fleiss" in html and "<img" in html and "http" not in html.replace(
        "http-equiv", "")
    k = pd.read_csv(out / "kappa_pairs.csv")
    assert {"value", "ci_low", "ci_high"} <= set(k.columns)


def test_bad_study_folder(tmp_path):
    (tmp_path / "recordings.tsv").write_text("recording\tduration_s\nr1\t600\n")
    (tmp_path / "scores.tsv").write_text("recording\treader\tgrade\thypsarrhythmia\n"
                                         "r1\tA\t7\tyes\n")
    (tmp_path / "events.tsv").write_text("recording\treader\tonset\tduration\n")
    with pytest.raises(InputError, match="scores.tsv: grade must be 0-5"):
        read_study(tmp_path)
    r = subprocess.run([sys.executable, "-c", "from hypsa.cli import app; app()", "study",
                        "agreement", str(tmp_path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "grade must be 0-5" in r.stderr
    (tmp_path / "scores.tsv").write_text("recording\treader\tgrade\thypsarrhythmia\n"
                                         "r1\tA\t3\tyes\n")
    with pytest.raises(ParameterError, match="two readers"):
        agreement(read_study(tmp_path))
