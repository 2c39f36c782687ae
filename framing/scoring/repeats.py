"""Score a paragraph that repeats in a corpus once: wire copy, boilerplate and syndicated stories recur.

News archives hold the same paragraph many times: the agency story every
outlet runs, the sign-off and the subscription line under each article. The
model gives a paragraph the same output wherever it stands, so a scoring run
keeps the output of the paragraphs it scored last (least recently used out,
``capacity`` at most, keyed by a 128-bit hash of the text and the evidence
size) and reuses it for a repeat. Memory stays bounded; the output is the same
as scoring every copy.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from framing.package import Predictor


def _key(text: str, k: int) -> tuple[int, bytes]:
    return k, hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class RepeatedParagraphs:
    """``predict_with_evidence`` that scores each distinct paragraph once while it is remembered."""

    def __init__(self, predictor: Predictor, capacity: int) -> None:
        self.predictor = predictor
        self.capacity = capacity
        self._rows: OrderedDict[tuple[int, bytes], dict[str, Any]] = OrderedDict()
        self._columns: list[str] | None = None
        self.scored = 0  # paragraphs the model scored
        self.reused = 0  # paragraphs answered from memory

    def predict_with_evidence(self, texts: list[str], k: int) -> pd.DataFrame:
        """The predictor's output for ``texts``, in order, each distinct text scored once."""
        if self.capacity <= 0:
            self.scored += len(texts)
            return self.predictor.predict_with_evidence(texts, k=k)
        keys = [_key(text, k) for text in texts]
        batch: dict[tuple[int, bytes], dict[str, Any]] = {}
        missing: dict[tuple[int, bytes], str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key in self._rows:
                self._rows.move_to_end(key)
                batch[key] = self._rows[key]
            elif key not in missing:
                missing[key] = text
        if missing:
            scored = self.predictor.predict_with_evidence(list(missing.values()), k=k)
            self._columns = list(scored.columns)
            for key, row in zip(missing, scored.to_dict("records"), strict=True):
                batch[key] = row
                self._remember(key, row)
        self.scored += len(missing)
        self.reused += len(texts) - len(missing)
        if self._columns is None:  # an empty first batch
            return self.predictor.predict_with_evidence([], k=k)
        return pd.DataFrame.from_records([batch[key] for key in keys], columns=self._columns)

    def _remember(self, key: tuple[int, bytes], row: dict[str, Any]) -> None:
        self._rows[key] = row
        if len(self._rows) > self.capacity:
            self._rows.popitem(last=False)
