"""Grid sweeps: one parent MLflow run, one nested child run per trial, resumable.

A sweep is declared in an experiment file (``sweep.params``: dotted key to the
values to try). Each combination becomes ``key=value`` overrides on top of the
command's own, so a trial is exactly the run ``train.py`` would make with those
overrides. The parent run is found again by a key over the experiment, the
command's overrides and the grid: running the same command after a crash
reopens it and skips every trial whose child run finished, so no finished work
is redone. The best trial (on a validation metric) is copied to the parent:
its metrics as ``best/...``; its values (``best.<key>``), run id and model URI
as tags, since a resumed sweep may find another best and params are write-once.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from framing.config import Config, SweepConfig, load_config
from framing.errors import ConfigError

SWEEP_KEY_TAG = "framing.sweep_key"
TRIAL_KEY_TAG = "framing.trial_key"


@dataclass(frozen=True)
class Trial:
    """One point of the grid: its overrides and a stable key naming it among the sweep's trials."""

    overrides: tuple[str, ...]

    @property
    def key(self) -> str:
        return hashlib.sha256("\n".join(self.overrides).encode()).hexdigest()[:16]


@dataclass
class SweepResult:
    """The parent run, the best child and what each trial did."""

    parent_run_id: str
    best_run_id: str
    best_model_uri: str
    best_value: float
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    run_ids: list[str] = field(default_factory=list)  # every trial's run, in grid order


def grid(sweep: SweepConfig) -> list[Trial]:
    """Every combination of the swept values, keys in declaration order, as ``key=value`` overrides."""
    keys = list(sweep.params)
    return [
        Trial(tuple(f"{key}={json.dumps(value)}" for key, value in zip(keys, values, strict=True)))
        for values in itertools.product(*(sweep.params[key] for key in keys))
    ]


