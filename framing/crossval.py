"""Grouped k-fold cross-validation: every fold is an ordinary training run, nested under one parent run.

Published bias results (BABE, the Ukraine-crisis set) are k-fold means, so a
comparable number needs the same protocol. The folds are grouped: rows that share
an article, the same normalised text or a near copy (``copy_groups``) always land
in the same fold, so a sentence and its reprint are never on both sides. Folds are
stratified by label where the groups allow it.

Each fold writes its train/validation/test rows as JSON Lines and runs
``run_training`` on them, so a fold logs exactly what any run logs (config, data
fingerprints, metrics, plots, thresholds, one model). The validation rows are
carved out of the fold's training part, by group, for early stopping and
thresholds; the test fold is used for nothing but the score. The parent run holds
the mean and standard deviation over folds. Running the same command again after
a crash reopens the parent and skips every fold whose run finished.
"""

from __future__ import annotations

import functools
import hashlib
import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from framing.config import Config, load_config
from framing.data.splits import copy_groups
from framing.errors import ConfigError, DataError

CV_KEY_TAG = "framing.cv_key"
FOLD_TAG = "framing.fold"


@dataclass(frozen=True)
class Fold:
    """Row positions of one fold: ``test`` is the held-out fold, ``validation`` is carved from the rest."""

    number: int
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


@dataclass
class CrossValidationResult:
    """The parent run, each fold's run and test metrics, and their mean and standard deviation."""

    parent_run_id: str
    fold_run_ids: list[str]
    fold_metrics: list[dict[str, float]]
    mean: dict[str, float] = field(default_factory=dict)
    std: dict[str, float] = field(default_factory=dict)
    skipped: list[int] = field(default_factory=list)


def check_fold_count(n_folds: int) -> None:
    """Refuse fewer than two folds before any data is read: one fold leaves nothing to test on."""
    if n_folds < 2:
        raise ConfigError(f"cross-validation needs at least 2 folds (--folds), got {n_folds}")


def _strata(labels: Sequence[Sequence[str]]) -> np.ndarray:
    """One stratum per label combination (``|``-joined, ``-`` for none)."""
    return np.array(["|".join(sorted(row)) or "-" for row in labels])


def make_folds(
    frame: pd.DataFrame, n_folds: int, seed: int, validation_fraction: float = 0.1, group_column: str = "cv_group"
) -> list[Fold]:
    """Stratified, grouped folds over ``frame`` (needs ``labels`` and ``group_column``).

    ``validation_fraction`` of each training part (by group) becomes that fold's
    validation split.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    if n_folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    groups = frame[group_column].astype(str).to_numpy()
    if len(set(groups)) < n_folds:
        raise ValueError(f"{len(set(groups))} groups cannot fill {n_folds} folds")
    strata = _strata(frame["labels"].tolist())
    outer = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    outer_splits = _quiet_splits(outer, strata, groups)
    folds = []
    for number, (rest, test) in enumerate(outer_splits, start=1):
        fit_part, validation_part = _holdout(strata[rest], groups[rest], validation_fraction, seed + number)
        folds.append(Fold(number, np.sort(rest[fit_part]), np.sort(rest[validation_part]), np.sort(test)))
    return folds


def _holdout(strata: np.ndarray, groups: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """About ``fraction`` of the groups (stratified) held out; returns (kept, held-out) positions."""
    from sklearn.model_selection import StratifiedGroupKFold

    n_groups = len(set(groups))
    if n_groups < 2:
        raise ValueError("a validation split needs at least 2 groups")
    largest_stratum = int(np.unique(strata, return_counts=True)[1].max())
    n_splits = max(2, min(round(1 / fraction), n_groups, largest_stratum))  # scikit-learn's limits on a small part
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    kept, held_out = _quiet_splits(splitter, strata, groups)[0]
    return np.sort(kept), np.sort(held_out)


def _quiet_splits(splitter: Any, strata: np.ndarray, groups: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The splitter's (kept, held-out) positions, without its warning about rare label combinations.

    A combination with fewer rows than splits is expected in small or multi-label data.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class in y has only")
        return list(splitter.split(np.zeros(len(strata)), strata, groups))


def holdout_split(
    frame: pd.DataFrame, fraction: float, seed: int, group_column: str = "cv_group"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``frame`` cut by group into (train, validation), ``fraction`` of the groups in validation, stratified."""
    strata = _strata(frame["labels"].tolist())
    kept, held_out = _holdout(strata, frame[group_column].astype(str).to_numpy(), fraction, seed)
    return frame.iloc[kept], frame.iloc[held_out]


