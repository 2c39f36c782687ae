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

A later round is added without moving a single frozen row (the test split
stays the test split):

    python data/framing_real/freeze_splits.py --extend --labelled labelled3.jsonl --pool pool3.jsonl \
        [--earlier-pool pool_all.jsonl]

Without ``--earlier-pool`` the frozen rows' text is read back from the datasets by unit id.

New rows that share an article or a (near) copy with a frozen row go to that
row's split; the other new groups are split 60/20/20 among themselves, with
the seed chosen the same way, and appended to the split files.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

from framing.data.real_sources import text_hash
from framing.data.splits import assign_group_splits, copy_groups

FRACTIONS = (0.6, 0.2, 0.2)
LEFT_OUT = "left out"
SEEDS = range(300)
OUT = Path("data/framing_real")
# invented paragraphs of the training split (data/README.md)
INVENTED = (Path("data/framing/train.jsonl"), Path("data/framing/validation.jsonl"))
# the contrast set (data/contrast/README.md): train_contrast.jsonl is train.jsonl plus these rows
CONTRAST = Path("data/contrast/contrast.jsonl")


def _is_invented(row: dict) -> bool:
    return str(row["id"]).startswith("invented:")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labelled", type=Path, required=True)
    parser.add_argument("--pool", type=Path, required=True)
    parser.add_argument(
        "--corrections", type=Path, help="review of framing annotate check's suspects: task, labels, changed"
    )
    parser.add_argument("--extend", action="store_true", help="append a later round; frozen rows stay put")
    parser.add_argument(
        "--earlier-pool",
        type=Path,
        help="with --extend: the pool(s) of the frozen rounds (default: their text read back by unit id)",
    )
    args = parser.parse_args()
    if args.extend:
        _extend(args)
        return
    pool = {row["unit_id"]: row for row in _read(args.pool)}
    labelled = _corrected(_read(args.labelled), args.corrections)
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
        frozen = _frozen_row(row, unit)
        if unit["stratum"] == "random_ukraine":
            frozen["weight"] = 1.0
        rows[split].append(frozen)
    invented = [row for path in INVENTED for row in _invented_references(path, "invented")]
    rows["train_real"] = rows["train"]
    rows["train_invented"] = invented
    rows["train"] = rows["train"] + invented
    rows["train_contrast"] = rows["train"] + _invented_references(CONTRAST, "contrast")
    for split, split_rows in rows.items():
        with open(OUT / f"{split}.jsonl", "w", encoding="utf-8") as handle:
            for row in split_rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        real = [r for r in split_rows if not _is_invented(r)]
        counts = Counter(label for r in real for label in r["labels"])
        articles = len({r["article_id"] for r in real})
        print(
            f"{split}: {len(real)} real paragraphs from {articles} articles, labels {dict(sorted(counts.items()))}; "
            f"{len(split_rows) - len(real)} invented"
        )


def _invented_references(path: Path, stratum: str) -> list[dict]:
    """Split rows pointing at the invented paragraphs of ``path`` by id (the adapter reads their text there)."""
    return [
        {"id": f"invented:{record['id']}", "labels": record["labels"], "stratum": stratum}
        | ({"resolution": record["resolution"]} if "resolution" in record else {})
        for record in _read(path)
    ]


def _corrected(labelled: list[dict], corrections: Path | None) -> list[dict]:
    """The labelled rows with the reviewer's corrections of ``framing annotate check``'s suspects applied."""
    if corrections:
        fixes = {row["task"]: row["labels"] for row in _read(corrections) if row["changed"]}
        for row in labelled:
            if row["id"] in fixes:
                row["labels"], row["resolution"] = fixes[row["id"]], f"reviewed ({row['resolution']})"
        print(f"{len(fixes)} label set(s) corrected after review")
    return labelled


def _frozen_row(row: dict, unit: dict) -> dict:
    return {
        "id": row["id"],
        "article_id": unit["article_id"],
        "text_sha256_16": unit["text_sha256_16"],
        "labels": sorted(row["labels"]),
        "stratum": unit["stratum"],
        "weight": unit["weight"],
        "resolution": row.get("resolution"),
        "annotators": row.get("annotators"),
    }


