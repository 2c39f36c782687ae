"""BABE and MBIC (Media Bias Group): sentence-level bias and opinion labels.

Both come as ``;``-separated CSV (UTF-8, often with a BOM) or XLSX with the
columns ``text, news_link, outlet, topic, type, label_bias, label_opinion, ...``
(MBIC adds ``group_id`` and the full ``article``). Sentences whose annotators
did not agree (``No agreement``) carry no usable label: they are dropped and
counted, never silently. ``outlet``, ``topic`` and ``type`` stay as metadata
because they are what a bias model is most likely to leak through.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from framing.data.adapters.base import AdapterCounts, make_frame
from framing.errors import DataError

NO_AGREEMENT = "No agreement"
BIAS_VALUES = ("Biased", "Non-biased")
OPINION_VALUES = (
    "Entirely factual",
    "Somewhat factual but also opinionated",
    "Expresses writer’s opinion",
)
TASK_COLUMNS = {"bias": "label_bias", "opinion": "label_opinion"}
METADATA = ["outlet", "topic", "type", "news_link", "label_bias", "label_opinion", "biased_words"]

Task = Literal["bias", "opinion"]


def _read_table(path: Path) -> pd.DataFrame:
    """The sheet as strings; XLSX through openpyxl (a dependency; a clear error if it is missing)."""
    if not path.is_file():
        raise DataError(path, "file not found")
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xls"}:
        if importlib.util.find_spec("openpyxl") is None:
            raise DataError(
                path,
                "reading .xlsx needs the openpyxl package, which is not installed; "
                "install it or export the sheet to CSV with ';' as separator",
            )
        return pd.read_excel(path, dtype=str, keep_default_na=False)
    try:
        return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(path, "not UTF-8 text") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(path, f"malformed ';'-separated CSV: {exc}") from None


def _load(
    path: str | Path, source: str, task: Task, group_columns: tuple[str, ...]
) -> tuple[pd.DataFrame, AdapterCounts]:
    path = Path(path)
    if task not in TASK_COLUMNS:
        raise DataError(path, f"unknown {source} task {task!r}; use one of {sorted(TASK_COLUMNS)}")
    table = _read_table(path)
    label_column = TASK_COLUMNS[task]
    missing = [c for c in ("text", label_column) if c not in table.columns]
    if missing:
        raise DataError(path, f"missing column(s) {', '.join(map(repr, missing))} (is the separator ';'?)")
    allowed = BIAS_VALUES if task == "bias" else OPINION_VALUES
    group_column = next((c for c in group_columns if c in table.columns), None)
    counts = AdapterCounts(source=f"{source}:{path.name}")
    rows: list[dict[str, Any]] = []
    for index, record in enumerate(table.to_dict(orient="records"), start=1):
        counts.rows_read += 1
        text = str(record["text"]).strip()
        value = str(record[label_column]).strip()
        if value == NO_AGREEMENT:
            counts.drop("no_agreement")
            continue
        if not text:
            counts.drop("empty_text")
            continue
        if value not in allowed:
            raise DataError(path, f"{label_column} {value!r} is not one of {[*allowed, NO_AGREEMENT]}", index)
        row_id = f"{path.stem}-{index}"
        group = str(record[group_column]).strip() if group_column else ""
        row: dict[str, Any] = {"id": row_id, "article_id": group or row_id, "text": text, "labels": [value]}
        for column in METADATA:
            row[column] = record.get(column, "")
        rows.append(row)
    counts.rows_kept = len(rows)
    return make_frame(rows, METADATA), counts


def load_babe(path: str | Path, task: Task = "bias") -> tuple[pd.DataFrame, AdapterCounts]:
    """BABE sentences; one label per row (``Biased``/``Non-biased``, or the opinion value), so ``task=multiclass``.

    BABE has no article id: sentences sharing a ``news_link`` come from one article
    and are grouped by it, so a split never puts one article on both sides.
    """
    return _load(path, "babe", task, ("news_link",))


def load_mbic(path: str | Path, task: Task = "bias") -> tuple[pd.DataFrame, AdapterCounts]:
    """MBIC sentences, like BABE; grouped by MBIC's ``group_id`` (else ``news_link``)."""
    return _load(path, "mbic", task, ("group_id", "news_link"))
