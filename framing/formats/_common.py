"""Pieces every format shares: opening (gzip-aware) and raising or rejecting a problem."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, cast

from framing.errors import DataError
from framing.formats.rejects import Reject

Record = dict[str, Any]
OnError = Literal["raise", "reject"]
Row = tuple[int, Record]
TRUNCATED = (EOFError, gzip.BadGzipFile, zlib.error)  # a .gz cut short or corrupt


@dataclass(frozen=True)
class Columns:
    """The columns to read back from an output, and, where a format has no types (CSV), which of them
    stay text (``"001"`` and ``"NA"`` are values, not numbers or missing) and which hold JSON lists."""

    read: Collection[str]
    text: Collection[str] = ()
    lists: Collection[str] = ()


def open_binary(path: Path) -> BinaryIO:
    if path.suffix.lower() == ".gz":
        return cast(BinaryIO, gzip.open(path, "rb"))
    return open(path, "rb")


def problem(path: Path, row: int | None, reason: str, message: str, on_error: OnError) -> Reject:
    """A ``Reject`` with ``reason``, or, with ``on_error="raise"``, a ``DataError`` with ``message``."""
    if on_error == "raise":
        raise DataError(path, message, row)
    return Reject(str(path), row, reason)


def truncated(path: Path, row: int, exc: BaseException, on_error: OnError) -> Reject:
    message = f"the compressed file is cut short or corrupt ({exc})"
    return problem(path, row, f"unreadable: {message}", message, on_error)
