"""The one on-disk model format shared by every family.

A model folder holds the family's own files (skops, or safetensors plus
tokenizer) and ``framing.json``: family, task, label names, thresholds,
inference settings and library versions. The MLflow pyfunc and
``framing.load_model`` both read this folder, so a model behaves the same
whichever way it is loaded.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from framing.errors import ModelLoadError
from framing.mentions import gate, open_labels
from framing.models.base import Evidence, TextClassifier, model_class
from framing.thresholds import apply_thresholds

if TYPE_CHECKING:
    from framing.cascade import Cascade

MANIFEST = "framing.json"
# The model folder's name among a logged MLflow model's artifacts (``artifacts/package``).
PACKAGE_ARTIFACT = "package"
FORMAT_VERSION = 1
TRACKED_LIBRARIES = (
    "framing",
    "scikit-learn",
    "skops",
    "numpy",
    "pandas",
    "pyarrow",
    "pydantic",
    "omegaconf",
    "pyyaml",
    "mlflow",
    "torch",
    "transformers",
    "tokenizers",
    "safetensors",
)


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries a model depends on."""
    versions = {}
    for name in TRACKED_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


@dataclass
class Predictor:
    """A trained model plus its thresholds: what users score paragraphs with.

    A transformer model may carry a ``cascade`` (``framing.cascade``): a fast
    student decides the paragraphs it is sure of and the transformer the rest,
    unless ``exact`` is set. Output then has a ``decided_by`` column.
    """

    model: TextClassifier
    thresholds: np.ndarray | None
    # What the model was trained on (languages of its training paragraphs, data files), saved as "training".
    training: dict[str, Any] = field(default_factory=dict)
    cascade: Cascade | None = None
    exact: bool = False
    # Labels decided only for paragraphs that refer to the news media (framing.mentions), as trained.
    news_media_labels: list[str] = field(default_factory=list)
    _escalation: TextClassifier | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def labels(self) -> list[str]:
        return list(self.model.labels)

    @property
    def task(self) -> str:
        return self.model.task

    @property
    def cascading(self) -> bool:
        """Whether scoring goes through the cascade (a model with one, not asked to be exact)."""
        return self.cascade is not None and not self.exact

    def probabilities(self, texts: list[str]) -> np.ndarray:
        return self.decide(texts)[0]

    def decide(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities per label and, per row, whether the full model scored it (False: the student did)."""
        if not texts:
            return np.zeros((0, len(self.labels))), np.zeros(0, dtype=bool)
        open_mask = open_labels(texts, self.labels, self.news_media_labels) if self.news_media_labels else None
        if not self.cascading:
            probabilities, escalated = self.model.predict_proba(texts), np.ones(len(texts), dtype=bool)
        else:
            assert self.cascade is not None
            probabilities, escalated = self.cascade.route(texts, self.thresholds, open_mask)
            if escalated.any():
                chosen = np.flatnonzero(escalated)
                probabilities[chosen] = self.escalation_model().predict_proba([texts[i] for i in chosen])
        return (probabilities if open_mask is None else gate(probabilities, open_mask)), escalated

    def escalation_model(self) -> TextClassifier:
        """What scores the paragraphs the cascade sends on: the model, or its faster copy on this machine."""
        if self._escalation is None:
            for_escalation = getattr(self.model, "for_escalation", None)
            self._escalation = for_escalation() if for_escalation else self.model
        return self._escalation

    def use_escalation_precision(self, precision: str) -> None:
        """Score the paragraphs the cascade sends on in ``precision`` (auto, fp32, bf16), not as the model says."""
        config = getattr(self.model, "config", None)
        if self.cascade is None or config is None or not hasattr(config, "cascade"):
            raise ModelLoadError(f"a {self.model.family} model without a cascade has no escalation precision")
        cascade = config.cascade.model_copy(update={"transformer_precision": precision})
        self.model.config = config.model_copy(update={"cascade": cascade})  # type: ignore[attr-defined]
        self._escalation = None

    def escalation_precision(self) -> str:
        """``bf16`` or ``fp32``: the precision of the escalated paragraphs' scores on this machine."""
        precision = getattr(self.model, "escalation_precision", None)
        return precision() if precision else "fp32"

    def flags(self, probabilities: np.ndarray) -> np.ndarray:
        return apply_thresholds(probabilities, self.thresholds, self.task)

    def fingerprint(self) -> str:
        """Identifies what the model outputs: family, labels, thresholds, settings and the cascade, if used."""
        import hashlib

        identity = {
            "family": self.model.family,
            "task": self.task,
            "labels": self.labels,
            "thresholds": None if self.thresholds is None else [round(float(t), 8) for t in self.thresholds],
            "settings": self.model.settings(),
            **({"requires_news_media": self.news_media_labels} if self.news_media_labels else {}),
            **(
                {"cascade": self.cascade.settings(), "escalation_precision": self.escalation_precision()}
                if self.cascading and self.cascade
                else {}
            ),
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()

    def predict(self, texts: list[str] | pd.Series) -> pd.DataFrame:
        """One row per text: ``labels`` (list of names) and ``p_<label>`` per label."""
        texts = [str(t) for t in texts]
        probabilities, escalated = self.decide(texts)
        return self._frame(probabilities, self.flags(probabilities), escalated)

    def predict_with_evidence(self, texts: list[str], k: int = 5) -> pd.DataFrame:
        """As ``predict``, plus ``evidence``: the words or n-grams behind each predicted label."""
        if k > 0 and texts and self.cascading and hasattr(self.model, "decide_and_explain"):
            probabilities, escalated, evidence = self._decide_and_explain(texts, k)
            frame = self._frame(probabilities, self.flags(probabilities), escalated)
            frame["evidence"] = evidence
            return frame
        probabilities, escalated = self.decide(texts)
        flags = self.flags(probabilities)
        frame = self._frame(probabilities, flags, escalated)
        if k <= 0:
            frame["evidence"] = [{} for _ in texts]
        else:
            frame["evidence"] = self.evidence(texts, flags, escalated, k) if texts else []
        return frame

    def _decide_and_explain(self, texts: list[str], k: int) -> tuple[np.ndarray, np.ndarray, list[Evidence]]:
        """``decide`` and ``evidence`` through the cascade, the transformer explaining from what its scoring kept.

        The same decisions and the same kind of evidence as ``decide`` then
        ``evidence``; the transformer's copy scores the escalated rows, decides
        their flags batch by batch with this predictor's thresholds and
        news-media requirement, and explains the flagged ones from the hidden
        state their scoring kept (``decide_and_explain``).
        """
        assert self.cascade is not None
        open_mask = open_labels(texts, self.labels, self.news_media_labels) if self.news_media_labels else None
        probabilities, escalated = self.cascade.route(texts, self.thresholds, open_mask)
        evidence: list[Evidence] = [{} for _ in texts]
        chosen = np.flatnonzero(escalated)
        if len(chosen):

            def flags_of(positions: np.ndarray, scored: np.ndarray) -> np.ndarray:
                return self.flags(scored if open_mask is None else gate(scored, open_mask[chosen[positions]]))

            explainer = self.escalation_model()
            scored, explained = explainer.decide_and_explain(  # type: ignore[attr-defined]
                [texts[i] for i in chosen], flags_of, k
            )
            probabilities[chosen] = scored
            for i, found in zip(chosen, explained, strict=True):
                evidence[i] = found
        if open_mask is not None:
            probabilities = gate(probabilities, open_mask)
        rows = np.flatnonzero(~escalated)
        if len(rows):
            flags = self.flags(probabilities[rows])
            explained = self.cascade.student.evidence(self.labels, [texts[i] for i in rows], flags, k)
            for i, found in zip(rows, explained, strict=True):
                evidence[i] = found
        return probabilities, escalated, evidence

    def evidence(self, texts: list[str], flags: np.ndarray, escalated: np.ndarray, k: int) -> list[Evidence]:
        """Per row, the ``k`` strongest terms of each flagged label, from the scorer that decided the row.

        Without a cascade (or with ``exact``) that is the model. Through the
        cascade, a row the student decided is explained by the student's own
        word shares (``framing.cascade.explain``, an exact split of its
        logit), and an escalated row by the transformer that scored it, in
        the precision it was scored in. Explaining a student decision with
        the transformer's saliency would explain a decision that was not made,
        at several times the cost of scoring.
        """
        if not self.cascading:
            return self.model.evidence(texts, flags, k)
        assert self.cascade is not None
        student = self.cascade.student
        results: list[Evidence] = [{} for _ in texts]
        for transformer_decided in (True, False):
            rows = np.flatnonzero(escalated == transformer_decided)
            if not len(rows):
                continue  # the transformer's copy is built only for rows it scored
            chosen = [texts[i] for i in rows]
            explained = (
                self.escalation_model().evidence(chosen, flags[rows], k)
                if transformer_decided
                else student.evidence(self.labels, chosen, flags[rows], k)
            )
            for i, found in zip(rows, explained, strict=True):
                results[i] = found
        return results

    def _frame(self, probabilities: np.ndarray, flags: np.ndarray, escalated: np.ndarray) -> pd.DataFrame:
        labels = self.labels
        frame = pd.DataFrame({"labels": [[labels[j] for j in np.flatnonzero(row)] for row in flags]})
        for j, label in enumerate(labels):
            frame[f"p_{label}"] = probabilities[:, j] if len(probabilities) else []
        if self.cascade is not None:
            frame["decided_by"] = np.where(escalated, self.model.family, "student") if len(escalated) else []
        return frame

    def save(self, directory: Path, extra: dict[str, Any] | None = None) -> Path:
        """Write the model folder; ``extra`` (e.g. run id) goes into ``framing.json``."""
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save(directory)
        if self.cascade is not None:
            self.cascade.save(directory)
        manifest = {
            "format_version": FORMAT_VERSION,
            "family": self.model.family,
            "task": self.task,
            "labels": self.labels,
            "thresholds": None if self.thresholds is None else [float(t) for t in self.thresholds],
            "settings": self.model.settings(),
            "requires_news_media": self.news_media_labels,
            "versions": library_versions(),
            **({"training": self.training} if self.training else {}),
            **({"cascade": self.cascade.settings()} if self.cascade is not None else {}),
            **(extra or {}),
        }
        (directory / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        return directory


def load_package(directory: str | Path) -> Predictor:
    """Read a model folder written by ``Predictor.save``."""
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise ModelLoadError(f"{directory}: not a framing model folder (no {MANIFEST})")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelLoadError(f"{manifest_path}: unsupported format_version {manifest.get('format_version')!r}")
    try:
        cls = model_class(manifest["family"])
    except KeyError as exc:
        raise ModelLoadError(f"{manifest_path}: {exc.args[0]}") from None
    model = cls.load(directory, labels=manifest["labels"], task=manifest["task"], settings=manifest["settings"])
    thresholds = manifest.get("thresholds")
    cascade = None
    if manifest.get("cascade"):
        from framing.cascade import Cascade

        cascade = Cascade.load(directory, manifest["cascade"], multilabel=manifest["task"] == "multilabel")
    return Predictor(
        model=model,
        thresholds=None if thresholds is None else np.asarray(thresholds, dtype=np.float64),
        training=dict(manifest.get("training") or {}),
        cascade=cascade,
        news_media_labels=_news_media_labels(manifest, manifest_path),
    )


def _news_media_labels(manifest: dict[str, Any], path: Path) -> list[str]:
    """The manifest's ``requires_news_media`` labels (none in models saved before it existed), checked."""
    required = manifest.get("requires_news_media") or []
    if not isinstance(required, list):
        raise ModelLoadError(f"{path}: requires_news_media must be a list of labels, got {required!r}")
    unknown = [label for label in required if label not in manifest["labels"]]
    if unknown:
        raise ModelLoadError(f"{path}: requires_news_media names labels the model does not have: {unknown}")
    return [str(label) for label in required]


def model_folder(path: str | Path) -> Path:
    """The model folder of a local ``path``: the folder itself, or an MLflow model folder's ``artifacts/package``."""
    path = Path(str(path))
    nested = path / "artifacts" / PACKAGE_ARTIFACT
    return nested if (path / "MLmodel").is_file() and nested.is_dir() else path


@contextlib.contextmanager
def local_model(uri: str | Path) -> Iterator[Path]:
    """The local model folder behind ``uri`` for the length of the block.

    A local folder is used as it is: the model folder itself (holding
    ``framing.json``) or an MLflow model folder (holding ``MLmodel``). A
    tracking URI (resolved against ``MLFLOW_TRACKING_URI`` or the embedded
    store in the working directory) is downloaded into a temporary folder that
    is removed when the block ends: a loaded model holds everything it needs in
    memory, and every load would otherwise leave a copy of the weights behind.
    """
    path = Path(str(uri))
    if path.is_dir():
        yield model_folder(path)
        return
    from framing import tracking
    from framing.config import TrackingConfig

    tracking.use_tracking_uri(TrackingConfig())
    with tempfile.TemporaryDirectory(prefix="framing-model-", ignore_cleanup_errors=True) as download:
        yield tracking.download_model_package(str(uri), Path(download))


def load_model(uri: str | Path, exact: bool = False) -> Predictor:
    """Load a model from a local folder, ``runs:/...``, ``models:/name@alias`` or ``models:/name/N``.

    A local folder may be the model folder itself (holding ``framing.json``)
    or an MLflow model folder (holding ``MLmodel``). Tracking URIs resolve
    against ``MLFLOW_TRACKING_URI`` or the embedded store in the working
    directory. ``exact`` scores every paragraph with the full model, past a
    transformer's cascade.
    """
    with local_model(uri) as folder:
        predictor = load_package(folder)
    predictor.exact = exact
    return predictor
