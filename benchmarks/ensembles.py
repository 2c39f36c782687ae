"""Do ensembles earn their place on real text? Transformer seeds averaged, and transformer + TF-IDF.

    python benchmarks/ensembles.py --member transformer=runs:/<run>/model [--member transformer=<another seed>] \\
        --member tfidf=runs:/<run>/model [--folds 5] [--no-readme]

Every member is a model trained with ``data=framing_real``. Each scores the
real validation and test splits once (its own calibrated probabilities, the
news-media requirement left off); a candidate averages them, applies the
requirement of ``data=framing_real`` and decides at thresholds tuned on
validation. Candidates: each member alone, the mean of the transformers (when
there are several), and the transformers' mean mixed with the TF-IDF model at
a weight chosen from ``WEIGHTS``.

The choice is measured out of fold on the real validation split, so that a
candidate with more knobs (the mixing weight) gains nothing from tuning on the
rows it is scored on: articles are cut into ``--folds`` groups, the weight and
the thresholds are tuned on the other groups, and the held-out group is
decided with them. Test is scored with everything tuned on the whole
validation split, for the record only, with 95% bootstrap intervals over
articles.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

from benchmarks._common import f1_by_label, machine, save

WEIGHTS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)  # the TF-IDF model's share of the mixed probability


def main() -> None:
    from framing import load_model
    from framing.config import load_config
    from framing.data.dataset import load_splits
    from framing.mentions import open_labels

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--member", action="append", required=True, help="FAMILY=URI of a data=framing_real model")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-readme", action="store_true", help="print only; write neither JSON nor README")
    args = parser.parse_args()

    data = load_config(["data=framing_real"]).data
    real = load_splits(data)
    assert real.validation is not None and real.test is not None
    splits = {"validation": real.validation, "test": real.test}
    members: list[dict[str, Any]] = []
    labels: list[str] = []
    for spec in args.member:
        family, _, uri = spec.partition("=")
        model = load_model(uri, exact=True)
        model.news_media_labels = []  # the model's own probabilities; the requirement is applied to the mix
        labels = labels or model.labels
        if model.labels != labels or model.model.family != family:
            raise SystemExit(f"--member {spec}: a {model.model.family} model with labels {model.labels}")
        scores = {name: model.probabilities(list(split.texts)) for name, split in splits.items()}
        members.append({"family": family, "uri": uri, "scores": scores})
    truth = {name: split.label_matrix(labels) for name, split in splits.items()}
    groups = {name: np.asarray(split.groups) for name, split in splits.items()}
    masks = {name: open_labels(split.texts, labels, data.requires_news_media) for name, split in splits.items()}

    rows = []
    for name, parts in _candidates(members).items():
        found = _evaluate(parts, truth, groups, masks, labels, args.folds, args.seed)
        flags = found.pop("flags")
        reference = flags if not rows else rows[0]["flags"]
        found["gain"] = {
            split: _paired_gain(truth[split], reference[split], flags[split], groups[split], labels) for split in splits
        }
        rows.append({"candidate": name, "members": [m["uri"] for m in parts], "flags": flags, **found})
        print(f"{name}: validation (out of fold) {found['validation']['macro']:.3f}, test {found['test']['macro']:.3f}")
    for row in rows:
        del row["flags"]
    results = {"members": args.member, "folds": args.folds, "labels": labels, "rows": rows}
    save("ensembles", results, _section(results), not args.no_readme)


def _candidates(members: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Candidate name -> the members it averages."""
    transformers = [m for m in members if m["family"] == "transformer"]
    tfidf = [m for m in members if m["family"] == "tfidf"]
    out = {f"{m['family']} `{m['uri'].split('/')[1][:8]}`": [m] for m in members}
    if len(transformers) > 1:
        out[f"mean of {len(transformers)} transformers"] = transformers
    if transformers and tfidf:
        name = "transformer" if len(transformers) == 1 else f"mean of {len(transformers)} transformers"
        out[f"{name} + TF-IDF"] = [*transformers, tfidf[0]]
    return out


def _mix(parts: list[dict[str, Any]], split: str, weight: float) -> np.ndarray:
    """The transformers' mean, mixed with the TF-IDF member at ``weight`` when there is one."""
    transformers = [m["scores"][split] for m in parts if m["family"] == "transformer"]
    others = [m["scores"][split] for m in parts if m["family"] != "transformer"]
    if not transformers or not others:
        return np.mean([m["scores"][split] for m in parts], axis=0)
    return (1 - weight) * np.mean(transformers, axis=0) + weight * np.mean(others, axis=0)


def _tune(
    parts: list[dict[str, Any]], truth: np.ndarray, mask: np.ndarray, rows: np.ndarray
) -> tuple[float, np.ndarray]:
    """The mixing weight (macro-F1 at tuned thresholds) and the thresholds, from validation ``rows``."""
    from framing.thresholds import tune_thresholds

    mixed = len({m["family"] for m in parts}) > 1
    best: tuple[float, float, np.ndarray] | None = None
    for weight in WEIGHTS if mixed else (0.0,):
        probabilities = _mix(parts, "validation", weight)[rows] * mask[rows]
        thresholds = tune_thresholds(truth[rows], probabilities)
        score = f1_by_label(truth[rows], probabilities >= thresholds)["macro"]
        if best is None or score > best[0]:
            best = (score, weight, thresholds)
    assert best is not None
    return best[1], best[2]


