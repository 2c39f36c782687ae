"""Errors that reach the user as one clear line instead of a traceback.

Every problem with user input (data files, configs, model URIs) is raised as a
``FramingError`` subclass; the command line prints its message and exits with
status 2. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class FramingError(Exception):
    """A problem the user can fix: bad input, bad config, missing model."""


class ConfigError(FramingError):
    """The resolved configuration is invalid (unknown key, bad value, missing file)."""


class DataError(FramingError):
    """A data file is unreadable or one of its rows is invalid.

    The message always names the file and, where known, the row (1-based data
    row for tables, physical line for JSON Lines) so the user can open it there.
    """

    def __init__(self, path: str | Path, problem: str, row: int | None = None) -> None:
        self.path = str(path)
        self.row = row
        self.problem = problem
        where = f"{self.path}, row {row}" if row is not None else self.path
        super().__init__(f"{where}: {problem}")


class ModelLoadError(FramingError):
    """A model folder or URI cannot be loaded safely."""