def add_leakage_groups(
    frame: pd.DataFrame, threshold: float, group_column: str = "article_id", target: str = "cv_group"
) -> pd.DataFrame:
    """``frame`` with ``target``: its ``group_column`` merged with exact and near copies of each text."""
    result = frame.copy()
    result[target] = copy_groups(result["text"].tolist(), result[group_column].astype(str).tolist(), threshold)
    return result


def write_split(frame: pd.DataFrame, path: Path, group_column: str = "cv_group") -> Path:
    """Rows as the project's JSON Lines (``id``, ``article_id``, ``text``, ``labels``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for record in frame[["id", group_column, "text", "labels"]].to_dict(orient="records"):
            row = {"id": str(record["id"]), "article_id": str(record[group_column]), "text": record["text"]}
            row["labels"] = list(record["labels"])
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def fold_overrides(paths: dict[str, Path], labels: Sequence[str], task: str) -> list[str]:
    """The ``key=value`` overrides that point a run at one fold's files."""
    return [
        f"data.train={paths['train']}",
        f"data.validation={paths['validation']}",
        f"data.test={paths['test']}",
        "data.adapter=generic",
        f"data.task={task}",
        f"data.labels={json.dumps(list(labels))}",
    ]


def _cv_key(overrides: Sequence[str], frame: pd.DataFrame, folds: Sequence[Fold], seed: int) -> str:
    """Same command, same rows and same folds: the same cross-validation (so it can be resumed)."""
    digest = hashlib.sha256()
    digest.update(json.dumps(sorted(overrides)).encode())
    digest.update(str(seed).encode())
    digest.update(pd.util.hash_pandas_object(frame[["id", "text"]], index=False).to_numpy().tobytes())
    for fold in folds:
        digest.update(fold.test.tobytes() + b"|" + fold.validation.tobytes())
    return digest.hexdigest()[:16]


