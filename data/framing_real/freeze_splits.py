"""Freeze the real-text annotations into fixed train/validation/test files that hold no text.

Run from the repository root after ``framing annotate import``:

    python data/framing_real/freeze_splits.py --labelled labelled.jsonl --pool pool.jsonl

``labelled.jsonl`` is the output of ``framing annotate import`` (``id`` is the
unit id, ``labels``, ``annotators``, ``resolution``); ``pool.jsonl`` is the
output of ``build_pool.py`` (strata and sampling weights); ``--corrections``
takes the reviewed suspects of ``framing annotate check``. Splits are by
article, with exact and near copies (character 4-gram cosine >= 0.9) merged
into one group first, so no paragraph and its reprint straddle two splits.
Articles differ a lot in size (a Ukraine-crisis article holds up to 60
annotated sentences), so one shuffle can leave a split short of a label: the
seed is the one of ``SEEDS`` whose validation and test splits each come
closest to 20% of the rows and of every label's positives. Only label counts
choose it; no model is involved.

Round 2 annotated the rest of the Ukraine-crisis set, so its round-1 random
sample is part of a census and gets weight 1. The shipped invented paragraphs
(train and validation files) are appended to the training split by id; the
invented test file stays out.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from framing.data.real_sources import text_hash
from framing.data.splits import assign_group_splits, copy_groups

FRACTIONS = (0.6, 0.2, 0.2)
SEEDS = range(300)
OUT = Path("data/framing_real")
INVENTED = (Path("data/framing/train.jsonl"), Path("data/framing/validation.jsonl"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labelled", type=Path, required=True)
    parser.add_argument("--pool", type=Path, required=True)
    parser.add_argument(
        "--corrections", type=Path, help="review of framing annotate check's suspects: task, labels, changed"
    )
    args = parser.parse_args()
    pool = {row["unit_id"]: row for row in _read(args.pool)}
    labelled = _read(args.labelled)
    if args.corrections:
        fixes = {row["task"]: row["labels"] for row in _read(args.corrections) if row["changed"]}
        for row in labelled:
            if row["id"] in fixes:
                row["labels"], row["resolution"] = fixes[row["id"]], f"reviewed ({row['resolution']})"
        print(f"{len(fixes)} label set(s) corrected after review")
    missing = [row["id"] for row in labelled if row["id"] not in pool]
    if missing:
        raise SystemExit(f"{len(missing)} labelled ids are not in the pool, e.g. {missing[:3]}")
    units = [pool[row["id"]] for row in labelled]
    groups = copy_groups([u["text"] for u in units], [u["article_id"] for u in units], threshold=0.9)
    seed, splits = _balanced_split(groups, [row["labels"] for row in labelled])
    print(f"split seed {seed}")
    rows: dict[str, list[dict]] = {"train": [], "validation": [], "test": []}  # train_real, train_invented added
    for row, unit, split in zip(labelled, units, splits, strict=True):
        assert text_hash(unit["text"]) == unit["text_sha256_16"]
        rows[split].append(
            {
                "id": row["id"],
                "article_id": unit["article_id"],
                "text_sha256_16": unit["text_sha256_16"],
                "labels": sorted(row["labels"]),
                "stratum": unit["stratum"],
                "weight": 1.0 if unit["stratum"] == "random_ukraine" else unit["weight"],
                "resolution": row.get("resolution"),
                "annotators": row.get("annotators"),
            }
        )
    invented = [
        {"id": f"invented:{record['id']}", "labels": record["labels"], "stratum": "invented"}
        for path in INVENTED
        for record in _read(path)
    ]
    rows["train_real"] = rows["train"]
    rows["train_invented"] = invented
    rows["train"] = rows["train"] + invented
    for split, split_rows in rows.items():
        with open(OUT / f"{split}.jsonl", "w", encoding="utf-8") as handle:
            for row in split_rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        real = [r for r in split_rows if r["stratum"] != "invented"]
        counts = Counter(label for r in real for label in r["labels"])
        articles = len({r["article_id"] for r in real})
        print(
            f"{split}: {len(real)} real paragraphs from {articles} articles, labels {dict(sorted(counts.items()))}; "
            f"{len(split_rows) - len(real)} invented"
        )


def _balanced_split(groups: list[str], labels: list[list[str]]) -> tuple[int, list[str]]:
    totals = Counter(label for row in labels for label in row)
    best: tuple[float, int, list[str]] | None = None
    for seed in SEEDS:
        splits = assign_group_splits(groups, FRACTIONS, seed)
        rows = Counter(splits)
        positives = Counter((split, label) for split, row in zip(splits, labels, strict=True) for label in row)
        worst = max(
            [abs(rows[s] / len(splits) - FRACTIONS[i + 1]) for i, s in enumerate(("validation", "test"))]
            + [
                abs(positives[(s, label)] / totals[label] - FRACTIONS[i + 1])
                for i, s in enumerate(("validation", "test"))
                for label in totals
            ]
        )
        if best is None or worst < best[0]:
            best = (worst, seed, splits)
    assert best is not None
    return best[1], best[2]


def _read(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


if __name__ == "__main__":
    main()
