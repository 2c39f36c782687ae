"""One training run, in clear phases: data -> fit -> thresholds -> evaluate -> log.

The store, the data and the settings that depend on it are checked before a
run is opened, so a bad file never leaves an empty run behind; everything after
that happens inside the MLflow run, so a crash marks it FAILED and SIGTERM
KILLED, and a run is FINISHED only once its logged model loads and predicts.
"""

from __future__ import annotations

import hashlib
import logging
import random
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from framing import tracking
from framing.checkpoints import remove_checkpoints, run_checkpoint_dir, save_run_id, saved_run_id
from framing.config import Config, TfidfConfig
from framing.data.dataset import LabelledSet, Splits, check_label_coverage, load_splits, write_rejects
from framing.data.splits import check_no_cross_split_duplicates, deduplicate_splits
from framing.errors import ConfigError, DataError
from framing.evaluation import compute_metrics, error_analysis
from framing.languages import training_record
from framing.mentions import gate, news_media_labels, open_labels
from framing.models.base import FitContext, StopSignal, build_model, model_family
from framing.package import Predictor
from framing.plots import confusion_matrices, pr_curves
from framing.results import log_description, log_test_predictions, split_intervals
from framing.thresholds import apply_thresholds, tune_thresholds

log = logging.getLogger(__name__)


@dataclass
class TrainingResult:
    """What a run produced, for the console summary and for callers."""

    run_id: str
    model_uri: str
    labels: list[str]
    thresholds: list[float] | None
    metrics: dict[str, float] = field(default_factory=dict)
    registered_version: str | None = None


def set_seed(seed: int) -> None:
    """Seed every random source a family may use."""
    random.seed(seed)
    np.random.seed(seed)


