"""Grouped cross-validation: copy-aware groups, leakage-free folds, nested fold runs, resuming after a crash."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from framing.config import PROJECT_ROOT
from framing.crossval import FOLD_TAG, add_leakage_groups, make_folds, run_cross_validation
from framing.data.splits import copy_groups
from framing.evaluation import compute_metrics
from framing.training import run_training

BIASED_WORDS = ["reckless", "shameful", "absurd", "disastrous", "radical", "lying", "corrupt", "outrageous"]
NEUTRAL_WORDS = ["approved", "budget", "report", "figures", "opened", "scheduled", "published", "annual"]
FILLER = [
    "council",
    "harbour",
    "bridge",
    "river",
    "school",
    "museum",
    "market",
    "railway",
    "station",
    "farmers",
    "harvest",
    "weather",
    "season",
    "minister",
    "mayor",
    "tuesday",
    "march",
    "village",
    "province",
    "airport",
    "library",
    "hospital",
    "factory",
    "theatre",
    "garden",
]


def synthetic_frame() -> pd.DataFrame:
    """20 invented articles of 3 sentences, about half "bias"; one sentence repeated in a second article.

    Sentences are drawn word by word from small pools, so no two are near copies
    unless made so on purpose, and the label is learnable from its cue words.
    """
    rng = np.random.default_rng(0)
    rows = []
    for a in range(20):
        for s in range(3):
            biased = (a + s) % 2 == 0
            cues = rng.choice(BIASED_WORDS if biased else NEUTRAL_WORDS, size=3, replace=False)
            words = [*cues, *rng.choice(FILLER, size=6, replace=False)]
            text = " ".join(rng.permutation(words)).capitalize() + "."
            rows.append({"id": f"a{a}-s{s}", "article_id": f"a{a}", "text": text, "labels": ["bias"] if biased else []})
    rows.append({"id": "copy", "article_id": "a19", "text": rows[0]["text"].upper(), "labels": rows[0]["labels"]})
    return pd.DataFrame(rows)


def test_copy_groups_join_articles_exact_and_near_copies() -> None:
    texts = [
        "The minister said the talks would resume next week in Geneva.",
        "the minister said: the talks would resume next week in Geneva!",  # exact after normalising
        "The minister said the talks would resume next week in Geneva, officials added.",  # near copy
        "Farmers brought the harvest in early because of the drought.",
        "A museum of modern art opened in the old railway station.",
    ]
    groups = copy_groups(texts, ["a", "b", "c", "d", "d"], threshold=0.7)
    assert groups[0] == groups[1] == groups[2] == "a"
    assert groups[3] == groups[4] == "d"
    assert len(set(copy_groups(texts, ["a", "b", "c", "d", "e"], threshold=0.99))) == 4


def test_folds_cover_every_row_once_and_never_split_a_group() -> None:
    frame = add_leakage_groups(synthetic_frame(), threshold=0.9)
    assert frame.loc[frame["id"] == "copy", "cv_group"].item() == "a0"  # the copy joins its original's group
    folds = make_folds(frame, n_folds=4, seed=3, validation_fraction=0.25)
    tested = np.concatenate([f.test for f in folds])
    assert sorted(tested.tolist()) == list(range(len(frame)))
    groups = frame["cv_group"].to_numpy()
    for fold in folds:
        parts = [set(groups[fold.train]), set(groups[fold.validation]), set(groups[fold.test])]
        assert all(parts) and not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert len(fold.train) + len(fold.validation) + len(fold.test) == len(frame)
    again = make_folds(frame, n_folds=4, seed=3, validation_fraction=0.25)
    assert all(np.array_equal(a.test, b.test) for a, b in zip(folds, again, strict=True))
    with pytest.raises(ValueError, match="groups cannot fill"):
        make_folds(frame.head(6), n_folds=4, seed=3)


def test_one_label_metrics_are_that_labels_binary_scores() -> None:
    y_true = np.array([[1], [0], [1], [1], [0], [0]])
    flags = np.array([[1], [1], [0], [1], [0], [0]])
    metrics = compute_metrics(y_true, np.array([[0.9], [0.6], [0.2], [0.8], [0.1], [0.3]]), flags, ["bias"])
    assert metrics["bias/precision"] == pytest.approx(2 / 3)
    assert metrics["bias/recall"] == pytest.approx(2 / 3)
    assert metrics["bias/f1"] == metrics["f1_micro"] == metrics["f1_macro"] == pytest.approx(2 / 3)
    assert metrics["bias/support"] == 3


def _overrides(experiment: str) -> list[str]:
    return ["model.char_ngram_range=null", "model.max_iter=200", f"tracking.experiment={experiment}"]


def _options(tmp_path: Path) -> dict[str, Any]:
    """The small cross-validation every run test uses: one label, 3 folds, a quarter of groups to validation."""
    return {
        "labels": ["bias"],
        "task": "multilabel",
        "work_dir": tmp_path / "folds",
        "n_folds": 3,
        "seed": 1,
        "validation_fraction": 0.25,
        "log": lambda _: None,
    }


def test_folds_are_nested_runs_and_the_parent_holds_mean_and_std(mlflow_store: str, tmp_path: Path) -> None:
    frame = add_leakage_groups(synthetic_frame(), threshold=0.9)
    result = run_cross_validation(frame, _overrides("cv-test"), **_options(tmp_path))
    client = MlflowClient()
    children = [client.get_run(run_id) for run_id in result.fold_run_ids]
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {result.parent_run_id}
    assert sorted(c.data.tags[FOLD_TAG] for c in children) == ["1", "2", "3"]
    logged = mlflow.search_logged_models(experiment_ids=[children[0].info.experiment_id], output_format="list")
    assert sorted(m.source_run_id for m in logged) == sorted(result.fold_run_ids), "one model per fold run"
    fold_f1 = [c.data.metrics["test/tuned/bias/f1"] for c in children]
    parent = client.get_run(result.parent_run_id).data.metrics
    assert parent["cv/bias/f1/mean"] == pytest.approx(np.mean(fold_f1))
    assert parent["cv/bias/f1/std"] == pytest.approx(np.std(fold_f1))
    supports = sorted(int(c.data.metrics["test/tuned/bias/support"]) for c in children)
    assert sum(supports) == sum(bool(labels) for labels in frame["labels"])  # each positive tested exactly once


def test_a_crashed_cross_validation_resumes_without_redoing_finished_folds(mlflow_store: str, tmp_path: Path) -> None:
    frame = add_leakage_groups(synthetic_frame(), threshold=0.9)
    calls: list[str] = []

    def crash_on_second_fold(config: Any) -> Any:
        calls.append(str(config.data.train))
        if len(calls) == 2:
            raise RuntimeError("killed")
        return run_training(config)

    options = _options(tmp_path)
    with pytest.raises(RuntimeError, match="killed"):
        run_cross_validation(frame, _overrides("cv-resume"), train=crash_on_second_fold, **options)
    calls.clear()

    def counting(config: Any) -> Any:
        calls.append(str(config.data.train))
        return run_training(config)

    result = run_cross_validation(frame, _overrides("cv-resume"), train=counting, **options)
    assert result.skipped == [1] and len(calls) == 2
    experiment = mlflow.get_experiment_by_name("cv-resume")
    parents = MlflowClient().search_runs([experiment.experiment_id], filter_string="tags.`framing.cv_key` != ''")
    assert [p.info.run_id for p in parents] == [result.parent_run_id]


def test_benchmark_script_runs_on_data_in_the_babe_format(
    mlflow_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The BABE benchmark end to end on invented sentences in BABE's ';' CSV layout (no real data needed)."""
    folder = tmp_path / "datasets" / "babe"
    folder.mkdir(parents=True)
    frame = synthetic_frame()
    babe = pd.DataFrame(
        {
            "text": frame["text"],
            "news_link": "https://example.org/" + frame["article_id"],
            "outlet": "Example Daily",
            "topic": "local",
            "type": "center",
            "label_bias": ["Biased" if labels else "Non-biased" for labels in frame["labels"]],
            "label_opinion": "Entirely factual",
            "biased_words": "[]",
        }
    )
    babe.loc[len(babe)] = ["An unsure sentence.", "x", "x", "x", "x", "No agreement", "No agreement", "[]"]
    babe.to_csv(folder / "final_labels_SG2.csv", sep=";", index=False)
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "benchmarks"))
    monkeypatch.setattr(
        sys,
        "argv",
        [
            *["babe_cv.py", "--datasets", str(tmp_path / "datasets"), "--families", "tfidf", "--folds", "2"],
            *["--no-readme", "--work-dir", str(tmp_path / "work"), "--experiment", "bench-test"],
        ],
    )
    import babe_cv

    monkeypatch.setattr(babe_cv._common, "FAMILY_OVERRIDES", {"tfidf": _overrides("bench-test")[:2]})
    babe_cv.main()
    printed = capsys.readouterr().out
    assert "dropped 1 (no_agreement=1)" in printed
    assert "| tfidf | - | sentence + copies |" in printed and "| tfidf | - | article + copies |" in printed


