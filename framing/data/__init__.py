"""Labelled data: reading tables, validating rows, splits and duplicate checks."""

from framing.data.dataset import LabelledSet, Reject, Splits, load_splits
from framing.data.readers import read_records

__all__ = ["LabelledSet", "Reject", "Splits", "load_splits", "read_records"]
