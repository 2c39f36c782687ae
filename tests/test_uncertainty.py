"""Intervals on every number: the shared cluster bootstrap, test-metric intervals, the honest compare table
and the paired comparison of two runs."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from framing.cli import main
from framing.compare import build_comparison, param_filter
from framing.errors import FramingError
from framing.evaluation import compute_metrics
from framing.paired import paired_bootstrap
from framing.results import PREDICTIONS_ARTIFACT, metric_intervals, weighted_average_precision
from framing.uncertainty import ClusterBootstrap, percentile_interval, ratio_interval
from tests.conftest import TINY_LABELS


def _clustered(n_articles: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Flags of 6 paragraphs per article, correlated within the article (its own rate)."""
    rng = np.random.default_rng(seed)
    rates = rng.beta(1, 3, n_articles)
    articles = np.repeat(np.arange(n_articles), 6)
    flags = (rng.random(len(articles)) < rates[articles]).astype(float)
    return articles, flags


def test_share_interval_contains_the_point_and_shrinks_with_more_articles() -> None:
    widths = []
    for n in (20, 500):
        articles, flags = _clustered(n)
        found = ratio_interval(flags, np.ones_like(flags), ClusterBootstrap.over(articles))
        assert found["low"][0] <= found["value"][0] <= found["high"][0]
        widths.append(found["high"][0] - found["low"][0])
    assert widths[1] < widths[0] / 2


def test_resampling_articles_is_wider_than_resampling_paragraphs_when_they_cluster() -> None:
    articles, flags = _clustered(100)
    by_article = ratio_interval(flags, np.ones_like(flags), ClusterBootstrap.over(articles))
    by_paragraph = ratio_interval(flags, np.ones_like(flags), ClusterBootstrap.over(np.arange(len(flags))))
    assert by_article["high"][0] - by_article["low"][0] > 1.3 * (by_paragraph["high"][0] - by_paragraph["low"][0])


def test_percentile_interval_ignores_undefined_draws() -> None:
    assert percentile_interval(np.array([np.nan, np.nan])) != percentile_interval(np.array([np.nan, np.nan]))
    assert percentile_interval(np.array([1.0, np.nan, 1.0])) == (1.0, 1.0)


def test_weighted_average_precision_matches_scikit_learn_with_ties() -> None:
    rng = np.random.default_rng(2)
    truth, scores = (rng.random(150) < 0.3).astype(int), np.round(rng.random(150), 1)
    weights = rng.integers(0, 3, (4, 150)).astype(float)
    expected = [average_precision_score(truth, scores, sample_weight=w) for w in weights]
    assert np.allclose(weighted_average_precision(truth, scores, weights), expected)


def test_every_test_metric_gets_an_interval_around_its_value() -> None:
    rng = np.random.default_rng(1)
    labels = ["a", "b", "c"]
    truth = (rng.random((240, 3)) < 0.3).astype(int)
    probabilities = np.clip(truth * 0.4 + rng.random((240, 3)) * 0.6, 0, 1)
    flags = (probabilities > 0.5).astype(int)
    metrics = compute_metrics(truth, probabilities, flags, labels)
    found = metric_intervals(truth, flags, probabilities, labels, [f"art{i // 4}" for i in range(240)])
    for name in ("f1_macro", "f1_micro", "pr_auc_macro", "precision_macro", "a/f1", "b/recall", "c/pr_auc"):
        assert found[f"{name}/ci_low"] <= metrics[name] <= found[f"{name}/ci_high"], name
        assert found[f"{name}/ci_high"] - found[f"{name}/ci_low"] > 0, name


def _runs(**columns: list[object]) -> pd.DataFrame:
    base = {"run_id": ["r1", "r2", "r3"], "status": ["FINISHED"] * 3, "tags.mlflow.runName": ["C=1", "C=16", "C=4"]}
    return pd.DataFrame({**base, **columns})


def test_compare_ranks_and_stars_on_validation_even_when_test_disagrees() -> None:
    runs = _runs(
        **{
            "metrics.validation/tuned/f1_macro": [0.60, 0.80, 0.70],
            "metrics.test/tuned/f1_macro": [0.90, 0.70, 0.75],
        }
    )
    comparison = build_comparison(runs)
    assert list(comparison.table["run_id"]) == ["r2", "r3", "r1"], "ranked by validation"
    assert comparison.best["validation/f1_macro"] == "r2"
    assert not any(column.startswith("test/") for column in comparison.best), "test values are never starred"
    marked = comparison.marked()
    assert marked.loc[0, "validation/f1_macro"].endswith("*")
    assert not marked["test/f1_macro [95% CI]"].str.contains(r"\*").any()
    columns = list(marked.columns)
    assert columns.index("test/f1_macro [95% CI]") == columns.index("validation/f1_macro") + 1


