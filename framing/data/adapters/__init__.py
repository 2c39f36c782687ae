"""Dataset adapters: the field's formats (BABE, MBIC, Ukraine news bias, SemEval-2023 Task 3) as labelled rows.

Each adapter takes a path (plus options) and returns a DataFrame with ``id``,
``article_id``, ``text``, ``labels`` (list of str) and metadata columns, and an
``AdapterCounts`` of rows read, kept and dropped per reason. ``data.adapter``
in the config picks one by name; ``generic`` means the project's own tables.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from framing.data.adapters.base import CORE_COLUMNS, AdapterCounts
from framing.data.adapters.framing_real import load_framing_real
from framing.data.adapters.media_bias_group import load_babe, load_mbic
from framing.data.adapters.semeval import load_semeval_subtask2, load_semeval_subtask3
from framing.data.adapters.ukraine import load_ukraine
from framing.errors import ConfigError

Adapter = Callable[..., tuple[pd.DataFrame, AdapterCounts]]

ADAPTERS: dict[str, Adapter] = {
    "babe": load_babe,
    "mbic": load_mbic,
    "ukraine": load_ukraine,
    "semeval_subtask3": load_semeval_subtask3,
    "semeval_subtask2": load_semeval_subtask2,
    "framing_real": load_framing_real,
}


def load_adapter(name: str, path: str | Path, **options: Any) -> tuple[pd.DataFrame, AdapterCounts]:
    """Run the adapter called ``name`` on ``path``; an unknown name or option is a config error, not a traceback."""
    if name not in ADAPTERS:
        raise ConfigError(f"data.adapter: unknown adapter {name!r} (available: generic, {', '.join(ADAPTERS)})")
    try:
        return ADAPTERS[name](path, **options)
    except TypeError as exc:
        if "unexpected keyword argument" in str(exc):
            raise ConfigError(f"data.adapter_options for {name}: {exc}") from None
        raise


__all__ = ["ADAPTERS", "CORE_COLUMNS", "Adapter", "AdapterCounts", "load_adapter"]
