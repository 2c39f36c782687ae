"""A middle tier for the cascade from the transformer's own early layers: how much work would it save?

    python benchmarks/cascade_early_exit.py --model runs:/<transformer run>/model [--distil 6000] [--no-readme]

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
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._cascade import CascadeInputs, cascade_inputs
from benchmarks._common import save, table_head

SPLITS = ("validation", "test", "unlabelled")


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
    found = [{"layer": 0, "rmse": None, **{s: _tiers(inputs, s, first[s], sent[s], None, cuts, 0, 0) for s in SPLITS}}]
    for layer in range(1, layers):
        head = Ridge(alpha=10.0).fit(states["distil"][layer - 1], inputs.logits["distil"][rows])
        second = {split: head.predict(states[split][layer - 1]) for split in SPLITS}
        band = inputs.fit_band(second["validation"], budget)
        error = second["validation"] - inputs.logits["validation"]
        result: dict[str, Any] = {"layer": layer, "rmse": np.sqrt((error**2).mean(axis=0)).tolist()}
        for split in SPLITS:
            still = sent[split] & ~band.decided(margins(second[split], cuts), True, inputs.opened[split])
            result[split] = _tiers(
                inputs, split, first[split], sent[split], (second[split], still), cuts, layer, layers
            )
        found.append(result)
    results = {"model": args.model, "budget": budget, "layers": layers, "distil_rows": len(rows), "rows": found}
    save("cascade_early_exit", results, _section(results, inputs), not args.no_readme)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a transformer model trained with data=framing_real")
    parser.add_argument("--unlabelled", type=int, default=1000, help="paragraphs sampled from the unlabelled articles")
    parser.add_argument("--distil", type=int, default=6000, help="unlabelled training-article paragraphs for the heads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", default=None, help="default: $FRAMING_DATASETS or ../shared/datasets")
    parser.add_argument("--no-readme", action="store_true", help="print only; write neither JSON nor README")
    return parser.parse_args()


def _layer_states(inputs: CascadeInputs, texts: list[str]) -> np.ndarray:
    """[layers, texts, 2 x hidden]: each layer's [CLS] state and mean-pooled state of each text's first window."""
    import torch

    model = inputs.teacher.model
    windows = model.windows(texts)
    first: dict[int, int] = {}
    for window, owner in enumerate(windows.owner):
        first.setdefault(int(owner), window)
    ids = [windows.input_ids[first[text]] for text in range(len(texts))]
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


def _tiers(
    inputs: CascadeInputs,
    split: str,
    first: np.ndarray,
    sent: np.ndarray,
    second: tuple[np.ndarray, np.ndarray] | None,
    cuts: np.ndarray,
    layer: int,
    layers: int,
) -> dict[str, float]:
    """Decisions of student, then layer head, then transformer: agreement, share run fully, layer passes."""
    teacher = inputs.logits[split]
    if second is None:
        estimate, still, work = np.where(sent[:, None], teacher, first), sent, float(sent.mean())
    else:
        head, still = second
        estimate = np.where(sent[:, None], np.where(still[:, None], teacher, head), first)
        work = float(sent.mean() * layer / layers + still.mean() * (layers - layer) / layers)
    flags = (estimate >= cuts) & inputs.opened[split]
    exact = (teacher >= cuts) & inputs.opened[split]
    return {"full": float(still.mean()), "agreement": float((flags == exact).mean(axis=0).min()), "work": work}


def _section(results: dict[str, Any], inputs: CascadeInputs) -> str:
    labels = list(inputs.teacher.labels)
    columns = ["exit after layer", "validation RMSE, `media_bias_claim` / mean"]
    columns += [f"{split}: run fully / agreement / work" for split in SPLITS]
    lines = table_head(
        "An early exit from the transformer's own layers (`cascade_early_exit.py`)",
        f"python benchmarks/cascade_early_exit.py --model {results['model']}",
        f"Heads fitted on {results['distil_rows']:,} paragraphs; bands with the shipped student's budget "
        f"({results['budget']:g}) on validation ({len(inputs.texts['validation']):,}); test "
        f"({len(inputs.texts['test']):,}) and {len(inputs.texts['unlabelled']):,} paragraphs of the unlabelled PTC "
        "articles. Run fully: share of paragraphs that would still run every layer. Agreement: worst label, the "
        "three tiers' decisions against the transformer's. Work: the transformer's layer passes per paragraph, "
        "as a share of six (row 'none': the shipped cascade).",
        columns,
    )
    mbc = labels.index("media_bias_claim") if "media_bias_claim" in labels else 0
    for row in results["rows"]:
        rmse = "" if row["rmse"] is None else f"{row['rmse'][mbc]:.2f} / {np.mean(row['rmse']):.2f}"
        cells = [f"{row[s]['full']:.1%} / {row[s]['agreement']:.2%} / {row[s]['work']:.3f}" for s in SPLITS]
        lines.append("| " + " | ".join([str(row["layer"] or "none"), rmse, *cells]) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
