"""The transformer family's training loop and its checkpoints, kept apart from the model.

``TrainingLoop`` runs the epochs of ``TransformerClassifier.fit``: micro-batches
with gradient accumulation, a seeded dropout per step, step-wise metrics,
checkpoints every ``checkpoint_every_steps`` steps and at each epoch, early
stopping on validation macro-F1, and SIGTERM handled at a step boundary.
``TrainingState`` is where the loop is; a checkpoint (``last/``: weights,
optimiser and scheduler state, ``state.json``) holds it, so ``resume=true``
continues from exactly that step and ends with the same model.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from framing.atomic import replaced_whole
from framing.models import _torch_runtime as rt
from framing.models.base import FitContext, TrainingTerminated

if TYPE_CHECKING:
    from framing.data.dataset import LabelledSet
    from framing.models.transformer_model import TransformerClassifier, Windows

STATE_FILE = "state.json"


@dataclass
class TrainingState:
    """Where the loop is: the epoch and micro-batch to run next, optimiser steps so far, the best epoch."""

    epoch: int = 0
    batch: int = 0
    step: int = 0
    best_f1: float = -1.0
    best_epoch: int = -1
    stale_epochs: int = 0

    @classmethod
    def read(cls, path: Path) -> TrainingState:
        values = json.loads(path.read_text(encoding="utf-8"))
        return cls(**values)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")


def _weights(model: Any) -> dict[str, torch.Tensor]:
    return {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}


def save_weights(model: Any, path: Path) -> None:
    """The model's weights as safetensors, replacing ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with replaced_whole(path) as tmp:
        save_file(_weights(model), str(tmp))


def write_checkpoint(directory: Path, model: Any, state: TrainingState, optimiser: Any, scheduler: Any) -> None:
    """Write weights, optimiser/scheduler state and counters; replace the previous one atomically."""
    staging = directory / "last.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    save_file(_weights(model), str(staging / "model.safetensors"))
    torch.save({"optimiser": optimiser.state_dict(), "scheduler": scheduler.state_dict()}, staging / "optimiser.pt")
    state.write(staging / STATE_FILE)
    final = directory / "last"
    old = directory / "last.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    shutil.rmtree(old, ignore_errors=True)


def read_checkpoint(directory: Path, model: Any, optimiser: Any, scheduler: Any, device: Any) -> TrainingState:
    """Load the last checkpoint into ``model``, ``optimiser`` and ``scheduler``; a fresh state if there is none."""
    last = directory / "last"
    if not (last / STATE_FILE).is_file() and (directory / "last.old" / STATE_FILE).is_file():
        last = directory / "last.old"  # killed between the two renames
    if not (last / STATE_FILE).is_file():
        return TrainingState()
    model.load_state_dict(load_file(str(last / "model.safetensors"), device=str(device)))
    saved = torch.load(last / "optimiser.pt", map_location=device, weights_only=True)
    optimiser.load_state_dict(saved["optimiser"])
    scheduler.load_state_dict(saved["scheduler"])
    return TrainingState.read(last / STATE_FILE)


