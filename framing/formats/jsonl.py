"""JSON Lines: the one parser (``.jsonl``, ``.json``, ``.ndjson``, optionally ``.gz``) and a writer.

Row numbers are physical lines. A line that is not UTF-8, not JSON or not an
object is a problem of that line only: the rest of the file is still read.
"""

from __future__ import annotations

import codecs
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pandas as pd

from framing.formats._common import TRUNCATED, Columns, OnError, Record, Row, open_binary, problem, truncated
from framing.formats.rejects import Reject

SUFFIXES = (".jsonl", ".json", ".ndjson")


class LineProblem(Exception):
    """A line that is not a JSON object; ``reason`` for a reject, ``message`` for an error."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def parse_line(raw: bytes, number: int) -> Record | None:
    """The object on one line (None for a blank line); raises ``LineProblem``."""
    if number == 1:
        raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        # Only JSON's own whitespace makes a line blank: str.strip() would also drop control
        # characters such as \x1c-\x1f, silently skipping a garbage line instead of rejecting it.
        text = raw.decode("utf-8").strip(" \t\r\n")
    except UnicodeDecodeError as exc:
        detail = f"bytes that are not UTF-8 at offset {exc.start} of the line"
        raise LineProblem(f"undecodable: {detail}", detail) from None
    if not text:
        return None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        detail = f"{exc.msg} (column {exc.colno})"
        raise LineProblem(f"bad JSON line: {detail}", f"malformed JSON: {detail}") from None
    except RecursionError:
        raise LineProblem("bad JSON line: nested too deeply", "malformed JSON: nested too deeply") from None
    if not isinstance(record, dict):
        kind = type(record).__name__
        raise LineProblem(f"bad JSON line: expected an object, got {kind}", f"expected a JSON object, got {kind}")
    return record


def read(path: Path, on_error: OnError = "raise") -> Iterator[Row | Reject]:
    """(line number, object) per non-blank line; problems raise or become rejects."""
    number = 0
    with open_binary(path) as handle:
        try:
            for number, raw in enumerate(handle, start=1):
                try:
                    record = parse_line(raw, number)
                except LineProblem as exc:
                    yield problem(path, number, exc.reason, exc.message, on_error)
                    continue
                if record is not None:
                    yield number, record
        except TRUNCATED as exc:
            yield truncated(path, number + 1, exc, on_error)


def _records(path: Path) -> Iterator[Record]:
    for item in read(path, on_error="raise"):
        assert isinstance(item, tuple)  # raise mode yields rows only
        yield item[1]


def column_names(path: Path) -> list[str]:
    """The first object's keys (``[]`` for a file without one)."""
    return next((list(record) for record in _records(path)), [])


def read_frames(path: Path, wanted: Columns, chunk_size: int) -> Iterator[pd.DataFrame]:
    """Only ``wanted.read``, ``chunk_size`` rows at a time, values exactly as written (JSON keeps text and lists).

    Parsed by the one JSON Lines parser rather than ``pandas.read_json``, whose dtype and
    date inference differs between pandas versions (ids like ``"001"``, ``date``).
    """
    records: list[Record] = []
    for record in _records(path):
        records.append({k: v for k, v in record.items() if k in wanted.read})
        if len(records) == chunk_size:
            yield pd.DataFrame.from_records(records)
            records = []
    if records:
        yield pd.DataFrame.from_records(records)


class Writer:
    """Appends DataFrame batches as JSON Lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def write(self, frame: pd.DataFrame) -> None:
        if self._handle is None:
            self._handle = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - open across batches
        for record in frame.to_dict(orient="records"):
            self._handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def write_empty(path: Path) -> None:
    path.write_text("", encoding="utf-8")


def concatenate(parts: list[Path], target: Path) -> None:
    with open(target, "wb") as out:
        for part in parts:
            with open(part, "rb") as handle:
                shutil.copyfileobj(handle, out)
