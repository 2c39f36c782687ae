"""The one on-disk model format shared by every family.

A model folder holds the family's own files (skops, or safetensors plus
tokenizer) and ``framing.json``: family, task, label names, thresholds,
inference settings and library versions. The MLflow pyfunc and
``framing.load_model`` both read this folder, so a model behaves the same
whichever way it is loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from framing.errors import ModelLoadError
from framing.models.base import TextClassifier, model_class
from framing.thresholds import apply_thresholds

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
    """A trained model plus its thresholds: what users score paragraphs with."""

    model: TextClassifier
    thresholds: np.ndarray | None
    # What the model was trained on (languages of its training paragraphs, data files), saved as "training".
    training: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        return list(self.model.labels)

    @property
    def task(self) -> str:
        return self.model.task

    def probabilities(self, texts: list[str]) -> np.ndarray:
        return self.model.predict_proba(texts) if texts else np.zeros((0, len(self.labels)))

    def flags(self, probabilities: np.ndarray) -> np.ndarray:
        return apply_thresholds(probabilities, self.thresholds, self.task)

    def fingerprint(self) -> str:
        """Identifies what the model outputs: family, labels, thresholds and settings."""
        import hashlib

        identity = {
            "family": self.model.family,
            "task": self.task,
            "labels": self.labels,
            "thresholds": None if self.thresholds is None else [round(float(t), 8) for t in self.thresholds],
            "settings": self.model.settings(),
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()

    def predict(self, texts: list[str] | pd.Series) -> pd.DataFrame:
        """One row per text: ``labels`` (list of names) and ``p_<label>`` per label."""
        texts = [str(t) for t in texts]
        probabilities = self.probabilities(texts)
        return self._frame(probabilities, self.flags(probabilities))

    def predict_with_evidence(self, texts: list[str], k: int = 5) -> pd.DataFrame:
        """As ``predict``, plus ``evidence``: the n-grams behind each predicted label."""
        probabilities = self.probabilities(texts)
        flags = self.flags(probabilities)
        frame = self._frame(probabilities, flags)
        if k <= 0:
            frame["evidence"] = [{} for _ in texts]
        else:
            frame["evidence"] = self.model.evidence(texts, flags, k) if texts else []
        return frame

    def _frame(self, probabilities: np.ndarray, flags: np.ndarray) -> pd.DataFrame:
        labels = self.labels
        frame = pd.DataFrame({"labels": [[labels[j] for j in np.flatnonzero(row)] for row in flags]})
        for j, label in enumerate(labels):
            frame[f"p_{label}"] = probabilities[:, j] if len(probabilities) else []
        return frame

    def save(self, directory: Path, extra: dict[str, Any] | None = None) -> Path:
        """Write the model folder; ``extra`` (e.g. run id) goes into ``framing.json``."""
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save(directory)
        manifest = {
            "format_version": FORMAT_VERSION,
            "family": self.model.family,
            "task": self.task,
            "labels": self.labels,
            "thresholds": None if self.thresholds is None else [float(t) for t in self.thresholds],
            "settings": self.model.settings(),
            "versions": library_versions(),
            **({"training": self.training} if self.training else {}),
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
    return Predictor(
        model=model,
        thresholds=None if thresholds is None else np.asarray(thresholds, dtype=np.float64),
        training=dict(manifest.get("training") or {}),
    )


def model_folder(uri: str | Path) -> Path:
    """The local model folder behind ``uri``: a folder as given, else downloaded from the tracking store.

    A local folder may be the model folder itself (holding ``framing.json``) or
    an MLflow model folder (holding ``MLmodel``), whose ``artifacts/package``
    is the model folder. Tracking URIs resolve against ``MLFLOW_TRACKING_URI``
    or the embedded store in the working directory.
    """
    path = Path(str(uri))
    if path.is_dir():
        nested = path / "artifacts" / PACKAGE_ARTIFACT
        return nested if (path / "MLmodel").is_file() and nested.is_dir() else path
    from framing import tracking
    from framing.config import TrackingConfig

    tracking.use_tracking_uri(TrackingConfig())
    return tracking.download_model_package(str(uri))


def load_model(uri: str | Path) -> Predictor:
    """Load a model from a local folder, ``runs:/...``, ``models:/name@alias`` or ``models:/name/N``.

    A local folder may be the model folder itself (holding ``framing.json``)
    or an MLflow model folder (holding ``MLmodel``). Tracking URIs resolve
    against ``MLFLOW_TRACKING_URI`` or the embedded store in the working
    directory.
    """
    return load_package(model_folder(uri))
