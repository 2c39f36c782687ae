"""Score a corpus in parts: bounded memory, resumable after a kill, exactly once.

Paragraphs are read in a fixed order and numbered; part ``i`` holds paragraphs
``[i * part_size, (i + 1) * part_size)`` and is written under a temporary name,
then renamed, so a part file either exists whole or not at all. A rerun of the
same command skips the parts that exist (reading, not scoring, their
paragraphs) and writes the rest, so every paragraph lands in exactly one part.
Rejects travel with the part during which they were read, for the same reason.

Output is a folder of parts (``part-00000.parquet`` ..., ``_manifest.json``),
or, when the output names a file, parts in a hidden work folder merged into
that file at the end. Before anything is written the guards of
``framing.scoring.guard`` apply: the output may not touch the input, only one
run may hold it, and ``--overwrite`` deletes only what the manifest's run wrote.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from framing.atomic import replaced_whole
from framing.errors import ConfigError, DataError, FramingError
from framing.formats import FORMATS as ALL_FORMATS
from framing.formats import Reject, RejectCounts, read_records, read_rejects, write_rejects
from framing.languages import UNDETERMINED
from framing.models.transformer import ESCALATION_PRECISIONS
from framing.package import Predictor, model_folder
from framing.scoring.guard import (
    OutputError,
    OutputLock,
    check_paths,
    describe_strangers,
    part_pattern,
    strangers,
    write_errors,
)
from framing.scoring.kinds import BODY
from framing.scoring.manifest import Manifest
from framing.scoring.model_files import file_hashes
from framing.scoring.repeats import RepeatedParagraphs
from framing.scoring.sinks import FORMATS, AtomicSink
from framing.scoring.sources import (
    ParagraphRecord,
    SourceOptions,
    check_input,
    count_articles,
    input_fingerprint,
    iter_source,
)

MANIFEST = "_manifest.json"


@dataclass(frozen=True)
class ScoringOptions:
    """How a scoring run batches, splits and writes its output."""

    # Paragraphs per model call. A cascade sends only some of them to the transformer, whose batches
    # need enough rows: on the 400 unlabelled PTC articles (28% escalated) 256 ran at half the
    # transformer's speed; 2,048 took predict.py from 52 to 31 s (47 against 65 with evidence), same
    # decisions, peak RSS 1.1-1.5 GiB either way (benchmarks/README.md).
    batch_size: int = 2048
    part_size: int = 20_000
    evidence_k: int = 5
    limit: int | None = None
    folder_format: str = "parquet"
    overwrite: bool = False
    progress: bool = True
    exact: bool = False  # past a transformer's cascade: every paragraph scored by the transformer
    repeat_cache: int = 50_000  # distinct paragraphs whose output answers their repeats (framing.scoring.repeats)
    precision: str | None = None  # a cascade's escalation precision (auto, fp32, bf16); None: the model's own

    def __post_init__(self) -> None:
        minimums = {"--batch-size": (self.batch_size, 1), "--part-size": (self.part_size, 1)}
        minimums["--evidence"] = (self.evidence_k, 0)
        minimums["--repeat-cache"] = (self.repeat_cache, 0)
        if self.limit is not None:
            minimums["--limit"] = (self.limit, 1)
        for flag, (value, minimum) in minimums.items():
            if value < minimum:
                raise ConfigError(f"{flag} must be at least {minimum}, got {value}")
        if self.precision not in (None, *ESCALATION_PRECISIONS):
            choices = ", ".join(ESCALATION_PRECISIONS)
            raise ConfigError(f"--precision must be one of {choices}, got {self.precision!r}")
        if self.folder_format not in FORMATS.values():
            raise ConfigError(f"--format must be one of {', '.join(FORMATS.values())}, got {self.folder_format!r}")


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
    rescored: str | None = None  # why a finished output was scored again
    languages: dict[str, int] = field(default_factory=dict)  # scored paragraphs per detected language
    kinds: dict[str, int] = field(default_factory=dict)  # scored rows per kind (body, title, caption, ...)

    @property
    def body(self) -> int:
        """Body paragraphs: the rows shares count (all rows for outputs written before kinds existed)."""
        return self.kinds.get("body", 0) if self.kinds else self.paragraphs

    def table(self) -> str:
        lines = [f"{'label':<22}{'paragraphs':>12}{'share':>9}"]
        for label in self.labels:
            count = self.flagged.get(label, 0)
            share = count / self.body if self.body else 0.0
            lines.append(f"{label:<22}{count:>12}{share:>9.1%}")
        lines.append(f"scored {self.paragraphs} paragraphs from {self.articles} articles")
        if self.kinds:
            ordered = sorted(self.kinds.items(), key=lambda item: (-item[1], item[0]))
            lines.append(
                "kinds: " + ", ".join(f"{kind} {n}" for kind, n in ordered) + " (the table counts body paragraphs)"
            )
        if self.languages:
            ordered = sorted(self.languages.items(), key=lambda item: (-item[1], item[0]))
            note = " (und: too short to tell)" if UNDETERMINED in self.languages else ""
            lines.append("languages scored: " + ", ".join(f"{code} {n}" for code, n in ordered) + note)
        if self.rescored:
            lines.append(f"scored again: {self.rescored}")
        if self.resumed_parts:
            lines.append(f"resumed: {self.resumed_parts} part(s) were already done")
        if self.rejects:
            reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(self.rejects.items()))
            lines.append(f"rejected: {reasons} (see {self.rejects_path})")
        return "\n".join(lines)


class _OutputLayout:
    """Where parts, rejects and the manifest go for a file or folder output."""

    def __init__(self, output: Path, folder_format: str) -> None:
        if output.suffix and output.suffix.lower() not in FORMATS and not output.is_dir():
            raise DataError(
                output,
                f"unknown output type {output.suffix!r}: name a .jsonl, .csv or .parquet file, "
                "or a folder without an extension",
            )
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

    @property
    def partial_output(self) -> Path:
        return self.output.with_name(f".{self.output.name}.partial")

    @property
    def root(self) -> Path:
        """The folder that ``Manifest.outputs`` names are relative to."""
        return self.output.parent if self.single_file else self.output

    def side_files(self) -> list[Path]:
        """Files a single-file run writes beside its output, temporary ones included (none for a folder)."""
        if not self.single_file:
            return []
        sides = [self.manifest, self.rejects_file, self.partial_output]
        return [*sides, *(p.with_name(p.name + ".tmp") for p in sides)]

    def side_paths(self) -> list[Path]:
        """Everything beside the output that belongs to the run: its work folder and side files."""
        return [self.work, *self.side_files()] if self.single_file else []

    def occupied(self) -> bool:
        if self.single_file:
            return self.output.exists() or self.work.exists()
        return self.output.exists() and (not self.output.is_dir() or any(self.output.iterdir()))


def _part_counts(
    frame_labels: list[list[str]],
    article_ids: list[str],
    rejects: list[Reject],
    languages: list[str] | None = None,
    kinds: list[str] | None = None,
) -> dict[str, Any]:
    flagged: dict[str, int] = {}
    for index, labels in enumerate(frame_labels):
        if kinds and kinds[index] != BODY:
            continue  # shares and summaries count body paragraphs only
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
        "languages": dict(Counter(languages or [])),
        "kinds": dict(Counter(kinds or [])),
    }


def _read_part_counts(path: Path, rejects_path: Path) -> dict[str, Any]:
    """Counts of a part written before a kill that came before its manifest update."""
    labels, article_ids, languages, kinds = [], [], [], []
    for _, record in read_records(path) if path.stat().st_size else []:
        value = record["labels"]
        labels.append(json.loads(value) if isinstance(value, str) else list(value or []))
        article_ids.append(str(record["article_id"]))
        if record.get("detected_language"):
            languages.append(str(record["detected_language"]))
        if record.get("kind"):
            kinds.append(str(record["kind"]))
    rejects = list(read_rejects(rejects_path)) if rejects_path.is_file() else []
    return _part_counts(labels, article_ids, rejects, languages, kinds if len(kinds) == len(labels) else None)


class _PartWriter:
    """Scores one part batch by batch into an atomic sink."""

    def __init__(self, path: Path, options: ScoringOptions, repeats: RepeatedParagraphs) -> None:
        self.repeats = repeats  # scores through the run's predictor, answering repeats from memory
        self.options = options
        self.sink = AtomicSink(path)
        self.batch: list[ParagraphRecord] = []
        self.labels: list[list[str]] = []
        self.article_ids: list[str] = []
        self.languages: list[str] = []
        self.kinds: list[str] = []

    def add(self, record: ParagraphRecord) -> None:
        self.batch.append(record)
        if len(self.batch) >= self.options.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        scored = self.repeats.predict_with_evidence([r["text"] for r in self.batch], k=self.options.evidence_k)
        frame = pd.concat([pd.DataFrame.from_records(self.batch), scored], axis=1)
        base = ["article_id", "paragraph", "text", "labels"]
        probabilities = [f"p_{label}" for label in self.repeats.predictor.labels]
        metadata = [c for c in frame.columns if c not in [*base, *probabilities, "evidence"]]
        self.sink.write(frame[[*base, *probabilities, "evidence", *metadata]])
        self.labels.extend(scored["labels"])
        self.article_ids.extend(str(r["article_id"]) for r in self.batch)
        self.languages.extend(str(r["detected_language"]) for r in self.batch if r.get("detected_language"))
        self.kinds.extend(str(r.get("kind") or BODY) for r in self.batch)
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


def _merge_parts(layout: _OutputLayout, names: list[str]) -> None:
    """Concatenate parts into the single output file, streaming, atomically."""
    partial = layout.partial_output
    try:
        _write_merged(layout, names, partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, layout.output)


def _write_merged(layout: _OutputLayout, names: list[str], partial: Path) -> None:
    concatenate = ALL_FORMATS[layout.format].concatenate
    assert concatenate is not None  # every output format can concatenate its parts
    concatenate([layout.work / name for name in names], partial)


def _prepare(layout: _OutputLayout, wanted: Manifest, overwrite: bool) -> tuple[Manifest, str | None]:
    """Start, continue or refuse, depending on what is already at the output.

    Returns the manifest to continue and, when a finished output was found
    damaged (a part or the file deleted or changed), why it is scored again.
    """
    existing = Manifest.load(layout.work_manifest) or Manifest.load(layout.manifest)
    rescored = None
    if existing is not None and existing.complete and not overwrite:
        manifest_path = layout.manifest if layout.single_file else layout.work_manifest
        existing.check_same_run(wanted, manifest_path)
        rescored = _damage(layout, existing, manifest_path)
    if overwrite or rescored:
        _clear_previous(layout, existing)
        existing = None
    if existing is None:
        if layout.occupied():
            raise OutputError(
                f"{layout.output} exists and no scoring run's manifest lists it; it is left as it is: "
                "choose another --output"
            )
        layout.work.mkdir(parents=True, exist_ok=True)
        wanted.save(layout.work_manifest)
        return wanted, rescored
    existing.check_same_run(wanted, layout.manifest if existing.complete else layout.work_manifest)
    if not existing.complete:
        _remove_leftovers(layout, existing)
    return existing, None


def _published(layout: _OutputLayout, manifest: Manifest) -> dict[str, int | None]:
    """Files a finished run published (relative to ``layout.root``), with sizes when recorded."""
    if manifest.outputs:
        return dict(manifest.outputs)
    if layout.single_file:
        return {layout.output.name: None}
    return dict.fromkeys(manifest.parts)


def _names(names: list[str]) -> str:
    return ", ".join(names[:3]) + (" ..." if len(names) > 3 else "")


def _damage(layout: _OutputLayout, manifest: Manifest, manifest_path: Path) -> str | None:
    """Which of a finished run's files are missing, if any; a file changed since is refused.

    Missing files are scored again (the run's remaining files are its own to
    replace); a file whose size changed may hold someone's edits, so it is
    left alone and the run refused.
    """
    missing, changed = [], []
    for name, size in _published(layout, manifest).items():
        path = layout.root / name
        if not path.is_file():
            missing.append(name)
        elif size is not None and path.stat().st_size != size:
            changed.append(name)
    if changed:
        raise OutputError(
            f"{manifest_path}: {_names(changed)} changed since that scoring run finished; nothing was touched: "
            "move it away to score again, or choose another --output"
        )
    return f"the finished output had {_names(missing)} missing" if missing else None


def _clear_previous(layout: _OutputLayout, existing: Manifest | None) -> None:
    """Delete a previous run's files, and nothing else: refuse if anything else is there."""
    if existing is None:
        if layout.occupied():
            raise OutputError(
                f"{layout.output} exists and no scoring run's manifest lists it; --overwrite only replaces "
                "what a scoring run wrote, so nothing was deleted: choose another --output"
            )
        return
    format_ = existing.settings.get("format", layout.format)
    others = strangers(layout.work, format_)
    if layout.single_file and layout.output.exists() and not layout.output.is_file():
        others.append(layout.output)
    if others:
        raise OutputError(
            f"{layout.work} holds {describe_strangers(others)}, which no scoring run wrote; nothing was deleted: "
            "move them away or choose another --output"
        )
    pattern = part_pattern(format_)
    if layout.work.is_dir():
        for path in layout.work.iterdir():
            if pattern.match(path.name):
                path.unlink()
        if layout.single_file:
            layout.work.rmdir()
    for path in layout.side_files() + ([layout.output] if layout.single_file else []):
        path.unlink(missing_ok=True)


