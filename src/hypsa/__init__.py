"""hypsa: a second reader for the EEG of infants with infantile spasms (West syndrome).

hypsa grades hypsarrhythmia on the BASED scale, detects and counts epileptic spasms and their
clusters, and follows treatment response across serial recordings. It supports expert review and
does not replace it; it makes no diagnosis.
"""

from __future__ import annotations

__version__ = "0.1.0"

DISCLAIMER = (
    "hypsa is a research and decision-support tool: it supports and does not replace review of "
    "the EEG by a qualified clinician, and it makes no diagnosis."
)

__all__ = ["__version__", "DISCLAIMER"]
