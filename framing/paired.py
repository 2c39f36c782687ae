"""Is run B better than run A? A paired bootstrap on the test rows both runs scored.

Two intervals that overlap do not say two models are equal: both runs saw
the same test paragraphs, so their errors are correlated, and the question is
about the difference. Each draw resamples the test articles once (the cluster
bootstrap of ``framing.uncertainty``) and scores both runs on that same draw;
the 95% interval of B - A in macro F1, micro F1 and each label's F1 answers
"is the variant better?". An interval that excludes 0 is a difference the
test set can see; one that includes 0 is not.

Both runs must have logged their test predictions
(``predictions/test_predictions.parquet``) on the same rows with the same
true labels; anything else is refused, naming what differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from framing.errors import FramingError
from framing.results import confusion_counts, count_metrics
from framing.uncertainty import N_BOOT, SEED, ClusterBootstrap, percentile_interval


@dataclass(frozen=True)
class PairedComparison:
    """Per metric: A, B, B - A and the 95% interval of the difference; and what was resampled."""

    run_a: str
    run_b: str
    table: pd.DataFrame
    rows: int
    articles: int


def _labels_of(frame: pd.DataFrame) -> list[str]:
    return sorted(c.removeprefix("p_") for c in frame.columns if c.startswith("p_"))


def _matrix(values: Sequence[Iterable[str]], labels: Sequence[str]) -> np.ndarray:
    rows = [set(row) for row in values]
    return np.array([[label in row for label in labels] for row in rows], dtype=np.float64).reshape(-1, len(labels))


def align(a: pd.DataFrame, b: pd.DataFrame, run_a: str, run_b: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both runs' predictions on the same rows in the same order; refuses runs tested on different data."""
    if set(a["id"]) != set(b["id"]) or len(a) != len(b):
        only_a, only_b = len(set(a["id"]) - set(b["id"])), len(set(b["id"]) - set(a["id"]))
        raise FramingError(
            f"runs {run_a} and {run_b} were tested on different rows ({only_a} only in the first, "
            f"{only_b} only in the second): a paired comparison needs the same test split"
        )
    a, b = a.sort_values("id").reset_index(drop=True), b.sort_values("id").reset_index(drop=True)
    differing = sum(sorted(x) != sorted(y) for x, y in zip(a["labels"], b["labels"], strict=True))
    if differing:
        raise FramingError(f"runs {run_a} and {run_b} have different true labels on {differing} test row(s)")
    if _labels_of(a) != _labels_of(b):
        raise FramingError(f"runs {run_a} and {run_b} predict different label sets: {_labels_of(a)} vs {_labels_of(b)}")
    return a, b


def _scores(frame: pd.DataFrame, labels: Sequence[str], boot: ClusterBootstrap) -> tuple[dict, dict]:
    counts = confusion_counts(_matrix(frame["labels"], labels), _matrix(frame["predicted"], labels))
    point, draws = {}, {}
    for key, values in counts.items():
        point[key], draws[key] = boot.totals(values)
    return (
        count_metrics(point["tp"], point["fp"], point["fn"], labels),
        count_metrics(draws["tp"], draws["fp"], draws["fn"], labels),
    )


def paired_bootstrap(
    a: pd.DataFrame, b: pd.DataFrame, run_a: str = "A", run_b: str = "B", n_boot: int = N_BOOT, seed: int = SEED
) -> PairedComparison:
    """Differences B - A in macro F1, micro F1 and per-label F1, each with its paired 95% interval."""
    a, b = align(a, b, run_a, run_b)
    labels = _labels_of(a)
    boot = ClusterBootstrap.over(a["article_id"].astype(str), n_boot=n_boot, seed=seed)
    point_a, draws_a = _scores(a, labels, boot)
    point_b, draws_b = _scores(b, labels, boot)
    rows = []
    for name in ("f1_macro", "f1_micro", *(f"{label}/f1" for label in labels)):
        difference = draws_b[name] - draws_a[name]
        low, high = percentile_interval(difference)
        delta = float(point_b[name] - point_a[name])
        rows.append(
            {
                "metric": name,
                "A": float(point_a[name]),
                "B": float(point_b[name]),
                "B - A": delta,
                "ci_low": low,
                "ci_high": high,
                "verdict": _verdict(low, high),
            }
        )
    return PairedComparison(run_a, run_b, pd.DataFrame(rows), len(a), boot.n_clusters)


def _verdict(low: float, high: float) -> str:
    if low > 0:
        return "B better"
    if high < 0:
        return "A better"
    return "no clear difference"


def compare_pair(run_a: str, run_b: str, tracking_uri: str | None = None) -> PairedComparison:
    """Read both runs' logged test predictions and compare them (after checking the store answers)."""
    from framing.config import TrackingConfig
    from framing.results import read_run_predictions
    from framing.tracking import use_reachable_store

    use_reachable_store(TrackingConfig(uri=tracking_uri))
    return paired_bootstrap(read_run_predictions(run_a), read_run_predictions(run_b), run_a, run_b)


def to_text(pair: PairedComparison, digits: int = 3) -> str:
    """The printed form: a header saying what was resampled, then one line per metric."""
    table = pair.table.copy()
    for column in ("A", "B"):
        table[column] = table[column].map(lambda v: f"{v:.{digits}f}")
    table["B - A"] = table["B - A"].map(lambda v: f"{v:+.{digits}f}")
    table["95% CI"] = [
        f"[{lo:+.{digits}f}, {hi:+.{digits}f}]" for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)
    ]
    table = table[["metric", "A", "B", "B - A", "95% CI", "verdict"]]
    header = (
        f"A = {pair.run_a}\nB = {pair.run_b}\n"
        f"paired bootstrap on the same {pair.rows} test paragraphs: {N_BOOT} resamples of their "
        f"{pair.articles} articles, both runs scored on each; tuned thresholds"
    )
    return header + "\n" + table.to_string(index=False)


__all__ = ["PairedComparison", "align", "compare_pair", "paired_bootstrap", "to_text"]