def test_cv_command_cross_validates_the_configured_data(
    tiny_overrides: list[str], mlflow_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from framing.cli import main as cli_main

    args = ["cv", *tiny_overrides, "tracking.experiment=cv-cli", "--folds", "3", "--work-dir", str(tmp_path / "cv")]
    assert cli_main(args) == 0
    printed = capsys.readouterr().out
    assert "3-fold cross-validation" in printed and "f1_macro" in printed
    experiment = mlflow.get_experiment_by_name("cv-cli")
    runs = MlflowClient().search_runs([experiment.experiment_id])
    folds = [r for r in runs if FOLD_TAG in r.data.tags]
    assert len(folds) == 3
    assert sum(int(r.data.params["data.test_rows"]) for r in folds) == 24  # every tiny paragraph tested once


def test_a_fold_run_carries_its_fold_tag_from_the_moment_it_opens(mlflow_store: str, tmp_path: Path) -> None:
    """A fold killed mid-training is recognisable as that fold (and, not being FINISHED, is rerun)."""
    from framing import tracking

    frame = add_leakage_groups(synthetic_frame(), threshold=0.9)

    def dies_inside_the_run(config: Any) -> Any:
        with tracking.start_run(config):
            raise RuntimeError("killed mid-training")

    with pytest.raises(RuntimeError, match="mid-training"):
        run_cross_validation(frame, _overrides("cv-tag"), train=dies_inside_the_run, **_options(tmp_path))
    experiment = mlflow.get_experiment_by_name("cv-tag")
    failed = MlflowClient().search_runs([experiment.experiment_id], filter_string="attributes.status = 'FAILED'")
    assert [r.data.tags.get(FOLD_TAG) for r in failed if "mlflow.parentRunId" in r.data.tags] == ["1"]
