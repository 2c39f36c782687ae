"""Choose paragraphs to label, and record what each stands for so estimates can be reweighted.

The population is every scored paragraph with text, less the exact and near
copies of paragraphs already labelled (``--exclude``); call its size N.
Candidates are walked in an order set by the strategy and the seed; one is
taken unless it copies a paragraph already taken (exact or near) or its
article already gave ``max_per_article`` paragraphs. Each taken paragraph gets
a ``stratum`` and a ``weight``, the number of population paragraphs it stands
for (the inverse of its chance of selection):

- ``random``: a simple random sample; weight N/n, so the weights sum to N.
- ``stratified``: one stratum per label (a paragraph flagged with several goes
  to its rarest flagged label) and one for unflagged paragraphs, equal numbers
  from each (a small stratum gives all it has, the rest go to the others);
  weight N_h/n_h in stratum h, so the weights sum to N. Rare labels get enough
  examples and the estimate is still of the whole corpus.
- ``uncertainty``: the paragraphs whose probability sits closest to a label's
  threshold (multi-label), or with the smallest gap between the two top labels
  (multi-class). They are chosen, not drawn: each stands for itself and its
  exact copies (weight 1 + copies), so the weights sum to the paragraphs they
  cover, not to N, and an estimate on them describes only them.
- ``mixed``: ``random_share`` of n drawn at random and the rest by uncertainty.
  The uncertain paragraphs form a stratum taken whole (weight 1 + their exact
  copies); the random part is a simple random sample of everything else
  (weight N_rest/n_rest). The weights sum to N and the estimate stays
  unbiased, while the labelling effort goes where the model is unsure.

Skipping copies and capping articles nudge the chances of selection a little;
the weights ignore that. The same input, options and seed give the same sample.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from framing.annotate.copies import CopyFilter
from framing.annotate.tasks import stable_id
from framing.data.dedup import normalise_text
from framing.errors import FramingError

STRATEGIES = ("uncertainty", "random", "stratified", "mixed")
UNFLAGGED = "(none)"


@dataclass(frozen=True)
class SampleOptions:
    """What to draw and how."""

    n: int
    strategy: str = "mixed"
    seed: int = 13
    max_per_article: int | None = 2
    copy_threshold: float = 0.9
    random_share: float = 0.5


@dataclass
class SampleResult:
    """The sample (one row per paragraph, with ``strategy``, ``stratum``, ``weight``) and the counts behind it."""

    sample: pd.DataFrame
    population: int
    excluded: int
    skipped: Counter[str] = field(default_factory=Counter)


class _Walk:
    """Takes candidates in order unless they copy a taken paragraph or overfill their article."""

    def __init__(self, frame: pd.DataFrame, copies: CopyFilter, max_per_article: int | None) -> None:
        self.texts = frame["text"].tolist()
        self.articles = frame["article_id"].tolist()
        self.copies = copies
        self.cap = max_per_article
        self.per_article: Counter[str] = Counter()
        self.taken: set[int] = set()
        self.skipped: Counter[str] = Counter()

    def take(self, order: Sequence[int], n: int) -> list[int]:
        chosen: list[int] = []
        for row in order:
            if len(chosen) == n:
                break
            if row in self.taken:
                continue
            if self.cap is not None and self.per_article[self.articles[row]] >= self.cap:
                self.skipped["article cap"] += 1
                continue
            if self.copies.is_copy(self.texts[row]):
                self.skipped["copy of a taken or excluded paragraph"] += 1
                continue
            self.copies.add(self.texts[row])
            self.per_article[self.articles[row]] += 1
            self.taken.add(row)
            chosen.append(row)
        return chosen


def uncertainty(frame: pd.DataFrame, labels: Sequence[str], thresholds: dict[str, float]) -> np.ndarray:
    """Smaller is less sure: distance to the nearest threshold (multi-label) or top-two margin (multi-class)."""
    p = frame[[f"p_{label}" for label in labels]].to_numpy(dtype=float)
    single = len(labels) > 1 and bool(frame["labels"].map(len).eq(1).all()) and np.allclose(p.sum(axis=1), 1, atol=1e-3)
    if single:
        top = np.sort(p, axis=1)
        return top[:, -1] - top[:, -2]
    t = np.array([thresholds[label] for label in labels])
    return np.abs(p - t).min(axis=1)


def strata(frame: pd.DataFrame) -> list[str]:
    """Each paragraph's stratum: its rarest flagged label, or ``(none)``."""
    counts = Counter(label for flagged in frame["labels"] for label in flagged)
    return [
        min(flagged, key=lambda name: (counts[name], name)) if flagged else UNFLAGGED for flagged in frame["labels"]
    ]


def allocate(n: int, sizes: dict[str, int]) -> dict[str, int]:
    """Equal shares of ``n`` over strata, a small stratum giving all it has and the rest shared out."""
    quota = dict.fromkeys(sizes, 0)
    left = min(n, sum(sizes.values()))
    while left > 0:
        open_ = [h for h in sorted(sizes) if quota[h] < sizes[h]]
        share, extra = divmod(left, len(open_))
        for i, h in enumerate(open_):
            give = min(share + (1 if i < extra else 0), sizes[h] - quota[h])
            quota[h] += give
            left -= give
    return quota


