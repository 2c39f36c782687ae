"""Figures logged with each run: per-label confusion matrices and PR curves."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve


def _grid(n: int) -> tuple[Figure, list[Any]]:
    columns = min(n, 3)
    rows = math.ceil(n / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3.6 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    return figure, list(axes.flat)


def _label(ax: Any, x: str, y: str, label: str) -> None:
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(label, fontsize=10)


def _finish(figure: Figure, title: str) -> Figure:
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def confusion_matrices(y_true: np.ndarray, flags: np.ndarray, labels: Sequence[str], title: str) -> Figure:
    """One 2x2 matrix (gold rows, predicted columns) per label."""
    figure, axes = _grid(len(labels))
    for j, (ax, label) in enumerate(zip(axes, labels, strict=False)):
        truth, pred = y_true[:, j].astype(bool), flags[:, j].astype(bool)
        cells = np.array(
            [[np.sum(~truth & ~pred), np.sum(~truth & pred)], [np.sum(truth & ~pred), np.sum(truth & pred)]]
        )
        ax.imshow(cells, cmap="Blues")
        for (r, c), value in np.ndenumerate(cells):
            ax.text(c, r, str(value), ha="center", va="center", color="black", fontsize=12)
        ax.set_xticks([0, 1], ["no", "yes"])
        ax.set_yticks([0, 1], ["no", "yes"])
        _label(ax, "predicted", "gold", label)
    return _finish(figure, title)


def pr_curves(
    y_true: np.ndarray, probabilities: np.ndarray, thresholds: np.ndarray | None, labels: Sequence[str], title: str
) -> Figure:
    """Precision-recall curve per label, with the chosen threshold marked."""
    figure, axes = _grid(len(labels))
    for j, (ax, label) in enumerate(zip(axes, labels, strict=False)):
        if not y_true[:, j].any():
            ax.set_title(f"{label} (no positives)", fontsize=10)
            continue
        precision, recall, cutoffs = precision_recall_curve(y_true[:, j], probabilities[:, j])
        ax.plot(recall, precision)
        if thresholds is not None and len(cutoffs):
            k = int(np.argmin(np.abs(cutoffs - thresholds[j])))
            ax.scatter([recall[k]], [precision[k]], color="red", zorder=3, label=f"t={thresholds[j]:.2f}")
            ax.legend(loc="lower left", fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.05)
        _label(ax, "recall", "precision", label)
    return _finish(figure, title)
