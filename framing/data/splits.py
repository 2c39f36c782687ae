"""Grouped splits and the cross-split duplicate check.

Paragraphs of one article share wording, names and events, so splits are made
by article (``group``), never by row. Even so, the same paragraph can appear in
two articles (wire copy reprinted by several outlets); the duplicate check
finds exact copies (after normalising case, punctuation and spaces) and near
copies (cosine similarity of character n-gram TF-IDF vectors) across splits and
fails loudly, since either would inflate test scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from framing.data.dataset import LabelledSet
from framing.data.dedup import DedupReport, deduplicate, normalise_text, similarity_vectorizer
from framing.errors import DataError


@dataclass(frozen=True)
class DuplicatePair:
    """Two rows in different splits whose texts are (nearly) the same."""

    left_split: str
    left_id: str
    right_split: str
    right_id: str
    similarity: float

    def describe(self) -> str:
        kind = "exact" if self.similarity >= 0.9999 else f"near ({self.similarity:.2f})"
        return f"{kind}: {self.left_split} id {self.left_id} ~ {self.right_split} id {self.right_id}"


def copy_groups(
    texts: Sequence[str], base_groups: Sequence[str], threshold: float, chunk_rows: int = 2000
) -> list[str]:
    """Merge ``base_groups`` (articles) with exact and near copies into leakage-free groups.

    Two rows end up in one group when they share a base group, the same normalised
    text, or a similarity of at least ``threshold``; the groups are the connected
    components. Splitting by these groups (cross-validation folds, a train/test cut)
    can never put a sentence and its copy on different sides. Each group is named
    by its first member's base group, so names stay readable.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(texts)
    if len(base_groups) != n:
        raise ValueError("texts and base_groups differ in length")
    rows: list[int] = []
    cols: list[int] = []
    first_of: dict[str, int] = {}
    for i, key in enumerate([f"group:{g}" for g in base_groups] + [f"text:{normalise_text(t)}" for t in texts]):
        row = i % n
        if key in first_of:
            rows.append(row)
            cols.append(first_of[key])
        else:
            first_of[key] = row
    if n:
        matrix = similarity_vectorizer(texts).transform([normalise_text(t) for t in texts])
        for start in range(0, n, chunk_rows):
            block = (matrix[start : start + chunk_rows] @ matrix.T).tocoo()
            close = (block.data >= threshold) & (block.row + start != block.col)
            rows.extend((block.row[close] + start).tolist())
            cols.extend(block.col[close].tolist())
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    name_of: dict[int, str] = {}
    for i, c in enumerate(component):
        name_of.setdefault(int(c), str(base_groups[i]))
    return [name_of[int(c)] for c in component]


def find_cross_split_duplicates(
    splits: Sequence[LabelledSet], threshold: float = 0.9, chunk_rows: int = 2000
) -> list[DuplicatePair]:
    """All pairs across different splits with similarity >= ``threshold``.

    Exact copies are found by hashing normalised text; near copies by sparse
    cosine similarity, computed in chunks so memory stays bounded.
    """
    pairs: list[DuplicatePair] = []
    owners: dict[str, tuple[str, str]] = {}
    for split in splits:
        for row_id, text in zip(split.ids, split.texts, strict=True):
            key = normalise_text(text)
            if key in owners and owners[key][0] != split.name:
                pairs.append(DuplicatePair(owners[key][0], owners[key][1], split.name, row_id, 1.0))
            owners.setdefault(key, (split.name, row_id))
    exact = {(p.left_id, p.right_id) for p in pairs}

    vectorizer = similarity_vectorizer([t for s in splits for t in s.texts])
    matrices = [vectorizer.transform([normalise_text(t) for t in s.texts]) for s in splits]
    for i, left in enumerate(splits):
        for j in range(i + 1, len(splits)):
            right = splits[j]
            for start in range(0, len(left), chunk_rows):
                block = (matrices[i][start : start + chunk_rows] @ matrices[j].T).tocoo()
                for r, c, value in zip(block.row, block.col, block.data, strict=True):
                    if value >= threshold:
                        left_id, right_id = left.ids[start + r], right.ids[c]
                        if (left_id, right_id) not in exact:
                            pairs.append(DuplicatePair(left.name, left_id, right.name, right_id, float(value)))
    return pairs


def check_no_cross_split_duplicates(splits: Sequence[LabelledSet], threshold: float = 0.9) -> None:
    """Raise ``DataError`` listing (up to 10) duplicate pairs, and group leakage."""
    groups: dict[str, str] = {}
    for split in splits:
        for group in set(split.groups):
            if group in groups and groups[group] != split.name:
                raise DataError(split.path, f"article {group!r} is in both {groups[group]} and {split.name}")
            groups[group] = split.name
    pairs = find_cross_split_duplicates(splits, threshold)
    if pairs:
        shown = "; ".join(p.describe() for p in pairs[:10])
        more = f" and {len(pairs) - 10} more" if len(pairs) > 10 else ""
        raise DataError(
            splits[-1].path,
            f"{len(pairs)} duplicate paragraph(s) across splits (threshold {threshold}): {shown}{more}. "
            "Remove them or move them into one split.",
        )


def deduplicate_splits(splits: Sequence[LabelledSet]) -> DedupReport:
    """Remove exact copies (normalised text) in place, keeping the first in ``splits`` order; return the report.

    Give the evaluation splits first (test, validation, train): they stay whole and
    their sentences leave the training data, so the scores measure unseen text.
    """
    import pandas as pd

    frames = {s.name: pd.DataFrame({"text": s.texts, "position": range(len(s))}) for s in splits}
    kept, report = deduplicate(frames)
    for split in splits:
        keep = kept[split.name]["position"].tolist()
        split.ids = [split.ids[i] for i in keep]
        split.texts = [split.texts[i] for i in keep]
        split.groups = [split.groups[i] for i in keep]
        split.labels = [split.labels[i] for i in keep]
    return report


def assign_group_splits(groups: Sequence[str], fractions: tuple[float, float, float], seed: int) -> list[str]:
    """Give every row the split of its group; groups are shuffled with ``seed``.

    Returns one of ``train``/``validation``/``test`` per row. Fractions are of
    groups, which keeps whole articles together.
    """
    if not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"split fractions must sum to 1, got {fractions}")
    unique = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(unique))
    n_train = round(fractions[0] * len(unique))
    n_validation = round(fractions[1] * len(unique))
    split_of: dict[str, str] = {}
    for rank, index in enumerate(order):
        name = "train" if rank < n_train else "validation" if rank < n_train + n_validation else "test"
        split_of[unique[index]] = name
    return [split_of[g] for g in groups]
