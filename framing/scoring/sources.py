"""Stream paragraphs out of a corpus: ``.txt``/``.txt.gz`` articles or tables.

Inputs: a ``.txt`` file or a folder tree of ``.txt``/``.txt.gz`` articles
(article id = path without the suffix), or a CSV/JSONL(.gz)/Parquet table, or a
folder of table parts. A source yields, in a fixed order, paragraph records
(``article_id``, ``paragraph``, ``text`` and the article's metadata columns)
and ``Reject`` items for what cannot be scored (bad JSON line, undecodable
bytes, empty article, paragraph over the length limit). The order is what
makes a killed run resumable: the n-th paragraph is the same on every read.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framing.data.readers import detect_format, read_records
from framing.errors import DataError
from framing.scoring.paragraphs import split_paragraphs

ParagraphRecord = dict[str, Any]
TEXT_SUFFIXES = (".txt", ".txt.gz")
TABLE_SUFFIXES = (".csv", ".csv.gz", ".jsonl", ".jsonl.gz", ".json", ".ndjson", ".parquet")
METADATA_TYPES = (str, int, float, bool)


@dataclass(frozen=True)
class SourceOptions:
    """How to read a corpus; part of a scoring run's identity."""

    text_column: str = "text"
    id_column: str | None = "article_id"
    unit: str = "article"  # "article": split each row's text; "paragraph": each row is one paragraph
    paragraph_column: str | None = "paragraph"
    file_format: str = "auto"
    max_paragraph_chars: int = 20_000


@dataclass(frozen=True)
class Reject:
    """Something the run could not score, with where and why."""

    source: str
    row: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "row": self.row, "reason": self.reason}


@dataclass
class RejectCounts:
    """Counts per reason (the part before the first colon)."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, reason: str, n: int = 1) -> None:
        key = reason.split(":")[0]
        self.counts[key] = self.counts.get(key, 0) + n


def _has_suffix(path: Path, suffixes: tuple[str, ...]) -> bool:
    name = path.name.lower()
    return any(name.endswith(suffix) for suffix in suffixes)


def input_files(path: Path) -> list[Path]:
    """The files a corpus consists of, in reading order."""
    if not path.exists():
        raise DataError(path, "input not found")
    if path.is_file():
        return [path]
    texts = sorted(p for p in path.rglob("*") if p.is_file() and _has_suffix(p, TEXT_SUFFIXES))
    if texts:
        return texts
    tables = sorted(p for p in path.rglob("*") if p.is_file() and _has_suffix(p, TABLE_SUFFIXES))
    if not tables:
        raise DataError(path, "no .txt, .txt.gz, .csv, .jsonl or .parquet files found")
    return tables


def input_fingerprint(path: Path, options: SourceOptions) -> str:
    """Names, sizes and modification times of every input file, plus the read options."""
    digest = hashlib.sha256(json.dumps(options.__dict__, sort_keys=True).encode())
    for file in input_files(path):
        stat = file.stat()
        digest.update(
            f"{file.relative_to(path) if path.is_dir() else file.name}|{stat.st_size}|{stat.st_mtime_ns}\n".encode()
        )
    return digest.hexdigest()


def count_articles(path: Path) -> int | None:
    """Articles (text files or table rows) in the corpus, cheaply, for the progress bar's ETA."""
    total = 0
    for file in input_files(path):
        if _has_suffix(file, TEXT_SUFFIXES):
            total += 1
        elif file.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            total += pq.ParquetFile(file).metadata.num_rows
        elif file.suffix.lower() == ".gz":
            return None
        else:
            with open(file, "rb") as handle:
                lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
            total += lines - (1 if detect_format(file) == "csv" else 0)
    return total


def _paragraph_items(
    article_id: str, text: str, metadata: dict[str, Any], source: str, row: int | None, options: SourceOptions
) -> Iterator[ParagraphRecord | Reject]:
    for index, paragraph in enumerate(split_paragraphs(text)):
        if len(paragraph) > options.max_paragraph_chars:
            yield Reject(
                source,
                row,
                f"paragraph too long: {article_id} paragraph {index} has {len(paragraph)} "
                f"characters (limit {options.max_paragraph_chars})",
            )
            continue
        yield {"article_id": article_id, "paragraph": index, "text": paragraph, **metadata}


