"""Validate labelled rows into a ``LabelledSet`` and load the train/validation/test splits.

Every problem names the file and row. With ``data.bad_rows: skip`` a bad row
(or a line the reader cannot parse) is not dropped silently: it becomes a
``Reject`` (``framing.formats``, the one scoring uses) that the run counts,
writes to a rejects file and logs to MLflow. File-level problems (a missing
column) are always fatal because no row could be right.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from framing.config import DataConfig
from framing.data.readers import Record, read_records
from framing.errors import DataError
from framing.formats.rejects import Reject
from framing.formats.rejects import write_rejects as write_reject_file

if TYPE_CHECKING:
    from framing.data.adapters import AdapterCounts
    from framing.data.dedup import DedupReport

log = logging.getLogger(__name__)


@dataclass
class LabelledSet:
    """One split: parallel lists of ids, texts, groups and label lists."""

    name: str
    path: Path
    ids: list[str]
    texts: list[str]
    groups: list[str]
    labels: list[list[str]]
    rejects: list[Reject] = field(default_factory=list)
    source_counts: AdapterCounts | None = None  # rows an adapter read and dropped, when data.adapter is set

    def __len__(self) -> int:
        return len(self.texts)

    def label_matrix(self, label_names: Sequence[str]) -> np.ndarray:
        """Binary indicator matrix [rows, labels] in the order of ``label_names``."""
        index = {name: i for i, name in enumerate(label_names)}
        matrix = np.zeros((len(self.labels), len(label_names)), dtype=np.int8)
        for row, names in enumerate(self.labels):
            for name in names:
                matrix[row, index[name]] = 1
        return matrix

    def to_frame(self) -> Any:
        """A pandas DataFrame view, used for dataset fingerprints and error analysis."""
        import pandas as pd

        return pd.DataFrame({"id": self.ids, "group": self.groups, "text": self.texts, "labels": self.labels})


@dataclass
class Splits:
    """The three splits and the label names every matrix is ordered by."""

    train: LabelledSet
    validation: LabelledSet
    test: LabelledSet | None
    label_names: list[str]
    dedup_report: DedupReport | None = None  # set when data.deduplicate removed copies before training

    def all(self) -> list[LabelledSet]:
        return [s for s in (self.train, self.validation, self.test) if s is not None]

    @property
    def rejects(self) -> list[Reject]:
        return [r for s in self.all() for r in s.rejects]


def parse_labels(value: Any, config: DataConfig) -> list[str]:
    """Labels from a list, a JSON list string, or a delimited string."""
    if value is None:
        return []
    if isinstance(value, float) and np.isnan(value):
        return []
    if isinstance(value, (list, tuple, np.ndarray)):
        items = list(value)
    elif isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                items = json.loads(stripped)
            except json.JSONDecodeError:
                raise ValueError(f"label list {value!r} is not valid JSON") from None
        else:
            items = [part for part in stripped.split(config.label_delimiter)] if stripped else []
    else:
        items = [value]
    labels = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"label {item!r} is not a non-empty string")
        labels.append(item.strip())
    if len(set(labels)) != len(labels):
        raise ValueError(f"label repeated in {labels}")
    return labels


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _kind(value: Any) -> str:
    """How a value that should be text reads to the user: "a number (42)", "a list"."""
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, (int, float, np.number)):
        return f"a number ({value})"
    if isinstance(value, (list, tuple, np.ndarray)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _text(value: Any, config: DataConfig) -> str:
    """The row's text, stripped; a null, a non-string, an empty or an over-long text is a bad row."""
    column = config.text_column
    if _is_null(value):
        raise ValueError(f"no text (null) in column {column!r}")
    if not isinstance(value, str):
        raise ValueError(f"expected text in column {column!r}, got {_kind(value)}")
    text = value.strip()
    if not text:
        raise ValueError(f"empty text in column {column!r}")
    if len(text) > config.max_paragraph_chars:
        raise ValueError(
            f"text of {len(text)} characters in column {column!r}, over data.max_paragraph_chars="
            f"{config.max_paragraph_chars}; split it into paragraphs or raise the limit"
        )
    return text


def _row_labels(value: Any, config: DataConfig) -> list[str]:
    """A row's labels; a null is an error, since "no labels" is written as an empty list."""
    if _is_null(value):
        raise ValueError(
            f"no labels (null) in column {config.label_column or 'labels'!r}; write [] for a row with no labels"
        )
    return parse_labels(value, config)


def _key(value: Any, column: str, what: str) -> str:
    """An id or group as text; a null or empty one would silently become "None" or merge rows."""
    if _is_null(value) or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"no {what} ({'null' if _is_null(value) else repr(value)}) in column {column!r}")
    return str(value)


def _wide_labels(record: Record, columns: Sequence[str]) -> list[str]:
    labels = []
    for column in columns:
        value = record[column]
        if _is_null(value):
            raise ValueError(f"no value (null) in label column {column!r}; write 0 or 1")
        if value in (1, True, "1", "true", "True"):
            labels.append(column)
        elif value not in (0, False, "0", "false", "False", "", None):
            raise ValueError(f"column {column!r} must be 0/1, got {value!r}")
    return labels


def _required_columns(config: DataConfig) -> list[str]:
    columns = [config.text_column]
    columns += list(config.label_columns) if config.label_columns else [config.label_column or "labels"]
    columns += [c for c in (config.id_column, config.group_column) if c]
    return columns


