"""Reader studies and site calibration.

* :mod:`hypsa.study.agreement` — how readers agree with each other, and hypsa with them
  (kappa, Fleiss, Krippendorff, event-level agreement, spasm-count ICC and Bland-Altman);
* :mod:`hypsa.study.simulate` — simulated readers of known error rates, for checking the above
  against a known truth;
* :mod:`hypsa.study.calibrate` — a site model: the spasm decision refitted on a site's reviewed
  recordings, cross-validated by patient, refused when it does worse than the shipped one;
* :mod:`hypsa.study.report` — the self-contained HTML report and CSV/JSON tables.

The statistics need the ``study`` extra (``pip install hypsa[study]``).
"""

from __future__ import annotations

__all__ = ["agreement", "calibrate", "report", "simulate"]
