"""Corpus-scale TF-IDF scoring: our local engine vs the naive approach, and Ray's overhead.

    python benchmarks/scoring_scale.py generate --paragraphs 1000000 --output /tmp/corpus.jsonl
    python benchmarks/scoring_scale.py run --model runs:/<id>/model --input /tmp/corpus.jsonl

``generate`` writes articles (5 paragraphs each, with outlet and date) built from the
shipped dataset's paragraphs in random combinations; the file is not committed.
``generate-real`` writes distinct paragraphs of real length instead: each takes the
sentence count of a random real PTC paragraph and that many random sentences of the
PTC articles ($FRAMING_DATASETS), never the same text twice, so that no repeat is
answered from memory.
``run`` times each approach in its own process and reads that process's peak RSS:
- naive: pandas reads the whole file, splits every article, one ``predict_proba`` call,
  labels from the thresholds, one Parquet write;
- framing local engine, with and without evidence;
- framing on Ray Data in local mode (optional, ``--ray``).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTLETS = ["Harbour Chronicle", "Northern Telegraph", "Capital Daily", "Evening Herald", "Delta Wire", "Gulf Courier"]


def generate(paragraphs: int, output: Path, per_article: int = 5) -> None:
    pool = []
    for split in ("train", "validation", "test"):
        for line in (ROOT / "data" / "framing" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            text = json.loads(line)["text"]
            if len(text.split()) >= 8:
                pool.append(text)
    rng = random.Random(0)
    with open(output, "w", encoding="utf-8") as handle:
        for article in range(paragraphs // per_article):
            body = "\n\n".join(rng.choice(pool) for _ in range(per_article))
            year = 1995 + article % 31
            record = {
                "article_id": f"g{article:07d}",
                "outlet": OUTLETS[article % len(OUTLETS)],
                "date": f"{year}-{1 + article % 12:02d}-15",
                "text": body,
            }
            handle.write(json.dumps(record) + "\n")
    print(f"wrote {paragraphs // per_article} articles ({paragraphs} paragraphs) to {output}")


def generate_real(paragraphs: int, output: Path, datasets: Path | None, per_article: int = 5) -> None:
    import re

    from framing.data.real_sources import datasets_root, ptc_paragraphs

    root = datasets_root(datasets)
    folders = ("train-articles", "dev-articles", "unlabelled-articles")
    units = [u.text for u in ptc_paragraphs(root, folders=folders)]
    split = [[s for s in re.split(r"(?<=[.!?])\s+", text) if s] for text in units]
    sentences = sorted({s for parts in split for s in parts})
    counts = [max(1, len(parts)) for parts in split]
    rng = random.Random(0)
    seen: set[int] = set()
    written = 0
    with open(output, "w", encoding="utf-8") as handle:
        while written < paragraphs:
            body = []
            while len(body) < per_article:
                text = " ".join(rng.choice(sentences) for _ in range(rng.choice(counts)))
                key = hash(text)
                if key not in seen:
                    seen.add(key)
                    body.append(text)
            record = {"article_id": f"r{written // per_article:07d}", "text": "\n\n".join(body)}
            handle.write(json.dumps(record) + "\n")
            written += per_article
    print(f"wrote {written // per_article} articles ({written} distinct paragraphs) to {output}")


NAIVE = """
import sys, numpy as np, pandas as pd
from framing import load_model
from framing.scoring.paragraphs import split_paragraphs
predictor = load_model(sys.argv[1])
frame = pd.read_json(sys.argv[2], lines=True)
frame["text"] = frame["text"].map(split_paragraphs)
frame = frame.explode("text", ignore_index=True)
probabilities = predictor.model.predict_proba(frame["text"].tolist())
flags = predictor.flags(probabilities)
frame["labels"] = [[predictor.labels[j] for j in np.flatnonzero(row)] for row in flags]
for j, label in enumerate(predictor.labels):
    frame[f"p_{label}"] = probabilities[:, j]
frame.to_parquet(sys.argv[3])
print(len(frame))
"""


WRAPPER = """
import resource, subprocess, sys, time
started = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def measure(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a command, through a fresh wrapper process.

    ``ru_maxrss`` of RUSAGE_CHILDREN is the largest of all children so far, so each
    approach runs under its own wrapper to get its own peak (for Ray: the driver's).
    """
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command], check=True, cwd=ROOT, capture_output=True, text=True
    )
    seconds, peak_kib = result.stdout.split()
    return float(seconds), int(peak_kib) / 1024


def run(model: str, corpus: Path, with_ray: bool) -> None:
    with open(corpus, "rb") as handle:
        paragraphs = 5 * sum(1 for _ in handle)
    work = Path(tempfile.mkdtemp(prefix="framing-bench-"))
    predict = [sys.executable, "predict.py", "--model", model, "--input", str(corpus), "--quiet"]
    approaches = [
        (
            "naive: pandas, one predict_proba",
            [sys.executable, "-c", NAIVE, model, str(corpus), str(work / "naive.parquet")],
        ),
        ("framing local engine, evidence off", [*predict, "--output", str(work / "fast"), "--evidence", "0"]),
        ("framing local engine, 5 evidence n-grams", [*predict, "--output", str(work / "full")]),
    ]
    if with_ray:
        approaches.append(
            ("framing on Ray Data, local mode", [*predict, "--output", str(work / "ray"), "--engine", "ray"])
        )
    print(f"{paragraphs} paragraphs; each approach in its own process, one at a time")
    print("| approach | seconds | paragraphs/s | peak RSS (MiB) |")
    print("|---|---|---|---|")
    for name, command in approaches:
        seconds, peak = measure(command)
        print(f"| {name} | {seconds:.0f} | {paragraphs / seconds:,.0f} | {peak:,.0f} |", flush=True)
    shutil.rmtree(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("generate")
    make.add_argument("--paragraphs", type=int, default=1_000_000)
    make.add_argument("--output", type=Path, required=True)
    real = commands.add_parser("generate-real")
    real.add_argument("--paragraphs", type=int, default=1_000_000)
    real.add_argument("--output", type=Path, required=True)
    real.add_argument("--datasets", type=Path, default=None, help="default: $FRAMING_DATASETS or ../shared/datasets")
    bench = commands.add_parser("run")
    bench.add_argument("--model", required=True)
    bench.add_argument("--input", type=Path, required=True)
    bench.add_argument("--ray", action="store_true")
    args = parser.parse_args()
    if args.command == "generate":
        generate(args.paragraphs, args.output)
    elif args.command == "generate-real":
        generate_real(args.paragraphs, args.output, args.datasets)
    else:
        run(args.model, args.input, args.ray)


if __name__ == "__main__":
    main()
