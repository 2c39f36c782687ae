"""De-duplication by normalised text, across splits and across datasets, with a report.

Public bias datasets overlap heavily (MBIC's 1,700 sentences are BABE SG1's,
and nearly all of them are in BABE SG2): training on one and testing on
another without removing shared sentences measures memory, not skill. Texts
are compared after lowercasing, stripping punctuation and collapsing
whitespace, so quoting and spacing differences do not hide a duplicate. The
first occurrence (in the order the sources are given) is kept; every removal is
counted per source in the returned report, never silently.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

_NON_WORD = re.compile(r"[\W_]+")


def normalise_text(text: str) -> str:
    """Lower-case, accents folded, punctuation and repeated spaces removed: the key that spots copies.

    Accents are removed by dropping combining marks after NFKD, not by encoding to
    ASCII, so Cyrillic or Arabic text keeps its letters and is still compared.
    """
    decomposed = unicodedata.normalize("NFKD", str(text).lower())
    folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_NON_WORD.sub(" ", folded).split())


def similarity_vectorizer(texts: Sequence[str]) -> Any:
    """Character 4-gram TF-IDF fitted on ``texts`` (normalised): what "near copy" means everywhere in the project.

    Split checks, copy-aware groups and the annotation sampler's copy filter all
    compare paragraphs as cosines of these vectors.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(4, 4), sublinear_tf=True)
    return vectorizer.fit([normalise_text(t) for t in texts])


@dataclass
class DedupReport:
    """Rows removed per source: ``within`` the source itself, ``across`` from a source given earlier."""

    kept: dict[str, int] = field(default_factory=dict)
    within: Counter[str] = field(default_factory=Counter)
    across: dict[str, Counter[str]] = field(default_factory=dict)

    def removed(self, source: str) -> int:
        """All rows removed from ``source``."""
        return self.within[source] + sum(self.across.get(source, Counter()).values())

    @property
    def total_removed(self) -> int:
        return sum(self.removed(source) for source in self.kept)

    def summary(self) -> list[str]:
        """One line per source, for logs and reports."""
        lines = []
        for source, kept in self.kept.items():
            earlier = ", ".join(f"{other}={n}" for other, n in sorted(self.across.get(source, Counter()).items()))
            lines.append(
                f"{source}: kept {kept}, removed {self.removed(source)} "
                f"(within {self.within[source]}; already in: {earlier or 'none'})"
            )
        return lines


def deduplicate(
    frames: Mapping[str, pd.DataFrame], text_column: str = "text"
) -> tuple[dict[str, pd.DataFrame], DedupReport]:
    """Drop rows whose normalised text was seen before, in source order; return the frames and the report.

    Give the sources in priority order (e.g. ``{"test": ..., "validation": ..., "train": ...}`` keeps
    the evaluation sets whole and removes their sentences from training). A text that normalises to
    nothing (only punctuation) is never treated as a duplicate.
    """
    seen: dict[str, str] = {}
    report = DedupReport()
    result: dict[str, pd.DataFrame] = {}
    for source, frame in frames.items():
        if text_column not in frame.columns:
            raise KeyError(f"{source}: no column {text_column!r}")
        keep: list[bool] = []
        local: set[str] = set()
        across: Counter[str] = Counter()
        for text in frame[text_column]:
            key = normalise_text(text)
            if not key:
                keep.append(True)
            elif key in local:
                report.within[source] += 1
                keep.append(False)
            elif key in seen:
                across[seen[key]] += 1
                keep.append(False)
            else:
                local.add(key)
                keep.append(True)
        for key in local:
            seen[key] = source
        report.across[source] = across
        result[source] = frame.loc[keep].reset_index(drop=True)
        report.kept[source] = len(result[source])
    return result, report
