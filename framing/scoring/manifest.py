"""A scoring run's identity and progress, stored beside its output.

The manifest records the model (URI and a fingerprint of its labels,
thresholds and settings), the input (file names, sizes, times and read
options) and the settings that shape the output. A rerun with the same
command continues; a rerun with another model, input or settings is refused
instead of mixing two runs in one output.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from framing.errors import FramingError


class ResumeMismatch(FramingError):
    """The output belongs to a run with another model, input or settings."""


@dataclass
class Manifest:
    model_uri: str
    model_fingerprint: str
    input_path: str
    input_fingerprint: str
    settings: dict[str, Any]
    complete: bool = False
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)  # part name -> counts

    def save(self, path: Path) -> None:
        """Write atomically: a kill leaves the old or the new manifest, never half of one."""
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> Manifest | None:
        if not path.is_file():
            return None
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    def check_same_run(self, other: Manifest, manifest_path: Path) -> None:
        """Refuse to continue a run whose model, input or settings differ."""
        differences = []
        if self.model_fingerprint != other.model_fingerprint:
            differences.append(f"model {other.model_uri!r} is not the model of that run ({self.model_uri!r})")
        if self.input_fingerprint != other.input_fingerprint:
            differences.append(
                f"the input {other.input_path!r} differs from that run's ({self.input_path!r}) or has changed since"
            )
        for key in sorted(set(self.settings) | set(other.settings)):
            if self.settings.get(key) != other.settings.get(key):
                differences.append(
                    f"setting {key} is {other.settings.get(key)!r}, that run used {self.settings.get(key)!r}"
                )
        if differences:
            raise ResumeMismatch(
                f"{manifest_path}: this output belongs to another scoring run: "
                + "; ".join(differences)
                + ". Use another --output, or --overwrite to start over."
            )
