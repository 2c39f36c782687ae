"""Write grouped train/validation/test files from one labelled table.

Used to build the shipped splits and by ``framing split`` for users' own
tables. Splits are by group (article), deterministic for a seed, written as
JSON Lines with every original column kept.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

from framing.data.readers import read_records
from framing.data.splits import assign_group_splits
from framing.errors import DataError

SPLIT_NAMES = ("train", "validation", "test")


def split_file(
    input_path: Path, output_dir: Path, group_column: str, fractions: tuple[float, ...], seed: int
) -> dict[str, int]:
    """Split ``input_path`` by ``group_column``; returns rows written per split."""
    if len(fractions) != 3:
        raise DataError(input_path, f"need three split fractions, got {fractions}")
    records = []
    for row, record in read_records(input_path):
        if group_column not in record:
            raise DataError(input_path, f"missing group column {group_column!r}", row)
        records.append(record)
    assignment = assign_group_splits(
        [str(r[group_column]) for r in records], (fractions[0], fractions[1], fractions[2]), seed
    )
    output_dir.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(SPLIT_NAMES, 0)
    with ExitStack() as stack:
        handles = {
            name: stack.enter_context(open(output_dir / f"{name}.jsonl", "w", encoding="utf-8")) for name in SPLIT_NAMES
        }
        for record, name in zip(records, assignment, strict=True):
            handles[name].write(json.dumps(record, ensure_ascii=False) + "\n")
            counts[name] += 1
    return counts
