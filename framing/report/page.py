"""The report as one self-contained HTML page: inline CSS, plots as data URIs, every text escaped."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from framing.report.aggregate import ArticleTotals, summarise
from framing.report.examples import Example, examples_html
from framing.report.settings import MISSING, ReportSettings
from framing.report.shares import INTERVAL_METHOD, TIME_KEYS
from framing.uncertainty import cluster_ratio

TOP_ROWS_HTML = 50


def _cell(value: Any, column: str) -> str:
    if column.startswith("share") and isinstance(value, float | np.floating):
        return f"{value:.1%}"
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return MISSING if np.isnan(value) else f"{value:.3f}"
    if value is None or value is pd.NA:
        return MISSING
    return str(value)


def _html_table(frame: pd.DataFrame, few: Sequence[bool] | None = None) -> str:
    """An escaped HTML table; rows marked in ``few`` get the greyed ``few`` class."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    marks = list(few) if few is not None else [False] * len(frame)
    for record, grey in zip(frame.itertuples(index=False, name=None), marks, strict=True):
        cells = "".join(
            f'<td class="{"num" if not isinstance(v, str) or str(c).startswith(("share", "corrected")) else "txt"}">'
            f"{html.escape(_cell(v, str(c)))}</td>"
            for c, v in zip(frame.columns, record, strict=True)
        )
        rows.append(f'<tr class="few">{cells}</tr>' if grey else f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _with_bounds(value: float, low: float, high: float) -> str:
    """``34.6% [28.1%, 41.0%]``, or the share alone when it has no interval."""
    if pd.isna(value):
        return MISSING
    if pd.isna(low) or pd.isna(high):
        return f"{value:.1%}"
    return f"{value:.1%} [{low:.1%}, {high:.1%}]"


def display_summary(summary: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """The summary as shown: each share (and corrected share) with its interval in one cell."""
    keys = [
        c
        for c in summary.columns
        if c not in ("paragraphs", "articles", "below_min") and not c.startswith(("share_", "corrected_"))
    ]
    out = summary[[*keys, "paragraphs", "articles"]].copy()
    for label in labels:
        for prefix in ("share", "corrected"):
            column = f"{prefix}_{label}"
            if column in summary:
                out[column] = [
                    _with_bounds(v, lo, hi)
                    for v, lo, hi in zip(
                        summary[column], summary[f"{column}_low"], summary[f"{column}_high"], strict=True
                    )
                ]
    return out


def _top_rows(summary: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Years and months in order; other groupings by paragraphs, most first."""
    if any(key in TIME_KEYS for key in keys):
        return summary.head(TOP_ROWS_HTML)
    return summary.sort_values("paragraphs", ascending=False, kind="mergesort").head(TOP_ROWS_HTML)


def _model_section(manifest: dict[str, Any]) -> list[str]:
    """Which model made these scores, on what data, at which thresholds, keeping which languages."""
    if not manifest:
        return ['<p class="note">No scoring manifest beside the scores: the model that made them is not known.</p>']
    info = manifest.get("model_info") or {}
    rows = [("model", str(manifest.get("model_uri", MISSING))), ("input", str(manifest.get("input_path", MISSING)))]
    if info.get("run_id"):
        rows.append(("training run", str(info["run_id"])))
    for split, described in (info.get("data") or {}).items():
        rows.append((f"{split} data", str(described)))
    thresholds = info.get("thresholds")
    if thresholds:
        rows.append(("thresholds", ", ".join(f"{k} {float(v):.2f}" for k, v in thresholds.items())))
    if info.get("languages"):
        rows.append(("training languages", ", ".join(f"{k} {v}" for k, v in info["languages"].items())))
    kept = (manifest.get("settings") or {}).get("source", {}).get("languages")
    if kept is not None:
        rows.append(("languages scored", "any" if not kept else ", ".join(kept)))
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return ["<h2>Model</h2>", f"<table><tbody>{body}</tbody></table>"]


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


_CSS = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
th { background: #f0f0f0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; }
.note { color: #666; font-size: 0.9em; }
tr.few td { color: #999; background: #f7f7f7; }
blockquote { border-left: 3px solid #ccc; margin: 0.5em 0; padding: 0 1em; }
mark { background: #ffe58a; }
"""


def _overall_table(articles: ArticleTotals, overall: pd.DataFrame, settings: ReportSettings) -> pd.DataFrame:
    frame = articles.frame
    n_articles = len(frame)
    rows = []
    for label in articles.labels:
        flagged = int(frame[f"flagged_{label}"].sum())
        with_label = (frame[f"flagged_{label}"] > 0).to_numpy(dtype=float)
        article_share = cluster_ratio(with_label[:, None], np.ones(n_articles), n_boot=settings.n_boot)
        row = {
            "label": label,
            "paragraphs flagged": flagged,
            "share of paragraphs": _with_bounds(
                overall[f"share_{label}"].iloc[0],
                overall[f"share_{label}_low"].iloc[0],
                overall[f"share_{label}_high"].iloc[0],
            ),
            "articles with a flagged paragraph": int(with_label.sum()),
            "share of articles": _with_bounds(
                article_share["value"][0], article_share["low"][0], article_share["high"][0]
            ),
        }
        if f"corrected_{label}" in overall:
            row["corrected share of paragraphs"] = _with_bounds(
                overall[f"corrected_{label}"].iloc[0],
                overall[f"corrected_{label}_low"].iloc[0],
                overall[f"corrected_{label}_high"].iloc[0],
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _method_notes(settings: ReportSettings, articles: ArticleTotals) -> list[str]:
    counted = "every row" if settings.kinds is None else "rows of kind " + ", ".join(settings.kinds)
    left_out = ", ".join(f"{kind} {n:,}" for kind, n in sorted(articles.left_out.items()))
    notes = [
        f"Counted: {counted}"
        + (
            f"; left out: {left_out} (titles, bylines, captions and boilerplate are not reporting)."
            if left_out
            else "."
        ),
        "A paragraph is flagged for a label when the model put the label in its <code>labels</code> column "
        "(at the model's tuned threshold).",
        f"Intervals: {INTERVAL_METHOD} ({settings.n_boot} resamples); paragraphs of one article are not "
        "independent, so articles, not paragraphs, are resampled."
        if settings.n_boot
        else "No intervals (bootstrap turned off).",
        f"Groups with fewer than {settings.min_articles} articles are greyed: their shares say little.",
    ]
    if settings.correction is not None:
        notes.append(
            "Corrected shares = share &times; precision / recall, with the precision and recall measured on a "
            f"labelled sample ({html.escape(str(settings.correction.path))}); their interval combines the share's "
            "interval with the ends of the precision and recall intervals (conservative). They estimate the share "
            "of paragraphs that truly carry the label."
        )
    return [f'<p class="note">{note}</p>' for note in notes]


def _grouping_sections(
    summaries: dict[tuple[str, ...], pd.DataFrame], plots: dict[str, Path], labels: Sequence[str]
) -> list[str]:
    """Per grouping, its plot (one key) and its table; then the plots whose grouping was not asked for."""
    parts: list[str] = []
    for keys, summary in summaries.items():
        name = " × ".join(keys)
        parts.append(f"<h2>By {html.escape(name)}</h2>")
        plot = plots.get(keys[0]) if len(keys) == 1 else None
        if plot is not None:
            parts.append(_image(plot, f"share of paragraphs per label by {name}"))
        shown = _top_rows(summary, keys)
        if len(summary) > len(shown):
            parts.append(f'<p class="note">Showing {len(shown)} of {len(summary)} groups.</p>')
        parts.append(_html_table(display_summary(shown, labels), list(shown["below_min"])))
    for key, plot in plots.items():  # plots whose grouping was not asked for still belong in the report
        if (key,) not in summaries:
            parts.append(f"<h2>By {html.escape(key)}</h2>")
            parts.append(_image(plot, f"share of paragraphs per label by {key}"))
    return parts


def render_html(
    title: str,
    scores: Path,
    articles: ArticleTotals,
    summaries: dict[tuple[str, ...], pd.DataFrame],
    plots: dict[str, Path],
    overall: pd.DataFrame | None = None,
    settings: ReportSettings | None = None,
    manifest: dict[str, Any] | None = None,
    examples: dict[str, list[Example]] | None = None,
) -> str:
    """One self-contained page: inline CSS, images as data URIs, every text escaped."""
    settings = settings or ReportSettings()
    overall = summarise(articles, (), settings.n_boot, settings.min_articles) if overall is None else overall
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="note">Scores: {html.escape(str(scores))}</p>',
        f"<p><strong>{articles.paragraphs:,}</strong> paragraphs in <strong>{len(articles.frame):,}</strong> "
        f"articles; {len(articles.labels)} labels: {html.escape(', '.join(articles.labels))}.</p>",
        *_model_section(manifest or {}),
        "<h2>Overall</h2>",
        _html_table(_overall_table(articles, overall, settings)),
        *_method_notes(settings, articles),
    ]
    parts.extend(_grouping_sections(summaries, plots, articles.labels))
    parts.extend(examples_html(examples or {}))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


__all__ = ["display_summary", "render_html"]
