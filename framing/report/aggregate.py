"""Scored paragraphs reduced to one row per article, and articles to summaries per group.

The scores written by ``framing predict`` can be far larger than memory, so
they are read in chunks and reduced to per-article sums, counts and maxima as
they go. An article whose paragraphs are spread over chunks or part files is
merged on its id, so memory grows with the number of articles, not of
paragraphs. Summaries (by outlet, year or any metadata column) are computed
from that article table, with an article's metadata taken from its first row.

A paragraph counts as flagged for a label when the label is in its ``labels``
column, i.e. at the model's tuned threshold, not at ``p >= 0.5``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from framing.errors import DataError
from framing.report.reading import PROBABILITY_PREFIX, chunks, inspect_scores
from framing.report.settings import BODY_ONLY
from framing.report.shares import MIN_ARTICLES, TIME_KEYS, group_intervals, with_time_keys
from framing.uncertainty import N_BOOT, SEED


@dataclass
class ArticleTotals:
    """Per-article counts: index ``article_id``; metadata, ``paragraphs``, ``flagged_<label>``, ``max_p_<label>``."""

    labels: list[str]
    metadata: list[str]
    frame: pd.DataFrame = field(repr=False)
    left_out: dict[str, int] = field(default_factory=dict)  # rows of other kinds than those counted, per kind

    @property
    def paragraphs(self) -> int:
        return int(self.frame["paragraphs"].sum())

    def table(self) -> pd.DataFrame:
        """The published article table: shares instead of counts, ``article_id`` as a column."""
        out = self.frame[self.metadata].copy()
        out.insert(0, "article_id", self.frame.index.to_numpy(dtype=object))
        out["paragraphs"] = self.frame["paragraphs"].astype("int64")
        for label in self.labels:
            out[f"share_{label}"] = _share(self.frame[f"flagged_{label}"], self.frame["paragraphs"])
        for label in self.labels:
            out[f"max_p_{label}"] = self.frame[f"max_p_{label}"].astype("float64")
        return out.reset_index(drop=True)


def _flags(labels: pd.Series, names: list[str]) -> np.ndarray:
    """0/1 matrix (rows x names): whether each name is in the row's list of labels."""
    exploded = labels.reset_index(drop=True).explode()
    rows = exploded.index.to_numpy()
    values = exploded.to_numpy(dtype=object)
    flags = np.zeros((len(labels), len(names)), dtype=np.int64)
    for j, name in enumerate(names):
        flags[rows[values == name], j] = 1
    return flags


class _Accumulator:
    """Per-article sums, counts and maxima merged over chunks, compacted as they pile up."""

    def __init__(
        self, labels: list[str], metadata: list[str], chunk_size: int, kinds: Sequence[str] | None = BODY_ONLY
    ) -> None:
        self.kinds = None if kinds is None else set(kinds)
        self.left_out: Counter[str] = Counter()
        self.labels = labels
        self.metadata = metadata
        self.chunk_size = chunk_size
        self.spec = {
            "paragraphs": "sum",
            **{f"flagged_{label}": "sum" for label in labels},
            **{f"max_p_{label}": "max" for label in labels},
        }
        self.stats: pd.DataFrame | None = None
        self.meta: pd.DataFrame | None = None
        self.pending: list[pd.DataFrame] = []
        self.pending_meta: list[pd.DataFrame] = []
        self.pending_rows = 0

    def add(self, file: Path, chunk: pd.DataFrame) -> None:
        if self.kinds is not None and "kind" in chunk:
            kinds = chunk["kind"].fillna("body").astype(str)  # rows scored before kinds existed count as body
            kept = kinds.isin(self.kinds)
            self.left_out.update(kinds[~kept].tolist())
            chunk = chunk[kept.to_numpy()]
        if chunk.empty:
            return
        if chunk["article_id"].isna().any():
            raise DataError(file, "a row has no article_id")
        ids = chunk["article_id"].astype(str).to_numpy(dtype=object)
        flags = _flags(chunk["labels"], self.labels)
        data: dict[str, Any] = {"article_id": ids, "paragraphs": np.ones(len(chunk), dtype=np.int64)}
        for j, label in enumerate(self.labels):
            data[f"flagged_{label}"] = flags[:, j]
        for label in self.labels:
            try:
                data[f"max_p_{label}"] = chunk[f"{PROBABILITY_PREFIX}{label}"].astype("float64").to_numpy()
            except (TypeError, ValueError) as exc:
                raise DataError(file, f"p_{label} has values that are not numbers: {exc}") from exc
        stats = pd.DataFrame(data).groupby("article_id", sort=False).agg(self.spec)
        meta = chunk[[c for c in self.metadata if c in chunk]].copy()
        meta.index = pd.Index(ids, name="article_id")
        self.pending.append(stats)
        self.pending_meta.append(meta[~meta.index.duplicated()])
        self.pending_rows += len(stats)
        # Compacting when the pending rows outgrow the merged table keeps memory and work linear in articles.
        if self.pending_rows >= max(0 if self.stats is None else len(self.stats), 4 * self.chunk_size):
            self._compact()

    def _compact(self) -> None:
        if not self.pending:
            return
        stats = [self.stats, *self.pending] if self.stats is not None else self.pending
        meta = [self.meta, *self.pending_meta] if self.meta is not None else self.pending_meta
        self.stats = pd.concat(stats).groupby(level=0, sort=False).agg(self.spec)
        merged = pd.concat(meta)
        self.meta = merged[~merged.index.duplicated(keep="first")]
        self.pending, self.pending_meta, self.pending_rows = [], [], 0

    def result(self) -> ArticleTotals:
        self._compact()
        if self.stats is None:
            columns = [*self.metadata, *self.spec]
            empty = pd.DataFrame({c: pd.Series(dtype=object) for c in columns}, index=pd.Index([], name="article_id"))
            return ArticleTotals(self.labels, self.metadata, empty, dict(self.left_out))
        meta = self.meta.reindex(self.stats.index) if self.meta is not None else pd.DataFrame(index=self.stats.index)
        meta = meta.reindex(columns=self.metadata)
        for column in self.metadata:
            meta[column] = _one_type(meta[column])
        return ArticleTotals(self.labels, self.metadata, pd.concat([meta, self.stats], axis=1), dict(self.left_out))


