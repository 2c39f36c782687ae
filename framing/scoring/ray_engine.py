"""Scale-out scoring on Ray Data, locally or against a cluster.

The same sources, paragraph splitting and model as the local engine, laid out
as a Ray Data pipeline: read files -> split articles into paragraphs
(``flat_map``) -> score with a class-based scorer that loads the model once
per actor (``map_batches``) -> write Parquet parts. The corpus is read once:
rejects leave the pipeline as side files. Ray decides placement; the actor
pool asks for one CPU per actor and leaves at least one CPU free for reading,
so a small machine cannot deadlock. A Ray started here listens on 127.0.0.1
only. The output folder gets the same guards as the local engine's (lock, no
input inside, ``--overwrite`` deletes only an earlier Ray run's files).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from framing.atomic import atomic_write_text
from framing.errors import DataError
from framing.formats import Reject, RejectCounts, read_rejects, write_rejects
from framing.scoring.corpus import ScoringOptions, ScoringSummary
from framing.scoring.guard import OutputError, OutputLock, check_paths, describe_strangers, write_errors
from framing.scoring.kinds import BODY
from framing.scoring.sources import (
    TEXT_SUFFIXES,
    MetadataKinds,
    SourceOptions,
    check_input,
    input_files,
    iter_table_files,
    iter_text_files,
)


class RayScorer:
    """Loads the model once per actor and scores pandas batches of paragraphs."""

    def __init__(
        self,
        model_uri: str,
        tracking_uri: str | None,
        evidence_k: int,
        exact: bool = False,
        repeat_cache: int = 0,
        precision: str | None = None,
    ) -> None:
        if tracking_uri:
            os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
        from framing.package import load_model
        from framing.scoring.repeats import RepeatedParagraphs

        self.predictor = load_model(model_uri, exact=exact)
        if precision is not None:
            self.predictor.use_escalation_precision(precision)
        self.repeats = RepeatedParagraphs(self.predictor, repeat_cache)  # one per actor
        self.evidence_k = evidence_k

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        batch = batch.reset_index(drop=True)
        scored = self.repeats.predict_with_evidence(batch["text"].tolist(), k=self.evidence_k)
        scored["evidence"] = scored["evidence"].map(lambda e: json.dumps(e, ensure_ascii=False))
        base = batch[["article_id", "paragraph", "text"]]
        metadata = batch.drop(columns=["article_id", "paragraph", "text"])
        return pd.concat([base, scored, metadata], axis=1)


RUN_RECORD = "_ray_run.json"
REJECTS = "_rejects.jsonl"
_OWN_HIDDEN = re.compile(r"^\.(?:ray-staging|rejects)-[0-9a-f]{32}$")


def _items_of_file(row: dict[str, Any], root: str, options: SourceOptions, rejects_dir: str) -> list[dict[str, Any]]:
    """Paragraphs of one input file (runs on Ray workers); its rejects go to a side file.

    Writing rejects beside the output, instead of returning them, means the
    corpus is read and split once; the side file is named after the input
    file's position, so a retried task rewrites it identically.
    """
    path = Path(row["path"])
    if any(path.name.lower().endswith(s) for s in TEXT_SUFFIXES):
        items = iter_text_files(Path(root), [path], options)
    else:
        items = iter_table_files([path], options, kinds=MetadataKinds())  # Parquet output: one type per column
    paragraphs, rejects = [], []
    for item in items:
        if isinstance(item, Reject):
            rejects.append(item)
        else:
            paragraphs.append({"record": json.dumps(item, default=str)})
    if rejects:
        write_rejects(Path(rejects_dir) / f"{row['index']:08d}.jsonl", rejects)
    return paragraphs


def _prepare_output(output_dir: Path, overwrite: bool) -> None:
    """Leave the folder empty of Ray runs' files, refusing when it holds anything else."""
    if output_dir.exists() and not output_dir.is_dir():
        raise OutputError(f"--output {output_dir} is a file; --engine ray writes a folder of Parquet parts")
    if not output_dir.is_dir():
        return
    record = _load_record(output_dir)
    listed = {RUN_RECORD, REJECTS, *record.get("files", [])}
    others = [p for p in output_dir.iterdir() if p.name not in listed and not _OWN_HIDDEN.match(p.name)]
    if others:
        raise OutputError(
            f"{output_dir} holds {describe_strangers(sorted(others))}, which no Ray scoring run wrote; "
            "nothing was deleted: choose another --output"
        )
    if record and not overwrite:
        raise OutputError(f"{output_dir} holds an earlier Ray scoring run; use another --output or --overwrite")
    for path in output_dir.iterdir():
        if path.is_dir():
            shutil.rmtree(path)  # a staging folder of a killed run (named by this module)
        else:
            path.unlink()