def _read_text_file(file: Path) -> bytes:
    if file.name.lower().endswith(".gz"):
        with gzip.open(file, "rb") as handle:
            return handle.read()
    return file.read_bytes()


def iter_text_files(root: Path, files: list[Path], options: SourceOptions) -> Iterator[ParagraphRecord | Reject]:
    for file in files:
        relative = file.relative_to(root) if root.is_dir() else Path(file.name)
        article_id = relative.as_posix()
        for suffix in TEXT_SUFFIXES[::-1]:
            if article_id.lower().endswith(suffix):
                article_id = article_id[: -len(suffix)]
                break
        try:
            text = _read_text_file(file).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            yield Reject(str(file), None, f"undecodable: bytes that are not UTF-8 at offset {exc.start}")
            continue
        except (OSError, EOFError) as exc:
            yield Reject(str(file), None, f"unreadable: {exc}")
            continue
        if not text.strip():
            yield Reject(str(file), None, "empty article")
            continue
        yield from _paragraph_items(article_id, text, {}, str(file), None, options)


def _iter_rows(file: Path, options: SourceOptions) -> Iterator[tuple[int, dict[str, Any]] | Reject]:
    """Table rows; a malformed JSON line or undecodable line becomes a reject, not a stop."""
    if detect_format(file, options.file_format) != "jsonl":
        yield from read_records(file, options.file_format)
        return
    opener = gzip.open if file.name.lower().endswith(".gz") else open
    with opener(file, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
            except UnicodeDecodeError as exc:
                yield Reject(str(file), number, f"undecodable: bytes that are not UTF-8 at offset {exc.start}")
                continue
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Reject(str(file), number, f"bad JSON line: {exc.msg} (column {exc.colno})")
                continue
            if not isinstance(record, dict):
                yield Reject(str(file), number, f"bad JSON line: expected an object, got {type(record).__name__}")
                continue
            yield number, record


def iter_table_files(files: list[Path], options: SourceOptions) -> Iterator[ParagraphRecord | Reject]:
    reserved = {options.text_column, options.id_column, options.paragraph_column}
    for file in files:
        for item in _iter_rows(file, options):
            if isinstance(item, Reject):
                yield item
                continue
            row, record = item
            if options.text_column not in record:
                raise DataError(file, f"missing text column {options.text_column!r}", row)
            text = record[options.text_column]
            if options.id_column and record.get(options.id_column) is not None:
                article_id = str(record[options.id_column])
            else:
                article_id = f"{file.stem}-{row}"
            if not isinstance(text, str) or not text.strip():
                yield Reject(str(file), row, "empty article")
                continue
            metadata = {
                k: v for k, v in record.items() if k not in reserved and (v is None or isinstance(v, METADATA_TYPES))
            }
            if options.unit == "paragraph":
                index = record.get(options.paragraph_column or "")
                paragraph = text.strip()
                if len(paragraph) > options.max_paragraph_chars:
                    yield Reject(
                        str(file),
                        row,
                        f"paragraph too long: {len(paragraph)} characters (limit {options.max_paragraph_chars})",
                    )
                    continue
                yield {
                    "article_id": article_id,
                    "paragraph": row - 1 if index is None else int(index),
                    "text": paragraph,
                    **metadata,
                }
            else:
                yield from _paragraph_items(article_id, text, metadata, str(file), row, options)


def iter_source(path: Path, options: SourceOptions) -> Iterator[ParagraphRecord | Reject]:
    """Paragraph records and rejects of the whole corpus, always in the same order."""
    files = input_files(path)
    if _has_suffix(files[0], TEXT_SUFFIXES):
        return iter_text_files(path, files, options)
    return iter_table_files(files, options)
