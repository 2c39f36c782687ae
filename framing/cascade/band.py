"""The confidence band: where the fast scorer's word is taken and where the transformer must decide.

The student predicts the transformer's logits. For a multi-label model the
decision on label ``j`` is ``logit_j >= cut_j`` (``cut_j`` is the tuned
threshold in logit space, temperature included), so the student's *margin*
``student_logit_j - cut_j`` says how sure it is. A label is decided by the
student when its margin is at most ``low_j`` (surely off) or at least
``high_j`` (surely on); a paragraph goes to the transformer when any label is
inside its band. ``low <= 0 <= high`` always, so thresholding the student's
probabilities gives exactly the band's decisions and one rule serves both
scorers. A multi-class model has one margin per paragraph (top logit minus
the runner-up) and one ``low``: at least that margin, the student's class is
kept.

The band is fitted on held-out rows (validation), where the transformer's
decisions are known: per label, the widest region on each side holding at
most ``budget`` of the rows where the student would contradict the
transformer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Band:
    """Per-label margins outside which the student decides; one ``low`` for a multi-class model."""

    low: np.ndarray
    high: np.ndarray

    def decided(self, margins: np.ndarray, multilabel: bool, open_mask: np.ndarray | None = None) -> np.ndarray:
        """Rows the student decides alone: every label outside its band, or ruled out for the row.

        ``open_mask`` ([rows, labels], ``framing.mentions.open_labels``) is False
        where a requirement decides the label (no news-media reference): no
        scorer is asked, so the label cannot send the row on.
        """
        if not multilabel:
            return np.asarray(margins[:, 0] >= self.low[0])
        outside = (margins <= self.low) | (margins >= self.high)
        if open_mask is not None:
            outside |= ~open_mask
        return np.asarray(outside.all(axis=1))

    def to_json(self) -> dict[str, Any]:
        return {"low": [float(v) for v in self.low], "high": [float(v) for v in self.high]}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Band:
        return cls(np.asarray(value["low"], dtype=np.float64), np.asarray(value["high"], dtype=np.float64))


def margins(student_logits: np.ndarray, cuts: np.ndarray | None) -> np.ndarray:
    """Distance of the student's logits from the decision: per label (``cuts`` given) or top-2 gap."""
    if cuts is not None:
        return student_logits - cuts
    ordered = np.sort(student_logits, axis=1)
    return (ordered[:, -1] - ordered[:, -2])[:, None] if ordered.shape[1] > 1 else np.full((len(ordered), 1), np.inf)


def _widest_side(margin: np.ndarray, wrong: np.ndarray, allowed: int) -> float:
    """The margin up to which (from the low end) at most ``allowed`` rows are ``wrong``; -inf if none fit."""
    order = np.argsort(margin, kind="stable")
    errors = np.cumsum(wrong[order])
    count = int(np.searchsorted(errors, allowed, side="right"))
    if count == 0:
        return -np.inf
    if count < len(order) and margin[order[count]] == margin[order[count - 1]]:
        count = int(np.searchsorted(margin[order], margin[order[count]], side="left"))  # never split a tie
        if count == 0:
            return -np.inf
    return float(margin[order[count - 1]])


def fit_band(margin: np.ndarray, teacher_flags: np.ndarray, budget: float, multilabel: bool) -> Band:
    """The widest band allowing ``budget`` (a share of the rows) student errors per label and side.

    ``teacher_flags`` are the transformer's decisions on the same rows (for a
    multi-class model: whether the student's top class is the transformer's).
    """
    allowed = int(np.floor(budget * len(margin)))
    if not multilabel:
        low = -_widest_side(-margin[:, 0], ~teacher_flags[:, 0], allowed)
        return Band(np.asarray([max(low, 0.0)]), np.asarray([np.inf]))
    lows, highs = [], []
    for j in range(margin.shape[1]):
        low = _widest_side(margin[:, j], teacher_flags[:, j], allowed)
        high = -_widest_side(-margin[:, j], ~teacher_flags[:, j], allowed)
        lows.append(min(low, 0.0) if np.isfinite(low) else -np.inf)
        highs.append(max(high, 0.0) if np.isfinite(high) else np.inf)
    return Band(np.asarray(lows), np.asarray(highs))


__all__ = ["Band", "fit_band", "margins"]
