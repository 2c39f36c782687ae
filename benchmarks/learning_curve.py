"""How real-text quality grows with the number of annotated real paragraphs: a learning curve.

    python benchmarks/learning_curve.py [--families tfidf transformer] [--fractions 0.125 0.25 0.5 1]
        [--draws 3] [--transformer-draws 1] [--no-readme]

Annotation is the costly part of a real-text model, so before another round a
researcher wants to know what it would buy. Each point trains the
``data=framing_real`` recipe (every invented training row, the real
validation split for early stopping and thresholds) on a share of the real
training rows, drawn by article: the articles are shuffled once per draw and
each share takes the shortest prefix holding that share of the rows, so the
shares of one draw are nested and an article is never split. The transformer
uses the dataset benchmarks' shorter settings (windows of 128 tokens, 3
epochs; on the full data they score as the shipped ones, see README), and no
cascade is fitted: the curve is about the model, not its fast path.

The table gives validation macro-F1 (thresholds tuned on it, as every run
reports it) and the real test split's ``media_bias_claim`` F1 and macro-F1
with their 95% article-bootstrap intervals. Below it, per family and metric,
a least-squares line in log2 of the real rows: the gain per doubling, and the
rows at which the line would reach the issue's target. A line fitted to four
points and carried past them is an optimistic guide, not a forecast: such
curves flatten, so the rows it names are a lower bound.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

from benchmarks._common import FAMILY_OVERRIDES, ROOT, save, table_head, use_datasets

REAL_ROWS = ROOT / "data" / "framing_real" / "train_real.jsonl"
INVENTED_ROWS = ROOT / "data" / "framing_real" / "train_invented.jsonl"
CLAIM = "media_bias_claim"
# the targets on the real test split: (media_bias_claim F1, macro-F1)
TARGETS = {"tfidf": (0.70, 0.60), "transformer": (0.85, 0.75)}
METRICS = {
    "validation macro-F1": "validation/tuned/f1_macro",
    "test media_bias_claim F1": f"test/tuned/{CLAIM}/f1",
    "test macro-F1": "test/tuned/f1_macro",
}


def nested_shares(rows: Sequence[dict[str, Any]], fractions: Sequence[float], seed: int) -> dict[float, list[int]]:
    """Per fraction, the indices of ``rows`` it trains on: whole articles, nested, shuffled by ``seed``.

    Each share is the shortest prefix of the shuffled articles holding at
    least that fraction of the rows, so a smaller share is always inside a
    larger one and no article is split between what is in and what is out.
    """
    by_article: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        by_article.setdefault(str(row["article_id"]), []).append(index)
    order = sorted(by_article)
    np.random.default_rng(seed).shuffle(order)
    taken: list[int] = []
    prefix_ends: list[int] = []  # rows taken after each article of the order
    for article in order:
        taken += by_article[article]
        prefix_ends.append(len(taken))
    shares = {}
    for fraction in fractions:
        if not 0 < fraction <= 1:
            raise SystemExit(f"--fractions: {fraction} is not in (0, 1]")
        needed = int(np.ceil(fraction * len(rows)))
        articles = int(np.searchsorted(prefix_ends, needed)) + 1
        shares[fraction] = sorted(taken[: prefix_ends[articles - 1]])
    return shares


def log2_fit(sizes: Sequence[float], scores: Sequence[float]) -> tuple[float, float]:
    """Least-squares ``score = intercept + slope * log2(size)``: (intercept, slope per doubling)."""
    slope, intercept = np.polyfit(np.log2(np.asarray(sizes, dtype=float)), np.asarray(scores, dtype=float), 1)
    return float(intercept), float(slope)


def rows_for(target: float, intercept: float, slope: float) -> float | None:
    """Real rows at which the fitted line reaches ``target``; None when the line does not rise."""
    if slope <= 0:
        return None
    return float(2 ** ((target - intercept) / slope))


def main() -> None:
    args = _arguments()
    use_datasets(args.datasets)
    real = [json.loads(line) for line in REAL_ROWS.read_text(encoding="utf-8").splitlines() if line.strip()]
    invented = INVENTED_ROWS.read_text(encoding="utf-8")
    work = args.work_dir / "learning_curve"
    work.mkdir(parents=True, exist_ok=True)
    points = []
    for family in args.families:
        draws = args.transformer_draws if family == "transformer" else args.draws
        for draw in range(draws):
            for fraction, indices in nested_shares(real, args.fractions, args.seed + draw).items():
                if fraction == 1 and draw > 0:
                    continue  # every draw holds the same rows at 1: trained once
                train_file = work / f"train_{fraction:g}_draw{draw}.jsonl"
                chosen = "".join(json.dumps(real[i]) + "\n" for i in indices)
                train_file.write_text(invented + chosen, encoding="utf-8")
                points.append(_point(family, fraction, draw, real, indices, train_file, args))
    results = {
        "points": points,
        "fits": _fits(points),
        "real_rows": len(real),
        "invented_rows": sum(1 for line in invented.splitlines() if line.strip()),
        "fractions": args.fractions,
    }
    save("learning_curve", results, _section(results), not args.no_readme)


def _arguments() -> Any:
    import argparse

    from benchmarks._common import real_text_options

    result = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    real_text_options(result)
    result.add_argument("--families", nargs="+", choices=sorted(FAMILY_OVERRIDES), default=["tfidf", "transformer"])
    result.add_argument("--fractions", nargs="+", type=float, default=[0.125, 0.25, 0.5, 1.0])
    result.add_argument("--draws", type=int, default=3, help="article draws per TF-IDF share")
    result.add_argument("--transformer-draws", type=int, default=1, help="article draws per transformer share")
    result.add_argument("--experiment", default="framing-learning-curve", help="MLflow experiment of the runs")
    result.add_argument("--work-dir", type=Path, default=ROOT / "outputs" / "benchmarks", help="training files")
    return result.parse_args()


def _point(
    family: str,
    fraction: float,
    draw: int,
    real: Sequence[dict[str, Any]],
    indices: Sequence[int],
    train_file: Path,
    args: Any,
) -> dict[str, Any]:
    """Train one share and return its logged metrics."""
    from framing.config import load_config
    from framing.training import run_training

    overrides = [
        "data=framing_real",
        f"data.train={train_file}",
        *FAMILY_OVERRIDES[family],
        f"tracking.experiment={args.experiment}",
        f"seed={args.seed}",
    ]
    if family == "transformer":
        overrides.append("model.cascade.enabled=false")
    result = run_training(load_config(overrides))
    metrics = result.metrics
    return {
        "family": family,
        "fraction": fraction,
        "draw": draw,
        "run_id": result.run_id,
        "real_rows": len(indices),
        "real_articles": len({real[i]["article_id"] for i in indices}),
        "real_claims": sum(CLAIM in real[i]["labels"] for i in indices),
        **{
            name: {
                "value": metrics.get(key, float("nan")),
                "low": metrics.get(f"{key}/ci_low", float("nan")),
                "high": metrics.get(f"{key}/ci_high", float("nan")),
            }
            for name, key in METRICS.items()
        },
    }


def _fits(points: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per family and metric: the log2 line through every point, its gain per doubling, rows to the target."""
    fits = []
    for family in dict.fromkeys(p["family"] for p in points):
        mine = [p for p in points if p["family"] == family]
        if len({p["real_rows"] for p in mine}) < 2:
            continue
        for name in METRICS:
            intercept, slope = log2_fit([p["real_rows"] for p in mine], [p[name]["value"] for p in mine])
            target = _target(family, name)
            fits.append(
                {
                    "family": family,
                    "metric": name,
                    "slope_per_doubling": slope,
                    "intercept": intercept,
                    "target": target,
                    "rows_for_target": rows_for(target, intercept, slope) if target is not None else None,
                }
            )
    return fits


