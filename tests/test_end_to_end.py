"""Train a tiny model into a temporary MLflow store, then load it every way and score articles."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from framing import load_model
from framing.cli import main
from framing.config import load_config
from framing.models.tfidf import TfidfClassifier
from framing.scoring.model_files import training_record
from framing.training import run_training
from tests.conftest import PROJECT_ROOT, TINY_LABELS


def _train(capsys: pytest.CaptureFixture[str], overrides: list[str], *flags: str) -> tuple[str, str]:
    assert main(["train", *overrides, *flags]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("model_uri: ")
    run_id = next(line.split(": ")[1] for line in lines if line.startswith("run_id: "))
    return run_id, lines[-1].removeprefix("model_uri: ")


@pytest.mark.usefixtures("mlflow_store")
def test_training_run_logs_everything_and_model_loads_every_way(
    tiny_overrides: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run_id, model_uri = _train(capsys, [*tiny_overrides, "seed=7"], "--register", "tiny-framing", "--alias", "champion")
    assert model_uri == f"runs:/{run_id}/model"

    client = MlflowClient()
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["seed"] == "7"
    assert params["model.family"] == "tfidf"
    assert params["model.char_ngram_range"] == "None"
    assert params["data.train_rows"] == "16"
    assert len(params["data.test_sha256"]) == 64
    assert run.data.tags["model_family"] == "tfidf"
    assert "version.scikit-learn" in run.data.tags

    metrics = run.data.metrics
    for split in ("validation", "test"):
        for mode in ("default", "tuned"):
            for name in ("f1_micro", "f1_macro", "pr_auc_macro"):
                assert 0.0 <= metrics[f"{split}/{mode}/{name}"] <= 1.0
            for label in TINY_LABELS:
                assert f"{split}/{mode}/{label}/f1" in metrics
    assert {f"threshold/{label}" for label in TINY_LABELS} <= set(metrics)
    assert metrics["data/rejected_rows"] == 0

    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert {"config.yaml", "plots", "error_analysis"} <= artifacts
    plots = {a.path for a in client.list_artifacts(run_id, "plots")}
    assert "plots/test_pr_curves.png" in plots and "plots/test_confusion_matrices.png" in plots
    errors = {a.path for a in client.list_artifacts(run_id, "error_analysis")}
    assert "error_analysis/test_worst_errors.csv" in errors

    assert sorted(d.dataset.name for d in run.inputs.dataset_inputs) == ["test", "train", "validation"]
    logged = mlflow.search_logged_models(experiment_ids=[run.info.experiment_id], output_format="list")
    assert len(logged) == 1, "exactly one model per run"

    texts = [
        "Officials said foreign channels distorted the events and spread lies.",
        "Aid convoys brought food to families.",
    ]
    reference = load_model(model_uri).predict(texts)
    assert list(reference.columns) == ["labels", *[f"p_{label}" for label in TINY_LABELS]]
    assert isinstance(reference.loc[0, "labels"], list)
    for uri in ("models:/tiny-framing@champion", "models:/tiny-framing/1"):
        pd.testing.assert_frame_equal(load_model(uri).predict(texts), reference)

    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=str(tmp_path / "downloaded")))
    pd.testing.assert_frame_equal(load_model(local).predict(texts), reference)
    pd.testing.assert_frame_equal(load_model(local / "artifacts" / "package").predict(texts), reference)

    pyfunc = mlflow.pyfunc.load_model(model_uri)
    assert pyfunc.metadata.signature.inputs.input_names() == ["text"]
    served = pyfunc.predict(pd.DataFrame({"text": texts}))
    np.testing.assert_allclose(served["p_media_bias_claim"], reference["p_media_bias_claim"])


@pytest.mark.usefixtures("mlflow_store")
def test_loading_from_the_tracking_store_leaves_no_copy_behind(
    tiny_overrides: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each load downloads the model; the copy goes once the model is in memory (it used to stay in the temp folder)."""
    _, model_uri = _train(capsys, tiny_overrides)
    temporary = tmp_path / "temporary"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    articles = tmp_path / "articles.jsonl"
    articles.write_text(json.dumps({"article_id": "a1", "text": "The ministry said foreign newspapers lied."}) + "\n")

    predictor = load_model(model_uri)
    output = tmp_path / "out.jsonl"
    assert main(["predict", "--model", model_uri, "--input", str(articles), "--output", str(output)]) == 0
    assert training_record(model_uri)["main_languages"] == ["en"]

    assert list(temporary.iterdir()) == []
    assert predictor.predict(["Aid convoys brought food to families."]).shape[0] == 1  # nothing was read lazily