def _remove_leftovers(layout: _OutputLayout, manifest: Manifest) -> None:
    """Temporary files of a run that died mid-write; the resumed run writes them again."""
    pattern = part_pattern(manifest.settings.get("format", layout.format))
    for path in layout.work.iterdir() if layout.work.is_dir() else []:
        if pattern.match(path.name) and path.name.endswith((".partial", ".tmp")):
            path.unlink()
    for path in layout.side_files():
        if path.name.endswith((".partial", ".tmp")):
            path.unlink(missing_ok=True)


def model_info(predictor: Predictor) -> dict[str, Any]:
    """What a report shows about the model: per-label thresholds, training languages and data."""
    thresholds = None
    if predictor.thresholds is not None:
        thresholds = {label: float(t) for label, t in zip(predictor.labels, predictor.thresholds, strict=True)}
    training = predictor.training
    return {
        "family": predictor.model.family,
        "thresholds": thresholds,
        "languages": training.get("languages"),
        "data": training.get("data"),
    }


def score_corpus(
    predictor: Predictor,
    model_uri: str,
    input_path: Path,
    output_path: Path,
    source: SourceOptions | None = None,
    options: ScoringOptions | None = None,
    model_files: dict[str, str] | None = None,
) -> ScoringSummary:
    """Score every paragraph of ``input_path`` into ``output_path``; resumes an interrupted run.

    ``model_files`` are the content hashes of the model's files (see
    ``framing.scoring.model_files``); for a model given as a local folder they
    are computed here. They make a resume with a retrained model fail.
    """
    source = source or SourceOptions()
    options = options or ScoringOptions()
    layout = _OutputLayout(output_path, options.folder_format)
    check_paths(input_path, output_path, layout.side_paths())
    check_input(input_path, source)
    if model_files is None and Path(model_uri).is_dir():
        model_files = file_hashes(model_folder(model_uri))
    settings = {
        "source": {**source.__dict__, "languages": None if source.languages is None else list(source.languages)},
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
        model_files=model_files or {},
        model_info=model_info(predictor),
    )
    with write_errors(output_path), OutputLock(output_path):
        manifest, rescored = _prepare(layout, wanted, options.overwrite)
        summary = ScoringSummary(labels=predictor.labels, output=output_path, rescored=rescored)
        if not manifest.complete:
            summary.resumed_parts = _run_parts(predictor, input_path, layout, manifest, source, options)
        return _finish(layout, manifest, summary)


