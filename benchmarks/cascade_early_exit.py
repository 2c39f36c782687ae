"""A middle tier for the cascade from the transformer's own early layers: how much work would it save?

    python benchmarks/cascade_early_exit.py --model runs:/<transformer run>/model [--distil 6000]
        [--tail-layers 2 3] [--tail-epochs 4] [--no-readme]

The n-gram student sends on every paragraph where some label lies inside its
band (``cascade_band.py``: the band's width sets most of that). Those
paragraphs then run all six layers of the transformer. An early exit would run
the first k layers, let a head on their pooled states decide what it is sure
of, and run the other 6 - k layers only for the rest. Here the head is a ridge
regression onto the transformer's logits from layer k's [CLS] and mean-pooled
states (the training rows and ``--distil`` unlabelled training-article
paragraphs), its band fitted on validation with the shipped student's budget,
as a run fits the student's. Per split: the share that would still run all six
layers, worst-label agreement of the three tiers' decisions with the
transformer's, and the transformer's work in layer passes per paragraph
(shipped: the n-gram student's escalation, every escalated paragraph running
six layers of six). Paragraphs longer than one window are represented by
their first window.

Two heads per exit: the ridge above, and for ``--tail-layers`` a trained
tail: one transformer layer with the pooler and classifier, initialised from
the transformer's last layer and head, trained on layer k's frozen token
states to reproduce the transformer's logits (it costs one layer pass more).
Each head is measured twice: with the shipped student's budget for both tiers,
and with the pair of budgets (student, head) that needs the least work on
validation while the three tiers hold the run's own requirement there
(``model.cascade.agreement`` per label, macro-F1 within the tolerance).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._cascade import CascadeInputs, cascade_inputs
from benchmarks._common import real_text_options, save, table_head

SPLITS = ("validation", "test", "unlabelled")
TAIL = "trained tail"


@dataclass(frozen=True)
class Exit:
    """One exit's accounting: after which of how many layers, what its head costs, the run's cuts and requirement."""

    layer: int
    layers: int
    head_passes: int  # layer passes the head itself costs per paragraph it sees (a trained tail: one)
    cuts: np.ndarray  # the transformer's thresholds in logit space
    settings: Any  # the run's CascadeConfig: agreement and macro-F1 tolerance


def main() -> None:
    args = _arguments()
    from sklearn.linear_model import Ridge

    from framing.cascade import threshold_logits
    from framing.cascade.band import margins
    from framing.cascade.student import Student

    inputs = cascade_inputs(args.model, args.unlabelled, args.seed, args.datasets)
    rng = np.random.default_rng(args.seed)
    labelled, distil = inputs.labelled_rows, inputs.texts["distil"]
    picked = rng.choice(len(distil) - labelled, size=min(args.distil, len(distil) - labelled), replace=False)
    rows = np.concatenate([np.arange(labelled), labelled + np.sort(picked)])
    states = {"distil": _layer_states(inputs, [distil[i] for i in rows])}
    states.update({split: _layer_states(inputs, inputs.texts[split]) for split in SPLITS})

    student = Student.fit(distil, inputs.logits["distil"])
    first = {split: student.logits(inputs.texts[split]) for split in SPLITS}
    budget = inputs.chosen_budget(first["validation"])
    student_band = inputs.fit_band(first["validation"], budget)
    cuts = threshold_logits(inputs.teacher.thresholds, inputs.teacher.model.temperature)
    sent = {split: ~student_band.decided(margins(first[split], cuts), True, inputs.opened[split]) for split in SPLITS}
    layers = states["distil"].shape[0]
    found = [
        {
            "layer": 0,
            "head": "none",
            "budgets": [budget, None],
            "rmse": None,
            **{s: _tiers(inputs, s, first[s], sent[s], None, cuts, 0, 0) for s in SPLITS},
        }
    ]
    heads: list[tuple[int, str, dict[str, np.ndarray]]] = []  # (exit layer, head, its logits per split)
    for layer in range(1, layers):
        ridge = Ridge(alpha=10.0).fit(states["distil"][layer - 1], inputs.logits["distil"][rows])
        heads.append((layer, "ridge", {split: ridge.predict(states[split][layer - 1]) for split in SPLITS}))
    for layer in args.tail_layers:
        heads.append((layer, TAIL, _tail_logits(inputs, [distil[i] for i in rows], rows, layer, args)))
    settings = inputs.teacher.model.config.cascade
    for layer, kind, second in heads:
        error = second["validation"] - inputs.logits["validation"]
        shared = {"layer": layer, "head": kind, "rmse": np.sqrt((error**2).mean(axis=0)).tolist()}
        exit_ = Exit(layer, layers, 1 if kind == TAIL else 0, cuts, settings)
        bands = (student_band, inputs.fit_band(second["validation"], budget))
        found.append({**shared, "budgets": [budget, budget], **_three_tiers(inputs, first, second, bands, exit_)})
        found.append({**shared, **_joint_budgets(inputs, first, second, exit_)})
    results = {
        "model": args.model,
        "budget": budget,
        "layers": layers,
        "distil_rows": len(rows),
        "tail_epochs": args.tail_epochs,
        "rows": found,
    }
    save("cascade_early_exit", results, _section(results, inputs), not args.no_readme)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a transformer model trained with data=framing_real")
    parser.add_argument("--unlabelled", type=int, default=1000, help="paragraphs sampled from the unlabelled articles")
    parser.add_argument("--distil", type=int, default=6000, help="unlabelled training-article paragraphs for the heads")
    parser.add_argument("--tail-layers", type=int, nargs="*", default=[2, 3], help="exits that get a trained tail")
    parser.add_argument("--tail-epochs", type=int, default=4)
    real_text_options(parser)
    return parser.parse_args()


def _layer_states(inputs: CascadeInputs, texts: list[str]) -> np.ndarray:
    """[layers, texts, 2 x hidden]: each layer's [CLS] state and mean-pooled state of each text's first window."""
    import torch

    model = inputs.teacher.model
    ids = _first_windows(inputs, texts)
    order = np.argsort([len(i) for i in ids], kind="stable")
    found: np.ndarray | None = None
    with torch.inference_mode():
        for start in range(0, len(order), 32):
            chosen = order[start : start + 32]
            batch = model.pad([ids[i] for i in chosen])
            hidden = model.model(**batch, output_hidden_states=True).hidden_states[1:]  # after each layer
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = [torch.cat([h[:, 0], (h * mask).sum(1) / mask.sum(1)], dim=1).numpy() for h in hidden]
            if found is None:
                found = np.zeros((len(pooled), len(texts), pooled[0].shape[1]), dtype=np.float32)
            found[:, chosen] = np.stack(pooled)
    assert found is not None
    return found


def _first_windows(inputs: CascadeInputs, texts: list[str]) -> list[list[int]]:
    """Each text's first window of token ids."""
    windows = inputs.teacher.model.windows(texts)
    first: dict[int, int] = {}
    for window, owner in enumerate(windows.owner):
        first.setdefault(int(owner), window)
    return [windows.input_ids[first[text]] for text in range(len(texts))]