def _target(family: str, metric: str) -> float | None:
    claim, macro = TARGETS[family]
    return {"test media_bias_claim F1": claim, "test macro-F1": macro}.get(metric)


def _cell(value: dict[str, float], interval: bool) -> str:
    text = f"{value['value']:.3f}"
    return text + f" [{value['low']:.2f}, {value['high']:.2f}]" if interval else text


def _section(results: dict[str, Any]) -> str:
    columns = [
        "family",
        "share of real rows",
        "draw",
        "real rows (articles)",
        "real claims",
        "validation macro-F1",
        "test media_bias_claim F1 [95% CI]",
        "test macro-F1 [95% CI]",
        "run",
    ]
    lines = table_head(
        "Learning curve on real text (`learning_curve.py`)",
        "python benchmarks/learning_curve.py",
        f"Shares of the {results['real_rows']:,} real training rows, drawn by article (nested within a draw), "
        f"always with the {results['invented_rows']:,} invented rows; thresholds tuned on the real validation split; "
        "test intervals: 95% bootstrap over articles.",
        columns,
    )
    for p in results["points"]:
        cells = [
            p["family"],
            f"{p['fraction']:g}",
            str(p["draw"]),
            f"{p['real_rows']:,} ({p['real_articles']})",
            str(p["real_claims"]),
            _cell(p["validation macro-F1"], interval=False),
            _cell(p["test media_bias_claim F1"], interval=True),
            _cell(p["test macro-F1"], interval=True),
            f"`{p['run_id'][:8]}`",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "A line in log2 of the real rows through every point of a family (an optimistic guide: such curves "
        "flatten, so the rows named are a lower bound):",
        "",
        "| family | metric | gain per doubling of real rows | target | real rows at which the line reaches it |",
        "|---|---|---|---|---|",
    ]
    for fit in results["fits"]:
        target = "" if fit["target"] is None else f"{fit['target']:.2f}"
        needed = fit["rows_for_target"]
        reach = (
            "" if fit["target"] is None else ("never (the line does not rise)" if needed is None else f"{needed:,.0f}")
        )
        lines.append(f"| {fit['family']} | {fit['metric']} | {fit['slope_per_doubling']:+.3f} | {target} | {reach} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
