"""Side-by-side comparison of an experiment's runs, as a table a researcher can paste or sort.

The MLflow UI compares runs well once they are chosen; this answers the
question before it: of all runs in the experiment, which model is best on the
test split, per label and overall, and what did it cost (training time, model
size)? Every run logs the same metric names, so one table lines them up; runs
that lack a column (a run that failed before its test metrics) show a blank.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from framing.errors import FramingError

KEY_PARAMS = ("model.family", "seed", "experiment")
SPLIT_PREFIX = "test/tuned/"
SUMMARY_METRICS = ("f1_micro", "f1_macro", "pr_auc_macro")
# Lower is better for these columns; higher for every other metric.
COST_COLUMNS = ("train/seconds", "model/size_mb")
BEST_MARK = "*"


@dataclass(frozen=True)
class Comparison:
    """The runs as rows (``table``) and, per metric column, the run id of the best value."""

    table: pd.DataFrame
    best: dict[str, str]
    metric_columns: list[str]

    def marked(self, digits: int = 3) -> pd.DataFrame:
        """The table with numbers rounded and the best value of each metric column marked ``*``."""
        out = self.table.copy().astype(object)
        for column in self.metric_columns:
            best_run = self.best.get(column)
            out[column] = [
                "" if pd.isna(value) else f"{value:.{digits}f}{BEST_MARK if run == best_run else ''}"
                for run, value in zip(self.table["run_id"], self.table[column], strict=True)
            ]
        return out.fillna("")


def _label_names(columns: Sequence[str], split: str) -> list[str]:
    """Labels that have an ``<split><label>/f1`` metric, in the order first seen."""
    names: list[str] = []
    for column in columns:
        if column.startswith(f"metrics.{split}") and column.endswith("/f1"):
            label = column[len(f"metrics.{split}") : -len("/f1")]
            if "/" not in label and label not in names:
                names.append(label)
    return names


def build_comparison(runs: pd.DataFrame, params: Sequence[str] = KEY_PARAMS, split: str = SPLIT_PREFIX) -> Comparison:
    """Turn ``mlflow.search_runs`` output into the comparison table.

    Columns: run name and id, status, the chosen params, the summary metrics,
    per-label F1, training seconds and model size. The best run per metric
    column is the highest value (the lowest for time and size).
    """
    if runs.empty:
        raise FramingError("no runs to compare (check the experiment name and filters)")
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
    metric_columns: list[str] = []
    sources = [f"{split}{m}" for m in SUMMARY_METRICS]
    sources += [f"{split}{label}/f1" for label in _label_names(list(runs.columns), split)]
    sources += list(COST_COLUMNS)
    for source in sources:
        name = source.removeprefix(split)
        values = runs[f"metrics.{source}"] if f"metrics.{source}" in runs else pd.Series([float("nan")] * len(runs))
        table[name] = pd.to_numeric(values, errors="coerce").to_numpy()
        metric_columns.append(name)
    best: dict[str, str] = {}
    for column in metric_columns:
        values = table[column]
        if values.notna().any():
            index = values.idxmin() if column in COST_COLUMNS else values.idxmax()
            best[column] = str(table.loc[index, "run_id"])
    return Comparison(table=table, best=best, metric_columns=metric_columns)


def compare_runs(
    experiment: str,
    filter_string: str = "",
    params: Sequence[str] = KEY_PARAMS,
    tracking_uri: str | None = None,
    max_runs: int = 1000,
    run_names: Sequence[str] = (),
) -> Comparison:
    """Compare the runs of ``experiment``, filtered with MLflow's search syntax (tags, params, metrics).

    ``run_names`` keeps only runs with one of these names (MLflow's filter has no ``IN`` for tags).
    """
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
    if run_names and not runs.empty:
        runs = runs[runs["tags.mlflow.runName"].isin(list(run_names))].reset_index(drop=True)
    return build_comparison(runs, params)


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


def to_markdown(comparison: Comparison) -> str:
    """A GitHub-style Markdown table, best values marked ``*``."""
    frame = comparison.marked()
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


__all__ = ["Comparison", "build_comparison", "compare_runs", "to_markdown", "write_comparison"]
