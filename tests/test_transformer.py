"""The transformer family on a tiny random BERT built locally: training, windows, resume, MLflow, int8."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from framing import load_model
from framing.config import DataConfig, TransformerConfig, load_config
from framing.data.dataset import LabelledSet, Splits, load_splits
from framing.models.base import FitContext
from framing.models.transformer_model import TransformerClassifier
from framing.training import run_training
from tests.conftest import TINY_LABELS


class Interrupted(Exception):
    """Stands in for a kill: raised from inside the training loop."""


def tiny_config(bert: Path, **changes: object) -> TransformerConfig:
    values: dict[str, object] = {
        "base_model": str(bert),
        "epochs": 30,
        "batch_size": 8,
        "eval_batch_size": 8,
        "max_length": 32,
        "window_stride": 8,
        "learning_rate": 5e-3,
        "warmup_ratio": 0.0,
        "early_stopping_patience": 100,
        "checkpoint_every_steps": 3,
        "log_every_steps": 1,
        "device": "cpu",
    }
    values.update(changes)
    return TransformerConfig.model_validate(values)


@pytest.fixture
def splits(tiny_data: dict[str, Path]) -> Splits:
    return load_splits(
        DataConfig(
            train=tiny_data["train"], validation=tiny_data["validation"], test=tiny_data["test"], labels=TINY_LABELS
        )
    )


def train(config: TransformerConfig, splits: Splits, context: FitContext | None = None) -> TransformerClassifier:
    """Fit with the training set as validation too: these tests check learning, not generalisation."""
    model = TransformerClassifier(config, TINY_LABELS, "multilabel", seed=3)
    model.fit(splits.train, splits.train, context or FitContext())
    return model


def test_training_learns_the_training_set_and_is_deterministic(tiny_bert_dir: Path, splits: Splits) -> None:
    reports: list[tuple[int, dict[str, float]]] = []
    first = train(tiny_config(tiny_bert_dir), splits, FitContext(report=lambda m, s: reports.append((s, m))))
    probabilities = first.predict_proba(splits.train.texts)
    truth = splits.train.label_matrix(TINY_LABELS).astype(bool)
    assert ((probabilities >= 0.5) == truth).mean() > 0.9
    assert any("train/loss" in m for _, m in reports) and any("epoch/validation_f1_macro" in m for _, m in reports)
    assert any("calibration/ece_after" in m for _, m in reports)

    second = train(tiny_config(tiny_bert_dir), splits)
    np.testing.assert_array_equal(second.predict_proba(splits.test.texts), first.predict_proba(splits.test.texts))


def test_multiclass_training(tiny_bert_dir: Path, splits: Splits) -> None:
    def single_label(split: LabelledSet) -> LabelledSet:
        keep = [i for i, labels in enumerate(split.labels) if len(labels) == 1]
        return LabelledSet(
            split.name,
            split.path,
            [split.ids[i] for i in keep],
            [split.texts[i] for i in keep],
            [split.groups[i] for i in keep],
            [split.labels[i] for i in keep],
        )

    train_set = single_label(splits.train)
    model = TransformerClassifier(tiny_config(tiny_bert_dir), TINY_LABELS, "multiclass", seed=3)
    model.fit(train_set, train_set, FitContext())
    probabilities = model.predict_proba(train_set.texts)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)
    predicted = [TINY_LABELS[i] for i in probabilities.argmax(axis=1)]
    assert np.mean([p == labels[0] for p, labels in zip(predicted, train_set.labels, strict=True)]) > 0.8


def test_long_paragraph_is_scored_by_pooled_windows(tiny_bert_dir: Path, splits: Splits) -> None:
    model = train(tiny_config(tiny_bert_dir, epochs=1, max_length=16, window_stride=4), splits)
    long_text = " ".join(splits.train.texts[:4])
    windows = model.windows([long_text, "Aid workers reached families."])
    assert (windows.owner == 0).sum() >= 3 and (windows.owner == 1).sum() == 1
    assert all(len(ids) <= 16 for ids in windows.input_ids)
    per_window = model._window_logits(windows)
    pooled = model.logits([long_text, "Aid workers reached families."])
    np.testing.assert_allclose(pooled[0], per_window[windows.owner == 0].max(axis=0), rtol=1e-5)
    # the tail of the paragraph is read: changing only the last sentence changes the score
    changed = long_text.rsplit(".", 2)[0] + ". The summit ended with a joint statement on trade."
    assert not np.allclose(model.logits([changed])[0], pooled[0])


def test_resume_after_interruption_gives_the_same_model(tiny_bert_dir: Path, splits: Splits, tmp_path: Path) -> None:
    config = tiny_config(tiny_bert_dir)
    reference = train(config, splits, FitContext(checkpoint_dir=tmp_path / "uninterrupted"))

    def kill_at_step_8(metrics: dict[str, float], step: int) -> None:
        if step == 37 and "train/loss" in metrics:
            raise Interrupted

    with pytest.raises(Interrupted):
        train(config, splits, FitContext(report=kill_at_step_8, checkpoint_dir=tmp_path / "killed"))
    assert (tmp_path / "killed" / "last" / "state.json").is_file()
    resumed = train(config, splits, FitContext(checkpoint_dir=tmp_path / "killed", resume=True))
    np.testing.assert_allclose(
        resumed.predict_proba(splits.test.texts), reference.predict_proba(splits.test.texts), atol=1e-5
    )


def test_int8_quantized_scores_agree_with_fp32(tiny_bert_dir: Path, splits: Splits, tmp_path: Path) -> None:
    model = train(tiny_config(tiny_bert_dir), splits)
    texts = splits.train.texts + splits.validation.texts + splits.test.texts
    fp32 = model.predict_proba(texts)
    model.quantize()
    int8 = model.predict_proba(texts)
    # int8 rounding moves a 32-wide random model more than a real one; decisions must still agree
    assert np.abs(int8 - fp32).mean() < 0.03
    assert ((int8 >= 0.5) == (fp32 >= 0.5)).mean() >= 0.95
    model.save(tmp_path)  # saves the fp32 weights, not the quantized copy
    restored = TransformerClassifier.load(tmp_path, TINY_LABELS, "multilabel", model.settings())
    np.testing.assert_allclose(restored.predict_proba(texts), fp32, atol=1e-6)


@pytest.mark.usefixtures("mlflow_store")
def test_mlflow_round_trip_and_resumed_run(
    tiny_transformer_overrides: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    overrides = [*tiny_transformer_overrides, "model.checkpoint_every_steps=2", f"checkpoint_dir={tmp_path / 'ckpt'}"]
    original_report = FitContext.__init__

    def interrupting_init(self: FitContext, report=None, checkpoint_dir=None, resume=False) -> None:  # type: ignore[no-untyped-def]
        def report_then_die(metrics: dict[str, float], step: int) -> None:
            report(metrics, step)
            if step == 5 and not resume and "train/loss" in metrics:
                raise Interrupted

        original_report(self, report_then_die, checkpoint_dir, resume)

    monkeypatch.setattr(FitContext, "__init__", interrupting_init)
    with pytest.raises(Interrupted):
        run_training(load_config(overrides))
    killed = mlflow.search_runs(experiment_names=["framing"], output_format="list")
    assert len(killed) == 1

    result = run_training(load_config([*overrides, "resume=true"]))
    assert result.run_id == killed[0].info.run_id, "resume continues the same MLflow run"
    run = MlflowClient().get_run(result.run_id)
    assert run.info.status == "FINISHED" and run.data.tags["resumed"] == "true"
    losses = MlflowClient().get_metric_history(result.run_id, "train/loss")
    assert len(losses) >= 8, "a loss per step"
    assert "calibration/ece_after" in run.data.metrics
    assert len(mlflow.search_logged_models(experiment_ids=[run.info.experiment_id], output_format="list")) == 1
    assert not (tmp_path / "ckpt").exists() or not any((tmp_path / "ckpt").iterdir()), "checkpoints removed"

    artifact = Path(mlflow.artifacts.download_artifacts(artifact_uri=result.model_uri, dst_path=str(tmp_path / "dl")))
    weights = artifact / "artifacts" / "package" / "transformer"
    assert (weights / "model.safetensors").is_file() and not list(artifact.rglob("*.pkl"))

    texts = ["Officials said foreign channels distorted the events.", "Aid convoys brought food to families."]
    direct = load_model(result.model_uri).predict(texts)
    served = mlflow.pyfunc.load_model(result.model_uri).predict(pd.DataFrame({"text": texts}))
    np.testing.assert_allclose(
        served[[f"p_{label}" for label in TINY_LABELS]], direct[[f"p_{label}" for label in TINY_LABELS]], atol=1e-6
    )
    assert served["labels"].tolist() == direct["labels"].tolist()


def test_scoring_batches_are_bounded_in_rows_and_padded_tokens_and_cover_every_window_once() -> None:
    from framing.models.transformer_model import length_batches

    lengths = [5, 300, 40, 40, 12, 256, 7, 128, 128, 128, 3]
    batches = list(length_batches(lengths, most_rows=4, most_tokens=300))
    seen = np.concatenate(batches)
    assert sorted(seen.tolist()) == list(range(len(lengths)))
    assert [lengths[i] for i in seen] == sorted(lengths)  # length order: each batch pads little
    for batch in batches:
        assert len(batch) <= 4
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 300
    assert [len(b) for b in batches] == [4, 2, 2, 1, 1, 1]  # a 300-token window still gets a batch of its own


def test_fixed_shape_batches_use_stepped_lengths_and_power_of_two_rows_and_cover_every_window_once() -> None:
    from framing.models.transformer_model import length_batches

    rng = np.random.default_rng(3)
    lengths = rng.integers(3, 200, size=300).tolist()
    batches = list(length_batches(lengths, most_rows=64, most_tokens=2048, length_step=16))
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    for batch in batches[:-1]:  # a batch cut by a limit has a power-of-two size; the last one is padded
        assert len(batch) & (len(batch) - 1) == 0
        assert len(batch) == 1 or len(batch) * -(-max(lengths[i] for i in batch) // 16) * 16 <= 2048


def test_fixed_shape_padding_scores_as_per_batch_padding(tiny_bert_dir: Path, splits: Splits) -> None:
    """bf16 copies pad to fixed shapes so a long run meets few shapes; the padding must not change scores."""
    model = train(tiny_config(tiny_bert_dir, epochs=1, max_length=16, window_stride=4), splits)
    texts = splits.train.texts + splits.validation.texts + splits.test.texts
    windows = model.windows(texts)
    per_batch = model._window_logits(windows)
    batch = model.pad([windows.input_ids[0], windows.input_ids[1], windows.input_ids[2]], length_step=16)
    assert tuple(batch["input_ids"].shape) == (4, 16)  # 3 rows -> 4; at most 16 tokens -> 16
    model._length_step = 16
    fixed = model._window_logits(windows)
    np.testing.assert_allclose(fixed, per_batch, atol=1e-5)