def _extend(args: argparse.Namespace) -> None:
    """Append a later round's rows to the frozen split files, leaving every frozen row where it is."""
    names = ("train", "train_contrast", "train_real", "validation", "test")
    frozen = {split: _read(OUT / f"{split}.jsonl") for split in names}
    frozen_split = {row["id"]: split for split in ("train_real", "validation", "test") for row in frozen[split]}
    if args.earlier_pool is not None:
        earlier = [row for row in _read(args.earlier_pool) if row["unit_id"] in frozen_split]
    else:
        earlier = _frozen_units([row for split in ("train_real", "validation", "test") for row in frozen[split]])
    pool = {row["unit_id"]: row for row in _read(args.pool)}
    labelled = [row for row in _corrected(_read(args.labelled), args.corrections) if row["id"] not in frozen_split]
    units = [pool[row["id"]] for row in labelled]
    for row, unit in zip(labelled, units, strict=True):
        assert text_hash(unit["text"]) == unit["text_sha256_16"], row["id"]
    texts = [u["text"] for u in earlier] + [u["text"] for u in units]
    groups = copy_groups(texts, [u["article_id"] for u in earlier + units], threshold=0.9)
    held_in: dict[str, set[str]] = defaultdict(set)
    for unit, group in zip(earlier, groups, strict=False):
        held_in[group].add("train" if frozen_split[unit["unit_id"]] == "train_real" else frozen_split[unit["unit_id"]])
    # a new row that is a near copy of a frozen row of another split joins two frozen articles in
    # different splits: its group's new rows can go to neither without a leak, so they are left out
    fixed = {group: next(iter(held)) if len(held) == 1 else LEFT_OUT for group, held in held_in.items()}
    new_groups = groups[len(earlier) :]
    free = [i for i, group in enumerate(new_groups) if group not in fixed]
    seed, free_splits = _balanced_split([new_groups[i] for i in free], [labelled[i]["labels"] for i in free])
    splits = [fixed.get(group, "") for group in new_groups]
    for i, split in zip(free, free_splits, strict=True):
        splits[i] = split
    joined = sum(1 for group in new_groups if fixed.get(group, LEFT_OUT) != LEFT_OUT)
    print(f"{joined} new rows joined the split of a frozen article or copy; split seed {seed}")
    new_rows = [_frozen_row(r, u) for r, u in zip(labelled, units, strict=True)]
    _write_extension(frozen, new_rows, splits)
    frozen_articles = {
        row["article_id"]: "train" if split == "train_real" else split
        for split in ("train_real", "validation", "test")
        for row in frozen[split]
    }
    while moved := _settle_copies(new_rows, splits, frozen_articles):
        print(f"moved {moved} new row(s) beside a near copy the training check finds in another split")
        _write_extension(frozen, new_rows, splits)
    left_out = [row["id"] for row, split in zip(new_rows, splits, strict=True) if split == LEFT_OUT]
    if left_out:
        print(f"left out {len(left_out)} row(s) joining a frozen article to a copy in another split: {left_out}")
    for split in ("train", "validation", "test"):
        added = [r for r, s in zip(new_rows, splits, strict=True) if s == split]
        counts = Counter(label for r in added for label in r["labels"])
        print(f"{split}: +{len(added)} rows, labels {dict(sorted(counts.items()))}")


def _frozen_units(frozen_rows: list[dict]) -> list[dict]:
    """The frozen rows' text read back from the user's copy of the datasets, when their pools are gone.

    The pools hold the text and live outside the repository, so they may be lost; the adapter's
    own resolver rebuilds the same units from the ids, and the hashes prove they are the same text.
    """
    from framing.data.real_sources import datasets_root, resolve_units

    units = resolve_units([row["id"] for row in frozen_rows], datasets_root())
    wrong = [
        row["id"]
        for row in frozen_rows
        if row["id"] not in units or units[row["id"]].text_hash != row["text_sha256_16"]
    ]
    if wrong:
        raise SystemExit(f"{len(wrong)} frozen units missing from the datasets or changed, e.g. {wrong[:3]}")
    return [
        {"unit_id": row["id"], "article_id": row["article_id"], "text": units[row["id"]].text} for row in frozen_rows
    ]


def _write_extension(frozen: dict[str, list[dict]], new_rows: list[dict], splits: list[str]) -> None:
    """The frozen rows as they were, the new rows of each split after them (in train, before the invented)."""
    for split, rows in frozen.items():
        target = "train" if split in ("train_real", "train_contrast") else split
        added = [r for r, s in zip(new_rows, splits, strict=True) if s == target]
        if split in ("train", "train_contrast"):
            real = [r for r in rows if not _is_invented(r)]
            rows = real + added + [r for r in rows if _is_invented(r)]
        else:
            rows = rows + added
        with open(OUT / f"{split}.jsonl", "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _settle_copies(new_rows: list[dict], splits: list[str], frozen_articles: dict[str, str]) -> int:
    """Move new rows (with their article) to the split of a near copy found by the check training runs.

    The copy groups above compare the two rounds' units among themselves; the
    training check compares the split files' texts with the invented rows
    included, so a pair close to the threshold can differ. This applies the
    training check itself and moves the new side of each pair found.
    """
    from framing.config import load_config
    from framing.data.dataset import load_splits
    from framing.data.splits import find_cross_split_duplicates

    data = load_config(["data=framing_real"]).data
    index = {row["id"]: i for i, row in enumerate(new_rows)}
    moved = 0
    for pair in find_cross_split_duplicates(load_splits(data).all(), data.near_duplicate_threshold):
        ends = [(pair.left_split, pair.left_id), (pair.right_split, pair.right_id)]
        new = [(split, row_id) for split, row_id in ends if row_id in index]
        if not new:
            raise SystemExit(f"frozen rows {pair.left_id} and {pair.right_id} are copies across splits")
        target = next((split for split, row_id in ends if row_id not in index), ends[0][0])
        article = new_rows[index[new[-1][1]]]["article_id"]
        held = frozen_articles.get(article, target)
        for i, row in enumerate(new_rows):
            if row["article_id"] == article and splits[i] != (target if held == target else LEFT_OUT):
                # an article frozen in one split whose new rows copy a frozen row of another would join
                # the two: its new rows are left out, named in the output, rather than leak
                splits[i] = target if held == target else LEFT_OUT
                moved += 1
    return moved


def _balanced_split(groups: list[str], labels: list[list[str]]) -> tuple[int | None, list[str]]:
    if not groups:  # a round drawn from frozen articles only (round 5) has nothing to split
        return None, []
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
