"""Write scored paragraphs in batches, atomically.

Rows go to a temporary file beside the target; only a finished run renames it
to the final name, so a crash never leaves a half-written file that looks
complete. The format follows the output's extension.

Metadata columns need not be present in every row: a column first seen in a
later batch widens the file (CSV and Parquet parts are rewritten with the new
column, earlier rows left empty), and a batch that lacks a column gets it empty.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd

from framing.errors import DataError

FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".parquet": "parquet"}


def output_format(path: Path) -> str:
    if path.suffix.lower() not in FORMATS:
        raise DataError(path, f"unknown output type {path.suffix or '(none)'!r}; use .jsonl, .csv or .parquet")
    return FORMATS[path.suffix.lower()]


def _stable_schema(schema: Any) -> Any:
    """The first batch's schema with types that later batches can always be cast to.

    A first batch in which nothing was flagged types ``labels`` as a list of
    nulls, and an all-missing metadata column as null; both become strings.
    """
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
    return _stable_schema(pa.schema(list(fields.values())))


def conform(table: Any, schema: Any) -> Any:
    """``table`` with exactly ``schema``'s columns: missing ones empty, all cast to its types."""
    import pyarrow as pa

    columns = [
        table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


class AtomicSink:
    """Append DataFrame batches; ``commit`` publishes the file under its final name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.format = output_format(path)
        self.partial = path.with_name(f".{path.name}.partial")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer: Any = None
        self._handle: Any = None
        self._header: list[str] | None = None
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        if self.format == "jsonl":
            if self._handle is None:
                self._handle = open(self.partial, "w", encoding="utf-8")  # noqa: SIM115 - open across batches
            for record in frame.to_dict(orient="records"):
                self._handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        elif self.format == "csv":
            self._write_csv(frame)
        else:
            self._write_parquet(frame)
        self.rows += len(frame)

    def _write_csv(self, frame: pd.DataFrame) -> None:
        flat = frame.copy()
        for column in ("labels", "evidence"):
            if column in flat:
                flat[column] = flat[column].map(lambda v: json.dumps(v, ensure_ascii=False))
        if self._header is None:
            self._header = list(flat.columns)
            flat.to_csv(self.partial, mode="w", header=True, index=False)
            return
        new = [c for c in flat.columns if c not in self._header]
        if new:
            self._header = [*self._header, *new]
            widened = pd.read_csv(self.partial, dtype=str, keep_default_na=False).reindex(columns=self._header)
            widened.to_csv(self.partial, mode="w", header=True, index=False)
        flat.reindex(columns=self._header).to_csv(self.partial, mode="a", header=False, index=False)

    def _write_parquet(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        flat = frame.copy()
        if "evidence" in flat:
            flat["evidence"] = flat["evidence"].map(lambda v: json.dumps(v, ensure_ascii=False))
        table = pa.Table.from_pandas(flat, preserve_index=False)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.partial, _stable_schema(table.schema))
        elif set(table.column_names) - set(self._writer.schema.names):
            self._writer.close()
            written = pq.read_table(self.partial)  # at most one part: bounded
            schema = union_schema([written.schema, table.schema])
            self._writer = pq.ParquetWriter(self.partial, schema)
            self._writer.write_table(conform(written, schema))
        self._writer.write_table(conform(table, self._writer.schema))

    def _close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        if self._writer is not None:
            self._writer.close()
        self._handle = self._writer = None

    def commit(self) -> None:
        self._close()
        if not self.partial.exists():
            if self.format == "parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.table({}), self.partial)  # valid, empty Parquet
            else:
                self.partial.write_text("", encoding="utf-8")
        os.replace(self.partial, self.path)

    def abort(self) -> None:
        """Drop the temporary file; closing may fail again on a full disk, which changes nothing."""
        with contextlib.suppress(OSError):
            self._close()
        self._handle = self._writer = None
        self.partial.unlink(missing_ok=True)

    def __enter__(self) -> AtomicSink:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()