def _run_parts(
    predictor: Predictor,
    input_path: Path,
    layout: _OutputLayout,
    manifest: Manifest,
    source: SourceOptions,
    options: ScoringOptions,
) -> int:
    """Write every missing part; returns how many parts were already done."""
    total = count_articles(input_path)
    bar = tqdm(total=total, unit=" articles", disable=not options.progress, desc="scoring")
    run = _PartRun(predictor, layout, manifest, options, bar)
    try:
        for item in _numbered(iter_source(input_path, source, layout.format == "parquet"), options.limit):
            run.add(item)
        run.end()
    except BaseException:
        if run.writer is not None:
            run.writer.abort()
        raise
    finally:
        bar.close()
    return run.resumed


@dataclass
class _PartRun:
    """One pass over the corpus: the part being written (none while skipping a finished one) and its rejects.

    Every ``part_size`` paragraphs a part is closed: committed with its rejects
    and counted in the manifest, or, when it was written before, counted as resumed.
    """

    predictor: Predictor
    layout: _OutputLayout
    manifest: Manifest
    options: ScoringOptions
    bar: Any
    writer: _PartWriter | None = None
    pending: list[Reject] = field(default_factory=list)
    index: int = 0
    in_part: int = 0
    resumed: int = 0
    scored: int = 0
    last_article: str | None = None
    started: float = field(default_factory=time.perf_counter)
    repeats: RepeatedParagraphs = field(init=False)

    def __post_init__(self) -> None:
        self.repeats = RepeatedParagraphs(self.predictor, self.options.repeat_cache)

    def writer_for(self, index: int) -> _PartWriter:
        return _PartWriter(self.layout.part(index), self.options, self.repeats)

    def add(self, item: ParagraphRecord | Reject) -> None:
        """A reject joins the part's rejects; a paragraph is scored, unless its part was written before."""
        if isinstance(item, Reject):
            self.pending.append(item)
            return
        if item["article_id"] != self.last_article:
            self.bar.update(1)
            self.last_article = item["article_id"]
        if self.in_part == 0 and not self.layout.part(self.index).exists():
            self.writer = self.writer_for(self.index)
        if self.writer is not None:
            self.writer.add(item)
            self.scored += 1
            if self.scored % self.options.batch_size == 0:
                rate = self.scored / (time.perf_counter() - self.started)
                self.bar.set_postfix(paragraphs_per_s=f"{rate:.0f}")
        self.in_part += 1
        if self.in_part == self.options.part_size:
            self.close_part()

    def end(self) -> None:
        """Close the last part, also when it holds only rejects."""
        if self.in_part or self.pending:
            if self.in_part == 0 and not self.layout.part(self.index).exists():
                self.writer = self.writer_for(self.index)  # rejects only
            self.close_part()

    def close_part(self) -> None:
        layout, manifest = self.layout, self.manifest
        name = layout.part(self.index).name
        if self.writer is not None:
            writer = self.writer
            writer.commit()
            write_rejects(layout.rejects(self.index), self.pending)
            manifest.parts[name] = _part_counts(
                writer.labels, writer.article_ids, self.pending, writer.languages, writer.kinds
            )
            manifest.save(layout.work_manifest)
        elif name not in manifest.parts:  # written, then killed before the manifest was saved
            manifest.parts[name] = _read_part_counts(layout.part(self.index), layout.rejects(self.index))
            manifest.save(layout.work_manifest)
            self.resumed += 1
        else:
            self.resumed += 1
        self.writer, self.pending, self.in_part = None, [], 0
        self.index += 1


