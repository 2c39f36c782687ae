"""Write grouped train/validation/test files from one labelled table.

Used to build the shipped splits and by ``framing split`` for users' own
tables. Splits are by group (article), deterministic for a seed, written as
JSON Lines with every original column kept.
"""

from __future__ import annotations

import json
import math
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from framing.data.readers import read_records
from framing.data.splits import assign_group_splits, copy_groups
from framing.errors import ConfigError, DataError

SPLIT_NAMES = ("train", "validation", "test")


def _adapter_records(input_path: Path, adapter: str, options: dict[str, Any]) -> list[dict[str, Any]]:
    """A public dataset's rows through its adapter, missing values as JSON null."""
    from framing.data.adapters import load_adapter

    frame, counts = load_adapter(adapter, input_path, **options)
    print(counts.summary())
    records = frame.to_dict(orient="records")
    return [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()} for r in records]


def check_fractions(fractions: tuple[float, ...]) -> None:
    """Shares in [0, 1] that add up to 1, checked before the input is read."""
    shown = " ".join(f"{f:g}" for f in fractions)
    in_range = all(0.0 <= f <= 1.0 for f in fractions)
    if not in_range or not math.isclose(sum(fractions), 1.0, abs_tol=1e-6):
        raise ConfigError(
            f"--fractions {shown}: need three shares (train, validation, test) between 0 and 1 that add up to 1"
        )


def split_file(
    input_path: Path,
    output_dir: Path,
    group_column: str,
    fractions: tuple[float, ...],
    seed: int,
    adapter: str = "generic",
    adapter_options: dict[str, Any] | None = None,
    copy_threshold: float | None = None,
) -> dict[str, int]:
    """Split ``input_path`` by ``group_column``; returns rows written per split.

    ``adapter`` reads a public dataset's own format (its rows then have ``id``,
    ``article_id``, ``text``, ``labels``). With ``copy_threshold``, rows whose texts
    are exact or near copies (similarity >= the threshold) join one group, so a
    sentence reprinted in two articles cannot straddle the splits.
    """
    if len(fractions) != 3:
        raise DataError(input_path, f"need three split fractions, got {fractions}")
    check_fractions(fractions)
    records = []
    if adapter != "generic":
        records = _adapter_records(input_path, adapter, adapter_options or {})
    else:
        for row, record in read_records(input_path):
            if group_column not in record:
                raise DataError(input_path, f"missing group column {group_column!r}", row)
            records.append(record)
    groups = [str(r[group_column]) for r in records]
    if copy_threshold is not None:
        groups = copy_groups([str(r["text"]) for r in records], groups, copy_threshold)
    assignment = assign_group_splits(groups, (fractions[0], fractions[1], fractions[2]), seed)
    if copy_threshold is not None:
        records = [{**r, group_column: g} for r, g in zip(records, groups, strict=True)]
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


def label_counts(path: Path, column: str = "labels") -> tuple[int, dict[str, int] | None]:
    """Rows of one written split and rows per label (a list, or a JSON list in a string; None without the column).

    Printed by ``framing split`` so a label that one split lacks, or holds a
    handful of times, shows before a model is trained on it.
    """
    counts: dict[str, int] = {}
    rows, found = 0, False
    for _, record in read_records(path):
        rows += 1
        if column not in record:
            continue
        found = True
        value = record[column]
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip().startswith("[") else [value] if value.strip() else []
            except json.JSONDecodeError:
                value = [value]
        for label in value or []:
            counts[str(label)] = counts.get(str(label), 0) + 1
    return rows, (counts if found else None)
