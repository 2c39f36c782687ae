"""The MLflow pyfunc, defined from code: no pickled Python object is logged.

MLflow stores this file, ``framing/`` as code and the model folder as an
artifact; ``load_context`` rebuilds the predictor from that folder with the
same safe loaders ``framing.load_model`` uses.

Input: a DataFrame with a ``text`` column. Output: a DataFrame with
``labels`` (list of predicted label names) and ``p_<label>`` per label.
"""

from __future__ import annotations

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel

from framing.package import Predictor, load_package

PACKAGE_ARTIFACT = "package"


class FramingPyfunc(PythonModel):
    """Thin adapter from the pyfunc interface to ``Predictor``."""

    predictor: Predictor

    def load_context(self, context):  # type: ignore[no-untyped-def]
        self.predictor = load_package(context.artifacts[PACKAGE_ARTIFACT])

    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        if isinstance(model_input, pd.DataFrame):
            if "text" not in model_input.columns:
                raise ValueError("input DataFrame needs a 'text' column")
            texts = model_input["text"].astype(str).tolist()
        else:
            texts = [str(t) for t in model_input]
        return self.predictor.predict(texts)


mlflow.models.set_model(FramingPyfunc())
