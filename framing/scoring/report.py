"""Turn scored paragraphs into article tables, corpus summaries, plots and one offline HTML page.

The scores written by ``framing predict`` can be far larger than memory, so
they are read in chunks (one Parquet row batch, or ``chunk_size`` lines of
JSONL/CSV, at a time) and reduced to per-article sums, counts and maxima as
they go. An article whose paragraphs are spread over chunks or part files is
merged on its id, so memory grows with the number of articles, not of
paragraphs. Everything else (summaries by outlet, year or any metadata column,
plots, HTML) is computed from that article table, with an article's metadata
taken from its first row.

A paragraph counts as flagged for a label when the label is in its ``labels``
column, i.e. at the model's tuned threshold, not at ``p >= 0.5``.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from framing.errors import DataError
from framing.formats import OUTPUT_SUFFIXES, jsonl
from framing.scoring.examples import EXAMPLES, Example, examples_html, top_examples
from framing.scoring.shares import (
    INTERVAL_METHOD,
    MIN_ARTICLES,
    TIME_KEYS,
    Correction,
    apply_correction,
    group_intervals,
    read_correction,
    time_position,
    with_time_keys,
)
from framing.uncertainty import N_BOOT, SEED, cluster_ratio

SUFFIXES = tuple(OUTPUT_SUFFIXES)
# Columns of the scores that are neither metadata nor read: text and evidence are the bulk of the file.
RESERVED = {"article_id", "paragraph", "text", "labels", "evidence", "kind"}
BODY_ONLY = ("body",)
PROBABILITY_PREFIX = "p_"
TOP_OUTLETS_PLOT = 20
TOP_ROWS_HTML = 50
MISSING = "(missing)"


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


# --------------------------------------------------------------------------- reading


def score_files(path: Path) -> list[Path]:
    """The files of a scores output: the file itself, or a folder's ``part-*`` files in order."""
    if not path.exists():
        raise DataError(path, "scores not found")
    if path.is_file():
        if _suffix(path) is None:
            raise DataError(path, f"unknown scores type {path.suffix or '(none)'!r}; use .parquet, .jsonl or .csv")
        return [path]
    files = sorted(p for p in path.glob("part-*") if p.is_file() and _suffix(p) is not None)
    if not files:
        raise DataError(path, "no part-*.parquet, part-*.jsonl or part-*.csv files in the folder")
    return files


def _suffix(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return suffix if suffix in SUFFIXES else None


def _columns(file: Path) -> list[str]:
    """Column names without reading the data (an empty part has none)."""
    suffix = _suffix(file)
    if file.stat().st_size == 0:
        return []
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(file).names)
        if suffix == ".csv":
            return [str(c) for c in pd.read_csv(file, nrows=0).columns]
        for _, record in iter_jsonl(file):
            return list(record)
        return []
    except DataError:
        raise
    except (OSError, ValueError) as exc:  # ArrowInvalid, JSONDecodeError and pandas' parser errors are ValueErrors
        raise DataError(file, f"unreadable: {exc}") from exc


