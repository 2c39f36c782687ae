"""framing: train and run media-bias and framing classifiers over news paragraphs.

Public API::

    from framing import load_model
    model = load_model("models:/framing@champion")
    model.predict(["paragraph one", "paragraph two"])   # DataFrame: labels, p_<label>
"""

from __future__ import annotations

from framing.package import Predictor, load_model
from framing.scoring.paragraphs import split_paragraphs

__version__ = "0.1.0"
__all__ = ["Predictor", "__version__", "load_model", "split_paragraphs"]
