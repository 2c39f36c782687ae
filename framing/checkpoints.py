"""Where a run's resumable state lives, and which MLflow run it belongs to.

A config maps to one checkpoint folder (a hash of the resolved config minus
``resume``), so ``resume=true`` with the same command finds the killed run's
state and MLflow run, and a changed config cannot pick up a stale one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from framing.config import Config

RUN_FILE = "run.json"


def run_checkpoint_dir(config: Config) -> Path:
    """``<checkpoint_dir>/<family>-<hash of the config without resume>``."""
    values = config.to_dict()
    values.pop("resume", None)
    values.get("tracking", {}).pop("run_name", None)
    digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]
    return config.checkpoint_dir / f"{config.model.family}-{digest}"


def saved_run_id(directory: Path) -> str | None:
    """The MLflow run id recorded when the run started, if any."""
    path = directory / RUN_FILE
    if not path.is_file():
        return None
    return str(json.loads(path.read_text(encoding="utf-8"))["run_id"])


def save_run_id(directory: Path, run_id: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / RUN_FILE).write_text(json.dumps({"run_id": run_id}), encoding="utf-8")


def remove_checkpoints(directory: Path) -> None:
    """Drop a finished run's state: its model is logged, and checkpoints are large."""
    shutil.rmtree(directory, ignore_errors=True)
