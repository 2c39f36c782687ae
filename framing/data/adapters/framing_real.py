"""The project's real-text annotations: labels on real news paragraphs, text rebuilt from the user's copy.

A split file (``data/framing_real/{train,validation,test}.jsonl``) holds one row
per annotated unit: ``id`` (a unit id of ``framing.data.real_sources``),
``text_sha256_16``, ``labels`` and how they were chosen and resolved. The text
itself is not committed (the datasets' licences allow research use, not
redistribution); this adapter reads it from ``FRAMING_DATASETS`` (default
``../shared/datasets``) and refuses a unit that is missing or whose text hash
differs, naming the row.

Rows whose ``id`` starts with ``invented:`` point at the shipped invented
paragraphs (``data/framing/*.jsonl``, and the contrast set of hard cases in
``data/contrast/contrast.jsonl``) by id: the training split mixes both,
and ``train_real.jsonl`` / ``train_invented.jsonl`` hold each part alone for
the ablations (``data.train=data/framing_real/train_real.jsonl``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from framing.data.adapters.base import AdapterCounts, make_frame
from framing.data.real_sources import datasets_root, resolve_units, text_hash
from framing.errors import DataError
from framing.formats import read_records

INVENTED_PREFIX = "invented:"
INVENTED_FILES = (
    "data/framing/train.jsonl",
    "data/framing/validation.jsonl",
    "data/framing/test.jsonl",
    "data/contrast/contrast.jsonl",  # written for training only: no split of data=framing holds it
)
METADATA = ["source", "stratum", "weight", "resolution"]


def load_framing_real(path: str | Path, datasets: str | None = None) -> tuple[pd.DataFrame, AdapterCounts]:
    """Rows of one split file with their text rebuilt and checked against the committed hash.

    ``datasets`` overrides ``FRAMING_DATASETS`` for where the public datasets are.
    """
    path = Path(path)
    wanted = _read_entries(path)
    counts = AdapterCounts(source=f"framing_real:{path.name}", rows_read=len(wanted))
    real_ids = [e["id"] for _, e in wanted if _kind(e) == "real"]
    units = resolve_units(real_ids, datasets_root(datasets)) if real_ids else {}
    invented = _invented_rows(path) if any(_kind(e) == "invented" for _, e in wanted) else {}
    rows: list[dict[str, Any]] = []
    for row, entry in wanted:
        rows.append(_rebuild(path, row, entry, units, invented))
    counts.rows_kept = len(rows)
    return make_frame(rows, METADATA), counts


def _kind(entry: dict[str, Any]) -> str:
    return "invented" if str(entry["id"]).startswith(INVENTED_PREFIX) else "real"


def _read_entries(path: Path) -> list[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise DataError(path, "annotation file not found")
    entries = list(read_records(path, "jsonl"))
    for row, entry in entries:
        if not isinstance(entry.get("id"), str) or "labels" not in entry:
            raise DataError(path, "expected an object with a string 'id' and 'labels'", row)
    return entries


def _invented_rows(path: Path) -> dict[str, dict[str, Any]]:
    """The shipped invented paragraphs by id, found relative to the repository holding ``path``."""
    here = path.resolve()
    root = next((p for p in here.parents if (p / INVENTED_FILES[0]).is_file()), None)
    if root is None:
        raise DataError(path, f"rows refer to invented paragraphs but {INVENTED_FILES[0]} was not found above it")
    rows: dict[str, dict[str, Any]] = {}
    for name in INVENTED_FILES:
        if not (root / name).is_file():
            continue  # a row naming one of its paragraphs is refused in _rebuild, naming the files
        for _, record in read_records(root / name, "jsonl"):
            rows[INVENTED_PREFIX + str(record["id"])] = record
    return rows


def _rebuild(
    path: Path, row: int, entry: dict[str, Any], units: dict[str, Any], invented: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    unit_id = entry["id"]
    if _kind(entry) == "invented":
        if unit_id not in invented:
            raise DataError(path, f"invented paragraph {unit_id!r} not found in {', '.join(INVENTED_FILES)}", row)
        record = invented[unit_id]
        text, article, source = record["text"], f"{INVENTED_PREFIX}{record['article_id']}", "invented"
    else:
        unit = units.get(unit_id)
        if unit is None:
            problem = f"unit {unit_id!r} not found in the datasets folder (is FRAMING_DATASETS right?)"
            raise DataError(path, problem, row)
        text, article, source = unit.text, unit.article_id, unit.source
    expected = entry.get("text_sha256_16")
    if expected is not None and text_hash(text) != expected:
        raise DataError(path, f"text of {unit_id!r} does not match its hash: the dataset copy differs", row)
    return {
        "id": unit_id,
        "article_id": article,
        "text": text,
        "labels": list(entry["labels"]),
        "source": source,
        "stratum": entry.get("stratum"),
        "weight": entry.get("weight"),
        "resolution": entry.get("resolution"),
    }
