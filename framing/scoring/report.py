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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from framing.errors import DataError
from framing.formats import OUTPUT_SUFFIXES, jsonl

SUFFIXES = tuple(OUTPUT_SUFFIXES)
# Columns of the scores that are neither metadata nor read: text and evidence are the bulk of the file.
RESERVED = {"article_id", "paragraph", "text", "labels", "evidence"}
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


def _chunks(layout: _Layout, chunk_size: int) -> Iterator[tuple[Path, pd.DataFrame]]:
    wanted = {"article_id", "labels", *(f"{PROBABILITY_PREFIX}{label}" for label in layout.labels), *layout.metadata}
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

    def __init__(self, labels: list[str], metadata: list[str], chunk_size: int) -> None:
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
            return ArticleTotals(self.labels, self.metadata, empty)
        meta = self.meta.reindex(self.stats.index) if self.meta is not None else pd.DataFrame(index=self.stats.index)
        meta = meta.reindex(columns=self.metadata)
        for column in self.metadata:
            meta[column] = _one_type(meta[column])
        return ArticleTotals(self.labels, self.metadata, pd.concat([meta, self.stats], axis=1))


def _one_type(column: pd.Series) -> pd.Series:
    """Strings where chunks inferred different types for one column (e.g. ``2`` and ``"world"``); Parquet needs one."""
    if column.dtype != object:
        return column
    values = column.dropna()
    if len({type(v) for v in values}) <= 1:
        return column
    return column.map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))


