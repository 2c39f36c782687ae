"""Transformer-quality decisions at a fraction of the cost: a fast student decides what it is sure of.

A transformer model carries a cascade fitted in its own training run
(``framing.cascade.fit``): a TF-IDF student distilled onto the transformer's
logits (``student``) and a per-label confidence band fitted on validation
(``band``). Scoring asks the student first; only paragraphs where some label
falls inside the band go to the transformer. ``predict.py --exact`` (or
``Predictor.exact``) skips the student. The band, the budget it was fitted
with and its measured agreement live in ``framing.json``; the student in
``cascade/student.skops``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit, softmax

from framing.cascade.band import Band, margins
from framing.cascade.student import Student

CASCADE_DIR = "cascade"


def threshold_logits(thresholds: np.ndarray | None, temperature: float) -> np.ndarray | None:
    """Per-label thresholds in the transformer's logit space (before temperature); None for multi-class."""
    if thresholds is None:
        return None
    clipped = np.clip(np.asarray(thresholds, dtype=np.float64), 1e-12, 1 - 1e-12)
    return temperature * np.log(clipped / (1 - clipped))


def probabilities_from_logits(logits: np.ndarray, temperature: float, multilabel: bool) -> np.ndarray:
    """Sigmoid (multi-label) or softmax (multi-class) of temperature-scaled logits, in numpy."""
    scaled = logits / temperature
    return np.asarray(expit(scaled) if multilabel else softmax(scaled, axis=1))


@dataclass
class Cascade:
    """The student, its band and what the band was fitted to hold (``fitted``: budget, agreement, escalation)."""

    student: Student
    band: Band
    temperature: float
    multilabel: bool
    fitted: dict[str, float] = field(default_factory=dict)

    def route(
        self, texts: Sequence[str], thresholds: np.ndarray | None, open_mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The student's probabilities and which rows the transformer must score instead.

        ``open_mask`` marks the labels a scorer decides per row (``framing.mentions.open_labels``).
        """
        logits = self.student.logits(texts)
        cuts = threshold_logits(thresholds, self.temperature)
        decided = self.band.decided(margins(logits, cuts), self.multilabel, open_mask)
        return probabilities_from_logits(logits, self.temperature, self.multilabel), ~decided

    def settings(self) -> dict[str, Any]:
        """What ``framing.json`` records: the band and its fitted measurements."""
        return {"band": self.band.to_json(), "temperature": self.temperature, "fitted": dict(self.fitted)}

    def save(self, directory: Path) -> None:
        target = directory / CASCADE_DIR
        target.mkdir(parents=True, exist_ok=True)
        self.student.save(target)

    @classmethod
    def load(cls, directory: Path, settings: dict[str, Any], multilabel: bool) -> Cascade:
        return cls(
            student=Student.load(directory / CASCADE_DIR),
            band=Band.from_json(settings["band"]),
            temperature=float(settings["temperature"]),
            multilabel=multilabel,
            fitted={str(k): float(v) for k, v in settings.get("fitted", {}).items()},
        )


__all__ = ["CASCADE_DIR", "Cascade", "probabilities_from_logits", "threshold_logits"]
