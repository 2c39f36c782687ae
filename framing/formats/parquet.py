"""Parquet: a reader one record batch at a time, and a writer whose schema can widen.

A first batch in which nothing was flagged types ``labels`` as a list of nulls,
and an all-missing column as null; the stable schema makes both castable from
later batches. A column first seen in a later batch widens the file (rewritten
once, bounded by the part size), and a batch lacking a column gets it empty.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from framing.formats._common import Columns, OnError, Row, problem
from framing.formats.rejects import Reject

SUFFIXES = (".parquet",)


def read(path: Path, on_error: OnError = "raise", batch_size: int = 10_000) -> Iterator[Row | Reject]:
    """(row number, record), one record batch at a time; an unreadable file raises or is one reject."""
    import pyarrow.parquet as pq

    number = 0
    try:
        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=batch_size):
            for record in batch.to_pylist():
                number += 1
                yield number, record
    except (OSError, ValueError) as exc:  # ArrowInvalid / ArrowIOError: empty, corrupt or cut short
        message = f"not a readable Parquet file: {exc}"
        reason = f"unreadable: {message}" + ("; the rest of the file was skipped" if number else "")
        yield problem(path, number + 1 if number else None, reason, message, on_error)


def column_names(path: Path) -> list[str]:
    """The schema's column names, without reading the data."""
    import pyarrow.parquet as pq

    return list(pq.read_schema(path).names)


def read_frames(path: Path, wanted: Columns, chunk_size: int) -> Iterator[pd.DataFrame]:
    """Only ``wanted.read``, one record batch of at most ``chunk_size`` rows at a time (Parquet keeps types)."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    names = [c for c in parquet.schema_arrow.names if c in wanted.read]
    for batch in parquet.iter_batches(batch_size=chunk_size, columns=names):
        yield batch.to_pandas()


def stable_schema(schema: Any) -> Any:
    """``schema`` with types later batches can always be cast to (lists of text; null columns as text)."""
    import pyarrow as pa

    fields = []
    for field in schema:
        if field.name == "labels" or pa.types.is_list(field.type):
            field = field.with_type(pa.list_(pa.string()))
        elif pa.types.is_null(field.type):
            field = field.with_type(pa.string())
        fields.append(field)
    return pa.schema(fields)


def _promote(first: Any, second: Any) -> Any:
    """One Arrow type both can be cast to: Arrow's promotion (null, int to float), else text."""
    import pyarrow as pa

    try:
        unified = pa.unify_schemas(
            [pa.schema([("x", first)]), pa.schema([("x", second)])], promote_options="permissive"
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.string()
    return unified.field("x").type


def union_schema(schemas: list[Any]) -> Any:
    """Every column of every schema in order of first appearance, each with a type all of them cast to."""
    import pyarrow as pa

    fields: dict[str, Any] = {}
    for schema in schemas:
        for field in schema:
            known = fields.get(field.name)
            if known is None:
                fields[field.name] = field
            elif known.type != field.type:
                fields[field.name] = known.with_type(_promote(known.type, field.type))
    return stable_schema(pa.schema(list(fields.values())))


def conform(table: Any, schema: Any) -> Any:
    """``table`` with exactly ``schema``'s columns: missing ones empty, all cast to its types."""
    import pyarrow as pa

    columns = [
        table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


class Writer:
    """Appends DataFrame batches (``evidence`` as JSON text) to one Parquet file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: Any = None

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        flat = frame.copy()
        if "evidence" in flat:
            flat["evidence"] = flat["evidence"].map(lambda v: json.dumps(v, ensure_ascii=False))
        table = pa.Table.from_pandas(flat, preserve_index=False)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, stable_schema(table.schema))
        elif set(table.column_names) - set(self._writer.schema.names):
            self._writer.close()
            written = pq.read_table(self.path)  # at most one part: bounded
            schema = union_schema([written.schema, table.schema])
            self._writer = pq.ParquetWriter(self.path, schema)
            self._writer.write_table(conform(written, schema))
        self._writer.write_table(conform(table, self._writer.schema))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def write_empty(path: Path) -> None:
    """A valid Parquet file with no rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({}), path)


def concatenate(parts: list[Path], target: Path) -> None:
    """One Parquet file holding every column any part has (parts may differ in metadata columns)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = [pq.ParquetFile(p) for p in parts if p.stat().st_size]
    files = [f for f in files if f.metadata.num_rows]
    if not files:
        write_empty(target)
        return
    schema = union_schema([f.schema_arrow for f in files])
    with pq.ParquetWriter(target, schema) as writer:
        for parquet in files:
            for batch in parquet.iter_batches():
                writer.write_table(conform(pa.Table.from_batches([batch]), schema))


def count_rows(path: Path) -> int | None:
    """Rows from the footer, without reading the data; None when the file is unreadable."""
    import pyarrow.parquet as pq

    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except (OSError, ValueError):
        return None