@dataclass
class TrainingLoop:
    """One fine-tuning run of ``classifier`` over the windows of its training paragraphs."""

    classifier: TransformerClassifier
    context: FitContext
    windows: Windows
    targets: np.ndarray
    loss_function: torch.nn.Module
    optimiser: Any
    scheduler: Any
    batches_per_epoch: int
    state: TrainingState = field(default_factory=TrainingState)
    best_in_memory: dict[str, torch.Tensor] | None = None

    @classmethod
    def start(cls, classifier: TransformerClassifier, train: LabelledSet, context: FitContext) -> TrainingLoop:
        """Windows, targets, loss and optimiser for ``train``; the checkpointed state when resuming."""
        config = classifier.config
        windows = classifier.windows(train.texts)
        paragraph_targets = train.label_matrix(classifier.labels).astype(np.float32)
        loss_function = classifier.loss_function(paragraph_targets)
        batches_per_epoch = math.ceil(len(windows) / config.batch_size)
        steps_per_epoch = math.ceil(batches_per_epoch / config.gradient_accumulation_steps)
        optimiser, scheduler = classifier.optimiser(steps_per_epoch * config.epochs)
        state = TrainingState()
        if context.resume and context.checkpoint_dir:
            state = read_checkpoint(context.checkpoint_dir, classifier.model, optimiser, scheduler, classifier.device)
        targets = paragraph_targets[windows.owner]
        return cls(classifier, context, windows, targets, loss_function, optimiser, scheduler, batches_per_epoch, state)

    def run(self, validation: LabelledSet) -> None:
        """The remaining epochs, early stopping on validation macro-F1; the best epoch's weights at the end."""
        config = self.classifier.config
        for epoch in range(self.state.epoch, config.epochs):
            self.classifier.model.train()
            with self.context.stop.deferred():  # SIGTERM waits for the step to end, then checkpoints
                self._epoch(epoch)
            if self._end_epoch(epoch, validation):
                break
        self._restore_best()
        self.context.report({"train/best_epoch": float(self.state.best_epoch) + 1}, self.state.step)

    def _epoch(self, epoch: int) -> None:
        """The micro-batches of one epoch (from where a resumed run stopped), stepping every few of them."""
        accumulate = self.classifier.config.gradient_accumulation_steps
        order = self.classifier.epoch_order(epoch, len(self.windows))
        started, seen, running = time.perf_counter(), 0, 0.0
        for index, chosen in enumerate(self.classifier.micro_batches(order)):
            if index < self.state.batch:
                continue  # done before the interruption
            rt.step_seed(self.classifier.seed, epoch * self.batches_per_epoch + index)
            loss = self._loss(chosen)
            (loss / accumulate).backward()
            seen += len(chosen)
            running += float(loss.item())
            last_of_epoch = index == self.batches_per_epoch - 1
            if (index + 1) % accumulate and not last_of_epoch:
                continue
            self._optimiser_step(index)
            if self.state.step % self.classifier.config.log_every_steps == 0 or last_of_epoch:
                window = max(1, min(accumulate * self.classifier.config.log_every_steps, index + 1))
                self._report_step(running / window, seen, started)
                running = 0.0
            self._after_step(last_of_epoch)

    def _loss(self, chosen: np.ndarray) -> torch.Tensor:
        classifier = self.classifier
        batch = classifier.pad([self.windows.input_ids[i] for i in chosen])
        with rt.autocast(classifier.device, classifier.dtype):
            logits = classifier.model(**batch).logits.float()
        targets = self.targets[chosen] if classifier.multilabel else self.targets[chosen].argmax(axis=1)
        loss: torch.Tensor = self.loss_function(logits, torch.from_numpy(targets).to(classifier.device))
        return loss

    def _optimiser_step(self, index: int) -> None:
        torch.nn.utils.clip_grad_norm_(self.classifier.model.parameters(), 1.0)
        self.optimiser.step()
        self.scheduler.step()
        self.optimiser.zero_grad()
        self.state.step += 1
        self.state.batch = index + 1

    def _report_step(self, loss: float, seen: int, started: float) -> None:
        elapsed = max(time.perf_counter() - started, 1e-9)
        metrics = {
            "train/loss": loss,
            "train/learning_rate": float(self.scheduler.get_last_lr()[0]),
            "train/examples_per_second": seen / elapsed,
        }
        self.context.report(metrics, self.state.step)

    def _after_step(self, last_of_epoch: bool) -> None:
        """A checkpoint every ``checkpoint_every_steps`` steps (the epoch's end writes its own); SIGTERM stops here."""
        directory = self.context.checkpoint_dir
        if directory and self.state.step % self.classifier.config.checkpoint_every_steps == 0 and not last_of_epoch:
            self._checkpoint()
        if self.context.stop.requested:
            if directory is None:
                raise TrainingTerminated()
            self._checkpoint()  # resume=true continues from this very step
            self.context.stop.stop()

    def _end_epoch(self, epoch: int, validation: LabelledSet) -> bool:
        """Score validation, keep the best weights, checkpoint; True when patience has run out."""
        f1, _ = self.classifier.validation_f1(validation)
        improved = f1 > self.state.best_f1
        self.state.epoch, self.state.batch = epoch + 1, 0
        if improved:
            self.state.best_f1, self.state.best_epoch, self.state.stale_epochs = f1, epoch, 0
            self._keep_best()
        else:
            self.state.stale_epochs += 1
        best = {"epoch/validation_f1_macro": f1, "epoch/best_validation_f1_macro": self.state.best_f1}
        self.context.report(best, epoch + 1)
        if self.context.checkpoint_dir:
            self._checkpoint()
        return self.state.stale_epochs > self.classifier.config.early_stopping_patience

    def _checkpoint(self) -> None:
        assert self.context.checkpoint_dir is not None
        write_checkpoint(self.context.checkpoint_dir, self.classifier.model, self.state, self.optimiser, self.scheduler)

    def _keep_best(self) -> None:
        model = self.classifier.model
        if self.context.checkpoint_dir:
            save_weights(model, self.context.checkpoint_dir / "best.safetensors")
        else:
            self.best_in_memory = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def _restore_best(self) -> None:
        model, directory = self.classifier.model, self.context.checkpoint_dir
        if directory and (directory / "best.safetensors").is_file():
            model.load_state_dict(load_file(str(directory / "best.safetensors"), device=str(self.classifier.device)))
        elif self.best_in_memory is not None:
            model.load_state_dict(self.best_in_memory)
            self.best_in_memory = None


__all__ = ["STATE_FILE", "TrainingLoop", "TrainingState", "read_checkpoint", "save_weights", "write_checkpoint"]
