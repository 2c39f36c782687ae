"""The MLflow pyfunc, defined from code: no pickled Python object is logged.

MLflow stores this file, ``framing/`` as code and the model folder as an
artifact; ``load_context`` rebuilds the predictor from that folder with the
same safe loaders ``framing.load_model`` uses.

Input: a DataFrame with a ``text`` column. Output: a DataFrame with
``labels`` (list of predicted label names) and ``p_<label>`` per label.
"""

from __future__ import annotations

from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel

from framing.package import PACKAGE_ARTIFACT, Predictor, load_package


class FramingPyfunc(PythonModel):
    """Thin adapter from the pyfunc interface to ``Predictor``."""

    predictor: Predictor

    def load_context(self, context: Any) -> None:
        self.predictor = load_package(context.artifacts[PACKAGE_ARTIFACT])

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        if "text" not in model_input.columns:
            raise ValueError("input DataFrame needs a 'text' column")
        return self.predictor.predict(model_input["text"].astype(str).tolist())


mlflow.models.set_model(FramingPyfunc())
