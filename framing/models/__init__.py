"""Model families behind one protocol; see ``base.TextClassifier``."""

from framing.models.base import TextClassifier, build_model, model_class

__all__ = ["TextClassifier", "build_model", "model_class"]
