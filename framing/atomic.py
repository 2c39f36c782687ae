"""Files written whole or not at all: what every writer of a user's results goes through.

A reader, a resumed run or a second process must see the old file or the new
one, never half of one, and a failed write must leave nothing behind. Each
file is written beside its destination under ``<name>.tmp`` and renamed over
it (a rename within a folder is atomic); scoring's clean-up of a killed run
knows that suffix.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replaced_whole(path: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``, on any failure it is removed."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all; a failed write leaves no temporary file behind."""
    with replaced_whole(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
