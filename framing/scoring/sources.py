"""Stream paragraphs out of a corpus: ``.txt``/``.txt.gz`` articles or tables.

Inputs: a ``.txt`` file or a folder tree of ``.txt``/``.txt.gz`` articles
(article id = path without the suffix), or a CSV/JSONL(.gz)/Parquet table, or a
folder of table parts. A source yields, in a fixed order, paragraph records
(``article_id``, ``paragraph``, ``text`` and the article's metadata columns)
and ``Reject`` items for what cannot be scored (bad JSON line, undecodable
bytes, truncated or unreadable file, empty file or article, duplicate article
id, bad paragraph number, paragraph over the length limit). The order is what
makes a killed run resumable: the n-th paragraph is the same on every read.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framing.errors import ConfigError, DataError
from framing.formats import TABLE_SUFFIXES, Reject, RejectCounts, csv_table, detect_format, parquet, read_table
from framing.formats.encodings import UndecodableText, decode_text
from framing.languages import UNDETERMINED, identify, language_problem
from framing.scoring.html_pages import HTML_SUFFIXES, NoArticleText, extract_page, is_html
from framing.scoring.kinds import classify, kind_of
from framing.scoring.paragraphs import split_paragraphs
from framing.scoring.path_pattern import PathPattern

ParagraphRecord = dict[str, Any]
TEXT_SUFFIXES = (".txt", ".txt.gz", *HTML_SUFFIXES)  # one article per file: plain text or a saved page
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
    # Languages scored (ISO 639-1, sorted); other paragraphs are rejects with reason "language". None: any.
    languages: tuple[str, ...] | None = None
    # ``.txt`` archives: metadata from each file's path, e.g. "{outlet}/{date}_{slug}.txt" (path_pattern.py).
    path_pattern: str | None = None

    def __post_init__(self) -> None:
        if self.path_pattern is not None:
            PathPattern.compile(self.path_pattern)  # a bad pattern is a one-line error before any work
        if self.max_paragraph_chars < 1:
            raise ConfigError(f"--max-paragraph-chars must be at least 1, got {self.max_paragraph_chars}")
        if self.unit not in ("article", "paragraph"):
            raise ConfigError(f"--unit must be article or paragraph, got {self.unit!r}")


def _has_suffix(path: Path, suffixes: tuple[str, ...]) -> bool:
    name = path.name.lower()
    return any(name.endswith(suffix) for suffix in suffixes)


def input_files(path: Path) -> list[Path]:
    """The files a corpus consists of, in reading order.

    A folder holds either articles (``.txt``) or tables, never both: scoring
    one kind and silently skipping the other would lose articles.
    """
    if not path.exists():
        raise DataError(path, "input not found")
    if path.is_file():
        return [path]
    texts = sorted(p for p in path.rglob("*") if p.is_file() and _has_suffix(p, TEXT_SUFFIXES))
    tables = sorted(p for p in path.rglob("*") if p.is_file() and _has_suffix(p, TABLE_SUFFIXES))
    if texts and tables:
        raise DataError(
            path,
            f"holds both .txt articles ({texts[0].relative_to(path)}) and tables ({tables[0].relative_to(path)}); "
            "score them as two inputs",
        )
    if not texts and not tables:
        raise DataError(path, "no .txt, .txt.gz, .html, .csv, .jsonl or .parquet files found")
    return texts or tables


def input_fingerprint(path: Path, options: SourceOptions) -> str:
    """Names, sizes and modification times of every input file, plus the read options."""
    digest = hashlib.sha256(json.dumps(options.__dict__, sort_keys=True).encode())
    for file in input_files(path):
        stat = file.stat()
        digest.update(
            f"{file.relative_to(path) if path.is_dir() else file.name}|{stat.st_size}|{stat.st_mtime_ns}\n".encode()
        )
    return digest.hexdigest()


def _count_file(file: Path) -> int | None:
    if _has_suffix(file, TEXT_SUFFIXES):
        return 1
    if file.suffix.lower() == ".gz":
        return None
    if file.suffix.lower() == ".parquet":
        return parquet.count_rows(file) or 0  # an unreadable file is a reject, counted as no rows
    with open(file, "rb") as handle:
        lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    return max(0, lines - (1 if detect_format(file) == "csv" else 0))


def count_articles(path: Path) -> int | None:
    """Articles (text files or table rows) in the corpus, cheaply, for the progress bar's ETA."""
    total = 0
    for file in input_files(path):
        count = _count_file(file)
        if count is None:
            return None
        total += count
    return total


