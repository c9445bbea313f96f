"""Site calibration: cross-validated by patient, accepted when it helps out of fold, refused
when it does not; the site model file and its use in the analysis."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sklearn")

from hypsa.errors import InputError  # noqa: E402
from hypsa.study.calibrate import (  # noqa: E402
    CalibrationRefused,
    Reviewed,
    SiteModel,
    calibrate,
    label_candidates,
    load_site_model,
    write_refused,
)
from hypsa.study.simulate import simulated_site  # noqa: E402

SHIPPED = 0.8


def site(**kw) -> list[Reviewed]:
    """A simulated site's reviewed recordings (:func:`hypsa.study.simulate.simulated_site`)."""
    return simulated_site(**kw)


def test_labels_match_within_tolerance():
    c = pd.DataFrame({"onset": [10.0, 20.0, 31.6], "duration": [1.0, 1.0, 1.0]})
    t = pd.DataFrame({"onset": [10.5, 30.0], "duration": [0.5, 0.5]})
    assert label_candidates(c, t).tolist() == [True, False, False]
    assert label_candidates(c, t, tolerance_s=1.2).tolist() == [True, False, True]


def test_shifted_site_gains_sensitivity_out_of_fold(tmp_path):
    # the site's spasms score about 0.55: below the shipped 0.80
    recs = site(pos=(5.0, 4.0), neg=(1.0, 20.0))
    m = calibrate(recs, shipped_threshold=SHIPPED, refit=False, name="site A")
    h = m.card["held_out"]
    assert h["site"]["fd_per_hour"] <= 1.0 + 1e-9
    assert h["site"]["sensitivity"] > h["shipped"]["sensitivity"] + 0.2
    assert h["sensitivity_gain"] == pytest.approx(h["site"]["sensitivity"]
                                                  - h["shipped"]["sensitivity"])
    assert m.card["status"] == "accepted" and m.kind == "calibration"
    assert m.threshold < SHIPPED or m.coef[0] != 1.0
    assert {"date", "hypsa_version", "data", "base_model"} <= set(m.card)
    assert m.card["data"]["patients"] == 10 and m.card["data"]["recordings"] == 20
    # every recording of a patient is held out together
    for f in h["folds"]:
        assert len(f["patients"]) == len(set(f["patients"]))
    m.save(tmp_path / "site")
    card = (tmp_path / "site" / "card.md").read_text()
    assert "shipped model" in card and "site model" in card and "accepted" in card
    back = load_site_model(tmp_path / "site")
    c = recs[0].candidates
    np.testing.assert_allclose(back.probability(c), m.probability(c))
    assert back.sha256() == m.sha256()


def test_refit_uses_features_when_enough_events():
    recs = site(pos=(5.0, 4.0), neg=(1.0, 20.0), seed=2)
    m = calibrate(recs, shipped_threshold=SHIPPED, name="site B")
    assert m.kind == "refit" and m.features == ["slow_ratio"] and len(m.coef) == 2


def test_no_gain_is_refused():
    recs = site(pos=(40.0, 2.0), seed=1)  # spasms score ~0.95: the shipped model finds them
    with pytest.raises(CalibrationRefused, match="refused") as exc:
        calibrate(recs, shipped_threshold=SHIPPED, refit=False)
    card = exc.value.card
    assert card["status"] == "refused"
    assert card["held_out"]["site"]["sensitivity"] <= card["held_out"]["shipped"]["sensitivity"]


def test_worse_out_of_fold_is_refused(tmp_path):
    """A noisy patient's false detections, unseen when the threshold is fitted on the other
    patients, push the held-out false-detection rate over the budget: refused, shipped
    model kept, the card with the numbers written, no model file."""
    recs = site(pos=(5.0, 4.0), seed=3, noisy_patient=4, n_patients=5)
    with pytest.raises(CalibrationRefused) as exc:
        calibrate(recs, shipped_threshold=SHIPPED, refit=False)
    h = exc.value.card["held_out"]
    assert h["site"]["fd_per_hour"] > 1.0 and h["site"]["fd_per_hour"] > \
        h["shipped"]["fd_per_hour"]
    write_refused(tmp_path / "m", exc.value.card)
    assert "refused" in (tmp_path / "m" / "card.md").read_text()
    with pytest.raises(InputError, match="refused"):
        load_site_model(tmp_path / "m")


def test_site_model_apply_and_params():
    m = SiteModel(name="x", kind="calibration", threshold=0.5, coef=[1.0], intercept=0.0)
    ev = pd.DataFrame({"onset": [1.0, 5.0, 9.0], "duration": 1.0,
                       "confidence": [0.3, 0.6, 0.9],
                       "trial_type": ["spasm_eeg", "spasm_eeg", "eeg_decrement"]})
    out = m.apply(ev)
    assert out["onset"].tolist() == [5.0, 9.0]
    assert out["shipped_confidence"].tolist() == [0.6, 0.9]
    p = m.params()
    assert p.spasm_model is m and p.spasms.min_confidence == m.floor
    info = m.info()
    assert info["name"] == "x" and len(info["sha256"]) == 64


def test_bad_model_file(tmp_path):
    (tmp_path / "site_model.json").write_text(json.dumps({"name": "x"}))
    with pytest.raises(InputError, match="not a hypsa site model"):
        load_site_model(tmp_path)
    with pytest.raises(InputError, match="no site_model.json"):
        load_site_model(tmp_path / "nothing")