def test_compare_ranks_by_another_validation_metric_and_refuses_an_unknown_one() -> None:
    runs = _runs(
        **{"metrics.validation/tuned/f1_macro": [0.6, 0.8, 0.7], "metrics.validation/tuned/x/f1": [0.9, 0.1, 0.5]}
    )
    assert list(build_comparison(runs, rank_metric="x/f1").table["run_id"]) == ["r1", "r3", "r2"]
    assert list(build_comparison(runs, rank_metric="validation/tuned/x/f1").table["run_id"]) == ["r1", "r3", "r2"]
    with pytest.raises(FramingError, match="to rank by"):
        build_comparison(runs, rank_metric="accuracy")


def test_compare_column_order_does_not_depend_on_mlflow_order() -> None:
    runs = _runs(
        **{
            "metrics.validation/tuned/zeta/f1": [0.1, 0.2, 0.3],
            "metrics.validation/tuned/alpha/f1": [0.3, 0.2, 0.1],
            "metrics.validation/tuned/f1_macro": [0.2, 0.2, 0.2],
        }
    )
    shuffled = runs[list(reversed(runs.columns))].iloc[::-1].reset_index(drop=True)
    first, second = build_comparison(runs).table, build_comparison(shuffled).table
    assert list(first.columns) == list(second.columns)
    assert list(first["run_id"]) == list(second["run_id"]) == ["r1", "r2", "r3"], "ties broken by run id"
    assert list(first.columns).index("validation/alpha/f1") < list(first.columns).index("validation/zeta/f1")


def test_compare_keeps_cross_validation_folds_and_sweep_parents_apart() -> None:
    runs = pd.DataFrame(
        {
            "run_id": ["plain", "fold1", "cvparent", "sweep"],
            "status": ["FINISHED"] * 4,
            "tags.framing.fold": [None, "1", None, None],
            "tags.framing.cv_key": [None, None, "k", None],
            "tags.framing.sweep_key": [None, None, None, "s"],
            "tags.cv.folds": [None, None, "5", None],
            "metrics.validation/tuned/f1_macro": [0.5, 0.9, None, None],
            "metrics.cv/f1_macro/mean": [None, None, 0.61, None],
            "metrics.cv/f1_macro/std": [None, None, 0.04, None],
        }
    )
    comparison = build_comparison(runs)
    assert list(comparison.table["run_id"]) == ["plain"]
    assert list(comparison.cv_table["run_id"]) == ["cvparent"]
    assert comparison.cv_table.loc[0, "cv/f1_macro"] == "0.610 ± 0.040"
    assert comparison.left_out == {"cross-validation fold": 1, "sweep parent": 1}


def test_param_null_matches_a_setting_logged_as_none() -> None:
    assert param_filter("model.char_ngram_range", "null") == "params.`model.char_ngram_range` = 'None'"
    assert param_filter("model.C", "4.0") == "params.`model.C` = '4.0'"


def _predictions(predicted: list[list[str]], ids: list[str] | None = None) -> pd.DataFrame:
    truth = [["a"], [], ["a", "b"], ["b"], ["a"], [], ["b"], ["a"]] * 5
    ids = ids or [f"p{i}" for i in range(len(truth))]
    return pd.DataFrame(
        {
            "id": ids,
            "article_id": [f"art{i // 3}" for i in range(len(truth))],
            "labels": truth,
            "predicted": predicted,
            "p_a": 0.5,
            "p_b": 0.5,
        }
    )


def test_a_run_paired_with_itself_differs_by_zero() -> None:
    frame = _predictions([["a"], ["b"], ["a"], ["b"], [], [], ["b"], ["a"]] * 5)
    pair = paired_bootstrap(frame, frame.sample(frac=1, random_state=0))
    assert (pair.table["B - A"] == 0).all()
    assert (pair.table["ci_low"] == 0).all() and (pair.table["ci_high"] == 0).all()
    assert set(pair.table["verdict"]) == {"no clear difference"}
    assert pair.articles == 14


