"""TF-IDF word and character n-grams with a logistic regression.

The baseline every other family is compared with: fast, strong on short
paragraphs, and explainable, because each flag can be traced to the n-grams
whose weight times TF-IDF value pushed that label up. Saved with skops, loaded
only after checking that the file holds no type outside an explicit allowlist.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, field_validator

from framing.config_base import ModelSettings
from framing.errors import ConfigError, DataError
from framing.models.base import Evidence, FitContext, ModelFamily, evidence_weight
from framing.models.skops_files import dump_pipeline, load_pipeline

if TYPE_CHECKING:
    from framing.data.dataset import LabelledSet


class TfidfConfig(ModelSettings):
    """TF-IDF word + character n-grams and a (one-vs-rest) logistic regression."""

    family: Literal["tfidf"] = Field(default="tfidf", description="The model family; picks these settings.")
    word_ngram_range: tuple[int, int] = Field(default=(1, 2), description="Lowest and highest word n-gram length.")
    char_ngram_range: tuple[int, int] | None = Field(
        default=(2, 5),
        description="Lowest and highest character n-gram length (within words); none: no character n-grams.",
    )
    min_df: int = Field(default=1, ge=1, description="Drop terms in fewer paragraphs than this.")
    max_df: float = Field(default=1.0, gt=0.0, le=1.0, description="Drop terms in more than this share of paragraphs.")
    stop_words: Literal["english"] | None = Field(default=None, description="Stop list for the word n-grams.")
    max_features: int | None = Field(
        default=200_000, gt=0, description="Keep at most this many terms per vectorizer (the most frequent)."
    )
    sublinear_tf: bool = Field(default=True, description="Use 1 + log(tf) instead of raw term counts.")
    C: float = Field(default=4.0, gt=0.0, description="Inverse regularisation strength of the logistic regression.")
    class_weight: Literal["balanced"] | None = Field(
        default="balanced",
        description="balanced: weight rows inversely to their label's frequency; none: equal weights.",
    )
    max_iter: int = Field(default=2000, gt=0, description="Solver iterations of the logistic regression.")

    @field_validator("word_ngram_range", "char_ngram_range")
    @classmethod
    def _ordered_range(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        """scikit-learn only fails on a reversed range once fitting starts; say so before any work."""
        if value is not None and not 1 <= value[0] <= value[1]:
            raise ValueError("needs 1 <= low <= high")
        return value


FAMILY = ModelFamily("tfidf", TfidfConfig, "framing.models.tfidf:TfidfClassifier")
MODEL_FILE = "tfidf.skops"
# Types a model file may contain beyond skops' defaults (scikit-learn estimators,
# numpy and scipy containers). Empty on purpose: anything else is refused.
EXTRA_TRUSTED_TYPES: frozenset[str] = frozenset()


def check_document_frequency(config: TfidfConfig, n_rows: int) -> None:
    """Refuse ``min_df``/``max_df`` that no term can pass on ``n_rows`` training rows.

    scikit-learn only finds out while fitting, inside an open run, with a
    message that names neither the setting nor the data size.
    """
    if config.min_df > n_rows:
        raise ConfigError(
            f"model.min_df={config.min_df}: a term must be in that many training rows, but there are only {n_rows}"
        )
    if config.max_df * n_rows < config.min_df:
        raise ConfigError(
            f"model.max_df={config.max_df} keeps terms in at most {config.max_df * n_rows:g} of the {n_rows} "
            f"training rows, fewer than model.min_df={config.min_df}: no term would remain"
        )


def compact_coefficients(pipeline: Any) -> None:
    """Store the regression coefficients as float32: half the size, probabilities within about 1e-7.

    The TF-IDF values and intercepts stay float64 and the products are summed
    in float64 (scikit-learn upcasts the float32 weights), so only the weights
    lose precision. Pruning the vocabulary instead would gain nothing: an L2
    regression leaves no term with a zero weight for every label.
    """
    classifier = pipeline.named_steps["classifier"]
    for estimator in getattr(classifier, "estimators_", [classifier]):
        if hasattr(estimator, "coef_"):  # one-vs-rest keeps a constant predictor for a label that never varies
            estimator.coef_ = np.asarray(estimator.coef_, dtype=np.float32)


class TfidfClassifier:
    """``TextClassifier`` over a scikit-learn pipeline: FeatureUnion -> (OvR) LogisticRegression."""

    family = "tfidf"

    def __init__(
        self, config: TfidfConfig | None, labels: list[str], task: str, seed: int = 0, pipeline: Any = None
    ) -> None:
        self.config = config
        self.labels = list(labels)
        self.task = task
        self.seed = seed
        self.pipeline = pipeline

    def _build(self) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.pipeline import FeatureUnion, Pipeline

        assert self.config is not None
        cfg = self.config
        shared = {
            "min_df": cfg.min_df,
            "max_df": cfg.max_df,
            "max_features": cfg.max_features,
            "sublinear_tf": cfg.sublinear_tf,
            "strip_accents": "unicode",
        }
        parts = [("word", TfidfVectorizer(ngram_range=cfg.word_ngram_range, stop_words=cfg.stop_words, **shared))]
        if cfg.char_ngram_range:
            parts.append(("char", TfidfVectorizer(analyzer="char_wb", ngram_range=cfg.char_ngram_range, **shared)))
        regression = LogisticRegression(
            C=cfg.C, class_weight=cfg.class_weight, max_iter=cfg.max_iter, random_state=self.seed
        )
        classifier = OneVsRestClassifier(regression) if self.task == "multilabel" else regression
        return Pipeline([("features", FeatureUnion(parts)), ("classifier", classifier)])

    def fit(self, train: LabelledSet, validation: LabelledSet, context: FitContext) -> None:
        """Fit on ``train``; the baseline has no steps to report or checkpoint and nothing to early-stop."""
        matrix = train.label_matrix(self.labels)
        empty = [label for label, count in zip(self.labels, matrix.sum(axis=0), strict=True) if count == 0]
        if empty:
            raise DataError(train.path, f"no training example for label(s) {empty}")
        target = matrix if self.task == "multilabel" else matrix.argmax(axis=1)
        assert self.config is not None
        check_document_frequency(self.config, len(train))
        self.pipeline = self._build()
        try:
            self.pipeline.fit(train.texts, target)
        except ValueError as exc:
            if "no terms remain" not in str(exc):
                raise
            raise ConfigError(
                f"model.min_df={self.config.min_df}, model.max_df={self.config.max_df}: no term of the "
                f"{len(train)} training rows is kept; lower model.min_df or raise model.max_df"
            ) from None
        # cast here, not at save time, so the thresholds are tuned and the metrics measured on the model as saved
        compact_coefficients(self.pipeline)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        assert self.pipeline is not None, "model is not fitted"
        probabilities = np.asarray(self.pipeline.predict_proba(list(texts)), dtype=np.float64)
        if self.task == "multilabel" and len(self.labels) == 1 and probabilities.shape[1] == 2:
            # one-vs-rest sees a single indicator column as a binary problem: keep P(label)
            probabilities = probabilities[:, 1:]
        return probabilities

    def _label_weights(self) -> np.ndarray:
        """Coefficients [labels, features]; for a binary multi-class model, both signs."""
        classifier = self.pipeline.named_steps["classifier"]
        if self.task == "multilabel":
            return np.vstack([est.coef_[0] for est in classifier.estimators_])
        coef = classifier.coef_
        return np.vstack([-coef[0], coef[0]]) if coef.shape[0] == 1 else coef

    def evidence(self, texts: Sequence[str], flags: np.ndarray, k: int) -> list[Evidence]:
        """Top word n-grams by contribution (TF-IDF value x weight) to each flagged label, with it.

        The contribution is the n-gram's share of the label's logit, the
        quantity they are ranked by, so the weight shown is the reason for the
        order. Only word n-grams are reported: character n-grams also move the
        score but mean little to a reader.
        """
        features = self.pipeline.named_steps["features"]
        word = features.transformer_list[0][1]
        names = word.get_feature_names_out()
        weights = self._label_weights()[:, : len(names)]
        values = word.transform(list(texts)).tocsr()
        result: list[Evidence] = []
        for row in range(len(texts)):
            start, end = values.indptr[row], values.indptr[row + 1]
            columns, data = values.indices[start:end], values.data[start:end]
            explained: Evidence = {}
            for label_index in np.flatnonzero(flags[row]):
                contribution = data * weights[label_index, columns]
                order = np.argsort(-contribution, kind="stable")[:k]
                explained[self.labels[label_index]] = [
                    (str(names[columns[i]]), evidence_weight(contribution[i])) for i in order if contribution[i] > 0
                ]
            result.append(explained)
        return result

    def settings(self) -> dict[str, Any]:
        return {"config": self.config.model_dump(mode="json") if self.config else None}

    def save(self, directory: Path) -> None:
        """Dump with skops (``skops_files``: plain-int vocabularies, deflated), coefficients as float32."""
        compact_coefficients(self.pipeline)
        dump_pipeline(self.pipeline, directory / MODEL_FILE)

    @classmethod
    def load(cls, directory: Path, labels: list[str], task: str, settings: dict[str, Any]) -> TfidfClassifier:
        """Load with skops after an explicit trusted-type check; never unpickles."""
        pipeline = load_pipeline(directory / MODEL_FILE, EXTRA_TRUSTED_TYPES)
        config = TfidfConfig.model_validate(settings["config"]) if settings.get("config") else None
        return cls(config, labels=labels, task=task, pipeline=pipeline)
