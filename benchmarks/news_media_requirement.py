"""``media_bias_claim`` with and without the news-media requirement (``data.requires_news_media``).

    python benchmarks/news_media_requirement.py --model runs:/<run of data=framing_real>/model \\
        [--model <another such run> ...] [--scores <the first model's predict.py output over
        ptc-semeval2020/unlabelled-articles>] [--no-readme]

The model's own scores on the real validation and test splits are taken once;
for each setting the thresholds are tuned on real validation (as a training
run does: with the requirement, on the gated scores), validation F1 decides,
and the test split is scored for the record, with 95% bootstrap intervals over
articles. On the unseen corpus, every ``media_bias_claim`` flag among the body
paragraphs of ``--scores`` was labelled blind against the codebook
(``benchmarks/data/flag_census_82a1f6a4.jsonl``: article, paragraph, text hash
and label; mixed with unflagged paragraphs, the annotator did not know which
was which): the precision of the flags that remain with the requirement.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

from benchmarks._common import machine, save
from benchmarks.flag_precision import census_precision

CENSUS = Path(__file__).resolve().parent / "data" / "flag_census_82a1f6a4.jsonl"
LABEL = "media_bias_claim"
SETTINGS = ("model alone", "with the news-media requirement")


def main() -> None:
    from framing import load_model
    from framing.config import load_config
    from framing.data.dataset import load_splits

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", action="append", required=True, help="a model trained with data=framing_real (repeatable)"
    )
    parser.add_argument(
        "--scores", type=Path, default=None, help="predict.py output of this model over the unlabelled articles"
    )
    parser.add_argument("--no-readme", action="store_true", help="print only; write neither JSON nor README")
    args = parser.parse_args()

    real = load_splits(load_config(["data=framing_real"]).data)
    assert real.validation is not None and real.test is not None
    rows = []
    for uri in args.model:
        model = load_model(uri, exact=True)
        model.news_media_labels = []  # the model's own scores; the requirement is applied below
        for setting in SETTINGS:
            required = [LABEL] if setting == SETTINGS[1] else []
            found = _on_splits(model, real.validation, real.test, model.labels, required)
            rows.append({"model": uri, "family": model.model.family, "setting": setting, **found})
    thresholds = {row["setting"]: row["threshold"] for row in rows if row["model"] == args.model[0]}
    corpus = _corpus_precision(args.scores, thresholds) if args.scores else None
    results = {"models": args.model, "scores": str(args.scores), "rows": rows, "corpus": corpus}
    save("news_media_requirement", results, _section(results), not args.no_readme)


def _on_splits(model: Any, validation: Any, test: Any, labels: list[str], required: list[str]) -> dict[str, Any]:
    from framing.mentions import require_news_media
    from framing.results import confusion_counts, count_metrics, metric_intervals
    from framing.thresholds import tune_thresholds

    scored = {}
    for split in (validation, test):
        probabilities = require_news_media(model.probabilities(list(split.texts)), split.texts, labels, required)
        scored[split.name] = (probabilities, split.label_matrix(labels), split.groups)
    thresholds = tune_thresholds(scored["validation"][1], scored["validation"][0])
    out: dict[str, Any] = {"threshold": float(thresholds[labels.index(LABEL)])}
    for name, (probabilities, truth, groups) in scored.items():
        flags = probabilities >= thresholds
        counts = {kind: rows.sum(axis=0) for kind, rows in confusion_counts(truth, flags).items()}
        point = count_metrics(counts["tp"], counts["fp"], counts["fn"], labels)  # as the run logs them
        intervals = metric_intervals(truth, flags, probabilities, labels, groups)
        out[name] = {
            "precision": float(point[f"{LABEL}/precision"]),
            "recall": float(point[f"{LABEL}/recall"]),
            "f1": float(point[f"{LABEL}/f1"]),
            "f1_interval": [intervals[f"{LABEL}/f1/ci_low"], intervals[f"{LABEL}/f1/ci_high"]],
            "macro_f1": float(point["f1_macro"]),
            "macro_interval": [intervals["f1_macro/ci_low"], intervals["f1_macro/ci_high"]],
            "rows": len(truth),
            "articles": len(set(groups)),
        }
    return out


def _corpus_precision(scores: Path, thresholds: dict[str, float]) -> dict[str, Any]:
    """Precision of each setting's flags among the body paragraphs of ``scores``, every flag labelled.

    A setting flags a paragraph at its own validation-tuned threshold (with the
    requirement, only where the paragraph refers to the news media).
    """
    from framing.mentions import mentions_news_media

    frame = pd.read_parquet(scores)
    body = frame[frame["kind"] == "body"].reset_index(drop=True)
    census = {(r["article_id"], int(r["paragraph"])): r for r in map(json.loads, CENSUS.read_text().splitlines())}
    mention = body["text"].map(mentions_news_media).to_numpy()
    out: dict[str, Any] = {"body_paragraphs": len(body)}
    for setting in SETTINGS:
        flagged = (body[f"p_{LABEL}"] >= thresholds[setting]).to_numpy() & (mention if setting == SETTINGS[1] else True)
        found = census_precision(body[flagged], census, scores)
        out[setting] = {
            "threshold": thresholds[setting],
            **{key: found[key] for key in ("flags", "claims", "precision", "interval")},
            "articles": found["flagged_articles"],
        }
    return out


def _section(results: dict[str, Any]) -> str:
    corpus = results["corpus"]
    lines = [
        "## The news-media requirement of `media_bias_claim` (`news_media_requirement.py`)",
        "",
        "```",
        "python benchmarks/news_media_requirement.py "
        + " ".join(f"--model {uri}" for uri in results["models"])
        + " --scores <the first model's predict.py output>",
        "```",
        "",
        f"{machine()}. Thresholds tuned on the real validation split in each setting (in sample, as a training "
        "run tunes them); the choice is validation's, test is for the record. Intervals: 95% bootstrap over "
        "articles.",
        "",
        "| model | setting | validation P / R / F1 | validation macro-F1 | test P / R / F1 [95% CI] | "
        "test macro-F1 [95% CI] |",
        "|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        v, t = row["validation"], row["test"]
        lines.append(
            f"| {row['family']} `{row['model'].split('/')[1][:8]}` | {row['setting']} | "
            f"{v['precision']:.3f} / {v['recall']:.3f} / {v['f1']:.3f} | {v['macro_f1']:.3f} | "
            f"{t['precision']:.3f} / {t['recall']:.3f} / {t['f1']:.3f} [{t['f1_interval'][0]:.2f}, "
            f"{t['f1_interval'][1]:.2f}] | {t['macro_f1']:.3f} [{t['macro_interval'][0]:.2f}, "
            f"{t['macro_interval'][1]:.2f}] |"
        )
    if corpus is None:
        return "\n".join(lines) + "\n"
    lines += [
        "",
        f"Flags of `media_bias_claim` of `{results['models'][0].split('/')[1][:8]}` among the "
        f"{corpus['body_paragraphs']:,} body paragraphs of the 400 unlabelled PTC articles, every flag labelled blind:",
        "",
        "| setting | threshold | flags | claims among them | precision [95% CI] | articles |",
        "|---|---|---|---|---|---|",
    ]
    for setting in SETTINGS:
        c = corpus[setting]
        lines.append(
            f"| {setting} | {c['threshold']:.3f} | {c['flags']} | {c['claims']} | {c['precision']:.3f} "
            f"[{c['interval'][0]:.2f}, {c['interval'][1]:.2f}] | {c['articles']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