def iter_jsonl(file: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, object) through the one JSON Lines parser; a bad line is a one-line error."""
    for item in jsonl.read(file, on_error="raise"):
        assert isinstance(item, tuple)  # raise mode yields rows only
        yield item


def _iter_jsonl(file: Path, wanted: set[str], chunk_size: int) -> Iterator[pd.DataFrame]:
    """JSON Lines, ``chunk_size`` rows at a time, values exactly as written.

    Parsed by the shared JSON Lines reader rather than ``pandas.read_json``, whose
    dtype and date inference differs between pandas versions (ids like ``"001"``, ``date``).
    """
    records: list[dict[str, Any]] = []
    for _, record in iter_jsonl(file):
        records.append({k: v for k, v in record.items() if k in wanted})
        if len(records) == chunk_size:
            yield pd.DataFrame.from_records(records)
            records = []
    if records:
        yield pd.DataFrame.from_records(records)


def _decode_labels(value: Any, file: Path) -> list[str]:
    if not isinstance(value, str) or not value.strip():
        return []
    try:
        labels = json.loads(value)
    except json.JSONDecodeError as exc:
        raise DataError(file, f"labels is not a JSON list: {value[:80]!r}") from exc
    if not isinstance(labels, list):
        raise DataError(file, f"labels is not a JSON list: {value[:80]!r}")
    return labels


def _iter_csv(file: Path, wanted: set[str], chunk_size: int) -> Iterator[pd.DataFrame]:
    # Ids, labels and the known text metadata stay strings ("001", "NA" are values, not numbers or missing).
    text_columns = {"article_id", "labels", "date", "outlet", "url", "language"}
    with pd.read_csv(
        file,
        chunksize=chunk_size,
        usecols=lambda c: c in wanted,
        dtype={c: str for c in text_columns},
        keep_default_na=False,
        na_values=[""],
    ) as reader:
        for chunk in reader:
            chunk["labels"] = chunk["labels"].map(lambda v: _decode_labels(v, file)).astype(object)
            yield chunk


def _iter_parquet(file: Path, wanted: set[str], chunk_size: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(file)
    columns = [c for c in parquet.schema_arrow.names if c in wanted]
    for batch in parquet.iter_batches(batch_size=chunk_size, columns=columns):
        yield batch.to_pandas()


def _iter_file(file: Path, wanted: set[str], chunk_size: int) -> Iterator[pd.DataFrame]:
    readers = {".parquet": _iter_parquet, ".jsonl": _iter_jsonl, ".csv": _iter_csv}
    try:
        yield from readers[str(_suffix(file))](file, wanted, chunk_size)
    except DataError:
        raise
    except (OSError, ValueError) as exc:
        raise DataError(file, f"unreadable: {exc}") from exc


@dataclass(frozen=True)
class _Layout:
    files: list[Path]
    labels: list[str]
    metadata: list[str]


def _inspect(path: Path) -> _Layout:
    """Files, labels (from the ``p_`` columns) and metadata columns; every part must have the same labels."""
    labels: list[str] | None = None
    metadata: list[str] = []
    files: list[Path] = []
    for file in score_files(path):
        columns = _columns(file)
        if not columns:
            continue  # an empty part (a part with only rejects)
        found = [c[len(PROBABILITY_PREFIX) :] for c in columns if c.startswith(PROBABILITY_PREFIX)]
        if not found:
            raise DataError(file, "no p_<label> probability columns; is this the output of framing predict?")
        if labels is None:
            labels = found
        elif set(found) != set(labels):
            raise DataError(file, f"labels {sorted(found)} differ from those of the other parts {sorted(labels)}")
        for required in ("article_id", "labels"):
            if required not in columns:
                raise DataError(file, f"missing column {required!r}")
        for column in columns:
            if column not in RESERVED and not column.startswith(PROBABILITY_PREFIX) and column not in metadata:
                metadata.append(column)
        files.append(file)
    if labels is None:
        raise DataError(path, "no p_<label> probability columns (every part is empty)")
    # Names the article table computes itself cannot also be metadata.
    computed = {"paragraphs", "articles", *(f"{k}_{label}" for k in ("share", "max_p", "flagged") for label in labels)}
    return _Layout(files, labels, [c for c in metadata if c not in computed])


def iter_chunks(path: Path, chunk_size: int = 50_000) -> Iterator[tuple[Path, pd.DataFrame]]:
    """(file, rows) chunks of at most ``chunk_size`` rows, without the text and evidence columns."""
    return _chunks(_inspect(path), chunk_size)


def _example_chunks(layout: _Layout, chunk_size: int) -> Iterator[pd.DataFrame]:
    """The columns examples need (text and evidence included), chunk by chunk."""
    wanted = {"article_id", "paragraph", "labels", "kind", "text", "evidence"}
    wanted |= {f"{PROBABILITY_PREFIX}{label}" for label in layout.labels}
    for file in layout.files:
        yield from _iter_file(file, wanted, chunk_size)


def _chunks(layout: _Layout, chunk_size: int) -> Iterator[tuple[Path, pd.DataFrame]]:
    wanted = {"article_id", "labels", "kind", *(f"{PROBABILITY_PREFIX}{label}" for label in layout.labels)}
    wanted |= set(layout.metadata)
    for file in layout.files:
        for chunk in _iter_file(file, wanted, chunk_size):
            yield file, chunk


# --------------------------------------------------------------------------- per-article totals


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
    layout = _inspect(path)
    accumulator = _Accumulator(layout.labels, layout.metadata, chunk_size, kinds)
    for file, chunk in _chunks(layout, chunk_size):
        accumulator.add(file, chunk)
    return accumulator.result()


# --------------------------------------------------------------------------- summaries


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


def _groupings(articles: ArticleTotals, group_by: Sequence[str] | None, path: Path) -> list[tuple[str, ...]]:
    """``outlet`` and ``year`` by default where the data has them; ``a+b`` groups by both columns."""
    available = set(articles.metadata)
    if "date" in available:
        available |= set(TIME_KEYS)
    if group_by is None:
        return [(key,) for key in ("outlet", "year") if key in available]
    groupings: list[tuple[str, ...]] = []
    for spec in group_by:
        keys = tuple(k.strip() for k in spec.split("+") if k.strip())
        for key in keys:
            if key not in available:
                hint = f" ({key} needs a date column)" if key in TIME_KEYS else ""
                raise DataError(
                    path, f"cannot group by {key!r}{hint}; metadata columns: {', '.join(sorted(available)) or 'none'}"
                )
        if keys and keys not in groupings:
            groupings.append(keys)
    return groupings


def _file_name(keys: Sequence[str]) -> str:
    return "summary_by_" + "_".join(re.sub(r"[^A-Za-z0-9_-]+", "_", k) for k in keys) + ".csv"


# --------------------------------------------------------------------------- plots


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


# --------------------------------------------------------------------------- HTML


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


def scores_manifest(scores: Path) -> dict[str, Any]:
    """The scoring run's manifest beside the scores (model, settings), or ``{}`` when there is none."""
    path = scores / "_manifest.json" if scores.is_dir() else scores.with_name(scores.name + ".manifest.json")
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


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


