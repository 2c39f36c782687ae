"""Real-text test scores per source: does a model hold up on outlets, years and topics it was not tuned to?

    python benchmarks/real_by_source.py --model runs:/<run of data=framing_real>/model [--model ...] [--no-readme]

The real test split mixes four sources (``data/framing_real/README.md``): PTC
paragraphs (2017-2019), BABE sentences (2017-2020), Ukraine-crisis sentences
(2014) and paragraphs of the MBIC source articles (2019-2020, eight US
outlets, multi-sentence). Each model decides at its own logged thresholds (as
``predict.py`` does, the news-media requirement included); the table gives
``media_bias_claim`` precision / recall / F1 and the macro-F1 over the labels present per source, with 95%
bootstrap intervals over articles and the number of paragraphs and positives.
A model trained before a source was annotated meets that source as unseen
text: its row is an out-of-domain estimate.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

from benchmarks._common import machine, save

SOURCES = {"ptc": "PTC 2017-2019", "babe": "BABE", "ukraine": "Ukraine 2014", "mbic": "MBIC articles 2019-2020"}


def main() -> None:
    from framing import load_model
    from framing.config import load_config
    from framing.data.dataset import load_splits

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, help="a model trained with data=framing_real")
    parser.add_argument("--no-readme", action="store_true", help="print only; write neither JSON nor README")
    args = parser.parse_args()

    test = load_splits(load_config(["data=framing_real"]).data).test
    assert test is not None
    source = np.array([str(unit).split(":", 1)[0] for unit in test.ids])
    rows = []
    for uri in args.model:
        model = load_model(uri, exact=True)
        flags = _flags(model, list(test.texts))
        truth = test.label_matrix(model.labels)
        for key in ["all", *SOURCES]:
            rows_of = np.ones(len(source), dtype=bool) if key == "all" else source == key
            if rows_of.any():
                found = _scores(truth[rows_of], flags[rows_of], np.asarray(test.groups)[rows_of], model.labels)
                rows.append({"model": uri, "family": model.model.family, "source": key, **found})
                print(f"{uri} {key}: {found}")
    save("real_by_source", {"models": args.model, "rows": rows}, _section(args.model, rows), not args.no_readme)


def _flags(model: Any, texts: list[str]) -> np.ndarray:
    """The model's decisions as ``predict.py --exact`` makes them: probabilities, requirement, thresholds."""
    probabilities, _ = model.decide(texts)
    return np.asarray(model.flags(probabilities), dtype=bool)


def _scores(truth: np.ndarray, flags: np.ndarray, groups: np.ndarray, labels: list[str]) -> dict[str, Any]:
    """``media_bias_claim`` P / R / F1 and the macro-F1 over the labels with positives in these rows.

    A source without positives of a label (no ``media_bias_claim`` in the 2014
    Ukraine set) would put a 0 into a plain macro-F1; the mean runs over the
    labels present, each draw of the article bootstrap the same way.
    """
    from framing.results import confusion_counts, count_metrics
    from framing.uncertainty import ClusterBootstrap, percentile_interval

    boot = ClusterBootstrap.over(list(groups))
    point, draws = {}, {}
    for kind, values in confusion_counts(truth, flags).items():
        point[kind], draws[kind] = boot.totals(values)
    at_point = count_metrics(point["tp"], point["fp"], point["fn"], labels)
    in_draws = count_metrics(draws["tp"], draws["fp"], draws["fn"], labels)
    present = [label for j, label in enumerate(labels) if truth[:, j].any()]
    label = labels[0]
    return {
        "rows": len(truth),
        "articles": boot.n_clusters,
        "positives": int(truth[:, 0].sum()),
        "flagged": int(flags[:, 0].sum()),
        "precision": float(at_point[f"{label}/precision"]),
        "recall": float(at_point[f"{label}/recall"]),
        "f1": float(at_point[f"{label}/f1"]),
        "f1_interval": list(percentile_interval(in_draws[f"{label}/f1"])),
        "labels_present": len(present),
        "macro_f1": float(np.mean([at_point[f"{name}/f1"] for name in present])),
        "macro_interval": list(percentile_interval(np.mean([in_draws[f"{name}/f1"] for name in present], axis=0))),
    }


def _section(models: list[str], rows: list[dict[str, Any]]) -> str:
    lines = [
        "## Real-text test scores per source (`real_by_source.py`)",
        "",
        "```",
        "python benchmarks/real_by_source.py " + " ".join(f"--model {m}" for m in models),
        "```",
        "",
        f"{machine()}. Each model at its logged thresholds with the news-media requirement, as `predict.py` "
        "decides. Intervals: 95% bootstrap over articles.",
        "",
        "| model | test rows of | paragraphs (articles) | `media_bias_claim` positives | "
        "`media_bias_claim` P / R / F1 [95% CI] | macro-F1 over the labels present [95% CI] |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        media = (
            f"{row['precision']:.3f} / {row['recall']:.3f} / {row['f1']:.3f} "
            f"[{row['f1_interval'][0]:.2f}, {row['f1_interval'][1]:.2f}]"
            if row["positives"]
            else f"no positives; {row['flagged']} flagged"
        )
        lines.append(
            f"| {row['family']} `{row['model'].split('/')[1][:8]}` | "
            f"{'all sources' if row['source'] == 'all' else SOURCES[row['source']]} | {row['rows']} "
            f"({row['articles']}) | {row['positives']} | {media} | {row['macro_f1']:.3f} "
            f"[{row['macro_interval'][0]:.2f}, {row['macro_interval'][1]:.2f}] ({row['labels_present']} labels) |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
