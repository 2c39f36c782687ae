"""Read tabular files as (row number, record) pairs, whatever their format.

The formats themselves live in ``framing.formats``; this module keeps the
names training code reads tables by. Every reader here raises a one-line
``DataError`` at the first problem (``on_error="raise"``); scoring reads the
same formats with ``on_error="reject"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

from framing.formats import Record, Reject, csv_table, detect_format, hf_dataset, jsonl, parquet, read_records

FORMATS = ("csv", "jsonl", "parquet", "hf")


def _rows(items: Iterator[tuple[int, Record] | Reject]) -> Iterator[tuple[int, Record]]:
    return cast(Iterator[tuple[int, Record]], items)  # raise mode yields rows only


def iter_jsonl(path: Path) -> Iterator[tuple[int, Record]]:
    """Yield (line number, object) for each non-blank line."""
    return _rows(jsonl.read(path, "raise"))


def iter_csv(path: Path) -> Iterator[tuple[int, Record]]:
    """Yield (data row number, record), streaming; the header is row 0."""
    return _rows(csv_table.read(path, "raise"))


def iter_parquet(path: Path, batch_size: int = 10_000) -> Iterator[tuple[int, Record]]:
    """Yield (row number, record), reading one record batch at a time."""
    return _rows(parquet.read(path, "raise", batch_size))


def iter_hf_dataset(path: Path) -> Iterator[tuple[int, Record]]:
    """Yield (row number, record) from a dataset saved with ``save_to_disk``."""
    return _rows(hf_dataset.read(path, "raise"))


__all__ = [
    "FORMATS",
    "Record",
    "detect_format",
    "iter_csv",
    "iter_hf_dataset",
    "iter_jsonl",
    "iter_parquet",
    "read_records",
]
