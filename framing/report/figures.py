"""The report's figures: shares per label by outlet (bars) and over time (lines), with 95% intervals.

Drawn on Agg figures without pyplot's global state, and saved as PNG for the page to embed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from framing.report.aggregate import ArticleTotals
from framing.report.settings import MISSING
from framing.report.shares import MIN_ARTICLES, time_position

TOP_OUTLETS_PLOT = 20
Summary = Callable[[tuple[str, ...]], pd.DataFrame]


def _plain(text: Any, limit: int = 40) -> str:
    """A tick label matplotlib will not read as mathtext, cut to ``limit`` characters."""
    value = MISSING if pd.isna(text) else str(text)
    value = value if len(value) <= limit else value[: limit - 1] + "…"
    return value.replace("$", r"\$")


def _new_figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)  # Agg, without pyplot's global state
    return figure


def _errors(summary: pd.DataFrame, label: str) -> np.ndarray | None:
    """Matplotlib's [2, n] distances from each share to its interval ends; ``None`` without intervals."""
    share = summary[f"share_{label}"].to_numpy(dtype=float)
    low = summary.get(f"share_{label}_low", pd.Series(np.nan, index=summary.index)).to_numpy(dtype=float)
    high = summary.get(f"share_{label}_high", pd.Series(np.nan, index=summary.index)).to_numpy(dtype=float)
    if np.isnan(low).all():
        return None
    return np.vstack([np.nan_to_num(share - low), np.nan_to_num(high - share)]).clip(min=0)


def _few(summary: pd.DataFrame) -> np.ndarray:
    return summary.get("below_min", pd.Series(False, index=summary.index)).fillna(False).to_numpy(dtype=bool)


def plot_by_outlet(by_outlet: pd.DataFrame, labels: list[str], path: Path, min_articles: int = MIN_ARTICLES) -> Path:
    """Grouped horizontal bars with 95% intervals: share of paragraphs per label for the largest outlets.

    Outlets with fewer than ``min_articles`` articles are drawn grey.
    """
    from matplotlib.ticker import PercentFormatter

    top = by_outlet.sort_values("paragraphs", ascending=False, kind="mergesort").head(TOP_OUTLETS_PLOT)
    height = 0.8 / max(len(labels), 1)
    figure = _new_figure(9, 1.5 + len(top) * max(0.35, 0.18 * len(labels)))
    ax = figure.add_subplot()
    positions = np.arange(len(top))
    few = _few(top)
    colours = [f"C{j % 10}" for j in range(len(labels))]
    for j, label in enumerate(labels):
        offsets = positions - 0.4 + height * (j + 0.5)
        bars = ax.barh(offsets, top[f"share_{label}"].to_numpy(), height=height, color=colours[j], label=_plain(label))
        for bar, f in zip(bars, few, strict=True):
            if f:
                bar.set_alpha(0.3)
        errors = _errors(top, label)
        if errors is not None:
            ax.errorbar(top[f"share_{label}"].to_numpy(), offsets, xerr=errors, fmt="none", ecolor="#333", lw=0.8)
    ax.set_yticks(positions, [_plain(v) + (" (few)" if f else "") for v, f in zip(top["outlet"], few, strict=True)])
    for tick, f in zip(ax.get_yticklabels(), few, strict=True):
        if f:
            tick.set_color("grey")
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(
        f"share of paragraphs flagged; lines: 95% interval (articles resampled); pale: < {min_articles} articles"
    )
    ax.set_title(f"Share of paragraphs per label by outlet (top {len(top)} by paragraphs)")
    ax.legend(loc="best", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=100)
    return path


def plot_over_time(
    summary: pd.DataFrame, key: str, labels: list[str], path: Path, min_articles: int = MIN_ARTICLES
) -> Path:
    """One line per label over a real time axis (1992 and 1994 are two years apart), with 95% bands.

    Periods with fewer than ``min_articles`` articles are drawn as grey hollow points.
    """
    from matplotlib.ticker import PercentFormatter

    points = summary.assign(_when=[time_position(key, v) for v in summary[key]])
    points = points[points["_when"].notna()].sort_values("_when")
    figure = _new_figure(10, 4.5)
    ax = figure.add_subplot()
    when = pd.to_datetime(points["_when"]).to_numpy()
    few = _few(points)
    for j, label in enumerate(labels):
        share = points[f"share_{label}"].to_numpy(dtype=float)
        colour = f"C{j % 10}"
        ax.plot(when, share, color=colour, lw=1.2, label=_plain(label))
        ax.plot(when[~few], share[~few], "o", color=colour, ms=4)
        ax.plot(when[few], share[few], "o", mfc="none", mec="grey", ms=4)
        if f"share_{label}_low" in points and points[f"share_{label}_low"].notna().any():
            low = points[f"share_{label}_low"].to_numpy(dtype=float)
            high = points[f"share_{label}_high"].to_numpy(dtype=float)
            ax.fill_between(when, low, high, color=colour, alpha=0.15, lw=0)
    ax.set_ylim(bottom=0)  # shares from zero, so small changes do not look large
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("share of paragraphs flagged")
    ax.set_xlabel(f"{key}; bands: 95% interval (articles resampled); hollow grey: < {min_articles} articles")
    ax.set_title(f"Share of paragraphs per label by {key}")
    ax.legend(loc="best", fontsize=8)
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=100)
    return path


def draw_plots(
    articles: ArticleTotals,
    summaries: dict[tuple[str, ...], pd.DataFrame],
    output_dir: Path,
    summary_of: Summary,
    min_articles: int = MIN_ARTICLES,
) -> dict[str, Path]:
    """By outlet and by year always (where the data allows), by month when asked for.

    A summary the report did not write (by outlet when grouped otherwise) comes from ``summary_of``.
    """
    plots: dict[str, Path] = {}
    if not len(articles.frame):
        return plots
    if "outlet" in articles.metadata:
        by_outlet = summaries.get(("outlet",))
        by_outlet = summary_of(("outlet",)) if by_outlet is None else by_outlet
        plots["outlet"] = plot_by_outlet(by_outlet, articles.labels, output_dir / "share_by_outlet.png", min_articles)
    if "date" in articles.metadata:
        for key in ("year", "month"):
            if key == "month" and ("month",) not in summaries:
                continue
            by_time = summaries.get((key,))
            by_time = summary_of((key,)) if by_time is None else by_time
            if by_time[key].notna().any():
                path = output_dir / f"share_by_{key}.png"
                plots[key] = plot_over_time(by_time, key, articles.labels, path, min_articles)
    return plots


__all__ = ["draw_plots", "plot_by_outlet", "plot_over_time"]
