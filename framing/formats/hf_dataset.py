"""A dataset saved with ``datasets``' ``save_to_disk`` (a folder), read row by row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from framing.errors import DataError
from framing.formats._common import OnError, Row
from framing.formats.rejects import Reject

MARKERS = ("dataset_info.json", "state.json", "dataset_dict.json")


def is_saved_dataset(path: Path) -> bool:
    return path.is_dir() and any((path / marker).is_file() for marker in MARKERS)


def read(path: Path, on_error: OnError = "raise") -> Iterator[Row | Reject]:
    """(1-based index, record); a folder that is not one split is an error in either mode."""
    from datasets import Dataset, load_from_disk

    try:
        dataset = load_from_disk(str(path))
    except Exception as exc:
        raise DataError(path, f"not a saved `datasets` dataset: {exc}") from None
    if not isinstance(dataset, Dataset):
        splits = ", ".join(dataset.keys())
        raise DataError(path, f"a DatasetDict ({splits}); point at one split's folder")
    for number, record in enumerate(dataset, start=1):
        yield number, dict(record)
