"""The sampling plan of the real-text annotations: which real paragraphs were chosen, and why.

Run from the repository root:

    python data/framing_real/build_pool.py --model URI --output /path/outside/repo/pool.jsonl

Strata (seed 2026, units from ``framing.data.real_sources``; exact copies after
text normalisation are kept once):

- ``media``: a census of every PTC paragraph (train and dev articles) and every
  BABE sentence that uses a media word (``MEDIA_WORDS``). Claims and the hard
  negatives live here. Weight 1.
- ``random_ptc``: a simple random sample of the other PTC paragraphs (at most 3
  per article). Weight = stratum size / sample size.
- ``random_ukraine``: a simple random sample of the other Ukraine-crisis sentences.
- ``uncertainty``: from what is left of PTC and Ukraine, the units whose
  probability under the shipped model (``--model``) lies closest to a label's
  threshold. Not a probability sample: weight 0 in corpus estimates.

Round 2 (``--round 2 --exclude round1.jsonl``), after a first model trained on
the round-1 labels (``--model``):

- ``ukraine_rest``: every Ukraine-crisis sentence round 1 did not take, so the
  Ukraine set is annotated whole (a census: weight 1 with ``random_ukraine``
  reweighted to 1 as well);
- ``uncertainty_2``: the 500 remaining PTC paragraphs closest to a threshold
  of that model (weight 0), for the rarer labels.

Round 5 (``--round 5``), after the round-4 model (``--model``), where its
errors on unseen real articles were: confident ``media_bias_claim`` flags on
paragraphs that accuse something other than the news media, or nothing.

- ``flagged_5``: every PTC paragraph not yet annotated, in an article frozen in
  the training split, that the model flags ``media_bias_claim``;
- ``uncertainty_5``: the next least certain such paragraphs (the annotation
  sampler's score over all labels), up to ``ROUND_FIVE_SIZE`` in all.

Both are weight 0 (chosen by a model). Only training-split articles are drawn,
so the frozen validation and test splits stay exactly as they are and the
test split's numbers stay comparable across rounds.

Round 6 (``--round 6``, no model): a model decides ``media_bias_claim`` only
for paragraphs that refer to the news media (``framing.mentions``), a broader
reference than the census's ``MEDIA_WORDS`` (outlet names, "reported",
"stories", "networks" ...), and on unseen articles its false flags sit there.

- ``news_media_6``: every unannotated unit of at least ``MIN_WORDS`` words, in
  an article frozen in the training split (PTC, BABE or MBIC), that refers to
  the news media. A census: weight 1. After it, every such unit of the
  training split is annotated.

The output holds the text and therefore stays outside the repository; the
repository keeps only unit ids, hashes, strata, weights and labels.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from framing import load_model
from framing.annotate.sample import uncertainty
from framing.data.dedup import normalise_text
from framing.data.real_sources import (
    all_units,
    babe_sentences,
    datasets_root,
    ptc_paragraphs,
    resolve_units,
    ukraine_sentences,
)
from framing.mentions import mentions_news_media

MEDIA_WORDS = re.compile(
    r"\b(media|press|journalis\w*|reporters?|newspapers?|outlets?|broadcast\w*|television|tv|tabloids?|"
    r"pundits?|editorials?|columnists?|coverage|headlines?|propaganda|fake news|cnn|msnbc|fox news|bbc|nbc|"
    r"abc news|cbs|new york times|washington post|nyt|reuters|associated press|guardian|newsrooms?|"
    r"correspondents?|anchors?)\b",
    re.IGNORECASE,
)
FROZEN = Path("data/framing_real")
SIZES = {"random_ptc": 700, "random_ukraine": 450, "uncertainty": 350}
MAX_RANDOM_PER_ARTICLE = 3
ROUND_FIVE_SIZE = 400
MIN_WORDS = 6  # shorter lines are bylines, captions and credits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="rounds 1, 2 and 5: the model whose scores pick the model-chosen strata")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--round", type=int, choices=(1, 2, 5, 6), default=1)
    parser.add_argument("--exclude", type=Path, help="round 2: the round-1 pool")
    args = parser.parse_args()
    if args.round == 6:
        _round_six(args)
        return
    if not args.model:
        parser.error(f"round {args.round} needs --model")
    if args.round == 2:
        _round_two(args)
        return
    if args.round == 5:
        _round_five(args)
        return
    rng = random.Random(args.seed)
    root = datasets_root()

    seen: set[str] = set()
    pools: dict[str, list] = defaultdict(list)
    for unit in [*ptc_paragraphs(root), *babe_sentences(root), *ukraine_sentences(root)]:
        key = normalise_text(unit.text)
        if not key or key in seen:
            continue
        seen.add(key)
        if unit.source.startswith("ptc") or unit.source == "babe":
            if MEDIA_WORDS.search(unit.text):
                pools["media"].append(unit)
            elif unit.source.startswith("ptc"):
                pools["rest_ptc"].append(unit)
        else:
            pools["rest_ukraine"].append(unit)

    chosen: list[dict] = [_row(u, "media", 1.0) for u in pools["media"]]
    taken_ids: set[str] = {u.unit_id for u in pools["media"]}

    shuffled = pools["rest_ptc"][:]
    rng.shuffle(shuffled)
    per_article: Counter[str] = Counter()
    sample = []
    for unit in shuffled:
        if len(sample) == SIZES["random_ptc"]:
            break
        if per_article[unit.article_id] < MAX_RANDOM_PER_ARTICLE:
            per_article[unit.article_id] += 1
            sample.append(unit)
    weight = len(pools["rest_ptc"]) / len(sample)
    chosen += [_row(u, "random_ptc", weight) for u in sample]
    taken_ids |= {u.unit_id for u in sample}

    sample = rng.sample(pools["rest_ukraine"], SIZES["random_ukraine"])
    weight = len(pools["rest_ukraine"]) / len(sample)
    chosen += [_row(u, "random_ukraine", weight) for u in sample]
    taken_ids |= {u.unit_id for u in sample}

    rest = [u for u in pools["rest_ptc"] + pools["rest_ukraine"] if u.unit_id not in taken_ids]
    chosen += [_row(u, "uncertainty", 0.0) for u in _least_certain(args.model, rest, SIZES["uncertainty"])]

    _write(args.output, chosen)
    sizes = Counter(row["stratum"] for row in chosen)
    print(
        f"pool sizes: media={len(pools['media'])} rest_ptc={len(pools['rest_ptc'])} "
        f"rest_ukraine={len(pools['rest_ukraine'])}; chosen: {dict(sizes)}, total {len(chosen)}"
    )


def _round_two(args: argparse.Namespace) -> None:
    with open(args.exclude, encoding="utf-8") as handle:
        taken = [json.loads(line) for line in handle]
    taken_keys = {normalise_text(row["text"]) for row in taken}
    root = datasets_root()
    rest_ptc, rest_ukraine = [], []
    for unit in [*ptc_paragraphs(root), *ukraine_sentences(root)]:
        key = normalise_text(unit.text)
        if not key or key in taken_keys:
            continue
        taken_keys.add(key)
        (rest_ukraine if unit.source == "ukraine" else rest_ptc).append(unit)
    chosen = [_row(u, "ukraine_rest", 1.0) for u in rest_ukraine]
    chosen += [_row(u, "uncertainty_2", 0.0) for u in _least_certain(args.model, rest_ptc, 500)]
    _write(args.output, chosen)
    print(f"round 2: ukraine_rest={len(rest_ukraine)} uncertainty_2=500 (of {len(rest_ptc)}), total {len(chosen)}")


def _round_five(args: argparse.Namespace) -> None:
    """The model's flags and least certain paragraphs among the unannotated ones of training-split PTC articles."""
    root = datasets_root()
    train_ids = _ids(FROZEN / "train_real.jsonl")
    frozen_ids = train_ids | _ids(FROZEN / "validation.jsonl") | _ids(FROZEN / "test.jsonl")
    train_articles = {unit_id.rsplit(":", 1)[0] for unit_id in train_ids if unit_id.startswith("ptc:")}
    frozen_units = resolve_units(sorted(frozen_ids), root)
    taken_keys = {normalise_text(unit.text) for unit in frozen_units.values()}
    candidates = []
    for unit in ptc_paragraphs(root):
        key = normalise_text(unit.text)
        if not key or key in taken_keys or unit.article_id not in train_articles:
            continue
        taken_keys.add(key)
        candidates.append(unit)
    frame, thresholds = _scores(args.model, candidates)
    flagged = np.flatnonzero(frame["p_media_bias_claim"].to_numpy() >= thresholds["media_bias_claim"]).tolist()
    score = uncertainty(frame, list(thresholds), thresholds)
    flagged_set = set(flagged)
    rest = [int(i) for i in np.argsort(score, kind="stable") if int(i) not in flagged_set]
    fill = rest[: max(0, ROUND_FIVE_SIZE - len(flagged))]
    chosen = [_row(candidates[i], "flagged_5", 0.0) for i in flagged]
    chosen += [_row(candidates[i], "uncertainty_5", 0.0) for i in fill]
    _write(args.output, chosen)
    print(
        f"round 5: {len(candidates)} unannotated paragraphs of {len(train_articles)} training-split articles; "
        f"flagged_5={len(flagged)} uncertainty_5={len(fill)}, total {len(chosen)}"
    )


