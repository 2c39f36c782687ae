"""Which files a model is made of, and a content hash of each.

A scoring run records these hashes so that resuming it with a model that was
retrained (same family, labels and settings, other weights) is refused instead
of mixing two models' scores in one output.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from framing.errors import ModelLoadError
from framing.package import Predictor, load_package, local_model


def file_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder``, by path relative to it."""
    hashes = {}
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        hashes[file.relative_to(folder).as_posix()] = digest.hexdigest()
    return hashes


def load_for_scoring(uri: str | Path) -> tuple[Predictor, dict[str, str]]:
    """The model and the hashes of the very files it was loaded from (downloaded once)."""
    with local_model(uri) as folder:
        return load_package(folder), file_hashes(folder)


def training_record(uri: str | Path) -> dict[str, Any]:
    """The ``training`` record of a model's ``framing.json`` (languages, data), without loading the model."""
    import json

    from framing.package import MANIFEST

    with local_model(uri) as folder:
        path = folder / MANIFEST
        try:
            record = json.loads(path.read_text(encoding="utf-8")).get("training") or {}
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"{path}: unreadable model manifest ({exc})") from None
    return record if isinstance(record, dict) else {}


def describe_changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Human-readable differences between two sets of model file hashes."""
    changes = []
    for name in sorted(set(before) | set(after)):
        if name not in after:
            changes.append(f"model file {name} is gone")
        elif name not in before:
            changes.append(f"model file {name} is new")
        elif before[name] != after[name]:
            changes.append(f"model file {name} changed (sha256 {before[name][:12]} then, {after[name][:12]} now)")
    return changes
