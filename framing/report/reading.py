"""Scores read back: the files of an output, their labels and metadata columns, chunks of rows, the manifest.

Every format is read through ``framing.formats``; the text and evidence columns,
the bulk of a file, are left out unless examples need them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from framing.errors import DataError
from framing.formats import OUTPUT_SUFFIXES, Columns, output_columns, read_frames

PROBABILITY_PREFIX = "p_"
# Columns of the scores that are neither metadata nor read: text and evidence are the bulk of the file.
RESERVED = {"article_id", "paragraph", "text", "labels", "evidence", "kind"}
# CSV only: ids, labels and the known text metadata stay strings ("001", "NA" are values, not numbers or missing).
TEXT_COLUMNS = ("article_id", "labels", "date", "outlet", "url", "language")
LIST_COLUMNS = ("labels",)  # JSON text in a CSV cell


@dataclass(frozen=True)
class ScoresLayout:
    """The non-empty files of a scores output, its labels (from the ``p_`` columns) and metadata columns."""

    files: list[Path]
    labels: list[str]
    metadata: list[str]


def score_files(path: Path) -> list[Path]:
    """The files of a scores output: the file itself, or a folder's ``part-*`` files in order."""
    if not path.exists():
        raise DataError(path, "scores not found")
    if path.is_file():
        if path.suffix.lower() not in OUTPUT_SUFFIXES:
            raise DataError(path, f"unknown scores type {path.suffix or '(none)'!r}; use .parquet, .jsonl or .csv")
        return [path]
    files = sorted(p for p in path.glob("part-*") if p.is_file() and p.suffix.lower() in OUTPUT_SUFFIXES)
    if not files:
        raise DataError(path, "no part-*.parquet, part-*.jsonl or part-*.csv files in the folder")
    return files


def _labels_of(file: Path, columns: list[str], labels: list[str] | None) -> list[str]:
    """The file's labels, which must be those of the parts before it; the required columns must be there."""
    found = [c[len(PROBABILITY_PREFIX) :] for c in columns if c.startswith(PROBABILITY_PREFIX)]
    if not found:
        raise DataError(file, "no p_<label> probability columns; is this the output of framing predict?")
    if labels is not None and set(found) != set(labels):
        raise DataError(file, f"labels {sorted(found)} differ from those of the other parts {sorted(labels)}")
    for required in ("article_id", "labels"):
        if required not in columns:
            raise DataError(file, f"missing column {required!r}")
    return found if labels is None else labels


def inspect_scores(path: Path) -> ScoresLayout:
    """Files, labels and metadata columns; every part must have the same labels."""
    labels: list[str] | None = None
    metadata: list[str] = []
    files: list[Path] = []
    for file in score_files(path):
        columns = output_columns(file)
        if not columns:
            continue  # an empty part (a part with only rejects)
        labels = _labels_of(file, columns, labels)
        for column in columns:
            if column not in RESERVED and not column.startswith(PROBABILITY_PREFIX) and column not in metadata:
                metadata.append(column)
        files.append(file)
    if labels is None:
        raise DataError(path, "no p_<label> probability columns (every part is empty)")
    # Names the article table computes itself cannot also be metadata.
    computed = {"paragraphs", "articles", *(f"{k}_{label}" for k in ("share", "max_p", "flagged") for label in labels)}
    return ScoresLayout(files, labels, [c for c in metadata if c not in computed])


def _frames(file: Path, wanted: set[str], chunk_size: int) -> Iterator[pd.DataFrame]:
    return read_frames(file, Columns(wanted, TEXT_COLUMNS, LIST_COLUMNS), chunk_size)


def chunks(layout: ScoresLayout, chunk_size: int) -> Iterator[tuple[Path, pd.DataFrame]]:
    """(file, rows): what the article totals need (ids, flags, probabilities, kind, metadata), chunk by chunk."""
    wanted = {"article_id", "labels", "kind", *(f"{PROBABILITY_PREFIX}{label}" for label in layout.labels)}
    wanted |= set(layout.metadata)
    for file in layout.files:
        for chunk in _frames(file, wanted, chunk_size):
            yield file, chunk


def iter_chunks(path: Path, chunk_size: int = 50_000) -> Iterator[tuple[Path, pd.DataFrame]]:
    """(file, rows) chunks of at most ``chunk_size`` rows, without the text and evidence columns."""
    return chunks(inspect_scores(path), chunk_size)


def example_chunks(layout: ScoresLayout, chunk_size: int) -> Iterator[pd.DataFrame]:
    """The columns examples need (text and evidence included), chunk by chunk."""
    wanted = {"article_id", "paragraph", "labels", "kind", "text", "evidence"}
    wanted |= {f"{PROBABILITY_PREFIX}{label}" for label in layout.labels}
    for file in layout.files:
        yield from _frames(file, wanted, chunk_size)


def scores_manifest(scores: Path) -> dict[str, Any]:
    """The scoring run's manifest beside the scores (model, settings), or ``{}`` when there is none."""
    path = scores / "_manifest.json" if scores.is_dir() else scores.with_name(scores.name + ".manifest.json")
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


__all__ = [
    "ScoresLayout",
    "chunks",
    "example_chunks",
    "inspect_scores",
    "iter_chunks",
    "score_files",
    "scores_manifest",
]
