"""Labelled data: reading tables, validating rows, splits and duplicate checks.

The names below load on first use, so that ``framing.config`` can read the
adapters' registry (``framing.data.adapters``) without importing the dataset
code that depends on it.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "LabelledSet": "framing.data.dataset",
    "Reject": "framing.data.dataset",
    "Splits": "framing.data.dataset",
    "load_splits": "framing.data.dataset",
    "read_records": "framing.data.readers",
}

__all__ = ["LabelledSet", "Reject", "Splits", "load_splits", "read_records"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'framing.data' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
