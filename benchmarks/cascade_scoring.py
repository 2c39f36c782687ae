"""Scoring real paragraphs with a transformer model: the naive pipeline, --exact, the cascade, its student, TF-IDF.

    python benchmarks/cascade_scoring.py --model runs:/<transformer run>/model [--tfidf runs:/<tfidf run>/model]
        [--paragraphs 1024] [--agreement-paragraphs 4096] [--chunk 256] [--end-to-end 20000] [--no-readme]

Paragraphs are real: body paragraphs of the 400 unlabelled PTC articles
(``$FRAMING_DATASETS/ptc-semeval2020/unlabelled-articles``), a seeded random
sample. Every scorer runs in this one process on the same chunks, in turn, so
that load on the machine falls on all alike; paragraphs/s is the total over
the chunks. Agreement is the share of per-label decisions equal to
``--exact``'s (the transformer as the model is configured), worst label and
mean, on a larger sample (``--agreement-paragraphs``, holding the timed ones).
Real-text F1 is macro-F1 on the real-text test split (data/framing_real). The
end-to-end rows time ``predict.py`` itself (reading, splitting, language
identification, writing Parquet) on at most ``--end-to-end`` paragraphs of
those articles, with peak RSS, evidence off and at its default.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

from benchmarks._common import agreement_cell, naive_pipeline, peak_cell, real_text_options, save, use_datasets

Scorer = Callable[[list[str]], np.ndarray]  # texts -> per-label decisions


def main() -> None:
    args = _arguments()
    import torch

    from framing import load_model
    from framing.config import load_config
    from framing.data.dataset import load_splits
    from framing.data.real_sources import ptc_paragraphs

    root = use_datasets(args.datasets)
    corpus = [u.text for u in ptc_paragraphs(root, folders=("unlabelled-articles",))]
    rng = np.random.default_rng(args.seed)
    sample = [corpus[i] for i in rng.permutation(len(corpus))[: max(args.paragraphs, args.agreement_paragraphs)]]
    texts = sample[: args.paragraphs]
    test = load_splits(load_config(["data=framing_real"]).data).test
    assert test is not None
    scorers = _scorers(args, load_model)
    speeds = _interleaved(scorers, texts, args.chunk)
    routed = load_model(args.model)
    assert routed.cascade is not None
    escalated = float(routed.decide(sample)[1].mean())  # as predict.py routes: the news-media requirement applied
    reference = scorers["--exact, fp32"](sample)
    truth = test.label_matrix(load_model(args.model).labels)
    rows = []
    for name, scorer in scorers.items():
        decisions = scorer(sample)
        rows.append(
            {
                "scorer": name,
                "paragraphs_per_s": speeds[name],
                "agreement_worst_label": float((decisions == reference).mean(axis=0).min()),
                "agreement_mean": float((decisions == reference).mean()),
                "test_f1_macro": _macro_f1(truth, scorer(list(test.texts))),
                "escalation": escalated if name.startswith("cascade") else None,
            }
        )
    if args.end_to_end:
        rows.extend(_end_to_end(args, root / "ptc-semeval2020" / "unlabelled-articles"))
    words = [len(t.split()) for t in texts]
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}"
    )
    results = {
        "model": args.model,
        "tfidf": args.tfidf,
        "paragraphs": len(texts),
        "agreement_paragraphs": len(sample),
        "test_paragraphs": len(test.texts),
        "machine": machine,
        "bf16_by_default": routed.escalation_precision() == "bf16",
        "rows": rows,
    }
    save("cascade_scoring", results, _section(results, words, args), not args.no_readme)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a transformer model with a cascade")
    parser.add_argument("--tfidf", default=None, help="a TF-IDF model for its row (optional)")
    parser.add_argument("--paragraphs", type=int, default=1024)
    parser.add_argument("--agreement-paragraphs", type=int, default=4096, help="paragraphs for agreement")
    parser.add_argument("--chunk", type=int, default=256)
    parser.add_argument(
        "--end-to-end", type=int, default=20_000, help="most paragraphs for the predict.py rows; 0: none"
    )
    real_text_options(parser)
    return parser.parse_args()


def _scorers(args: argparse.Namespace, load_model: Any) -> dict[str, Scorer]:
    """Each scorer as texts -> decisions."""
    from framing.mentions import gate, open_labels

    exact = load_model(args.model, exact=True)
    exact_int8 = load_model(args.model, exact=True)
    exact_int8.model.quantize()
    cascade = load_model(args.model)
    cascade.use_escalation_precision("fp32")
    cascade_bf16 = load_model(args.model)
    cascade_bf16.use_escalation_precision("bf16")
    cascade_int8 = load_model(args.model)
    cascade_int8.model.quantize()
    if cascade.cascade is None:
        raise SystemExit(f"{args.model} has no cascade (a transformer model trained with model.cascade.enabled)")
    naive = naive_pipeline(args.model)
    labels, temperature = exact.labels, exact.model.temperature

    def run_naive(texts: list[str]) -> np.ndarray:
        outputs = naive(texts, truncation=True)
        scores = np.array([[{d["label"]: d["score"] for d in out}[label] for label in labels] for out in outputs])
        logits = np.log(np.clip(scores, 1e-12, 1)) - np.log(np.clip(1 - scores, 1e-12, 1))
        return exact.flags(1 / (1 + np.exp(-logits / temperature)))

    def through(predictor: Any) -> Scorer:
        return lambda texts: np.asarray(predictor.flags(predictor.decide(texts)[0]))

    def student(texts: list[str]) -> np.ndarray:
        probabilities = cascade.cascade.route(texts, cascade.thresholds)[0]
        if cascade.news_media_labels:  # decided by the requirement where it rules a label out, as in predict.py
            probabilities = gate(probabilities, open_labels(texts, labels, cascade.news_media_labels))
        return np.asarray(cascade.flags(probabilities))

    scorers: dict[str, Scorer] = {
        "transformers.pipeline, defaults": run_naive,
        "--exact, fp32": through(exact),
        "--exact, int8": through(exact_int8),
        "--exact, bf16 weights": lambda texts: np.asarray(
            exact.flags(cascade_bf16.escalation_model().predict_proba(texts))
        ),
        "cascade, fp32 transformer": through(cascade),
        "cascade, bf16 transformer": through(cascade_bf16),
        "cascade, int8 transformer": through(cascade_int8),
        "student alone": student,
    }
    if args.tfidf:
        tfidf = load_model(args.tfidf)
        scorers["TF-IDF model"] = lambda texts: np.asarray(tfidf.flags(tfidf.probabilities(texts)))
    return scorers


def _interleaved(scorers: dict[str, Scorer], texts: list[str], chunk: int) -> dict[str, float]:
    """Paragraphs/s of each scorer, every chunk scored by each in turn (after one warm-up chunk)."""
    for scorer in scorers.values():
        scorer(texts[:16])
    seconds = dict.fromkeys(scorers, 0.0)
    for start in range(0, len(texts), chunk):
        part = texts[start : start + chunk]
        for name, scorer in scorers.items():
            began = time.perf_counter()
            scorer(part)
            seconds[name] += time.perf_counter() - began
    return {name: len(texts) / spent for name, spent in seconds.items()}


def _macro_f1(truth: np.ndarray, decisions: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(truth, decisions, average="macro", zero_division=0))


# Runs a command and reports its peak RSS (the largest of the processes it waited for).
_MEASURED = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True)
print(f"peak_rss_kib={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}", file=sys.stderr)
"""


