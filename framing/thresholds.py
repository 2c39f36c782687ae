"""Per-label decision thresholds, tuned on validation and applied everywhere.

A single 0.5 cut-off suits no label of an imbalanced multi-label task: rare
labels need lower thresholds to be found at all. Thresholds are chosen per
label to maximise F1 (or F-beta, ``train.threshold_beta``) on the validation
split (never on test) and stored with the model, so training metrics, batch
scoring and the MLflow model all flag paragraphs the same way. Multi-class
tasks take the arg-max instead.
"""

from __future__ import annotations

import numpy as np


def tune_thresholds(
    y_true: np.ndarray,
    probabilities: np.ndarray,
    default: float = 0.5,
    low: float = 0.05,
    high: float = 0.95,
    beta: float = 1.0,
) -> np.ndarray:
    """One threshold per label maximising validation F-beta (F1 unless ``beta`` says otherwise).

    Candidates are the observed probabilities inside [low, high] plus the
    default; ties go to the candidate nearest the default, which keeps
    thresholds stable when validation data is small. A label without positive
    validation examples keeps the default. ``beta`` below 1 weighs precision
    above recall (0.5: twice), for flags that must hold up when read one by
    one on a corpus where the label is rarer than in validation.
    """
    weight = beta * beta
    thresholds = np.full(y_true.shape[1], default, dtype=np.float64)
    for j in range(y_true.shape[1]):
        truth = y_true[:, j].astype(bool)
        if not truth.any():
            continue
        scores = probabilities[:, j]
        candidates = np.unique(np.concatenate([scores[(scores >= low) & (scores <= high)], [default]]))
        best = (-1.0, np.inf, default)
        for candidate in candidates:
            predicted = scores >= candidate
            tp = np.sum(predicted & truth)
            score = (1 + weight) * tp / (predicted.sum() + weight * truth.sum()) if tp else 0.0
            distance = abs(candidate - default)
            if score > best[0] or (score == best[0] and distance < best[1]):
                best = (score, distance, float(candidate))
        thresholds[j] = best[2]
    return thresholds


def apply_thresholds(probabilities: np.ndarray, thresholds: np.ndarray | None, task: str) -> np.ndarray:
    """Boolean flags [rows, labels]: per-label cut-offs, or the arg-max for multi-class."""
    if task == "multiclass" or thresholds is None:
        flags = np.zeros(probabilities.shape, dtype=bool)
        if len(probabilities):
            flags[np.arange(len(probabilities)), probabilities.argmax(axis=1)] = True
        return flags
    return probabilities >= thresholds[np.newaxis, :]
