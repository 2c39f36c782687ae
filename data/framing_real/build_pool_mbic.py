"""Rounds 3 and 4 of the real-text pool: paragraphs of the MBIC source articles (2019-2020, eight US outlets).

    python data/framing_real/build_pool_mbic.py --exclude pool_all.jsonl --output pool3.jsonl [--seed 3]
    python data/framing_real/build_pool_mbic.py --rest --exclude pool_all.jsonl --exclude pool3.jsonl \
        --output pool4.jsonl

Rounds 1 and 2 (``build_pool.py``) drew on 2014 and 2017-2019 text made mostly of
one-sentence units. MBIC ships the full text of the 919 articles its sentences
come from: multi-sentence paragraphs from 2019-2020 (COVID-19, the 2020
election, environment, immigration and ten more topics) and outlets the other
sets barely hold (Reuters, USA Today, MSNBC, Fox News, Breitbart, AlterNet,
The Federalist). Sampling plan:

- the articles are a simple random sample of ``ARTICLE_SHARE`` of the distinct
  articles (the annotation budget of one round), so every estimate reweights
  by ``1 / ARTICLE_SHARE``;
- ``mbic_media``: every paragraph of those articles that uses a media word
  (``MEDIA_WORDS``, as in round 1: the claims and the hard negatives live
  there). Weight ``1 / ARTICLE_SHARE``;
- ``mbic_random``: a simple random sample of ``RANDOM_SIZE`` of their other
  paragraphs, at most ``MAX_RANDOM_PER_ARTICLE`` per article, for the other
  labels and unbiased shares. Weight = stratum size / sample size / ``ARTICLE_SHARE``.

Round 4 (``--rest``) takes the articles round 3 did not draw (the same seed
redraws round 3's sample, and the rest is its complement) with the same two
strata, ``mbic_media_rest`` and ``mbic_random_rest`` (``RANDOM_SIZE_REST``).
Each round is a random sample of the articles on its own, weighted by the
share it holds; the two together hold every article, so a corpus estimate over
both rounds halves neither: it uses each media row once (weight 1) and the
random rows at their stratum size / sample size.

Only paragraphs of at least ``MIN_WORDS`` words are taken: shorter lines of
these scraped pages are mostly bylines, captions and links to other stories.
A paragraph whose normalised text equals a unit of an earlier round
(``--exclude``) or of this one is taken once. The output holds the text and
stays outside the repository.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from pathlib import Path

from build_pool import MEDIA_WORDS, _row

from framing.data.dedup import normalise_text
from framing.data.real_sources import datasets_root, mbic_paragraphs

ARTICLE_SHARE = 0.55
RANDOM_SIZE = 250
RANDOM_SIZE_REST = 200
MAX_RANDOM_PER_ARTICLE = 2
MIN_WORDS = 6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exclude", type=Path, action="append", default=[], help="pool files of earlier rounds")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--rest", action="store_true", help="round 4: the articles round 3 (same seed) did not draw")
    parser.add_argument("--datasets", default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    taken_keys: set[str] = set()
    for path in args.exclude:
        with open(path, encoding="utf-8") as handle:
            taken_keys |= {normalise_text(json.loads(line)["text"]) for line in handle}
    by_article: dict[str, list] = defaultdict(list)
    for unit in mbic_paragraphs(datasets_root(args.datasets)):
        by_article[unit.article_id].append(unit)
    articles = sorted(by_article)
    chosen_articles = sorted(rng.sample(articles, round(ARTICLE_SHARE * len(articles))))
    suffix, random_size = "", RANDOM_SIZE
    if args.rest:
        drawn = set(chosen_articles)
        chosen_articles = [article for article in articles if article not in drawn]
        suffix, random_size = "_rest", RANDOM_SIZE_REST
    share = len(chosen_articles) / len(articles)

    media, rest = [], []
    for article in chosen_articles:
        for unit in by_article[article]:
            key = normalise_text(unit.text)
            if len(unit.text.split()) < MIN_WORDS or key in taken_keys:
                continue
            taken_keys.add(key)
            (media if MEDIA_WORDS.search(unit.text) else rest).append(unit)
    rng.shuffle(rest)
    per_article: dict[str, int] = defaultdict(int)
    sample = []
    for unit in rest:
        if len(sample) == random_size:
            break
        if per_article[unit.article_id] < MAX_RANDOM_PER_ARTICLE:
            per_article[unit.article_id] += 1
            sample.append(unit)
    rows = [_row(u, f"mbic_media{suffix}", 1 / share) for u in media]
    rows += [_row(u, f"mbic_random{suffix}", len(rest) / len(sample) / share) for u in sample]
    with open(args.output, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(
        f"{len(chosen_articles)} of {len(articles)} articles; mbic_media {len(media)}, "
        f"mbic_random {len(sample)} of {len(rest)} -> {args.output}"
    )


if __name__ == "__main__":
    main()
