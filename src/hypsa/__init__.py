"""hypsa: a second reader for the EEG of infants with infantile spasms (West syndrome).

hypsa grades hypsarrhythmia on the BASED scale, detects and counts epileptic spasms and their
clusters, and follows treatment response across serial recordings. It supports expert review and
does not replace it; it makes no diagnosis.

The Python API::

    import hypsa

    rec = hypsa.read("eeg.edf")          # a Recording (signals stay on disk)
    a = hypsa.analyze("eeg.edf")         # or an mne.io.Raw, or an array with sfreq and ch_names
    print(a.summary())
    raw.set_annotations(a.to_annotations())
    sim = hypsa.simulate(600, seed=1)    # simulated infant EEG with known truth

``read``, ``analyze``, ``simulate``, ``Analysis``, ``Recording`` and ``load`` are imported on
first use, so ``import hypsa`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

DISCLAIMER = (
    "hypsa is a research and decision-support tool: it supports and does not replace review of "
    "the EEG by a qualified clinician, and it makes no diagnosis."
)

#: Public names imported on first use: name -> (module, attribute; None for the module itself).
_LAZY: dict[str, tuple[str, str | None]] = {
    "read": ("hypsa.io", "read"),
    "Recording": ("hypsa.io", "Recording"),
    "analyze": ("hypsa.analysis", "analyze"),
    "AnalysisParams": ("hypsa.analysis", "AnalysisParams"),
    "Analysis": ("hypsa.results", "Analysis"),
    "load": ("hypsa.results", "load"),
    # the hypsa.simulate package, callable as hypsa.simulate.simulate
    "simulate": ("hypsa.simulate", None),
}

__all__ = ["__version__", "DISCLAIMER", "read", "Recording", "analyze", "AnalysisParams",
           "Analysis",
           "load", "simulate"]

if TYPE_CHECKING:  # pragma: no cover
    from hypsa.analysis import AnalysisParams, analyze
    from hypsa.io import Recording, read
    from hypsa.results import Analysis, load
    from hypsa.simulate import simulate


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'hypsa' has no attribute {name!r}") from None
    mod = importlib.import_module(module)
    value = mod if attr is None else getattr(mod, attr)
    if attr is not None:
        globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
