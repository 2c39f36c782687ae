"""Fitting a transformer's cascade in its training run, and measuring it against the transformer.

1. The fine-tuned transformer scores the training paragraphs and, where the
   data names them (``data.unlabelled``), unlabelled paragraphs of the same
   kind of text; the student learns those logits (more text, better mimicry:
   the labels are never needed).
2. On validation, for each error budget in ``BUDGETS``, the band is fitted and
   the cascade's decisions compared with the transformer's; the widest band
   that keeps every label's agreement at least ``agreement`` and macro-F1
   within ``f1_tolerance`` of the transformer's wins. None passing means no
   band: every paragraph goes to the transformer (the run logs that).
3. The test split (never used above) measures what a user gets: agreement,
   escalation rate and F1 next to the transformer's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from framing.cascade import Cascade, probabilities_from_logits, threshold_logits
from framing.cascade.band import Band, fit_band, margins
from framing.cascade.student import Student
from framing.mentions import gate
from framing.thresholds import apply_thresholds

if TYPE_CHECKING:
    from framing.data.dataset import LabelledSet
    from framing.models.transformer import CascadeConfig
    from framing.models.transformer_model import TransformerClassifier

# Student errors allowed per label and side of the band, as a share of the validation rows.
BUDGETS = (0.0, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02)


@dataclass(frozen=True)
class CascadeCheck:
    """The cascade against the transformer on one split."""

    agreement: np.ndarray  # per label: share of rows where both decide the same
    escalation: float  # share of rows the transformer scored
    f1: float  # the cascade's macro-F1 against the labels
    f1_exact: float  # the transformer's

    def metrics(self, prefix: str, labels: Sequence[str]) -> dict[str, float]:
        found = {
            f"{prefix}/agreement": float(self.agreement.min()),
            f"{prefix}/agreement_mean": float(self.agreement.mean()),
            f"{prefix}/escalation": self.escalation,
            f"{prefix}/f1_macro": self.f1,
            f"{prefix}/f1_macro_exact": self.f1_exact,
        }
        found.update({f"{prefix}/agreement/{label}": float(a) for label, a in zip(labels, self.agreement, strict=True)})
        return found

    def holds(self, settings: CascadeConfig) -> bool:
        """Every label's agreement at least ``settings.agreement``, macro-F1 within ``settings.f1_tolerance``."""
        return bool(self.agreement.min() >= settings.agreement and self.f1 >= self.f1_exact - settings.f1_tolerance)


def compare(
    cascade: Cascade,
    student_logits: np.ndarray,
    teacher: np.ndarray,
    truth: np.ndarray,
    thresholds: np.ndarray | None,
    open_mask: np.ndarray | None = None,
) -> CascadeCheck:
    """What the cascade decides on these rows, next to the transformer alone (``teacher``: its probabilities).

    With an ``open_mask`` both sides are compared as users get them: labels it
    rules out are 0 whoever scores the row, and never send a row on.
    """
    from sklearn.metrics import f1_score

    task = "multilabel" if cascade.multilabel else "multiclass"
    cuts = threshold_logits(thresholds, cascade.temperature)
    escalated = ~cascade.band.decided(margins(student_logits, cuts), cascade.multilabel, open_mask)
    student = probabilities_from_logits(student_logits, cascade.temperature, cascade.multilabel)
    if open_mask is not None:
        student, teacher = gate(student, open_mask), gate(teacher, open_mask)
    exact_flags = apply_thresholds(teacher, thresholds, task)
    flags = apply_thresholds(np.where(escalated[:, None], teacher, student), thresholds, task)
    return CascadeCheck(
        agreement=(flags == exact_flags).mean(axis=0),
        escalation=float(escalated.mean()),
        f1=float(f1_score(truth, flags, average="macro", zero_division=0)),
        f1_exact=float(f1_score(truth, exact_flags, average="macro", zero_division=0)),
    )


def _band_for(
    budget: float,
    student_logits: np.ndarray,
    teacher: np.ndarray,
    thresholds: np.ndarray | None,
    temperature: float,
    open_mask: np.ndarray | None = None,
) -> Band:
    cuts = threshold_logits(thresholds, temperature)
    if cuts is not None:
        flags = apply_thresholds(teacher, thresholds, "multilabel")
        margin = margins(student_logits, cuts)
        if open_mask is None:
            return fit_band(margin, flags, budget, multilabel=True)
        # each label's band from the rows where a scorer decides it
        bands = [
            fit_band(margin[open_mask[:, j], j : j + 1], flags[open_mask[:, j], j : j + 1], budget, multilabel=True)
            for j in range(margin.shape[1])
        ]
        return Band(np.concatenate([b.low for b in bands]), np.concatenate([b.high for b in bands]))
    same = (student_logits.argmax(axis=1) == teacher.argmax(axis=1))[:, None]
    return fit_band(margins(student_logits, None), same, budget, multilabel=False)


