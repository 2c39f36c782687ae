"""Keep a scoring run's hands off everything it did not write.

Three guards, all applied before anything is touched:

- ``check_paths``: the output may not be the input, hold the input, or lie
  inside the input (the next run would read its own scores as articles).
- ``OutputLock``: one run per output at a time. The lock file beside the output
  records the owner's pid and host; a lock left behind by a killed run on this
  host is recognised as stale and taken over.
- ``strangers``: what at the output a scoring run would not have written.
  ``--overwrite`` deletes only the run's own files and refuses when anything
  else is there.

``write_errors`` turns a full disk or a read-only output into one line.
"""

from __future__ import annotations

import errno
import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import MarkerSoftFileLock, Timeout

from framing.errors import FramingError


class OutputError(FramingError):
    """The output cannot be used: it holds the input, is locked, holds others' files, or cannot be written."""


def _inside(path: Path, folder: Path) -> bool:
    return path != folder and path.is_relative_to(folder)


def check_paths(input_path: Path, output: Path, owned: list[Path]) -> None:
    """Refuse an output that is, holds, or lies inside the input; ``owned`` are the output's side files."""
    source = input_path.resolve()
    target = output.resolve()
    if source == target or source in [p.resolve() for p in owned]:
        raise OutputError(f"--output {output} is the input itself; choose another --output")
    if _inside(source, target) or any(_inside(source, p.resolve()) for p in owned):
        raise OutputError(f"the input {input_path} lies inside --output {output}; choose an --output outside the input")
    if source.is_dir() and _inside(target, source):
        raise OutputError(
            f"--output {output} lies inside the input folder {input_path}; its scores would be read as input "
            "next time: choose an --output outside the input"
        )


class OutputLock:
    """An exclusive lock on one output, released when the run ends (or dies)."""

    def __init__(self, output: Path) -> None:
        self.output = output
        named = output.resolve()  # "." and "out/" have a name only once resolved
        if not named.name:
            raise OutputError(f"--output {output} is the file system root; choose a folder or file inside it")
        self.path = named.with_name(f".{named.name}.lock")
        self._lock = MarkerSoftFileLock(self.path, timeout=0)

    def __enter__(self) -> OutputLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout:
            owner = self._lock.owner
            who = f"pid {owner.pid} on host {owner.hostname}" if owner else "another process"
            elsewhere = owner is not None and owner.hostname != socket.gethostname()
            hint = f"; if that run is gone, delete {self.path}" if elsewhere else ""  # this host checks its own pids
            raise OutputError(
                f"{self.output} is being written by another scoring run ({who}, lock {self.path}); "
                f"wait for it to finish or choose another --output{hint}"
            ) from None
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def part_pattern(format_: str) -> re.Pattern[str]:
    """File names a scoring run writes into its parts folder, finished or in flight."""
    part = rf"part-\d{{5}}\.{re.escape(format_)}"
    return re.compile(
        rf"^(?:{part}|\.{part}\.partial|rejects(?:-\d{{5}})?\.jsonl(?:\.tmp)?|_manifest\.json(?:\.tmp)?)$"
    )


def strangers(folder: Path, format_: str) -> list[Path]:
    """Entries of ``folder`` that a scoring run writing ``format_`` parts would not have written."""
    if not folder.is_dir():
        return []
    pattern = part_pattern(format_)
    return sorted(p for p in folder.iterdir() if not (p.is_file() and pattern.match(p.name)))


def describe_strangers(paths: list[Path]) -> str:
    names = ", ".join(p.name + ("/" if p.is_dir() else "") for p in paths[:5])
    return names + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


_WRITE_FAILURES = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}


def _write_failure(exc: OSError) -> str | None:
    if exc.errno in _WRITE_FAILURES:
        return _WRITE_FAILURES[exc.errno]
    text = str(exc)  # Arrow reports these as OSError without an errno
    for code, reason in _WRITE_FAILURES.items():
        if os.strerror(code) in text:
            return reason
    return None


@contextmanager
def write_errors(output: Path) -> Iterator[None]:
    """A full disk, quota or read-only/forbidden output becomes one line (the run is resumable)."""
    try:
        yield
    except OSError as exc:
        reason = _write_failure(exc)
        if reason is None:
            raise
        where = exc.filename or output
        raise OutputError(
            f"{where}: {reason}; nothing half-written was kept: fix it and run the same command again to resume"
        ) from None