def _paragraph_items(
    article_id: str, text: str, metadata: dict[str, Any], source: str, row: int | None, options: SourceOptions
) -> Iterator[ParagraphRecord | Reject]:
    """An article's paragraphs; a line too short to identify (a headline, a byline) takes the article's language."""
    paragraphs = split_paragraphs(text)
    found = [identify(paragraph) for paragraph in paragraphs]
    undetermined = any(language == UNDETERMINED for language, _ in found)
    article_language = _article_language(paragraphs, found) if undetermined else None
    kinds = classify(paragraphs)
    for index, paragraph in enumerate(paragraphs):
        if len(paragraph) > options.max_paragraph_chars:
            yield Reject(
                source,
                row,
                f"paragraph too long: {article_id} paragraph {index} has {len(paragraph)} "
                f"characters (limit {options.max_paragraph_chars})",
            )
            continue
        language, probability = found[index]
        if language == UNDETERMINED and article_language is not None:
            language = article_language
        record = {"article_id": article_id, "paragraph": index, "text": paragraph, "kind": kinds[index], **metadata}
        yield _with_language(record, source, row, options, (language, probability))


def _article_language(paragraphs: list[str], found: list[tuple[str, float]]) -> str | None:
    """The language holding most of the article's identified letters, or None when none was identified."""
    letters: dict[str, int] = {}
    for paragraph, (language, _) in zip(paragraphs, found, strict=True):
        if language != UNDETERMINED:
            letters[language] = letters.get(language, 0) + sum(ch.isalpha() for ch in paragraph)
    return max(letters, key=lambda k: letters[k]) if letters else None


def _with_language(
    record: ParagraphRecord,
    source: str,
    row: int | None,
    options: SourceOptions,
    found: tuple[str, float] | None = None,
) -> ParagraphRecord | Reject:
    """The record with its ``detected_language``, or a ``language`` reject when the model does not know it."""
    language, probability = found or identify(record["text"])
    problem = language_problem(language, probability, options.languages)
    if problem:
        return Reject(source, row, f"{problem}: {record['article_id']} paragraph {record['paragraph']}")
    return {**record, "detected_language": language}


class SeenKeys:
    """Article ids (or id and paragraph) already read, kept as 8-byte digests to bound memory.

    The digest is deterministic, so a resumed run rejects exactly what the
    first one did and paragraph numbering stays the same.
    """

    def __init__(self) -> None:
        self._seen: set[int] = set()

    def add(self, *key: object) -> bool:
        """Whether ``key`` is new (and remember it)."""
        digest = hashlib.blake2b(json.dumps(key, default=str).encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "big")
        if value in self._seen:
            return False
        self._seen.add(value)
        return True


def _read_text_file(file: Path) -> bytes:
    if file.name.lower().endswith(".gz"):
        with gzip.open(file, "rb") as handle:
            return handle.read()
    return file.read_bytes()


def _read_article(file: Path) -> tuple[str, dict[str, Any]]:
    """The text and file metadata of one article file: a saved page's main text, or decoded plain text."""
    data = _read_text_file(file)
    if is_html(file.name):
        return extract_page(data)
    text, encoding = decode_text(data)
    return text, {"source_encoding": encoding}


def _article_id(root: Path, file: Path) -> str:
    relative = file.relative_to(root) if root.is_dir() else Path(file.name)
    article_id = relative.as_posix()
    for suffix in TEXT_SUFFIXES[::-1]:
        if article_id.lower().endswith(suffix):
            return article_id[: -len(suffix)]
    return article_id


