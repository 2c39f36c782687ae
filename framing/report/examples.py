"""Examples for the report: per label, the flagged paragraphs the model was surest of, evidence highlighted.

A share says how often; an example says what the model is counting. For each
label the report shows the ``k`` flagged paragraphs with the highest
probability (body paragraphs only, as the shares), with the words of the
evidence behind the label (the n-grams ``framing predict`` wrote in its
``evidence`` column, with their weight where the model gives one) marked in
the text. The scores are read once more, in chunks, keeping only ``k`` rows
per label, so memory does not grow with the corpus.
"""

from __future__ import annotations

import heapq
import html
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

EXAMPLES = 3
_TEXT_LIMIT = 1200  # characters of a paragraph shown


@dataclass(order=True)
class Example:
    """One flagged paragraph: ordered by probability (then key), so a heap keeps the top ``k``."""

    probability: float
    key: tuple[str, int] = field(compare=True)
    text: str = field(compare=False, default="")
    evidence: list[tuple[str, float | None]] = field(compare=False, default_factory=list)


def evidence_terms(value: Any, label: str) -> list[tuple[str, float | None]]:
    """(term, weight or None) behind ``label`` from an ``evidence`` cell: a dict or its JSON text,
    each item a term, a ``[term, weight]`` pair or a ``{"term": ..., "weight": ...}`` object."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError:
            return []
    if not isinstance(value, dict):
        return []
    terms: list[tuple[str, float | None]] = []
    for item in value.get(label) or []:
        if isinstance(item, str):
            terms.append((item, None))
        elif isinstance(item, list | tuple) and item:
            weight = item[1] if len(item) > 1 and isinstance(item[1], int | float) else None
            terms.append((str(item[0]), None if weight is None else float(weight)))
        elif isinstance(item, dict) and "term" in item:
            weight = item.get("weight")
            terms.append((str(item["term"]), float(weight) if isinstance(weight, int | float) else None))
    return terms


def top_examples(
    chunks: Iterable[pd.DataFrame], labels: Sequence[str], k: int = EXAMPLES, kinds: Sequence[str] | None = ("body",)
) -> dict[str, list[Example]]:
    """The ``k`` flagged paragraphs with the highest probability per label, best first."""
    heaps: dict[str, list[Example]] = {label: [] for label in labels}
    for chunk in chunks:
        for row in _rows(chunk, kinds):
            for label in row["labels"]:
                if label not in heaps:
                    continue
                example = Example(
                    float(row.get(f"p_{label}", 0.0)),
                    (str(row["article_id"]), int(row.get("paragraph") or 0)),
                    str(row.get("text") or ""),
                    evidence_terms(row.get("evidence"), label),
                )
                heap = heaps[label]
                if len(heap) < k:
                    heapq.heappush(heap, example)
                elif example > heap[0]:
                    heapq.heapreplace(heap, example)
    return {label: sorted(heap, reverse=True) for label, heap in heaps.items()}


def _rows(chunk: pd.DataFrame, kinds: Sequence[str] | None) -> Iterator[dict[str, Any]]:
    for row in chunk.to_dict(orient="records"):
        if kinds is not None and str(row.get("kind") or "body") not in kinds:
            continue
        labels = row.get("labels")
        if isinstance(labels, str):
            try:
                labels = json.loads(labels) if labels.strip() else []
            except json.JSONDecodeError:
                labels = []
        row["labels"] = [str(label) for label in (labels if labels is not None else [])]
        yield row


def weight_text(weight: float) -> str:
    """A weight as shown: signed, three significant digits (saliency scores can be far below 0.01)."""
    return f"{weight:+.3g}"


def highlight(text: str, terms: Sequence[tuple[str, float | None]]) -> str:
    """The paragraph as escaped HTML with every word of the evidence terms marked (whole words, any case).

    A word of a weighted term carries the largest such weight as its title, so
    hovering over it tells how much it counted.
    """
    shown = text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"
    weights: dict[str, float | None] = {}
    for term, weight in terms:
        for word in re.findall(r"\w+", term):
            if len(word) <= 1:
                continue
            known = weights.get(word.lower())
            if known is None or (weight is not None and weight > known):
                weights[word.lower()] = weight
    if not weights:
        return html.escape(shown)
    words = sorted(weights, key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)
    parts, last = [], 0
    for match in pattern.finditer(shown):
        weight = weights.get(match.group(0).lower())
        title = "" if weight is None else f' title="weight {weight_text(weight)}"'
        parts.append(html.escape(shown[last : match.start()]))
        parts.append(f"<mark{title}>{html.escape(match.group(0))}</mark>")
        last = match.end()
    parts.append(html.escape(shown[last:]))
    return "".join(parts)


def examples_html(examples: dict[str, list[Example]]) -> list[str]:
    """The report's examples section: per label, each paragraph with its probability and evidence."""
    if not any(examples.values()):
        return []
    parts = [
        "<h2>Examples</h2>",
        '<p class="note">Per label, the flagged body paragraphs the model was surest of; '
        "<mark>marked</mark> words are the evidence behind the label (with its weight where the model gives one).</p>",
    ]
    for label, items in examples.items():
        if not items:
            continue
        parts.append(f"<h3>{html.escape(label)}</h3>")
        for example in items:
            terms = ", ".join(
                html.escape(term) + ("" if weight is None else f" ({weight_text(weight)})")
                for term, weight in example.evidence
            )
            article, paragraph = example.key
            parts.append(
                f'<blockquote><p>{highlight(example.text, example.evidence)}</p><p class="note">'
                f"{html.escape(article)}, paragraph {paragraph}; p = {example.probability:.2f}"
                + (f"; evidence: {terms}" if terms else "")
                + "</p></blockquote>"
            )
    return parts


__all__ = ["EXAMPLES", "Example", "evidence_terms", "examples_html", "highlight", "top_examples", "weight_text"]
