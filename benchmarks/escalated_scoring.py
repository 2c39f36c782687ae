"""How the transformer scores and explains the paragraphs a cascade sends it: batch rows, replayed evidence.

On real-length paragraphs (``scoring_scale.py generate-real``), in one process, with the
model's own cascade choosing which paragraphs go on:
  (a) ``predict_proba`` of the escalated paragraphs with 8, 16, 32 and 64 windows per
      batch, on the transformer copy that scores them (bf16 where the CPU has it) and on
      the fp32 weights (``--exact``);
  (b) the gradients of evidence for the flags of those paragraphs, run from the state their
      scoring kept (the last layer and the head only) against whole second passes, and
      how far the replayed logits are from the scored ones;
  (c) the evidence of one call of ``predict_with_evidence`` against evidence computed
      afterwards by whole passes (``Predictor.evidence``): top word, top-5 overlap, and
      whether the labels equal those of ``predict`` (``--evidence 0``).

    python benchmarks/scoring_scale.py generate-real --paragraphs 30000 --output /tmp/real30k.jsonl
    python benchmarks/escalated_scoring.py --model runs:/<run>/model --input /tmp/real30k.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from framing import load_model


def _paragraphs(path: Path, most: int) -> list[str]:
    texts: list[str] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            texts += [part for part in json.loads(line)["text"].split("\n\n") if part.strip()]
            if len(texts) >= most:
                break
    return texts[:most]


def _seconds(run: Any, repeats: int) -> float:
    """The fastest of ``repeats`` timed calls, after one untimed call that builds the kernels."""
    run()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def batch_rows(model: Any, texts: list[str], repeats: int) -> dict[int, float]:
    """Seconds to score ``texts`` with each number of windows per batch."""
    original = model.config
    seconds: dict[int, float] = {}
    try:
        for rows in (8, 16, 32, 64):
            model.config = original.model_copy(update={"eval_batch_size": rows})
            seconds[rows] = round(
                _seconds(lambda: [model.predict_proba(texts[i : i + 512]) for i in range(0, len(texts), 512)], repeats),
                2,
            )
    finally:
        model.config = original
    return seconds


def replayed_gradients(predictor: Any, texts: list[str], repeats: int) -> dict[str, float]:
    """Seconds for the flags' gradients from kept states and by whole passes; the largest relative logit gap."""
    model = predictor.escalation_model()
    windows = model.windows(texts, words=True)
    _, flags, logits, kept = model._scored_keeping_states(windows, len(texts), lambda _, p: predictor.flags(p))
    pairs = [pair for pair in model._explained_windows(windows, flags, logits) if pair[0] in kept]
    gaps: list[float] = []
    replay = model._replayed

    def measured(batch: Any, weights: Any, states: list[Any]) -> Any:
        logits, hidden = replay(batch, weights, states)
        if logits is not None:
            scored = np.stack([state.logits for state in states])
            replayed = logits[: len(states)].detach().float().cpu().numpy()
            gaps.append(float(np.max(np.abs(replayed - scored) / (1 + np.abs(scored)))))
        return logits, hidden

    model._replayed = measured
    try:
        from_states = _seconds(lambda: model._saliency(windows, pairs, model.model, kept), repeats)
    finally:
        del model._replayed
    whole = _seconds(lambda: model._saliency(windows, pairs, model.model), repeats)
    return {
        "flags": len(pairs),
        "seconds_from_kept_states": round(from_states, 2),
        "seconds_whole_passes": round(whole, 2),
        "largest_gap": round(max(gaps, default=0.0), 4),
        "still_replaying": bool(model._replays),
    }


def evidence_agreement(predictor: Any, texts: list[str]) -> dict[str, float]:
    """Evidence of one pass against whole passes, and labels with evidence against labels without."""
    one_pass = predictor.predict_with_evidence(texts, k=5)
    plain = predictor.predict(texts)
    escalated = (one_pass["decided_by"] == "transformer").to_numpy()
    probabilities = one_pass[[f"p_{label}" for label in predictor.labels]].to_numpy()
    whole = predictor.evidence(texts, predictor.flags(probabilities), escalated, 5)
    same_top, overlaps = 0, []
    for row in np.flatnonzero(escalated):
        for label, terms in whole[row].items():
            got = one_pass["evidence"].iloc[row].get(label, [])
            if terms and got:
                same_top += got[0][0] == terms[0][0]
                overlaps.append(len({w for w, _ in got} & {w for w, _ in terms}) / len(terms))
    equal = (plain["labels"].map(tuple) == one_pass["labels"].map(tuple)).to_numpy()
    return {
        "transformer_flags": len(overlaps),
        "top_word_same": round(same_top / max(len(overlaps), 1), 4),
        "top5_overlap": round(float(np.mean(overlaps)) if overlaps else 0.0, 4),
        "labels_equal_to_evidence_off": f"{int(equal.sum())}/{len(equal)}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a transformer model with a cascade")
    parser.add_argument(
        "--input", type=Path, required=True, help="JSON Lines of articles, paragraphs split by blank lines"
    )
    parser.add_argument("--paragraphs", type=int, default=12_288)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    predictor = load_model(args.model)
    texts = _paragraphs(args.input, args.paragraphs)
    _, escalated = predictor.decide(texts)
    sent_on = [texts[i] for i in np.flatnonzero(escalated)]
    print(f"{len(texts)} paragraphs, {len(sent_on)} escalated ({predictor.escalation_precision()} copy)")
    print(
        "escalated copy, seconds by windows per batch:", batch_rows(predictor.escalation_model(), sent_on, args.repeats)
    )
    print("fp32 weights, seconds by windows per batch:", batch_rows(predictor.model, sent_on, args.repeats))
    print("evidence gradients:", replayed_gradients(predictor, sent_on, args.repeats))
    print("evidence in one call:", evidence_agreement(predictor, texts[: len(texts) // 2]))


if __name__ == "__main__":
    main()
