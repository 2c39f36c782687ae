"""How faithful is a transformer model's evidence: delete a flag's top evidence words and re-score.

    python benchmarks/evidence_faithfulness.py --model runs:/<transformer run>/model [--paragraphs 4000]
        [--occlusion-flags 300] [--seed 0] [--no-readme]

A flag's evidence should name the words its decision rests on. The test is
ERASER's comprehensiveness (DeYoung et al., 2020): delete every occurrence of
the top ``k`` evidence words from the paragraph, score it again, and take the
fall of the flagged label's probability; the share of flags that fall below
their threshold says the same in decisions. Methods, each on the same flags:

- gradient x the hidden state entering each encoder layer (the shipped evidence
  is the last layer's input, and is also taken through ``evidence`` itself to
  check that it gives the same words);
- gradient x input word embeddings (the evidence before);
- occlusion: every word deleted in turn, ranked by the fall (the reference,
  one scoring pass per distinct word; on the first ``--occlusion-flags`` flags);
- random words of the paragraph (the floor).

Flags are the model's own decisions (its thresholds) on one-window paragraphs
of two real sets: the real validation split (``data=framing_real``) and a
seeded sample of the unlabelled PTC articles. Scores come from the weights a
default ``predict.py`` explains with on this machine (the cascade's bf16 copy
where the CPU multiplies bf16, else fp32); ms per flag is the batched
gradient time. Intervals: 95% bootstrap over articles.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

from benchmarks._common import header, real_text_options, save, use_datasets

KS = (1, 3, 5)
SHIPPED = "gradient x input of the last layer (shipped)"
BEFORE = "gradient x input word embeddings (before)"


def main() -> None:
    args = _arguments()
    from framing import load_model
    from framing.config import load_config
    from framing.data.dataset import load_splits
    from framing.data.real_sources import ptc_paragraphs

    root = use_datasets(args.datasets)
    predictor = load_model(args.model)
    explainer = predictor.escalation_model()
    validation = load_splits(load_config(["data=framing_real"]).data).validation
    assert validation is not None
    units = list(ptc_paragraphs(root, folders=("unlabelled-articles",)))
    chosen = np.random.default_rng(args.seed).permutation(len(units))[: args.paragraphs]
    sets = {
        "real validation split": (list(validation.texts), list(validation.groups)),
        "unlabelled PTC articles": ([units[i].text for i in chosen], [units[i].article_id for i in chosen]),
    }
    results: dict[str, Any] = {
        "model": args.model,
        "precision": predictor.escalation_precision(),
        "occlusion_flags": args.occlusion_flags,
        "sets": {},
    }
    for name, (texts, groups) in sets.items():
        results["sets"][name] = _measure(predictor, explainer, texts, groups, args)
        print(name, {row["method"]: row["on_occluded"]["fall"]["3"] for row in results["sets"][name]["rows"]})
    save("evidence_faithfulness", results, _section(results), not args.no_readme)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a transformer model")
    parser.add_argument("--paragraphs", type=int, default=4000, help="unlabelled PTC paragraphs sampled")
    parser.add_argument("--occlusion-flags", type=int, default=300, help="flags per set explained by occlusion")
    real_text_options(parser)
    return parser.parse_args()


class _Flags:
    """The flagged (paragraph, label) pairs of one-window paragraphs, with what the methods need."""

    def __init__(self, predictor: Any, explainer: Any, texts: list[str], groups: list[str]) -> None:
        from framing.models.transformer_model import _word_spans

        windows = explainer.windows(texts, words=True)
        one = np.bincount(windows.owner, minlength=len(texts)) == 1
        self.texts = [t for t, keep in zip(texts, one, strict=True) if keep]
        self.groups = [g for g, keep in zip(groups, one, strict=True) if keep]
        self.windows = explainer.windows(self.texts, words=True)
        self.spans = _word_spans(self.windows)
        self.probabilities = explainer.predict_proba(self.texts)
        self.flags = predictor.flags(self.probabilities)
        self.thresholds = np.asarray(predictor.thresholds)
        self.pairs = [(int(row), int(label)) for row, label in zip(*np.nonzero(self.flags), strict=True)]
        self.explainer = explainer

    def words(self, saliencies: list[np.ndarray]) -> list[list[str]]:
        """Each pair's words, largest summed saliency first (as ``evidence`` ranks them)."""
        from framing.models.transformer_model import _word_weights

        assert self.windows.word_ids is not None
        return [
            [word for word, _ in _word_weights(self.texts[row], self.windows.word_ids[row], saliency, self.spans[row])]
            for (row, _), saliency in zip(self.pairs, saliencies, strict=True)
        ]

    def all_words(self, row: int) -> list[str]:
        """The paragraph's distinct words with a letter, as evidence writes them."""
        from framing.models.transformer_model import _word_weights

        assert self.windows.word_ids is not None
        ones = np.ones(len(self.windows.input_ids[row]))
        return [word for word, _ in _word_weights(self.texts[row], self.windows.word_ids[row], ones, self.spans[row])]

    def fall(self, ranked: list[list[str]], k: int) -> tuple[np.ndarray, np.ndarray]:
        """For the first ``len(ranked)`` pairs: the fall of the flagged probability without the top ``k`` words,
        and whether the flag is lost."""
        pairs = self.pairs[: len(ranked)]
        edited = [_without(self.texts[row], words[:k]) for (row, _), words in zip(pairs, ranked, strict=True)]
        after = self.explainer.predict_proba(edited)
        rows = np.array([row for row, _ in pairs], dtype=int)
        labels = np.array([label for _, label in pairs], dtype=int)
        left = after[np.arange(len(pairs)), labels]
        return self.probabilities[rows, labels] - left, left < self.thresholds[labels]