@dataclass(frozen=True)
class ReportSettings:
    """How shares are qualified: interval resamples, the minimum articles per group, an optional correction."""

    min_articles: int = MIN_ARTICLES
    n_boot: int = N_BOOT
    correction: Correction | None = None
    kinds: tuple[str, ...] | None = BODY_ONLY  # rows counted; None: every kind
    examples: int = EXAMPLES  # flagged paragraphs shown per label, evidence highlighted; 0: none


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
    for keys, summary in summaries.items():
        name = " × ".join(keys)
        parts.append(f"<h2>By {html.escape(name)}</h2>")
        plot = plots.get(keys[0]) if len(keys) == 1 else None
        if plot is not None:
            parts.append(_image(plot, f"share of paragraphs per label by {name}"))
        shown = _top_rows(summary, keys)
        if len(summary) > len(shown):
            parts.append(f'<p class="note">Showing {len(shown)} of {len(summary)} groups.</p>')
        parts.append(_html_table(display_summary(shown, articles.labels), list(shown["below_min"])))
    for key, plot in plots.items():  # plots whose grouping was not asked for still belong in the report
        if (key,) not in summaries:
            parts.append(f"<h2>By {html.escape(key)}</h2>")
            parts.append(_image(plot, f"share of paragraphs per label by {key}"))
    parts.extend(examples_html(examples or {}))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- the report


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
        settings = ReportSettings(
            settings.min_articles, settings.n_boot, read_correction(correction), settings.kinds, settings.examples
        )
    articles = aggregate_articles(scores, chunk_size, settings.kinds)
    groupings = _groupings(articles, group_by, scores)
    output_dir.mkdir(parents=True, exist_ok=True)

    table = articles.table()
    articles_parquet, articles_csv = output_dir / "articles.parquet", output_dir / "articles.csv"
    table.to_parquet(articles_parquet, index=False)
    table.to_csv(articles_csv, index=False)

    def summary_of(keys: tuple[str, ...]) -> pd.DataFrame:
        found = summarise(articles, keys, settings.n_boot, settings.min_articles)
        if settings.correction is not None:
            found = apply_correction(found, articles.labels, settings.correction)
        return found

    summary_paths = {"overall": output_dir / "summary_overall.csv"}
    overall = summary_of(())
    overall.to_csv(summary_paths["overall"], index=False)
    summaries: dict[tuple[str, ...], pd.DataFrame] = {}
    for keys in groupings:
        summaries[keys] = summary_of(keys)
        summary_paths["+".join(keys)] = output_dir / _file_name(keys)
        summaries[keys].to_csv(summary_paths["+".join(keys)], index=False)

    plots = _plots(articles, summaries, output_dir, summary_of, settings)
    examples = {}
    if settings.examples > 0:
        layout = _inspect(scores)
        examples = top_examples(_example_chunks(layout, chunk_size), layout.labels, settings.examples, settings.kinds)
    page = output_dir / "report.html"
    heading = title or f"Framing report: {scores.name}"
    page.write_text(
        render_html(heading, scores, articles, summaries, plots, overall, settings, scores_manifest(scores), examples),
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


def _plots(
    articles: ArticleTotals,
    summaries: dict[tuple[str, ...], pd.DataFrame],
    output_dir: Path,
    summary_of: Any,
    settings: ReportSettings,
) -> dict[str, Path]:
    """By outlet and by year always (where the data allows), by month when asked for."""
    plots: dict[str, Path] = {}
    if not len(articles.frame):
        return plots
    if "outlet" in articles.metadata:
        by_outlet = summaries.get(("outlet",))
        by_outlet = summary_of(("outlet",)) if by_outlet is None else by_outlet
        plots["outlet"] = plot_by_outlet(
            by_outlet, articles.labels, output_dir / "share_by_outlet.png", settings.min_articles
        )
    if "date" in articles.metadata:
        for key in ("year", "month"):
            if key == "month" and ("month",) not in summaries:
                continue
            by_time = summaries.get((key,))
            by_time = summary_of((key,)) if by_time is None else by_time
            if by_time[key].notna().any():
                path = output_dir / f"share_by_{key}.png"
                plots[key] = plot_over_time(by_time, key, articles.labels, path, settings.min_articles)
    return plots


__all__ = [
    "ArticleTotals",
    "Report",
    "ReportSettings",
    "aggregate_articles",
    "display_summary",
    "iter_chunks",
    "scores_manifest",
    "summarise",
    "write_report",
]