@pytest.mark.usefixtures("mlflow_store")
def test_predict_scores_articles_with_evidence(
    tiny_overrides: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, model_uri = _train(capsys, tiny_overrides)
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "one.txt").write_text(
        "Ministry rejects reports\n\nThe ministry said foreign newspapers spread lies and distorted the vote.\n\n"
        "The football team won on Saturday.\n",
        encoding="utf-8",
    )
    (articles / "two.txt").write_text("Aid workers brought food and water to displaced families.\n", encoding="utf-8")
    for suffix in ("jsonl", "csv", "parquet"):
        output = tmp_path / f"scored.{suffix}"
        assert (
            main(["predict", "--model", model_uri, "--input", str(articles), "--output", str(output), "--quiet"]) == 0
        )
        summary = capsys.readouterr().out
        assert "scored 4 paragraphs from 2 articles" in summary
        frame = (
            pd.read_json(output, lines=True)
            if suffix == "jsonl"
            else pd.read_csv(output)
            if suffix == "csv"
            else pd.read_parquet(output)
        )
        assert list(frame[["article_id", "paragraph"]].itertuples(index=False, name=None)) == [
            ("one", 0),
            ("one", 1),
            ("one", 2),
            ("two", 0),
        ]
        assert {"text", "labels", "evidence", *[f"p_{label}" for label in TINY_LABELS]} <= set(frame.columns)
        assert not list(tmp_path.glob(f".scored.{suffix}.partial"))

    rows = [json.loads(line) for line in (tmp_path / "scored.jsonl").read_text().splitlines()]
    claim = rows[1]
    assert "media_bias_claim" in claim["labels"]
    evidence = claim["evidence"]["media_bias_claim"]  # [[n-gram, weight], ...], largest weight first
    assert evidence and all(term in claim["text"].lower() for term, _ in evidence)
    weights = [weight for _, weight in evidence]
    assert all(isinstance(w, float) and w > 0 for w in weights) and weights == sorted(weights, reverse=True)


def test_crash_marks_run_failed(tiny_overrides: list[str], mlflow_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(self: TfidfClassifier, train: object, validation: object, context: object) -> None:
        raise RuntimeError("simulated crash during fit")

    monkeypatch.setattr(TfidfClassifier, "fit", explode)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_training(load_config(tiny_overrides))
    mlflow.set_tracking_uri(mlflow_store)
    runs = mlflow.search_runs(experiment_names=["framing"], output_format="list")
    assert [r.info.status for r in runs] == ["FAILED"]


def test_bad_override_exits_2_without_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "train.py", "model.no_such_key=1"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "model.no_such_key: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_data_row_names_file_and_row(
    tiny_data: dict[str, Path], tiny_overrides: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with open(tiny_data["validation"], "a", encoding="utf-8") as handle:
        handle.write('{"id": "x1", "article_id": "a99", "text": "   ", "labels": []}\n')
    assert main(["validate", *tiny_overrides]) == 2
    assert f"{tiny_data['validation']}, row 5: empty text" in capsys.readouterr().err


@pytest.mark.usefixtures("mlflow_store")
def test_multiclass_csv_run_with_skipped_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A multi-class task from CSV files with a string label column; one bad row is skipped and logged."""
    topics = {
        "sport": [
            "The striker scored twice in the derby.",
            "The champion won the marathon in record time.",
            "The cup final drew a crowd of sixty thousand.",
            "The tennis star retired after the semi-final.",
        ],
        "weather": [
            "Heavy rain flooded the coastal road.",
            "A heatwave is expected to last until Sunday.",
            "Snow closed the mountain pass overnight.",
            "Forecasters warned of gales along the coast.",
        ],
        "markets": [
            "Shares fell as bond yields climbed.",
            "The central bank left interest rates unchanged.",
            "Oil prices rose on supply worries.",
            "The currency slipped against the dollar.",
        ],
    }

    def write(name: str, index: slice, extra: str = "") -> Path:
        path = tmp_path / f"{name}.csv"
        rows = ["id,article_id,text,label"]
        for label, texts in topics.items():
            for i, text in enumerate(texts[index]):
                rows.append(f'{name}-{label}-{i},{name}-{label}-{i},"{text}",{label}')
        path.write_text("\n".join(rows) + "\n" + extra, encoding="utf-8")
        return path

    train = write("train", slice(0, 2), extra='bad-1,bad-1,"A row with a label nobody declared.",gossip\n')
    validation, test = write("validation", slice(2, 3)), write("test", slice(3, 4))
    overrides = [
        f"data.train={train}",
        f"data.validation={validation}",
        f"data.test={test}",
        "data.task=multiclass",
        "data.label_column=label",
        "data.labels=[sport,weather,markets]",
        "data.bad_rows=skip",
        "data.rejects_dir=rejects",
        "model.char_ngram_range=null",
    ]
    run_id, model_uri = _train(capsys, overrides)
    run = MlflowClient().get_run(run_id)
    assert run.data.metrics["data/rejected_rows"] == 1
    rejects_file = Path("rejects/rejects.jsonl")
    reject = json.loads(rejects_file.read_text().splitlines()[0])
    assert reject["row"] == 7 and "unknown label" in reject["reason"]
    assert "data/rejects.jsonl" in {a.path for a in MlflowClient().list_artifacts(run_id, "data")}
    assert "threshold/sport" not in run.data.metrics, "multi-class decisions are arg-max, not thresholds"

    predictions = load_model(model_uri).predict(["The striker scored a late goal.", "Shares and bond yields fell."])
    assert all(len(labels) == 1 for labels in predictions["labels"])
    probabilities = predictions[["p_sport", "p_weather", "p_markets"]].to_numpy()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
