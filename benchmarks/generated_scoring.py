"""A transformer model over generated paragraphs: ``predict.py`` as shipped against ``--exact`` and the naive pipeline.

    python benchmarks/generated_scoring.py --model runs:/<transformer run>/model [--paragraphs 20000] [--no-readme]

The corpus is ``scoring_scale.py generate``'s: articles of 5 paragraphs drawn
at random from the shipped (invented) paragraphs, so paragraphs repeat, as
agency copy and boilerplate do in real archives. Each ``predict.py`` command
runs alone in its own process, start-up included, evidence off unless the
row says on (the naive pipeline gives none). Rows:
- the naive ``transformers.pipeline`` over the first ``--naive`` distinct
  paragraphs, in this process (its rate is what the speed-ups divide by);
- ``predict.py`` as shipped (cascade, repeats answered from memory), and the
  same with evidence on (``--evidence 5``, the command's default);
- the same with ``--repeat-cache 0`` (evidence off and on) and with
  ``--exact --repeat-cache 0`` on the first ``--limit`` paragraphs (every
  copy scored);
- ``predict.py --exact`` over the whole corpus, the reference for agreement:
  the share of per-label decisions equal to it, worst label and mean.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

from benchmarks._common import agreement_cell, machine, naive_pipeline, peak_cell, save
from benchmarks.scoring_scale import generate, measure

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = "predict.py --exact (repeats from memory)"  # the decisions every row is compared with


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a transformer model with a cascade")
    parser.add_argument("--paragraphs", type=int, default=20_000)
    parser.add_argument("--limit", type=int, default=4_000, help="paragraphs of the every-copy rows")
    parser.add_argument("--naive", type=int, default=1_024, help="paragraphs of the naive pipeline row")
    parser.add_argument("--no-readme", action="store_true", help="print only; write neither JSON nor README")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="framing-generated-"))
    corpus = work / "corpus.jsonl"
    generate(args.paragraphs, corpus)
    texts = _paragraphs(corpus)
    rows = [_naive(args.model, list(dict.fromkeys(texts))[: args.naive])]
    predict = [sys.executable, "predict.py", "--model", args.model, "--input", str(corpus), "--quiet"]
    predict += ["--evidence", "0", "--languages", "any"]
    runs = [
        ("predict.py (cascade, repeats from memory), as shipped", [], None),
        ("predict.py as shipped, evidence on (--evidence 5, the default)", ["--evidence", "5"], None),
        (REFERENCE, ["--exact"], None),
        ("predict.py, every copy scored (--repeat-cache 0)", ["--repeat-cache", "0"], args.limit),
        ("predict.py, every copy scored, evidence on", ["--repeat-cache", "0", "--evidence", "5"], args.limit),
        ("predict.py --exact, every copy scored", ["--exact", "--repeat-cache", "0"], args.limit),
    ]
    outputs = {}
    for name, extra, limit in runs:
        output = work / f"{len(outputs)}.parquet"
        command = [*predict, "--output", str(output), *extra, *(["--limit", str(limit)] if limit else [])]
        seconds, peak = measure(command)
        frame = pd.read_parquet(output)
        outputs[name] = frame
        rows.append({"scorer": name, "paragraphs": len(frame), "seconds": seconds, "peak_rss_mib": peak})
    reference = _decisions(outputs[REFERENCE])
    for row in rows[1:]:
        row["paragraphs_per_s"] = row["paragraphs"] / row["seconds"]
        decisions = _decisions(outputs[row["scorer"]])
        agree = decisions == reference[: len(decisions)]
        row["agreement_worst_label"], row["agreement_mean"] = float(agree.mean(axis=0).min()), float(agree.mean())
    distinct = len(set(texts))
    results = {"model": args.model, "paragraphs": len(texts), "distinct": distinct, "rows": rows}
    save("generated_scoring", results, _section(results, args), not args.no_readme)


def _paragraphs(corpus: Path) -> list[str]:
    from framing.scoring.paragraphs import split_paragraphs

    texts: list[str] = []
    for line in corpus.read_text(encoding="utf-8").splitlines():
        texts.extend(split_paragraphs(json.loads(line)["text"]))
    return texts


def _decisions(frame: pd.DataFrame) -> np.ndarray:
    """Per-label decisions as a boolean matrix, in the order of the ``p_<label>`` columns."""
    names = [column[2:] for column in frame.columns if column.startswith("p_")]
    rows = [set(labels) for labels in frame["labels"]]
    return np.array([[name in labels for name in names] for labels in rows], dtype=bool)


def _naive(model: str, texts: list[str]) -> dict[str, Any]:
    naive = naive_pipeline(model)
    naive(texts[:16], truncation=True)
    began = time.perf_counter()
    naive(texts, truncation=True)
    seconds = time.perf_counter() - began
    return {
        "scorer": "transformers.pipeline, defaults (in process, distinct paragraphs)",
        "paragraphs": len(texts),
        "seconds": seconds,
        "paragraphs_per_s": len(texts) / seconds,
    }


def _section(results: dict[str, Any], args: argparse.Namespace) -> str:
    rows = results["rows"]
    naive = rows[0]["paragraphs_per_s"]
    lines = [
        "## A transformer model over generated paragraphs (`generated_scoring.py`)",
        "",
        "```",
        f"python benchmarks/generated_scoring.py --model {results['model']} --paragraphs {args.paragraphs} "
        f"--limit {args.limit}",
        "```",
        "",
        f"{results['paragraphs']:,} paragraphs ({results['distinct']:,} distinct) of `scoring_scale.py generate` "
        f"(the shipped invented paragraphs, drawn at random); {machine()}. Each `predict.py` row is one process, "
        "start-up included, evidence off unless the row says on. Agreement: per-label decisions equal to "
        "`predict.py --exact`'s.",
        "",
        "| scorer | paragraphs | seconds | paragraphs/s | vs pipeline | agreement with --exact (worst / mean) | "
        "peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['scorer']} | {row['paragraphs']:,} | {row['seconds']:.0f} | {row['paragraphs_per_s']:.0f} | "
            f"{row['paragraphs_per_s'] / naive:.1f}x | {agreement_cell(row)} | {peak_cell(row)} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
