"""Side-by-side comparison of an experiment's runs, ranked the way a model should be chosen.

A model is chosen on validation: ranking or starring on test would turn the
test split into a second validation set and its numbers into optimistic ones
(a sweep picks C=16 on validation; a table that stars test values would
point at C=1). So rows are ranked by a validation metric (default
``validation/tuned/f1_macro``), the ``*`` marks the best validation value per
column, and each test metric stands beside its validation twin, labelled, for
reporting only. Both carry their 95% bootstrap interval over articles where
the run logged one: a validation lead smaller than the intervals' width may
not hold on other articles (``framing compare RUN_A RUN_B`` tests a pair).

Cross-validation folds are not runs to choose between: their parent runs are
listed in a table of their own (mean ± std over folds) and the fold runs are
left out; a sweep's parent run repeats its best trial and is left out too.
Columns come in a fixed order (labels sorted), whatever order MLflow returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from framing.errors import FramingError

KEY_PARAMS = ("model.family", "seed", "experiment")
VALIDATION_PREFIX = "validation/tuned/"
TEST_PREFIX = "test/tuned/"
RANK_METRIC = "f1_macro"
SUMMARY_METRICS = ("f1_macro", "f1_micro", "pr_auc_macro")
# Lower is better for these columns; higher for every other metric.
COST_COLUMNS = ("train/seconds", "model/size_mb")
BEST_MARK = "*"
FOLD_TAG, CV_KEY_TAG, SWEEP_KEY_TAG = "framing.fold", "framing.cv_key", "framing.sweep_key"
NULL_VALUES = ("null", "none", "~")


@dataclass(frozen=True)
class Comparison:
    """Ordinary runs as ranked rows (``table``), the best run id per starred column, and the CV parents.

    ``table`` holds raw numbers: ``validation/<m>`` (starred) and ``test/<m>``,
    each with ``<column>/ci_low`` and ``<column>/ci_high``, and the cost columns.
    """

    table: pd.DataFrame
    best: dict[str, str]
    metric_columns: list[str]  # starred: validation metrics and costs
    test_columns: list[str]
    cv_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    left_out: dict[str, int] = field(default_factory=dict)
    rank_by: str = VALIDATION_PREFIX + RANK_METRIC

    def marked(self, digits: int = 3) -> pd.DataFrame:
        """The display table: values rounded with ``[low, high]`` where logged, best validation value ``*``."""
        out = self.table[[c for c in self.table.columns if not c.endswith(("/ci_low", "/ci_high"))]].copy()
        out = out.astype(object)
        for column in self.metric_columns:
            best_run = self.best.get(column)
            marks = [BEST_MARK if run == best_run else "" for run in self.table["run_id"]]
            out[column] = [_with_interval(self.table, column, i, digits, mark) for i, mark in enumerate(marks)]
        for column in self.test_columns:
            out[column] = [_with_interval(self.table, column, i, digits) for i in range(len(self.table))]
        renamed = {c: f"{c} [95% CI]" for c in self.test_columns}
        return out.rename(columns=renamed).fillna("")


def _with_interval(table: pd.DataFrame, column: str, row: int, digits: int, mark: str = "") -> str:
    """``0.750* [0.700, 0.800]``: the value, its mark, and its interval when the run logged one."""
    value = table[column].iloc[row]
    if pd.isna(value):
        return ""
    low, high = (
        table.get(f"{column}/{end}", pd.Series([np.nan] * len(table))).iloc[row] for end in ("ci_low", "ci_high")
    )
    if pd.isna(low) or pd.isna(high):
        return f"{value:.{digits}f}{mark}"
    return f"{value:.{digits}f}{mark} [{low:.{digits}f}, {high:.{digits}f}]"


def _label_names(columns: Sequence[str]) -> list[str]:
    """Labels with a validation or test ``<label>/f1`` metric, sorted (a stable order between calls)."""
    names: set[str] = set()
    for prefix in (VALIDATION_PREFIX, TEST_PREFIX):
        for column in columns:
            if column.startswith(f"metrics.{prefix}") and column.endswith("/f1"):
                label = column[len(f"metrics.{prefix}") : -len("/f1")]
                if "/" not in label:
                    names.add(label)
    return sorted(names)


def _metric(runs: pd.DataFrame, name: str) -> np.ndarray:
    column = f"metrics.{name}"
    values = runs[column] if column in runs else pd.Series([np.nan] * len(runs))
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def _tag(runs: pd.DataFrame, tag: str) -> pd.Series:
    column = f"tags.{tag}"
    return runs[column].notna() if column in runs else pd.Series([False] * len(runs), index=runs.index)


def split_kinds(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Ordinary runs (sweep trials included), cross-validation parents, and counts of the runs left out."""
    folds, cv, sweeps = _tag(runs, FOLD_TAG), _tag(runs, CV_KEY_TAG), _tag(runs, SWEEP_KEY_TAG)
    ordinary = runs[~(folds | cv | sweeps)].reset_index(drop=True)
    left_out = {"cross-validation fold": int(folds.sum()), "sweep parent": int(sweeps.sum())}
    return ordinary, runs[cv].reset_index(drop=True), {k: v for k, v in left_out.items() if v}


