"""Reports of hypsa: a self-contained HTML page (and a PDF) per analysed recording.

>>> from hypsa.report import write_report, write_pdf          # doctest: +SKIP
>>> write_report(analysis, "out", source="infant.edf")        # doctest: +SKIP
PosixPath('out/infant.report.html')
"""

from __future__ import annotations

from hypsa.report.html import build_content, render_html, write_pdf, write_report

__all__ = ["write_report", "write_pdf", "build_content", "render_html"]