def iter_text_files(
    root: Path, files: list[Path], options: SourceOptions, seen: SeenKeys | None = None
) -> Iterator[ParagraphRecord | Reject]:
    seen = seen or SeenKeys()
    pattern = PathPattern.compile(options.path_pattern) if options.path_pattern else None
    for file in files:
        article_id = _article_id(root, file)
        from_path = pattern.metadata(article_id) if pattern else {}
        if from_path is None:
            yield Reject(str(file), None, f"path pattern: {article_id!r} does not match {options.path_pattern!r}")
            continue
        try:
            text, metadata = _read_article(file)
        except (UndecodableText, NoArticleText) as exc:
            yield Reject(str(file), None, f"undecodable: {exc}" if isinstance(exc, UndecodableText) else str(exc))
            continue
        except (OSError, EOFError, zlib.error) as exc:
            yield Reject(str(file), None, f"unreadable: {exc}")
            continue
        if not text.strip():
            yield Reject(str(file), None, "empty article")
            continue
        if not seen.add(article_id):
            yield Reject(str(file), None, f"duplicate article id: {article_id!r} was read from another file already")
            continue
        yield from _paragraph_items(article_id, text, {**metadata, **from_path}, str(file), None, options)


def _iter_rows(file: Path, options: SourceOptions) -> Iterator[tuple[int, dict[str, Any]] | Reject]:
    """Table rows; a malformed or unreadable row becomes a reject, and so does a file with none."""
    return read_table(file, options.file_format, on_error="reject")


class MetadataKinds:
    """The type each metadata column took first; a Parquet column holds one type.

    An integer column accepts whole floats, a float column accepts integers;
    anything else (text in a number column, a number in a text column) is a
    conflict, and the row is rejected rather than failing the whole write.
    """

    def __init__(self) -> None:
        self._kinds: dict[str, type] = {}

    def conflict(self, metadata: dict[str, Any]) -> str | None:
        for column, value in metadata.items():
            if value is None:
                continue
            first = self._kinds.setdefault(column, type(value))
            if first is type(value) or (first is float and type(value) is int):
                continue
            if first is int and type(value) is float and value.is_integer():
                continue
            return (
                f"mixed metadata types: column {column!r} holds {type(value).__name__} {value!r} here, "
                f"{first.__name__} in earlier rows"
            )
        return None


def _paragraph_number(value: Any, row: int) -> int | None:
    """The paragraph column's value as an integer, ``row - 1`` when absent, None when not a whole number."""
    if value is None:
        return row - 1
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _table_row(
    file: Path, row: int, record: dict[str, Any], options: SourceOptions, seen: SeenKeys, kinds: MetadataKinds | None
) -> Iterator[ParagraphRecord | Reject]:
    reserved = {options.text_column, options.id_column, options.paragraph_column}
    if options.text_column not in record:
        yield Reject(str(file), row, f"no text: the row has no column {options.text_column!r}")
        return
    text = record[options.text_column]
    if options.id_column and record.get(options.id_column) is not None:
        article_id = str(record[options.id_column])
    else:
        article_id = f"{file.stem}-{row}"
    if text is not None and not isinstance(text, str):
        yield Reject(str(file), row, f"not text: column {options.text_column!r} holds {type(text).__name__}")
        return
    if not text or not text.strip():
        yield Reject(str(file), row, "empty article")
        return
    metadata = {k: v for k, v in record.items() if k not in reserved and (v is None or isinstance(v, METADATA_TYPES))}
    problem = kinds.conflict(metadata) if kinds is not None else None
    if problem:
        yield Reject(str(file), row, problem)
        return
    if options.unit == "paragraph":
        yield from _paragraph_row(file, row, record, article_id, text.strip(), metadata, options, seen)
        return
    if not seen.add(article_id):
        yield Reject(str(file), row, f"duplicate article id: {article_id!r} was read from an earlier row")
        return
    yield from _paragraph_items(article_id, text, metadata, str(file), row, options)


