"""What every dataset benchmark shares: where the data is, the model settings, and how results are written.

Results go to two places: ``benchmarks/results/<name>.json`` (the numbers, for
other benchmarks to read, e.g. the cross-domain drop) and a section of
``benchmarks/README.md`` between ``<!-- <name> -->`` markers, replaced on
every run, headed by the date, machine and commit that produced it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "benchmarks" / "README.md"
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))

# The two families as benchmarked. Sentences are short (BABE median ~200 characters, about
# 45 tokens), so 128 tokens hold nearly all of them in one window; 3 epochs keep five folds
# within an hour on two CPU cores (early stopping still picks the best epoch).
FAMILY_OVERRIDES = {
    "tfidf": ["model=tfidf"],
    "transformer": ["model=transformer", "model.max_length=128", "model.epochs=3"],
}


def parser(description: str, default_experiment: str) -> argparse.ArgumentParser:
    """Options every dataset benchmark takes."""
    result = argparse.ArgumentParser(description=description)
    result.add_argument(
        "--datasets",
        type=Path,
        default=Path(os.environ.get("FRAMING_DATASETS", ROOT.parent / "shared" / "datasets")),
        help="folder holding babe/, ukraine-news-bias/ (default $FRAMING_DATASETS or ../shared/datasets)",
    )
    result.add_argument("--families", nargs="+", choices=sorted(FAMILY_OVERRIDES), default=["tfidf", "transformer"])
    result.add_argument("--folds", type=int, default=5)
    result.add_argument("--seed", type=int, default=42)
    result.add_argument("--experiment", default=default_experiment, help="MLflow experiment of the runs")
    result.add_argument("--work-dir", type=Path, default=ROOT / "outputs" / "benchmarks", help="fold files")
    result.add_argument("--no-readme", action="store_true", help="print the table only: write nothing into benchmarks/")
    result.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra config override for every run, e.g. model.learning_rate=5e-5 (repeatable)",
    )
    return result


def real_text_options(parser: argparse.ArgumentParser) -> None:
    """``--seed``, ``--datasets`` and ``--no-readme``, as the benchmarks on the datasets' real text take them."""
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", default=None, help="default: $FRAMING_DATASETS or ../shared/datasets")
    parser.add_argument("--no-readme", action="store_true", help="print only; write neither JSON nor README")


def use_datasets(folder: str | Path | None) -> Path:
    """The public datasets folder for every read of this run, ``--datasets`` first.

    A given folder is exported as ``FRAMING_DATASETS`` before any config is
    loaded, so the ``framing_real`` adapter and ``data.unlabelled`` read the
    same copy as the benchmark's own reads.
    """
    from framing.data.real_sources import datasets_root

    if folder:
        os.environ["FRAMING_DATASETS"] = str(folder)
    return datasets_root(folder)


def dataset_path(datasets: Path, *parts: str) -> Path:
    """A file or folder of the shared datasets, or a clear exit saying where it was looked for."""
    path = datasets.joinpath(*parts)
    if not path.exists():
        raise SystemExit(f"{path}: not found; pass --datasets DIR or set FRAMING_DATASETS")
    return path


def overrides(family: str, args: argparse.Namespace, extra: list[str] | None = None) -> list[str]:
    """Config overrides of one benchmarked family: its model, the benchmark's experiment, seed and ``--override``s."""
    common = [f"tracking.experiment={args.experiment}", f"seed={args.seed}"]
    return [*FAMILY_OVERRIDES[family], *common, *args.override, *(extra or [])]


def family_name(family: str, args: argparse.Namespace) -> str:
    """The family as the tables show it, with any ``--override`` that changed it."""
    return f"{family} ({', '.join(args.override)})" if args.override else family


def cross_validate(
    data: Any,
    family: str,
    args: argparse.Namespace,
    *,
    benchmark: str,
    title: str,
    grouping: str,
    labels: list[str],
    task: str,
    work_dir: Path,
) -> dict[str, Any]:
    """One family's grouped cross-validation on ``data`` (with ``cv_group``), as a results row."""
    from framing.crossval import run_cross_validation

    result = run_cross_validation(
        data,
        overrides(family, args),
        labels=labels,
        task=task,
        work_dir=work_dir,
        n_folds=args.folds,
        seed=args.seed,
        name=f"{title} {family} by {grouping}",
        parent_tags={"benchmark": benchmark, "cv.grouping": grouping, "model_family": family},
    )
    return {
        "family": family,
        "label": family_name(family, args),
        "grouping": grouping,
        "groups": int(data["cv_group"].nunique()),
        "parent_run_id": result.parent_run_id,
        "mean": result.mean,
        "std": result.std,
        "folds": result.fold_metrics,
    }


def table_head(title: str, command: str, data: str, columns: list[str]) -> list[str]:
    """The lines above a results table's rows: title, provenance, data line, column header."""
    return [
        f"## {title}",
        "",
        header(command),
        data,
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]