def _token_states(inputs: CascadeInputs, texts: list[str], layer: int) -> list[Any]:
    """Per text, the token states of its first window after ``layer`` layers (no padding)."""
    import torch

    model = inputs.teacher.model
    ids = _first_windows(inputs, texts)
    found: list[Any] = [None] * len(ids)
    order = np.argsort([len(i) for i in ids], kind="stable")
    with torch.inference_mode():
        for start in range(0, len(order), 32):
            chosen = order[start : start + 32]
            batch = model.pad([ids[i] for i in chosen])
            hidden = model.model(**batch, output_hidden_states=True).hidden_states[layer]
            for row, text in enumerate(chosen):
                found[text] = hidden[row, : int(batch["attention_mask"][row].sum())].clone()
    return found


def _padded(states: list[Any]) -> tuple[Any, Any]:
    """A batch of token states padded to the longest, with its attention mask."""
    import torch

    length = max(int(s.shape[0]) for s in states)
    hidden = torch.zeros(len(states), length, states[0].shape[1])
    mask = torch.zeros(len(states), length, dtype=torch.long)
    for row, state in enumerate(states):
        hidden[row, : state.shape[0]] = state
        mask[row, : state.shape[0]] = 1
    return hidden, mask


def tail_module(classifier: Any) -> Any:
    """One transformer layer, pooler and classifier, copied from a BERT-style sequence classifier's last ones."""
    import copy

    import torch

    class Tail(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = copy.deepcopy(classifier.base_model.encoder.layer[-1])
            self.pooler = copy.deepcopy(classifier.base_model.pooler)
            self.head = copy.deepcopy(classifier.classifier)

        def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            blocked = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
            out = self.layer(hidden, attention_mask=blocked)
            return self.head(self.pooler(out[0] if isinstance(out, tuple) else out))

    return Tail()


def fit_tail(
    tail: Any, states: list[Any], targets: np.ndarray, epochs: int, seed: int, learning_rate: float = 1e-4
) -> list[float]:
    """Train ``tail`` to reproduce ``targets`` (logits) from ``states``; mean squared error per epoch."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    order = np.argsort([int(s.shape[0]) for s in states], kind="stable")
    batches = [order[start : start + 32] for start in range(0, len(order), 32)]
    steps = max(1, epochs * len(batches))
    optimiser = torch.optim.AdamW(tail.parameters(), lr=learning_rate, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / (0.1 * steps)) * max(0.0, 1 - step / steps)
    )
    target = torch.tensor(targets, dtype=torch.float32)
    losses = []
    tail.train()
    for _ in range(epochs):
        total = 0.0
        for index in rng.permutation(len(batches)):
            chosen = batches[index]
            loss = torch.nn.functional.mse_loss(tail(*_padded([states[i] for i in chosen])), target[chosen])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.item())
        losses.append(total / len(batches))
    tail.eval()
    return losses


def tail_logits(tail: Any, states: list[Any]) -> np.ndarray:
    """The tail's logits for each text's states."""
    import torch

    found = np.zeros((len(states), int(tail.head.out_features)), dtype=np.float32)
    order = np.argsort([int(s.shape[0]) for s in states], kind="stable")
    with torch.inference_mode():
        for start in range(0, len(order), 64):
            chosen = order[start : start + 64]
            found[chosen] = tail(*_padded([states[i] for i in chosen])).numpy()
    return found


def _tail_logits(
    inputs: CascadeInputs, texts: list[str], rows: np.ndarray, layer: int, args: argparse.Namespace
) -> dict[str, np.ndarray]:
    """A trained tail on ``layer``'s states of ``texts`` (distillation rows ``rows``): its logits on each split."""
    tail = tail_module(inputs.teacher.model.model)
    fit_tail(tail, _token_states(inputs, texts, layer), inputs.logits["distil"][rows], args.tail_epochs, args.seed)
    return {split: tail_logits(tail, _token_states(inputs, inputs.texts[split], layer)) for split in SPLITS}


def _three_tiers(
    inputs: CascadeInputs,
    first: dict[str, np.ndarray],
    second: dict[str, np.ndarray],
    bands: tuple[Any, Any],
    exit_: Exit,
) -> dict[str, Any]:
    """Per split, the three tiers with these bands (the student's, the head's, both fitted on validation)."""
    from framing.cascade.band import margins

    student_band, head_band = bands
    found: dict[str, Any] = {}
    for split in SPLITS:
        sent = ~student_band.decided(margins(first[split], exit_.cuts), True, inputs.opened[split])
        still = sent & ~head_band.decided(margins(second[split], exit_.cuts), True, inputs.opened[split])
        found[split] = _tiers(
            inputs,
            split,
            first[split],
            sent,
            (second[split], still),
            exit_.cuts,
            exit_.layer,
            exit_.layers,
            exit_.head_passes,
        )
    return found


def _joint_budgets(
    inputs: CascadeInputs, first: dict[str, np.ndarray], second: dict[str, np.ndarray], exit_: Exit
) -> dict[str, Any]:
    """The budgets (student, head) with the least validation work whose three tiers hold the run's requirement there.

    The requirement is a training run's own (``CascadeCheck.holds``). A pair always holds: with budgets of 0 each
    band keeps only margins where its tier made no validation error.
    """
    from framing.cascade.fit import BUDGETS, CascadeCheck

    student_bands = {budget: inputs.fit_band(first["validation"], budget) for budget in BUDGETS}
    head_bands = {budget: inputs.fit_band(second["validation"], budget) for budget in BUDGETS}
    best: dict[str, Any] | None = None
    for student_budget, student_band in student_bands.items():
        for head_budget, head_band in head_bands.items():
            found = _three_tiers(inputs, first, second, (student_band, head_band), exit_)
            check = found["validation"]
            worst = np.asarray([check["agreement"]])
            holds = CascadeCheck(worst, check["full"], check["f1"], check["f1_exact"]).holds(exit_.settings)
            if holds and (best is None or check["work"] < best["validation"]["work"]):
                best = {"budgets": [student_budget, head_budget], **found}
    assert best is not None, "budgets of 0 hold on validation by construction"
    return best


def _tiers(
    inputs: CascadeInputs,
    split: str,
    first: np.ndarray,
    sent: np.ndarray,
    second: tuple[np.ndarray, np.ndarray] | None,
    cuts: np.ndarray,
    layer: int,
    layers: int,
    head_passes: int = 0,
) -> dict[str, float]:
    """Decisions of student, then layer head, then transformer: agreement, share run fully, layer passes.

    ``head_passes``: layer passes the head itself costs per paragraph it sees (a trained tail: one).
    Where the split has labels, also the three tiers' macro-F1 and the transformer's.
    """
    teacher = inputs.logits[split]
    if second is None:
        estimate, still, work = np.where(sent[:, None], teacher, first), sent, float(sent.mean())
    else:
        head, still = second
        estimate = np.where(sent[:, None], np.where(still[:, None], teacher, head), first)
        work = float(sent.mean() * (layer + head_passes) / layers + still.mean() * (layers - layer) / layers)
    flags = (estimate >= cuts) & inputs.opened[split]
    exact = (teacher >= cuts) & inputs.opened[split]
    found = {"full": float(still.mean()), "agreement": float((flags == exact).mean(axis=0).min()), "work": work}
    if split in inputs.truth:
        from sklearn.metrics import f1_score

        truth = inputs.truth[split]
        found["f1"] = float(f1_score(truth, flags, average="macro", zero_division=0))
        found["f1_exact"] = float(f1_score(truth, exact, average="macro", zero_division=0))
    return found


def _section(results: dict[str, Any], inputs: CascadeInputs) -> str:
    labels = list(inputs.teacher.labels)
    columns = ["exit after layer", "head", "budgets (student / head)", "validation RMSE, `media_bias_claim` / mean"]
    columns += [f"{split}: run fully / agreement / work" for split in SPLITS]
    lines = table_head(
        "An early exit from the transformer's own layers (`cascade_early_exit.py`)",
        f"python benchmarks/cascade_early_exit.py --model {results['model']}",
        f"Heads fitted on {results['distil_rows']:,} paragraphs (trained tails: {results['tail_epochs']} epochs); "
        f"bands fitted on validation ({len(inputs.texts['validation']):,}) with the shipped student's budget "
        f"({results['budget']:g}) for both tiers, or with the budgets that need the least validation work while "
        "the three tiers hold the run's requirement there (per-label agreement and macro-F1); test "
        f"({len(inputs.texts['test']):,}) and {len(inputs.texts['unlabelled']):,} paragraphs of the unlabelled PTC "
        "articles. Run fully: share of paragraphs that would still run every layer. Agreement: worst label, the "
        "three tiers' decisions against the transformer's. Work: the transformer's layer passes per paragraph, "
        "as a share of six, a trained tail's own layer included (row 'none': the shipped cascade).",
        columns,
    )
    mbc = labels.index("media_bias_claim") if "media_bias_claim" in labels else 0
    for row in results["rows"]:
        rmse = "" if row["rmse"] is None else f"{row['rmse'][mbc]:.2f} / {np.mean(row['rmse']):.2f}"
        budgets = " / ".join("" if b is None else f"{b:g}" for b in row["budgets"])
        cells = [f"{row[s]['full']:.1%} / {row[s]['agreement']:.2%} / {row[s]['work']:.3f}" for s in SPLITS]
        lines.append("| " + " | ".join([str(row["layer"] or "none"), row["head"], budgets, rmse, *cells]) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
