"""The fast scorer of the cascade: hashed TF-IDF n-grams regressed onto the transformer's logits.

Distillation, not a second classifier: the student learns to reproduce the
fine-tuned transformer's logits (every label at once, one ridge regression)
on the training paragraphs plus any unlabelled paragraphs of the same kind,
so its margin from the transformer's threshold says how sure it can be of the
transformer's decision. Measured on the real-text split (benchmarks/README.md),
word and character n-grams beat word n-grams alone and a static-embedding
student distilled from the fine-tuned encoder's token vectors, which over-fits
the few thousand paragraphs there are. Saved with skops after the same
trusted-type check as the TF-IDF family; no pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from framing.models.base import Evidence
from framing.models.skops_files import dump_pipeline, load_pipeline

STUDENT_FILE = "student.skops"
HASHED_FEATURES = 2**18  # per n-gram kind


class Student:
    """A scikit-learn pipeline from texts to the transformer's logits."""

    def __init__(self, pipeline: object) -> None:
        self.pipeline = pipeline

    @classmethod
    def fit(cls, texts: Sequence[str], teacher_logits: np.ndarray, seed: int = 0) -> Student:
        """Hashed word 1-2-grams and character 2-5-grams (TF-IDF, sublinear) and one ridge regression.

        Hashing instead of a vocabulary: the same quality here, and the file
        holds only arrays, which load in a tenth of a second, where
        vocabularies of a few hundred thousand n-grams took seconds (measured
        in benchmarks/README.md).
        """
        from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
        from sklearn.linear_model import Ridge
        from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline

        def hashed(**options: object) -> Pipeline:
            vectorizer = HashingVectorizer(
                n_features=HASHED_FEATURES, alternate_sign=False, norm=None, dtype=np.float32, **options
            )
            return make_pipeline(vectorizer, TfidfTransformer(sublinear_tf=True))

        features = FeatureUnion(
            [("word", hashed(ngram_range=(1, 2))), ("char", hashed(analyzer="char_wb", ngram_range=(2, 5)))]
        )
        pipeline = Pipeline([("features", features), ("ridge", Ridge(alpha=1.0, random_state=seed))])
        pipeline.fit(list(texts), np.asarray(teacher_logits, dtype=np.float64))
        ridge = pipeline.named_steps["ridge"]
        ridge.coef_ = np.asarray(ridge.coef_, dtype=np.float32)  # half the file; the band is fitted on these
        return cls(pipeline)

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """The transformer's logits as the student estimates them, [len(texts), labels]."""
        predicted = np.asarray(self.pipeline.predict(list(texts)), dtype=np.float64)  # type: ignore[attr-defined]
        return predicted.reshape(len(texts), -1)

    def evidence(self, labels: Sequence[str], texts: Sequence[str], flags: np.ndarray, k: int) -> list[Evidence]:
        """Per row, the words with the largest share of each flagged label's logit (``framing.cascade.explain``)."""
        from framing.cascade.explain import student_evidence

        return student_evidence(self.pipeline, labels, texts, flags, k)

    def save(self, directory: Path) -> None:
        dump_pipeline(self.pipeline, directory / STUDENT_FILE, slim=False)

    @classmethod
    def load(cls, directory: Path) -> Student:
        return cls(load_pipeline(directory / STUDENT_FILE))


__all__ = ["HASHED_FEATURES", "STUDENT_FILE", "Student"]