def _paragraph_row(
    file: Path,
    row: int,
    record: dict[str, Any],
    article_id: str,
    paragraph: str,
    metadata: dict[str, Any],
    options: SourceOptions,
    seen: SeenKeys,
) -> Iterator[ParagraphRecord | Reject]:
    column = options.paragraph_column or ""
    index = _paragraph_number(record.get(column), row)
    if index is None:
        yield Reject(str(file), row, f"bad paragraph number: column {column!r} holds {record.get(column)!r}")
    elif len(paragraph) > options.max_paragraph_chars:
        yield Reject(
            str(file), row, f"paragraph too long: {len(paragraph)} characters (limit {options.max_paragraph_chars})"
        )
    elif not seen.add(article_id, index):
        yield Reject(str(file), row, f"duplicate paragraph: {article_id!r} paragraph {index} was read already")
    else:
        record = {
            "article_id": article_id,
            "paragraph": index,
            "text": paragraph,
            "kind": kind_of(paragraph),
            **metadata,
        }
        yield _with_language(record, str(file), row, options)


def iter_table_files(
    files: list[Path], options: SourceOptions, seen: SeenKeys | None = None, kinds: MetadataKinds | None = None
) -> Iterator[ParagraphRecord | Reject]:
    seen = seen or SeenKeys()
    for file in files:
        encoding = _csv_encoding(file, options)
        for item in _iter_rows(file, options):
            if isinstance(item, Reject):
                yield item
            else:
                record = item[1] if encoding is None else {**item[1], "source_encoding": encoding}
                yield from _table_row(file, item[0], record, options, seen, kinds)


def _csv_encoding(file: Path, options: SourceOptions) -> str | None:
    """The encoding a CSV file is read in (recorded per row as ``source_encoding``); None for other tables."""
    try:
        if detect_format(file, options.file_format) != "csv":
            return None
        return csv_table.encoding_of(file)
    except (DataError, OSError, EOFError, zlib.error):
        return None  # the reader reports the unreadable file as a reject


def check_input(path: Path, options: SourceOptions) -> None:
    """Fail before any work on what would otherwise fail every row: an unknown table type, a wrong text column.

    Only the first readable row of the first table is looked at, so this is
    cheap; later rows without the text column are rejects.
    """
    files = input_files(path)
    if _has_suffix(files[0], TEXT_SUFFIXES):
        return
    if options.path_pattern:
        raise ConfigError("--path-pattern reads metadata from the paths of .txt articles; tables have columns for it")
    for file in files:
        detect_format(file, options.file_format)
    for file in files:
        for item in read_table(file, options.file_format, on_error="reject"):
            if isinstance(item, Reject):
                continue
            row, record = item
            if options.text_column not in record:
                columns = ", ".join(map(repr, list(record)[:8]))
                raise DataError(
                    file, f"no text column {options.text_column!r} (columns: {columns}); set --text-column", row
                )
            return


def iter_source(
    path: Path, options: SourceOptions, one_type_per_column: bool = False
) -> Iterator[ParagraphRecord | Reject]:
    """Paragraph records and rejects of the whole corpus, always in the same order.

    ``one_type_per_column`` (for Parquet output) rejects rows whose metadata
    type conflicts with the column's earlier rows.
    """
    files = input_files(path)
    if _has_suffix(files[0], TEXT_SUFFIXES):
        return iter_text_files(path, files, options)
    return iter_table_files(files, options, kinds=MetadataKinds() if one_type_per_column else None)


__all__ = [
    "TABLE_SUFFIXES",
    "TEXT_SUFFIXES",
    "MetadataKinds",
    "ParagraphRecord",
    "Reject",
    "RejectCounts",
    "SourceOptions",
    "check_input",
    "count_articles",
    "input_files",
    "input_fingerprint",
    "iter_source",
    "iter_table_files",
    "iter_text_files",
]
