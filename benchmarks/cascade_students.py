"""Candidates for the cascade's fast scorer, measured on real text against the transformer they stand in for.

    python benchmarks/cascade_students.py --model runs:/<transformer run>/model --tfidf runs:/<tfidf run>/model
        [--unlabelled 1000] [--no-readme]

The transformer (``--model``, trained with ``data=framing_real``) scores the
training paragraphs, the unlabelled PTC training articles (``data.unlabelled``
of that config), the real validation and test splits and a sample of the 400
unlabelled PTC articles. Each candidate is fitted on the first two, its band
chosen on validation exactly as a training run does
(``framing.cascade.fit.choose_band`` with the model's ``cascade`` settings:
by default agreement >= 0.992 per label, macro-F1 within 0.005), and measured
on the test split and the unlabelled sample:
escalation rate (share sent to the transformer), worst-label agreement with
the transformer, macro-F1 against the labels (test), and the candidate's own
paragraphs/s. Candidates:

- ridge on TF-IDF word 1-2-grams;
- ridge on TF-IDF word 1-2-grams and character 2-5-grams, with vocabularies;
- the same n-grams hashed (2**18 features per kind): what ships;
- ridge on static token vectors distilled from the fine-tuned encoder
  (each vocabulary token's last hidden state, alone between [CLS] and [SEP]),
  averaged with smooth inverse-frequency weights: a model2vec-style student;
- the same hashed n-grams with a stronger ridge penalty (alpha 3 for 1), with
  targets clipped to 3 logits either side of the decision (capacity spent near
  the threshold, not on how negative a negative is), and as one logistic
  regression per label on the transformer's decisions instead of its logits;
- the TF-IDF family's own model (``--tfidf``), its margin being its logit
  minus its threshold's.

Every candidate is measured as the cascade runs: a label of
``data.requires_news_media`` on a row without a news-media reference is
decided by the requirement, not by a scorer.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._cascade import CascadeInputs, cascade_inputs
from benchmarks._common import real_text_options, save

Candidate = Callable[[list[str]], np.ndarray]  # texts -> the candidate's estimate of the transformer's logits


def main() -> None:
    args = _arguments()
    inputs = cascade_inputs(args.model, args.unlabelled, args.seed, args.datasets)
    candidates = _candidates(args, inputs.teacher, inputs.texts["distil"], inputs.logits["distil"])
    rows = [
        {**_measure(name, candidate, inputs), "file_mb_load_s": file} for name, (candidate, file) in candidates.items()
    ]
    results = {"model": args.model, "tfidf": args.tfidf, "distillation_rows": len(inputs.texts["distil"]), "rows": rows}
    section = _section(results, len(inputs.texts["unlabelled"]), len(inputs.texts["test"]))
    save("cascade_students", results, section, not args.no_readme)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a transformer model trained with data=framing_real")
    parser.add_argument("--tfidf", default=None, help="a TF-IDF model trained with data=framing_real (optional)")
    parser.add_argument("--unlabelled", type=int, default=1000, help="paragraphs sampled from the unlabelled articles")
    real_text_options(parser)
    return parser.parse_args()


def _ridge(features: Any, texts: list[str], targets: np.ndarray) -> tuple[Candidate, Any]:
    """A ridge regression on ``features``, as a scikit-learn Pipeline (float32 weights, as the student's)."""
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline

    pipeline = Pipeline([("features", features), ("ridge", Ridge(alpha=1.0))]).fit(texts, targets)
    pipeline.named_steps["ridge"].coef_ = pipeline.named_steps["ridge"].coef_.astype(np.float32)
    return lambda batch: np.asarray(pipeline.predict(batch), dtype=np.float64), pipeline


def _load_seconds(pipeline: Any, vocabularies: bool) -> tuple[float, float]:
    """Size (MB) and load time (s) of ``pipeline`` written as a model file is."""
    import tempfile

    from framing.models.skops_files import dump_pipeline, load_pipeline

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "candidate.skops"
        dump_pipeline(pipeline, path, slim=vocabularies)
        started = time.perf_counter()
        load_pipeline(path)
        return path.stat().st_size / 1e6, time.perf_counter() - started


def _candidates(
    args: argparse.Namespace, teacher: Any, texts: list[str], targets: np.ndarray
) -> dict[str, tuple[Candidate, tuple[float, float] | None]]:
    """Each candidate with the size and load time of its file (None where it has no file of its own)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    from framing.cascade import threshold_logits
    from framing.cascade.student import Student

    model = teacher.model

    def words() -> TfidfVectorizer:
        return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, dtype=np.float32)

    def characters() -> TfidfVectorizer:
        options = {"ngram_range": (2, 5), "sublinear_tf": True, "min_df": 2, "max_features": 300_000}
        return TfidfVectorizer(analyzer="char_wb", dtype=np.float32, **options)

    word_only, word_pipeline = _ridge(FeatureUnion([("word", words())]), texts, targets)
    both, both_pipeline = _ridge(FeatureUnion([("word", words()), ("char", characters())]), texts, targets)
    shipped = Student.fit(texts, targets)
    static, _ = _ridge(_StaticVectors(model), texts, targets)
    found: dict[str, tuple[Candidate, tuple[float, float] | None]] = {
        "ridge, TF-IDF words (vocabulary)": (word_only, _load_seconds(word_pipeline, True)),
        "ridge, TF-IDF words + characters (vocabulary)": (both, _load_seconds(both_pipeline, True)),
        "ridge, hashed TF-IDF words + characters (ships)": (shipped.logits, _load_seconds(shipped.pipeline, False)),
        **_hashed_variants(shipped, texts, targets, threshold_logits(teacher.thresholds, model.temperature)),
        "ridge, static token vectors of the encoder": (static, None),
    }
    if args.tfidf:
        from framing import load_model

        tfidf = load_model(args.tfidf)
        assert tfidf.thresholds is not None
        # The same margin from the decision as the TF-IDF model's own, placed at the transformer's cuts.
        shift = threshold_logits(teacher.thresholds, model.temperature) - _logit(tfidf.thresholds)
        found["TF-IDF family model"] = (lambda batch: _logit(tfidf.probabilities(batch)) + shift, None)
    return found


def _hashed_variants(
    shipped: Any, texts: list[str], targets: np.ndarray, cuts: np.ndarray
) -> dict[str, tuple[Candidate, None]]:
    """The shipped student's hashed n-grams under other fits: each a candidate on the same features."""
    from sklearn.linear_model import LogisticRegression, Ridge

    features = shipped.pipeline.named_steps["features"]
    matrix = features.transform(texts)
    margin = targets - cuts

    def linear(fitted: list[Any]) -> Candidate:
        def estimate(batch: list[str]) -> np.ndarray:
            rows = features.transform(batch)
            scores = [m.decision_function(rows) if hasattr(m, "decision_function") else m.predict(rows) for m in fitted]
            return np.column_stack([np.asarray(s).reshape(len(batch), -1) for s in scores]) + cuts

        return estimate

    decisions = [
        LogisticRegression(C=1.0, max_iter=2000).fit(matrix, (margin[:, j] >= 0).astype(int))
        for j in range(margin.shape[1])
    ]
    return {
        "ridge, hashed n-grams, alpha 3": (linear([Ridge(alpha=3.0).fit(matrix, margin)]), None),
        "ridge, hashed n-grams, targets clipped at 3 logits from the cut": (
            linear([Ridge(alpha=1.0).fit(matrix, np.clip(margin, -3.0, 3.0))]),
            None,
        ),
        "logistic regression per label on the transformer's decisions, hashed n-grams": (linear(decisions), None),
    }


def _logit(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(np.asarray(p, dtype=np.float64), 1e-9, 1 - 1e-9)
    return np.log(clipped / (1 - clipped))


class _StaticVectors:
    """Paragraph vectors from per-token vectors of the fine-tuned encoder (model2vec's recipe, without its PCA)."""

    def __init__(self, model: Any) -> None:
        import torch

        self.tokenizer = model.tokenizer
        encoder = (model._explainer or model.model).base_model
        size = self.tokenizer.vocab_size
        self.vectors = np.zeros((size, encoder.config.hidden_size), dtype=np.float32)
        ends = (self.tokenizer.cls_token_id, self.tokenizer.sep_token_id)
        with torch.inference_mode():
            for start in range(0, size, 2048):
                ids = torch.arange(start, min(size, start + 2048))
                batch = torch.stack([torch.full_like(ids, ends[0]), ids, torch.full_like(ids, ends[1])], dim=1)
                hidden = encoder(input_ids=batch, attention_mask=torch.ones_like(batch)).last_hidden_state
                self.vectors[start : start + len(ids)] = hidden[:, 1].numpy()
        self.weights = np.ones(size, dtype=np.float32)

    def _ids(self, texts: list[str]) -> list[list[int]]:
        return list(self.tokenizer(texts, add_special_tokens=False, truncation=True, max_length=512)["input_ids"])

    def fit_transform(self, texts: list[str], targets: object = None) -> np.ndarray:
        ids = self._ids(texts)
        counts = np.bincount(
            np.concatenate([np.asarray(i, dtype=np.int64) for i in ids if i]), minlength=len(self.vectors)
        )
        share = (counts + 1) / (counts.sum() + len(counts))
        self.weights = (1e-3 / (1e-3 + share)).astype(np.float32)
        return self._embed(ids)

    def transform(self, texts: list[str]) -> np.ndarray:
        return self._embed(self._ids(texts))

    def _embed(self, ids: list[list[int]]) -> np.ndarray:
        out = np.zeros((len(ids), self.vectors.shape[1]), dtype=np.float32)
        for row, tokens in enumerate(ids):
            if tokens:
                weight = self.weights[tokens]
                out[row] = (self.vectors[tokens] * weight[:, None]).sum(axis=0) / weight.sum()
        return out


def _measure(name: str, candidate: Candidate, inputs: CascadeInputs) -> dict[str, Any]:
    """The candidate's band, chosen on validation as a run chooses it, measured on test and the unlabelled sample."""
    estimates = {split: candidate(inputs.texts[split]) for split in ("validation", "test")}
    started = time.perf_counter()
    estimates["unlabelled"] = candidate(inputs.texts["unlabelled"])
    speed = len(inputs.texts["unlabelled"]) / (time.perf_counter() - started)
    cascade, fitted = inputs.choose(estimates["validation"])
    test = inputs.check(cascade.band, estimates["test"], "test")
    unlabelled = inputs.check(cascade.band, estimates["unlabelled"], "unlabelled")
    return {
        "candidate": name,
        "budget": cascade.fitted["budget"],
        "validation_escalation": fitted.escalation,
        "test_escalation": test.escalation,
        "test_agreement": float(test.agreement.min()),
        "test_f1_macro": test.f1,
        "test_f1_macro_exact": test.f1_exact,
        "unlabelled_escalation": unlabelled.escalation,
        "unlabelled_agreement": float(unlabelled.agreement.min()),
        "paragraphs_per_s": speed,
    }


def _section(results: dict[str, Any], unlabelled: int, test: int) -> str:
    lines = [
        "## Cascade: which fast scorer (`cascade_students.py`)",
        "",
        "```",
        f"python benchmarks/cascade_students.py --model {results['model']}"
        + (f" --tfidf {results['tfidf']}" if results["tfidf"] else ""),
        "```",
        "",
        f"Each candidate fitted on the transformer's logits for {results['distillation_rows']:,} paragraphs (training "
        "rows and the unlabelled PTC training articles), its band chosen on the real validation split as a training "
        f"run does; measured on the real test split ({test:,}) and {unlabelled:,} paragraphs of the unlabelled "
        "articles. Escalation: share sent to the transformer (lower is faster). Agreement: worst label's share of "
        "decisions equal to the transformer's. F1: the cascade's macro-F1 (the transformer alone in brackets).",
        "",
        "| candidate | budget | test escalation | test agreement | test macro-F1 | unlabelled escalation | "
        "unlabelled agreement | candidate paragraphs/s | file MB, load s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        lines.append(
            f"| {row['candidate']} | {row['budget']:g} | {row['test_escalation']:.1%} | {row['test_agreement']:.2%} | "
            f"{row['test_f1_macro']:.3f} ({row['test_f1_macro_exact']:.3f}) | {row['unlabelled_escalation']:.1%} | "
            f"{row['unlabelled_agreement']:.2%} | {row['paragraphs_per_s']:,.0f} | "
            + ("" if row["file_mb_load_s"] is None else "{:.1f} MB, {:.2f} s".format(*row["file_mb_load_s"]))
            + " |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
