"""Units of real news text, addressed by stable ids so that annotations never carry the text itself.

The project's real-text annotations (``data/framing_real/``) hold only a unit id,
a hash of the text and labels. This module turns the user's copy of the public
datasets (``FRAMING_DATASETS``, default ``../shared/datasets``) into those units
and back, so that a row is rebuilt exactly or refused with the reason:

- PTC (SemEval-2020 Task 11) articles: one paragraph per non-blank line, id
  ``ptc:<article>:<start>-<end>`` (character offsets in the article file);
- BABE SG2: one sentence per row, id ``babe:<row>`` (1-based data row of
  ``final_labels_SG2.csv``);
- Ukraine-crisis news bias: one sentence, id ``ukraine:<article_N>:<sent_id>``;
- MBIC source articles (2019-2020, eight US outlets): one paragraph per non-blank
  line of the ``article`` column, id ``mbic:<row>:<line>`` (the first 1-based
  data row of ``final_labels_MBIC.xlsx`` that carries the article, and the
  index of the line among its non-blank lines).

BABE and MBIC sentences come from the same articles, so an MBIC paragraph's
article is keyed like a BABE sentence's, ``babe:<news link>``: a split or a
bootstrap that groups by article keeps both together.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from framing.errors import DataError

DEFAULT_DATASETS = Path("../shared/datasets")
PTC_FOLDERS = ("train-articles", "dev-articles", "unlabelled-articles")


@dataclass(frozen=True)
class TextUnit:
    """One paragraph or sentence of a public dataset, with where it came from."""

    unit_id: str
    source: str
    article_id: str
    text: str

    @property
    def text_hash(self) -> str:
        return text_hash(self.text)


def text_hash(text: str) -> str:
    """First 16 hex digits of the SHA-256 of the text: enough to catch any edit, useless to recover it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def datasets_root(path: str | Path | None = None) -> Path:
    """The folder holding the public datasets: ``path``, else ``$FRAMING_DATASETS``, else ``../shared/datasets``."""
    root = Path(path or os.environ.get("FRAMING_DATASETS") or DEFAULT_DATASETS)
    if not root.is_dir():
        raise DataError(
            root,
            "public datasets folder not found; set FRAMING_DATASETS to the folder holding "
            "ptc-semeval2020/, babe/, ukraine-news-bias/ and mbic/",
        )
    return root


def ptc_paragraphs(root: Path, folders: tuple[str, ...] = PTC_FOLDERS[:2]) -> Iterator[TextUnit]:
    """Every non-blank line of every PTC article in ``folders``: the corpus's paragraphs, title first."""
    for folder in folders:
        directory = root / "ptc-semeval2020" / folder
        if not directory.is_dir():
            raise DataError(directory, "PTC article folder not found")
        for path in sorted(directory.glob("article*.txt")):
            yield from _article_lines(path, folder)


def _article_lines(path: Path, folder: str) -> Iterator[TextUnit]:
    article = path.stem.removeprefix("article")
    text = path.read_text(encoding="utf-8")
    start = 0
    for line in text.split("\n"):
        end = start + len(line)
        stripped = line.strip()
        if stripped:
            offset = start + (len(line) - len(line.lstrip()))
            yield TextUnit(
                f"ptc:{article}:{offset}-{offset + len(stripped)}", f"ptc/{folder}", f"ptc:{article}", stripped
            )
        start = end + 1


def babe_sentences(root: Path) -> Iterator[TextUnit]:
    """BABE SG2 sentences, one per data row; the article is the sentence's link."""
    path = root / "babe" / "final_labels_SG2.csv"
    if not path.is_file():
        raise DataError(path, "BABE SG2 CSV not found")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row_number, row in enumerate(csv.DictReader(handle, delimiter=";"), start=1):
            text = (row.get("text") or "").strip()
            if text:
                link = row.get("news_link") or f"row{row_number}"
                yield TextUnit(f"babe:{row_number}", "babe", f"babe:{link}", text)


def ukraine_sentences(root: Path) -> Iterator[TextUnit]:
    """Ukraine-crisis sentences in article order."""
    directory = root / "ukraine-news-bias" / "json"
    if not directory.is_dir():
        raise DataError(directory, "Ukraine news-bias json/ folder not found")
    files = sorted(directory.glob("article_*.json"), key=lambda p: int(p.stem.split("_")[-1]))
    for path in files:
        article = json.loads(path.read_text(encoding="utf-8"))
        for sentence in article.get("sentences", []):
            text = str(sentence.get("content", "")).strip()
            if text:
                yield TextUnit(f"ukraine:{path.stem}:{sentence['id']}", "ukraine", f"ukraine:{path.stem}", text)