def _one_type(column: pd.Series) -> pd.Series:
    """Strings where chunks inferred different types for one column (e.g. ``2`` and ``"world"``); Parquet needs one."""
    if column.dtype != object:
        return column
    values = column.dropna()
    if len({type(v) for v in values}) <= 1:
        return column
    return column.map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))


def aggregate_articles(path: Path, chunk_size: int = 50_000, kinds: Sequence[str] | None = BODY_ONLY) -> ArticleTotals:
    """Read the scores at ``path`` in chunks and reduce them to one row per article.

    Only rows whose ``kind`` is in ``kinds`` count (body paragraphs by default;
    ``None`` counts every row); scores without a ``kind`` column count whole.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    layout = inspect_scores(path)
    accumulator = _Accumulator(layout.labels, layout.metadata, chunk_size, kinds)
    for file, chunk in chunks(layout, chunk_size):
        accumulator.add(file, chunk)
    return accumulator.result()


def _share(flagged: pd.Series, paragraphs: pd.Series) -> pd.Series:
    total = paragraphs.astype("float64")
    return (flagged.astype("float64") / total.where(total > 0)).fillna(0.0)


def summarise(
    articles: ArticleTotals,
    keys: Sequence[str] = (),
    n_boot: int = N_BOOT,
    min_articles: int = MIN_ARTICLES,
    seed: int = SEED,
) -> pd.DataFrame:
    """Per group of ``keys`` (none: overall): paragraphs, articles and, per label, the share of paragraphs
    flagged with its 95% cluster-bootstrap interval (``share_<label>_low``/``_high``; ``n_boot=0`` leaves
    them empty); ``below_min`` marks groups with fewer than ``min_articles`` articles."""
    flagged = [f"flagged_{label}" for label in articles.labels]
    frame = with_time_keys(articles.frame, keys)
    counts = frame[["paragraphs", *flagged]].astype("int64")
    if keys:
        grouped = pd.concat([frame[list(keys)], counts], axis=1).groupby(list(keys), dropna=False, sort=True)
        totals = grouped[["paragraphs", *flagged]].sum()
        totals.insert(1, "articles", grouped.size())
        totals = totals.reset_index()
    else:
        totals = pd.DataFrame(
            [{"paragraphs": counts["paragraphs"].sum(), "articles": len(frame), **counts[flagged].sum()}]
        )
    out = totals[[*keys, "paragraphs", "articles"]].copy()
    bounds = group_intervals(pd.concat([frame[list(keys)], counts], axis=1), articles.labels, keys, n_boot, seed)
    for label in articles.labels:
        out[f"share_{label}"] = _share(totals[f"flagged_{label}"], totals["paragraphs"])
        for end in ("low", "high"):
            column = f"share_{label}_{end}"
            out[column] = bounds[column].to_numpy() if column in bounds and len(bounds) == len(out) else np.nan
    out["below_min"] = out["articles"] < min_articles
    return out


def groupings(articles: ArticleTotals, group_by: Sequence[str] | None, path: Path) -> list[tuple[str, ...]]:
    """``outlet`` and ``year`` by default where the data has them; ``a+b`` groups by both columns."""
    available = set(articles.metadata)
    if "date" in available:
        available |= set(TIME_KEYS)
    if group_by is None:
        return [(key,) for key in ("outlet", "year") if key in available]
    found: list[tuple[str, ...]] = []
    for spec in group_by:
        keys = tuple(k.strip() for k in spec.split("+") if k.strip())
        for key in keys:
            if key not in available:
                hint = f" ({key} needs a date column)" if key in TIME_KEYS else ""
                raise DataError(
                    path, f"cannot group by {key!r}{hint}; metadata columns: {', '.join(sorted(available)) or 'none'}"
                )
        if keys and keys not in found:
            found.append(keys)
    return found


__all__ = ["ArticleTotals", "aggregate_articles", "groupings", "summarise"]