def _round_six(args: argparse.Namespace) -> None:
    """Every unannotated unit of a training-split article that refers to the news media (no model involved)."""
    root = datasets_root()
    train_rows = _rows(FROZEN / "train_real.jsonl")
    frozen_ids = {row["id"] for row in train_rows} | _ids(FROZEN / "validation.jsonl") | _ids(FROZEN / "test.jsonl")
    train_articles = {row["article_id"] for row in train_rows}
    taken_keys = {normalise_text(unit.text) for unit in resolve_units(sorted(frozen_ids), root).values()}
    chosen, short = [], 0
    for unit in all_units(root):
        key = normalise_text(unit.text)
        if not key or key in taken_keys or unit.article_id not in train_articles:
            continue
        taken_keys.add(key)
        if not mentions_news_media(unit.text):
            continue
        if len(unit.text.split()) < MIN_WORDS:
            short += 1
            continue
        chosen.append(_row(unit, "news_media_6", 1.0))
    _write(args.output, chosen)
    by_source = Counter(row["source"].split("/")[0] for row in chosen)
    print(f"round 6: news_media_6={len(chosen)} {dict(by_source)} ({short} shorter than {MIN_WORDS} words left out)")


def _rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _ids(path: Path) -> set[str]:
    return {row["id"] for row in _rows(path)}


def _least_certain(model_uri: str, units: list, n: int) -> list:
    """The ``n`` units the model is least sure of, by the annotation sampler's own uncertainty score."""
    frame, thresholds = _scores(model_uri, units)
    score = uncertainty(frame, list(thresholds), thresholds)
    return [units[i] for i in np.argsort(score, kind="stable")[:n]]


def _scores(model_uri: str, units: list) -> tuple[pd.DataFrame, dict[str, float]]:
    """The model's scores of the units, and its decision threshold per label (0.5 where it logged none)."""
    model = load_model(model_uri)
    frame = model.predict([u.text for u in units])
    thresholds = model.thresholds if model.thresholds is not None else np.full(len(model.labels), 0.5)
    return frame, dict(zip(model.labels, map(float, thresholds), strict=True))


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _row(unit, stratum: str, weight: float) -> dict:
    return {
        "unit_id": unit.unit_id,
        "article_id": unit.article_id,
        "source": unit.source,
        "text_sha256_16": unit.text_hash,
        "stratum": stratum,
        "weight": weight,
        "text": unit.text,
    }


if __name__ == "__main__":
    main()
