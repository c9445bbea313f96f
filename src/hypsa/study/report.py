"""The agreement report of a reader study: one self-contained HTML file and CSV/JSON tables.

The HTML has no external resource (styles inline, Bland-Altman plots as embedded PNG), so it
can be archived or mailed with a study. The CSV tables and ``agreement.json`` carry the same
numbers for further analysis.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from hypsa.study.agreement import AgreementResult

__all__ = ["write_report", "render_html", "bland_altman_png", "TABLES"]

#: CSV file of each table of :class:`AgreementResult`
TABLES = {"labels": "kappa_pairs.csv", "overall": "kappa_overall.csv",
          "events": "events_pairs.csv", "counts": "counts_icc.csv",
          "bland_altman": "bland_altman.csv", "range_check": "hypsa_in_range.csv",
          "count_table": "spasm_counts.csv"}

_KIND = {"reader-reader": "reader vs reader", "reader-majority": "reader vs majority of the "
         "others", "hypsa-reader": "hypsa vs reader", "hypsa-majority": "hypsa vs majority",
         "readers": "across readers", "readers + hypsa": "across readers and hypsa"}

_CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1d2330}
table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #d5d9e0;
padding:3px 8px;font-size:13px;text-align:left}th{background:#f2f4f7}
tr.hypsa td{background:#eef6ff}.note{color:#5b6577;font-size:13px}
h1{font-size:22px}h2{font-size:18px;margin-top:1.6em}img{max-width:48%;margin:4px}"""


def _fmt(v: object) -> str:
    if isinstance(v, float | np.floating):
        return "—" if not np.isfinite(v) else f"{v:.3f}"
    return html.escape(str(v))


def _ci(row: pd.Series, lo: str = "ci_low", hi: str = "ci_high") -> str:
    a, b = row.get(lo), row.get(hi)
    if a is None or b is None or not (np.isfinite(a) and np.isfinite(b)):
        return "—"
    return f"{a:.2f} to {b:.2f}"


