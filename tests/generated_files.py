"""Reading the files of the bench's file generators (``benchmarks/generalize``) in their tests."""

from __future__ import annotations

import csv
from pathlib import Path

import mne
import numpy as np


def rows(path: Path) -> list[dict[str, str]]:
    """The rows of a tab-separated table, as strings."""
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def eeg_uv(edf: Path) -> tuple[np.ndarray, list[str], float]:
    """Every channel of an EDF in µV, its names and its sampling rate."""
    raw = mne.io.read_raw_edf(edf, preload=True, verbose="error")
    return raw.get_data() * 1e6, raw.ch_names, float(raw.info["sfreq"])