def _load_record(output_dir: Path) -> dict[str, Any]:
    path = output_dir / RUN_RECORD
    if not path.is_file():
        return {}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise OutputError(f"{path}: not a readable Ray run record; move it away or choose another --output") from None
    return record if isinstance(record, dict) else {}


@contextmanager
def _local_ray(address: str | None, dashboard: bool, num_cpus: int | None = None) -> Iterator[None]:
    """Start Ray on this machine bound to 127.0.0.1 (no dashboard unless asked), or join ``address``.

    ``num_cpus`` caps a local Ray (default: every CPU of the machine); a small
    cap keeps a test's Ray from starting a worker per CPU of a large machine.
    """
    import ray
    import ray._private.ray_constants as ray_constants

    if ray.is_initialized():
        yield
        return
    cluster_setting = ray_constants.ENABLE_RAY_CLUSTER
    local: dict[str, Any] = {}
    if not address:
        # Ray picks the machine's public address unless it believes it runs alone; say so, so
        # every local Ray process listens on loopback only.
        ray_constants.ENABLE_RAY_CLUSTER = False
        os.environ[ray_constants.ENABLE_RAY_CLUSTERS_ENV_VAR] = "0"
        local = {"num_cpus": num_cpus or max(2, os.cpu_count() or 2), "_node_ip_address": "127.0.0.1"}
    try:
        ray.init(
            address=address,
            include_dashboard=dashboard,
            dashboard_host="127.0.0.1",
            log_to_driver=False,
            ignore_reinit_error=True,
            logging_level=logging.WARNING,
            **local,
        )
        yield
    finally:
        ray.shutdown()
        ray_constants.ENABLE_RAY_CLUSTER = cluster_setting
        if not address:
            os.environ.pop(ray_constants.ENABLE_RAY_CLUSTERS_ENV_VAR, None)


def score_with_ray(
    model_uri: str,
    input_path: Path,
    output_dir: Path,
    source: SourceOptions | None = None,
    options: ScoringOptions | None = None,
    address: str | None = None,
    concurrency: int | None = None,
    dashboard: bool = False,
) -> ScoringSummary:
    """Score ``input_path`` into a folder of Parquet parts with Ray Data."""
    source = source or SourceOptions()
    options = options or ScoringOptions()
    if output_dir.suffix:
        raise DataError(output_dir, "--engine ray writes a folder of Parquet parts; give a folder name")
    check_paths(input_path, output_dir, [])
    check_input(input_path, source)
    files = input_files(input_path)
    with write_errors(output_dir), OutputLock(output_dir):
        _prepare_output(output_dir, options.overwrite)
        run = uuid.uuid4().hex
        staging, rejects_dir = output_dir / f".ray-staging-{run}", output_dir / f".rejects-{run}"
        rejects_dir.mkdir(parents=True)
        with _local_ray(address, dashboard):
            _run_pipeline(model_uri, input_path, files, staging, rejects_dir, source, options, concurrency)
        written = _publish(output_dir, staging, rejects_dir)
        atomic_write_text(
            output_dir / RUN_RECORD,
            json.dumps({"engine": "ray", "model_uri": model_uri, "input": str(input_path), "files": written}, indent=2),
        )
        return _summarise(output_dir)


