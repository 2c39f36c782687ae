"""Which rows to tune the decision thresholds on: the real validation split alone, or pooled with invented text.

    python benchmarks/threshold_choice.py --model runs:/<run of data=framing_real>/model [--folds 5] [--no-readme]

Real validation holds few positives for some labels (27 ``humanitarian``), so
thresholds tuned on it alone may be noise; the invented validation split
adds 348 paragraphs with many positives, but of another style. The choice is
measured out of fold on the real validation split: its articles are cut into
``--folds`` groups, thresholds are tuned on the other groups (alone, or with
every invented validation row, or not at all: 0.5), and the held-out group is
decided with them. The real test split is scored too, with thresholds tuned on
the whole real or pooled validation, for the record only: the choice is the
validation column's. The last choice tunes for F0.5 rather than F1 (precision
weighed twice), the operating point for flags read one by one; the table
adds ``media_bias_claim`` precision for it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

from benchmarks._common import f1_by_label, save

CHOICES = (
    "real validation",
    "real + invented validation",
    "0.5 for every label",
    "real validation, F0.5 (train.threshold_beta=0.5)",
)
CLAIM = "media_bias_claim"


def main() -> None:
    import argparse

    from framing import load_model
    from framing.config import load_config
    from framing.data.dataset import load_splits

    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--model", required=True, help="a model trained with data=framing_real")
    arguments.add_argument("--folds", type=int, default=5)
    arguments.add_argument("--seed", type=int, default=0)
    arguments.add_argument("--no-readme", action="store_true", help="print only; write neither JSON nor README")
    args = arguments.parse_args()

    model = load_model(args.model, exact=True)
    labels = model.labels
    real = load_splits(load_config(["data=framing_real"]).data)
    invented = load_splits(load_config(["data=framing"]).data).validation
    assert real.validation is not None and real.test is not None and invented is not None
    scored = {
        name: (model.probabilities(list(split.texts)), split.label_matrix(labels), split.groups)
        for name, split in (("validation", real.validation), ("invented", invented), ("test", real.test))
    }
    out_of_fold = _out_of_fold(scored, args.folds, args.seed)
    on_test = _on_test(scored)
    rows = [
        {"choice": choice, "validation": out_of_fold[choice], "test": on_test[choice], "labels": labels}
        for choice in CHOICES
    ]
    results = {
        "model": args.model,
        "folds": args.folds,
        "rows": rows,
        "sizes": {k: len(v[0]) for k, v in scored.items()},
    }
    save("threshold_choice", results, _section(results, labels), not args.no_readme)


def _out_of_fold(scored: dict[str, Any], folds: int, seed: int) -> dict[str, dict[str, float]]:
    """Per choice: per-label F1 and macro-F1 of out-of-fold decisions on the real validation split."""
    from framing.thresholds import tune_thresholds

    probabilities, truth, groups = scored["validation"]
    invented_probabilities, invented_truth, _ = scored["invented"]
    articles = np.array(sorted(set(groups)))
    fold_of_article = dict(zip(articles, np.random.default_rng(seed).permutation(len(articles)) % folds, strict=True))
    fold = np.array([fold_of_article[g] for g in groups])
    decisions = {choice: np.zeros_like(truth, dtype=bool) for choice in CHOICES}
    for k in range(folds):
        held, rest = fold == k, fold != k
        tuned = {
            CHOICES[0]: tune_thresholds(truth[rest], probabilities[rest]),
            CHOICES[1]: tune_thresholds(
                np.vstack([truth[rest], invented_truth]), np.vstack([probabilities[rest], invented_probabilities])
            ),
            CHOICES[2]: np.full(truth.shape[1], 0.5),
            CHOICES[3]: tune_thresholds(truth[rest], probabilities[rest], beta=0.5),
        }
        for choice, thresholds in tuned.items():
            decisions[choice][held] = probabilities[held] >= thresholds
    return {choice: _scores(truth, flags) for choice, flags in decisions.items()}


def _on_test(scored: dict[str, Any]) -> dict[str, dict[str, float]]:
    from framing.thresholds import tune_thresholds

    validation, truth, _ = scored["validation"]
    invented, invented_truth, _ = scored["invented"]
    test, test_truth, _ = scored["test"]
    tuned = {
        CHOICES[0]: tune_thresholds(truth, validation),
        CHOICES[1]: tune_thresholds(np.vstack([truth, invented_truth]), np.vstack([validation, invented])),
        CHOICES[2]: np.full(truth.shape[1], 0.5),
        CHOICES[3]: tune_thresholds(truth, validation, beta=0.5),
    }
    return {choice: _scores(test_truth, test >= thresholds) for choice, thresholds in tuned.items()}


def _scores(truth: np.ndarray, flags: np.ndarray) -> dict[str, float]:
    """``f1_by_label`` plus every label's precision (``precision/<column>``)."""
    from sklearn.metrics import precision_score

    precision = precision_score(truth, flags, average=None, zero_division=0)
    return {**f1_by_label(truth, flags), **{f"precision/{j}": float(v) for j, v in enumerate(precision)}}


def _section(results: dict[str, Any], labels: list[str]) -> str:
    sizes = results["sizes"]
    lines = [
        "## Where to tune thresholds: real or pooled validation (`threshold_choice.py`)",
        "",
        "```",
        f"python benchmarks/threshold_choice.py --model {results['model']}",
        "```",
        "",
        f"Validation: out-of-fold decisions on the real validation split ({sizes['validation']} paragraphs, "
        f"{results['folds']} folds by article), thresholds tuned on the other folds alone or with the "
        f"{sizes['invented']} invented validation paragraphs. Test ({sizes['test']} real paragraphs), for the "
        "record only: thresholds tuned on the whole real or pooled validation. Macro-F1 and per-label F1.",
        "",
        "| thresholds tuned on | validation macro-F1 (out of fold) | test macro-F1 | "
        + " | ".join(f"{label} (validation / test)" for label in labels)
        + f" | {CLAIM} precision (validation / test) |",
        "|---|---|---|" + "---|" * (len(labels) + 1),
    ]
    claim = str(labels.index(CLAIM)) if CLAIM in labels else None
    for row in results["rows"]:
        cells = [f"{row['validation'][str(j)]:.3f} / {row['test'][str(j)]:.3f}" for j in range(len(labels))]
        cells.append(
            f"{row['validation'][f'precision/{claim}']:.3f} / {row['test'][f'precision/{claim}']:.3f}" if claim else ""
        )
        lines.append(
            f"| {row['choice']} | {row['validation']['macro']:.3f} | {row['test']['macro']:.3f} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