def _finish(layout: _OutputLayout, manifest: Manifest, summary: ScoringSummary) -> ScoringSummary:
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
        for language, n in counts.get("languages", {}).items():
            summary.languages[language] = summary.languages.get(language, 0) + n
        for kind, n in counts.get("kinds", {}).items():
            summary.kinds[kind] = summary.kinds.get(kind, 0) + n
    if not manifest.complete:
        _publish(layout, manifest, names)
    if summary.rejects:
        summary.rejects_path = layout.rejects_file
    return summary


def _part_index(name: str) -> int:
    return int(name.split("-")[1].split(".")[0])


def _merge_rejects(layout: _OutputLayout, names: list[str]) -> None:
    with replaced_whole(layout.rejects_file) as tmp, open(tmp, "w", encoding="utf-8") as out:
        for name in names:
            rejects = layout.rejects(_part_index(name))
            if rejects.is_file():
                out.write(rejects.read_text(encoding="utf-8"))


def _publish(layout: _OutputLayout, manifest: Manifest, names: list[str]) -> None:
    """Merge (for a file output) and mark complete, recording every published file's size."""
    if layout.single_file:
        _merge_parts(layout, names)
    _merge_rejects(layout, names)
    parts = [] if layout.single_file else [layout.work / name for name in names]
    published = [layout.output if layout.single_file else layout.rejects_file, *parts]
    if layout.single_file:
        published.append(layout.rejects_file)
    manifest.outputs = {p.relative_to(layout.root).as_posix(): p.stat().st_size for p in published}
    manifest.complete = True
    manifest.save(layout.work_manifest)
    if layout.single_file:
        manifest.save(layout.manifest)
        shutil.rmtree(layout.work)
    else:
        for name in names:
            layout.rejects(_part_index(name)).unlink(missing_ok=True)


__all__ = ["FramingError", "ScoringOptions", "ScoringSummary", "score_corpus"]