def _adapter_records(path: Path, config: DataConfig) -> tuple[Iterator[tuple[int, Record]], DataConfig, AdapterCounts]:
    """Rows of a public dataset through its adapter, and the column settings that read them.

    The adapter's own columns (``id``, ``article_id``, ``text``, ``labels`` as lists)
    replace the configured ones; row numbers in errors are positions in the
    adapter's output, since the adapter has already checked the file itself.
    """
    from framing.data.adapters import load_adapter

    frame, counts = load_adapter(config.adapter, path, **config.adapter_options)
    log.info("data.adapter=%s %s", config.adapter, counts.summary())
    columns = {"text_column": "text", "label_column": "labels", "label_columns": None}
    columns |= {"id_column": "id", "group_column": "article_id", "label_delimiter": "|"}
    records = ((number, dict(record)) for number, record in enumerate(frame.to_dict(orient="records"), start=1))
    return records, config.model_copy(update=columns), counts


def _rows_rejecting(path: Path, config: DataConfig, rejects: list[Reject]) -> Iterator[tuple[int, Record]]:
    """Rows of the file under ``bad_rows: skip``: a line the reader cannot parse becomes a reject too."""
    from framing.formats import read_table

    for item in read_table(path, config.format, on_error="reject"):
        if isinstance(item, tuple):
            yield item
        else:
            rejects.append(Reject(str(path), item.row, item.reason))


def read_labelled(path: Path, name: str, config: DataConfig, known_labels: Iterable[str] | None) -> LabelledSet:
    """Read and validate one split file; raise or collect rejects per ``bad_rows``."""
    known = set(known_labels) if known_labels is not None else None
    result = LabelledSet(name=name, path=path, ids=[], texts=[], groups=[], labels=[])
    records: Iterator[tuple[int, Record]]
    if config.adapter != "generic":
        records, config, result.source_counts = _adapter_records(path, config)
    elif config.bad_rows == "skip":
        records = _rows_rejecting(path, config, result.rejects)  # malformed lines join the rejects as read
    else:
        records = read_records(path, config.format)
    required = _required_columns(config)
    seen_ids: dict[str, int] = {}
    for row, record in records:
        missing = [c for c in required if c not in record]
        if missing:
            raise DataError(path, f"missing column(s) {', '.join(map(repr, missing))}", row)
        try:
            text = _text(record[config.text_column], config)
            if config.label_columns:
                labels = _wide_labels(record, config.label_columns)
            else:
                labels = _row_labels(record[config.label_column or "labels"], config)
            if config.task == "multiclass" and len(labels) != 1:
                raise ValueError(f"a multi-class row needs exactly one label, got {labels}")
            unknown = [label for label in labels if known is not None and label not in known]
            if unknown:
                raise ValueError(f"unknown label(s) {unknown}; known: {sorted(known or [])}")
            row_id = _key(record[config.id_column], config.id_column, "id") if config.id_column else f"{name}-{row}"
            if row_id in seen_ids:
                raise ValueError(f"duplicate id {row_id!r} (first at row {seen_ids[row_id]})")
            group = _key(record[config.group_column], config.group_column, "group") if config.group_column else row_id
        except ValueError as exc:
            if config.bad_rows == "error":
                raise DataError(path, str(exc), row) from None
            result.rejects.append(Reject(str(path), row, str(exc)))
            continue
        seen_ids[row_id] = row
        result.ids.append(row_id)
        result.texts.append(text)
        result.groups.append(group)
        result.labels.append(labels)
    if not result.texts:
        raise DataError(path, "no valid rows")
    return result


def load_splits(config: DataConfig) -> Splits:
    """Read train, validation and (optional) test; fix the label order.

    The label set is the configured one, else the sorted labels of the training
    split; a validation or test label outside it is an error, because a model
    can never predict it.
    """
    train = read_labelled(config.train, "train", config, config.labels)
    label_names = list(config.labels) if config.labels else sorted({label for row in train.labels for label in row})
    validation = read_labelled(config.validation, "validation", config, label_names)
    test = read_labelled(config.test, "test", config, label_names) if config.test else None
    return Splits(train=train, validation=validation, test=test, label_names=label_names)


def check_label_coverage(train: LabelledSet, label_names: Sequence[str]) -> None:
    """Every label needs training rows with it and rows without it.

    With none, a classifier cannot learn the label; with all, it learns a
    constant that cannot be saved as a trusted model. Either way the run
    would fail late or log a model nobody can load, so refuse the data here.
    """
    counts = train.label_matrix(label_names).sum(axis=0)
    missing = [label for label, count in zip(label_names, counts, strict=True) if count == 0]
    if missing:
        raise DataError(
            train.path,
            f"no training row has label(s) {missing}: a model cannot learn them; "
            "add examples or remove them from data.labels",
        )
    everywhere = [label for label, count in zip(label_names, counts, strict=True) if count == len(train)]
    if everywhere:
        raise DataError(
            train.path,
            f"label(s) {everywhere} on every one of the {len(train)} training rows: a model cannot learn "
            "when they do not apply; add rows without them or remove them from data.labels",
        )


def write_rejects(rejects: Sequence[Reject], directory: Path) -> Path:
    """Write ``directory/rejects.jsonl`` in the one reject format (source, row, reason); returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "rejects.jsonl"
    write_reject_file(target, rejects)
    return target
