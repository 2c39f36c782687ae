"""What a run tells a reader: metrics with intervals, its test predictions, a Markdown summary.

A test F1 of 0.74 on 60 articles may be 0.66 or 0.81 on the next 60; a
researcher deciding between two models needs to know. Every count-based
metric (precision, recall, F1 per label, micro and macro) and PR-AUC of the
validation and test splits gets a 95% interval from the cluster bootstrap of
``framing.uncertainty``, resampling the split's articles (``data.group_column``;
each paragraph is its own cluster when the data has none, and the run says
so). The intervals are logged as ``<metric>/ci_low`` and ``<metric>/ci_high``
beside the metric (``validation/tuned/f1_macro/ci_low``). Models are chosen on
validation, so its intervals show whether two runs' validation values differ
by more than the articles drawn; they cover that sampling only, not the
optimism of what was chosen on that split (tuned thresholds, the best run).

The run also logs its test predictions (``predictions/test_predictions.parquet``:
id, article, true and predicted labels, probabilities), which is what lets
``framing compare RUN_A RUN_B`` resample the same test rows for both runs,
and a Markdown description (``mlflow.note.content``) with the headline
numbers, the data and the settings that differ from the defaults.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from framing.uncertainty import MIN_CLUSTERS, N_BOOT, SEED, ClusterBootstrap, percentile_interval

if TYPE_CHECKING:
    from framing.config import Config
    from framing.data.dataset import LabelledSet, Splits
    from framing.tracking import RunLogger

PREDICTIONS_ARTIFACT = "predictions/test_predictions.parquet"
LOW, HIGH = "ci_low", "ci_high"
BOOTSTRAP_UNIT_TAG = "framing.bootstrap_unit"
DESCRIPTION_TAG = "mlflow.note.content"
_DRAW_CHUNK = 100  # draws scored at a time for PR-AUC, bounding memory at chunk x rows


def confusion_counts(y_true: np.ndarray, flags: np.ndarray) -> dict[str, np.ndarray]:
    """Per row and label: true positive, false positive and false negative indicators."""
    truth, flagged = np.asarray(y_true, dtype=float), np.asarray(flags, dtype=float)
    return {"tp": truth * flagged, "fp": (1 - truth) * flagged, "fn": truth * (1 - flagged)}


def _safe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (scikit-learn's ``zero_division=0``)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), 0.0)


def count_metrics(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, labels: Sequence[str]) -> dict[str, np.ndarray]:
    """The count-based metrics of ``compute_metrics`` from (weighted) counts; labels on the last axis.

    Works on a point ``[labels]`` and on draws ``[draws, labels]`` alike, with
    the same conventions as the logged metrics: an undefined ratio is 0, macro
    averages every label.
    """
    precision, recall = _safe_ratio(tp, tp + fp), _safe_ratio(tp, tp + fn)
    f1 = _safe_ratio(2 * tp, 2 * tp + fp + fn)
    stp, sfp, sfn = tp.sum(-1), fp.sum(-1), fn.sum(-1)
    out = {
        "precision_micro": _safe_ratio(stp, stp + sfp),
        "recall_micro": _safe_ratio(stp, stp + sfn),
        "f1_micro": _safe_ratio(2 * stp, 2 * stp + sfp + sfn),
        "precision_macro": precision.mean(-1),
        "recall_macro": recall.mean(-1),
        "f1_macro": f1.mean(-1),
    }
    for j, label in enumerate(labels):
        out[f"{label}/precision"], out[f"{label}/recall"], out[f"{label}/f1"] = (
            precision[..., j],
            recall[..., j],
            f1[..., j],
        )
    return out


def weighted_average_precision(truth: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Average precision (scikit-learn's definition, ties grouped) for each row of ``weights`` [draws, rows].

    NaN for a draw without a positive row.
    """
    order = np.argsort(-np.asarray(scores, dtype=float), kind="mergesort")
    ordered = np.asarray(scores, dtype=float)[order]
    y = np.asarray(truth, dtype=float)[order]
    group_end = np.searchsorted(-ordered, -ordered, side="right") - 1  # last row of each row's tie group
    results = []
    for start in range(0, len(weights), _DRAW_CHUNK):
        w = np.asarray(weights[start : start + _DRAW_CHUNK], dtype=float)[:, order]
        positives = w * y
        tp = np.cumsum(positives, axis=1)[:, group_end]
        seen = np.cumsum(w, axis=1)[:, group_end]
        precision = _safe_ratio(tp, seen)
        total = positives.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            results.append(np.where(total > 0, (positives * precision).sum(axis=1) / total, np.nan))
    return np.concatenate(results) if results else np.zeros(0)


