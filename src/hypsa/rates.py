"""Spasm rates that say how much EEG they stand on.

A rate per 24 h extrapolated from a few minutes is a guess presented as a measurement (3 spasms in
3 minutes read "1,440 per 24 h"). Below :data:`MIN_HOURS_FOR_24H` of analysed (artifact-free) EEG
hypsa therefore gives the count, the analysed hours and the rate per hour with its exact 95 %
Poisson interval, and no per-24-h figure; from that length on it also gives the per-24-h figure,
always with the hours it was extrapolated from.
"""

from __future__ import annotations

import math
from typing import Any

from scipy.stats import chi2

__all__ = ["MIN_HOURS_FOR_24H", "EVENT_KINDS", "spasm_rate", "poisson_ci", "rate_text",
           "rate_short", "count_includes"]

#: Analysed hours from which a per-24-h figure is given (below: count and rate per hour only).
MIN_HOURS_FOR_24H = 1.0


def poisson_ci(count: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) confidence interval of a Poisson count.

    Parameters
    ----------
    count : int
        Events observed.
    level : float
        Confidence level.

    Returns
    -------
    (float, float)
        Lower and upper bound of the expected count.
    """
    a = 1.0 - level
    lo = 0.0 if count == 0 else float(chi2.ppf(a / 2, 2 * count)) / 2
    hi = float(chi2.ppf(1 - a / 2, 2 * count + 2)) / 2
    return lo, hi


def spasm_rate(count: int, analysed_h: float,
               min_hours_for_24h: float = MIN_HOURS_FOR_24H) -> dict:
    """The ``spasms.rate`` block of ``summary.json``.

    Parameters
    ----------
    count : int
        Spasms counted.
    analysed_h : float
        Hours of EEG they were searched in (artifact-free analysed time).
    min_hours_for_24h : float
        Analysed hours from which ``per_24h`` is given.

    Returns
    -------
    dict
        ``count, analysed_h, per_hour, per_hour_ci95 ([lo, hi]), per_24h (None below
        min_hours_for_24h), extrapolated_from_h (the hours per_24h stands on, or None),
        min_hours_for_24h``. With no analysed time the rates are None.
    """
    count = int(count)
    h = float(analysed_h) if analysed_h and math.isfinite(float(analysed_h)) else 0.0
    out: dict = {"count": count, "analysed_h": round(h, 4), "per_hour": None,
                 "per_hour_ci95": None, "per_24h": None, "extrapolated_from_h": None,
                 "min_hours_for_24h": float(min_hours_for_24h)}
    if h <= 0:
        return out
    lo, hi = poisson_ci(count)
    out["per_hour"] = count / h
    out["per_hour_ci95"] = [lo / h, hi / h]
    if h >= min_hours_for_24h:
        out["per_24h"] = count / h * 24.0
        out["extrapolated_from_h"] = round(h, 4)
    return out


def rate_text(rate: dict | None, noun: str = "spasm(s)") -> str:
    """The rate in words, e.g. ``3 spasm(s) in 0.05 h analysed: 60.0 per hour (95 % CI
    12.4-175.3); no per-24-h figure below 1 h``."""
    if not rate:
        return "rate not known"
    n, h = rate.get("count", 0), rate.get("analysed_h") or 0.0
    head = f"{n} {noun} in {h:.2f} h analysed"
    if rate.get("per_hour") is None:
        return head + ": no rate (no analysed EEG)"
    lo, hi = rate.get("per_hour_ci95") or (float("nan"), float("nan"))
    text = f"{head}: {rate['per_hour']:.1f} per hour (95 % CI {lo:.1f}-{hi:.1f})"
    if rate.get("per_24h") is None:
        return text + (f"; no per-24-h figure below {rate.get('min_hours_for_24h', 1.0):g} h "
                       "of analysed EEG")
    return text + (f"; {rate['per_24h']:.0f} per 24 h, extrapolated from "
                   f"{rate['extrapolated_from_h']:.1f} h")


def rate_short(rate: dict | None) -> str:
    """The rate for a table cell: ``78.0/h (41.5-133.4) in 0.17 h``, with ``; 1872/24 h`` only
    from :data:`MIN_HOURS_FOR_24H` analysed hours."""
    if not rate or rate.get("per_hour") is None:
        return "n/a"
    lo, hi = rate.get("per_hour_ci95") or (float("nan"), float("nan"))
    text = f"{rate['per_hour']:.1f}/h ({lo:.1f}-{hi:.1f}) in {rate['analysed_h']:.2f} h"
    if rate.get("per_24h") is not None:
        text += f"; {rate['per_24h']:.0f}/24 h"
    return text


#: The event kinds of ``events.tsv`` (``trial_type``) and what each one is.
EVENT_KINDS: dict[str, str] = {
    "spasm_eeg_movement": "EEG spasm pattern with an EMG/movement correlate",
    "spasm_eeg": "EEG spasm pattern without a recorded movement correlate (EEG only)",
    "eeg_decrement": "electrodecrement without the spasm pattern (not a spasm, not counted)",
    "sz_gen_m_spasms": "EEG spasm pattern, with or without EMG (kinds not told apart)",
}


def count_includes(events: Any) -> str:
    """Which event kinds a spasm count stands on, in words.

    Parameters
    ----------
    events : DataFrame
        Detected events, with ``trial_type`` (or ``eventType``) when the detector labels them.

    Returns
    -------
    str
        E.g. ``"spasm_eeg_movement (EEG spasm pattern with an EMG/movement correlate): 4;
        spasm_eeg (...): 2"``.
    """
    if events is None or not len(events):
        return "no detected event"
    col = "trial_type" if "trial_type" in events else ("eventType" if "eventType" in events
                                                       else None)
    if col is None:
        return "every detected event (one kind)"
    counts = events[col].astype(str).value_counts()
    parts = [f"{k} ({EVENT_KINDS.get(k, 'detected event')}): {int(n)}"
             for k, n in counts.items() if k != "eeg_decrement"]
    text = "; ".join(parts) or "no spasm event"
    if "eeg_decrement" in counts:
        text += f"; eeg_decrement events ({int(counts['eeg_decrement'])}) not counted"
    return text
