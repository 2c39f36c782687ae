"""Scale-out scoring on Ray Data, locally or against a cluster.

The same sources, paragraph splitting and model as the local engine, laid out
as a Ray Data pipeline: read files -> split articles into paragraphs
(``flat_map``) -> score with a class-based scorer that loads the model once
per actor (``map_batches``) -> write Parquet parts. Ray decides placement;
the actor pool asks for one CPU per actor and leaves at least one CPU free
for reading, so a small machine cannot deadlock.
"""

from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from framing.errors import DataError
from framing.scoring.corpus import ScoringOptions, ScoringSummary
from framing.scoring.sources import (
    TEXT_SUFFIXES,
    Reject,
    RejectCounts,
    SourceOptions,
    input_files,
    iter_table_files,
    iter_text_files,
)


class RayScorer:
    """Loads the model once per actor and scores pandas batches of paragraphs."""

    def __init__(self, model_uri: str, tracking_uri: str | None, evidence_k: int) -> None:
        if tracking_uri:
            os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
        from framing import load_model

        self.predictor = load_model(model_uri)
        self.evidence_k = evidence_k

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        batch = batch.reset_index(drop=True)
        scored = self.predictor.predict_with_evidence(batch["text"].tolist(), k=self.evidence_k)
        scored["evidence"] = scored["evidence"].map(lambda e: json.dumps(e, ensure_ascii=False))
        base = batch[["article_id", "paragraph", "text"]]
        metadata = batch.drop(columns=["article_id", "paragraph", "text"])
        return pd.concat([base, scored, metadata], axis=1)


def _items_of_file(row: dict[str, Any], root: str, options: SourceOptions) -> list[dict[str, Any]]:
    """Paragraphs and rejects of one input file, tagged by kind (runs on Ray workers)."""
    path = Path(row["path"])
    root_path = Path(root)
    if any(path.name.lower().endswith(s) for s in TEXT_SUFFIXES):
        items = iter_text_files(root_path, [path], options)
    else:
        items = iter_table_files([path], options)
    rows = []
    for item in items:
        if isinstance(item, Reject):
            rows.append({"kind": "reject", "record": json.dumps(item.to_dict())})
        else:
            rows.append({"kind": "paragraph", "record": json.dumps(item, default=str)})
    return rows


def score_with_ray(
    model_uri: str,
    input_path: Path,
    output_dir: Path,
    source: SourceOptions | None = None,
    options: ScoringOptions | None = None,
    address: str | None = None,
    concurrency: int | None = None,
) -> ScoringSummary:
    """Score ``input_path`` into a folder of Parquet parts with Ray Data."""
    import ray
    from ray.data.expressions import col

    source = source or SourceOptions()
    options = options or ScoringOptions()
    if output_dir.suffix:
        raise DataError(output_dir, "--engine ray writes a folder of Parquet parts; give a folder name")
    if output_dir.exists() and any(output_dir.iterdir()) and not options.overwrite:
        raise DataError(output_dir, "output folder is not empty; use another --output or --overwrite")
    files = input_files(input_path)
    model_ref = str(Path(model_uri).resolve()) if Path(model_uri).exists() else model_uri
    tracking_uri = os.environ.get("MLFLOW_TRACKING_URI") or (
        f"sqlite:///{Path('mlflow.db').resolve()}" if Path("mlflow.db").exists() else None
    )
    import logging

    logging.getLogger("ray").setLevel(logging.WARNING)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = options.progress
    started_here = not ray.is_initialized()
    if started_here:
        cpus = os.cpu_count() or 2
        ray.init(
            address=address,
            num_cpus=None if address else max(2, cpus),
            include_dashboard=False,
            log_to_driver=False,
            ignore_reinit_error=True,
            logging_level=logging.WARNING,
        )
    try:
        available = int(ray.available_resources().get("CPU", 2))
        actors = concurrency or max(1, available - 1)
        listing = ray.data.from_items([{"path": str(f)} for f in files], override_num_blocks=min(len(files), 200))
        root = str(input_path if input_path.is_dir() else input_path.parent)
        split = partial(_items_of_file, root=root, options=source)
        items = listing.flat_map(split, num_cpus=0.5)
        if options.limit is not None:
            items = items.filter(expr=col("kind") == "paragraph").limit(options.limit)
        paragraphs = items.filter(expr=col("kind") == "paragraph").map(lambda r: json.loads(r["record"]))
        scored = paragraphs.map_batches(
            RayScorer,
            fn_constructor_kwargs={
                "model_uri": model_ref,
                "tracking_uri": tracking_uri,
                "evidence_k": options.evidence_k,
            },
            batch_size=options.batch_size,
            batch_format="pandas",
            concurrency=actors,
            num_cpus=1,
        )
        if options.overwrite and output_dir.exists():
            import shutil

            shutil.rmtree(output_dir)
        scored.write_parquet(str(output_dir))
        rejects = [json.loads(r["record"]) for r in items.filter(expr=col("kind") == "reject").take_all()]
    finally:
        if started_here:
            ray.shutdown()
    return _summarise(output_dir, rejects)


def _summarise(output_dir: Path, rejects: list[dict[str, Any]]) -> ScoringSummary:
    """Counts from the written parts, read a batch at a time."""
    import pyarrow.dataset as pads

    dataset = pads.dataset(str(output_dir), format="parquet")
    labels = [name[2:] for name in dataset.schema.names if name.startswith("p_")]
    summary = ScoringSummary(labels=labels, output=output_dir)
    articles: set[str] = set()
    for batch in dataset.to_batches(columns=["article_id", "labels"]):
        summary.paragraphs += batch.num_rows
        articles.update(batch.column("article_id").to_pylist())
        for flagged in batch.column("labels").to_pylist():
            for label in flagged or []:
                summary.flagged[label] = summary.flagged.get(label, 0) + 1
    summary.articles = len(articles)
    if rejects:
        counts = RejectCounts()
        for reject in rejects:
            counts.add(reject["reason"])
        summary.rejects = counts.counts
        summary.rejects_path = output_dir / "_rejects.jsonl"
        summary.rejects_path.write_text("".join(json.dumps(r) + "\n" for r in rejects), encoding="utf-8")
    return summary
