"""The Label Studio labelling config: the paragraph and one choice per label, with the codebook as hints.

Annotators see the paragraph and the labels as check
boxes (radio buttons for single-label tasks); hovering a label shows the
codebook's one-line definition. The control is named ``labels`` and reads
``$text``, the names the task files and the importer use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import quoteattr

from framing.errors import DataError

FROM_NAME = "labels"
TO_NAME = "text"

# Codebook version 1 (data/README.md), one line per label.
CODEBOOK = {
    "media_bias_claim": "Claims, or reports someone claiming, that news media are biased, one-sided, deceptive, "
    "propagandistic or fake, or distort or suppress events (not neutral attribution or media business news).",
    "foreign_hostility": "Portrays foreign governments or alliances as hostile, aggressive, hypocritical, "
    "interfering, provoking or applying double standards (not neutral reports of foreign policy).",
    "humanitarian": "Centres on civilians, casualties, refugees, aid access, hunger, medical needs or "
    "humanitarian corridors (not a passing mention in a military report).",
    "security_threat": "Centres on terrorists, militants, extremists, armed attacks, military operations "
    "or threats to security.",
    "diplomacy": "Centres on negotiations, agreements, dialogue, contacts between officials, peace processes, "
    "UN resolutions or cooperation between states.",
}


def read_hints(path: Path) -> dict[str, str]:
    """Label definitions from a YAML or JSON mapping ``label: one-line definition``."""
    import yaml

    try:
        hints = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(path, f"unreadable hints: {exc}") from None
    if not isinstance(hints, dict):
        raise DataError(path, "hints must be a mapping label: definition")
    return {str(k): " ".join(str(v).split()) for k, v in hints.items()}


def labelling_config(labels: Sequence[str], hints: Mapping[str, str] | None = None, single_label: bool = False) -> str:
    """The ``<View>`` XML for a project over ``labels``."""
    hints = CODEBOOK if hints is None else hints
    choice = "single" if single_label else "multiple"
    instruction = "Choose the one label that fits." if single_label else "Tick every label that applies; none if none."
    lines = [
        "<View>",
        f"  <Header value={quoteattr(instruction)}/>",
        f'  <Text name="{TO_NAME}" value="$text"/>',
        f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="{choice}" showInline="false">',
    ]
    for label in labels:
        hint = f" hint={quoteattr(hints[label])}" if label in hints else ""
        lines.append(f"    <Choice value={quoteattr(label)}{hint}/>")
    lines += ["  </Choices>", "</View>"]
    return "\n".join(lines) + "\n"
