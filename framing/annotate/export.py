"""Read Label Studio's JSON export into one label set per annotator per paragraph.

The export is the list of tasks Label Studio writes (``exportType=JSON``):
each task has ``data`` and ``annotations``; each annotation has
``completed_by``, ``was_cancelled`` and a ``result`` list. Choices are read
from every ``choices`` result, whatever its ``from_name``, unless one is
named. A skipped (cancelled) annotation does not count; a submitted
annotation with an empty result means that annotator chose no label. If an
annotator annotated a task twice, the later annotation counts. Several
exports (e.g. one project per annotator) are merged on the task's stable
``data.id``, falling back to Label Studio's task id. Annotators are named by
the ``<export>.users.json`` that ``framing annotate pull`` writes beside an
export, else by their user id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framing.errors import DataError


@dataclass
class Item:
    """One paragraph: its task data and, per annotator, the labels they chose."""

    id: str
    data: dict[str, Any]
    annotations: dict[str, frozenset[str]] = field(default_factory=dict)
    stamps: dict[str, str] = field(default_factory=dict)  # annotator -> updated_at, to keep the latest

    @property
    def text(self) -> str:
        return str(self.data.get("text", ""))


@dataclass
class Export:
    """Every task of one or more exports, merged, with counts of what did not count."""

    items: dict[str, Item] = field(default_factory=dict)
    cancelled: int = 0
    replaced: int = 0

    @property
    def annotated(self) -> list[Item]:
        """Items with at least one counted annotation."""
        return [item for item in self.items.values() if item.annotations]

    @property
    def unannotated(self) -> int:
        return sum(1 for item in self.items.values() if not item.annotations)

    @property
    def annotators(self) -> list[str]:
        names = {name for item in self.items.values() for name in item.annotations}
        return sorted(names, key=_natural)

    def labels_seen(self) -> list[str]:
        return sorted(
            {label for item in self.items.values() for chosen in item.annotations.values() for label in chosen}
        )


def _natural(name: str) -> tuple[int, str]:
    """Numeric user ids in numeric order, names after them."""
    return (int(name), "") if name.isdigit() else (1 << 62, name)


def annotator_name(completed_by: Any, names: dict[str, str] | None = None) -> str:
    """``completed_by`` is a user id in the JSON export (named by ``names`` when known); older exports give a user."""
    if isinstance(completed_by, dict):
        return str(completed_by.get("email") or completed_by.get("id") or "unknown")
    key = "unknown" if completed_by is None else str(completed_by)
    return (names or {}).get(key, key)


def user_names(export: Path) -> dict[str, str]:
    """User id -> email from ``<export>.users.json`` (written by ``framing annotate pull``), if it is there."""
    path = export.with_name(export.stem + ".users.json")
    if not path.is_file():
        return {}
    try:
        names = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(path, f"unreadable user names: {exc}") from None
    if not isinstance(names, dict):
        raise DataError(path, "expected an object mapping user id to name")
    return {str(k): str(v) for k, v in names.items()}


def chosen_labels(result: Any, from_name: str | None = None) -> frozenset[str]:
    """The union of the ``choices`` in an annotation's (or prediction's) result."""
    labels: set[str] = set()
    for region in result or []:
        if not isinstance(region, dict) or region.get("type", "choices") != "choices":
            continue  # labels, spans, text areas: not what this project reads
        if from_name is not None and region.get("from_name") != from_name:
            continue
        labels.update(str(choice) for choice in (region.get("value") or {}).get("choices") or [])
    return frozenset(labels)


def _from_names(result: Any) -> set[str]:
    return {
        str(r.get("from_name")) for r in result or [] if isinstance(r, dict) and r.get("type", "choices") == "choices"
    }


def _load(path: Path) -> list[Any]:
    try:
        tasks = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise DataError(path, "not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(path, f"not a Label Studio JSON export: {exc}") from None
    if not isinstance(tasks, list):
        raise DataError(path, "not a Label Studio JSON export (expected a list of tasks)")
    return tasks


def _item_id(task: dict[str, Any], path: Path, row: int) -> str:
    data = task.get("data")
    if not isinstance(data, dict):
        raise DataError(path, "task has no 'data' object", row)
    key = data.get("id", task.get("id"))
    if key is None:
        raise DataError(path, "task has neither data.id nor id", row)
    return str(key)


def _add_task(
    export: Export, task: Any, path: Path, row: int, from_name: str | None, seen: set[str], names: dict[str, str]
) -> None:
    if not isinstance(task, dict):
        raise DataError(path, f"expected a task object, got {type(task).__name__}", row)
    key = _item_id(task, path, row)
    item = export.items.setdefault(key, Item(key, dict(task["data"])))
    annotations = task.get("annotations") or []
    if not isinstance(annotations, list):
        raise DataError(path, "'annotations' is not a list", row)
    for annotation in annotations:
        if not isinstance(annotation, dict):
            raise DataError(path, "an annotation is not an object", row)
        if annotation.get("was_cancelled"):
            export.cancelled += 1
            continue
        seen.update(_from_names(annotation.get("result")))
        name = annotator_name(annotation.get("completed_by"), names)
        stamp = str(annotation.get("updated_at") or annotation.get("created_at") or "")
        if name in item.annotations:
            export.replaced += 1
            if stamp < item.stamps.get(name, ""):
                continue
        item.annotations[name] = chosen_labels(annotation.get("result"), from_name)
        item.stamps[name] = stamp


def read_exports(paths: Sequence[Path], from_name: str | None = None, labels: Iterable[str] | None = None) -> Export:
    """Merge Label Studio JSON exports; with ``labels``, any other chosen label is an error naming the task."""
    export = Export()
    seen: set[str] = set()
    for path in paths:
        names = user_names(Path(path))
        for row, task in enumerate(_load(Path(path)), start=1):
            _add_task(export, task, Path(path), row, from_name, seen, names)
    if from_name is not None and seen and from_name not in seen:
        raise DataError(paths[0], f"no choices under from_name {from_name!r}; the exports have {sorted(seen)}")
    if labels is not None:
        _check_labels(export, set(labels), paths)
    return export


def _check_labels(export: Export, known: set[str], paths: Sequence[Path]) -> None:
    for item in export.items.values():
        for annotator, chosen in item.annotations.items():
            unknown = sorted(chosen - known)
            if unknown:
                where = ", ".join(str(p) for p in paths)
                raise DataError(
                    where,
                    f"task {item.id}: annotator {annotator} chose unknown label(s) {unknown}; known: {sorted(known)}",
                )
