"""Paragraphs/second of transformer scoring: naive pipeline vs our fp32 and int8 scorers.

Same machine, same model, same paragraphs, one process:
  (a) transformers.pipeline("text-classification") with default settings,
  (b) our scorer in fp32 (length-sorted batches, per-batch padding, inference mode),
  (c) our scorer with int8 dynamic quantization,
plus the label agreement of (b) and (c) with (a), all decided with the model's own
temperature and per-label thresholds.

    python benchmarks/transformer_inference.py --model runs:/<run_id>/model [--paragraphs 2000]

Paragraphs of 30-200 words come from the shipped dataset: single paragraphs, and
consecutive paragraphs of one article joined, so lengths spread over the range.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

import numpy as np
import torch

from benchmarks._common import naive_pipeline
from framing import load_model
from framing.models.transformer_model import TransformerClassifier

DATA = Path(__file__).resolve().parents[1] / "data" / "framing"


def benchmark_paragraphs(count: int) -> list[str]:
    """At least ``count`` distinct texts of 30-200 words (deterministic)."""
    articles: dict[str, list[str]] = {}
    for split in ("train", "validation", "test"):
        for line in (DATA / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if len(row["text"].split()) >= 12:
                articles.setdefault(row["article_id"], []).append(row["text"])
    texts: list[str] = []
    for span in (1, 2, 3, 4):
        for paragraphs in articles.values():
            for start in range(len(paragraphs) - span + 1):
                text = " ".join(paragraphs[start : start + span])
                if 30 <= len(text.split()) <= 200:
                    texts.append(text)
    if len(texts) < count:
        raise SystemExit(f"only {len(texts)} benchmark paragraphs available, asked for {count}")
    rng = np.random.default_rng(0)
    return [texts[i] for i in rng.permutation(len(texts))[:count]]


def timed(fn, texts: list[str]) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn(texts)
    return len(texts) / (time.perf_counter() - started), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a transformer model: runs:/..., models:/... or a folder")
    parser.add_argument("--paragraphs", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64, help="batch size of our scorer")
    args = parser.parse_args()

    predictor = load_model(args.model)
    model = predictor.model
    if not isinstance(model, TransformerClassifier):
        raise SystemExit(f"{args.model} is a {model.family} model, not a transformer")
    texts = benchmark_paragraphs(args.paragraphs)
    words = [len(t.split()) for t in texts]
    thresholds = predictor.thresholds if predictor.thresholds is not None else np.full(len(predictor.labels), 0.5)
    labels = predictor.labels

    def decide(probabilities: np.ndarray) -> np.ndarray:
        return probabilities >= thresholds

    # (a) naive pipeline: sigmoid scores, mapped through the same temperature and thresholds.
    naive = naive_pipeline(args.model)

    def run_naive(batch: list[str]) -> np.ndarray:
        outputs = naive(batch)
        scores = np.array([[{d["label"]: d["score"] for d in out}[label] for label in labels] for out in outputs])
        logits = np.log(np.clip(scores, 1e-12, 1)) - np.log(np.clip(1 - scores, 1e-12, 1))
        return 1 / (1 + np.exp(-logits / model.temperature))

    model.config = model.config.model_copy(update={"eval_batch_size": args.batch_size})
    run_naive(texts[:8])
    speed_a, probs_a = timed(run_naive, texts)
    model.predict_proba(texts[:8])
    speed_b, probs_b = timed(model.predict_proba, texts)
    model.quantize()
    model.predict_proba(texts[:8])
    speed_c, probs_c = timed(model.predict_proba, texts)

    flags_a, flags_b, flags_c = decide(probs_a), decide(probs_b), decide(probs_c)  # type: ignore[arg-type]
    rows = [
        ("(a) transformers.pipeline, defaults", speed_a, 1.0, 1.0, 1.0),
        (
            "(b) framing scorer, fp32",
            speed_b,
            speed_b / speed_a,
            float((flags_b == flags_a).all(axis=1).mean()),
            float((flags_b == flags_a).mean()),
        ),
        (
            "(c) framing scorer, int8 dynamic",
            speed_c,
            speed_c / speed_a,
            float((flags_c == flags_a).all(axis=1).mean()),
            float((flags_c == flags_a).mean()),
        ),
    ]
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch threads "
        f"{torch.get_num_threads()}, torch {torch.__version__}"
    )
    print(
        f"{len(texts)} paragraphs, {min(words)}-{max(words)} words (mean {np.mean(words):.0f}); "
        f"our batch size {args.batch_size}"
    )
    print("| scorer | paragraphs/s | speed-up vs (a) | same label set as (a) | same per-label decision as (a) |")
    print("|---|---|---|---|---|")
    for name, speed, ratio, same_set, same_decision in rows:
        print(f"| {name} | {speed:.1f} | {ratio:.2f}x | {same_set:.2%} | {same_decision:.2%} |")


if __name__ == "__main__":
    main()
