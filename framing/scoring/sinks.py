"""Write scored paragraphs in batches, atomically.

Rows go to a temporary file beside the target; only a finished run renames it
to the final name, so a crash never leaves a half-written file that looks
complete. The format follows the output's extension; each format's batch
writer lives in ``framing.formats`` (metadata columns missing from some rows
are left empty there, and a column first seen late widens the file).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd

from framing.formats import FORMATS as ALL_FORMATS
from framing.formats import OUTPUT_SUFFIXES, output_format

FORMATS = OUTPUT_SUFFIXES  # output suffix -> format name


class AtomicSink:
    """Append DataFrame batches; ``commit`` publishes the file under its final name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.format = output_format(path)
        self.partial = path.with_name(f".{path.name}.partial")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer: Any = None
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        if self._writer is None:
            make = ALL_FORMATS[self.format].writer
            assert make is not None  # every output format has a writer
            self._writer = make(self.partial)
        self._writer.write(frame)
        self.rows += len(frame)

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._writer = None

    def commit(self) -> None:
        self._close()
        if not self.partial.exists():
            write_empty = ALL_FORMATS[self.format].write_empty
            assert write_empty is not None
            write_empty(self.partial)  # a valid, empty file of the format
        os.replace(self.partial, self.path)

    def abort(self) -> None:
        """Drop the temporary file; closing may fail again on a full disk, which changes nothing."""
        with contextlib.suppress(OSError):
            self._close()
        self._writer = None
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


__all__ = ["FORMATS", "AtomicSink", "output_format"]
