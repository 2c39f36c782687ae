"""How far the cascade's escalation can fall: more distillation text, other band fits, and the band's floor.

    python benchmarks/cascade_band.py --model runs:/<transformer run>/model [--augment 8000] [--no-readme]

The shipped student (``framing.cascade.student``: ridge on hashed n-grams,
distilled on the training rows and the unlabelled PTC training articles)
decides a label alone when its margin lies outside the band fitted on the real
validation split. What it sends on is mostly paragraphs it cannot call surely
negative. This benchmark asks where the lever is:

- **the floor**: the transformer's own logits inside the shipped band, i.e. a
  student that mimics it perfectly; what that escalates is set by the band's
  width alone, which the student's errors on validation decide;
- **more distillation text**: the PTC dev articles and every MBIC paragraph
  not in a split (teacher-scored, unlabelled), or invented paragraphs made of
  random sentences of the training split's invented paragraphs (the style of
  generated text, which the cascade escalates most);
- **a non-linear student**: a two-layer network on the same hashed n-grams;
- **other band fits**: a common budget of 0.01 instead of the chosen 0.0075;
  each label's own budget (raised label by label while every label keeps the
  run's agreement target on validation); a band fitted on out-of-fold
  student estimates of the 20,000 unlabelled training-article paragraphs
  instead of on validation.

Each row is measured on the real validation split (where bands are chosen), the
real test split, a sample of the 400 unlabelled PTC articles and the shipped
invented test split (label-dense, the style of generated text): escalation
(share sent to the transformer) and worst-label agreement with the transformer.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._cascade import CascadeInputs, cascade_inputs
from benchmarks._common import ROOT, real_text_options, save, table_head

SPLITS = ("validation", "test", "unlabelled", "invented")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'\u201c])")


@dataclass
class Row:
    student: str
    band: str
    results: dict[str, tuple[float, float]]  # split -> (escalation, worst-label agreement)


def main() -> None:
    args = _arguments()
    from framing.cascade.student import Student
    from framing.data.real_sources import mbic_paragraphs, ptc_paragraphs

    inputs = cascade_inputs(args.model, args.unlabelled, args.seed, args.datasets)
    test_lines = (ROOT / "data/framing/test.jsonl").read_text(encoding="utf-8").splitlines()
    invented_test = [json.loads(line)["text"] for line in test_lines]
    inputs.add("invented", invented_test)
    seen = set(inputs.texts["distil"]) | set(inputs.texts["validation"]) | set(inputs.texts["test"])
    dev = sorted({u.text for u in ptc_paragraphs(inputs.root, folders=("dev-articles",))} - seen)
    mbic = sorted({u.text for u in mbic_paragraphs(inputs.root) if len(u.text.split()) >= 3} - seen - set(dev))
    inputs.add("more_real", dev + mbic)
    inputs.add("recombined", _recombined(ROOT / "data/framing/train.jsonl", args.augment, args.seed))

    shipped = Student.fit(inputs.texts["distil"], inputs.logits["distil"])
    network = _NetworkStudent(shipped, inputs.texts["distil"], inputs.logits["distil"], args.seed)
    estimates = {  # each student's estimates of the transformer's logits, per split
        "shipped": _estimates(inputs, shipped),
        "more_real": _estimates(inputs, _student_with(inputs, "more_real")),
        "recombined": _estimates(inputs, _student_with(inputs, "recombined")),
        "network": _estimates(inputs, network),
    }
    chosen = inputs.chosen_budget(estimates["shipped"]["validation"])
    more_real = f"+ PTC dev + MBIC ({len(dev) + len(mbic):,} more)"
    network_name = "two-layer network on the shipped n-grams"
    out_of_fold = "out of fold on the training articles (0.003)"
    floor = inputs.floor(inputs.fit_band(estimates["shipped"]["validation"], chosen), SPLITS)
    rows = [
        Row("the transformer itself (a perfect student)", f"the shipped student's ({chosen:g})", floor),
        _row(inputs, "shipped", estimates["shipped"], f"as a run chooses ({chosen:g})", chosen),
        _row(inputs, "shipped", estimates["shipped"], "common 0.01", 0.01),
        _row(inputs, "shipped", estimates["shipped"], "per-label budgets", inputs.per_label_band),
        _row(inputs, "shipped", estimates["shipped"], out_of_fold, lambda _: _oof_band(inputs)),
        _row(inputs, more_real, estimates["more_real"], "common 0.0075", 0.0075),
        _row(inputs, more_real, estimates["more_real"], "common 0.01", 0.01),
        _row(inputs, f"+ {args.augment:,} recombined invented", estimates["recombined"], "common 0.0075", 0.0075),
        _row(inputs, network_name, estimates["network"], "common 0.0075", 0.0075),
        _row(inputs, network_name, estimates["network"], "common 0.01", 0.01),
    ]
    results = {
        "model": args.model,
        "distillation_rows": len(inputs.texts["distil"]),
        "more_real": len(dev) + len(mbic),
        "recombined": args.augment,
        "sizes": {split: len(inputs.texts[split]) for split in SPLITS},
        "rows": [row.__dict__ for row in rows],
    }
    save("cascade_band", results, _section(results), not args.no_readme)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a transformer model trained with data=framing_real")
    parser.add_argument("--unlabelled", type=int, default=1000, help="paragraphs sampled from the unlabelled articles")
    parser.add_argument("--augment", type=int, default=8000, help="recombined invented paragraphs to distil on")
    real_text_options(parser)
    return parser.parse_args()


def _recombined(path: Path, count: int, seed: int) -> list[str]:
    """``count`` distinct paragraphs, each of as many random training sentences as a random training paragraph has."""
    lines = path.read_text(encoding="utf-8").splitlines()
    paragraphs = [SENTENCE_END.split(json.loads(line)["text"]) for line in lines]
    sentences = [sentence for paragraph in paragraphs for sentence in paragraph]
    rng = np.random.default_rng(seed)
    made: dict[str, None] = {}
    for _ in range(100 * count):
        if len(made) == count:
            return list(made)
        length = min(len(paragraphs[rng.integers(len(paragraphs))]), len(sentences))
        made[" ".join(sentences[i] for i in rng.choice(len(sentences), size=length, replace=False))] = None
    raise SystemExit(f"{path}: too few sentences for {count:,} distinct paragraphs ({len(made):,} made)")


def _student_with(inputs: CascadeInputs, extra: str) -> Any:
    from framing.cascade.student import Student

    texts = inputs.texts["distil"] + inputs.texts[extra]
    return Student.fit(texts, np.concatenate([inputs.logits["distil"], inputs.logits[extra]]))


def _estimates(inputs: CascadeInputs, student: Any) -> dict[str, np.ndarray]:
    return {split: student.logits(inputs.texts[split]) for split in SPLITS}


def _row(
    inputs: CascadeInputs,
    student_name: str,
    estimates: dict[str, np.ndarray],
    band_name: str,
    band: float | Callable[[dict[str, np.ndarray]], Any],
) -> Row:
    """``band``: a budget for a band fitted on validation, or a function of the student's estimates per split."""
    fitted = inputs.fit_band(estimates["validation"], band) if isinstance(band, float) else band(estimates)
    return Row(student_name, band_name, inputs.measure(fitted, estimates, SPLITS))