def _order(rows: np.ndarray, rng: np.random.Generator) -> list[int]:
    return rows[rng.permutation(len(rows))].tolist()


def _copy_counts(frame: pd.DataFrame, rows: Sequence[int]) -> tuple[dict[int, int], set[int]]:
    """For each taken row, its exact copies in the population (by normalised text), and their positions."""
    keys = frame["text"].map(normalise_text)
    wanted = {keys.iloc[row]: row for row in rows}
    copies: Counter[int] = Counter()
    covered: set[int] = set()
    for position, key in enumerate(keys):
        owner = wanted.get(key)
        if owner is not None and position != owner:
            copies[owner] += 1
            covered.add(position)
    return {row: copies[row] for row in rows}, covered


def draw(
    frame: pd.DataFrame, labels: Sequence[str], thresholds: dict[str, float], options: SampleOptions, copies: CopyFilter
) -> tuple[pd.DataFrame, Counter[str]]:
    """The sample over ``frame`` (the population), with ``strategy``, ``stratum``, ``weight``, ``uncertainty``."""
    rng = np.random.default_rng(options.seed)
    walk = _Walk(frame, copies, options.max_per_article)
    score = uncertainty(frame, labels, thresholds)
    everyone = np.arange(len(frame))
    tiebreak = rng.permutation(len(frame))
    parts: list[tuple[list[int], str, str, np.ndarray]] = []
    n_uncertain = {"uncertainty": options.n, "mixed": options.n - round(options.random_share * options.n)}
    remaining = everyone
    if options.strategy in n_uncertain:
        by_doubt = np.lexsort((tiebreak, score)).tolist()
        chosen = walk.take(by_doubt, n_uncertain[options.strategy])
        extra, covered = _copy_counts(frame, chosen)
        parts.append((chosen, "uncertainty", "uncertainty", np.array([1.0 + extra[r] for r in chosen])))
        remaining = np.setdiff1d(everyone, np.array(sorted(set(chosen) | covered), dtype=int))
    if options.strategy in ("random", "mixed"):
        n_random = options.n - sum(len(p[0]) for p in parts)
        chosen = walk.take(_order(remaining, rng), n_random)
        weight = len(remaining) / len(chosen) if chosen else 0.0
        parts.append((chosen, "random", "random", np.full(len(chosen), weight)))
    if options.strategy == "stratified":
        stratum_of = np.array(strata(frame), dtype=object)
        sizes = {h: int((stratum_of == h).sum()) for h in sorted(set(stratum_of))}
        for h, quota in allocate(options.n, sizes).items():
            chosen = walk.take(_order(everyone[stratum_of == h], rng), quota)
            weight = sizes[h] / len(chosen) if chosen else 0.0
            parts.append((chosen, "stratified", h, np.full(len(chosen), weight)))
    pieces = []
    for rows, strategy, stratum, weights in parts:
        piece = frame.iloc[rows].copy()
        piece["strategy"], piece["stratum"], piece["weight"] = strategy, stratum, weights
        piece["uncertainty"] = score[rows]
        pieces.append(piece)
    sample = pd.concat(pieces, ignore_index=True) if pieces else frame.iloc[:0].copy()
    order = rng.permutation(len(sample))  # strategies interleaved, so annotators cannot tell them apart
    return sample.iloc[order].reset_index(drop=True), walk.skipped


def sample_paragraphs(
    scores: pd.DataFrame,
    labels: Sequence[str],
    thresholds: dict[str, float],
    options: SampleOptions,
    excluded_texts: Sequence[str] = (),
) -> SampleResult:
    """Draw the sample from scored paragraphs; see the module doc."""
    if options.strategy not in STRATEGIES:
        raise FramingError(f"unknown strategy {options.strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if options.n < 1:
        raise FramingError("--n must be at least 1")
    if options.max_per_article is not None and options.max_per_article < 1:
        raise FramingError("--max-per-article must be at least 1")
    if not 0.0 < options.copy_threshold <= 1.0:
        raise FramingError("--copy-threshold must be in (0, 1]")
    if not 0.0 <= options.random_share <= 1.0:
        raise FramingError("--random-share must be between 0 and 1")
    frame = scores[scores["text"].map(normalise_text) != ""].reset_index(drop=True)
    copies = CopyFilter(frame["text"].tolist(), list(excluded_texts), options.copy_threshold, options.seed)
    near = copies.near_excluded(frame["text"].tolist())
    population = frame[~near].reset_index(drop=True)
    if population.empty:
        raise FramingError("no paragraph left to sample (every one is empty or a copy of an excluded paragraph)")
    sample, skipped = draw(population, labels, thresholds, options, copies)
    sample = sample.rename(columns={"id": "source_id"})  # a corpus's own row id; ``id`` is the task's stable id
    sample.insert(
        0,
        "id",
        [stable_id(a, p, t) for a, p, t in zip(sample["article_id"], sample["paragraph"], sample["text"], strict=True)],
    )
    return SampleResult(sample, len(population), int(near.sum()), skipped)