def fold_mean_std(fold_metrics: Sequence[dict[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and (population) standard deviation of each metric every fold has."""
    names = set.intersection(*(set(m) for m in fold_metrics)) if fold_metrics else set()
    mean = {name: float(np.mean([m[name] for m in fold_metrics])) for name in sorted(names)}
    std = {name: float(np.std([m[name] for m in fold_metrics])) for name in sorted(names)}
    return mean, std


def run_cross_validation(
    frame: pd.DataFrame,
    overrides: Sequence[str],
    *,
    labels: Sequence[str],
    task: str,
    work_dir: Path,
    n_folds: int = 5,
    seed: int = 42,
    validation_fraction: float = 0.1,
    name: str = "cv",
    parent_tags: dict[str, str] | None = None,
    train: Callable[[Config], Any] | None = None,
    config_dir: Path | None = None,
    log: Callable[[str], None] = print,
) -> CrossValidationResult:
    """Cross-validate the config of ``overrides`` on ``frame`` (with a ``cv_group`` column); see the module doc.

    Metrics are those the runs log for their test split (``test/tuned/...``),
    returned without that prefix.
    """
    from framing.tracking import parent_run
    from framing.training import run_training

    check_fold_count(n_folds)
    base = load_config(list(overrides), config_dir)
    try:
        folds = make_folds(frame, n_folds, seed, validation_fraction)
    except ValueError as exc:
        raise DataError(base.data.train, f"cannot make {n_folds} folds: {exc}") from None
    key = _cv_key(overrides, frame, folds, seed)
    plan = _FoldPlan(frame, list(overrides), list(labels), task, work_dir / key, name, n_folds, config_dir, log)
    run_fold = functools.partial(plan.run, folds, train or run_training)
    with parent_run(
        base.tracking,
        CV_KEY_TAG,
        key,
        FOLD_TAG,
        name=name,
        tags={"cv.folds": str(n_folds), **(parent_tags or {})},
        params={"cv.folds": n_folds, "cv.seed": seed, "cv.rows": len(frame), "cv.task": task}
        | {"cv.groups": int(frame["cv_group"].nunique()), "cv.labels": json.dumps(list(labels))},
        config=base.to_dict(),
        config_file="cv_config.yaml",
    ) as parent:
        keys = [str(fold.number) for fold in folds]
        run_ids = parent.run_children(keys, run_fold, lambda i: f"fold {folds[i].number}/{n_folds}", log)
        fold_metrics = [_test_metrics(parent.child_metrics(run_id)) for run_id in run_ids]
        mean, std = fold_mean_std(fold_metrics)
        parent.log_metrics({f"cv/{k}/mean": v for k, v in mean.items()})
        parent.log_metrics({f"cv/{k}/std": v for k, v in std.items()})
        table = pd.DataFrame(
            [{"fold": f.number, "run_id": r, **m} for f, r, m in zip(folds, run_ids, fold_metrics, strict=True)]
        )
        parent.log_table(table, "cv_folds.json")
    skipped = [folds[index].number for index in parent.skipped]
    return CrossValidationResult(parent.run_id, run_ids, fold_metrics, mean, std, skipped)


@dataclass(frozen=True)
class _FoldPlan:
    """What every fold run of one cross-validation shares; ``run`` writes a fold's files and trains on them."""

    frame: pd.DataFrame
    overrides: list[str]
    labels: list[str]
    task: str
    directory: Path
    name: str
    n_folds: int
    config_dir: Path | None
    log: Callable[[str], None]

    def run(self, folds: Sequence[Fold], train: Callable[[Config], Any], index: int) -> str:
        """Train on fold ``folds[index]``; returns its run id."""
        fold = folds[index]
        directory = self.directory / f"fold_{fold.number}"
        paths = {
            split: write_split(self.frame.iloc[rows], directory / f"{split}.jsonl")
            for split, rows in (("train", fold.train), ("validation", fold.validation), ("test", fold.test))
        }
        self.log(
            f"fold {fold.number}/{self.n_folds}: train {len(fold.train)}, validation {len(fold.validation)}, "
            f"test {len(fold.test)}"
        )
        config = load_config([*self.overrides, *fold_overrides(paths, self.labels, self.task)], self.config_dir)
        # tagged when the run opens, so a run that finished is never mistaken for a missing fold
        tags = {**config.tracking.tags, FOLD_TAG: str(fold.number)}
        run_name = f"{self.name} fold {fold.number}/{self.n_folds}"
        config = config.with_tracking(run_name=run_name, model_name=None, alias=None, tags=tags)
        return str(train(config).run_id)


def pooled_frame(config: Config) -> tuple[pd.DataFrame, list[str]]:
    """Every row of the config's splits (train, validation, test) as one table, and the label order.

    The rows are read and checked exactly as for training (adapter, columns,
    labels), so the label order is the one training would use; ids must be
    unique across the splits.
    """
    from framing.data.dataset import load_splits

    splits = load_splits(config.data)
    rows = [
        {"id": row_id, "article_id": group, "text": text, "labels": labels}
        for split in splits.all()
        for row_id, group, text, labels in zip(split.ids, split.groups, split.texts, split.labels, strict=True)
    ]
    frame = pd.DataFrame(rows, columns=["id", "article_id", "text", "labels"])
    repeated = frame["id"][frame["id"].duplicated()].tolist()
    if repeated:
        raise DataError(splits.train.path, f"ids repeated across splits: {repeated[:5]}")
    return frame, splits.label_names


def out_of_fold_probabilities(
    frame: pd.DataFrame, config: Config, labels: Sequence[str], n_folds: int = 5, seed: int = 42
) -> np.ndarray:
    """Each row's probabilities from the fold model that never saw it (grouped folds as above, nothing logged).

    For label-error checks: a row's own label cannot leak into its prediction.
    """
    from framing.data.dataset import LabelledSet
    from framing.models.base import FitContext, build_model

    def part(name: str, rows: np.ndarray) -> LabelledSet:
        rows_frame = frame.iloc[rows]
        ids, groups = rows_frame["id"].astype(str).tolist(), rows_frame["cv_group"].astype(str).tolist()
        return LabelledSet(name, Path(name), ids, rows_frame["text"].tolist(), groups, rows_frame["labels"].tolist())

    probabilities = np.zeros((len(frame), len(labels)))
    for fold in make_folds(frame, n_folds, seed):
        model = build_model(config.model, labels=list(labels), task=config.data.task, seed=seed)
        model.fit(part("train", fold.train), part("validation", fold.validation), FitContext())
        probabilities[fold.test] = model.predict_proba(frame["text"].iloc[fold.test].tolist())
    return probabilities


def _test_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """A fold's test metrics at its tuned thresholds, plus its training time and model size."""
    prefix = "test/tuned/"
    result = {
        name.removeprefix(prefix): value
        for name, value in metrics.items()
        if name.startswith(prefix) and not name.endswith(("/ci_low", "/ci_high"))  # a fold's own intervals
    }
    result |= {name: metrics[name] for name in ("train/seconds", "model/size_mb") if name in metrics}
    return result


__all__ = [
    "CrossValidationResult",
    "Fold",
    "add_leakage_groups",
    "fold_mean_std",
    "fold_overrides",
    "holdout_split",
    "make_folds",
    "out_of_fold_probabilities",
    "pooled_frame",
    "run_cross_validation",
    "write_split",
]
