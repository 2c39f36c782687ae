"""framing: train and run media-bias and framing classifiers over news paragraphs.

Public API::

    from framing import load_model
    model = load_model("models:/framing@champion")
    model.predict(["paragraph one", "paragraph two"])   # DataFrame: labels, p_<label>
"""

from __future__ import annotations

from pathlib import Path

from framing.package import Predictor, load_package
from framing.scoring.paragraphs import split_paragraphs

__version__ = "0.1.0"
__all__ = ["Predictor", "__version__", "load_model", "split_paragraphs"]


def load_model(uri: str | Path) -> Predictor:
    """Load a model from a local folder, ``runs:/...``, ``models:/name@alias`` or ``models:/name/N``.

    A local folder may be the model folder itself (holding ``framing.json``)
    or an MLflow model folder (holding ``MLmodel``). Tracking URIs resolve
    against ``MLFLOW_TRACKING_URI`` or the embedded store in the working
    directory.
    """
    path = Path(str(uri))
    if path.is_dir():
        nested = path / "artifacts" / "package"
        return load_package(nested if (path / "MLmodel").is_file() and nested.is_dir() else path)
    from framing import tracking
    from framing.config import TrackingConfig

    tracking.use_tracking_uri(TrackingConfig())
    return load_package(tracking.download_model_package(str(uri)))
