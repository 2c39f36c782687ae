"""The fast scorer of the cascade: TF-IDF n-grams regressed onto the transformer's logits.

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

from framing.models.skops_files import dump_pipeline, load_pipeline

STUDENT_FILE = "student.skops"


class Student:
    """A scikit-learn pipeline from texts to the transformer's logits."""

    def __init__(self, pipeline: object) -> None:
        self.pipeline = pipeline

    @classmethod
    def fit(cls, texts: Sequence[str], teacher_logits: np.ndarray, seed: int = 0) -> Student:
        """Word 1-2-grams and character 2-5-grams (both TF-IDF, sublinear) and one ridge regression."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import Ridge
        from sklearn.pipeline import FeatureUnion, Pipeline

        min_df = 2 if len(texts) >= 1000 else 1
        features = FeatureUnion(
            [
                ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=min_df, dtype=np.float32)),
                (
                    "char",
                    TfidfVectorizer(
                        analyzer="char_wb",
                        ngram_range=(2, 5),
                        sublinear_tf=True,
                        min_df=min_df,
                        max_features=300_000,
                        dtype=np.float32,
                    ),
                ),
            ]
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

    def save(self, directory: Path) -> None:
        dump_pipeline(self.pipeline, directory / STUDENT_FILE)

    @classmethod
    def load(cls, directory: Path) -> Student:
        return cls(load_pipeline(directory / STUDENT_FILE))


__all__ = ["STUDENT_FILE", "Student"]
