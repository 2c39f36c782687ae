"""The base of every config section: an unknown key is an error and a validated value is frozen.

It lives apart from ``framing.config`` so that a model family's module can
declare its own settings (``framing.models.tfidf.TfidfConfig``) while
``framing.config`` builds the model union from the family registry.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictConfig(BaseModel):
    """A config section: unknown keys are refused, values frozen once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSettings(StrictConfig):
    """The settings of one model family; ``family`` is the tag that picks the family's class."""

    family: str


__all__ = ["ModelSettings", "StrictConfig"]
