"""SemEval-2023 Task 3 (Piskorski et al.): persuasion techniques (subtask 3) and frames (subtask 2).

Subtask 3 is paragraph-level and multi-label, like this project: the text is in
``*-labels-subtask-3.template`` (``article_id<TAB>paragraph<TAB>text``) and the
gold labels in the matching ``*-labels-subtask-3.txt`` (``article_id<TAB>
paragraph<TAB>technique,technique,...``; an empty third field means no
technique). Subtask 2 is article-level: ``article<ID>.txt`` files in a folder
and a labels file with ``article_id<TAB>frame,frame,...``.

The join is strict: a paragraph or article with no label line, a label line with
no text, a repeated key or a malformed line stops with the file and line,
because a silently missing label would train the model that the paragraph has
none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from framing.data.adapters.base import AdapterCounts, make_frame
from framing.errors import DataError

TEMPLATE_SUFFIX = ".template"


def _lines(path: Path) -> list[tuple[int, str]]:
    """(line number, line without its newline) for each non-blank line."""
    if not path.is_file():
        raise DataError(path, "file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(path, "not UTF-8 text") from None
    return [(n, line.rstrip("\r\n")) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _split_labels(field: str) -> list[str]:
    labels = [part.strip() for part in field.split(",") if part.strip()]
    return list(dict.fromkeys(labels))  # the shared task's files occasionally repeat a label


def _labels_file(template: Path, labels: str | Path | None) -> Path:
    if labels is not None:
        return Path(labels)
    if template.name.endswith(TEMPLATE_SUFFIX):
        return template.with_name(template.name.removesuffix(TEMPLATE_SUFFIX) + ".txt")
    raise DataError(template, f"cannot find the labels file: name does not end in {TEMPLATE_SUFFIX!r}; pass labels=")


def load_semeval_subtask3(path: str | Path, labels: str | Path | None = None) -> tuple[pd.DataFrame, AdapterCounts]:
    """Paragraphs of the template joined with their techniques; ``id`` = ``<article>-<paragraph>``."""
    template = Path(path)
    labels_path = _labels_file(template, labels)
    gold: dict[tuple[str, str], tuple[int, list[str]]] = {}
    for line, content in _lines(labels_path):
        fields = content.split("\t")
        if len(fields) == 2:
            fields.append("")  # "id<TAB>paragraph" with the empty label field trimmed away
        if len(fields) != 3 or not fields[0].strip() or not fields[1].strip().isdigit():
            raise DataError(labels_path, "expected 'article_id<TAB>paragraph<TAB>techniques'", line)
        key = (fields[0].strip(), fields[1].strip())
        if key in gold:
            raise DataError(labels_path, f"second label line for article {key[0]} paragraph {key[1]}", line)
        gold[key] = (line, _split_labels(fields[2]))
    counts = AdapterCounts(source=f"semeval_subtask3:{template.name}")
    rows: list[dict[str, Any]] = []
    used: set[tuple[str, str]] = set()
    for line, content in _lines(template):
        fields = content.split("\t", 2)
        if len(fields) < 2 or not fields[0].strip() or not fields[1].strip().isdigit():
            raise DataError(template, "expected 'article_id<TAB>paragraph<TAB>text'", line)
        counts.rows_read += 1
        key = (fields[0].strip(), fields[1].strip())
        if key in used:
            raise DataError(template, f"article {key[0]} paragraph {key[1]} appears twice", line)
        used.add(key)
        if key not in gold:
            raise DataError(template, f"article {key[0]} paragraph {key[1]} has no line in {labels_path}", line)
        text = fields[2].strip() if len(fields) == 3 else ""
        if not text:
            counts.drop("empty_text")
            continue
        rows.append(
            {
                "id": f"{key[0]}-{key[1]}",
                "article_id": key[0],
                "text": text,
                "labels": gold[key][1],
                "paragraph": int(key[1]),
            }
        )
    orphans = sorted((gold[key][0], key) for key in gold if key not in used)
    if orphans:
        line, key = orphans[0]
        raise DataError(labels_path, f"article {key[0]} paragraph {key[1]} is not in {template}", line)
    counts.rows_kept = len(rows)
    return make_frame(rows, ["paragraph"]), counts


def _default_subtask2_labels(folder: Path) -> Path:
    """``train-articles-subtask-2/`` -> ``train-labels-subtask-2.txt`` next to it, as the task ships them."""
    return folder.with_name(folder.name.replace("articles", "labels") + ".txt")


def load_semeval_subtask2(path: str | Path, labels: str | Path | None = None) -> tuple[pd.DataFrame, AdapterCounts]:
    """One row per article (``article<ID>.txt``) with its frames; the first line is kept as ``title`` metadata."""
    folder = Path(path)
    if not folder.is_dir():
        raise DataError(folder, "expected a folder of article<ID>.txt files")
    labels_path = Path(labels) if labels is not None else _default_subtask2_labels(folder)
    gold: dict[str, tuple[int, list[str]]] = {}
    for line, content in _lines(labels_path):
        fields = content.split("\t")
        if len(fields) == 1:
            fields.append("")
        if len(fields) != 2 or not fields[0].strip():
            raise DataError(labels_path, "expected 'article_id<TAB>frames'", line)
        article_id = fields[0].strip()
        if article_id in gold:
            raise DataError(labels_path, f"second label line for article {article_id}", line)
        gold[article_id] = (line, _split_labels(fields[1]))
    counts = AdapterCounts(source=f"semeval_subtask2:{folder.name}")
    rows: list[dict[str, Any]] = []
    files = sorted(folder.glob("article*.txt"))
    if not files:
        raise DataError(folder, "no article<ID>.txt files")
    for file in files:
        counts.rows_read += 1
        article_id = file.stem.removeprefix("article")
        if article_id not in gold:
            raise DataError(file, f"article {article_id} has no line in {labels_path}")
        try:
            text = file.read_text(encoding="utf-8-sig").strip()
        except UnicodeDecodeError:
            raise DataError(file, "not UTF-8 text") from None
        if not text:
            counts.drop("empty_text")
            continue
        title = text.splitlines()[0].strip()
        rows.append(
            {"id": article_id, "article_id": article_id, "text": text, "labels": gold[article_id][1], "title": title}
        )
    orphans = sorted(
        (line, article_id)
        for article_id, (line, _) in gold.items()
        if not (folder / f"article{article_id}.txt").is_file()
    )
    if orphans:
        line, article_id = orphans[0]
        raise DataError(labels_path, f"article {article_id} has no file article{article_id}.txt in {folder}", line)
    counts.rows_kept = len(rows)
    return make_frame(rows, ["title"]), counts
