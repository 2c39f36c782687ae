"""How many of a model's ``media_bias_claim`` flags on unseen real articles are claims? Every flag labelled.

    python predict.py --model runs:/<run>/model --input <datasets>/ptc-semeval2020/unlabelled-articles \\
        --output scores.parquet --evidence 0
    python benchmarks/flag_precision.py --model runs:/<run>/model --scores scores.parquet [--no-readme]

The 400 unlabelled PTC articles were never drawn into the annotations. Each
flag that ``predict.py`` raises among their body paragraphs (the model's own
thresholds and news-media requirement) must be in a blind census
(``benchmarks/data/flag_census_*.jsonl``: article, paragraph, text hash and
the label, given by an annotator who saw flagged and unflagged paragraphs
mixed, without knowing which was which); a flag missing from it stops the
benchmark rather than being guessed. The precision's 95% interval resamples
articles.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

from benchmarks._common import machine, save

CENSUS_DIR = Path(__file__).resolve().parent / "data"
LABEL = "media_bias_claim"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="the model that produced --scores")
    parser.add_argument("--scores", type=Path, required=True, help="predict.py output over the unlabelled articles")
    parser.add_argument("--no-readme", action="store_true", help="print only; write neither JSON nor README")
    args = parser.parse_args()
    results = {"model": args.model, **flag_precision(args.scores, _census())}
    print(json.dumps(results, indent=1))
    save("flag_precision", results, _section(results), not args.no_readme)


def _census() -> dict[tuple[str, int], dict[str, Any]]:
    census: dict[tuple[str, int], dict[str, Any]] = {}
    for path in sorted(CENSUS_DIR.glob("flag_census_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            census.setdefault((row["article_id"], int(row["paragraph"])), row)
    return census


def flag_precision(scores: Path, census: dict[tuple[str, int], dict[str, Any]]) -> dict[str, Any]:
    """The flags ``predict.py`` raised among the body paragraphs of ``scores``, and how many are claims."""
    frame = pd.read_parquet(scores)
    body = frame[frame["kind"] == "body"].reset_index(drop=True)
    flagged = body[body["labels"].map(lambda labels: LABEL in list(labels))]
    return {
        "body_paragraphs": len(body),
        "articles_scored": int(body["article_id"].nunique()),
        **census_precision(flagged, census, scores),
    }


def census_precision(
    flagged: pd.DataFrame, census: dict[tuple[str, int], dict[str, Any]], source: Path
) -> dict[str, Any]:
    """Claims among ``flagged`` (rows of a scores file) by the census, with a 95% interval over articles.

    A flagged paragraph missing from the census, or whose text hash differs,
    stops the benchmark: a guessed label would make the precision up.
    """
    from framing.uncertainty import ClusterBootstrap, percentile_interval

    claims, articles = [], []
    for row in flagged.itertuples():
        entry = census.get((row.article_id, int(row.paragraph)))
        digest = hashlib.sha256(row.text.encode("utf-8")).hexdigest()[:16]
        if entry is None or entry["text_sha256_16"] != digest:
            raise SystemExit(f"{source}: flag {row.article_id} paragraph {row.paragraph} is not in the census")
        claims.append(bool(entry["claim"]))
        articles.append(row.article_id)
    claim = np.array(claims, dtype=float)
    boot = ClusterBootstrap.over(articles)
    _, hits = boot.totals(claim)
    _, seen = boot.totals(np.ones(len(claim)))
    return {
        "flags": len(claim),
        "claims": int(claim.sum()),
        "precision": float(claim.mean()) if len(claim) else float("nan"),
        "interval": list(percentile_interval(hits / np.maximum(seen, 1))),
        "flagged_articles": int(boot.n_clusters),
        "articles_with_a_claim": len({a for a, c in zip(articles, claims, strict=True) if c}),
    }


def _section(results: dict[str, Any]) -> str:
    model = results["model"]
    share = 100 * results["flags"] / results["body_paragraphs"]
    interval = f"[{results['interval'][0]:.2f}, {results['interval'][1]:.2f}]"
    lines = [
        "## Every `media_bias_claim` flag on unseen real articles, labelled (`flag_precision.py`)",
        "",
        "```",
        f"python predict.py --model {model} --input <datasets>/ptc-semeval2020/unlabelled-articles "
        "--output scores.parquet --evidence 0",
        f"python benchmarks/flag_precision.py --model {model} --scores scores.parquet",
        "```",
        "",
        f"{machine()}. {results['body_paragraphs']:,} body paragraphs of {results['articles_scored']} "
        "articles; the flags are the model's own decisions (its thresholds and the news-media requirement).",
        "",
        "| model | flags (share of body paragraphs) | claims among them | precision [95% CI] | articles flagged | "
        "of which with a claim among their flags |",
        "|---|---|---|---|---|---|",
        f"| `{model.split('/')[1][:8]}` | {results['flags']} ({share:.1f}%) | {results['claims']} | "
        f"{results['precision']:.3f} {interval} | {results['flagged_articles']} | {results['articles_with_a_claim']} |",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