def _without(text: str, words: list[str]) -> str:
    """``text`` with every whole-word occurrence of ``words`` deleted (any case), spaces closed up."""
    for word in words:
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", "", text, flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", text).strip()


def _gradient_methods(flags: _Flags) -> dict[str, Callable[[], list[np.ndarray]]]:
    """Per method, a function giving each pair's per-token saliency."""
    import torch

    from framing.models import _torch_runtime as rt
    from framing.models.transformer_model import TOKENS_PER_BATCH, length_batches

    explainer = flags.explainer
    model = explainer.model
    layers = int(model.config.num_hidden_layers)
    lengths = [len(flags.windows.input_ids[row]) for row, _ in flags.pairs]

    def batched(gradient_of: Callable[[dict[str, Any], Any], Any]) -> list[np.ndarray]:
        out: list[np.ndarray] = [np.zeros(0)] * len(flags.pairs)
        with torch.enable_grad(), rt.gradient_attention(model):
            batches = length_batches(
                lengths, explainer.config.batch_size, TOKENS_PER_BATCH // 4, explainer._length_step
            )
            for chosen in batches:
                batch = explainer.pad(
                    [flags.windows.input_ids[flags.pairs[i][0]] for i in chosen], explainer._length_step
                )
                labels = torch.tensor([flags.pairs[i][1] for i in chosen])
                scores = gradient_of(batch, labels).detach().float().cpu().numpy()
                for slot, i in enumerate(chosen):
                    out[i] = scores[slot, : lengths[i]]
        return out

    def embeddings() -> list[np.ndarray]:
        def gradient_of(batch: dict[str, Any], labels: Any) -> Any:
            ids = batch.pop("input_ids")
            with torch.no_grad():
                inputs = model.get_input_embeddings()(ids)
            inputs.requires_grad_(True)
            logits = model(inputs_embeds=inputs, **batch).logits[: len(labels)]
            (gradient,) = torch.autograd.grad(logits.gather(1, labels[:, None]).sum(), inputs)
            return (gradient * inputs).sum(-1)

        return batched(gradient_of)

    def entering(layer: int) -> Callable[[], list[np.ndarray]]:
        def run() -> list[np.ndarray]:
            def gradient_of(batch: dict[str, Any], labels: Any) -> Any:
                outputs = model(**batch, output_hidden_states=True)
                hidden = outputs.hidden_states[layer]
                logits = outputs.logits[: len(labels)]
                (gradient,) = torch.autograd.grad(logits.gather(1, labels[:, None]).sum(), hidden)
                return (gradient * hidden).sum(-1)

            return batched(gradient_of)

        return run

    methods: dict[str, Callable[[], list[np.ndarray]]] = {BEFORE: embeddings}
    for layer in range(layers):
        name = SHIPPED if layer == layers - 1 else f"gradient x input of layer {layer + 1} of {layers}"
        methods[name] = entering(layer)
    return methods


def _occlusion(flags: _Flags, n: int) -> tuple[list[list[str]], float]:
    """Words ranked by the fall when each is deleted alone, for the first ``n`` pairs, and ms per pair."""
    began = time.perf_counter()
    edited, owners = [], []
    for index, (row, _) in enumerate(flags.pairs[:n]):
        for word in flags.all_words(row):
            edited.append(_without(flags.texts[row], [word]))
            owners.append((index, word))
    after = flags.explainer.predict_proba(edited) if edited else np.zeros((0, flags.flags.shape[1]))
    falls: dict[int, list[tuple[float, str]]] = {}
    for (index, word), scores in zip(owners, after, strict=True):
        row, label = flags.pairs[index]
        falls.setdefault(index, []).append((float(flags.probabilities[row, label] - scores[label]), word))
    ranked = [
        [word for _, word in sorted(falls.get(i, []), key=lambda item: -item[0])]
        for i in range(min(n, len(flags.pairs)))
    ]
    return ranked, 1000 * (time.perf_counter() - began) / max(1, min(n, len(flags.pairs)))


