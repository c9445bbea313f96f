"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

#: The real recordings (CI has them at <repo>/../shared/data/real).
REAL_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """Folder of real EEG recordings; skips the test when it is absent."""
    if not REAL_DIR.is_dir():
        pytest.skip(f"real recordings not found at {REAL_DIR}")
    return REAL_DIR
