"""Real-text benchmark: model families x training data, scored on the real-text test split.

    python benchmarks/real_text.py [--runs tfidf:invented tfidf:real tfidf:both transformer:both ...]
        [--logged transformer:both=<run id> ...]

Every run is an ordinary ``train.py`` run with ``data=framing_real`` (real
validation for early stopping, thresholds and calibration); each run is
``family:training rows`` with rows ``both`` (real + invented), ``real`` or
``invented``. The default runs every TF-IDF variant and the transformer on
both (a transformer run takes about an hour on two CPU cores). The
table gives validation macro-F1 (what a choice between rows may look at) and
the real test split's precision/recall/F1 with 95% bootstrap intervals that
resample articles, plus the share of paragraphs each model flags per label on
the 400 unlabelled PTC articles that no annotation was drawn from.

``--logged FAMILY:TRAIN=RUN`` adds a row from a run already logged with
``data=framing_real`` (for example the shipped ``python train.py
data=framing_real model=transformer``, whose settings differ from the
benchmark's shorter transformer) instead of training it again.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import family_name, overrides, parser, save, table_head, use_datasets

TRAIN_FILES = {
    "both": "data/framing_real/train.jsonl",
    "real": "data/framing_real/train_real.jsonl",
    "invented": "data/framing_real/train_invented.jsonl",
}


def main() -> None:
    args = _arguments()
    from framing.config import load_config
    from framing.data.dataset import load_splits
    from framing.data.real_sources import ptc_paragraphs

    root = use_datasets(args.datasets)
    corpus = [u.text for u in ptc_paragraphs(root, folders=("unlabelled-articles",))]
    test = load_splits(load_config(["data=framing_real"]).data).test  # the same for every row
    assert test is not None
    sizes = {"test_rows": len(test), "test_articles": len(set(test.groups))}
    rows = [_run(*run.split(":"), args, corpus, sizes) for run in args.runs]
    rows += [_logged(*spec.split("="), corpus, sizes) for spec in args.logged]
    labels = rows[0]["labels"]
    section = _section(rows, labels, args, len(corpus))
    save("real_text", {"rows": rows, "unlabelled_paragraphs": len(corpus)}, section, not args.no_readme)


def _arguments() -> Any:
    result = parser(__doc__.splitlines()[0], "framing-real-text")
    runs = [f"{family}:{train}" for family in ("tfidf", "transformer") for train in TRAIN_FILES]
    default = ["tfidf:invented", "tfidf:real", "tfidf:both", "transformer:both"]
    result.add_argument("--runs", nargs="*", choices=runs, default=default, metavar="FAMILY:TRAIN")
    result.add_argument("--logged", action="append", default=[], metavar="FAMILY:TRAIN=RUN_ID")
    return result.parse_args()


def _run(family: str, train: str, args: Any, corpus: list[str], sizes: dict[str, int]) -> dict[str, Any]:
    from framing.config import load_config
    from framing.training import run_training

    config = load_config(["data=framing_real", f"data.train={TRAIN_FILES[train]}", *overrides(family, args)])
    result = run_training(config)  # logs test metrics with their article-bootstrap intervals
    return _row(family_name(family, args), family, train, result.run_id, result.metrics, corpus, sizes)


def _logged(run: str, run_id: str, corpus: list[str], sizes: dict[str, int]) -> dict[str, Any]:
    """A row from a logged ``data=framing_real`` run: its logged test metrics, its model's flag shares."""
    import mlflow

    family, train = run.split(":")
    metrics = dict(mlflow.tracking.MlflowClient().get_run(run_id).data.metrics)
    return _row(f"{family} (run `{run_id[:8]}`)", family, train, run_id, metrics, corpus, sizes)


def _row(
    label: str,
    family: str,
    train: str,
    run_id: str,
    metrics: dict[str, float],
    corpus: list[str],
    sizes: dict[str, int],
) -> dict[str, Any]:
    """One table row: the run's logged test metrics, and its model's flag shares on ``corpus``."""
    from framing import load_model

    model = load_model(f"runs:/{run_id}/model")
    shares = model.flags(model.probabilities(corpus)).mean(axis=0) if corpus else np.zeros(len(model.labels))
    return {
        "family": family,
        "label": label,
        "train": train,
        "run_id": run_id,
        "labels": model.labels,
        "validation_f1_macro": metrics.get("validation/tuned/f1_macro", float("nan")),
        **sizes,
        "test": _test_table(metrics, model.labels),
        "unlabelled_share": dict(zip(model.labels, map(float, shares), strict=True)),
    }


def _test_table(metrics: dict[str, float], labels: list[str]) -> list[dict[str, Any]]:
    """Per label (and macro F1): the run's logged test precision, recall and F1 with their intervals."""
    keys = {label: {m: f"test/tuned/{label}/{m}" for m in ("precision", "recall", "f1")} for label in labels}
    keys["(macro F1)"] = {"f1": "test/tuned/f1_macro"}
    nan = float("nan")
    rows = []
    for name, by_metric in keys.items():
        row: dict[str, Any] = {"label": name}
        for metric, key in by_metric.items():
            row[metric] = metrics.get(key, nan)
            row[f"{metric}_low"] = metrics.get(f"{key}/ci_low", nan)
            row[f"{metric}_high"] = metrics.get(f"{key}/ci_high", nan)
        rows.append(row)
    return rows


def _cell(row: dict[str, Any]) -> str:
    return f"{row['f1']:.3f} [{row['f1_low']:.2f}, {row['f1_high']:.2f}]"


def _section(rows: list[dict[str, Any]], labels: list[str], args: Any, n_corpus: int) -> str:
    columns = ["model", "train data", "validation macro-F1", "media_bias_claim P / R", *[f"{x} F1" for x in labels]]
    columns += ["macro-F1 [95% CI]"]
    lines = table_head(
        "Real-text test split",
        "make bench-real" if len(sys.argv) == 1 else "python benchmarks/real_text.py " + " ".join(sys.argv[1:]),
        f"Test: {rows[0]['test_rows']} real paragraphs from {rows[0]['test_articles']} articles "
        "(data/framing_real/README.md); F1 at thresholds tuned on the real validation split; "
        "intervals: 95% bootstrap over articles.",
        columns,
    )
    for row in rows:
        by_label = {r["label"]: r for r in row["test"]}
        media = by_label["media_bias_claim"]
        cells = [row["label"], row["train"], f"{row['validation_f1_macro']:.3f}"]
        cells.append(f"{media['precision']:.3f} / {media['recall']:.3f}")
        cells += [_cell(by_label[label]) for label in labels]
        cells.append(_cell(by_label["(macro F1)"]))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Share of the {n_corpus:,} paragraphs of the 400 unlabelled PTC articles flagged per label:", ""]
    lines += ["| model | train data | " + " | ".join(labels) + " |", "|" + "---|" * (len(labels) + 2)]
    for row in rows:
        shares = [f"{100 * row['unlabelled_share'][label]:.1f}%" for label in labels]
        lines.append(f"| {row['label']} | {row['train']} | " + " | ".join(shares) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
