"""A TF-IDF model file is written small (float32 weights, compressed) and predicts as the fitted model did."""

from __future__ import annotations

import copy
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio

from framing.config import load_config
from framing.models.base import FitContext
from framing.models.tfidf import MODEL_FILE, TfidfClassifier
from framing.training import prepare_data


@pytest.fixture
def fitted(tiny_overrides: list[str]) -> tuple[TfidfClassifier, list[str]]:
    # character n-grams on: they make most of the vocabulary, as in the default model
    config = load_config([*tiny_overrides, "model.char_ngram_range=[2,5]"])
    splits = prepare_data(config)
    model = TfidfClassifier(config.model, splits.label_names, config.data.task, seed=0)  # type: ignore[arg-type]
    model.fit(splits.train, splits.validation, FitContext())
    assert splits.test is not None
    return model, splits.test.texts + splits.train.texts


def test_a_saved_model_is_compressed_with_float32_weights_and_predicts_the_same(
    fitted: tuple[TfidfClassifier, list[str]], tmp_path: Path
) -> None:
    model, texts = fitted
    classifier = model.pipeline.named_steps["classifier"]
    assert all(estimator.coef_.dtype == np.float32 for estimator in classifier.estimators_)
    in_memory = model.predict_proba(texts)
    evidence = model.evidence(texts, np.ones((len(texts), len(model.labels)), dtype=bool), 3)

    model.save(tmp_path)
    path = tmp_path / MODEL_FILE
    with zipfile.ZipFile(path) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    assert sio.get_untrusted_types(file=path) == []  # nothing new to trust: the load-time check is unchanged
    loaded = TfidfClassifier.load(tmp_path, model.labels, model.task, model.settings())
    np.testing.assert_array_equal(loaded.predict_proba(texts), in_memory)
    assert loaded.evidence(texts, np.ones((len(texts), len(model.labels)), dtype=bool), 3) == evidence


def test_the_model_file_is_at_least_five_times_smaller_than_before(
    fitted: tuple[TfidfClassifier, list[str]], tmp_path: Path
) -> None:
    model, texts = fitted
    before = copy.deepcopy(model.pipeline)  # as models were written before: float64 weights, no compression
    for estimator in before.named_steps["classifier"].estimators_:
        estimator.coef_ = estimator.coef_.astype(np.float64)
    sio.dump(before, tmp_path / "before.skops")
    model.save(tmp_path)
    assert (tmp_path / "before.skops").stat().st_size >= 5 * (tmp_path / MODEL_FILE).stat().st_size
    # the float32 weights move probabilities by float rounding only
    np.testing.assert_allclose(model.predict_proba(texts), before.predict_proba(texts), atol=1e-6)
