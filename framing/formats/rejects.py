"""What could not be read or scored, with where and why: one class, one file format.

A reject file is JSON Lines, one ``{"source", "row", "reason"}`` object per
line. The reason starts with a short category before the first colon
(``bad JSON line``, ``undecodable``, ``empty file`` ...), which is what
summaries count.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framing.atomic import atomic_write_text


@dataclass(frozen=True)
class Reject:
    """Something that could not be used, with its file, row (when known) and reason."""

    source: str
    row: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "row": self.row, "reason": self.reason}


@dataclass
class RejectCounts:
    """Counts per reason (the part before the first colon)."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, reason: str, n: int = 1) -> None:
        key = reason.split(":")[0]
        self.counts[key] = self.counts.get(key, 0) + n


def reject_lines(rejects: Iterable[Reject]) -> str:
    return "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in rejects)


def write_rejects(path: Path, rejects: Iterable[Reject]) -> None:
    """Write a reject file whole or not at all (a failed write leaves no temporary file)."""
    atomic_write_text(path, reject_lines(rejects))


def read_rejects(path: Path) -> Iterator[Reject]:
    """The rejects of a file written by ``write_rejects``."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield Reject(**json.loads(line))
