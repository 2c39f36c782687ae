"""The one cluster bootstrap behind every interval the package reports.

Paragraphs of one article share an author, an outlet and a topic: they are
not independent draws, and an interval that resamples paragraphs is too
narrow. Every interval here therefore resamples whole clusters (articles)
with replacement and reads the 2.5th and 97.5th percentiles of the statistic
over the draws (a percentile cluster bootstrap). Statistics built from sums
over rows (counts of true and false positives, flagged paragraphs, sampling
weights) need only the per-cluster sums: a draw is ``counts @ cluster_sums``.
Statistics that need the rows (PR-AUC) use ``row_weights``: a row counts as
often as its cluster was drawn.

Used by test-metric intervals (``framing.results``), the paired comparison of
two runs (``framing.paired``), corpus shares (``framing report``) and the
annotation estimate (``framing annotate estimate``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

N_BOOT = 1000
CONFIDENCE = 0.95
SEED = 13
METHOD = "95% percentile cluster bootstrap (articles resampled)"
# One article resampled is always itself: its interval would have no width, not certainty. Below this, none.
MIN_CLUSTERS = 2


@dataclass(frozen=True)
class ClusterBootstrap:
    """A resampling plan: each row's cluster, and how often each draw takes each cluster."""

    inverse: np.ndarray  # row -> cluster index
    counts: np.ndarray  # [draws, clusters]: times each cluster is drawn
    clusters: np.ndarray  # the cluster keys, sorted

    @classmethod
    def over(cls, clusters: Sequence[object] | np.ndarray, n_boot: int = N_BOOT, seed: int = SEED) -> ClusterBootstrap:
        """Draw ``n_boot`` resamples of the distinct values of ``clusters`` (one per row)."""
        keys, inverse = np.unique(np.asarray([str(c) for c in clusters], dtype=object), return_inverse=True)
        n = len(keys)
        if n == 0:
            counts = np.zeros((n_boot, 0), dtype=np.int64)
        else:
            counts = np.random.default_rng(seed).multinomial(n, np.full(n, 1 / n), n_boot)
        return cls(inverse=inverse.reshape(-1), counts=counts, clusters=keys)

    @property
    def n_clusters(self) -> int:
        return len(self.clusters)

    def cluster_sums(self, values: np.ndarray) -> np.ndarray:
        """Row values [rows, ...] summed per cluster [clusters, ...]."""
        values = np.asarray(values, dtype=float)
        out = np.zeros((self.n_clusters, *values.shape[1:]))
        np.add.at(out, self.inverse, values)
        return out

    def totals(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The column sums of ``values`` (the point) and the same sums in every draw [draws, ...]."""
        sums = self.cluster_sums(values)
        point = sums.sum(axis=0)
        draws = np.tensordot(self.counts.astype(float), sums, axes=(1, 0))
        return point, draws

    def row_weights(self) -> np.ndarray:
        """[draws, rows]: how many times each row is in each draw (its cluster's count)."""
        return self.counts[:, self.inverse].astype(float)


def percentile_interval(draws: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The central ``confidence`` interval of the finite draws; NaN when no draw is finite."""
    values = np.asarray(draws, dtype=float).reshape(-1)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return float("nan"), float("nan")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def intervals(draws: np.ndarray, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """Per column of ``draws`` [draws, columns], the low and high ends of its interval."""
    draws = np.asarray(draws, dtype=float)
    pairs = [percentile_interval(draws[:, j], confidence) for j in range(draws.shape[1])]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def ratio_interval(numerator: np.ndarray, denominator: np.ndarray, boot: ClusterBootstrap) -> dict[str, np.ndarray]:
    """A ratio of column sums (a share, a prevalence) with its interval, per column.

    ``numerator`` and ``denominator`` are per row (``[rows, columns]`` or
    ``[rows]``); returns ``value``, ``low`` and ``high`` arrays.
    """
    num = np.asarray(numerator, dtype=float)
    den = np.broadcast_to(np.asarray(denominator, dtype=float).reshape(len(num), -1), num.reshape(len(num), -1).shape)
    num = num.reshape(len(num), -1)
    point_num, draws_num = boot.totals(num)
    point_den, draws_den = boot.totals(den)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = point_num / point_den
        draws = draws_num / draws_den
    low, high = intervals(draws)
    return {"value": value, "low": low, "high": high}


def cluster_ratio(
    numerators: np.ndarray, denominators: np.ndarray, n_boot: int = N_BOOT, seed: int = SEED, chunk: int = 100
) -> dict[str, np.ndarray]:
    """A ratio of sums over clusters given one row per cluster (``numerators`` [clusters, columns]).

    The same resampling as ``ClusterBootstrap`` (clusters drawn with
    replacement), but drawn ``chunk`` resamples at a time, so memory stays at
    ``chunk x clusters`` for a group of a million articles. Returns ``value``,
    ``low`` and ``high`` per column; the bounds are NaN for fewer than
    ``MIN_CLUSTERS`` clusters (where no spread can be seen).
    """
    num = np.asarray(numerators, dtype=float).reshape(len(numerators), -1)
    den = np.asarray(denominators, dtype=float).reshape(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = num.sum(axis=0) / den.sum()
    k = len(den)
    if k < MIN_CLUSTERS or n_boot == 0:
        nan = np.full(num.shape[1], np.nan)
        return {"value": value, "low": nan, "high": nan.copy()}
    rng = np.random.default_rng(seed)
    draws = []
    for start in range(0, n_boot, chunk):
        counts = rng.multinomial(k, np.full(k, 1 / k), min(chunk, n_boot - start)).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            draws.append((counts @ num) / (counts @ den)[:, None])
    low, high = intervals(np.vstack(draws))
    return {"value": value, "low": low, "high": high}


__all__ = [
    "CONFIDENCE",
    "METHOD",
    "MIN_CLUSTERS",
    "N_BOOT",
    "ClusterBootstrap",
    "cluster_ratio",
    "intervals",
    "percentile_interval",
    "ratio_interval",
]
