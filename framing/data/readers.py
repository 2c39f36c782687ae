"""Read tabular files as (row number, record) pairs, whatever their format.

Row numbers are what a user sees when opening the file: the physical line for
JSON Lines, the data row (header excluded, 1-based) for CSV and Parquet, the
1-based index for a saved ``datasets`` dataset. Readers stream records so the
same code serves training tables and corpus-sized scoring inputs.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from framing.errors import DataError

Record = dict[str, Any]
FORMATS = ("csv", "jsonl", "parquet", "hf")


def detect_format(path: Path, declared: str = "auto") -> str:
    """The file's format from the config, else from its extension."""
    if declared != "auto":
        return declared
    if path.is_dir():
        markers = ("dataset_info.json", "state.json", "dataset_dict.json")
        if any((path / marker).is_file() for marker in markers):
            return "hf"
        raise DataError(path, "a folder that is not a saved `datasets` dataset; name a file")
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    by_ext = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
    if ext not in by_ext:
        raise DataError(path, f"unknown file type {ext or '(none)'!r}; use .csv, .jsonl, .parquet or set format")
    return by_ext[ext]


def _open_binary(path: Path) -> BinaryIO:
    if path.suffix.lower() == ".gz":
        return cast(BinaryIO, gzip.open(path, "rb"))
    return open(path, "rb")


def _decode(raw: bytes, path: Path, line: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(path, f"bytes that are not UTF-8 at offset {exc.start} of the line", line) from None


def iter_jsonl(path: Path) -> Iterator[tuple[int, Record]]:
    """Yield (line number, object) for each non-blank line."""
    with _open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            text = _decode(raw, path, number).strip()
            if not text:
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                raise DataError(path, f"malformed JSON: {exc.msg} (column {exc.colno})", number) from None
            if not isinstance(record, dict):
                raise DataError(path, f"expected a JSON object, got {type(record).__name__}", number)
            yield number, record


# The csv module refuses fields over 128 KiB by default and stops the whole file there; a long
# article is legal, and limits on paragraph length are applied by whoever reads the records.
csv.field_size_limit(2**31 - 1)


def _first_undecodable_line(path: Path) -> int:
    """The 1-based physical line holding the first bytes that are not UTF-8 (decoding works in chunks)."""
    with _open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.removeprefix(codecs.BOM_UTF8).decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 1


def iter_csv(path: Path) -> Iterator[tuple[int, Record]]:
    """Yield (data row number, record), streaming; the header is row 0."""
    with _open_binary(path) as binary, io.TextIOWrapper(binary, encoding="utf-8-sig", newline="") as text:
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


def iter_parquet(path: Path, batch_size: int = 10_000) -> Iterator[tuple[int, Record]]:
    """Yield (row number, record), reading one record batch at a time."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise DataError(path, f"not a readable Parquet file: {exc}") from None
    number = 0
    try:
        for batch in parquet.iter_batches(batch_size=batch_size):
            for record in batch.to_pylist():
                number += 1
                yield number, record
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid/ArrowIOError for a corrupt page
        raise DataError(path, f"not a readable Parquet file: {exc}", number + 1) from None


def iter_hf_dataset(path: Path) -> Iterator[tuple[int, Record]]:
    """Yield (row number, record) from a dataset saved with ``save_to_disk``."""
    from datasets import Dataset, load_from_disk

    try:
        dataset = load_from_disk(str(path))
    except Exception as exc:
        raise DataError(path, f"not a saved `datasets` dataset: {exc}") from None
    if not isinstance(dataset, Dataset):
        splits = ", ".join(dataset.keys())
        raise DataError(path, f"a DatasetDict ({splits}); point at one split's folder")
    for number, record in enumerate(dataset, start=1):
        yield number, dict(record)


def read_records(path: str | Path, declared_format: str = "auto") -> Iterator[tuple[int, Record]]:
    """Stream (row number, record) from CSV, JSON Lines, Parquet or a saved dataset."""
    path = Path(path)
    if not path.exists():
        raise DataError(path, "file not found")
    readers = {"csv": iter_csv, "jsonl": iter_jsonl, "parquet": iter_parquet, "hf": iter_hf_dataset}
    return readers[detect_format(path, declared_format)](path)
