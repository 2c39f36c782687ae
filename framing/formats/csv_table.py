"""CSV (``.csv``, optionally ``.gz``): a streaming reader, a writer, and outputs read back in chunks.

Rows are numbered as data rows (the header is row 0). Fields may be of any
length: the csv module's default 128 KiB limit would stop a whole corpus at
one long article, and length limits belong to whoever uses the records. A
broken row (undecodable bytes, malformed quoting, more fields than the header)
ends the file: the rows before it are kept, the rest is one problem.

A file whose first MiB is not UTF-8 (a spreadsheet export in Windows-1252, say)
is read in the encoding ``framing.formats.encodings`` finds for that sample;
``encoding_of`` says which, so scoring can record it.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from framing.errors import DataError
from framing.formats._common import TRUNCATED, Columns, OnError, Row, open_binary, problem, truncated
from framing.formats.encodings import UTF8, UndecodableText, decode_text
from framing.formats.rejects import Reject

SUFFIXES = (".csv",)
csv.field_size_limit(2**31 - 1)
LIST_COLUMNS = ("labels", "evidence")  # JSON-encoded in a CSV cell


def _first_undecodable_line(path: Path) -> int:
    """The 1-based physical line holding the first bytes that are not UTF-8 (decoding works in chunks)."""
    with open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.removeprefix(codecs.BOM_UTF8).decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 1


SAMPLE = 1 << 20  # bytes looked at to choose the encoding


def encoding_of(path: Path) -> str:
    """``utf-8`` when the file's first MiB is UTF-8, else the encoding detected from it (e.g. ``cp1252``)."""
    with open_binary(path) as handle:
        sample = handle.read(SAMPLE)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample.removeprefix(codecs.BOM_UTF8), final=False)
        return UTF8
    except UnicodeDecodeError:
        pass
    try:
        return decode_text(sample)[1]
    except UndecodableText:
        return UTF8  # nothing fits: read as UTF-8 and report the first bad line


def _rows(path: Path) -> Iterator[Row]:
    encoding = encoding_of(path)
    codec = "utf-8-sig" if encoding == UTF8 else encoding
    with open_binary(path) as binary, io.TextIOWrapper(binary, encoding=codec, newline="") as text:
        reader = csv.DictReader(text)
        number = 0
        try:
            for number, row in enumerate(reader, start=1):
                if None in row:
                    raise DataError(path, "more fields than the header has", number)
                yield number, dict(row)
        except UnicodeDecodeError:
            line = _first_undecodable_line(path)
            raise DataError(path, f"bytes that are not UTF-8 on physical line {line}", line - 1) from None
        except csv.Error as exc:
            raise DataError(path, f"malformed CSV: {exc}", number + 1) from None


def read(path: Path, on_error: OnError = "raise") -> Iterator[Row | Reject]:
    """(data row, record) per row, streaming; a broken row raises or ends the file with one reject."""
    number = 0
    try:
        for number, record in _rows(path):
            yield number, record
    except DataError as exc:
        reason = f"unreadable: {exc.problem}; the rest of the file was skipped"
        yield problem(path, exc.row, reason, exc.problem, on_error)
    except TRUNCATED as exc:
        yield truncated(path, number + 1, exc, on_error)


def column_names(path: Path) -> list[str]:
    """The header, without reading the rows."""
    return [str(c) for c in pd.read_csv(path, nrows=0).columns]


def decode_list(value: object, path: Path, column: str) -> list[str]:
    """A list cell as the writer encodes it (JSON text); an empty cell is an empty list."""
    if not isinstance(value, str) or not value.strip():
        return []
    try:
        decoded = json.loads(value)
    except json.JSONDecodeError as exc:
        raise DataError(path, f"{column} is not a JSON list: {value[:80]!r}") from exc
    if not isinstance(decoded, list):
        raise DataError(path, f"{column} is not a JSON list: {value[:80]!r}")
    return decoded


def read_frames(path: Path, wanted: Columns, chunk_size: int) -> Iterator[pd.DataFrame]:
    """An output table (UTF-8, as written here) ``chunk_size`` rows at a time, only ``wanted.read``;
    ``wanted.text`` columns stay strings (an empty cell is missing), ``wanted.lists`` are decoded."""
    with pd.read_csv(
        path,
        chunksize=chunk_size,
        usecols=lambda c: c in wanted.read,
        dtype={c: str for c in wanted.text},
        keep_default_na=False,
        na_values=[""],
    ) as reader:
        for chunk in reader:
            for column in wanted.lists:
                if column in chunk:
                    chunk[column] = chunk[column].map(lambda v, c=column: decode_list(v, path, c)).astype(object)
            yield chunk


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    flat = frame.copy()
    for column in LIST_COLUMNS:
        if column in flat:
            flat[column] = flat[column].map(lambda v: json.dumps(v, ensure_ascii=False))
    return flat


class Writer:
    """Appends DataFrame batches; a column first seen in a later batch widens the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._header: list[str] | None = None

    def write(self, frame: pd.DataFrame) -> None:
        flat = _flat(frame)
        if self._header is None:
            self._header = list(flat.columns)
            flat.to_csv(self.path, mode="w", header=True, index=False)
            return
        new = [c for c in flat.columns if c not in self._header]
        if new:
            self._header = [*self._header, *new]
            widened = pd.read_csv(self.path, dtype=str, keep_default_na=False).reindex(columns=self._header)
            widened.to_csv(self.path, mode="w", header=True, index=False)
        flat.reindex(columns=self._header).to_csv(self.path, mode="a", header=False, index=False)

    def close(self) -> None:
        """Nothing stays open between batches."""


def write_empty(path: Path) -> None:
    path.write_text("", encoding="utf-8")


def concatenate(parts: list[Path], target: Path) -> None:
    """One CSV with the union of the parts' headers; parts with another header are re-laid, in chunks."""
    headers = {p: list(pd.read_csv(p, nrows=0).columns) if p.stat().st_size else [] for p in parts}
    union = list(dict.fromkeys(column for header in headers.values() for column in header))
    with open(target, "wb") as out:
        out.write(pd.DataFrame(columns=union).to_csv(index=False).encode("utf-8") if union else b"")
        for part, header in headers.items():
            if header == union:
                with open(part, "rb") as handle:
                    handle.readline()  # the header, written once above
                    shutil.copyfileobj(handle, out)
            elif header:
                for chunk in pd.read_csv(part, dtype=str, keep_default_na=False, chunksize=10_000):
                    out.write(chunk.reindex(columns=union).to_csv(index=False, header=False).encode("utf-8"))
