"""A scoring run's identity and progress, stored beside its output.

The manifest records the model (URI, a fingerprint of its labels, thresholds
and settings, and a content hash of each of its files), the input (file
names, sizes, times and read options), the settings that shape the output,
the parts written so far and, once complete, the size of every file the run
published. A rerun with the same command continues; a rerun with another
model, input or settings is refused instead of mixing two runs in one output.
The listing is also what ``--overwrite`` may delete: nothing else.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from framing.atomic import atomic_write_text
from framing.errors import FramingError
from framing.scoring.model_files import describe_changes


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
    model_files: dict[str, str] = field(default_factory=dict)  # file -> sha256
    outputs: dict[str, int] = field(default_factory=dict)  # published file -> size in bytes, once complete
    # For readers of the output (framing report): thresholds, training languages and data. Not compared on resume.
    model_info: dict[str, Any] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        """Write atomically: a kill leaves the old or the new manifest, never half of one."""
        atomic_write_text(path, json.dumps(asdict(self), indent=2, sort_keys=True))

    @classmethod
    def load(cls, path: Path) -> Manifest | None:
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            known = {f.name for f in fields(cls)}
            return cls(**{k: v for k, v in data.items() if k in known})
        except (ValueError, TypeError) as exc:
            raise ResumeMismatch(
                f"{path}: not a readable scoring manifest ({exc}); move it away or use another --output"
            ) from None

    def check_same_run(self, other: Manifest, manifest_path: Path) -> None:
        """Refuse to continue a run whose model, input or settings differ."""
        differences = self._model_differences(other)
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

    def _model_differences(self, other: Manifest) -> list[str]:
        changed = (
            describe_changes(self.model_files, other.model_files) if self.model_files and other.model_files else []
        )
        if changed:
            return [
                f"model {other.model_uri!r} is not the model of that run ({self.model_uri!r}): " + ", ".join(changed)
            ]
        if self.model_fingerprint != other.model_fingerprint:
            return [
                f"model {other.model_uri!r} would not score as that run's ({self.model_uri!r}) did: its labels, "
                "thresholds or settings differ, one run used --exact and the other a transformer's cascade, or the "
                "cascade's transformer ran in another precision (--precision, or the model's "
                "model.cascade.transformer_precision: auto takes bf16 where the CPU has AMX or AVX512-BF16)"
            ]
        return []
