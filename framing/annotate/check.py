"""Likely label errors: where the given labels disagree with out-of-fold predictions (cleanlab).

Every paragraph is scored by a model trained on the other folds (grouped by
article and copies, as ``framing cv``), so its own label never shapes its
prediction. cleanlab's ``find_label_issues`` then flags the paragraphs whose
given labels the held-out model finds least credible, ranked by cleanlab's
label quality score (lowest first). For each, the table gives the given
labels, the labels the held-out model suggests (probability >= 0.5, or the
top label for single-label tasks) and the labels in question.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from framing.errors import FramingError


def _suggested(probabilities: np.ndarray, labels: Sequence[str], single_label: bool) -> list[list[str]]:
    if single_label:
        return [[labels[int(j)]] for j in probabilities.argmax(axis=1)]
    return [[labels[int(j)] for j in np.flatnonzero(row >= 0.5)] for row in probabilities]


def label_issues(
    frame: pd.DataFrame, labels: Sequence[str], probabilities: np.ndarray, single_label: bool = False
) -> pd.DataFrame:
    """The suspect rows of ``frame`` (``id``, ``article_id``, ``text``, ``labels``), most suspect first."""
    from cleanlab.filter import find_label_issues

    index = {label: j for j, label in enumerate(labels)}
    given = [[index[label] for label in row] for row in frame["labels"]]
    if single_label:
        from cleanlab.rank import get_label_quality_scores

        targets = np.array([row[0] for row in given])
        issues = find_label_issues(labels=targets, pred_probs=probabilities)
        quality = get_label_quality_scores(targets, probabilities)
    else:
        from cleanlab.multilabel_classification import get_label_quality_scores as multilabel_quality
        from cleanlab.multilabel_classification.filter import find_label_issues as find_multilabel_issues

        issues = find_multilabel_issues(labels=given, pred_probs=probabilities)
        quality = multilabel_quality(given, probabilities)
    suggested = _suggested(probabilities, labels, single_label)
    table = pd.DataFrame(
        {
            "id": frame["id"].astype(str).to_numpy(),
            "article_id": frame["article_id"].astype(str).to_numpy(),
            "text": frame["text"].to_numpy(),
            "given": [sorted(row) for row in frame["labels"]],
            "suggested": [sorted(row) for row in suggested],
            "quality": quality,
        }
    )
    table["in_question"] = [sorted(set(g) ^ set(s)) for g, s in zip(table["given"], table["suggested"], strict=True)]
    for j, label in enumerate(labels):
        table[f"p_{label}"] = probabilities[:, j]
    suspects = table[np.asarray(issues, dtype=bool)].sort_values("quality", kind="stable")
    suspects.insert(0, "rank", range(1, len(suspects) + 1))
    return suspects.reset_index(drop=True)


def check_frame(frame: pd.DataFrame, labels: Sequence[str]) -> None:
    """cleanlab needs at least one example of each label and folds need several articles."""
    seen = {label for row in frame["labels"] for label in row}
    missing = [label for label in labels if label not in seen]
    if missing:
        raise FramingError(f"label(s) {missing} have no example in the data; cleanlab needs at least one of each")
