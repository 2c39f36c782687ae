"""Cross-domain bias detection: train on BABE, test on the Ukraine-crisis set, and the reverse.

    python benchmarks/cross_domain.py            # TF-IDF and the transformer (make bench-cross)

Each direction trains on the whole source dataset (90% of its groups; 10% for
validation: early stopping, temperature, thresholds) and scores the whole target
dataset, whose labels are used for nothing else. The label is "the sentence is
biased": BABE's ``Biased`` and the Ukraine set's binarised ``bias``. Each
direction uses the target's own in-domain protocol, so the drop is like for like:
into Ukraine a multi-label ``bias`` flag at a tuned threshold (as in
``ukraine_cv.py``), into BABE the argmax of ``Biased``/``Non-biased`` (as in
``babe_cv.py``). The drop is measured against those benchmarks' cross-validated
numbers (run them first; without them the table shows the cross-domain scores
alone). Sentences found in both datasets (normalised text) are removed from the
source first and reported.
"""

from __future__ import annotations

from typing import Any

import _common
import pandas as pd

from framing.config import load_config
from framing.crossval import add_leakage_groups, fold_overrides, holdout_split, write_split
from framing.data.adapters import load_adapter
from framing.data.dedup import deduplicate
from framing.training import run_training

NAME = "cross_domain"
# target -> (label set, task, positive label, the in-domain benchmark and its metric prefix)
TARGETS: dict[str, dict[str, Any]] = {
    "ukraine": {
        "labels": ["bias"],
        "task": "multilabel",
        "positive": "bias",
        "reference": ("ukraine_cv", "article"),
    },
    "babe": {
        "labels": ["Biased", "Non-biased"],
        "task": "multiclass",
        "positive": "Biased",
        "reference": ("babe_sg2_cv", "sentence"),
    },
}


def as_target_labels(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """``frame`` with its ``biased`` flags written as labels in the target's representation."""
    result = frame.copy()
    if TARGETS[target]["task"] == "multilabel":
        result["labels"] = [["bias"] if flag else [] for flag in result["biased"]]
    else:
        result["labels"] = [["Biased"] if flag else ["Non-biased"] for flag in result["biased"]]
    return result


def load(args: Any) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Both datasets with a ``biased`` column, and the source lines of the report."""
    babe, babe_counts = load_adapter("babe", _common.dataset_path(args.datasets, "babe", "final_labels_SG2.csv"))
    ukraine_path = _common.dataset_path(args.datasets, "ukraine-news-bias")
    ukraine, ukraine_counts = load_adapter("ukraine", ukraine_path, tasks=["bias"])
    frames = {
        "babe": add_leakage_groups(babe, threshold=0.9, group_column="id"),
        "ukraine": add_leakage_groups(ukraine, threshold=0.9, group_column="article_id"),
    }
    frames["babe"]["biased"] = frames["babe"]["labels"].map(lambda labels: labels == ["Biased"])
    frames["ukraine"]["biased"] = frames["ukraine"]["labels"].map(lambda labels: "bias" in labels)
    return frames, [babe_counts.summary(), ukraine_counts.summary()]


def reference(target: str, family: str) -> tuple[float | None, float | None]:
    """In-domain F1 and PR-AUC of ``family`` on ``target`` from its own benchmark, if it was run."""
    name, grouping = TARGETS[target]["reference"]
    label = TARGETS[target]["positive"]
    for row in (_common.load_results(name) or {}).get("rows", []):
        if row["family"] == family and row["grouping"] == grouping:
            return row["mean"].get(f"{label}/f1"), row["mean"].get(f"{label}/pr_auc")
    return None, None


def main() -> None:
    args = _common.parser(__doc__.splitlines()[0], "bench-cross-domain").parse_args()
    frames, sources = load(args)
    rows = []
    for source, target in (("babe", "ukraine"), ("ukraine", "babe")):
        # the target is kept whole; any of its sentences in the source is removed from the source
        cleaned, report = deduplicate({target: frames[target], source: frames[source]})
        train_data = as_target_labels(cleaned[source], target)
        test_data = as_target_labels(frames[target], target)
        train, validation = holdout_split(train_data, 0.1, args.seed)
        directory = args.work_dir / NAME / f"{source}_to_{target}"
        paths = {
            "train": write_split(train, directory / "train.jsonl"),
            "validation": write_split(validation, directory / "validation.jsonl"),
            "test": write_split(test_data, directory / "test.jsonl"),
        }
        spec = TARGETS[target]
        for family in args.families:
            run_name = f"{source} -> {target} {family}"
            extra = fold_overrides(paths, spec["labels"], spec["task"])
            config = load_config(_common.overrides(family, args, extra))
            config = config.with_tracking(run_name=run_name)
            result = run_training(config)
            positive = spec["positive"]
            in_f1, in_pr_auc = reference(target, family)
            rows.append(
                {
                    "source": source,
                    "target": target,
                    "family": family,
                    "label": _common.family_name(family, args),
                    "run_id": result.run_id,
                    "train_rows": len(train),
                    "test_rows": len(test_data),
                    "removed_as_target_copies": sum(report.across[source].values()),
                    "removed_within_source": report.within[source],
                    "f1": result.metrics[f"test/tuned/{positive}/f1"],
                    "pr_auc": result.metrics[f"test/tuned/{positive}/pr_auc"],
                    "in_domain_f1": in_f1,
                    "in_domain_pr_auc": in_pr_auc,
                }
            )
            print(rows[-1])
    _common.save(NAME, {"sources": sources, "rows": rows}, table(rows, sources), not args.no_readme)


def _drop(in_domain: float | None, cross: float) -> str:
    return (
        "n/a (run its in-domain benchmark)"
        if in_domain is None
        else f"{in_domain:.3f} → {cross:.3f} ({cross - in_domain:+.3f})"
    )


def table(rows: list[dict[str, Any]], sources: list[str]) -> str:
    lines = _common.table_head(
        "Cross-domain: BABE ⇄ Ukraine-crisis set (`cross_domain.py`)",
        "make bench-cross",
        f"Data: {'; '.join(sources)}. Target labels are used only for the score. "
        "In-domain = the target's own 5-fold cross-validation (tables above).",
        [
            *["train → test", "model", "train rows", "removed: in target / repeated in source", "F1 (biased)"],
            *["PR-AUC", "F1 in-domain → cross", "PR-AUC in-domain → cross", "MLflow run"],
        ],
    )
    for row in rows:
        lines.append(
            f"| {row['source']} → {row['target']} | {row['label']} | {row['train_rows']} | "
            f"{row['removed_as_target_copies']} / {row['removed_within_source']} | "
            f"{row['f1']:.3f} | {row['pr_auc']:.3f} | "
            f"{_drop(row['in_domain_f1'], row['f1'])} | {_drop(row['in_domain_pr_auc'], row['pr_auc'])} | "
            f"`{row['run_id']}` |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
