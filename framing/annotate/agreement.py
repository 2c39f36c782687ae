"""Inter-annotator agreement per label: Krippendorff's alpha, pairwise Cohen's kappa, positive rates.

Each label is treated as its own yes/no decision: for every paragraph with two
or more (counted) annotations, each annotator either chose the label (1) or not
(0); an annotator who did not annotate a paragraph is missing there, not "no".
Alpha is nominal Krippendorff's alpha over that annotators x paragraphs matrix
(the ``krippendorff`` package). Kappa is Cohen's kappa for each pair of
annotators over the paragraphs both annotated. A label nobody ever chose (or
everybody always chose) has no variation, so alpha and kappa are undefined
there and reported as NaN. The positive rate is the share of the paragraphs an
annotator annotated where they chose the label: a large gap between annotators
points at a codebook line read differently.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from framing.annotate.export import Export
from framing.errors import FramingError


@dataclass
class LabelAgreement:
    """Agreement on one label."""

    label: str
    alpha: float
    items: int
    kappa: dict[tuple[str, str], float] = field(default_factory=dict)
    positive_rate: dict[str, float] = field(default_factory=dict)

    @property
    def mean_kappa(self) -> float:
        values = [k for k in self.kappa.values() if not math.isnan(k)]
        return float(np.mean(values)) if values else math.nan


def label_matrix(export: Export, label: str, annotators: Sequence[str]) -> np.ndarray:
    """Annotators x paragraphs (those with 2+ annotations): 1 chose ``label``, 0 did not, NaN did not annotate."""
    items = [item for item in export.items.values() if len(item.annotations) >= 2]
    matrix = np.full((len(annotators), len(items)), np.nan)
    for j, item in enumerate(items):
        for i, name in enumerate(annotators):
            if name in item.annotations:
                matrix[i, j] = 1.0 if label in item.annotations[name] else 0.0
    return matrix


def krippendorff_alpha(matrix: np.ndarray) -> float:
    """Nominal alpha of a 0/1 matrix with NaN for missing; NaN when the pairable values do not vary."""
    import krippendorff

    pairable = matrix[:, (~np.isnan(matrix)).sum(axis=0) >= 2]
    values = pairable[~np.isnan(pairable)]
    if values.size == 0 or np.all(values == values[0]):
        return math.nan
    return float(krippendorff.alpha(reliability_data=pairable, level_of_measurement="nominal"))


def cohen_kappa(left: np.ndarray, right: np.ndarray) -> float:
    """Cohen's kappa of two 0/1 vectors over the positions both have; NaN when chance agreement is total."""
    both = ~np.isnan(left) & ~np.isnan(right)
    a, b = left[both], right[both]
    if a.size == 0:
        return math.nan
    observed = float(np.mean(a == b))
    pa, pb = float(a.mean()), float(b.mean())
    expected = pa * pb + (1 - pa) * (1 - pb)
    return math.nan if expected >= 1.0 else (observed - expected) / (1.0 - expected)


def positive_rates(export: Export, label: str, annotators: Sequence[str]) -> dict[str, float]:
    """Per annotator, the share of their annotated paragraphs where they chose ``label``."""
    rates = {}
    for name in annotators:
        chosen = [label in item.annotations[name] for item in export.items.values() if name in item.annotations]
        rates[name] = float(np.mean(chosen)) if chosen else math.nan
    return rates


def agreement(export: Export, labels: Sequence[str]) -> list[LabelAgreement]:
    """Agreement on each of ``labels``; fails when no paragraph has two annotations."""
    annotators = export.annotators
    items = sum(1 for item in export.items.values() if len(item.annotations) >= 2)
    if items == 0:
        raise FramingError(
            f"no task has annotations by two or more annotators ({len(export.annotated)} annotated tasks, "
            f"{len(annotators)} annotator(s)); agreement needs overlap"
        )
    results = []
    for label in labels:
        matrix = label_matrix(export, label, annotators)
        kappa = {
            (annotators[i], annotators[j]): cohen_kappa(matrix[i], matrix[j])
            for i, j in itertools.combinations(range(len(annotators)), 2)
            if np.any(~np.isnan(matrix[i]) & ~np.isnan(matrix[j]))
        }
        results.append(
            LabelAgreement(label, krippendorff_alpha(matrix), items, kappa, positive_rates(export, label, annotators))
        )
    return results


def agreement_table(results: Sequence[LabelAgreement]) -> list[dict[str, object]]:
    """One row per label: alpha, items, mean kappa, each pair's kappa and each annotator's positive rate."""
    rows: list[dict[str, object]] = []
    for result in results:
        row: dict[str, object] = {"label": result.label, "alpha": result.alpha, "items": result.items}
        row["kappa_mean"] = result.mean_kappa
        row |= {f"kappa {a}~{b}": value for (a, b), value in result.kappa.items()}
        row |= {f"positive_rate {name}": value for name, value in result.positive_rate.items()}
        rows.append(row)
    return rows