def count_metric_draws(
    y_true: np.ndarray, flags: np.ndarray, labels: Sequence[str], boot: ClusterBootstrap
) -> dict[str, np.ndarray]:
    """Precision, recall and F1 (per label, micro, macro) in every draw of ``boot`` (``name -> [draws]``).

    Two decision sets drawn with the same ``boot`` are paired: their
    difference per draw is the bootstrap of the difference.
    """
    totals = {k: boot.totals(v)[1] for k, v in confusion_counts(y_true, flags).items()}
    return count_metrics(totals["tp"], totals["fp"], totals["fn"], labels)


def metric_draws(
    y_true: np.ndarray, flags: np.ndarray, probabilities: np.ndarray, labels: Sequence[str], boot: ClusterBootstrap
) -> dict[str, np.ndarray]:
    """Every metric of a split in every draw of ``boot`` (``name -> [draws]``)."""
    draws = count_metric_draws(y_true, flags, labels, boot)
    weights = boot.row_weights()
    pr_aucs = []
    truth = np.asarray(y_true)
    for j, label in enumerate(labels):
        if truth[:, j].any():  # as compute_metrics: a label without positives has no PR-AUC
            draws[f"{label}/pr_auc"] = weighted_average_precision(truth[:, j], probabilities[:, j], weights)
            pr_aucs.append(draws[f"{label}/pr_auc"])
    if pr_aucs:
        stacked = np.vstack(pr_aucs)
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(stacked)
            draws["pr_auc_macro"] = np.where(
                finite.any(axis=0), np.where(finite, stacked, 0).sum(axis=0) / np.maximum(finite.sum(axis=0), 1), np.nan
            )
    return draws


def metric_intervals(
    y_true: np.ndarray,
    flags: np.ndarray,
    probabilities: np.ndarray,
    labels: Sequence[str],
    clusters: Sequence[str],
    n_boot: int = N_BOOT,
    seed: int = SEED,
) -> dict[str, float]:
    """``{"<metric>/ci_low": ..., "<metric>/ci_high": ...}`` for every metric of a split, resampling ``clusters``."""
    boot = ClusterBootstrap.over(clusters, n_boot=n_boot, seed=seed)
    out: dict[str, float] = {}
    for name, draws in metric_draws(y_true, flags, probabilities, labels, boot).items():
        bounds = percentile_interval(draws) if boot.n_clusters >= MIN_CLUSTERS else (float("nan"), float("nan"))
        out[f"{name}/{LOW}"], out[f"{name}/{HIGH}"] = bounds
    return out


def bootstrap_unit(split: LabelledSet) -> str:
    """``article`` when the split has article groups, ``paragraph`` when every row is its own group."""
    return "paragraph" if list(split.groups) == list(split.ids) else "article"


def split_intervals(
    split: LabelledSet, mode: str, y_true: np.ndarray, probabilities: np.ndarray, flags: np.ndarray, labels: list[str]
) -> dict[str, float]:
    """The intervals of a split's metrics at one threshold mode, named as the run logs them.

    Validation gets them as well as test: runs are ranked on validation, and
    a ranking is only worth what the spread of its values allows.
    """
    found = metric_intervals(y_true, flags, probabilities, labels, split.groups)
    return {f"{split.name}/{mode}/{name}": value for name, value in found.items()}


def predictions_frame(
    split: LabelledSet, labels: Sequence[str], probabilities: np.ndarray, flags: np.ndarray
) -> pd.DataFrame:
    """One row per test paragraph: id, article, true and predicted labels, one probability per label."""
    frame = pd.DataFrame(
        {
            "id": list(split.ids),
            "article_id": list(split.groups),
            "labels": [sorted(row) for row in split.labels],
            "predicted": [[labels[int(j)] for j in np.flatnonzero(row)] for row in np.asarray(flags)],
        }
    )
    for j, label in enumerate(labels):
        frame[f"p_{label}"] = np.asarray(probabilities)[:, j].astype(float)
    return frame


def log_test_predictions(
    logger: RunLogger, split: LabelledSet, labels: list[str], probabilities: np.ndarray, flags: np.ndarray
) -> None:
    """Log the test split's predictions (tuned thresholds) and the bootstrap's unit; other splits are skipped."""
    if split.name != "test":
        return
    import mlflow

    frame = predictions_frame(split, labels, probabilities, flags)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(PREDICTIONS_ARTIFACT).name
        frame.to_parquet(path, index=False)
        logger.log_artifact(path, str(Path(PREDICTIONS_ARTIFACT).parent))
    with logger.stop.deferred():
        mlflow.set_tag(BOOTSTRAP_UNIT_TAG, bootstrap_unit(split))


def with_interval(metrics: Mapping[str, float], name: str, digits: int = 3) -> str:
    """``0.736 [0.690, 0.781]``, or the bare value when the run logged no interval."""
    value = metrics.get(name)
    if value is None:
        return ""
    low, high = metrics.get(f"{name}/{LOW}"), metrics.get(f"{name}/{HIGH}")
    if low is None or high is None or not (np.isfinite(low) and np.isfinite(high)):
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def config_differences(config: Config) -> list[tuple[str, str, str]]:
    """(key, value, default) for every setting that differs from ``load_config([])``."""
    from framing.config import load_config
    from framing.errors import FramingError
    from framing.tracking import flatten

    try:
        default = flatten(load_config([]).to_dict())
    except FramingError:
        return []
    current = flatten(config.to_dict())
    skip = ("resume", "tracking.")
    return [
        (key, value, default.get(key, "(none)"))
        for key, value in sorted(current.items())
        if value != default.get(key) and not key.startswith(skip)
    ]


