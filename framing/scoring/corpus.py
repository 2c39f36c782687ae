"""Score a corpus in parts: bounded memory, resumable after a kill, exactly once.

Paragraphs are read in a fixed order and numbered; part ``i`` holds paragraphs
``[i * part_size, (i + 1) * part_size)`` and is written under a temporary name,
then renamed, so a part file either exists whole or not at all. A rerun of the
same command skips the parts that exist (reading, not scoring, their
paragraphs) and writes the rest, so every paragraph lands in exactly one part.
Rejects travel with the part during which they were read, for the same reason.

Output is a folder of parts (``part-00000.parquet`` ..., ``_manifest.json``),
or, when the output names a file, parts in a hidden work folder merged into
that file at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from framing.errors import FramingError
from framing.package import Predictor
from framing.scoring.manifest import Manifest, ResumeMismatch
from framing.scoring.sinks import FORMATS, AtomicSink
from framing.scoring.sources import (
    ParagraphRecord,
    Reject,
    RejectCounts,
    SourceOptions,
    count_articles,
    input_fingerprint,
    iter_source,
)

MANIFEST = "_manifest.json"


@dataclass(frozen=True)
class ScoringOptions:
    """How a scoring run batches, splits and writes its output."""

    batch_size: int = 256
    part_size: int = 20_000
    evidence_k: int = 5
    limit: int | None = None
    folder_format: str = "parquet"
    overwrite: bool = False
    progress: bool = True


@dataclass
class ScoringSummary:
    """Counts for the console and for callers."""

    labels: list[str]
    paragraphs: int = 0
    articles: int = 0
    flagged: dict[str, int] = field(default_factory=dict)
    rejects: dict[str, int] = field(default_factory=dict)
    output: Path | None = None
    rejects_path: Path | None = None
    resumed_parts: int = 0

    def table(self) -> str:
        lines = [f"{'label':<22}{'paragraphs':>12}{'share':>9}"]
        for label in self.labels:
            count = self.flagged.get(label, 0)
            share = count / self.paragraphs if self.paragraphs else 0.0
            lines.append(f"{label:<22}{count:>12}{share:>9.1%}")
        lines.append(f"scored {self.paragraphs} paragraphs from {self.articles} articles")
        if self.resumed_parts:
            lines.append(f"resumed: {self.resumed_parts} part(s) were already done")
        if self.rejects:
            reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(self.rejects.items()))
            lines.append(f"rejected: {reasons} (see {self.rejects_path})")
        return "\n".join(lines)


class _Layout:
    """Where parts, rejects and the manifest go for a file or folder output."""

    def __init__(self, output: Path, folder_format: str) -> None:
        self.output = output
        self.single_file = output.suffix.lower() in FORMATS
        self.format = FORMATS[output.suffix.lower()] if self.single_file else folder_format
        self.work = output.with_name(f".{output.name}.parts") if self.single_file else output
        self.manifest = output.with_name(output.name + ".manifest.json") if self.single_file else output / MANIFEST
        self.work_manifest = self.work / MANIFEST

    def part(self, index: int) -> Path:
        return self.work / f"part-{index:05d}.{self.format}"

    def rejects(self, index: int) -> Path:
        return self.work / f"rejects-{index:05d}.jsonl"

    @property
    def rejects_file(self) -> Path:
        return (
            self.output.with_name(self.output.name + ".rejects.jsonl")
            if self.single_file
            else self.work / "rejects.jsonl"
        )


def _write_rejects(path: Path, rejects: list[Reject]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(r.to_dict()) + "\n" for r in rejects), encoding="utf-8")
    os.replace(tmp, path)


def _part_counts(frame_labels: list[list[str]], article_ids: list[str], rejects: list[Reject]) -> dict[str, Any]:
    flagged: dict[str, int] = {}
    for labels in frame_labels:
        for label in labels:
            flagged[label] = flagged.get(label, 0) + 1
    starts = sum(1 for i, a in enumerate(article_ids) if i == 0 or a != article_ids[i - 1])
    reasons = RejectCounts()
    for reject in rejects:
        reasons.add(reject.reason)
    return {
        "paragraphs": len(article_ids),
        "flagged": flagged,
        "article_starts": starts,
        "rejects": reasons.counts,
        "first_article": article_ids[0] if article_ids else None,
        "last_article": article_ids[-1] if article_ids else None,
    }


def _read_part_counts(path: Path, format_: str, rejects_path: Path) -> dict[str, Any]:
    """Counts of a part written before a kill that came before its manifest update."""
    if format_ == "parquet":
        frame = pd.read_parquet(path, columns=["article_id", "labels"]) if path.stat().st_size else pd.DataFrame()
    elif format_ == "jsonl":
        frame = pd.read_json(path, lines=True) if path.stat().st_size else pd.DataFrame()
    else:
        frame = pd.read_csv(path) if path.stat().st_size else pd.DataFrame()
        if len(frame):
            frame["labels"] = frame["labels"].map(json.loads)
    rejects = []
    if rejects_path.is_file():
        rejects = [Reject(**json.loads(line)) for line in rejects_path.read_text(encoding="utf-8").splitlines()]
    if frame.empty:
        return _part_counts([], [], rejects)
    return _part_counts([list(x) for x in frame["labels"]], frame["article_id"].astype(str).tolist(), rejects)


class _PartWriter:
    """Scores one part batch by batch into an atomic sink."""

    def __init__(self, predictor: Predictor, path: Path, options: ScoringOptions) -> None:
        self.predictor = predictor
        self.options = options
        self.sink = AtomicSink(path)
        self.batch: list[ParagraphRecord] = []
        self.labels: list[list[str]] = []
        self.article_ids: list[str] = []

    def add(self, record: ParagraphRecord) -> None:
        self.batch.append(record)
        if len(self.batch) >= self.options.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        scored = self.predictor.predict_with_evidence([r["text"] for r in self.batch], k=self.options.evidence_k)
        frame = pd.concat([pd.DataFrame.from_records(self.batch), scored], axis=1)
        base = ["article_id", "paragraph", "text", "labels"]
        probabilities = [f"p_{label}" for label in self.predictor.labels]
        metadata = [c for c in frame.columns if c not in [*base, *probabilities, "evidence"]]
        self.sink.write(frame[[*base, *probabilities, "evidence", *metadata]])
        self.labels.extend(scored["labels"])
        self.article_ids.extend(str(r["article_id"]) for r in self.batch)
        self.batch = []

    def commit(self) -> None:
        self.flush()
        self.sink.commit()

    def abort(self) -> None:
        self.sink.abort()


def _numbered(items: Iterator[ParagraphRecord | Reject], limit: int | None) -> Iterator[ParagraphRecord | Reject]:
    seen = 0
    for item in items:
        if isinstance(item, Reject):
            yield item
            continue
        if limit is not None and seen >= limit:
            return
        seen += 1
        yield item


def _merge_parts(layout: _Layout, names: list[str]) -> None:
    """Concatenate parts into the single output file, streaming, atomically."""
    partial = layout.output.with_name(f".{layout.output.name}.partial")
    if layout.format == "parquet":
        import pyarrow.parquet as pq

        writer = None
        try:
            for name in names:
                part = layout.work / name
                if not part.stat().st_size:
                    continue
                parquet = pq.ParquetFile(part)
                if parquet.metadata.num_rows == 0:
                    continue
                for batch in parquet.iter_batches():
                    if writer is None:
                        writer = pq.ParquetWriter(partial, batch.schema)
                    writer.write_batch(batch.cast(writer.schema))
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            import pyarrow as pa

            pq.write_table(pa.table({}), partial)  # every part was empty
    else:
        with open(partial, "wb") as out:
            header_written = False
            for name in names:
                with open(layout.work / name, "rb") as handle:
                    if layout.format == "csv":
                        header = handle.readline()
                        if not header:
                            continue
                        if not header_written:
                            out.write(header)
                            header_written = True
                    shutil.copyfileobj(handle, out)
    os.replace(partial, layout.output)


def _prepare(layout: _Layout, manifest: Manifest, overwrite: bool) -> Manifest:
    """Start, continue or refuse, depending on what is already at the output."""
    existing = Manifest.load(layout.work_manifest) or Manifest.load(layout.manifest)
    if overwrite:
        shutil.rmtree(layout.work, ignore_errors=True)
        if layout.single_file:
            for path in (layout.output, layout.manifest, layout.rejects_file):
                path.unlink(missing_ok=True)
        existing = None
    if existing is None:
        occupied = (
            layout.output.is_file() if layout.single_file else layout.output.is_dir() and any(layout.output.iterdir())
        )
        if occupied:
            raise ResumeMismatch(
                f"{layout.output} exists and was not written by a scoring run; use another --output or --overwrite"
            )
        layout.work.mkdir(parents=True, exist_ok=True)
        manifest.save(layout.work_manifest)
        return manifest
    existing.check_same_run(manifest, layout.manifest if existing.complete else layout.work_manifest)
    return existing


def score_corpus(
    predictor: Predictor,
    model_uri: str,
    input_path: Path,
    output_path: Path,
    source: SourceOptions | None = None,
    options: ScoringOptions | None = None,
) -> ScoringSummary:
    """Score every paragraph of ``input_path`` into ``output_path``; resumes an interrupted run."""
    source = source or SourceOptions()
    options = options or ScoringOptions()
    layout = _Layout(output_path, options.folder_format)
    settings = {
        "source": source.__dict__,
        "part_size": options.part_size,
        "limit": options.limit,
        "evidence_k": options.evidence_k,
        "format": layout.format,
    }
    wanted = Manifest(
        model_uri=model_uri,
        model_fingerprint=predictor.fingerprint(),
        input_path=str(input_path),
        input_fingerprint=input_fingerprint(input_path, source),
        settings=settings,
    )
    manifest = _prepare(layout, wanted, options.overwrite)
    summary = ScoringSummary(labels=predictor.labels, output=output_path)
    if not manifest.complete:
        summary.resumed_parts = _run_parts(predictor, input_path, layout, manifest, source, options)
    return _finish(layout, manifest, summary)


def _run_parts(
    predictor: Predictor,
    input_path: Path,
    layout: _Layout,
    manifest: Manifest,
    source: SourceOptions,
    options: ScoringOptions,
) -> int:
    """Write every missing part; returns how many parts were already done."""
    total = count_articles(input_path)
    bar = tqdm(total=total, unit=" articles", disable=not options.progress, desc="scoring")
    pending: list[Reject] = []
    index, in_part, resumed = 0, 0, 0
    writer: _PartWriter | None = None
    last_article: str | None = None
    started, scored = time.perf_counter(), 0

    def close_part() -> None:
        nonlocal writer, pending, index, in_part, resumed
        name = layout.part(index).name
        if writer is not None:
            writer.commit()
            _write_rejects(layout.rejects(index), pending)
            manifest.parts[name] = _part_counts(writer.labels, writer.article_ids, pending)
            manifest.save(layout.work_manifest)
        elif name not in manifest.parts:  # written, then killed before the manifest was saved
            manifest.parts[name] = _read_part_counts(layout.part(index), layout.format, layout.rejects(index))
            manifest.save(layout.work_manifest)
            resumed += 1
        else:
            resumed += 1
        writer, pending, in_part = None, [], 0
        index += 1

    try:
        for item in _numbered(iter_source(input_path, source), options.limit):
            if isinstance(item, Reject):
                pending.append(item)
                continue
            if item["article_id"] != last_article:
                bar.update(1)
                last_article = item["article_id"]
            if in_part == 0 and not layout.part(index).exists():
                writer = _PartWriter(predictor, layout.part(index), options)
            if writer is not None:
                writer.add(item)
                scored += 1
                if scored % options.batch_size == 0:
                    bar.set_postfix(paragraphs_per_s=f"{scored / (time.perf_counter() - started):.0f}")
            in_part += 1
            if in_part == options.part_size:
                close_part()
        if in_part or pending:
            if in_part == 0 and not layout.part(index).exists():
                writer = _PartWriter(predictor, layout.part(index), options)  # rejects only
            close_part()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        bar.close()
    return resumed


def _finish(layout: _Layout, manifest: Manifest, summary: ScoringSummary) -> ScoringSummary:
    names = sorted(manifest.parts)
    previous_last = None
    for name in names:
        counts = manifest.parts[name]
        summary.paragraphs += counts["paragraphs"]
        summary.articles += counts["article_starts"] - (
            1 if counts["first_article"] is not None and counts["first_article"] == previous_last else 0
        )
        previous_last = counts["last_article"] or previous_last
        for label, n in counts["flagged"].items():
            summary.flagged[label] = summary.flagged.get(label, 0) + n
        for reason, n in counts["rejects"].items():
            summary.rejects[reason] = summary.rejects.get(reason, 0) + n
    if not manifest.complete:
        if layout.single_file:
            _merge_parts(layout, names)
        with open(layout.rejects_file.with_name(layout.rejects_file.name + ".tmp"), "w", encoding="utf-8") as out:
            for name in names:
                rejects = layout.rejects(int(name.split("-")[1].split(".")[0]))
                if rejects.is_file():
                    out.write(rejects.read_text(encoding="utf-8"))
        os.replace(layout.rejects_file.with_name(layout.rejects_file.name + ".tmp"), layout.rejects_file)
        manifest.complete = True
        manifest.save(layout.work_manifest)
        if layout.single_file:
            manifest.save(layout.manifest)
            shutil.rmtree(layout.work)
        else:
            for name in names:
                layout.rejects(int(name.split("-")[1].split(".")[0])).unlink(missing_ok=True)
    if summary.rejects:
        summary.rejects_path = layout.rejects_file
    return summary


__all__ = ["FramingError", "ScoringOptions", "ScoringSummary", "score_corpus"]
