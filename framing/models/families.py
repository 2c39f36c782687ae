"""The registry of model families: one line per family, each declared in its own module.

``framing.config`` builds the ``model`` section's union and the family names from
it, ``framing.models.base.model_class`` finds a family's classifier through it,
and a logged model's requirements come from it. Adding a family (a SetFit model,
say) means its module with a ``FAMILY``, its ``configs/model/<name>.yaml`` and
its line here.
"""

from __future__ import annotations

from framing.models import tfidf, transformer
from framing.models.base import ModelFamily

FAMILIES: dict[str, ModelFamily] = {
    family.name: family
    for family in (
        tfidf.FAMILY,
        transformer.FAMILY,
    )
}

__all__ = ["FAMILIES"]
