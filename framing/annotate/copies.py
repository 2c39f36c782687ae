"""Exact and near copies of paragraphs already labelled or already sampled.

Labelling a paragraph twice (a wire story reprinted by ten outlets, a
navigation line on every page) wastes annotators' time and double-counts it
in estimates. "Exact" means the same normalised text (``framing.data.dedup``);
"near" means a character 4-gram TF-IDF cosine of at least the threshold, the
definition the duplicate check between splits uses. The vectoriser is fitted
on the excluded paragraphs and a bounded random subset of the corpus, and
corpus paragraphs are vectorised in chunks, so memory stays bounded on large
corpora.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from framing.data.dedup import normalise_text, similarity_vectorizer

FIT_ROWS = 20_000
CHUNK_ROWS = 5_000


class CopyFilter:
    """Remembers accepted and excluded paragraphs; says whether a new one copies any of them."""

    def __init__(self, corpus: Sequence[str], excluded: Sequence[str], threshold: float, seed: int) -> None:
        rng = np.random.default_rng(seed)
        fit_rows = rng.choice(len(corpus), size=min(len(corpus), FIT_ROWS), replace=False).tolist() if corpus else []
        self.threshold = threshold
        self.vectorizer = similarity_vectorizer([corpus[i] for i in sorted(fit_rows)] + list(excluded) or [""])
        self.keys = {normalise_text(t) for t in excluded} - {""}
        self.excluded = self._vectors(excluded)
        self.accepted: list[Any] = []

    def _vectors(self, texts: Sequence[str]) -> Any:
        if not texts:
            from scipy.sparse import csr_matrix

            return csr_matrix((0, len(self.vectorizer.vocabulary_)))
        return self.vectorizer.transform([normalise_text(t) for t in texts])

    def near_excluded(self, texts: Sequence[str]) -> np.ndarray:
        """For each text, whether it is an exact or near copy of an excluded paragraph (chunked)."""
        flags = np.array([normalise_text(t) in self.keys for t in texts], dtype=bool)
        if self.excluded.shape[0] == 0:
            return flags
        for start in range(0, len(texts), CHUNK_ROWS):
            block = self._vectors(texts[start : start + CHUNK_ROWS]) @ self.excluded.T
            flags[start : start + CHUNK_ROWS] |= np.asarray(block.max(axis=1).todense()).ravel() >= self.threshold
        return flags

    def is_copy(self, text: str) -> bool:
        """Whether ``text`` copies an accepted (or excluded) paragraph."""
        key = normalise_text(text)
        if not key or key in self.keys:
            return bool(key)
        if not self.accepted:
            return False
        from scipy.sparse import vstack

        vector = self._vectors([text])
        if len(self.accepted) > 1:
            self.accepted = [vstack(self.accepted).tocsr()]
        return bool((self.accepted[0] @ vector.T).max() >= self.threshold)

    def add(self, text: str) -> None:
        self.keys.add(normalise_text(text))
        self.accepted.append(self._vectors([text]))


def read_texts(path: Any) -> list[str]:
    """Paragraph texts to exclude: Label Studio tasks or exports (``data.text``), or a table with ``text``."""
    import json
    from pathlib import Path

    from framing.data.readers import read_records
    from framing.errors import DataError

    path = Path(path)
    if not path.exists():
        raise DataError(path, "not found")
    if path.suffix.lower() == ".json":
        try:
            tasks = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, json.JSONDecodeError) as exc:
            raise DataError(path, f"unreadable JSON: {exc}") from None
        if not isinstance(tasks, list):
            raise DataError(path, "expected a list of Label Studio tasks")
        return [str((t.get("data") or t).get("text", "")) for t in tasks if isinstance(t, dict)]
    texts = []
    for row, record in read_records(path):
        if "text" not in record:
            raise DataError(path, "no 'text' column", row)
        texts.append(str(record["text"]))
    return texts