def aggregate_articles(path: Path, chunk_size: int = 50_000) -> ArticleTotals:
    """Read the scores at ``path`` in chunks and reduce them to one row per article."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    layout = _inspect(path)
    accumulator = _Accumulator(layout.labels, layout.metadata, chunk_size)
    for file, chunk in _chunks(layout, chunk_size):
        accumulator.add(file, chunk)
    return accumulator.result()


# --------------------------------------------------------------------------- summaries


def _share(flagged: pd.Series, paragraphs: pd.Series) -> pd.Series:
    total = paragraphs.astype("float64")
    return (flagged.astype("float64") / total.where(total > 0)).fillna(0.0)


def _with_year(frame: pd.DataFrame) -> pd.DataFrame:
    """``year`` from the first four characters of ``date`` (an existing ``year`` column without ``date`` is kept)."""
    if "date" not in frame:
        return frame
    out = frame.copy()
    out["year"] = frame["date"].map(lambda v: None if pd.isna(v) or not str(v).strip() else str(v).strip()[:4])
    return out


def summarise(articles: ArticleTotals, keys: Sequence[str] = ()) -> pd.DataFrame:
    """Paragraphs, articles and share of paragraphs flagged per label, per group of ``keys`` (none: overall)."""
    flagged = [f"flagged_{label}" for label in articles.labels]
    frame = _with_year(articles.frame) if "year" in keys else articles.frame
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
    for label in articles.labels:
        out[f"share_{label}"] = _share(totals[f"flagged_{label}"], totals["paragraphs"])
    return out


def _groupings(articles: ArticleTotals, group_by: Sequence[str] | None, path: Path) -> list[tuple[str, ...]]:
    """``outlet`` and ``year`` by default where the data has them; ``a+b`` groups by both columns."""
    available = set(articles.metadata)
    if "date" in available:
        available.add("year")
    if group_by is None:
        return [(key,) for key in ("outlet", "year") if key in available]
    groupings: list[tuple[str, ...]] = []
    for spec in group_by:
        keys = tuple(k.strip() for k in spec.split("+") if k.strip())
        for key in keys:
            if key not in available:
                hint = " (year needs a date column)" if key == "year" else ""
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


def plot_by_outlet(by_outlet: pd.DataFrame, labels: list[str], path: Path) -> Path:
    """Grouped horizontal bars: share of paragraphs per label for the outlets with the most paragraphs."""
    from matplotlib.ticker import PercentFormatter

    top = by_outlet.sort_values("paragraphs", ascending=False, kind="mergesort").head(TOP_OUTLETS_PLOT)
    height = 0.8 / max(len(labels), 1)
    figure = _new_figure(9, 1.5 + len(top) * max(0.35, 0.18 * len(labels)))
    ax = figure.add_subplot()
    positions = np.arange(len(top))
    for j, label in enumerate(labels):
        offsets = positions - 0.4 + height * (j + 0.5)
        ax.barh(offsets, top[f"share_{label}"].to_numpy(), height=height, label=_plain(label))
    ax.set_yticks(positions, [_plain(v) for v in top["outlet"]])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of paragraphs flagged")
    ax.set_title(f"Share of paragraphs per label by outlet (top {len(top)} by paragraphs)")
    ax.legend(loc="best", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=100)
    return path


def plot_by_year(by_year: pd.DataFrame, labels: list[str], path: Path) -> Path:
    """One line per label: share of paragraphs flagged in each year."""
    from matplotlib.ticker import PercentFormatter

    years = by_year[by_year["year"].notna()].sort_values("year")
    figure = _new_figure(max(6, 0.5 * len(years) + 3), 4)
    ax = figure.add_subplot()
    positions = np.arange(len(years))
    for label in labels:
        ax.plot(positions, years[f"share_{label}"].to_numpy(), marker="o", label=_plain(label))
    ax.set_xticks(positions, [_plain(v) for v in years["year"]])
    ax.set_ylim(bottom=0)  # shares from zero, so small changes do not look large
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("share of paragraphs flagged")
    ax.set_xlabel("year")
    ax.set_title("Share of paragraphs per label over time")
    ax.legend(loc="best", fontsize=8)
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


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False, name=None):
        cells = "".join(
            f'<td class="{"num" if not isinstance(v, str) else "txt"}">{html.escape(_cell(v, str(c)))}</td>'
            for c, v in zip(frame.columns, record, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _top_rows(summary: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Years in order; other groupings by paragraphs, most first."""
    if "year" in keys:
        return summary.head(TOP_ROWS_HTML)
    return summary.sort_values("paragraphs", ascending=False, kind="mergesort").head(TOP_ROWS_HTML)


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
"""


def render_html(
    title: str,
    scores: Path,
    articles: ArticleTotals,
    summaries: dict[tuple[str, ...], pd.DataFrame],
    plots: dict[str, Path],
) -> str:
    """One self-contained page: inline CSS, images as data URIs, every text escaped."""
    paragraphs = articles.paragraphs
    frame = articles.frame
    overall_rows = []
    for label in articles.labels:
        flagged = int(frame[f"flagged_{label}"].sum())
        with_label = int((frame[f"flagged_{label}"] > 0).sum())
        overall_rows.append(
            {
                "label": label,
                "paragraphs flagged": flagged,
                "share of paragraphs": flagged / paragraphs if paragraphs else 0.0,
                "articles with a flagged paragraph": with_label,
                "share of articles": with_label / len(frame) if len(frame) else 0.0,
            }
        )
    overall = pd.DataFrame(overall_rows, columns=list(overall_rows[0]) if overall_rows else None)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="note">Scores: {html.escape(str(scores))}</p>',
        f"<p><strong>{paragraphs:,}</strong> paragraphs in <strong>{len(frame):,}</strong> articles; "
        f"{len(articles.labels)} labels: {html.escape(', '.join(articles.labels))}.</p>",
        "<h2>Overall</h2>",
        _html_table(overall),
        '<p class="note">A paragraph is flagged for a label when the model put the label in its '
        "<code>labels</code> column (at the model's tuned threshold).</p>",
    ]
    for keys, summary in summaries.items():
        name = " × ".join(keys)
        parts.append(f"<h2>By {html.escape(name)}</h2>")
        plot = plots.get("outlet") if keys == ("outlet",) else plots.get("year") if keys == ("year",) else None
        if plot is not None:
            parts.append(_image(plot, f"share of paragraphs per label by {name}"))
        shown = _top_rows(summary, keys)
        if len(summary) > len(shown):
            parts.append(f'<p class="note">Showing {len(shown)} of {len(summary)} groups.</p>')
        parts.append(_html_table(shown))
    for key, plot in plots.items():  # plots whose grouping was not asked for still belong in the report
        if (key,) not in summaries:
            parts.append(f"<h2>By {html.escape(key)}</h2>")
            parts.append(_image(plot, f"share of paragraphs per label by {key}"))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- the report


def write_report(
    scores: Path,
    output_dir: Path,
    group_by: Sequence[str] | None = None,
    chunk_size: int = 50_000,
    title: str | None = None,
) -> Report:
    """Article table, summaries, plots and ``report.html`` for the scores at ``scores``, written to ``output_dir``.

    ``group_by`` lists groupings (metadata columns, ``year`` from ``date``,
    ``a+b`` for both); ``None`` means ``outlet`` and ``year`` where present.
    An overall summary is always written.
    """
    articles = aggregate_articles(scores, chunk_size)
    groupings = _groupings(articles, group_by, scores)
    output_dir.mkdir(parents=True, exist_ok=True)

    table = articles.table()
    articles_parquet, articles_csv = output_dir / "articles.parquet", output_dir / "articles.csv"
    table.to_parquet(articles_parquet, index=False)
    table.to_csv(articles_csv, index=False)

    summary_paths = {"overall": output_dir / "summary_overall.csv"}
    summarise(articles).to_csv(summary_paths["overall"], index=False)
    summaries: dict[tuple[str, ...], pd.DataFrame] = {}
    for keys in groupings:
        summaries[keys] = summarise(articles, keys)
        summary_paths["+".join(keys)] = output_dir / _file_name(keys)
        summaries[keys].to_csv(summary_paths["+".join(keys)], index=False)

    plots: dict[str, Path] = {}
    if len(table) and "outlet" in articles.metadata:
        by_outlet = summaries.get(("outlet",))
        by_outlet = summarise(articles, ("outlet",)) if by_outlet is None else by_outlet
        plots["outlet"] = plot_by_outlet(by_outlet, articles.labels, output_dir / "share_by_outlet.png")
    if len(table) and "date" in articles.metadata:
        by_year = summaries.get(("year",))
        by_year = summarise(articles, ("year",)) if by_year is None else by_year
        if by_year["year"].notna().any():
            plots["year"] = plot_by_year(by_year, articles.labels, output_dir / "share_by_year.png")

    page = output_dir / "report.html"
    heading = title or f"Framing report: {scores.name}"
    page.write_text(render_html(heading, scores, articles, summaries, plots), encoding="utf-8")
    return Report(
        output_dir=output_dir,
        html=page,
        articles_parquet=articles_parquet,
        articles_csv=articles_csv,
        summaries=summary_paths,
        plots=plots,
        labels=articles.labels,
        paragraphs=articles.paragraphs,
        articles=len(table),
    )


__all__ = ["ArticleTotals", "Report", "aggregate_articles", "iter_chunks", "summarise", "write_report"]
