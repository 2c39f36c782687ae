"""``data.deduplicate``: copies across and within splits are removed before training, counted and logged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from framing.config import load_config
from framing.errors import DataError
from framing.training import prepare_data, run_training


def _append(path: Path, rows: list[dict[str, object]]) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def _first_row(path: Path) -> dict[str, object]:
    return json.loads(path.read_text(encoding="utf-8").splitlines()[0])


@pytest.fixture
def copied_data(tiny_data: dict[str, Path]) -> dict[str, Path]:
    """The tiny task with a test paragraph re-typed into train and one train paragraph repeated in train."""
    test_row, train_row = _first_row(tiny_data["test"]), _first_row(tiny_data["train"])
    _append(
        tiny_data["train"],
        [
            {**test_row, "id": "copy-of-test", "article_id": "x1", "text": f"  {str(test_row['text']).upper()}!! "},
            {**train_row, "id": "repeat-in-train", "article_id": "x2"},
        ],
    )
    return tiny_data


def test_copies_fail_the_duplicate_check_unless_deduplicated(
    copied_data: dict[str, Path], tiny_overrides: list[str]
) -> None:
    with pytest.raises(DataError, match="duplicate paragraph"):
        prepare_data(load_config(tiny_overrides))
    splits = prepare_data(load_config([*tiny_overrides, "data.deduplicate=true"]))
    assert "copy-of-test" not in splits.train.ids and "repeat-in-train" not in splits.train.ids
    report = splits.dedup_report
    assert report is not None
    assert report.removed("train") == 2 and report.removed("test") == 0 and report.removed("validation") == 0
    assert report.within["train"] == 1 and report.across["train"]["test"] == 1
    assert len(splits.train.ids) == len(splits.train.texts) == len(splits.train.labels) == len(splits.train.groups)


def test_a_deduplicated_run_logs_what_it_removed(
    copied_data: dict[str, Path], tiny_overrides: list[str], mlflow_store: str
) -> None:
    result = run_training(load_config([*tiny_overrides, "data.deduplicate=true"]))
    run = MlflowClient().get_run(result.run_id)
    assert run.data.metrics["data/duplicates_removed/train"] == 2
    assert run.data.metrics["data/duplicates_removed/test"] == 0
    assert int(run.data.params["data.train_rows"]) == len(copied_data["train"].read_text().splitlines()) - 2
    report = Path(run.info.artifact_uri.removeprefix("file://"), "data", "dedup_report.txt").read_text()
    assert "train: kept" in report and "test=1" in report
