"""Runs compared side by side, promotion to champion, and predict falling back to the champion."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest

from framing.cli import main
from framing.compare import build_comparison
from tests.conftest import TINY_LABELS


def _train(capsys: pytest.CaptureFixture[str], overrides: list[str]) -> str:
    assert main(["train", *overrides]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    return next(line.split(": ")[1] for line in lines if line.startswith("run_id: "))


def test_best_values_are_marked_per_column() -> None:
    runs = pd.DataFrame(
        {
            "run_id": ["r1", "r2"],
            "status": ["FINISHED", "FINISHED"],
            "tags.mlflow.runName": ["a", "b"],
            "params.model.family": ["tfidf", "transformer"],
            "metrics.validation/tuned/f1_micro": [0.7, 0.8],
            "metrics.validation/tuned/f1_macro": [0.75, 0.65],
            "metrics.validation/tuned/f1_macro/ci_low": [None, 0.55],
            "metrics.validation/tuned/f1_macro/ci_high": [None, 0.7],
            "metrics.validation/tuned/x/f1": [0.1, 0.9],
            "metrics.test/tuned/f1_macro": [0.5, 0.6],
            "metrics.test/tuned/f1_macro/ci_low": [0.4, 0.5],
            "metrics.test/tuned/f1_macro/ci_high": [0.6, 0.7],
            "metrics.validation/tuned/x/precision": [0.5, 0.5],
            "metrics.train/seconds": [3.0, 300.0],
            "metrics.model/size_mb": [None, 90.0],
        }
    )
    comparison = build_comparison(runs)
    assert comparison.best["validation/f1_micro"] == "r2"
    assert comparison.best["validation/f1_macro"] == "r1"
    assert comparison.best["validation/x/f1"] == "r2"
    assert comparison.best["train/seconds"] == "r1", "lower is better for time"
    assert comparison.best["model/size_mb"] == "r2", "a missing value never wins"
    assert "validation/x/precision" not in comparison.table.columns
    marked = comparison.marked()
    assert marked.loc[0, "validation/f1_macro"] == "0.750*", "a run without a validation interval: the value alone"
    assert marked.loc[1, "validation/f1_macro"] == "0.650 [0.550, 0.700]"
    assert marked.loc[0, "test/f1_macro [95% CI]"] == "0.500 [0.400, 0.600]"
    assert marked.loc[0, "model/size_mb"] == ""


@pytest.mark.usefixtures("mlflow_store")
def test_compare_promote_and_predict_with_the_champion(
    tiny_overrides: list[str], tiny_data: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    corpus = tmp_path / "article.txt"
    corpus.write_text("Officials said foreign channels distorted the events.\n\nAid reached families.\n")
    assert main(["predict", "--input", str(corpus), "--output", str(tmp_path / "none.jsonl"), "--quiet"]) == 2
    assert "framing promote" in capsys.readouterr().err

    word = _train(capsys, [*tiny_overrides, "tracking.run_name=word"])
    both = _train(capsys, [*tiny_overrides, "tracking.run_name=word-char", "model.char_ngram_range=[2,4]"])
    experiment = mlflow.get_experiment_by_name("framing")
    assert experiment is not None
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"

    markdown, csv = tmp_path / "cmp.md", tmp_path / "cmp.csv"
    assert main(["compare", "--output", str(markdown), "--output", str(csv)]) == 0
    printed = capsys.readouterr().out
    assert word in printed and both in printed and "*" in printed
    table = pd.read_csv(csv)
    assert set(table["run_id"]) == {word, both}
    columns = ["f1_micro", "f1_macro", *(f"{x}/f1" for x in TINY_LABELS)]
    for column in ["train/seconds", "model/size_mb"] + [f"{s}/{c}" for s in ("validation", "test") for c in columns]:
        assert table[column].notna().all(), column
    assert (table["model/size_mb"] > 0).all()
    assert markdown.read_text().startswith("| rank | run | run_id |")
    assert "Ranked by validation/tuned/f1_macro" in markdown.read_text()

    names = ("f1_macro", "f1_micro", *(f"{x}/f1" for x in TINY_LABELS))
    for column in (f"{split}/{name}" for split in ("validation", "test") for name in names):
        low, value, high = (table[f"{column}{end}"] for end in ("/ci_low", "", "/ci_high"))
        assert ((low <= value) & (value <= high)).all(), column
    header, _, first_row = printed.splitlines()[:3]
    cells = dict(zip(header.split("|"), first_row.split("|"), strict=True))
    assert " [" in cells[" validation/f1_macro "], "the ranked-on value is shown with its interval"

    assert main(["compare", "--param", "tracking.run_name=word", "--output", str(csv)]) == 0
    assert list(pd.read_csv(csv)["run_id"]) == [word]
    assert main(["compare", "--param", "model.char_ngram_range=null", "--output", str(csv)]) == 0
    assert list(pd.read_csv(csv)["run_id"]) == [word]
    assert main(["compare", "--run-name", "word-char", "--run-name", "other", "--output", str(csv)]) == 0
    assert list(pd.read_csv(csv)["run_id"]) == [both]
    capsys.readouterr()
    assert main(["compare", "--filter", "nonsense ~~ 1"]) == 2
    assert "bad --filter" in capsys.readouterr().err

    assert main(["promote", both, "--alias", "champion"]) == 0
    assert "version 1, alias champion" in capsys.readouterr().out
    output = tmp_path / "scores.jsonl"
    assert main(["predict", "--input", str(corpus), "--output", str(output), "--quiet"]) == 0
    assert "model: models:/framing@champion (the registered champion)" in capsys.readouterr().out
    assert len(pd.read_json(output, lines=True)) == 2

    assert main(["promote", "no-such-run"]) == 2


@pytest.mark.usefixtures("mlflow_store")
def test_promoting_a_run_again_moves_the_alias_without_a_new_version(
    tiny_overrides: list[str], capfd: pytest.CaptureFixture[str]
) -> None:
    first = _train(capfd, tiny_overrides)
    second = _train(capfd, [*tiny_overrides, "model.C=1.0"])
    client = mlflow.MlflowClient()

    assert main(["promote", first]) == 0
    assert main(["promote", second]) == 0
    assert main(["promote", first[:8]]) == 0  # a short prefix names the run; promoting it again reuses version 1
    out, err = capfd.readouterr()
    assert out.splitlines()[-2:] == [
        f"already registered: runs:/{first}/model as framing version 1, alias champion",
        "model_uri: models:/framing@champion",
    ]
    assert "WARNING" not in err and "no artifacts" not in err
    assert sorted(int(v.version) for v in client.search_model_versions("name = 'framing'")) == [1, 2]
    assert str(client.get_model_version_by_alias("framing", "champion").version) == "1"


def test_an_unknown_or_ambiguous_run_id_prefix_is_one_line(
    mlflow_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    mlflow.set_tracking_uri(mlflow_store)
    # 17 runs: two of them must share a first character
    ids = []
    for _ in range(17):
        with mlflow.start_run() as run:
            ids.append(run.info.run_id)
    shared = next(run_id[0] for run_id in ids if sum(other[0] == run_id[0] for other in ids) > 1)
    assert main(["promote", shared]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"error: run id prefix '{shared}' is ambiguous: it starts ")
    hexdigits = "0123456789abcdef"
    unknown = next(p for p in (c + d for c in hexdigits for d in hexdigits) if not any(i.startswith(p) for i in ids))
    assert main(["promote", unknown]) == 2
    assert (
        capsys.readouterr().err.strip().splitlines()[-1]
        == f"error: no run id starts with {unknown!r} in {mlflow.get_tracking_uri()}"
    )


@pytest.mark.usefixtures("mlflow_store")
def test_runs_without_a_name_get_distinct_names_that_say_what_ran(
    tiny_overrides: list[str], tiny_data: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Two runs of the same seed: MLflow's own generator, seeded by the run, would name both alike."""
    first, second = (_train(capsys, tiny_overrides) for _ in range(2))
    names = [mlflow.get_run(run_id).info.run_name for run_id in (first, second)]
    assert tiny_data["train"].parent.name == "data"  # data/train.jsonl: named by its folder
    assert all(name.startswith("tfidf-data-") for name in names), names
    assert names[0] != names[1]