def file_fingerprint(path: Path) -> str:
    """SHA-256 of a file, or of every file in a folder, so runs name the exact data they saw."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(file.name.encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


@contextmanager
def sigterm_stops(stop: StopSignal) -> Iterator[StopSignal]:
    """While inside, SIGTERM calls ``stop.request()``: the open run ends KILLED instead of staying RUNNING.

    A SIGTERM held until the run ended FINISHED is sent again on the way out,
    to the handler that was there before (a sweep's, or the default one).
    Signal handlers can only be set from the main thread; elsewhere (a
    caller's worker thread) SIGTERM keeps its default effect.
    """
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.request())
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)
    if stop.requested and not stop.raised:  # held until the run ended: now the caller's handler decides
        signal.raise_signal(signal.SIGTERM)


def prepare_data(config: Config) -> Splits:
    """Phase 1: read, validate and check the splits for leakage."""
    splits = load_splits(config.data)
    if config.data.deduplicate:
        splits.dedup_report = deduplicate_splits(list(reversed(splits.all())))
        for line in splits.dedup_report.summary():
            log.info("data.deduplicate %s", line)
        for split in splits.all():
            if not split.texts:
                raise DataError(split.path, "no rows left after de-duplication (data.deduplicate)")
    if config.data.duplicate_check:
        check_no_cross_split_duplicates(splits.all(), config.data.near_duplicate_threshold)
    return splits


def check_trainable(config: Config, splits: Splits) -> None:
    """What the training rows must allow, checked by ``framing validate`` and before a run opens.

    Every label needs rows with and without it, and the TF-IDF document-frequency
    cuts must leave terms; otherwise training fails late or logs an unusable model.
    """
    check_label_coverage(splits.train, splits.label_names)
    if isinstance(config.model, TfidfConfig):
        from framing.models.tfidf import check_document_frequency

        check_document_frequency(config.model, len(splits.train))


def _evaluate_split(
    logger: tracking.RunLogger,
    predictor: Predictor,
    split: LabelledSet,
    probabilities: np.ndarray,
    labels: list[str],
    config: Config,
) -> dict[str, float]:
    """Metrics at the default and the tuned thresholds, plus figures and error table."""
    y_true = split.label_matrix(labels)
    default = None if predictor.task == "multiclass" else np.full(len(labels), config.train.default_threshold)
    results: dict[str, float] = {}
    for mode, thresholds in (("default", default), ("tuned", predictor.thresholds)):
        flags = apply_thresholds(probabilities, thresholds, predictor.task)
        metrics = compute_metrics(y_true, probabilities, flags, labels)
        results.update({f"{split.name}/{mode}/{name}": value for name, value in metrics.items()})
        results.update(split_intervals(split, mode, y_true, probabilities, flags, labels))
    flags = predictor.flags(probabilities)
    log_test_predictions(logger, split, labels, probabilities, flags)
    logger.log_figure(
        confusion_matrices(y_true, flags, labels, f"{split.name} (tuned thresholds)"),
        f"plots/{split.name}_confusion_matrices.png",
    )
    logger.log_figure(
        pr_curves(y_true, probabilities, predictor.thresholds, labels, f"{split.name} PR curves"),
        f"plots/{split.name}_pr_curves.png",
    )
    errors = error_analysis(
        split.ids, split.texts, y_true, probabilities, flags, labels, config.train.error_analysis_rows
    )
    logger.log_table(errors, f"error_analysis/{split.name}_worst_errors")
    return results


def run_training(config: Config) -> TrainingResult:
    """Train, evaluate and log one model; returns its URI and metrics.

    The store is checked first (a dead server or a read-only folder fails in
    seconds, before any data is read). SIGTERM ends the run KILLED, after a
    checkpoint where the family writes them.
    """
    tracking.check_store(config.tracking)
    set_seed(config.seed)
    splits = prepare_data(config)
    check_trainable(config, splits)
    labels = splits.label_names
    checkpoints, resume_run_id = _checkpoints(config)
    stop = StopSignal(resumable=checkpoints is not None)
    with sigterm_stops(stop), tracking.start_run(config, run_id=resume_run_id, stop=stop) as logger:
        if checkpoints and not config.resume:
            remove_checkpoints(checkpoints)
            save_run_id(checkpoints, logger.run_id)
        _log_data(logger, config, splits)
        model = build_model(config.model, labels=labels, task=config.data.task, seed=config.seed)
        started = time.perf_counter()
        context = FitContext(report=logger.log_step_metrics, checkpoint_dir=checkpoints, resume=config.resume)
        context.stop = stop
        model.fit(splits.train, splits.validation, context)
        logger.log_metrics({"train/seconds": time.perf_counter() - started})
        held_out = [splits.validation] + ([splits.test] if splits.test else [])
        scores = {split.name: model.predict_proba(split.texts) for split in held_out}  # one pass each
        required = news_media_labels(config.data.requires_news_media, labels, config.data.task)
        # per split, the labels a scorer decides on each row (data.requires_news_media rules out the rest)
        open_masks = {split.name: open_labels(split.texts, labels, required) for split in held_out} if required else {}
        probabilities = {name: gate(p, open_masks[name]) if required else p for name, p in scores.items()}
        thresholds = _thresholds(logger, config, splits.validation, probabilities["validation"], labels)
        predictor = Predictor(
            model=model, thresholds=thresholds, training=training_record(splits), news_media_labels=required
        )

        metrics: dict[str, float] = {}
        for split in held_out:
            metrics.update(_evaluate_split(logger, predictor, split, probabilities[split.name], labels, config))
        metrics.update(_fit_cascade(predictor, config, splits, probabilities, open_masks))
        logger.log_metrics(metrics)
        log_description(logger, config, splits, metrics)
        result = _publish(logger, config, predictor, splits.validation.texts[:3], metrics, stop)
    if checkpoints:
        remove_checkpoints(checkpoints)
    return result


def _fit_cascade(
    predictor: Predictor,
    config: Config,
    splits: Splits,
    probabilities: dict[str, np.ndarray],
    open_masks: dict[str, np.ndarray],
) -> dict[str, float]:
    """A transformer's fast scoring path (``framing.cascade``), fitted on train and validation, checked on test.

    The metrics above are the transformer's own (``--exact``); ``cascade/...``
    ones say how far the default scoring path departs from them. ``open_masks``
    (per split, none without ``data.requires_news_media``) keep a label the
    requirement rules out from sending a row to the transformer.
    """
    settings = getattr(config.model, "cascade", None)
    if settings is None or not settings.enabled:
        return {}
    from framing.cascade.fit import check_on, fit_cascade, unlabelled_paragraphs

    unlabelled: list[str] = []
    metrics: dict[str, float] = {}
    if config.data.unlabelled is not None and settings.max_unlabelled:
        held_out = set(splits.validation.texts) | set(splits.test.texts if splits.test else [])
        unlabelled, rejected = unlabelled_paragraphs(
            config.data.unlabelled, held_out, settings.max_unlabelled, config.seed
        )
        metrics["cascade/unlabelled_rejected"] = float(rejected)
    model: Any = predictor.model
    cascade, fitted = fit_cascade(
        model,
        predictor.thresholds,
        splits.train,
        splits.validation,
        probabilities["validation"],
        settings,
        unlabelled,
        config.seed,
        open_masks.get("validation"),
    )
    metrics.update(fitted)
    if splits.test is not None:
        test_mask = open_masks.get("test")
        metrics.update(
            check_on(cascade, splits.test, probabilities["test"], model.labels, predictor.thresholds, test_mask)
        )
    predictor.cascade = cascade
    return metrics


def _checkpoints(config: Config) -> tuple[Path | None, str | None]:
    """The run's checkpoint folder (for a family that keeps them) and, with ``resume=true``, the run to reopen."""
    checkpoints = run_checkpoint_dir(config) if model_family(config.model.family).checkpoints else None
    if not config.resume:
        return checkpoints, None
    resume_run_id = saved_run_id(checkpoints) if checkpoints else None
    if resume_run_id is None:
        raise ConfigError(f"resume=true: no checkpoint of a run with this config (looked in {checkpoints})")
    return checkpoints, resume_run_id


def _log_data(logger: tracking.RunLogger, config: Config, splits: Splits) -> None:
    """The config, each split as a dataset input, the rejected rows and what de-duplication removed."""
    logger.log_config(config)
    for split in splits.all():
        logger.log_split(split, file_fingerprint(split.path))
    rejects = splits.rejects
    logger.log_metrics({"data/rejected_rows": float(len(rejects))})
    if splits.dedup_report is not None:
        report = splits.dedup_report
        logger.log_metrics({f"data/duplicates_removed/{name}": float(report.removed(name)) for name in report.kept})
        logger.log_text("\n".join(report.summary()) + "\n", "data/dedup_report.txt")
    if rejects:
        logger.log_artifact(write_rejects(rejects, config.data.rejects_dir), "data")


def _thresholds(
    logger: tracking.RunLogger,
    config: Config,
    validation: LabelledSet,
    probabilities: np.ndarray,
    labels: list[str],
) -> np.ndarray | None:
    """Per-label thresholds of a multi-label model (tuned on validation unless turned off); None for multi-class."""
    if config.data.task != "multilabel":
        return None
    thresholds = np.full(len(labels), config.train.default_threshold)
    if config.train.tune_thresholds:
        thresholds = tune_thresholds(
            validation.label_matrix(labels),
            probabilities,
            default=config.train.default_threshold,
            low=config.train.min_threshold,
            high=config.train.max_threshold,
            beta=config.train.threshold_beta,
        )
    logger.log_metrics({f"threshold/{label}": float(t) for label, t in zip(labels, thresholds, strict=True)})
    return thresholds


def _publish(
    logger: tracking.RunLogger,
    config: Config,
    predictor: Predictor,
    examples: list[str],
    metrics: dict[str, float],
    stop: StopSignal,
) -> TrainingResult:
    """Log the model, check that it loads and predicts, and register it when asked."""
    model_uri = logger.log_model(predictor, examples)
    with stop.deferred():
        tracking.verify_logged_model(model_uri, examples, predictor.labels, cascade=predictor.cascade is not None)
    thresholds = predictor.thresholds
    result = TrainingResult(
        run_id=logger.run_id,
        model_uri=model_uri,
        labels=predictor.labels,
        thresholds=None if thresholds is None else [float(t) for t in thresholds],
        metrics=metrics,
    )
    if config.tracking.model_name:
        with stop.deferred():
            registration = tracking.register(logger.run_id, config.tracking.model_name, config.tracking.alias)
            result.registered_version = registration.version
    return result
