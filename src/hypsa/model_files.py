"""Learned models shipped as files beside a card: loaded only when the file's sha256 is the
card's (:mod:`hypsa.spasm_score`, :mod:`hypsa.discharge_model`)."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

__all__ = ["models_dir", "read_checked", "load_booster"]


def models_dir() -> Path:
    """The package's model folder (``hypsa/models``)."""
    return Path(str(resources.files("hypsa") / "models"))


def read_checked(directory: str | Path | None, model_file: str, card_file: str,
                 error: type[Exception], missing: str) -> tuple[bytes, dict]:
    """A model file's bytes and its card, after checking the file against the card.

    Parameters
    ----------
    directory : str or Path, optional
        Folder holding both files (default: :func:`models_dir`).
    model_file, card_file : str
        File names.
    error : exception class
        Raised with one line naming the file and the problem.
    missing : str
        What to say when a file is missing (the folder is put before it).

    Returns
    -------
    (bytes, dict)

    Raises
    ------
    error
        When a file is missing or the model's sha256 differs from its card's.
    """
    d = Path(directory) if directory else models_dir()
    mf, cf = d / model_file, d / card_file
    if not mf.is_file() or not cf.is_file():
        raise error(f"{d}: {missing}")
    text = mf.read_bytes()
    card = json.loads(cf.read_text())
    sha = hashlib.sha256(text).hexdigest()
    if sha != card.get("sha256"):
        raise error(f"{mf}: sha256 {sha[:12]} differs from its card ({card.get('sha256')})")
    return text, card


def load_booster(directory: str | Path | None, model_file: str, card_file: str,
                 error: type[Exception], missing: str):
    """A LightGBM model and its card, after :func:`read_checked` (same arguments).

    Returns
    -------
    (lightgbm.Booster, dict)
    """
    import lightgbm as lgb

    text, card = read_checked(directory, model_file, card_file, error, missing)
    return lgb.Booster(model_str=text.decode()), card