def _base_columns(runs: pd.DataFrame, params: Sequence[str]) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "run": runs.get("tags.mlflow.runName", pd.Series([""] * len(runs))).fillna("").to_numpy(),
            "run_id": runs["run_id"].to_numpy(),
            "status": runs["status"].to_numpy(),
        }
    )
    for param in params:
        column = f"params.{param}"
        table[param] = runs[column].to_numpy() if column in runs else None
    return table


def _ranked(table: pd.DataFrame, rank_column: str) -> pd.DataFrame:
    """Rows by the rank metric (best first, runs without it last), ties by run id; a ``rank`` column first."""
    order = table.assign(_key=-table[rank_column].fillna(-np.inf)).sort_values(["_key", "run_id"], kind="mergesort")
    ranked = order.drop(columns="_key").reset_index(drop=True)
    ranked.insert(0, "rank", [str(i) if pd.notna(v) else "" for i, v in enumerate(ranked[rank_column], start=1)])
    return ranked


def build_comparison(
    runs: pd.DataFrame, params: Sequence[str] = KEY_PARAMS, rank_metric: str = RANK_METRIC
) -> Comparison:
    """Turn ``mlflow.search_runs`` output into the ranked comparison (see the module doc)."""
    if runs.empty:
        raise FramingError("no runs to compare (check the experiment name and filters)")
    rank_metric = rank_metric.removeprefix(VALIDATION_PREFIX)
    ordinary, cv_parents, left_out = split_kinds(runs)
    labels = _label_names(list(runs.columns))
    names = [*SUMMARY_METRICS, *(f"{label}/f1" for label in labels)]
    if rank_metric not in names:
        names.insert(0, rank_metric)
    table = _base_columns(ordinary, params)
    metric_columns, test_columns = [], []
    for name in names:
        for split, prefix in (("validation", VALIDATION_PREFIX), ("test", TEST_PREFIX)):
            table[f"{split}/{name}"] = _metric(ordinary, prefix + name)
            for end in ("ci_low", "ci_high"):
                table[f"{split}/{name}/{end}"] = _metric(ordinary, f"{prefix}{name}/{end}")
        metric_columns.append(f"validation/{name}")
        test_columns.append(f"test/{name}")
    for cost in COST_COLUMNS:
        table[cost] = _metric(ordinary, cost)
        metric_columns.append(cost)
    rank_column = f"validation/{rank_metric}"
    if len(table) and table[rank_column].isna().all():
        raise FramingError(
            f"no run logged {VALIDATION_PREFIX}{rank_metric} to rank by; --rank-by takes f1_macro, f1_micro, "
            "pr_auc_macro or <label>/f1"
        )
    table = _ranked(table, rank_column)
    best: dict[str, str] = {}
    for column in metric_columns:
        values = table[column]
        if values.notna().any():
            index = values.idxmin() if column in COST_COLUMNS else values.idxmax()
            best[column] = str(table.loc[index, "run_id"])
    return Comparison(
        table=table,
        best=best,
        metric_columns=metric_columns,
        test_columns=test_columns,
        cv_table=_cv_table(cv_parents, params, names),
        left_out=left_out,
        rank_by=VALIDATION_PREFIX + rank_metric,
    )


def _cv_table(parents: pd.DataFrame, params: Sequence[str], names: Sequence[str]) -> pd.DataFrame:
    """One row per cross-validation parent: folds and ``mean ± std`` over its test folds per metric."""
    if parents.empty:
        return pd.DataFrame()
    table = _base_columns(parents, params)
    folds = parents["tags.cv.folds"] if "tags.cv.folds" in parents else pd.Series([""] * len(parents))
    table["folds"] = folds.fillna("").to_numpy()
    for name in names:
        mean, std = _metric(parents, f"cv/{name}/mean"), _metric(parents, f"cv/{name}/std")
        table[f"cv/{name}"] = ["" if np.isnan(m) else f"{m:.3f} ± {s:.3f}" for m, s in zip(mean, std, strict=True)]
    return table


