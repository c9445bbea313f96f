"""Honest spasm rates: no per-24-h figure from minutes of EEG, an interval with every rate."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy.stats import poisson

from hypsa.rates import (
    MIN_HOURS_FOR_24H,
    count_includes,
    poisson_ci,
    rate_short,
    rate_text,
    spasm_rate,
)


def test_short_recording_has_no_per_24h_figure() -> None:
    r = spasm_rate(3, 3 / 60)  # 3 spasms in 3 minutes
    assert r["per_24h"] is None and r["extrapolated_from_h"] is None
    assert r["per_hour"] == pytest.approx(60.0)
    lo, hi = r["per_hour_ci95"]
    assert lo < 60.0 < hi
    assert r["min_hours_for_24h"] == MIN_HOURS_FOR_24H
    text = rate_text(r)
    assert "per 24 h" not in text and "no per-24-h figure" in text and "95 % CI" in text
    assert "24 h" not in rate_short(r) and rate_short(r).startswith("60.0/h (")


def test_long_recording_says_what_it_extrapolates_from() -> None:
    r = spasm_rate(20, 2.5)
    assert r["per_24h"] == pytest.approx(20 / 2.5 * 24)
    assert r["extrapolated_from_h"] == 2.5
    assert "extrapolated from 2.5 h" in rate_text(r)
    assert rate_short(r).endswith("; 192/24 h")
    assert spasm_rate(5, 0.0)["per_hour"] is None


@pytest.mark.parametrize("k", [0, 1, 7, 40])
def test_poisson_interval_is_exact(k: int) -> None:
    lo, hi = poisson_ci(k)
    # the Garwood bounds: P(X >= k | lo) = 0.025 and P(X <= k | hi) = 0.025
    if k:
        assert poisson.sf(k - 1, lo) == pytest.approx(0.025, rel=1e-6)
    else:
        assert lo == 0.0
    assert poisson.cdf(k, hi) == pytest.approx(0.025, rel=1e-6)


def test_counts_say_which_event_kinds_they_include() -> None:
    ev = pd.DataFrame({"trial_type": ["spasm_eeg_movement", "spasm_eeg", "spasm_eeg_movement",
                                      "eeg_decrement"]})
    text = count_includes(ev)
    assert "spasm_eeg_movement" in text and ": 2" in text and "spasm_eeg (" in text
    assert "eeg_decrement events (1) not counted" in text
    assert "kinds not told apart" in count_includes(pd.DataFrame({"eventType":
                                                                  ["sz_gen_m_spasms"]}))
    assert count_includes(pd.DataFrame()) == "no detected event"