def describe_run(config: Config, splits: Splits, metrics: Mapping[str, float]) -> str:
    """The run's Markdown description: headline metrics with intervals, per-label table, data, config diff."""
    split = "test" if splits.test is not None else "validation"
    title = config.tracking.run_name or config.experiment or config.model.family
    lines = [f"**{title}** ({config.model.family}, seed {config.seed}, task {config.data.task})", ""]
    prefix = f"{split}/tuned/"
    headline = ", ".join(
        f"{name.replace('_', ' ')} {with_interval(metrics, prefix + name)}"
        for name in ("f1_macro", "f1_micro", "pr_auc_macro")
        if prefix + name in metrics
    )
    lines.append(f"{split.capitalize()} at tuned thresholds: {headline}.")
    lines.append(_intervals_note(splits))
    validation = with_interval(metrics, "validation/tuned/f1_macro")
    if validation and split == "test":  # without a test split the headline above is validation's already
        lines.append(f"Validation macro F1 (used to choose models): {validation}.")
    lines += ["", "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for label in splits.label_names:
        cells = [with_interval(metrics, f"{prefix}{label}/{m}") for m in ("precision", "recall", "f1")]
        support = int(metrics.get(f"{prefix}{label}/support", 0))
        lines.append(f"| {label} | {' | '.join(cells)} | {support} |")
    cascade = f"cascade/{split}/"
    if cascade + "escalation" in metrics:
        lines += [
            "",
            f"Cascade (the default scoring path; `predict.py --exact` skips it): on the {split} split "
            f"{metrics[cascade + 'escalation']:.1%} of paragraphs go to the transformer, decisions equal the "
            f"transformer's for {metrics[cascade + 'agreement']:.2%} of the worst label's paragraphs "
            f"({metrics[cascade + 'agreement_mean']:.2%} over all labels), macro F1 "
            f"{metrics[cascade + 'f1_macro']:.3f} against {metrics[cascade + 'f1_macro_exact']:.3f}.",
        ]
    lines += ["", "**Data**", "", "| split | file | rows | articles |", "|---|---|---|---|"]
    for part in splits.all():
        lines.append(f"| {part.name} | `{part.path}` | {len(part)} | {len(set(part.groups))} |")
    from framing.languages import language_counts

    counts = language_counts(splits.train.texts)
    lines += ["", "Languages of the training paragraphs: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + "."]
    differences = config_differences(config)
    lines += ["", "**Settings that differ from the defaults**", ""]
    lines += [f"- `{key}`: {value} (default {default})" for key, value, default in differences] or ["- none"]
    return "\n".join(lines) + "\n"


def _intervals_note(splits: Splits) -> str:
    """What the bracketed intervals resample, per evaluated split."""
    evaluated = [part for part in (splits.test, splits.validation) if part is not None]
    over = " and ".join(f"the {len(set(part.groups))} {part.name} {bootstrap_unit(part)}s" for part in evaluated)
    note = f"Intervals: 95% percentile bootstrap over {over} ({N_BOOT} resamples)"
    return note + "; validation intervals leave out the optimism of what is chosen on it (thresholds, the best run)."


def log_description(logger: RunLogger, config: Config, splits: Splits, metrics: Mapping[str, float]) -> str:
    """Set the run's description (shown on its MLflow page) and log it as ``summary.md``."""
    import mlflow

    text = describe_run(config, splits, metrics)
    with logger.stop.deferred():
        mlflow.set_tag(DESCRIPTION_TAG, text)
    logger.log_text(text, "summary.md")
    return text


def read_run_predictions(run_id: str) -> pd.DataFrame:
    """The test predictions a run logged; a ``FramingError`` naming the run when it has none."""
    import mlflow

    from framing.errors import FramingError

    try:
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=PREDICTIONS_ARTIFACT)
    except Exception as exc:  # MLflow raises several types for a missing artifact or run
        raise FramingError(
            f"run {run_id}: no {PREDICTIONS_ARTIFACT} ({type(exc).__name__}); runs trained before test "
            "predictions were logged, or without a test split, cannot be paired"
        ) from None
    return pd.read_parquet(path)


__all__ = [
    "PREDICTIONS_ARTIFACT",
    "count_metrics",
    "describe_run",
    "log_description",
    "log_test_predictions",
    "metric_draws",
    "metric_intervals",
    "predictions_frame",
    "read_run_predictions",
    "split_intervals",
    "weighted_average_precision",
    "with_interval",
]