class _NetworkStudent:
    """A non-linear student on the shipped student's hashed n-grams: does a hidden layer mimic better than ridge?

    A bag of the n-grams' TF-IDF weights into 256 units, two ReLU layers, the
    transformer's standardised logits as targets (mean squared error, Adam,
    8 epochs of batches of 128), as fastText-style text regressors are built.
    """

    def __init__(self, shipped: Any, texts: list[str], targets: np.ndarray, seed: int) -> None:
        import torch

        torch.manual_seed(seed)
        self.features = shipped.pipeline.named_steps["features"]
        self.mean, self.scale = targets.mean(axis=0), targets.std(axis=0) + 1e-6
        matrix = self._matrix(texts)
        self.net = _bag_network(matrix.shape[1], 256, targets.shape[1])
        wanted = torch.from_numpy(((targets - self.mean) / self.scale).astype(np.float32))
        optimisers = [
            torch.optim.SparseAdam(list(self.net.bag.parameters()), lr=1e-3),
            torch.optim.AdamW(self.net.head.parameters(), lr=1e-3),
        ]
        rng = np.random.default_rng(seed)
        self.net.train()
        for _ in range(8):
            order = rng.permutation(matrix.shape[0])
            for start in range(0, len(order), 128):
                rows = order[start : start + 128]
                loss = torch.nn.functional.mse_loss(self.net(*_bag_inputs(matrix[rows])), wanted[rows])
                for optimiser in optimisers:
                    optimiser.zero_grad()
                loss.backward()
                for optimiser in optimisers:
                    optimiser.step()
        self.net.eval()

    def _matrix(self, texts: list[str]) -> Any:
        matrix = self.features.transform(texts).tocsr().astype(np.float32)
        matrix.sort_indices()
        return matrix

    def logits(self, texts: list[str]) -> np.ndarray:
        import torch

        matrix = self._matrix(texts)
        with torch.inference_mode():
            parts = [self.net(*_bag_inputs(matrix[i : i + 2048])).numpy() for i in range(0, matrix.shape[0], 2048)]
        return np.concatenate(parts) * self.scale + self.mean


