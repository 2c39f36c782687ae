"""What else could make the transformer part faster on a CPU: ONNX Runtime, int8, the tokenizer's share.

    pip install onnxruntime onnx    # only for this benchmark
    python benchmarks/transformer_runtime.py --model runs:/<transformer run>/model [--paragraphs 1000] [--no-readme]

Real paragraphs (a seeded sample of the unlabelled PTC articles) go through
the model's own windows, length-sorted batches of 64: torch fp32 (what
``--exact`` runs), torch int8 dynamic quantization (``model.quantize``), the
same graph exported to ONNX and run by ONNX Runtime in fp32 and with int8
dynamic quantization. For each: paragraphs/s (best of two passes), the
largest logit difference from torch fp32 and the share of per-label decisions
equal to torch fp32's. The tokenizer row is the time to cut the paragraphs
into windows, against torch fp32's total: what tokenising in a worker thread
could at most hide.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

from benchmarks._common import real_text_options, save


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a transformer model")
    parser.add_argument("--paragraphs", type=int, default=1000)
    real_text_options(parser)
    args = parser.parse_args()
    from framing import load_model
    from framing.data.real_sources import datasets_root, ptc_paragraphs

    corpus = [u.text for u in ptc_paragraphs(datasets_root(args.datasets), folders=("unlabelled-articles",))]
    rng = np.random.default_rng(args.seed)
    texts = [corpus[i] for i in rng.choice(len(corpus), size=min(args.paragraphs, len(corpus)), replace=False)]
    predictor = load_model(args.model, exact=True)
    classifier: Any = predictor.model
    started = time.perf_counter()
    windows = classifier.windows(texts)
    tokenizer_seconds = time.perf_counter() - started
    runs = _runs(classifier, windows)
    reference = runs["torch fp32"]()
    cuts = _cuts(predictor)
    rows = []
    for name, run in runs.items():
        seconds = []
        for _ in range(2):
            began = time.perf_counter()
            logits = run()
            seconds.append(time.perf_counter() - began)
        rows.append(
            {
                "runtime": name,
                "paragraphs_per_s": len(texts) / min(seconds),
                "max_logit_difference": float(np.abs(logits - reference).max()),
                "same_decisions": float(((logits >= cuts) == (reference >= cuts)).mean()),
            }
        )
    fp32_seconds = len(texts) / rows[0]["paragraphs_per_s"]
    results = {
        "model": args.model,
        "paragraphs": len(texts),
        "windows": len(windows),
        "rows": rows,
        "tokenizer_seconds": tokenizer_seconds,
        "tokenizer_share_of_fp32": tokenizer_seconds / (tokenizer_seconds + fp32_seconds),
    }
    save("transformer_runtime", results, _section(results), not args.no_readme)


def _cuts(predictor: Any) -> np.ndarray:
    from framing.cascade import threshold_logits

    cuts = threshold_logits(predictor.thresholds, predictor.model.temperature)
    return np.zeros(len(predictor.labels)) if cuts is None else cuts


def _runs(classifier: Any, windows: Any) -> dict[str, Callable[[], np.ndarray]]:
    """Window logits by each runtime, pooled per paragraph as the model pools them."""
    import copy

    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    n_texts = int(windows.owner.max()) + 1
    quantized = copy.deepcopy(classifier)
    quantized.quantize()
    folder = Path(tempfile.mkdtemp())
    onnx_path = _export(classifier, folder / "model.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_dynamic(str(onnx_path), str(folder / "model-int8.onnx"), weight_type=QuantType.QInt8)
    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    sessions = {
        kind: ort.InferenceSession(str(folder / name), options, providers=["CPUExecutionProvider"])
        for kind, name in (("fp32", "model.onnx"), ("int8", "model-int8.onnx"))
    }

    def torch_run(model: Any) -> Callable[[], np.ndarray]:
        return lambda: model._pool(model._window_logits(windows), windows.owner, n_texts)

    def onnx_run(session: Any) -> Callable[[], np.ndarray]:
        def run() -> np.ndarray:
            order = np.argsort([len(ids) for ids in windows.input_ids], kind="stable")
            logits = np.zeros((len(windows), len(classifier.labels)), dtype=np.float32)
            for start in range(0, len(order), classifier.config.eval_batch_size):
                chosen = order[start : start + classifier.config.eval_batch_size]
                batch = classifier.tokenizer.pad(
                    {"input_ids": [windows.input_ids[i] for i in chosen]}, padding=True, return_tensors="np"
                )
                feed = {name: batch[name].astype(np.int64) for name in ("input_ids", "attention_mask")}
                logits[chosen] = session.run(["logits"], feed)[0]
            return classifier._pool(logits, windows.owner, n_texts)

        return run

    return {
        "torch fp32": torch_run(classifier),
        "torch int8 (dynamic)": torch_run(quantized),
        "ONNX Runtime fp32": onnx_run(sessions["fp32"]),
        "ONNX Runtime int8 (dynamic)": onnx_run(sessions["int8"]),
    }


def _export(classifier: Any, path: Path) -> Path:
    import torch

    sample = classifier.tokenizer(["a short one", "and a somewhat longer sentence"], padding=True, return_tensors="pt")
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}, "logits": {0: "batch"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            classifier.model.eval(),
            (sample["input_ids"], sample["attention_mask"]),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    return path


def _section(results: dict[str, Any]) -> str:
    lines = [
        "## Transformer runtimes on CPU (`transformer_runtime.py`)",
        "",
        "```",
        "pip install onnxruntime onnx",
        f"python benchmarks/transformer_runtime.py --model {results['model']}",
        "```",
        "",
        f"{results['paragraphs']} real paragraphs ({results['windows']} windows) of the unlabelled PTC articles. "
        "Decisions: per-label decisions (tuned thresholds) equal to torch fp32's.",
        "",
        "| runtime | paragraphs/s | largest logit difference | same decisions |",
        "|---|---|---|---|",
    ]
    for row in results["rows"]:
        lines.append(
            f"| {row['runtime']} | {row['paragraphs_per_s']:.1f} | {row['max_logit_difference']:.2g} | "
            f"{row['same_decisions']:.2%} |"
        )
    lines += [
        "",
        f"Tokenizing into windows took {results['tokenizer_seconds']:.2f} s, "
        f"{results['tokenizer_share_of_fp32']:.1%} of tokenizer plus torch fp32 time.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