def _evaluate(
    parts: list[dict[str, Any]],
    truth: dict[str, np.ndarray],
    groups: dict[str, np.ndarray],
    masks: dict[str, np.ndarray],
    labels: list[str],
    folds: int,
    seed: int,
) -> dict[str, Any]:
    from framing.results import metric_intervals

    validation = truth["validation"]
    articles = np.array(sorted(set(groups["validation"])))
    fold_of = dict(zip(articles, np.random.default_rng(seed).permutation(len(articles)) % folds, strict=True))
    fold = np.array([fold_of[g] for g in groups["validation"]])
    decided = np.zeros_like(validation, dtype=bool)
    weights = []
    for k in range(folds):
        weight, thresholds = _tune(parts, validation, masks["validation"], fold != k)
        weights.append(weight)
        held = fold == k
        decided[held] = (_mix(parts, "validation", weight)[held] * masks["validation"][held]) >= thresholds
    weight, thresholds = _tune(parts, validation, masks["validation"], np.ones(len(validation), dtype=bool))
    test = _mix(parts, "test", weight) * masks["test"]
    flags = test >= thresholds
    intervals = metric_intervals(truth["test"], flags, test, labels, list(groups["test"]))
    return {
        "weight": weight,
        "fold_weights": weights,
        "flags": {"validation": decided, "test": flags},
        "validation": f1_by_label(validation, decided),
        "test": {
            **f1_by_label(truth["test"], flags),
            "macro_interval": [intervals["f1_macro/ci_low"], intervals["f1_macro/ci_high"]],
            "media_interval": [intervals[f"{labels[0]}/f1/ci_low"], intervals[f"{labels[0]}/f1/ci_high"]],
        },
    }


def _paired_gain(
    truth: np.ndarray, reference: np.ndarray, flags: np.ndarray, groups: np.ndarray, labels: list[str]
) -> list[float]:
    """Macro-F1 of ``flags`` minus that of ``reference`` on the same rows, with its paired 95% interval.

    Both are scored on the same article resamples, so the interval is about the
    difference (the rows' errors are correlated), not two overlapping intervals.
    """
    from framing.results import count_metric_draws
    from framing.uncertainty import ClusterBootstrap, percentile_interval

    boot = ClusterBootstrap.over(list(groups))
    point = [_macro_f1(truth, decided, labels) for decided in (reference, flags)]
    draws = [count_metric_draws(truth, decided, labels, boot)["f1_macro"] for decided in (reference, flags)]
    low, high = percentile_interval(draws[1] - draws[0])
    return [point[1] - point[0], low, high]


def _macro_f1(truth: np.ndarray, flags: np.ndarray, labels: list[str]) -> float:
    from framing.results import confusion_counts, count_metrics

    counts = {kind: rows.sum(axis=0) for kind, rows in confusion_counts(truth, flags).items()}
    return float(count_metrics(counts["tp"], counts["fp"], counts["fn"], labels)["f1_macro"])


def _section(results: dict[str, Any]) -> str:
    labels = results["labels"]
    lines = [
        "## Ensembles on real text (`ensembles.py`)",
        "",
        "```",
        "python benchmarks/ensembles.py " + " ".join(f"--member {m}" for m in results["members"]),
        "```",
        "",
        f"{machine()}. Validation: out-of-fold decisions on the real validation split ({results['folds']} folds "
        "by article; the TF-IDF weight and the thresholds tuned on the other folds). Test: everything tuned on "
        "the whole validation split, for the record only; intervals are 95% bootstrap over articles. The "
        "news-media requirement applies to every candidate.",
        "",
        "| candidate | TF-IDF weight | validation macro-F1 (out of fold) | gain over the first row [95% CI] | "
        f"test macro-F1 [95% CI] | gain over the first row [95% CI] | test {labels[0]} F1 [95% CI] | "
        + " | ".join(f"{label} (validation / test)" for label in labels[1:])
        + " |",
        "|---|---|---|---|---|---|---|" + "---|" * (len(labels) - 1),
    ]
    for row in results["rows"]:
        v, t = row["validation"], row["test"]
        cells = [f"{v[str(j)]:.3f} / {t[str(j)]:.3f}" for j in range(1, len(labels))]
        lines.append(
            f"| {row['candidate']} | {row['weight']:.1f} | {v['macro']:.3f} | {_gain(row['gain']['validation'])} | "
            f"{t['macro']:.3f} [{t['macro_interval'][0]:.2f}, {t['macro_interval'][1]:.2f}] | "
            f"{_gain(row['gain']['test'])} | {t['0']:.3f} "
            f"[{t['media_interval'][0]:.2f}, {t['media_interval'][1]:.2f}] | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines) + "\n"


def _gain(gain: list[float]) -> str:
    return f"{gain[0]:+.3f} [{gain[1]:+.2f}, {gain[2]:+.2f}]"


if __name__ == "__main__":
    main()
