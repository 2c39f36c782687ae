"""Metrics and error analysis from probabilities, flags and gold labels.

Plain numpy/scikit-learn in, flat ``{name: value}`` dicts out, so that the
same numbers feed MLflow, the console summary and tests. Metric names are the
same for every model family, which lines runs up in the MLflow compare view.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, precision_recall_fscore_support


def compute_metrics(
    y_true: np.ndarray, probabilities: np.ndarray, flags: np.ndarray, labels: Sequence[str]
) -> dict[str, float]:
    """Micro/macro F1, precision, recall; per-label P/R/F1/support; PR-AUC.

    PR-AUC (average precision) does not depend on thresholds; it is NaN-free:
    a label without positives in the split gets no PR-AUC entry and is left out
    of the macro PR-AUC.
    """
    metrics: dict[str, float] = {}
    y_true, flags = np.asarray(y_true).astype(int), np.asarray(flags).astype(int)
    for average in ("micro", "macro"):
        # scikit-learn reads a one-column indicator matrix as a binary vector and would average
        # over both classes; with one label, micro and macro are that label's own numbers
        mode = "binary" if y_true.shape[1] == 1 else average
        precision, recall, f1, _ = precision_recall_fscore_support(y_true, flags, average=mode, zero_division=0)
        metrics[f"f1_{average}"] = float(f1)
        metrics[f"precision_{average}"] = float(precision)
        metrics[f"recall_{average}"] = float(recall)
    pr_aucs = []
    for j, label in enumerate(labels):
        precision, recall, f1, _ = precision_recall_fscore_support(
            y_true[:, j], flags[:, j], average="binary", zero_division=0
        )
        metrics[f"{label}/precision"] = float(precision)
        metrics[f"{label}/recall"] = float(recall)
        metrics[f"{label}/f1"] = float(f1)
        metrics[f"{label}/support"] = float(y_true[:, j].sum())
        if y_true[:, j].any():
            pr_auc = float(average_precision_score(y_true[:, j], probabilities[:, j]))
            metrics[f"{label}/pr_auc"] = pr_auc
            pr_aucs.append(pr_auc)
    if pr_aucs:
        metrics["pr_auc_macro"] = float(np.mean(pr_aucs))
    return metrics


def error_analysis(
    ids: Sequence[str],
    texts: Sequence[str],
    y_true: np.ndarray,
    probabilities: np.ndarray,
    flags: np.ndarray,
    labels: Sequence[str],
    rows_per_kind: int,
) -> pd.DataFrame:
    """The most confident mistakes: false positives with the highest probability,
    false negatives with the lowest, per label, at most ``rows_per_kind`` each."""
    records = []
    for j, label in enumerate(labels):
        truth, flagged, score = y_true[:, j].astype(bool), flags[:, j], probabilities[:, j]
        false_pos = np.flatnonzero(flagged & ~truth)
        false_neg = np.flatnonzero(~flagged & truth)
        worst = [("false_positive", i) for i in false_pos[np.argsort(-score[false_pos])][:rows_per_kind]]
        worst += [("false_negative", i) for i in false_neg[np.argsort(score[false_neg])][:rows_per_kind]]
        for kind, i in worst:
            gold = [labels[int(k)] for k in np.flatnonzero(y_true[i])]
            records.append(
                {
                    "label": label,
                    "error": kind,
                    "probability": round(float(score[i]), 4),
                    "id": ids[i],
                    "gold_labels": ", ".join(gold),
                    "text": texts[i],
                }
            )
    columns = ["label", "error", "probability", "id", "gold_labels", "text"]
    return pd.DataFrame.from_records(records, columns=columns)