def param_filter(key: str, value: str) -> str:
    """An MLflow filter clause for ``--param key=value``; ``null`` matches a setting logged as None."""
    if value.strip().lower() in NULL_VALUES:
        value = "None"  # how a null setting is logged (tracking.flatten)
    quoted = value.replace("'", "\\'")
    return f"params.`{key}` = '{quoted}'"


def search_runs(
    experiment: str, filter_string: str = "", tracking_uri: str | None = None, max_runs: int = 1000
) -> pd.DataFrame:
    """The experiment's runs matching an MLflow filter, after checking the store answers."""
    import mlflow

    from framing.config import TrackingConfig
    from framing.tracking import use_reachable_store

    use_reachable_store(TrackingConfig(uri=tracking_uri))
    if mlflow.get_experiment_by_name(experiment) is None:
        raise FramingError(f"no experiment named {experiment!r} in {mlflow.get_tracking_uri()}")
    try:
        runs = mlflow.search_runs(
            experiment_names=[experiment], filter_string=filter_string, max_results=max_runs, output_format="pandas"
        )
    except mlflow.exceptions.MlflowException as exc:
        raise FramingError(f"bad --filter {filter_string!r}: {exc.message}") from None
    assert isinstance(runs, pd.DataFrame)
    return runs


def compare_runs(
    experiment: str,
    filter_string: str = "",
    params: Sequence[str] = KEY_PARAMS,
    tracking_uri: str | None = None,
    max_runs: int = 1000,
    run_names: Sequence[str] = (),
    rank_metric: str = RANK_METRIC,
) -> Comparison:
    """Compare the runs of ``experiment``, filtered with MLflow's search syntax (tags, params, metrics).

    ``run_names`` keeps only runs with one of these names (MLflow's filter has no ``IN`` for tags).
    """
    runs = search_runs(experiment, filter_string, tracking_uri, max_runs)
    if run_names and not runs.empty:
        runs = runs[runs["tags.mlflow.runName"].isin(list(run_names))].reset_index(drop=True)
    return build_comparison(runs, params, rank_metric)


def write_comparison(comparison: Comparison, path: Path) -> Path:
    """Markdown (``.md``) or CSV (``.csv``, raw numbers, with a ``best_in`` column) by extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".md":
        path.write_text(to_markdown(comparison) + "\n", encoding="utf-8")
    elif path.suffix == ".csv":
        table = comparison.table.copy()
        table["best_in"] = [
            " ".join(c for c in comparison.metric_columns if comparison.best.get(c) == run) for run in table["run_id"]
        ]
        table.to_csv(path, index=False)
    else:
        raise FramingError(f"{path}: write .md or .csv")
    return path


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-style Markdown table of ``frame`` as it is."""
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def to_markdown(comparison: Comparison) -> str:
    """The ranked table, then the cross-validation parents (if any), then what the marks mean."""
    parts = [markdown_table(comparison.marked())]
    if not comparison.cv_table.empty:
        parts += ["", "Cross-validation runs (mean ± std over test folds; not ranked with single runs):", ""]
        parts.append(markdown_table(comparison.cv_table))
    parts += ["", legend(comparison)]
    return "\n".join(parts)


def legend(comparison: Comparison) -> str:
    """What the table's order, stars and intervals mean, and which runs it leaves out."""
    lines = [
        f"Ranked by {comparison.rank_by}; * marks the best validation value per column "
        "(lowest for seconds and size). Test columns are for reporting, not for choosing. "
        "[low, high]: 95% bootstrap intervals over the split's articles; a validation lead smaller "
        "than their width may not hold on other articles."
    ]
    if comparison.left_out:
        counts = ", ".join(f"{n} {kind} run(s)" for kind, n in comparison.left_out.items())
        lines.append(f"Left out: {counts}.")
    return "\n".join(lines)


__all__ = [
    "Comparison",
    "build_comparison",
    "compare_runs",
    "legend",
    "markdown_table",
    "param_filter",
    "search_runs",
    "to_markdown",
    "write_comparison",
]
