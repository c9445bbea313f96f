"""Recording metadata a reader needs beside a tracing: age, corrected age, medication, indication.

hypsa never needs these to analyse, and never guesses them. They come, in this order of
precedence (a field from an earlier source wins):

1. options given with the analysis (``hypsa analyze --age-weeks ... --medication ...``, or the
   web app);
2. a sidecar JSON beside the recording, ``<stem>.meta.json`` (keys as :data:`FIELDS`);
3. the BIDS ``*_scans.tsv`` of the session, the recording's row (columns as :data:`FIELDS`);
4. the BIDS ``participants.tsv`` of the dataset, the subject's row (columns as :data:`FIELDS`;
   a plain ``age`` column is read in the unit ``participants.json`` gives it, years by default).

The result (``summary.json`` ``metadata``) keeps, for each field, where it came from.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from hypsa.errors import InputError

__all__ = ["FIELDS", "read_metadata", "sidecar_path", "describe_age"]

#: The fields, with what each means.
FIELDS: dict[str, str] = {
    "age_weeks": "chronological age at the recording (weeks)",
    "corrected_age_weeks": "age corrected for prematurity at the recording (weeks)",
    "gestational_age_weeks": "gestational age at birth (weeks)",
    "medication": "medication and dose at the time of the recording (free text)",
    "indication": "why the recording was made (free text)",
}
_NUMERIC = ("age_weeks", "corrected_age_weeks", "gestational_age_weeks")
_UNIT_WEEKS = {"weeks": 1.0, "week": 1.0, "w": 1.0, "days": 1 / 7, "day": 1 / 7, "d": 1 / 7,
               "months": 365.25 / 12 / 7, "month": 365.25 / 12 / 7, "m": 365.25 / 12 / 7,
               "years": 365.25 / 7, "year": 365.25 / 7, "y": 365.25 / 7}


def sidecar_path(recording: str | Path) -> Path:
    """``<folder>/<stem>.meta.json`` for a recording (stem: the name up to its first dot)."""
    p = Path(recording)
    return p.with_name(p.name.split(".")[0] + ".meta.json")


def _clean(key: str, value: Any, where: str | Path) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = str(value).strip()
    if text == "" or text.lower() == "n/a":
        return None
    if key in _NUMERIC:
        try:
            v = float(text)
        except ValueError:
            raise InputError(where, f"{key} must be a number of weeks, not {text!r}") from None
        if not math.isfinite(v) or v < 0 or v > 52 * 18:
            raise InputError(where, f"{key} {v:g} is not a plausible age in weeks")
        return round(v, 2)
    return text


def _sidecar(recording: Path) -> dict:
    p = sidecar_path(recording)
    if not p.is_file():
        return {}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(p, f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(p, "must hold a JSON object (keys: " + ", ".join(FIELDS) + ")")
    return {k: _clean(k, data.get(k), p) for k in FIELDS if k in data}


def _bids_entities(name: str) -> dict[str, str]:
    return dict(re.findall(r"(sub|ses)-([A-Za-z0-9]+)", name))


def _read_tsv(p: Path) -> pd.DataFrame | None:
    try:
        return pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError, OSError):
        return None  # a malformed BIDS table is not the analysis' business: ignored


def _scans(recording: Path) -> dict:
    ent = _bids_entities(recording.name)
    if "sub" not in ent:
        return {}
    for folder in (recording.parent.parent, recording.parent.parent.parent):
        for tsv in sorted(folder.glob(f"sub-{ent['sub']}*_scans.tsv")):
            df = _read_tsv(tsv)
            if df is None or "filename" not in df:
                continue
            row = df[df["filename"].str.endswith(recording.name)]
            if len(row):
                r = row.iloc[0]
                return {k: _clean(k, r[k], tsv) for k in FIELDS if k in r}
    return {}


def _participants(recording: Path) -> dict:
    ent = _bids_entities(recording.name)
    if "sub" not in ent:
        return {}
    for folder in list(recording.parents)[:5]:
        tsv = folder / "participants.tsv"
        if not tsv.is_file():
            continue
        df = _read_tsv(tsv)
        if df is None or "participant_id" not in df:
            return {}
        row = df[df["participant_id"] == f"sub-{ent['sub']}"]
        if not len(row):
            return {}
        r = row.iloc[0]
        out = {k: _clean(k, r[k], tsv) for k in FIELDS if k in r}
        if "age_weeks" not in out and "age" in r and str(r["age"]).strip() not in ("", "n/a"):
            unit = "years"
            side = folder / "participants.json"
            if side.is_file():
                try:
                    spec = json.loads(side.read_text(encoding="utf-8")).get("age") or {}
                    unit = str(spec.get("Units") or spec.get("units") or unit).lower()
                except (ValueError, AttributeError):
                    pass
            factor = _UNIT_WEEKS.get(unit)
            try:
                if factor is not None:
                    out["age_weeks"] = round(float(r["age"]) * factor, 2)
            except ValueError:
                pass
        return out
    return {}


def read_metadata(recording: str | Path | None, given: dict | None = None) -> dict:
    """The recording's metadata with the source of each field.

    Parameters
    ----------
    recording : str or Path or None
        The recording (its folder is searched for the sidecar and BIDS tables).
    given : dict, optional
        Fields given with the analysis (command-line options, web form); None values ignored.

    Returns
    -------
    dict
        One key per field found (:data:`FIELDS`) and ``sources``: field -> ``"given"``,
        ``"sidecar <name>"``, ``"BIDS scans.tsv"`` or ``"BIDS participants.tsv"``. Empty
        ``sources`` when nothing was found.

    Raises
    ------
    InputError
        A sidecar that is not a JSON object, or a value that is not a plausible age.
    """
    layers: list[tuple[str, dict]] = [
        ("given", {k: _clean(k, v, "option") for k, v in (given or {}).items()
                   if k in FIELDS and v is not None})]
    if recording is not None:
        rec = Path(recording)
        layers += [(f"sidecar {sidecar_path(rec).name}", _sidecar(rec)),
                   ("BIDS scans.tsv", _scans(rec)),
                   ("BIDS participants.tsv", _participants(rec))]
    out: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, layer in layers:
        for k, v in layer.items():
            if v is not None and k not in out:
                out[k] = v
                sources[k] = name
    out["sources"] = sources
    return out


def describe_age(meta: dict) -> str:
    """Age in words, e.g. ``"26 weeks (corrected 22 weeks)"``; ``"not given"`` when unknown."""
    a, c = meta.get("age_weeks"), meta.get("corrected_age_weeks")
    if a is None and c is None:
        return "not given"
    parts = []
    if a is not None:
        parts.append(f"{a:g} weeks")
    if c is not None:
        parts.append(f"corrected {c:g} weeks" if a is not None else f"{c:g} weeks corrected")
    return parts[0] + (f" ({parts[1]})" if len(parts) > 1 else "")
