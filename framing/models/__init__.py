"""Model families behind one protocol; see ``base.TextClassifier``."""

from framing.models.base import FitContext, TextClassifier, build_model, model_class

__all__ = ["FitContext", "TextClassifier", "build_model", "model_class"]