def machine() -> str:
    """CPU model and count, torch and its device: enough to know where a number comes from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    text = f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} CPUs"
    try:
        import torch

        device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
        text += f", torch {torch.__version__} ({device}, {torch.get_num_threads()} threads)"
    except ImportError:
        pass
    return text


def commit() -> str:
    """The commit the benchmark ran at, marked ``+changes`` if the tree was not clean."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return "unknown"
    return head.stdout.strip() + (" +changes" if dirty.stdout.strip() else "") if head.returncode == 0 else "unknown"


def header(command: str) -> str:
    """The provenance lines above a results table: when the benchmark started, at which commit, where."""
    minutes = (time.monotonic() - STARTED_CLOCK) / 60
    if sys.argv[1:]:  # not the default run: show what was actually run
        command = " ".join(["python", f"benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]])
    return (
        f"Command: `{command}`\n\nStarted {STARTED}, wall time {minutes:.1f} min, commit `{STARTED_AT_COMMIT}`, "
        f"{machine()}.\n"
    )


# taken when the benchmark starts, so edits made while it runs do not change its provenance
STARTED = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
STARTED_CLOCK = time.monotonic()
STARTED_AT_COMMIT = commit()


def mean_std(values: dict[str, float], spread: dict[str, float], name: str) -> str:
    """``0.789 ± 0.012`` or ``n/a`` when a metric was not logged."""
    if name not in values:
        return "n/a"
    return f"{values[name]:.3f} ± {spread.get(name, 0.0):.3f}"


def save(name: str, results: dict[str, Any], section: str, write_readme: bool) -> None:
    """Print the table; unless told not to, write the JSON results and replace this benchmark's README section.

    Each file is replaced whole (a run killed while writing leaves the old one), and the README's
    read-modify-write holds a lock, so two benchmarks finishing together both keep their sections.
    """
    from filelock import FileLock

    from framing.atomic import atomic_write_text

    print(section)
    if not write_readme:
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    atomic_write_text(RESULTS / f"{name}.json", json.dumps(results, indent=2, sort_keys=True) + "\n")
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    block = f"{start}\n{section.strip()}\n{end}"
    with FileLock(f"{README}.lock"):
        text = README.read_text(encoding="utf-8")
        if start in text and end in text:
            before, _, rest = text.partition(start)
            _, _, after = rest.partition(end)
            text = before + block + after
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
        atomic_write_text(README, text)


def write_encoder(encoder: Any, tokenizer: Any, output: Path) -> None:
    """An encoder and its tokenizer as a folder for ``model.base_model``: complete, or not there at all.

    The files go to a hidden sibling first and the folder is renamed into place,
    so a killed run leaves no half-written encoder; a folder that another run
    wrote meanwhile is kept, and this run exits naming where its own encoder is.
    A rename replaces an empty folder without a word, hence the look first.
    """
    partial = output.with_name(f".{output.name}.partial-{os.getpid()}")
    encoder.save_pretrained(partial, safe_serialization=True)
    tokenizer.save_pretrained(partial)
    try:
        if output.exists():
            raise FileExistsError(output)
        partial.rename(output)
    except OSError:
        sys.exit(f"{output}: written meanwhile by another run; this run's encoder is in {partial}")
    print(f"wrote {output}", flush=True)


def naive_pipeline(model_uri: str) -> Any:
    """The scoring benchmarks' naive baseline: ``transformers.pipeline`` with its defaults on the model's weights."""
    from transformers import pipeline

    from framing.models._torch_runtime import quiet_transformers
    from framing.models.transformer_model import WEIGHTS_DIR
    from framing.package import local_model

    with quiet_transformers(), local_model(model_uri) as folder:
        return pipeline("text-classification", model=str(folder / WEIGHTS_DIR), top_k=None, device="cpu")


def agreement_cell(row: dict[str, Any]) -> str:
    """``worst label / mean`` agreement of a scoring row, empty where none was measured."""
    return f"{row['agreement_worst_label']:.2%} / {row['agreement_mean']:.2%}" if "agreement_mean" in row else ""


def peak_cell(row: dict[str, Any]) -> str:
    """A scoring row's peak RSS, empty where none was measured."""
    return f"{row['peak_rss_mib']:,.0f} MiB" if "peak_rss_mib" in row else ""


def load_results(name: str) -> dict[str, Any] | None:
    """Results an earlier benchmark saved, or None."""
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def f1_by_label(truth: np.ndarray, flags: np.ndarray) -> dict[str, float]:
    """Macro-F1 (``macro``) and each label's F1 by column index (``"0"``, ``"1"``, ...), as JSON-ready floats."""
    from sklearn.metrics import f1_score

    per_label = f1_score(truth, flags, average=None, zero_division=0)
    return {"macro": float(per_label.mean()), **{str(j): float(v) for j, v in enumerate(per_label)}}