def sweep_key(config: Config, overrides: list[str]) -> str:
    """Same experiment, same command-line overrides and same grid: the same sweep."""
    assert config.sweep is not None
    payload = json.dumps(
        {"experiment": config.experiment, "overrides": sorted(overrides), "sweep": config.sweep.model_dump()},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def check_overrides(sweep: SweepConfig, overrides: list[str]) -> None:
    """Refuse a command-line value for a key the sweep itself sets: each trial would silently replace it."""
    for item in overrides:
        key = item.partition("=")[0].strip().lstrip("+~")
        if key in sweep.params:
            values = ", ".join(json.dumps(value) for value in sweep.params[key])
            raise ConfigError(
                f"{item!r}: {key} is swept by this experiment ({values}), so each trial would replace "
                "this value; drop the override"
            )


def trial_config(overrides: list[str], trial: Trial, config_dir: Any = None) -> Config:
    """The trial's own config: the command's overrides plus the trial's, with the sweep removed."""
    config = load_config([*overrides, *trial.overrides], config_dir)
    name = config.tracking.run_name or config.experiment or "trial"
    label = ", ".join(trial.overrides)
    # tagged when the run opens, so a trial that finished is never mistaken for a missing one
    tags = {**config.tracking.tags, TRIAL_KEY_TAG: trial.key}
    config = config.with_tracking(run_name=f"{name} [{label}]", model_name=None, alias=None, tags=tags)
    return config.model_copy(update={"sweep": None})


def run_sweep(
    config: Config,
    overrides: list[str],
    train: Callable[[Config], Any],
    config_dir: Any = None,
    log: Callable[[str], None] = print,
) -> SweepResult:
    """Run (or continue) the sweep of ``config``; ``train`` runs one trial and returns its ``TrainingResult``."""
    from framing.tracking import parent_run

    sweep = config.sweep
    if sweep is None:
        raise ConfigError("this config declares no sweep")
    check_overrides(sweep, overrides)
    trials = grid(sweep)
    labels = [", ".join(trial.overrides) for trial in trials]

    def run_trial(index: int) -> str:
        log(f"trial {index + 1}/{len(trials)} [{labels[index]}]")
        result = train(trial_config(overrides, trials[index], config_dir))
        value = result.metrics.get(sweep.metric) if isinstance(getattr(result, "metrics", None), dict) else None
        score = "not logged" if value is None else f"{value:.4f}"
        log(f"trial {index + 1}/{len(trials)} [{labels[index]}]: {sweep.metric} = {score}")
        return str(result.run_id)

    with parent_run(
        config.tracking,
        SWEEP_KEY_TAG,
        sweep_key(config, overrides),
        TRIAL_KEY_TAG,
        name=f"sweep: {config.tracking.run_name or config.experiment or 'grid'}",
        tags={"sweep.method": sweep.method, "sweep.trials": str(len(trials))},
        params={
            **{f"sweep.{k}": json.dumps(v) for k, v in sweep.params.items()},
            "sweep.metric": sweep.metric,
            "sweep.direction": sweep.direction,
        },
        config=config.to_dict(),
        config_file="sweep_config.yaml",
    ) as parent:
        log(f"sweep parent run: {parent.name} ({'continued' if parent.reopened else 'new'}, {parent.run_id})")
        run_ids = parent.run_children(
            [trial.key for trial in trials], run_trial, lambda i: f"trial {i + 1}/{len(trials)} [{labels[i]}]", log
        )
        metrics = {run_id: parent.child_metrics(run_id) for run_id in run_ids}
        best_id, best_value = _best(metrics, sweep)
        for line in _score_lines(trials, labels, run_ids, metrics, sweep, best_id):
            log(line)
        parent.log_metrics({f"best/{k}": v for k, v in metrics[best_id].items()})
        best_trial = trials[run_ids.index(best_id)]
        model_uri = f"runs:/{best_id}/model"
        # tags, not params: a resumed sweep may find another best
        parent.set_tags({f"best.{k}": v for k, _, v in (item.partition("=") for item in best_trial.overrides)})
        parent.set_tags({"best.run_id": best_id, "best.model_uri": model_uri})
    skipped = set(parent.skipped)
    ran = [label for index, label in enumerate(labels) if index not in skipped]
    return SweepResult(parent.run_id, best_id, model_uri, best_value, ran, [labels[i] for i in parent.skipped], run_ids)


def _score_lines(
    trials: list[Trial],
    labels: list[str],
    run_ids: list[str],
    metrics: dict[str, dict[str, float]],
    sweep: SweepConfig,
    best_id: str,
) -> list[str]:
    """Every trial's score, best first as the sweep's direction orders them, then the winning values."""
    reverse = sweep.direction == "maximize"
    order = sorted(range(len(trials)), key=lambda i: metrics[run_ids[i]].get(sweep.metric, 0.0), reverse=reverse)
    better = "higher" if reverse else "lower"
    lines = [f"scores ({sweep.metric}; {better} is better):"]
    for index in order:
        run_id = run_ids[index]
        mark = "  <- best" if run_id == best_id else ""
        lines.append(f"  {metrics[run_id].get(sweep.metric, float('nan')):.4f}  [{labels[index]}]  {run_id}{mark}")
    winner = trials[run_ids.index(best_id)]
    lines.append("best values: " + " ".join(winner.overrides))
    return lines


def _best(metrics: dict[str, dict[str, float]], sweep: SweepConfig) -> tuple[str, float]:
    """The run id with the best ``sweep.metric`` among ``metrics`` (run id -> its logged metrics, in trial order).

    On a tie the earlier trial wins, so the winner is also the first line of the sorted score list.
    """
    best: tuple[float, str] | None = None
    for run_id, logged in metrics.items():
        value = logged.get(sweep.metric)
        if value is None:
            raise ConfigError(f"sweep.metric {sweep.metric!r} was not logged by run {run_id}")
        if best is None or (value > best[0] if sweep.direction == "maximize" else value < best[0]):
            best = (float(value), run_id)
    assert best is not None
    return best[1], best[0]


__all__ = ["SweepResult", "Trial", "check_overrides", "grid", "run_sweep", "sweep_key", "trial_config"]
