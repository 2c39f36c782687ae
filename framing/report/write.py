"""``write_report``: the flow from scores to the article table, summaries, plots and the page.

Each step lives in its own module: ``reading`` (scores through ``framing.formats``),
``aggregate`` (articles and groups), ``shares`` (intervals, correction), ``figures``,
``examples`` and ``page`` (the HTML).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from framing.report.aggregate import ArticleTotals, aggregate_articles, groupings, summarise
from framing.report.examples import Example, top_examples
from framing.report.figures import draw_plots
from framing.report.page import render_html
from framing.report.reading import example_chunks, inspect_scores, scores_manifest
from framing.report.settings import ReportSettings
from framing.report.shares import apply_correction, read_correction


@dataclass(frozen=True)
class Report:
    """What ``write_report`` wrote, and the corpus totals for the console."""

    output_dir: Path
    html: Path
    articles_parquet: Path
    articles_csv: Path
    summaries: dict[str, Path]
    plots: dict[str, Path]
    labels: list[str]
    paragraphs: int
    articles: int


def write_report(
    scores: Path,
    output_dir: Path,
    group_by: Sequence[str] | None = None,
    chunk_size: int = 50_000,
    title: str | None = None,
    settings: ReportSettings | None = None,
    correction: Path | None = None,
) -> Report:
    """Article table, summaries, plots and ``report.html`` for the scores at ``scores``, written to ``output_dir``.

    ``group_by`` lists groupings (metadata columns, ``year`` or ``month`` from
    ``date``, ``a+b`` for both); ``None`` means ``outlet`` and ``year`` where
    present. An overall summary is always written. ``correction`` is the CSV of
    ``framing annotate estimate --output``: shares are then also corrected for
    the model's measured precision and recall.
    """
    settings = settings or ReportSettings()
    if correction is not None:
        settings = replace(settings, correction=read_correction(correction))
    articles = aggregate_articles(scores, chunk_size, settings.kinds)
    asked = groupings(articles, group_by, scores)
    output_dir.mkdir(parents=True, exist_ok=True)
    articles_parquet, articles_csv = _write_articles(articles, output_dir)
    summaries = _Summaries(articles, settings)
    overall, by_group, summary_paths = summaries.write(asked, output_dir)
    plots = draw_plots(articles, by_group, output_dir, summaries.of, settings.min_articles)
    page = output_dir / "report.html"
    page.write_text(
        render_html(
            title or f"Framing report: {scores.name}",
            scores,
            articles,
            by_group,
            plots,
            overall,
            settings,
            scores_manifest(scores),
            _examples(scores, chunk_size, settings),
        ),
        encoding="utf-8",
    )
    return Report(
        output_dir=output_dir,
        html=page,
        articles_parquet=articles_parquet,
        articles_csv=articles_csv,
        summaries=summary_paths,
        plots=plots,
        labels=articles.labels,
        paragraphs=articles.paragraphs,
        articles=len(articles.frame),
    )


def _write_articles(articles: ArticleTotals, output_dir: Path) -> tuple[Path, Path]:
    """The article table as ``articles.parquet`` and ``articles.csv``."""
    table = articles.table()
    parquet, csv = output_dir / "articles.parquet", output_dir / "articles.csv"
    table.to_parquet(parquet, index=False)
    table.to_csv(csv, index=False)
    return parquet, csv


@dataclass(frozen=True)
class _Summaries:
    """Summaries of one article table under one report's settings (corrected where a correction is given)."""

    articles: ArticleTotals
    settings: ReportSettings

    def of(self, keys: tuple[str, ...]) -> pd.DataFrame:
        found = summarise(self.articles, keys, self.settings.n_boot, self.settings.min_articles)
        if self.settings.correction is not None:
            found = apply_correction(found, self.articles.labels, self.settings.correction)
        return found

    def write(
        self, asked: list[tuple[str, ...]], output_dir: Path
    ) -> tuple[pd.DataFrame, dict[tuple[str, ...], pd.DataFrame], dict[str, Path]]:
        """The overall summary and one per grouping asked for, as CSV files; (overall, summaries, paths)."""
        paths = {"overall": output_dir / "summary_overall.csv"}
        overall = self.of(())
        overall.to_csv(paths["overall"], index=False)
        summaries: dict[tuple[str, ...], pd.DataFrame] = {}
        for keys in asked:
            summaries[keys] = self.of(keys)
            paths["+".join(keys)] = output_dir / _file_name(keys)
            summaries[keys].to_csv(paths["+".join(keys)], index=False)
        return overall, summaries, paths


def _file_name(keys: Sequence[str]) -> str:
    return "summary_by_" + "_".join(re.sub(r"[^A-Za-z0-9_-]+", "_", k) for k in keys) + ".csv"


def _examples(scores: Path, chunk_size: int, settings: ReportSettings) -> dict[str, list[Example]]:
    """Per label, the flagged paragraphs the model was surest of (none when ``settings.examples`` is 0)."""
    if settings.examples <= 0:
        return {}
    layout = inspect_scores(scores)
    return top_examples(example_chunks(layout, chunk_size), layout.labels, settings.examples, settings.kinds)


__all__ = ["Report", "write_report"]