def choose_band(
    student: Student,
    validation_student: np.ndarray,
    validation_teacher: np.ndarray,
    truth: np.ndarray,
    thresholds: np.ndarray | None,
    temperature: float,
    settings: CascadeConfig,
    open_mask: np.ndarray | None = None,
) -> tuple[Cascade, CascadeCheck]:
    """The widest band of ``BUDGETS`` that holds ``settings``' agreement and F1 on validation.

    ``validation_teacher`` holds the transformer's probabilities on the validation rows;
    ``open_mask`` the labels a scorer decides per row (``framing.mentions.open_labels``).
    """
    multilabel = thresholds is not None
    closed = Band(np.full(truth.shape[1], -np.inf), np.full(truth.shape[1], np.inf))
    best = Cascade(student, closed, temperature, multilabel, {"budget": -1.0})
    best_check = compare(best, validation_student, validation_teacher, truth, thresholds, open_mask)
    for budget in BUDGETS:
        candidate = Cascade(
            student,
            _band_for(budget, validation_student, validation_teacher, thresholds, temperature, open_mask),
            temperature,
            multilabel,
        )
        check = compare(candidate, validation_student, validation_teacher, truth, thresholds, open_mask)
        if check.holds(settings) and check.escalation < best_check.escalation:
            best, best_check = candidate, check
            best.fitted = {"budget": budget}
    best.fitted.update(
        {
            "validation_agreement": float(best_check.agreement.min()),
            "validation_escalation": best_check.escalation,
        }
    )
    return best, best_check


def unlabelled_paragraphs(path: Path, exclude: set[str], limit: int, seed: int) -> tuple[list[str], int]:
    """Body paragraphs of ``path`` (any input ``predict.py`` reads) not in ``exclude``, at most ``limit``.

    Returns them with the number of rejected records (unreadable rows or
    files), which the run logs rather than drops silently. A random sample
    (seeded) when there are more than ``limit``.
    """
    from framing.scoring.sources import SourceOptions, iter_source

    texts: list[str] = []
    rejected = 0
    for record in iter_source(path, SourceOptions()):
        if not isinstance(record, dict):
            rejected += 1
        elif record.get("kind", "body") == "body" and record["text"] not in exclude:
            texts.append(record["text"])
    unique = sorted(set(texts))
    if len(unique) > limit:
        chosen = np.random.default_rng(seed).choice(len(unique), size=limit, replace=False)
        unique = [unique[i] for i in sorted(chosen)]
    return unique, rejected


def fit_cascade(
    model: TransformerClassifier,
    thresholds: np.ndarray | None,
    train: LabelledSet,
    validation: LabelledSet,
    validation_probabilities: np.ndarray,
    settings: CascadeConfig,
    unlabelled: Sequence[str] = (),
    seed: int = 0,
    open_mask: np.ndarray | None = None,
) -> tuple[Cascade, dict[str, float]]:
    """Distil the student, fit its band on validation, and return both with the run's ``cascade/`` metrics.

    ``validation_probabilities`` are the transformer's on ``validation``, as the run already computed them;
    ``open_mask`` marks the labels a scorer decides on each validation row.
    """
    started = time.perf_counter()
    distil_texts = list(train.texts) + list(unlabelled)
    student = Student.fit(distil_texts, model.logits(distil_texts), seed=seed)
    truth = validation.label_matrix(model.labels)
    cascade, check = choose_band(
        student,
        student.logits(validation.texts),
        validation_probabilities,
        truth,
        thresholds,
        model.temperature,
        settings,
        open_mask,
    )
    metrics = check.metrics("cascade/validation", model.labels)
    metrics.update(
        {
            "cascade/budget": cascade.fitted["budget"],
            "cascade/distillation_rows": float(len(distil_texts)),
            "cascade/fit_seconds": time.perf_counter() - started,
        }
    )
    return cascade, metrics


def check_on(
    cascade: Cascade,
    split: LabelledSet,
    probabilities: np.ndarray,
    labels: Sequence[str],
    thresholds: np.ndarray | None,
    open_mask: np.ndarray | None = None,
) -> dict[str, float]:
    """The cascade against the transformer (its ``probabilities``) on a split it was not fitted on (test)."""
    truth = split.label_matrix(list(labels))
    check = compare(cascade, cascade.student.logits(split.texts), probabilities, truth, thresholds, open_mask)
    return check.metrics(f"cascade/{split.name}", labels)


__all__ = ["BUDGETS", "CascadeCheck", "check_on", "choose_band", "compare", "fit_cascade", "unlabelled_paragraphs"]