def _table(df: pd.DataFrame, cols: list[tuple[str, str]], ci: tuple[str, str] | None = None,
           table_id: str = "") -> str:
    if not len(df):
        return "<p class='note'>Nothing to show.</p>"
    head = "".join(f"<th>{html.escape(t)}</th>" for _, t in cols)
    if ci:
        head += "<th>95 % CI</th>"
    rows = []
    for _, r in df.iterrows():
        cls = " class='hypsa'" if str(r.get("kind", "")).startswith("hypsa") else ""
        cells = "".join(f"<td>{_fmt(_KIND.get(r[c], r[c]) if c == 'kind' else r[c])}</td>"
                        for c, _ in cols)
        if ci:
            cells += f"<td>{_ci(r, *ci)}</td>"
        rows.append(f"<tr{cls}>{cells}</tr>")
    tid = f" id='{table_id}'" if table_id else ""
    return f"<table{tid}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def bland_altman_png(row: pd.Series) -> str:
    """A Bland-Altman plot of one pair's spasm counts, as a base64 PNG data URI."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mean = np.asarray(json.loads(row["mean"]), dtype=float)
    diff = np.asarray(json.loads(row["diff"]), dtype=float)
    fig, ax = plt.subplots(figsize=(4.6, 3.2), dpi=90)
    ax.scatter(mean, diff, s=14, color="#2f5fa7")
    for v, ls in ((row["bias"], "-"), (row["loa_low"], "--"), (row["loa_high"], "--")):
        if np.isfinite(v):
            ax.axhline(v, color="#a33", ls=ls, lw=1)
    ax.set_xlabel("mean count of the pair")
    ax.set_ylabel(f"{row['rater_b']} − {row['rater_a']}")
    ax.set_title(f"{row['rater_b']} vs {row['rater_a']}", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def render_html(res: AgreementResult, title: str = "reader study") -> str:
    """The report as one HTML string (no external resource)."""
    from hypsa import DISCLAIMER

    m = res.meta
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Agreement: "
             f"{html.escape(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>Reader agreement: {html.escape(title)}</h1>",
             f"<p class='note'>{m['recordings']} recordings ({m['hours']:.1f} h), readers "
             f"{html.escape(', '.join(m['readers']))}"
             + (f", and {html.escape(m['algorithm'])} as one more rater" if m.get("algorithm")
                else "") +
             f". Intervals: percentile bootstrap over recordings ({m['n_boot']} replicates, "
             f"seed {m['seed']}). Spasm events matched within {m['tolerance_s']:g} s "
             f"(timescoring). hypsa {html.escape(str(m['hypsa_version']))}.</p>"]
    if len(res.range_check):
        parts += ["<h2>Is hypsa within the range of the readers?</h2>",
                  _table(res.range_check, [("measure", "measure"),
                                           ("readers_min", "readers: lowest pair"),
                                           ("readers_max", "readers: highest pair"),
                                           ("readers_ci_low", "range with CIs: from"),
                                           ("readers_ci_high", "to"),
                                           ("hypsa_vs_readers_median",
                                            "hypsa vs readers (median)"),
                                           ("hypsa_vs_majority", "hypsa vs majority"),
                                           ("hypsa", "hypsa")], table_id="range")]
        parts.append("<p class='note'>hypsa is <em>within</em> when its median agreement "
                     "with the readers lies between the lowest and highest reader pair, "
                     "widened by those pairs' 95 % intervals.</p>")
    parts += ["<h2>Hypsarrhythmia and BASED grade: Cohen's kappa per pair</h2>",
              _table(res.labels, [("measure", "measure"), ("kind", "comparison"),
                                  ("rater_a", "rater"), ("rater_b", "against"), ("n", "n"),
                                  ("value", "kappa")], ("ci_low", "ci_high"),
                     table_id="kappa"),
              "<h2>Across raters: Fleiss' kappa and Krippendorff's alpha</h2>",
              _table(res.overall, [("measure", "measure"), ("raters", "raters"), ("n", "n"),
                                   ("value", "value")], ("ci_low", "ci_high"),
                     table_id="overall"),
              "<h2>Spasms as events (per pair)</h2>",
              "<p class='note'>The second rater's marks scored against the first's: "
              "sensitivity (share of the first's marks the second also made), precision, F1 "
              "(symmetric), false marks per hour.</p>",
              _table(res.events, [("kind", "comparison"), ("rater_a", "reference"),
                                  ("rater_b", "other"), ("n_ref", "reference marks"),
                                  ("n_other", "other marks"), ("sensitivity", "sensitivity"),
                                  ("precision", "precision"), ("f1", "F1"),
                                  ("fp_per_hour", "extra marks / h")],
                     ("f1_ci_low", "f1_ci_high"), table_id="events"),
              "<h2>Spasm counts per recording: ICC(A,1)</h2>",
              _table(res.counts, [("kind", "comparison"), ("rater_a", "rater"),
                                  ("rater_b", "against"), ("n", "recordings"),
                                  ("icc", "ICC")], ("ci_low", "ci_high"), table_id="icc"),
              "<h2>Bland-Altman (spasm counts)</h2>",
              _table(res.bland_altman, [("kind", "comparison"), ("rater_a", "rater a"),
                                        ("rater_b", "rater b"), ("n", "recordings"),
                                        ("bias", "bias (b − a)"), ("loa_low", "lower limit"),
                                        ("loa_high", "upper limit")], table_id="ba")]
    for _, r in res.bland_altman.iterrows():
        if r["n"] >= 2:
            parts.append(f"<img alt='Bland-Altman {html.escape(str(r['rater_b']))} vs "
                         f"{html.escape(str(r['rater_a']))}' src='{bland_altman_png(r)}'>")
    parts += [f"<p class='note'>{html.escape(DISCLAIMER)}</p></body></html>"]
    return "\n".join(parts)


def write_report(res: AgreementResult, out: str | Path, title: str = "reader study"
                 ) -> dict[str, Path]:
    """Write ``agreement.html``, ``agreement.json`` and the CSV tables into ``out``.

    Returns
    -------
    dict of str to Path
        ``html``, ``json`` and one entry per table.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for key, fname in TABLES.items():
        df = getattr(res, key)
        if key == "bland_altman" and len(df):
            df = df.drop(columns=["mean", "diff"], errors="ignore")
        df.to_csv(out / fname, index=False, float_format="%.4f")
        paths[key] = out / fname
    paths["json"] = out / "agreement.json"
    paths["json"].write_text(json.dumps(res.to_json(), indent=2))
    paths["html"] = out / "agreement.html"
    paths["html"].write_text(render_html(res, title))
    return paths
