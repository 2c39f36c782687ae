"""Score a corpus in fixed-size batches and summarise the flags per label.

Memory is bounded by ``batch_size`` paragraphs: the source streams, each
batch is scored and written, then dropped. The summary counts are kept
incrementally, so they cost nothing extra.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from framing.package import Predictor
from framing.scoring.sinks import AtomicSink
from framing.scoring.sources import ParagraphRecord, Rejects, SourceOptions, iter_paragraphs


@dataclass
class ScoringSummary:
    """Counts for the console and for callers."""

    labels: list[str]
    paragraphs: int = 0
    articles: int = 0
    flagged: dict[str, int] = field(default_factory=dict)
    rejects: dict[str, int] = field(default_factory=dict)
    rejects_path: Path | None = None

    def table(self) -> str:
        lines = [f"{'label':<22}{'paragraphs':>12}{'share':>9}"]
        for label in self.labels:
            count = self.flagged.get(label, 0)
            share = count / self.paragraphs if self.paragraphs else 0.0
            lines.append(f"{label:<22}{count:>12}{share:>9.1%}")
        lines.append(f"scored {self.paragraphs} paragraphs from {self.articles} articles")
        if self.rejects:
            reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(self.rejects.items()))
            lines.append(f"rejected: {reasons} (see {self.rejects_path})")
        return "\n".join(lines)


def _batches(records: Iterable[ParagraphRecord], size: int) -> Iterator[list[ParagraphRecord]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def score_corpus(
    predictor: Predictor,
    input_path: Path,
    output_path: Path,
    options: SourceOptions | None = None,
    batch_size: int = 256,
    evidence_k: int = 5,
    progress: bool = True,
) -> ScoringSummary:
    """Score every paragraph of ``input_path`` into ``output_path`` (format from its extension)."""
    rejects = Rejects()
    records = iter_paragraphs(input_path, options or SourceOptions(), rejects)
    summary = ScoringSummary(labels=predictor.labels)
    seen_articles: set[str] = set()
    with AtomicSink(output_path) as sink, tqdm(unit=" paragraphs", disable=not progress, desc="scoring") as bar:
        for batch in _batches(records, batch_size):
            scored = predictor.predict_with_evidence([r["text"] for r in batch], k=evidence_k)
            frame = pd.concat([pd.DataFrame.from_records(batch), scored], axis=1)
            base = ["article_id", "paragraph", "text", "labels"]
            probability_columns = [f"p_{label}" for label in predictor.labels]
            metadata = [c for c in frame.columns if c not in base + probability_columns + ["evidence"]]
            sink.write(frame[base + probability_columns + ["evidence"] + metadata])
            for labels in scored["labels"]:
                for label in labels:
                    summary.flagged[label] = summary.flagged.get(label, 0) + 1
            seen_articles.update(r["article_id"] for r in batch)
            summary.paragraphs += len(batch)
            bar.update(len(batch))
    summary.articles = len(seen_articles)
    summary.rejects = rejects.counts()
    if rejects.items:
        summary.rejects_path = output_path.with_name(output_path.name + ".rejects.jsonl")
        with open(summary.rejects_path, "w", encoding="utf-8") as handle:
            for item in rejects.items:
                handle.write(json.dumps(item) + "\n")
    return summary
