"""Read the output of ``framing predict`` (any of its formats), or score a raw corpus first.

Sampling and estimation work on scored paragraphs: ``article_id``,
``paragraph``, ``text``, ``labels`` (the model's flags at its tuned
thresholds) and one ``p_<label>`` per label, plus whatever metadata scoring
carried through. Evidence is dropped on reading: it is not needed and is the
bulkiest column.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from framing.errors import DataError

PREFIX = "p_"
REQUIRED = ("article_id", "paragraph", "text", "labels")


def _columns(file: Path) -> list[str]:
    if file.stat().st_size == 0:
        return []
    if file.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(file).names)
    if file.suffix.lower() == ".csv":
        return [str(c) for c in pd.read_csv(file, nrows=0).columns]
    from framing.data.readers import iter_jsonl

    return next((list(record) for _, record in iter_jsonl(file)), [])


def is_scores(path: Path) -> bool:
    """Whether ``path`` is scoring output (a table or parts with ``p_<label>`` columns)."""
    from framing.report import score_files

    try:
        files = score_files(path)
    except DataError:
        return False
    return any(c.startswith(PREFIX) for file in files for c in _columns(file))


def _labels(value: Any, file: Path) -> list[str]:
    if isinstance(value, list | tuple | np.ndarray):
        return [str(v) for v in value]
    if not isinstance(value, str) or not value.strip():
        return []
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        raise DataError(file, f"labels is not a JSON list: {value[:80]!r}") from None
    return [str(v) for v in parsed]


def _read_file(file: Path) -> pd.DataFrame:
    suffix = file.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        names = [c for c in pq.read_schema(file).names if c != "evidence"]
        return pq.read_table(file, columns=names).to_pandas()
    if suffix == ".csv":
        text_like = {"article_id": str, "labels": str, "text": str}
        frame = pd.read_csv(file, dtype=text_like, keep_default_na=False, na_values=[""])
        return frame.drop(columns=[c for c in ("evidence",) if c in frame.columns])
    from framing.data.readers import iter_jsonl

    return pd.DataFrame.from_records([{k: v for k, v in r.items() if k != "evidence"} for _, r in iter_jsonl(file)])


def read_scores(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """All scored paragraphs of ``path`` (a file or a folder of parts) and the label names, in order."""
    from framing.report import score_files

    frames = []
    for file in score_files(path):
        if _columns(file):
            try:
                frame = _read_file(file)
            except (OSError, ValueError) as exc:
                raise DataError(file, f"unreadable: {exc}") from None
            missing = [c for c in REQUIRED if c not in frame.columns]
            if missing:
                raise DataError(file, f"missing column(s) {missing}; is this the output of framing predict?")
            frame["labels"] = [_labels(v, file) for v in frame["labels"]]
            frames.append(frame)
    if not frames:
        raise DataError(path, "no scored paragraphs")
    scores = pd.concat(frames, ignore_index=True)
    labels = [c[len(PREFIX) :] for c in scores.columns if c.startswith(PREFIX)]
    if not labels:
        raise DataError(path, "no p_<label> probability columns; is this the output of framing predict?")
    scores["article_id"] = scores["article_id"].astype(str)
    scores["text"] = scores["text"].fillna("").astype(str)
    return scores, labels


def score_raw_corpus(model_uri: str, corpus: Path, output: Path, unit: str = "article") -> Path:
    """Score ``corpus`` with ``model_uri`` into ``output`` (resumable, as ``framing predict``)."""
    from framing.package import load_model
    from framing.scoring import ScoringOptions, SourceOptions, score_corpus

    predictor = load_model(model_uri)
    options = ScoringOptions(evidence_k=0, progress=False)
    summary = score_corpus(predictor, model_uri, corpus, output, SourceOptions(unit=unit), options)
    print(summary.table())
    return output


def infer_thresholds(scores: pd.DataFrame, labels: list[str]) -> dict[str, float]:
    """Each label's threshold as scoring applied it: between the highest unflagged and lowest flagged p.

    The scores record flags and probabilities but not the thresholds; where a
    label was never (or always) flagged, 0.5 is assumed.
    """
    thresholds = {}
    flagged = scores["labels"].map(set)
    for label in labels:
        p = scores[f"{PREFIX}{label}"].to_numpy(dtype=float)
        on = flagged.map(lambda s, name=label: name in s).to_numpy(dtype=bool)
        if on.any() and (~on).any():
            thresholds[label] = float((p[on].min() + p[~on].max()) / 2)
        else:
            thresholds[label] = 0.5
    return thresholds
