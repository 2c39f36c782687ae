"""Build the shipped splits from the hand-written articles in ``data/articles/``.

Each line of ``data/articles/*.jsonl`` is one article (id, outlet, date,
language, paragraphs with labels; the first paragraph is the title). This
script flattens them into paragraph rows, splits by article with a fixed seed,
checks that no paragraph is copied or nearly copied across splits, and prints
the counts that ``data/README.md`` reports.

    python data/build_dataset.py
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

from framing.config import DataConfig
from framing.data.dataset import load_splits
from framing.data.split_files import split_file
from framing.data.splits import check_no_cross_split_duplicates, normalise_text

HERE = Path(__file__).resolve().parent
LABELS = ["media_bias_claim", "foreign_hostility", "humanitarian", "security_threat", "diplomacy"]
MEDIA_WORDS = re.compile(
    r"\b(media|journalists?|journalism|reporters?|press|newspapers?|broadcast\w*|coverage|censor\w*|editors?|"
    r"editorial|outlets?|television|TV|news agenc\w+|correspondents?|tabloids?|headlines?|newsrooms?)\b",
    re.IGNORECASE,
)
SEED = 13
FRACTIONS = (0.7, 0.15, 0.15)


def paragraph_rows(article_files: list[Path]) -> list[dict[str, object]]:
    rows = []
    for file in article_files:
        for line_number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            article = json.loads(line)
            for index, paragraph in enumerate(article["paragraphs"]):
                unknown = set(paragraph["labels"]) - set(LABELS)
                if unknown:
                    sys.exit(f"{file}:{line_number}: unknown labels {unknown}")
                rows.append(
                    {
                        "id": f"{article['article_id']}-p{index:02d}",
                        "article_id": article["article_id"],
                        "paragraph": index,
                        "text": paragraph["text"].strip(),
                        "labels": paragraph["labels"],
                        "outlet": article["outlet"],
                        "date": article["date"],
                        "language": article["language"],
                    }
                )
    return rows


def drop_repeats(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Keep the first of paragraphs that are identical after normalisation.

    Scraped pages repeat boilerplate ("All news", "Read also"); one copy is
    enough to learn from, and copies in two splits would leak.
    """
    seen: set[str] = set()
    kept = []
    for row in rows:
        key = normalise_text(str(row["text"]))
        if key in seen:
            print(f"dropped repeated paragraph {row['id']}: {row['text']!r}")
            continue
        seen.add(key)
        kept.append(row)
    return kept


def main() -> None:
    rows = drop_repeats(paragraph_rows(sorted((HERE / "articles").glob("*.jsonl"))))
    output = HERE / "framing"
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "paragraphs.jsonl"
        table.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        split_file(table, output, "article_id", FRACTIONS, SEED)
    config = DataConfig(
        train=output / "train.jsonl", validation=output / "validation.jsonl", test=output / "test.jsonl", labels=LABELS
    )
    splits = load_splits(config)
    check_no_cross_split_duplicates(splits.all(), config.near_duplicate_threshold)

    years = sorted(str(r["date"])[:4] for r in rows)
    print(
        f"articles: {len({r['article_id'] for r in rows})}, paragraphs: {len(rows)}, "
        f"outlets: {len({r['outlet'] for r in rows})}, years: {years[0]}-{years[-1]}"
    )
    header = "| split | articles | paragraphs | " + " | ".join(LABELS) + " | no label | hard negatives |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for split in splits.all():
        counts = Counter(label for labels in split.labels for label in labels)
        no_label = sum(not labels for labels in split.labels)
        hard = sum(
            "media_bias_claim" not in labels and bool(MEDIA_WORDS.search(text))
            for text, labels in zip(split.texts, split.labels, strict=True)
        )
        cells = (
            [split.name, len(set(split.groups)), len(split)] + [counts[label] for label in LABELS] + [no_label, hard]
        )
        print("| " + " | ".join(str(c) for c in cells) + " |")
    claims = [
        t
        for t, ls in zip((r["text"] for r in rows), (r["labels"] for r in rows), strict=True)
        if "media_bias_claim" in ls
    ]
    with_bias = sum("bias" in str(text).lower() for text in claims)
    print(f"media_bias_claim paragraphs containing 'bias': {with_bias} of {len(claims)}")


if __name__ == "__main__":
    main()