def _run_pipeline(
    model_uri: str,
    input_path: Path,
    files: list[Path],
    staging: Path,
    rejects_dir: Path,
    source: SourceOptions,
    options: ScoringOptions,
    concurrency: int | None,
) -> None:
    """One pass over the corpus: list -> split (rejects to side files) -> score -> Parquet parts."""
    import ray

    model_ref = str(Path(model_uri).resolve()) if Path(model_uri).exists() else model_uri
    tracking_uri = os.environ.get("MLFLOW_TRACKING_URI") or (
        f"sqlite:///{Path('mlflow.db').resolve()}" if Path("mlflow.db").exists() else None
    )
    logging.getLogger("ray").setLevel(logging.WARNING)
    ray.data.DataContext.get_current().enable_progress_bars = options.progress
    available = int(ray.available_resources().get("CPU", 2))
    listing = ray.data.from_items(
        [{"path": str(f), "index": i} for i, f in enumerate(files)], override_num_blocks=min(len(files), 200)
    )
    root = str(input_path if input_path.is_dir() else input_path.parent)
    split = partial(_items_of_file, root=root, options=source, rejects_dir=str(rejects_dir))
    paragraphs = listing.flat_map(split, num_cpus=0.5)
    if options.limit is not None:
        paragraphs = paragraphs.limit(options.limit)
    scored = paragraphs.map(lambda r: json.loads(r["record"])).map_batches(
        RayScorer,
        fn_constructor_kwargs={
            "model_uri": model_ref,
            "tracking_uri": tracking_uri,
            "evidence_k": options.evidence_k,
            "exact": options.exact,
            "repeat_cache": options.repeat_cache,
            "precision": options.precision,
        },
        batch_size=options.batch_size,
        batch_format="pandas",
        concurrency=concurrency or max(1, available - 1),
        num_cpus=1,
    )
    scored.write_parquet(str(staging))


def _publish(output_dir: Path, staging: Path, rejects_dir: Path) -> list[str]:
    """Move the finished parts into place and merge the rejects; returns the part names."""
    written = []
    for part in sorted(staging.glob("*.parquet")) if staging.is_dir() else []:
        os.replace(part, output_dir / part.name)
        written.append(part.name)
    with open(output_dir / REJECTS, "w", encoding="utf-8") as out:
        for side in sorted(rejects_dir.glob("*.jsonl")):
            out.write(side.read_text(encoding="utf-8"))
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(rejects_dir, ignore_errors=True)
    return written


def _summarise(output_dir: Path) -> ScoringSummary:
    """Counts from the written parts, read a batch at a time, and from the rejects file.

    The counts follow the local engine's (``framing.scoring.corpus``), so the two
    engines print the same summary for the same corpus: every row counts per
    ``kind`` and per detected language, flagged labels count in body rows only
    (shares are of body paragraphs), and rejects count per reason.
    """
    import pyarrow.dataset as pads

    parts = sorted(output_dir.glob("*.parquet"))
    dataset = pads.dataset([str(p) for p in parts], format="parquet") if parts else None
    names = dataset.schema.names if dataset else []
    labels = [name[2:] for name in names if name.startswith("p_")]
    summary = ScoringSummary(labels=labels, output=output_dir)
    columns = [c for c in ("article_id", "labels", "kind", "detected_language") if c in names]
    articles: set[str] = set()
    languages: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for batch in dataset.to_batches(columns=columns) if dataset else []:
        rows = batch.to_pydict()
        summary.paragraphs += batch.num_rows
        articles.update(rows["article_id"])
        row_kinds = [kind or BODY for kind in rows.get("kind", [None] * batch.num_rows)]
        kinds.update(row_kinds)
        languages.update(language for language in rows.get("detected_language", []) if language)
        for kind, flagged in zip(row_kinds, rows["labels"], strict=True):
            if kind != BODY:
                continue
            for label in flagged or []:
                summary.flagged[label] = summary.flagged.get(label, 0) + 1
    summary.articles = len(articles)
    summary.languages, summary.kinds = dict(languages), dict(kinds)
    counts = RejectCounts()
    for reject in read_rejects(output_dir / REJECTS):
        counts.add(reject.reason)
    if counts.counts:
        summary.rejects = counts.counts
        summary.rejects_path = output_dir / REJECTS
    return summary
