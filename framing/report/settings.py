"""What a report counts and how it qualifies shares; shared by the aggregation, the page and the flow."""

from __future__ import annotations

from dataclasses import dataclass

from framing.report.examples import EXAMPLES
from framing.report.shares import MIN_ARTICLES, Correction
from framing.uncertainty import N_BOOT

BODY_ONLY = ("body",)
MISSING = "(missing)"  # how a missing value (a group without an outlet, say) is shown in tables and plots


@dataclass(frozen=True)
class ReportSettings:
    """How shares are qualified: interval resamples, the minimum articles per group, an optional correction."""

    min_articles: int = MIN_ARTICLES
    n_boot: int = N_BOOT
    correction: Correction | None = None
    kinds: tuple[str, ...] | None = BODY_ONLY  # rows counted; None: every kind
    examples: int = EXAMPLES  # flagged paragraphs shown per label, evidence highlighted; 0: none


__all__ = ["BODY_ONLY", "MISSING", "ReportSettings"]
