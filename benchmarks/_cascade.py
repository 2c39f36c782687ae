"""What the cascade benchmarks share: the transformer's logits on the texts a student is fitted and judged on.

``cascade_inputs`` loads a transformer trained with ``data=framing_real`` and
scores, as a training run's cascade fit does, the distillation texts (training
rows, then the unlabelled PTC training articles of ``data.unlabelled``), the
real validation and test splits, and a sample of the 400 unlabelled PTC
articles; a benchmark adds its own texts with ``add``. Bands are fitted and
measured with the run's own code (``framing.cascade.fit``), the news-media
requirement deciding a label wherever it rules the label out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

from benchmarks._common import use_datasets


@dataclass
class CascadeInputs:
    """Texts by name, the transformer's logits on them, and what fitting and measuring a band needs."""

    root: Path
    teacher: Any  # the loaded model (framing.load_model, exact)
    required: list[str]  # labels needing a news-media reference
    labelled_rows: int  # the first rows of "distil" are the training split's
    texts: dict[str, list[str]] = field(default_factory=dict)
    logits: dict[str, np.ndarray] = field(default_factory=dict)
    truth: dict[str, np.ndarray] = field(default_factory=dict)
    opened: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, name: str, texts: list[str]) -> None:
        """Score ``texts`` with the transformer and keep them under ``name``."""
        from framing.mentions import open_labels

        self.texts[name] = list(texts)
        self.logits[name] = self.teacher.model.logits(self.texts[name])
        self.opened[name] = open_labels(self.texts[name], self.teacher.labels, self.required)

    def exact(self, split: str) -> np.ndarray:
        """The transformer's probabilities on ``split``."""
        from framing.cascade import probabilities_from_logits

        return probabilities_from_logits(self.logits[split], self.teacher.model.temperature, True)

    def fit_band(
        self, estimates: np.ndarray, budget: float, split: str = "validation", rows: slice = slice(None)
    ) -> Any:
        """The band a run fits with ``budget`` on ``split`` (its ``rows``), from a student's ``estimates`` there."""
        from framing.cascade.fit import _band_for

        return _band_for(
            budget,
            estimates,
            self.exact(split)[rows],
            self.teacher.thresholds,
            self.teacher.model.temperature,
            self.opened[split][rows],
        )

    def choose(self, validation_estimates: np.ndarray) -> tuple[Any, Any]:
        """The cascade and its validation check a training run would choose (``framing.cascade.fit.choose_band``)."""
        from framing.cascade.fit import choose_band

        return choose_band(
            None,  # type: ignore[arg-type]
            validation_estimates,
            self.exact("validation"),
            self.truth["validation"],
            self.teacher.thresholds,
            self.teacher.model.temperature,
            self.teacher.model.config.cascade,
            self.opened["validation"],
        )

    def chosen_budget(self, validation_estimates: np.ndarray) -> float:
        """The budget a training run would choose for a student with these estimates on validation."""
        return float(self.choose(validation_estimates)[0].fitted["budget"])

    def check(self, band: Any, estimates: np.ndarray, split: str) -> Any:
        """``framing.cascade.fit.compare`` of ``band`` with these estimates on ``split`` (no labels: truth all 0)."""
        from framing.cascade import Cascade
        from framing.cascade.fit import compare

        cascade = Cascade(None, band, self.teacher.model.temperature, True)  # type: ignore[arg-type]
        truth = self.truth.get(split, np.zeros_like(self.logits[split], dtype=bool))
        return compare(cascade, estimates, self.exact(split), truth, self.teacher.thresholds, self.opened[split])

    def measure(self, band: Any, estimates: dict[str, np.ndarray], splits: tuple[str, ...]) -> dict[str, Any]:
        """Per split: (escalation, worst-label agreement) of ``band`` with a student's ``estimates``."""
        found = {}
        for split in splits:
            check = self.check(band, estimates[split], split)
            found[split] = (check.escalation, float(check.agreement.min()))
        return found

    def floor(self, band: Any, splits: tuple[str, ...]) -> dict[str, Any]:
        """What ``band`` escalates when the student's estimates are the transformer's own logits."""
        return self.measure(band, {split: self.logits[split] for split in splits}, splits)

    def per_label_band(self, estimates: dict[str, np.ndarray]) -> Any:
        """Each label's own budget: raised one label at a time while every label keeps the run's agreement target.

        Starts from the largest common budget that holds and stops when no
        single label's change lowers validation escalation further.
        """
        from framing.cascade.band import Band
        from framing.cascade.fit import BUDGETS

        settings = self.teacher.model.config.cascade
        validation = estimates["validation"]
        bands = {budget: self.fit_band(validation, budget) for budget in BUDGETS}

        def assemble(choice: list[float]) -> Band:
            return Band(
                np.array([bands[b].low[j] for j, b in enumerate(choice)]),
                np.array([bands[b].high[j] for j, b in enumerate(choice)]),
            )

        def escalation_if_held(choice: list[float]) -> float:
            check = self.check(assemble(choice), validation, "validation")
            return check.escalation if check.holds(settings) else np.inf

        choice = [max(b for b in BUDGETS if np.isfinite(escalation_if_held([b] * validation.shape[1])))]
        choice = choice * validation.shape[1]
        best = escalation_if_held(choice)
        improved = True
        while improved:
            improved = False
            for label in range(len(choice)):
                for budget in BUDGETS:
                    trial = [*choice[:label], budget, *choice[label + 1 :]]
                    escalation = escalation_if_held(trial)
                    if escalation < best - 1e-12:
                        choice, best, improved = trial, escalation, True
        return assemble(choice)


def cascade_inputs(model: str, unlabelled: int, seed: int, datasets: str | None) -> CascadeInputs:
    """The transformer ``model`` and its logits on the distillation texts, validation, test and an unlabelled sample."""
    from framing import load_model
    from framing.cascade.fit import unlabelled_paragraphs
    from framing.config import load_config
    from framing.data.dataset import load_splits
    from framing.data.real_sources import ptc_paragraphs

    root = use_datasets(datasets)
    config = load_config(["data=framing_real"])
    splits = load_splits(config.data)
    assert splits.test is not None and config.data.unlabelled is not None
    held_out = set(splits.validation.texts) | set(splits.test.texts)
    extra, _ = unlabelled_paragraphs(config.data.unlabelled, held_out, 20_000, config.seed)
    corpus = [u.text for u in ptc_paragraphs(root, folders=("unlabelled-articles",))]
    rng = np.random.default_rng(seed)
    sample = [corpus[i] for i in rng.choice(len(corpus), size=min(unlabelled, len(corpus)), replace=False)]
    teacher = load_model(model, exact=True)
    inputs = CascadeInputs(root, teacher, list(config.data.requires_news_media), len(splits.train.texts))
    for name, texts in (
        ("distil", list(splits.train.texts) + extra),
        ("validation", list(splits.validation.texts)),
        ("test", list(splits.test.texts)),
        ("unlabelled", sample),
    ):
        inputs.add(name, texts)
    inputs.truth = {
        "validation": splits.validation.label_matrix(teacher.labels),
        "test": splits.test.label_matrix(teacher.labels),
    }
    return inputs


__all__ = ["CascadeInputs", "cascade_inputs"]
