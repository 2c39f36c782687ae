"""Ukraine-crisis news bias (Färber et al., CIKM 2020): bias and framing, 5-fold CV grouped by article.

    python benchmarks/ukraine_cv.py              # TF-IDF and the transformer (make bench-ukraine)

Protocol: the 2,057 crowd-labelled sentences of the 90 articles, two labels at
once (multi-label): ``bias`` and ``framing``, as the authors binarised them
(their CSVs). Folds are grouped by article, merged with exact and near copies,
so no article has sentences on both sides. Each training part gives 10% of its
groups to validation, where the per-label thresholds are tuned. Both labels are
rare (bias 16.5%, framing 8.0%), so PR-AUC is reported beside F1; the paper
gives no sentence-level classifier numbers under this protocol to compare with.
"""

from __future__ import annotations

import _common

from framing.crossval import add_leakage_groups
from framing.data.adapters import load_adapter

NAME = "ukraine_cv"
LABELS = ["bias", "framing"]


def main() -> None:
    args = _common.parser(__doc__.splitlines()[0], "bench-ukraine").parse_args()
    path = _common.dataset_path(args.datasets, "ukraine-news-bias")
    frame, counts = load_adapter("ukraine", path, tasks=LABELS)
    print(counts.summary())
    data = add_leakage_groups(frame, threshold=0.9, group_column="article_id")
    rows = [
        _common.cross_validate(
            data,
            family,
            args,
            benchmark=NAME,
            title="ukraine",
            grouping="article",
            labels=LABELS,
            task="multilabel",
            work_dir=args.work_dir / NAME,
        )
        for family in args.families
    ]
    positives = {label: int(frame["labels"].map(lambda labels, name=label: name in labels).sum()) for label in LABELS}
    source = f"{counts.summary()}; positives: " + ", ".join(f"{k} {v}" for k, v in positives.items())
    _common.save(NAME, {"source": source, "rows": rows}, table(rows, source), not args.no_readme)


def table(rows: list[dict], source: str) -> str:
    lines = _common.table_head(
        "Ukraine-crisis news bias, 5-fold cross-validation by article (`ukraine_cv.py`)",
        "make bench-ukraine",
        f"Data: {source}. Multi-label, thresholds tuned per label on each fold's validation part. "
        "Mean ± standard deviation over the 5 test folds.",
        ["model", "label", "F1", "precision", "recall", "PR-AUC", "train s / fold", "MLflow parent run"],
    )
    for row in rows:
        mean, std = row["mean"], row["std"]
        for label in LABELS:
            lines.append(
                f"| {row['label']} | {label} | {_common.mean_std(mean, std, f'{label}/f1')} | "
                f"{_common.mean_std(mean, std, f'{label}/precision')} | "
                f"{_common.mean_std(mean, std, f'{label}/recall')} | "
                f"{_common.mean_std(mean, std, f'{label}/pr_auc')} | "
                f"{mean.get('train/seconds', float('nan')):.0f} | `{row['parent_run_id']}` |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