def mbic_paragraphs(root: Path) -> Iterator[TextUnit]:
    """Every non-blank line of every distinct source article of MBIC, in data-row order."""
    import pandas as pd

    path = root / "mbic" / "final_labels_MBIC.xlsx"
    if not path.is_file():
        raise DataError(path, "MBIC final_labels_MBIC.xlsx not found")
    with warnings.catch_warnings():  # the workbook carries an extension openpyxl skips; the cells read fine
        warnings.filterwarnings("ignore", message="Unknown extension is not supported", category=UserWarning)
        frame = pd.read_excel(path, usecols=["news_link", "article"], dtype=str)
    seen: set[str] = set()
    for index, row in enumerate(frame.itertuples(index=False)):
        article = row.article if isinstance(row.article, str) else ""
        if not article.strip() or article in seen:
            continue
        seen.add(article)
        link = row.news_link if isinstance(row.news_link, str) else f"mbic-row{index + 1}"
        lines = [line.strip() for line in article.split("\n") if line.strip()]
        for number, line in enumerate(lines):
            yield TextUnit(f"mbic:{index + 1}:{number}", "mbic", f"babe:{link}", line)


def all_units(root: Path) -> Iterator[TextUnit]:
    """Every unit the real-text annotations can refer to (PTC labelled and dev articles, BABE, Ukraine, MBIC)."""
    yield from ptc_paragraphs(root)
    yield from babe_sentences(root)
    yield from ukraine_sentences(root)
    yield from mbic_paragraphs(root)


# The sources whose units are found by reading the whole dataset (PTC is read by offset instead).
_READ_WHOLE: dict[str, Callable[[Path], Iterator[TextUnit]]] = {
    "babe": babe_sentences,
    "ukraine": ukraine_sentences,
    "mbic": mbic_paragraphs,
}


def resolve_units(unit_ids: list[str], root: Path) -> dict[str, TextUnit]:
    """The units named by ``unit_ids``, reading only the files they live in.

    Unknown prefixes, missing files and offsets outside an article raise
    ``DataError`` naming the unit, so a damaged or different copy of a dataset
    is refused instead of silently training on other text.
    """
    found: dict[str, TextUnit] = {}
    by_source: dict[str, list[str]] = {}
    for unit_id in unit_ids:
        by_source.setdefault(unit_id.split(":", 1)[0], []).append(unit_id)
    sources = ["ptc", *_READ_WHOLE]
    unknown = sorted(set(by_source) - set(sources))
    if unknown:
        expected = ", ".join(f"{source}:" for source in sources[:-1]) + f" or {sources[-1]}:"
        raise DataError(root, f"unknown unit source(s) {unknown}; expected {expected} ids")
    if "ptc" in by_source:
        found |= _resolve_ptc(by_source["ptc"], root)
    for source, read in _READ_WHOLE.items():
        if source in by_source:
            wanted = set(by_source[source])
            found |= {u.unit_id: u for u in read(root) if u.unit_id in wanted}
    return found


def _resolve_ptc(unit_ids: list[str], root: Path) -> dict[str, TextUnit]:
    folders: dict[str, tuple[Path, str]] = {}
    for folder in PTC_FOLDERS:
        directory = root / "ptc-semeval2020" / folder
        if directory.is_dir():
            folders |= {p.stem.removeprefix("article"): (p, folder) for p in directory.glob("article*.txt")}
    found: dict[str, TextUnit] = {}
    texts: dict[str, str] = {}
    for unit_id in unit_ids:
        try:
            _, article, span = unit_id.split(":")
            start, end = (int(x) for x in span.split("-"))
        except ValueError:
            raise DataError(root, f"malformed PTC unit id {unit_id!r}; expected ptc:<article>:<start>-<end>") from None
        if article not in folders:
            continue
        path, folder = folders[article]
        if article not in texts:
            texts[article] = path.read_text(encoding="utf-8")
        text = texts[article][start:end]
        if text:
            found[unit_id] = TextUnit(unit_id, f"ptc/{folder}", f"ptc:{article}", text)
    return found
