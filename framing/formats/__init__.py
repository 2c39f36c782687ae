"""One home for the file formats the project reads and writes.

Per format (``jsonl``, ``csv``, ``parquet``, and the ``hf`` saved-dataset folder
for reading): its suffixes, a streaming reader and, for outputs, a batch
writer, a concatenation of parts, and a reader of column names and of
DataFrame chunks (how reports read scores back). Every reader takes ``on_error``:
``"raise"`` turns the first problem into a one-line ``DataError`` (training
data must be right), ``"reject"`` yields a ``Reject`` and reads on (a corpus
must not stop at one bad row). Row numbers are what a user sees when opening
the file: the physical line for JSON Lines, the data row (header excluded,
1-based) for CSV and Parquet, the 1-based index for a saved dataset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pandas as pd

from framing.errors import DataError
from framing.formats import csv_table, hf_dataset, jsonl, parquet
from framing.formats._common import Columns, OnError, Record, Row
from framing.formats.rejects import Reject, RejectCounts, read_rejects, reject_lines, write_rejects


@dataclass(frozen=True)
class Format:
    """A file format: how files are named, read, written and concatenated."""

    name: str
    suffixes: tuple[str, ...]
    read: Callable[..., Iterator[Row | Reject]]
    writer: Callable[[Path], Any] | None = None  # has write(frame) and close()
    write_empty: Callable[[Path], None] | None = None
    concatenate: Callable[[list[Path], Path], None] | None = None
    columns: Callable[[Path], list[str]] | None = None
    frames: Callable[[Path, Columns, int], Iterator[pd.DataFrame]] | None = None


FORMATS: dict[str, Format] = {
    "jsonl": Format(
        "jsonl",
        jsonl.SUFFIXES,
        jsonl.read,
        jsonl.Writer,
        jsonl.write_empty,
        jsonl.concatenate,
        jsonl.column_names,
        jsonl.read_frames,
    ),
    "csv": Format(
        "csv",
        csv_table.SUFFIXES,
        csv_table.read,
        csv_table.Writer,
        csv_table.write_empty,
        csv_table.concatenate,
        csv_table.column_names,
        csv_table.read_frames,
    ),
    "parquet": Format(
        "parquet",
        parquet.SUFFIXES,
        parquet.read,
        parquet.Writer,
        parquet.write_empty,
        parquet.concatenate,
        parquet.column_names,
        parquet.read_frames,
    ),
    "hf": Format("hf", (), hf_dataset.read),
}
OUTPUT_SUFFIXES = {".jsonl": "jsonl", ".csv": "csv", ".parquet": "parquet"}
TABLE_SUFFIXES = tuple(s + gz for name in ("csv", "jsonl") for s in FORMATS[name].suffixes for gz in ("", ".gz")) + (
    parquet.SUFFIXES
)


def detect_format(path: Path, declared: str = "auto") -> str:
    """The file's format from the config, else from its extension (a trailing ``.gz`` is allowed)."""
    if declared != "auto":
        return declared
    if path.is_dir():
        if hf_dataset.is_saved_dataset(path):
            return "hf"
        raise DataError(path, "a folder that is not a saved `datasets` dataset; name a file")
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    for name, format_ in FORMATS.items():
        if ext in format_.suffixes and not (name == "parquet" and path.suffix.lower() == ".gz"):
            return name
    raise DataError(path, f"unknown file type {ext or '(none)'!r}; use .csv, .jsonl, .parquet or set format")


def output_format(path: Path) -> str:
    """The format an output file's extension asks for."""
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise DataError(path, f"unknown output type {path.suffix or '(none)'!r}; use .jsonl, .csv or .parquet")
    return OUTPUT_SUFFIXES[path.suffix.lower()]


def output_columns(path: Path) -> list[str]:
    """An output table's column names without reading its rows; ``[]`` for an empty file."""
    if path.stat().st_size == 0:
        return []
    columns = FORMATS[output_format(path)].columns
    assert columns is not None  # every output format has one
    try:
        return columns(path)
    except DataError:
        raise
    except (OSError, ValueError) as exc:  # ArrowInvalid, JSONDecodeError and pandas' parser errors are ValueErrors
        raise DataError(path, f"unreadable: {exc}") from exc


def read_frames(path: Path, wanted: Columns, chunk_size: int) -> Iterator[pd.DataFrame]:
    """An output table as DataFrames of at most ``chunk_size`` rows holding only ``wanted.read``.

    A file that cannot be read is a ``DataError`` naming it.
    """
    frames = FORMATS[output_format(path)].frames
    assert frames is not None  # every output format has one
    try:
        yield from frames(path, wanted, chunk_size)
    except DataError:
        raise
    except (OSError, ValueError) as exc:
        raise DataError(path, f"unreadable: {exc}") from exc


def read_table(path: Path, declared: str = "auto", on_error: OnError = "raise") -> Iterator[Row | Reject]:
    """Stream (row number, record) from any table format; with ``on_error="reject"`` also rejects.

    In reject mode a file without a single row is itself a reject, so an empty
    file never passes unnoticed.
    """
    if not path.exists():
        raise DataError(path, "file not found")
    items = FORMATS[detect_format(path, declared)].read(path, on_error)
    if on_error == "raise":
        return items
    return _reject_if_empty(path, items)


def _reject_if_empty(path: Path, items: Iterator[Row | Reject]) -> Iterator[Row | Reject]:
    seen = False
    for item in items:
        seen = True
        yield item
    if not seen:
        yield Reject(str(path), None, "empty file: no rows")


def read_records(path: str | Path, declared: str = "auto") -> Iterator[tuple[int, Record]]:
    """Stream (row number, record); the first problem is a ``DataError`` naming file and row."""
    return cast(Iterator[Row], read_table(Path(path), declared, "raise"))  # raise mode yields rows only


__all__ = [
    "FORMATS",
    "OUTPUT_SUFFIXES",
    "TABLE_SUFFIXES",
    "Columns",
    "Format",
    "OnError",
    "Record",
    "Reject",
    "RejectCounts",
    "detect_format",
    "output_columns",
    "output_format",
    "read_frames",
    "read_records",
    "read_rejects",
    "read_table",
    "reject_lines",
    "write_rejects",
]
