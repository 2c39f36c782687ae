"""The one protocol every model family implements.

Thresholds, metrics, evidence, MLflow logging and scoring are written once
against ``TextClassifier``; a family only turns texts into per-label
probabilities and stores its own files in a folder. Each family's module
declares it once as a ``ModelFamily`` (its settings class, classifier,
requirements and capabilities), listed in ``framing.models.families``; the
classifier is imported on first use, so using the TF-IDF baseline never
imports torch.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from framing.errors import FramingError

if TYPE_CHECKING:
    from framing.config_base import ModelSettings
    from framing.data.dataset import LabelledSet

# One piece of evidence: a term of the paragraph (a word n-gram for TF-IDF, a word for a
# transformer) and its weight, how much it pushed the label up in the family's own unit.
EvidenceTerm = tuple[str, float]
# Evidence for one paragraph: per flagged label, its terms, largest weight first.
Evidence = dict[str, list[EvidenceTerm]]
WEIGHT_DIGITS = 4


def evidence_weight(value: float) -> float:
    """``value`` as a plain float with ``WEIGHT_DIGITS`` significant digits.

    Significant digits rather than decimals, because saliency scores of a
    transformer can be far below 1e-4 while TF-IDF contributions are near 1;
    a plain float, because output files write evidence with ``json.dumps``,
    which refuses numpy floats.
    """
    return float(f"{float(value):.{WEIGHT_DIGITS}g}")


# punctuation, underscores and spaces around a word, as a tokenizer or a whitespace split may keep them
_WORD_EDGES = re.compile(r"^[\W_]+|[\W_]+$")


def shown_word(written: str) -> str | None:
    """A word of the text as evidence shows it: trimmed of punctuation at its edges; None without a letter."""
    trimmed = _WORD_EDGES.sub("", written)
    return trimmed if any(character.isalpha() for character in trimmed) else None


def ranked_terms(weights: Iterable[tuple[str, float]]) -> list[EvidenceTerm]:
    """The terms with a positive weight, largest first, each weight as ``evidence_weight`` writes it."""
    ranked = sorted(weights, key=lambda item: -item[1])
    return [(term, evidence_weight(weight)) for term, weight in ranked if weight > 0]


@dataclass(frozen=True)
class ModelFamily:
    """One model family, declared once in its own module.

    ``config`` is its settings class (the ``model`` section, tagged by
    ``family``); ``classifier`` names its ``TextClassifier`` as
    ``module:Class``, imported on first use so a family's heavy libraries load
    only when it is used; ``requirements`` are the packages its logged model
    needs beyond the base ones; ``checkpoints`` says whether its training
    keeps resumable checkpoints.
    """

    name: str
    config: type[ModelSettings]
    classifier: str
    requirements: tuple[str, ...] = ()
    checkpoints: bool = False

    def classifier_class(self) -> Any:
        """The class implementing the family, imported now."""
        module_name, _, class_name = self.classifier.partition(":")
        return getattr(importlib.import_module(module_name), class_name)


def _ignore_metrics(metrics: dict[str, float], step: int) -> None:
    return None


class TrainingTerminated(FramingError):
    """Training was stopped by SIGTERM; the run is marked KILLED, not left RUNNING.

    ``exit_status`` is the shell's convention for a process ended by SIGTERM.
    """

    exit_status = 143

    def __init__(self, resumable: bool = False) -> None:
        self.resumable = resumable
        then = "; continue it with the same command plus resume=true" if resumable else ""
        super().__init__(f"training stopped by SIGTERM; the run is marked KILLED{then}")


@dataclass
class StopSignal:
    """A stop request (SIGTERM) that training may defer to a point where it can act on it safely.

    Outside ``deferred()`` and ``held()`` a request raises ``TrainingTerminated``
    at once. Inside ``deferred()`` (a training loop) it only sets ``requested``:
    the loop finishes the optimiser step, writes its checkpoint and calls
    ``stop()``, so ``resume=true`` continues from exactly there. Inside
    ``held()`` (a run being opened or closed) it waits for ``check()``.
    ``resumable`` says whether the family keeps checkpoints, for the message.
    """

    resumable: bool = False
    requested: bool = False
    raised: bool = False
    deferring: bool = field(default=False, repr=False)

    def request(self) -> None:
        """What the signal handler calls; a second request never waits."""
        already = self.requested
        self.requested = True
        if already or not self.deferring:
            self._raise(self.resumable)

    def _raise(self, resumable: bool) -> None:
        self.deferring = False
        self.raised = True
        raise TrainingTerminated(resumable)

    def check(self) -> None:
        """Act on a request that arrived while it was held."""
        if self.requested and not self.raised:
            self._raise(self.resumable)

    @contextmanager
    def held(self) -> Iterator[None]:
        """A request inside only sets ``requested`` (for a step that must not be cut short)."""
        before, self.deferring = self.deferring, True
        try:
            yield
        finally:
            self.deferring = before

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """A training loop or a logging call: a request waits for ``stop()`` or the end of the block.

        Nested inside another deferred block, the outer one decides when to act.
        """
        outermost = not self.deferring
        with self.held():
            yield
        if outermost:
            self.check()

    def stop(self) -> None:
        """Called by a loop that has just saved a resumable checkpoint."""
        self._raise(resumable=True)


@dataclass
class FitContext:
    """What a training loop may use beyond the data: where to report and checkpoint.

    ``report(metrics, step)`` sends step-wise metrics to the tracking run;
    ``checkpoint_dir`` holds resumable state; with ``resume`` the loop continues
    from it instead of starting over; ``stop`` tells it SIGTERM arrived.
    """

    report: Callable[[dict[str, float], int], None] = _ignore_metrics
    checkpoint_dir: Path | None = None
    resume: bool = False
    stop: StopSignal = field(default_factory=StopSignal)


class TextClassifier(Protocol):
    """A fitted or unfitted paragraph classifier over a fixed label list."""

    family: str
    labels: list[str]
    task: str

    def fit(self, train: LabelledSet, validation: LabelledSet, context: FitContext) -> None:
        """Learn from ``train``; ``validation`` is for early stopping, never for fitting."""

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities [len(texts), len(labels)]; rows sum to 1 for multi-class."""
        ...

    def evidence(self, texts: Sequence[str], flags: np.ndarray, k: int) -> list[Evidence]:
        """For each text, at most ``k`` terms behind each label flagged in ``flags`` [texts, labels].

        Each text gets ``{label: [(term, weight), ...]}`` for its flagged labels,
        only terms with a positive weight, largest first. A term is a
        span a reader can find in the text (a word n-gram, a whole word); its
        weight is a plain float with ``WEIGHT_DIGITS`` significant digits,
        comparable within one model's evidence, not across families. Output
        files hold it as JSON, ``{"label": [["term", 0.4213], ...]}``: the
        JSON Lines object as it is, CSV and Parquet as that text in the cell;
        the report reads this and the older term-only lists.
        """
        ...

    def settings(self) -> dict[str, Any]:
        """Inference settings stored in ``framing.json`` and logged with the run."""
        ...

    def save(self, directory: Path) -> None:
        """Write the family's own files into ``directory``."""

    @classmethod
    def load(cls, directory: Path, labels: list[str], task: str, settings: dict[str, Any]) -> TextClassifier:
        """Read what ``save`` wrote, safely (no pickle)."""
        ...


def model_family(family: str) -> ModelFamily:
    """The declaration of ``family`` (a ``KeyError`` naming the known ones if there is none)."""
    from framing.models.families import FAMILIES

    if family not in FAMILIES:
        raise KeyError(f"unknown model family {family!r}; known: {', '.join(FAMILIES)}")
    return FAMILIES[family]


def model_class(family: str) -> Any:
    """The class implementing ``family``, imported on first use."""
    return model_family(family).classifier_class()


def build_model(model_config: Any, labels: list[str], task: str, seed: int) -> TextClassifier:
    """An unfitted model of the configured family."""
    cls = model_class(model_config.family)
    model: TextClassifier = cls(model_config, labels=labels, task=task, seed=seed)
    return model