def _end_to_end(args: argparse.Namespace, articles: Path) -> list[dict[str, Any]]:
    """``predict.py`` on real articles, default (cascade) and ``--exact``, one after the other, with peak RSS.

    Evidence off (``--evidence 0``, the fast first pass) and at its default (5 words per flag).
    """
    rows = []
    root = Path(__file__).resolve().parents[1]
    runs = (
        ("predict.py (cascade), end to end", ["--evidence", "0"]),
        ("predict.py --exact, end to end", ["--evidence", "0", "--exact"]),
        ("predict.py (cascade), end to end, evidence on", []),
        ("predict.py --exact, end to end, evidence on", ["--exact"]),
    )
    for name, extra in runs:
        with tempfile.TemporaryDirectory() as folder:
            output = Path(folder) / "scores.parquet"
            command = [sys.executable, "-c", _MEASURED, sys.executable, str(root / "predict.py"), "--model", args.model]
            command += ["--input", str(articles), "--output", str(output), "--limit", str(args.end_to_end)]
            command += ["--quiet", *extra]
            began = time.perf_counter()
            done = subprocess.run(
                command, check=True, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}
            )
            spent = time.perf_counter() - began
            import pyarrow.parquet as pq

            scored = pq.read_metadata(output).num_rows
        peak = int(done.stderr.rsplit("peak_rss_kib=", 1)[1].split()[0]) / 1024
        rows.append(
            {
                "scorer": name,
                "paragraphs_per_s": scored / spent,
                "seconds": spent,
                "paragraphs": scored,
                "peak_rss_mib": peak,
            }
        )
    return rows


def _cell(value: float | None, form: str) -> str:
    return "" if value is None else format(value, form)


def _section(results: dict[str, Any], words: list[int], args: argparse.Namespace) -> str:
    rows = results["rows"]
    naive = rows[0]["paragraphs_per_s"]
    lines = [
        "## Cascade scoring on real paragraphs (`cascade_scoring.py`)",
        "",
        "```",
        f"python benchmarks/cascade_scoring.py --model {results['model']}"
        + (f" --tfidf {results['tfidf']}" if results["tfidf"] else ""),
        "```",
        "",
        f"{results['paragraphs']} real paragraphs of the unlabelled PTC articles ({min(words)}-{max(words)} words, "
        f"median {int(np.median(words))}), chunks of {args.chunk} scored by each scorer in turn; "
        f"{results['machine']}. Agreement: per-label decisions equal to `--exact` (fp32), worst label / mean, on "
        f"{results.get('agreement_paragraphs', results['paragraphs']):,} paragraphs of the same articles. "
        f"The cascade's default transformer precision on this machine: "
        f"{'bf16 (the CPU multiplies bf16 natively)' if results.get('bf16_by_default') else 'fp32'}. "
        f"F1: macro-F1 on the real-text test split ({results['test_paragraphs']:,} paragraphs). Escalation: share of "
        "paragraphs the cascade sent to the transformer (as `predict.py` routes them). End-to-end rows: "
        "`predict.py` itself over the articles (read, split, language, "
        "score, write Parquet; evidence off unless the row says on), "
        f"up to {args.end_to_end:,} paragraphs, timed alone (not interleaved, "
        "start-up included) with the process's peak RSS.",
        "",
        "| scorer | paragraphs/s | vs pipeline | agreement with --exact | real-text macro-F1 | escalation | peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['scorer']} | {row['paragraphs_per_s']:.1f} | {row['paragraphs_per_s'] / naive:.1f}x | "
            f"{agreement_cell(row)} | {_cell(row.get('test_f1_macro'), '.3f')} | "
            f"{_cell(row.get('escalation'), '.1%')} | {peak_cell(row)} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
