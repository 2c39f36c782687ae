"""Grid sweeps: nested child runs, the best trial on the parent, and resuming without redoing trials."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from framing.config import PROJECT_ROOT, SweepConfig, load_config
from framing.errors import ConfigError
from framing.sweep import TRIAL_KEY_TAG, grid, run_sweep, trial_config
from framing.training import run_training

SWEEP = "sweep.params={model.C: [0.5, 8.0], model.word_ngram_range: [[1, 1], [1, 2]]}"


def test_grid_is_every_combination_as_overrides() -> None:
    trials = grid(SweepConfig(params={"model.C": [1, 2], "model.char_ngram_range": [None, [2, 4]]}))
    assert [t.overrides for t in trials] == [
        ("model.C=1", "model.char_ngram_range=null"),
        ("model.C=1", "model.char_ngram_range=[2, 4]"),
        ("model.C=2", "model.char_ngram_range=null"),
        ("model.C=2", "model.char_ngram_range=[2, 4]"),
    ]
    assert len({t.key for t in trials}) == 4


def test_trial_config_applies_the_point_and_drops_the_sweep(tiny_overrides: list[str]) -> None:
    overrides = [*tiny_overrides, SWEEP]
    config = trial_config(overrides, grid(load_config(overrides).sweep)[3])  # type: ignore[arg-type]
    assert config.sweep is None
    assert config.model.C == 8.0 and config.model.word_ngram_range == (1, 2)  # type: ignore[union-attr]


def test_shipped_sweep_experiment_composes() -> None:
    config = load_config(["experiment=tfidf_sweep"], PROJECT_ROOT / "configs")
    assert config.sweep is not None and len(grid(config.sweep)) == 6


def test_malformed_override_is_a_config_error(tiny_overrides: list[str]) -> None:
    with pytest.raises(ConfigError, match="cannot compose config"):
        load_config([*tiny_overrides, "sweep.params={model.C:[1]}"])


def test_empty_or_unsweepable_values_are_refused(tiny_overrides: list[str]) -> None:
    with pytest.raises(ConfigError, match="at least one value"):
        load_config([*tiny_overrides, "sweep.params={model.C: []}"])
    with pytest.raises(ConfigError, match="unknown key"):
        load_config([*tiny_overrides, "sweep.params={model.C: [1]}", "sweep.trials=3"])


@pytest.mark.usefixtures("mlflow_store")
def test_sweep_nests_trials_copies_the_best_and_resumes(tiny_overrides: list[str], tmp_path: Path) -> None:
    overrides = [*tiny_overrides, SWEEP]
    config = load_config(overrides)
    calls: list[str] = []

    def crash_on_third(trial: object) -> object:
        if len(calls) == 2:
            raise KeyboardInterrupt  # the sweep is killed during its third trial
        calls.append("ran")
        return run_training(trial)  # type: ignore[arg-type]

    with pytest.raises(KeyboardInterrupt):
        run_sweep(config, overrides, crash_on_third, log=lambda _: None)
    assert mlflow.active_run() is None

    result = run_sweep(config, overrides, run_training, log=lambda _: None)
    assert len(result.skipped) == 2 and len(result.ran) == 2, "finished trials are not redone"

    client = MlflowClient()
    experiment = mlflow.get_experiment_by_name("framing")
    assert experiment is not None
    parents = client.search_runs([experiment.experiment_id], "tags.`framing.sweep_key` != ''")
    assert [p.info.run_id for p in parents] == [result.parent_run_id], "one parent, reopened"
    children = client.search_runs(
        [experiment.experiment_id],
        f"tags.mlflow.parentRunId = '{result.parent_run_id}' and attributes.status = 'FINISHED'",
    )
    assert len(children) == 4 and len({c.data.tags[TRIAL_KEY_TAG] for c in children}) == 4
    best_value = max(c.data.metrics["validation/tuned/f1_macro"] for c in children)
    parent = client.get_run(result.parent_run_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["best/validation/tuned/f1_macro"] == pytest.approx(best_value)
    assert "best/test/tuned/f1_macro" in parent.data.metrics
    assert parent.data.tags["best.run_id"] == result.best_run_id
    assert {"best.model.C", "best.model.word_ngram_range"} <= set(parent.data.tags)

    again = run_sweep(config, overrides, run_training, log=lambda _: None)
    assert again.ran == [] and again.parent_run_id == result.parent_run_id


def test_an_override_of_a_swept_key_is_refused(tiny_overrides: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from framing.cli import main

    overrides = [*tiny_overrides, SWEEP, "model.C=2"]
    with pytest.raises(ConfigError, match=r"'model.C=2': model.C is swept by this experiment \(0.5, 8.0\)"):
        run_sweep(load_config(overrides), overrides, run_training, log=lambda _: None)
    assert main(["train", *overrides]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0


@pytest.mark.usefixtures("mlflow_store")
def test_a_sweep_prints_each_score_and_the_winner_and_never_reuses_a_parent_name(tiny_overrides: list[str]) -> None:
    overrides = [*tiny_overrides, "sweep.params={model.C: [0.5, 8.0]}"]
    lines: list[str] = []
    result = run_sweep(load_config(overrides), overrides, run_training, log=lines.append)
    client = MlflowClient()
    children = {run_id: client.get_run(run_id).data.metrics["validation/tuned/f1_macro"] for run_id in result.run_ids}
    for index, c in enumerate(["0.5", "8.0"]):
        run_id = result.run_ids[index]
        assert f"trial {index + 1}/2 [model.C={c}]: validation/tuned/f1_macro = {children[run_id]:.4f}" in lines
    assert lines[-4] == "scores (validation/tuned/f1_macro; higher is better):"
    assert lines[-3].endswith(f"{result.best_run_id}  <- best")
    best_c = "0.5" if result.best_run_id == result.run_ids[0] else "8.0"
    assert lines[-1] == f"best values: model.C={best_c}"
    first_name = client.get_run(result.parent_run_id).info.run_name

    # the same command continues its parent; other settings get a parent of their own, under another name
    again = run_sweep(load_config(overrides), overrides, run_training, log=lines.append)
    assert again.parent_run_id == result.parent_run_id
    other = [*overrides, "model.max_iter=300"]
    third = run_sweep(load_config(other), other, run_training, log=lines.append)
    assert third.parent_run_id != result.parent_run_id
    assert client.get_run(third.parent_run_id).info.run_name == f"{first_name} #2"


@pytest.mark.parametrize("direction", ["maximize", "minimize"])
def test_a_tie_goes_to_the_earlier_trial_which_is_also_listed_first(direction: str) -> None:
    from framing.sweep import _best

    sweep = SweepConfig(params={"model.C": [1, 2, 3]}, metric="m", direction=direction)
    metrics = {
        "zz-first": {"m": 0.5},
        "aa-second": {"m": 0.5},
        "mm-third": {"m": 0.4 if direction == "maximize" else 0.6},
    }
    assert _best(metrics, sweep) == ("zz-first", 0.5)
