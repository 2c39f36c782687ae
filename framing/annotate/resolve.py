"""One label set per paragraph from several annotators, and the round trip through adjudication.

Each label is decided on its own: a label is kept when more than half of the
paragraph's annotators chose it. The row records how it was decided:

- ``single``: one annotator;
- ``unanimous``: every annotator chose the same set;
- ``majority``: annotators differed, but every label had a clear majority;
- ``adjudicated``: an adjudicator's decision, read back from the disagreements file.

A paragraph where some label got exactly half the votes (a tie), or, under
``require="unanimous"``, any disagreement, gets no labels until it is
adjudicated. Every paragraph where annotators differed is written to the
disagreements file with each annotator's choice and the majority suggestion;
the adjudicator fills in ``labels`` and ``import --adjudicated FILE`` takes it
back. For single-label tasks a paragraph is resolved only when one label has a
majority.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framing.annotate.export import Export, Item
from framing.errors import DataError

POLICIES = ("majority", "unanimous")


@dataclass(frozen=True)
class Resolution:
    """The labels of one paragraph (``None`` until adjudicated), how they were reached and the votes."""

    labels: list[str] | None
    how: str
    votes: dict[str, int]
    suggested: list[str]


def resolve(
    annotations: Mapping[str, frozenset[str]], require: str = "majority", single_label: bool = False
) -> Resolution:
    """Decide one paragraph; see the module doc for the rules."""
    if require not in POLICIES:
        raise ValueError(f"require must be one of {POLICIES}, got {require!r}")
    n = len(annotations)
    votes = Counter(label for chosen in annotations.values() for label in chosen)
    ordered = dict(sorted(votes.items()))
    majority = sorted(label for label, count in votes.items() if 2 * count > n)
    if n == 1:
        return Resolution(majority, "single", ordered, majority)
    if len(set(annotations.values())) == 1:
        return Resolution(majority, "unanimous", ordered, majority)
    tied = any(2 * count == n for count in votes.values())
    if tied or (single_label and len(majority) != 1):
        return Resolution(None, "tie", ordered, majority)
    if require == "unanimous":
        return Resolution(None, "disagreement", ordered, majority)
    return Resolution(majority, "majority", ordered, majority)


def disagreement_row(item: Item, resolution: Resolution) -> dict[str, Any]:
    """What an adjudicator needs to decide one paragraph; ``labels`` is left for them to fill in."""
    return {
        "id": item.id,
        "article_id": item.data.get("article_id"),
        "paragraph": item.data.get("paragraph"),
        "text": item.text,
        "annotations": {name: sorted(chosen) for name, chosen in item.annotations.items()},
        "votes": resolution.votes,
        "reason": resolution.how,
        "suggested": resolution.suggested,
        "labels": None,
    }


def write_disagreements(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """JSON Lines (``labels: null`` to fill in) or, for a ``.csv`` path, a spreadsheet (blank ``labels``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        import pandas as pd

        frame = pd.DataFrame(rows, columns=list(rows[0]) if rows else ["id", "labels"])
        for column in ("annotations", "votes", "suggested"):
            if column in frame:
                frame[column] = frame[column].map(json.dumps)
        frame["labels"] = ""
        frame.to_csv(path, index=False)
        return path
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def _cell_labels(value: Any, path: Path, row: int) -> list[str] | None:
    """``None`` when not yet decided; a JSON list, or ``;``-separated names in a spreadsheet cell."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value).strip()
    if not text:
        return None
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            raise DataError(path, f"labels is not a JSON list: {text[:80]!r}", row) from None
        return [str(v) for v in parsed]
    return [part.strip() for part in text.split(";") if part.strip()]


def read_adjudicated(path: Path, known: Sequence[str] | None = None) -> dict[str, list[str]]:
    """Decisions by paragraph id from a filled-in disagreements file (rows with empty ``labels`` are skipped)."""
    from framing.data.readers import iter_csv, iter_jsonl

    if not path.is_file():
        raise DataError(path, "adjudication file not found")
    records = iter_csv(path) if path.suffix.lower() == ".csv" else iter_jsonl(path)
    decided: dict[str, list[str]] = {}
    for row, record in records:
        if "id" not in record or "labels" not in record:
            raise DataError(path, "needs 'id' and 'labels'", row)
        labels = _cell_labels(record["labels"], path, row)
        if labels is None:
            continue
        unknown = sorted(set(labels) - set(known)) if known is not None else []
        if unknown:
            raise DataError(path, f"unknown label(s) {unknown}; known: {list(known or [])}", row)
        decided[str(record["id"])] = sorted(set(labels))
    return decided


@dataclass
class ImportResult:
    """Training rows, the rows to adjudicate, and counts per resolution."""

    rows: list[dict[str, Any]]
    disagreements: list[dict[str, Any]]
    counts: Counter[str]


# Task fields the training row sets itself; every other data field (weight, strategy, outlet...) is carried.
_OWN = {"id", "text", "labels", "annotators", "resolution", "votes"}


def resolve_export(
    export: Export,
    require: str = "majority",
    adjudicated: Mapping[str, list[str]] | None = None,
    single_label: bool = False,
) -> ImportResult:
    """Resolve every annotated paragraph; adjudicated decisions override the vote."""
    adjudicated = adjudicated or {}
    unknown = sorted(set(adjudicated) - set(export.items))
    if unknown:
        raise DataError("--adjudicated", f"ids not in the exports: {unknown[:5]}")
    result = ImportResult([], [], Counter())
    for item in export.annotated:
        resolution = resolve(item.annotations, require, single_label)
        if resolution.how not in ("single", "unanimous"):
            result.disagreements.append(disagreement_row(item, resolution))
        labels, how = resolution.labels, resolution.how
        if item.id in adjudicated:
            labels, how = adjudicated[item.id], "adjudicated"
        result.counts[how] += 1
        if labels is None:
            continue
        row: dict[str, Any] = {"id": item.id, "text": item.text, "labels": labels}
        row["annotators"] = sorted(item.annotations)
        row |= {"resolution": how, "votes": resolution.votes}
        row |= {key: value for key, value in item.data.items() if key not in _OWN}
        row.setdefault("article_id", item.id)  # tasks made elsewhere may lack one; training groups by it
        result.rows.append(row)
    result.counts["unannotated"] = export.unannotated
    return result
