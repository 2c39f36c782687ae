"""How many of a model's ``media_bias_claim`` flags on unseen real articles are claims? Every flag labelled.

    python predict.py --model runs:/<run>/model --input <datasets>/ptc-semeval2020/unlabelled-articles \\
        --output scores.parquet --evidence 0
    python benchmarks/flag_precision.py --model runs:/<run>/model --scores scores.parquet [--cut-offs 0.8 0.9]
        [--against runs:/<earlier run>/model=earlier_scores.parquet] [--no-readme]

The 400 unlabelled PTC articles were never drawn into the annotations. Each
flag that ``predict.py`` raises among their body paragraphs (the model's own
thresholds and news-media requirement) must be in a blind census
(``benchmarks/data/flag_census_*.jsonl``: article, paragraph, text hash and
the label, given by an annotator who saw flagged and unflagged paragraphs
mixed, without knowing which was which); a flag missing from it stops the
benchmark rather than being guessed. The precision's 95% interval resamples
articles. ``--cut-offs`` adds a row per stricter probability cut-off: its
flags are among the model's own, so the same census labels them all.
``--against`` adds an earlier model's row over the same articles and the
paired difference (this model minus that one) of precision, claims and false
flags, resampling the articles both scored.
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
    parser.add_argument(
        "--cut-offs", type=float, nargs="*", default=[], help="also count the flags with p >= each of these"
    )
    parser.add_argument(
        "--against", metavar="MODEL=SCORES", help="an earlier model and its scores over the same articles"
    )
    parser.add_argument("--no-readme", action="store_true", help="print only; write neither JSON nor README")
    args = parser.parse_args()
    census = _census()
    results = {"model": args.model, **flag_precision(args.scores, census, args.cut_offs)}
    if args.against:
        model, _, scores = args.against.partition("=")
        if not scores:
            raise SystemExit(f"--against {args.against!r}: expected MODEL=SCORES")
        results["against"] = {"model": model, **flag_precision(Path(scores), census)}
        results["difference"] = paired_difference(args.scores, Path(scores), census)
    print(json.dumps(results, indent=1))
    save("flag_precision", results, _section(results), not args.no_readme)


def _census() -> dict[tuple[str, int], dict[str, Any]]:
    census: dict[tuple[str, int], dict[str, Any]] = {}
    for path in sorted(CENSUS_DIR.glob("flag_census_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            census.setdefault((row["article_id"], int(row["paragraph"])), row)
    return census


def flag_precision(
    scores: Path, census: dict[tuple[str, int], dict[str, Any]], cut_offs: list[float] | None = None
) -> dict[str, Any]:
    """The flags ``predict.py`` raised among the body paragraphs of ``scores``, and how many are claims.

    ``cut_offs``: the same count for the flags whose probability is at least
    each cut-off (a cut-off below the model's threshold keeps every flag).
    """
    body, flagged = _body_and_flags(scores)
    return {
        "body_paragraphs": len(body),
        "articles_scored": int(body["article_id"].nunique()),
        **census_precision(flagged, census, scores),
        "cut_offs": [
            {"cut_off": cut, **census_precision(flagged[flagged[f"p_{LABEL}"] >= cut], census, scores)}
            for cut in cut_offs or []
        ],
    }


def census_precision(
    flagged: pd.DataFrame, census: dict[tuple[str, int], dict[str, Any]], source: Path
) -> dict[str, Any]:
    """Claims among ``flagged`` (rows of a scores file) by the census, with a 95% interval over articles.

    A flagged paragraph missing from the census, or whose text hash differs,
    stops the benchmark: a guessed label would make the precision up.
    """
    from framing.uncertainty import ClusterBootstrap, percentile_interval

    claim = _census_claims(flagged, census, source)
    articles = flagged["article_id"].tolist()
    claims = claim.astype(bool).tolist()
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


def paired_difference(scores: Path, earlier: Path, census: dict[tuple[str, int], dict[str, Any]]) -> dict[str, Any]:
    """``scores`` minus ``earlier`` in precision, claims and false flags, over the articles both scored.

    The bootstrap resamples the articles that either model flagged (the others add nothing to any count).
    """
    from framing.uncertainty import ClusterBootstrap, percentile_interval

    frames = {"new": _flags(scores, census), "old": _flags(earlier, census)}
    shared = set(frames["new"].attrs["articles"]) & set(frames["old"].attrs["articles"])
    rows = pd.concat([frame.assign(model=name) for name, frame in frames.items()], ignore_index=True)
    rows = rows[rows["article_id"].isin(shared)]
    columns = np.stack(
        [(rows["model"] == name).to_numpy(float) * part for name in ("new", "old") for part in (1, rows["claim"])],
        axis=1,
    )  # [flags new, claims new, flags old, claims old]
    boot = ClusterBootstrap.over(rows["article_id"].to_numpy())
    point, draws = boot.totals(columns)

    def summary(values: np.ndarray, draws: np.ndarray) -> dict[str, Any]:
        return {"point": float(values), "interval": list(percentile_interval(draws))}

    precision = lambda t: t[..., 1] / np.maximum(t[..., 0], 1) - t[..., 3] / np.maximum(t[..., 2], 1)  # noqa: E731
    false = lambda t: (t[..., 0] - t[..., 1]) - (t[..., 2] - t[..., 3])  # noqa: E731
    return {
        "articles": len(shared),
        "articles_flagged": int(boot.n_clusters),
        "precision": summary(precision(point), precision(draws)),
        "claims": summary(point[1] - point[3], draws[:, 1] - draws[:, 3]),
        "false_flags": summary(false(point), false(draws)),
    }


def _flags(scores: Path, census: dict[tuple[str, int], dict[str, Any]]) -> pd.DataFrame:
    """One row per flag of ``scores``: its article and whether the census calls it a claim."""
    body, flagged = _body_and_flags(scores)
    out = pd.DataFrame(
        {"article_id": flagged["article_id"].to_numpy(), "claim": _census_claims(flagged, census, scores)}
    )
    out.attrs["articles"] = sorted(body["article_id"].unique())
    return out


def _body_and_flags(scores: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The body paragraphs of a ``predict.py`` output, and those of them flagged ``media_bias_claim``."""
    frame = pd.read_parquet(scores)
    body = frame[frame["kind"] == "body"].reset_index(drop=True)
    return body, body[body["labels"].map(lambda labels: LABEL in list(labels))]


def _census_claims(flagged: pd.DataFrame, census: dict[tuple[str, int], dict[str, Any]], source: Path) -> np.ndarray:
    """1.0 where the census calls a flag a claim; a flag missing from it, or with other text, stops the benchmark."""
    claims = []
    for row in flagged.itertuples():
        entry = census.get((row.article_id, int(row.paragraph)))
        digest = hashlib.sha256(row.text.encode("utf-8")).hexdigest()[:16]
        if entry is None or entry["text_sha256_16"] != digest:
            raise SystemExit(f"{source}: flag {row.article_id} paragraph {row.paragraph} is not in the census")
        claims.append(bool(entry["claim"]))
    return np.array(claims, dtype=float)


def _section(results: dict[str, Any]) -> str:
    model = results["model"]
    cut_offs = " ".join(f"{row['cut_off']:g}" for row in results["cut_offs"])
    against = f" --against {results['against']['model']}=earlier_scores.parquet" if "against" in results else ""
    lines = [
        "## Every `media_bias_claim` flag on unseen real articles, labelled (`flag_precision.py`)",
        "",
        "```",
        f"python predict.py --model {model} --input <datasets>/ptc-semeval2020/unlabelled-articles "
        "--output scores.parquet --evidence 0",
        f"python benchmarks/flag_precision.py --model {model} --scores scores.parquet"
        + (f" --cut-offs {cut_offs}" if cut_offs else "")
        + against,
        "```",
        "",
        f"{machine()}. {results['body_paragraphs']:,} body paragraphs of {results['articles_scored']} "
        "articles; the flags are the model's own decisions (its thresholds and the news-media requirement).",
        "",
        "| model | flags (share of body paragraphs) | claims among them | precision [95% CI] | articles flagged | "
        "of which with a claim among their flags |",
        "|---|---|---|---|---|---|",
        _row(f"`{model.split('/')[1][:8]}`", results, results["body_paragraphs"]),
    ]
    lines += [_row(f"same, p >= {row['cut_off']:g}", row, results["body_paragraphs"]) for row in results["cut_offs"]]
    if "against" in results:
        against = results["against"]
        lines.append(_row(f"`{against['model'].split('/')[1][:8]}` (earlier)", against, against["body_paragraphs"]))
        diff = results["difference"]
        lines += [
            "",
            f"Paired, on the {diff['articles']} articles both scored (95% bootstrap over the "
            f"{diff['articles_flagged']} that either model flagged), "
            f"`{model.split('/')[1][:8]}` minus `{against['model'].split('/')[1][:8]}`: "
            + ", ".join(
                f"{name} {diff[key]['point']:+.3g} [{diff[key]['interval'][0]:+.3g}, {diff[key]['interval'][1]:+.3g}]"
                for key, name in (("precision", "precision"), ("claims", "claims"), ("false_flags", "false flags"))
            )
            + ".",
        ]
    return "\n".join(lines) + "\n"


def _row(name: str, counts: dict[str, Any], body_paragraphs: int) -> str:
    share = 100 * counts["flags"] / body_paragraphs
    interval = f"[{counts['interval'][0]:.2f}, {counts['interval'][1]:.2f}]"
    return (
        f"| {name} | {counts['flags']} ({share:.1f}%) | {counts['claims']} | {counts['precision']:.3f} {interval} | "
        f"{counts['flagged_articles']} | {counts['articles_with_a_claim']} |"
    )


if __name__ == "__main__":
    main()
