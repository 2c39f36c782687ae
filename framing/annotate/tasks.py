"""Write sampled paragraphs as Label Studio tasks (JSON) or as a spreadsheet (CSV).

A task's ``data`` holds what annotators see (``text``) and what the import
needs back: a stable ``id`` (a hash of article, paragraph and normalised text,
so the same paragraph gets the same id in every sample), ``article_id``,
``paragraph`` and how it was sampled (``strategy``, ``stratum``, ``weight``),
plus the corpus metadata. The model's labels go in ``predictions``, Label
Studio's pre-annotation, so annotators correct rather than start from nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from framing.annotate.labelling import FROM_NAME, TO_NAME
from framing.data.dedup import normalise_text

# Columns of a sample that are not task data: model output goes to predictions, evidence stays out.
_NOT_DATA = {"labels", "evidence"}


def stable_id(article_id: Any, paragraph: Any, text: str) -> str:
    """The same paragraph of the same article gets the same id in every sample and export."""
    key = "\x1f".join([str(article_id), str(paragraph), normalise_text(text)])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _plain(value: Any) -> Any:
    """A JSON value: numpy scalars unwrapped, NaN as null."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    return value


def prediction(labels: list[str], model_version: str, score: float | None = None) -> dict[str, Any]:
    """A Label Studio prediction choosing ``labels`` (an empty result when the model flagged none)."""
    result = []
    if labels:
        value = {"choices": [str(label) for label in labels]}
        result.append({"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices", "value": value})
    entry: dict[str, Any] = {"model_version": model_version, "result": result}
    if score is not None:
        entry["score"] = float(score)
    return entry


def to_tasks(sample: pd.DataFrame, model_version: str) -> list[dict[str, Any]]:
    """One task per sampled row (needs ``id``, ``text``, ``article_id``, ``paragraph``, ``labels``)."""
    tasks = []
    for record in sample.to_dict(orient="records"):
        data = {key: _plain(value) for key, value in record.items() if key not in _NOT_DATA}
        data = {key: value for key, value in data.items() if not key.startswith("p_")}
        labels = [str(label) for label in (_plain(record.get("labels")) or [])]
        task: dict[str, Any] = {"data": data, "predictions": [prediction(labels, model_version)]}
        tasks.append(task)
    return tasks


def write_tasks(sample: pd.DataFrame, path: Path, model_version: str, file_format: str = "json") -> Path:
    """Label Studio JSON tasks, or CSV for spreadsheets (labels as a JSON list, probabilities kept)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if file_format == "csv":
        frame = sample.drop(columns=[c for c in ("evidence",) if c in sample.columns]).copy()
        frame["labels"] = frame["labels"].map(lambda v: json.dumps([str(x) for x in (_plain(v) or [])]))
        frame.to_csv(path, index=False)
        return path
    tasks = to_tasks(sample, model_version)
    path.write_text(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path