def test_a_clearly_better_run_is_found_better() -> None:
    weak = _predictions([[], ["a"], ["b"], ["a"], [], ["b"], [], []] * 5)
    perfect = _predictions([["a"], [], ["a", "b"], ["b"], ["a"], [], ["b"], ["a"]] * 5)
    table = paired_bootstrap(weak, perfect).table.set_index("metric")
    assert table.loc["f1_macro", "B - A"] > 0 and table.loc["f1_macro", "ci_low"] > 0
    assert table.loc["f1_macro", "verdict"] == "B better"
    assert table.loc["a/f1", "ci_low"] <= table.loc["a/f1", "B - A"] <= table.loc["a/f1", "ci_high"]


def test_runs_tested_on_different_rows_are_refused() -> None:
    frame = _predictions([["a"]] * 40)
    other = _predictions([["a"]] * 40, ids=[f"q{i}" for i in range(40)])
    with pytest.raises(FramingError, match="tested on different rows"):
        paired_bootstrap(frame, other)


def _run_id(capsys: pytest.CaptureFixture[str], overrides: list[str]) -> str:
    assert main(["train", *overrides]) == 0
    out = capsys.readouterr().out
    assert "95% bootstrap intervals over articles" in out
    assert "macro F1 " in out and " [" in out.split("macro F1 ")[1].splitlines()[0]
    return next(line.split(": ")[1] for line in out.splitlines() if line.startswith("run_id: "))


@pytest.mark.usefixtures("mlflow_store")
def test_runs_log_intervals_predictions_and_a_description_and_pair_up(
    tiny_overrides: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first = _run_id(capsys, [*tiny_overrides, "tracking.run_name=word"])
    second = _run_id(capsys, [*tiny_overrides, "tracking.run_name=C16", "model.C=16"])
    run = mlflow.get_run(second)
    metrics = run.data.metrics
    assert (
        metrics["test/tuned/f1_macro/ci_low"]
        <= metrics["test/tuned/f1_macro"]
        <= metrics["test/tuned/f1_macro/ci_high"]
    )
    assert "test/default/f1_micro/ci_high" in metrics
    for name in ("f1_macro", "f1_micro", *(f"{label}/f1" for label in TINY_LABELS)):  # chosen on: intervals too
        low, value, high = (metrics[f"validation/tuned/{name}{end}"] for end in ("/ci_low", "", "/ci_high"))
        assert low <= value <= high, name
    assert "validation/default/f1_micro/ci_high" in metrics
    assert run.data.tags["framing.bootstrap_unit"] == "article"
    description = run.data.tags["mlflow.note.content"]
    validation = metrics["validation/tuned/f1_macro"]
    assert f"Validation macro F1 (used to choose models): {validation:.3f} [" in description
    assert "over the 2 test articles and the 2 validation articles (1000 resamples)" in description
    assert "macro" in description and "[" in description
    assert "`model.C`: 16.0 (default" in description
    assert "| test |" in description
    assert "Languages of the training paragraphs: en" in description
    predictions = pd.read_parquet(
        mlflow.artifacts.download_artifacts(run_id=second, artifact_path=PREDICTIONS_ARTIFACT)
    )
    assert {"id", "article_id", "labels", "predicted"} <= set(predictions.columns)

    assert main(["compare", first, first]) == 0
    out = capsys.readouterr().out
    assert "f1_macro" in out and "+0.000" in out and "[+0.000, +0.000]" in out
    assert main(["compare", first, second, "--output", str(tmp_path / "pair.csv")]) == 0
    table = pd.read_csv(tmp_path / "pair.csv")
    assert {"f1_macro", "f1_micro"} <= set(table["metric"])
    assert main(["compare", first]) == 2
    assert "two run ids" in capsys.readouterr().err


def test_one_article_gives_no_interval_rather_than_a_zero_width_one() -> None:
    from framing.uncertainty import cluster_ratio

    single = cluster_ratio(np.array([[1.0]]), np.array([4.0]))
    assert single["value"][0] == 0.25 and np.isnan(single["low"][0]) and np.isnan(single["high"][0])
    two = cluster_ratio(np.array([[1.0], [3.0]]), np.array([4.0, 4.0]))
    assert two["low"][0] < 0.5 < two["high"][0]