def _bag_network(features: int, hidden: int, outputs: int) -> Any:
    """An n-gram bag (EmbeddingBag over TF-IDF weights) into ``hidden`` units, then two ReLU layers."""
    import torch

    class Network(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bag = torch.nn.EmbeddingBag(features, hidden, mode="sum", sparse=True)
            torch.nn.init.normal_(self.bag.weight, std=0.02)
            layers = [torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(hidden, hidden), torch.nn.ReLU()]
            self.head = torch.nn.Sequential(*layers, torch.nn.Linear(hidden, outputs))

        def forward(self, indices: Any, offsets: Any, weights: Any) -> Any:
            return self.head(self.bag(indices, offsets, per_sample_weights=weights))

    return Network()


def _bag_inputs(matrix: Any) -> tuple[Any, Any, Any]:
    """A CSR matrix as EmbeddingBag's (indices, offsets, per-sample weights)."""
    import torch

    return (
        torch.from_numpy(matrix.indices.astype(np.int64)),
        torch.from_numpy(matrix.indptr[:-1].astype(np.int64)),
        torch.from_numpy(matrix.data),
    )


def _oof_band(inputs: CascadeInputs) -> Any:
    """A band from 5-fold out-of-fold estimates of the unlabelled distillation rows (the labelled rows always in)."""
    from sklearn.model_selection import KFold

    from framing.cascade.student import Student

    texts, targets, labelled = inputs.texts["distil"], inputs.logits["distil"], inputs.labelled_rows
    unlabelled = np.arange(labelled, len(texts))
    estimates = np.zeros_like(targets[labelled:])
    for kept, held in KFold(5, shuffle=True, random_state=0).split(unlabelled):
        rows = np.concatenate([np.arange(labelled), unlabelled[kept]])
        student = Student.fit([texts[i] for i in rows], targets[rows])
        estimates[held] = student.logits([texts[i] for i in unlabelled[held]])
    return inputs.fit_band(estimates, 0.003, split="distil", rows=slice(labelled, None))


def _section(results: dict[str, Any]) -> str:
    sizes = results["sizes"]
    columns = ["student", "band", *(f"{split} escalation / agreement" for split in SPLITS)]
    lines = table_head(
        "How far the cascade's escalation can fall (`cascade_band.py`)",
        f"python benchmarks/cascade_band.py --model {results['model']}",
        f"Students distilled on {results['distillation_rows']:,} paragraphs as a training run does (training rows "
        f"and the unlabelled PTC training articles), or with {results['more_real']:,} more real ones or "
        f"{results['recombined']:,} recombined invented ones. Measured on the real validation "
        f"({sizes['validation']:,}) and test ({sizes['test']:,}) splits, {sizes['unlabelled']:,} paragraphs of the "
        f"unlabelled PTC articles and the invented test split ({sizes['invented']:,}). Escalation: share sent to "
        "the transformer. Agreement: the worst label's share of decisions equal to the transformer's.",
        columns,
    )
    for row in results["rows"]:
        cells = [f"{row['results'][s][0]:.1%} / {row['results'][s][1]:.2%}" for s in SPLITS]
        lines.append("| " + " | ".join([row["student"], row["band"], *cells]) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
