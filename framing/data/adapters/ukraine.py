"""Ukraine-crisis news bias (Färber et al., CIKM 2020): crowd-labelled sentences grouped by article.

The dataset folder holds ``json/article_N.json`` (one article, its sentences and
every crowd judgement) and ``csv/sentences-with-binary-labels-{bias,framing,
hidden-assumpt,subj}.csv`` (headerless ``text,label`` with 0/1, the authors'
binarisation). Only the JSON knows which article a sentence is from, so rows
always come from the JSON (``article_id`` = article id, which keeps one article
on one side of a split); the binary labels are joined on normalised text. A task
without its CSV is derived from the JSON scores where the rule is clear
(``framing``: any government framed non-neutrally; ``subjectivity`` and
``hidden_assumptions``: score above 0). ``bias`` has no documented rule, so it
needs its CSV. Checked on the released data: the authors' framing CSV is exactly
"some worker framed a government" (an ``avg`` framing score other than 0, all
2,057 sentences agree), so ``vote="avg"`` reproduces it; no simple rule of the
JSON scores reproduces the other three CSVs.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict, deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from framing.data.adapters.base import AdapterCounts, make_frame
from framing.data.dedup import normalise_text
from framing.errors import DataError

CSV_NAMES = {
    "bias": "bias",
    "framing": "framing",
    "hidden_assumptions": "hidden-assumpt",
    "subjectivity": "subj",
}
GOVERNMENTS = ("russia", "ukraine", "west")
Vote = Literal["avg", "maj", "intensified"]


def _dirs(path: Path) -> tuple[Path, Path]:
    if (path / "json").is_dir():
        return path / "json", path / "csv"
    if path.is_dir() and any(path.glob("article_*.json")):
        return path, path.parent / "csv"
    raise DataError(path, "not the Ukraine news-bias folder: expected json/article_*.json inside it")


def _article_number(path: Path) -> tuple[int, str]:
    """Sort ``article_2`` before ``article_10``."""
    number = path.stem.removeprefix("article_")
    return (int(number), "") if number.isdigit() else (-1, number)


def _read_binary_csv(path: Path) -> dict[str, deque[int]]:
    """Normalised text -> 0/1 labels in file order (a text can occur more than once)."""
    labels: dict[str, deque[int]] = defaultdict(deque)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for line, row in enumerate(csv.reader(handle), start=1):
            if len(row) != 2 or row[1].strip() not in {"0", "1"}:
                raise DataError(path, f"expected 'text,label' with label 0 or 1, got {row!r:.80}", line)
            labels[normalise_text(row[0])].append(int(row[1]))
    return labels


def _score(block: dict[str, Any], vote: str, path: Path) -> float:
    try:
        return float(block["score"][vote])
    except (KeyError, TypeError, ValueError):
        raise DataError(path, f"sentence without a '{vote}' score") from None


def _derived(task: str, sentence: dict[str, Any], vote: str, path: Path) -> bool:
    if task == "framing":
        scores = sentence.get("framing", {}).get("score", {})
        return any(float(scores.get(g, {}).get(vote, 0.0)) != 0.0 for g in GOVERNMENTS)
    if task in {"subjectivity", "hidden_assumptions"}:
        return _score(sentence.get(task, {}), vote, path) > 0.0
    raise DataError(path, f"no binary CSV for {task!r} and no documented rule to derive it from the JSON")


def load_ukraine(
    path: str | Path, tasks: Sequence[str] = ("bias", "framing"), vote: Vote = "intensified"
) -> tuple[pd.DataFrame, AdapterCounts]:
    """Sentences with those of ``tasks`` that apply as labels (multi-label: ``[]``, ``["bias"]``, ...)."""
    path = Path(path)
    unknown = [t for t in tasks if t not in CSV_NAMES]
    if unknown:
        raise DataError(path, f"unknown Ukraine task(s) {unknown}; use {sorted(CSV_NAMES)}")
    json_dir, csv_dir = _dirs(path)
    binary = {
        task: _read_binary_csv(csv_dir / f"sentences-with-binary-labels-{CSV_NAMES[task]}.csv")
        for task in tasks
        if (csv_dir / f"sentences-with-binary-labels-{CSV_NAMES[task]}.csv").is_file()
    }
    counts = AdapterCounts(source=f"ukraine:{path.name}")
    rows: list[dict[str, Any]] = []
    files = sorted(json_dir.glob("article_*.json"), key=_article_number)
    for file in files:
        article = _read_article(file)
        for position, sentence in enumerate(article.get("sentences", []), start=1):
            counts.rows_read += 1
            text = str(sentence.get("content", "")).strip()
            if not text:
                counts.drop("empty_text")
                continue
            labels = _labels(sentence, normalise_text(text), tasks, binary, vote, file)
            if labels is None:
                counts.drop("not_in_binary_csv")
                continue
            rows.append(_row(article, sentence, file, position, text, labels, tasks, binary, vote))
    if not files:
        raise DataError(json_dir, "no article_*.json files")
    # every binary CSV lists the same sentences, so the largest remainder is the number of unmatched ones
    leftover = max((sum(len(q) for q in by_text.values()) for by_text in binary.values()), default=0)
    if leftover:
        counts.drop("csv_rows_without_sentence", leftover)
    counts.rows_kept = len(rows)
    metadata = [
        "position_in_article",
        *[f"framing_{g}" for g in GOVERNMENTS],
        "bias_pro_russia",
        "bias_pro_west",
        "label_source",
    ]
    return make_frame(rows, metadata), counts


def _read_article(file: Path) -> dict[str, Any]:
    try:
        article: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(file, f"not a readable JSON article: {exc}") from None
    return article


def _labels(
    sentence: dict[str, Any],
    key: str,
    tasks: Sequence[str],
    binary: dict[str, dict[str, deque[int]]],
    vote: str,
    file: Path,
) -> list[str] | None:
    """The tasks that apply to the sentence: from a task's binary CSV (matched on normalised text, in order)
    when there is one, else derived from the JSON scores; None when a CSV has no row left for the sentence."""
    labels: list[str] = []
    unmatched = False
    for task in tasks:
        if task in binary:
            queue = binary[task].get(key)
            if not queue:
                unmatched = True
                continue
            if queue.popleft() == 1:
                labels.append(task)
        elif _derived(task, sentence, vote, file):
            labels.append(task)
    return None if unmatched else labels


def _row(
    article: dict[str, Any],
    sentence: dict[str, Any],
    file: Path,
    position: int,
    text: str,
    labels: list[str],
    tasks: Sequence[str],
    binary: dict[str, dict[str, deque[int]]],
    vote: str,
) -> dict[str, Any]:
    """One labelled row with the sentence's scores under ``vote`` as metadata."""
    framing_scores = sentence.get("framing", {}).get("score", {})
    bias_scores = sentence.get("bias", {}).get("score", {})
    return {
        "id": str(sentence.get("id", f"{file.stem}-{position}")),
        "article_id": str(sentence.get("article", article.get("id", file.stem))),
        "text": text,
        "labels": labels,
        "position_in_article": sentence.get("position_in_article"),
        **{f"framing_{g}": framing_scores.get(g, {}).get(vote) for g in GOVERNMENTS},
        "bias_pro_russia": bias_scores.get("pro-russia", {}).get(vote),
        "bias_pro_west": bias_scores.get("pro-west", {}).get(vote),
        "label_source": ",".join("csv" if t in binary else f"json:{vote}" for t in tasks),
    }
