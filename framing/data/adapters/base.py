"""What every adapter returns: a frame of labelled rows and the counts of what was read and dropped.

Public datasets come in their own formats; an adapter turns one of them into the
project's labelled rows (``id``, ``article_id``, ``text``, ``labels`` plus
metadata columns) so training reads them like any other table. Rows an adapter
leaves out (``No agreement`` votes, empty sentences) are counted per reason in
``AdapterCounts`` so nothing is dropped silently.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

CORE_COLUMNS = ("id", "article_id", "text", "labels")


@dataclass
class AdapterCounts:
    """How many rows an adapter read, kept and dropped (per reason)."""

    source: str
    rows_read: int = 0
    rows_kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)

    def drop(self, reason: str, count: int = 1) -> None:
        """Count ``count`` rows left out for ``reason``."""
        self.dropped[reason] += count

    @property
    def rows_dropped(self) -> int:
        return sum(self.dropped.values())

    def summary(self) -> str:
        """One line for logs and reports, e.g. ``babe.csv: read 10, kept 9, dropped 1 (no_agreement=1)``."""
        reasons = ", ".join(f"{reason}={count}" for reason, count in sorted(self.dropped.items()))
        dropped = f", dropped {self.rows_dropped} ({reasons})" if self.dropped else ", dropped 0"
        return f"{self.source}: read {self.rows_read}, kept {self.rows_kept}{dropped}"


def make_frame(rows: list[dict[str, Any]], metadata: list[str]) -> pd.DataFrame:
    """A frame with the core columns first, then the metadata columns, even when ``rows`` is empty."""
    columns = [*CORE_COLUMNS, *[m for m in metadata if m not in CORE_COLUMNS]]
    return pd.DataFrame(rows, columns=columns)
