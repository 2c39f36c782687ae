"""Stream paragraphs out of a corpus: a folder of ``.txt`` articles or a table.

A source yields paragraph records (``article_id``, ``paragraph``, ``text`` and
any metadata columns of the article) one at a time, so the scorer never holds
more than one batch and never sees a file format. Articles that cannot be
scored (undecodable file, empty text) become rejects with a reason instead of
disappearing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framing.data.readers import read_records
from framing.errors import DataError
from framing.scoring.paragraphs import split_paragraphs

ParagraphRecord = dict[str, Any]


@dataclass(frozen=True)
class SourceOptions:
    """How to read a tabular corpus."""

    text_column: str = "text"
    id_column: str | None = "article_id"
    unit: str = "article"  # "article": split each row's text; "paragraph": each row is one paragraph
    paragraph_column: str | None = "paragraph"
    file_format: str = "auto"


@dataclass
class Rejects:
    """Articles or rows left out of scoring, with reasons; written next to the output."""

    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, source: str, row: int | None, reason: str) -> None:
        self.items.append({"source": source, "row": row, "reason": reason})

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.items:
            key = item["reason"].split(":")[0]
            counts[key] = counts.get(key, 0) + 1
        return counts


def _article_paragraphs(article_id: str, text: str, metadata: dict[str, Any]) -> Iterator[ParagraphRecord]:
    for index, paragraph in enumerate(split_paragraphs(text)):
        yield {"article_id": article_id, "paragraph": index, "text": paragraph, **metadata}


def iter_text_folder(folder: Path, rejects: Rejects) -> Iterator[ParagraphRecord]:
    """Every ``*.txt`` below ``folder`` (sorted), article id = relative path without suffix."""
    files = sorted(folder.rglob("*.txt")) if folder.is_dir() else [folder]
    if not files:
        raise DataError(folder, "no .txt articles found")
    for file in files:
        article_id = file.relative_to(folder).with_suffix("").as_posix() if folder.is_dir() else file.stem
        try:
            text = file.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            rejects.add(str(file), None, f"undecodable: bytes that are not UTF-8 at offset {exc.start}")
            continue
        if not text.strip():
            rejects.add(str(file), None, "empty article")
            continue
        yield from _article_paragraphs(article_id, text, {})


def iter_table(path: Path, options: SourceOptions, rejects: Rejects) -> Iterator[ParagraphRecord]:
    """Rows of a CSV/JSONL/Parquet corpus as paragraphs; other scalar columns ride along."""
    reserved = {options.text_column, options.id_column, options.paragraph_column}
    for row, record in read_records(path, options.file_format):
        if options.text_column not in record:
            raise DataError(path, f"missing text column {options.text_column!r}", row)
        text = record[options.text_column]
        if options.id_column and options.id_column in record:
            article_id = str(record[options.id_column])
        else:
            article_id = f"{path.stem}-{row}"
        if not isinstance(text, str) or not text.strip():
            rejects.add(str(path), row, "empty article")
            continue
        metadata = {
            k: v
            for k, v in record.items()
            if k not in reserved and (v is None or isinstance(v, (str, int, float, bool)))
        }
        if options.unit == "paragraph":
            index = record.get(options.paragraph_column or "", None)
            yield {
                "article_id": article_id,
                "paragraph": row - 1 if index is None else index,
                "text": text.strip(),
                **metadata,
            }
        else:
            yield from _article_paragraphs(article_id, text, metadata)


def iter_paragraphs(path: Path, options: SourceOptions, rejects: Rejects) -> Iterator[ParagraphRecord]:
    """Paragraph records from a ``.txt`` file/folder or a table file."""
    if not path.exists():
        raise DataError(path, "input not found")
    if path.is_dir() or path.suffix.lower() == ".txt":
        return iter_text_folder(path, rejects)
    return iter_table(path, options, rejects)