def _measure(
    predictor: Any, explainer: Any, texts: list[str], groups: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    flags = _Flags(predictor, explainer, texts, groups)
    rows: list[dict[str, Any]] = []
    ranked_by: dict[str, list[list[str]]] = {}
    for name, method in _gradient_methods(flags).items():
        method()  # warm-up: kernels and caches, so the timed pass is the method's own cost
        began = time.perf_counter()
        saliencies = method()
        ms = 1000 * (time.perf_counter() - began) / max(1, len(flags.pairs))
        ranked_by[name] = flags.words(saliencies)
        rows.append({"method": name, "ms_per_flag": ms})
    shipped = _through_evidence(flags, flags.explainer)
    same = sum(a[:5] == b[:5] for a, b in zip(shipped, ranked_by[SHIPPED], strict=True))
    as_trained = _through_evidence(flags, predictor.model) if predictor.model is not flags.explainer else shipped
    same_top_word = sum(a[:1] == b[:1] for a, b in zip(shipped, as_trained, strict=True))
    rng = np.random.default_rng(args.seed)
    ranked_by["random words"] = [list(rng.permutation(flags.all_words(row))) for row, _ in flags.pairs]
    rows.append({"method": "random words", "ms_per_flag": None})
    occluded, occlusion_ms = _occlusion(flags, args.occlusion_flags)
    n_occluded = len(occluded)
    for row in rows:
        row.update(_scores(flags, ranked_by[row["method"]]))
        row["on_occluded"] = _scores(flags, ranked_by[row["method"]][:n_occluded])
    occlusion = "occlusion (each word deleted in turn)"
    rows.append({"method": occlusion, "ms_per_flag": occlusion_ms, "on_occluded": _scores(flags, occluded)})
    return {
        "paragraphs": len(flags.texts),
        "articles": len(set(flags.groups)),
        "flags": len(flags.pairs),
        "flagged_paragraphs": int(flags.flags.any(axis=1).sum()),
        "occluded_flags": n_occluded,
        "evidence_same_top5": same,
        "top_word_as_fp32": same_top_word,
        "rows": rows,
    }


def _through_evidence(flags: _Flags, model: Any) -> list[list[str]]:
    """Each pair's top 5 words from ``TransformerClassifier.evidence`` itself, of ``model``'s weights."""
    found = model.evidence(flags.texts, flags.flags, 5)
    return [[word for word, _ in found[row][model.labels[label]]] for row, label in flags.pairs]


def _scores(flags: _Flags, ranked: list[list[str]]) -> dict[str, Any]:
    """Over the first ``len(ranked)`` pairs: mean fall at each k with a 95% bootstrap interval over articles,
    and the share of flags lost."""
    out: dict[str, Any] = {"fall": {}, "interval": {}, "unflagged": {}}
    groups = [flags.groups[row] for row, _ in flags.pairs[: len(ranked)]]
    for k in KS:
        fall, unflagged = flags.fall(ranked, k)
        out["fall"][str(k)] = float(fall.mean())
        out["interval"][str(k)] = _bootstrap(fall, groups)
        out["unflagged"][str(k)] = float(unflagged.mean())
    return out


def _bootstrap(values: np.ndarray, groups: list[str]) -> list[float]:
    """The package's 95% cluster-bootstrap interval of the mean of ``values``, articles resampled."""
    from framing.uncertainty import ClusterBootstrap, percentile_interval

    _, draws = ClusterBootstrap.over(groups).totals(np.column_stack([values, np.ones(len(values))]))
    return list(percentile_interval(draws[:, 0] / draws[:, 1]))


def _section(results: dict[str, Any]) -> str:
    lines = [
        "## Faithfulness of evidence (`evidence_faithfulness.py`)",
        "",
        header(f"python benchmarks/evidence_faithfulness.py --model {results['model']}"),
        f"Weights: {results['precision']} (what `predict.py` explains with here). Fall: mean fall of the flagged "
        "label's probability when the top k evidence words are deleted [95% bootstrap over articles]; unflagged: "
        "share of flags that fall below their threshold. Occlusion ran on the first "
        f"{results['occlusion_flags']} flags of each set; the last column gives every method on those flags. "
        "Ms per flag: one batched gradient pass over the flags alone (`predict.py` explains most flags in the pass "
        "that scores them).",
    ]
    for name, found in results["sets"].items():
        lines += [
            "",
            f"**{name}**: {found['flags']} flags of {found['flagged_paragraphs']} paragraphs "
            f"({found['paragraphs']} one-window paragraphs, {found['articles']} articles); `evidence` gave the "
            f"shipped row's top 5 words for {found['evidence_same_top5']} of {found['flags']}, and the same top word "
            f"as the fp32 weights for {found['top_word_as_fp32']}.",
            "",
            "| method | ms per flag | fall, top 1 | fall, top 3 [95% CI] | fall, top 5 | unflagged, top 3 | "
            "on the occluded flags: fall, top 1 / 3 / 5 |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in found["rows"]:
            ms = f"{row['ms_per_flag']:.1f}" if row["ms_per_flag"] is not None else ""
            sub = " / ".join(f"{row['on_occluded']['fall'][str(k)]:.3f}" for k in KS)
            if "fall" not in row:
                lines.append(f"| {row['method']} | {ms} | | | | | {sub} |")
                continue
            low, high = row["interval"]["3"]
            lines.append(
                f"| {row['method']} | {ms} | {row['fall']['1']:.3f} | {row['fall']['3']:.3f} [{low:.2f}, {high:.2f}] "
                f"| {row['fall']['5']:.3f} | {row['unflagged']['3']:.1%} | {sub} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
