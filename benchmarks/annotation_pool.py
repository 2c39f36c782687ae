"""What the public datasets still hold for annotation, and how many ``media_bias_claim`` rows it would likely add.

    python benchmarks/annotation_pool.py [--datasets DIR] [--no-readme]

The learning curve (``learning_curve.py``) says how many annotated real rows a
target would need; this says how many the datasets can still give. Every unit
of the four datasets is put in one of three states: annotated (its id is in a
split file), a copy (its normalised text equals an earlier unit's: annotating
it adds nothing), or open. Open units are counted by source, by how they
refer to the news media (a media word of the sampling plan's census,
``build_pool.MEDIA_WORDS``; only the broader reference a ``media_bias_claim``
needs, ``framing.mentions``; none), and by where their article sits: in a training-split article (can be
added without touching the frozen validation and test splits), in a
validation or test article, or in no split (the 400 unlabelled PTC articles,
kept unseen for the flag-share measures).

The expected claims apply, per reference state, the share of claims among the
annotated units of that state (a Wilson 95% interval beside it). The annotated
units were not drawn at random from every state (the media-word census is
whole, the rest a sample), so this is a guide to the order of magnitude.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import ROOT, real_text_options, save, table_head, use_datasets

SPLIT_FILES = {
    "train": ROOT / "data" / "framing_real" / "train_real.jsonl",
    "validation": ROOT / "data" / "framing_real" / "validation.jsonl",
    "test": ROOT / "data" / "framing_real" / "test.jsonl",
}
CLAIM = "media_bias_claim"
STATES = ("media word", "other reference", "none")


@dataclass(frozen=True)
class Annotated:
    """An annotated unit as the split files hold it: its split, article and labels."""

    split: str
    article_id: str
    labels: tuple[str, ...]


def read_annotations(files: Mapping[str, Path]) -> dict[str, Annotated]:
    """Unit id -> its annotation, from every split file."""
    found: dict[str, Annotated] = {}
    for split, path in files.items():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                found[row["id"]] = Annotated(split, row["article_id"], tuple(row["labels"]))
    return found


def reference(text: str) -> str:
    """How ``text`` refers to the news media: ``media word`` (the census lexicon), ``other reference``, ``none``."""
    from framing.mentions import mentions_news_media

    if census_lexicon().search(text):
        return "media word"
    return "other reference" if mentions_news_media(text) else "none"


def census_lexicon() -> re.Pattern[str]:
    """The media words of the annotation's sampling plan (``data/framing_real/build_pool.py``)."""
    folder = str(ROOT / "data" / "framing_real")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    from build_pool import MEDIA_WORDS

    return MEDIA_WORDS


def census(units: Iterable[Any], annotated: Mapping[str, Annotated], annotated_texts: Iterable[str]) -> dict[str, Any]:
    """Counts of open units, and of claims among annotated ones, by source, reference state and split.

    ``units`` are ``TextUnit``-like (``unit_id``, ``source``, ``article_id``,
    ``text``) in reading order; ``annotated_texts`` are the annotated units'
    texts, so a copy of one is never counted as open.
    """
    from framing.data.dedup import normalise_text

    split_of_article = {a.article_id: a.split for a in annotated.values()}
    seen = {normalise_text(text) for text in annotated_texts}
    open_units: Counter[tuple[str, str, str]] = Counter()
    claims: Counter[tuple[str, bool]] = Counter()  # (reference state, is a claim)
    copies = 0
    for unit in units:
        state = reference(unit.text)
        if unit.unit_id in annotated:
            claims[(state, CLAIM in annotated[unit.unit_id].labels)] += 1
            continue
        key = normalise_text(unit.text)
        if not key or key in seen:
            copies += 1
            continue
        seen.add(key)
        open_units[(unit.source.split("/")[0], state, split_of_article.get(unit.article_id, "none"))] += 1
    return {
        "open": [{"source": s, "reference": r, "split": p, "units": n} for (s, r, p), n in sorted(open_units.items())],
        "annotated": {
            state: {"units": claims[(state, True)] + claims[(state, False)], "claims": claims[(state, True)]}
            for state in STATES
        },
        "copies": copies,
    }


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion (sound at rates near 0, where the normal one is not)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def main() -> None:
    from framing.data.real_sources import (
        babe_sentences,
        mbic_paragraphs,
        ptc_paragraphs,
        resolve_units,
        ukraine_sentences,
    )

    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    real_text_options(arguments)
    args = arguments.parse_args()
    root = use_datasets(args.datasets)
    annotated = read_annotations(SPLIT_FILES)
    texts = [u.text for u in resolve_units(sorted(annotated), root).values()]
    units = [
        *ptc_paragraphs(root, folders=("train-articles", "dev-articles", "unlabelled-articles")),
        *babe_sentences(root),
        *ukraine_sentences(root),
        *mbic_paragraphs(root),
    ]
    results = census(units, annotated, texts)
    save("annotation_pool", results, _section(results), not args.no_readme)


def _section(results: dict[str, Any]) -> str:
    rates = {}
    for state in STATES:
        seen = results["annotated"][state]
        low, high = wilson(seen["claims"], seen["units"])
        rates[state] = (seen["claims"] / max(seen["units"], 1), low, high)
    columns = ["source", "article's split"] + [f"open, {state} (expected claims)" for state in STATES]
    lines = table_head(
        "What the datasets still hold for annotation (`annotation_pool.py`)",
        "python benchmarks/annotation_pool.py",
        "Open units (not annotated, not a copy of an earlier unit) by source, by how they refer to the news media "
        "and by the split of their article. Expected claims (95% interval) at the share of claims among the "
        f"annotated units of the same state: {_rate_text(results, rates)}.",
        columns,
    )
    by_place: dict[tuple[str, str], dict[str, int]] = {}
    for row in results["open"]:
        by_place.setdefault((row["source"], row["split"]), {})[row["reference"]] = row["units"]
    totals = dict.fromkeys(STATES, 0)
    for (source, split), counts in sorted(by_place.items()):
        cells = [source, split]
        for state in STATES:
            totals[state] += counts.get(state, 0)
            cells.append(_expected(counts.get(state, 0), rates[state]))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("| **all** | | " + " | ".join(f"**{_expected(totals[s], rates[s])}**" for s in STATES) + " |")
    lines += ["", f"Copies of annotated or earlier units, left out: {results['copies']:,}."]
    return "\n".join(lines) + "\n"


def _rate_text(results: dict[str, Any], rates: dict[str, tuple[float, float, float]]) -> str:
    parts = []
    for state in STATES:
        seen = results["annotated"][state]
        rate, low, high = rates[state]
        parts.append(f"{state} {seen['claims']} of {seen['units']:,} ({rate:.1%} [{low:.1%}, {high:.1%}])")
    return "; ".join(parts)


def _expected(n: int, rate: tuple[float, float, float]) -> str:
    return f"{n:,} ({n * rate[0]:,.0f} [{n * rate[1]:,.0f}, {n * rate[2]:,.0f}])"


if __name__ == "__main__":
    main()
