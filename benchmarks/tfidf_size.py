"""Size of a default TF-IDF model file, before and after compaction, and whether predictions agree.

    python benchmarks/tfidf_size.py [key=value ...]

Fits the default TF-IDF model on the shipped data (or with the given config
overrides) once, then writes it twice: as models were written before
(float64 coefficients, uncompressed skops) and as ``TfidfClassifier.save``
writes it now (float32 coefficients, deflate). Both files are loaded through
the trusted-type check and scored on the test split; thresholds are tuned on
validation with the float64 model and applied to both. Writes nothing in the
repository.
"""

from __future__ import annotations

import copy
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(overrides: list[str]) -> None:
    import skops.io as sio

    from framing.config import load_config
    from framing.models.tfidf import MODEL_FILE, TfidfClassifier
    from framing.thresholds import apply_thresholds, tune_thresholds
    from framing.training import prepare_data

    config = load_config(["model=tfidf", *overrides])
    splits = prepare_data(config)
    labels = splits.label_names
    model = TfidfClassifier(config.model, labels, config.data.task, seed=config.seed)  # type: ignore[arg-type]
    model.pipeline = model._build()
    train = splits.train.label_matrix(labels)
    model.pipeline.fit(splits.train.texts, train if config.data.task == "multilabel" else train.argmax(axis=1))
    before = copy.deepcopy(model.pipeline)  # float64, as fitted

    with tempfile.TemporaryDirectory() as tmp:
        old_dir, new_dir = Path(tmp, "old"), Path(tmp, "new")
        old_dir.mkdir()
        new_dir.mkdir()
        for _, vectorizer in before.named_steps["features"].transformer_list:  # what save() did before
            vectorizer.vocabulary_ = {term: int(index) for term, index in vectorizer.vocabulary_.items()}
            if hasattr(vectorizer, "stop_words_"):
                del vectorizer.stop_words_
        sio.dump(before, old_dir / MODEL_FILE)
        model.save(new_dir)
        sizes = {name: (d / MODEL_FILE).stat().st_size for name, d in (("before", old_dir), ("after", new_dir))}
        settings = model.settings()
        old = TfidfClassifier.load(old_dir, labels, config.data.task, settings)
        new = TfidfClassifier.load(new_dir, labels, config.data.task, settings)

    thresholds = None
    if config.data.task == "multilabel":
        thresholds = tune_thresholds(
            splits.validation.label_matrix(labels),
            old.predict_proba(splits.validation.texts),
            default=config.train.default_threshold,
            low=config.train.min_threshold,
            high=config.train.max_threshold,
        )
    assert splits.test is not None, "the benchmark needs a test split"
    texts = splits.test.texts
    p_old, p_new = old.predict_proba(texts), new.predict_proba(texts)
    f_old = apply_thresholds(p_old, thresholds, config.data.task)
    f_new = apply_thresholds(p_new, thresholds, config.data.task)
    terms = sum(len(v.vocabulary_) for _, v in new.pipeline.named_steps["features"].transformer_list)
    print(f"features: {terms:,}")
    print(
        f"model file before: {sizes['before'] / 1e6:.1f} MB, after: {sizes['after'] / 1e6:.1f} MB "
        f"({sizes['before'] / sizes['after']:.1f}x smaller)"
    )
    print(
        f"test split: {len(texts)} paragraphs; same label set: {np.mean((f_old == f_new).all(axis=1)):.2%}; "
        f"same per-label decision: {np.mean(f_old == f_new):.2%}; "
        f"largest probability difference: {np.abs(p_old - p_new).max():.1e}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
