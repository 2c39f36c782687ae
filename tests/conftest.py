"""Shared fixtures: a tiny hand-written labelled dataset and an isolated MLflow store."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Short invented paragraphs, grouped in invented articles; enough for every split to hold each label.
TINY_ARTICLES = {
    "a01": [
        (
            "The ministry said foreign television channels deliberately distorted the events in the port city.",
            ["media_bias_claim"],
        ),
        ("Aid workers reached two thousand displaced families with food and clean water on Monday.", ["humanitarian"]),
    ],
    "a02": [
        ("Delegations from both capitals agreed to resume talks on a ceasefire next week in Vienna.", ["diplomacy"]),
        (
            "The spokesman accused Western newspapers of a campaign of fabrications about the vote.",
            ["media_bias_claim"],
        ),
    ],
    "a03": [
        (
            "Hospitals in the besieged district ran out of insulin and surgical supplies, doctors said.",
            ["humanitarian"],
        ),
        ("The foreign ministers signed a cooperation agreement on border crossings and trade.", ["diplomacy"]),
    ],
    "a04": [
        (
            "Opposition leaders said state broadcasters ignored the protests and spread lies about them.",
            ["media_bias_claim"],
        ),
        ("The national football team won its qualifier three goals to one on Saturday evening.", []),
    ],
    "a05": [
        (
            "Refugees crossing the mountain pass described hunger and freezing nights in makeshift camps.",
            ["humanitarian"],
        ),
        ("Envoys held a second round of negotiations under United Nations auspices in Geneva.", ["diplomacy"]),
    ],
    "a06": [
        (
            "Officials called the coverage by leading outlets one-sided propaganda that hid the truth.",
            ["media_bias_claim"],
        ),
        ("Rainfall this spring was the highest recorded in the valley for thirty years.", []),
    ],
    "a07": [
        (
            "The president's office accused the mainstream press of whipping up hysteria over the epidemic.",
            ["media_bias_claim"],
        ),
        (
            "Convoys carrying flour and medicine were allowed into the city through a humanitarian corridor.",
            ["humanitarian"],
        ),
    ],
    "a08": [
        ("The two governments exchanged ambassadors and pledged regular dialogue between ministers.", ["diplomacy"]),
        ("Shares in the mining group rose after it reported higher quarterly profits.", []),
    ],
    "a09": [
        ("A journalist was awarded a national prize for a documentary about river fisheries.", []),
        (
            "Critics said the broadcaster misrepresented the strike and silenced the workers' side.",
            ["media_bias_claim"],
        ),
    ],
    "a10": [
        ("Medical teams vaccinated children in villages cut off by the floods.", ["humanitarian"]),
        ("Both sides welcomed the peace accord and promised to meet again in the spring.", ["diplomacy"]),
    ],
    "a11": [
        (
            "The embassy said tabloids invented stories about the minister to smear the government.",
            ["media_bias_claim"],
        ),
        ("Thousands of civilians fled shelling and sought shelter and food in school buildings.", ["humanitarian"]),
    ],
    "a12": [
        ("The summit ended with a joint statement on trade, climate and regular consultations.", ["diplomacy"]),
        ("The newspaper announced a new editor and a redesigned weekend edition.", []),
    ],
}
SPLIT_OF = {
    "train": ["a01", "a02", "a03", "a04", "a05", "a06", "a07", "a08"],
    "validation": ["a09", "a10"],
    "test": ["a11", "a12"],
}
TINY_LABELS = ["media_bias_claim", "humanitarian", "diplomacy"]


def write_split(path: Path, article_ids: list[str]) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for article_id in article_ids:
            for index, (text, labels) in enumerate(TINY_ARTICLES[article_id]):
                row = {"id": f"{article_id}-{index}", "article_id": article_id, "text": text, "labels": labels}
                handle.write(json.dumps(row) + "\n")
    return path


@pytest.fixture
def tiny_data(tmp_path: Path) -> dict[str, Path]:
    """train/validation/test JSONL files of the tiny three-label task."""
    folder = tmp_path / "data"
    folder.mkdir()
    return {name: write_split(folder / f"{name}.jsonl", ids) for name, ids in SPLIT_OF.items()}


@pytest.fixture
def tiny_overrides(tiny_data: dict[str, Path]) -> list[str]:
    """Overrides that train a fast word-only TF-IDF model on the tiny task."""
    return [
        f"data.train={tiny_data['train']}",
        f"data.validation={tiny_data['validation']}",
        f"data.test={tiny_data['test']}",
        f"data.labels=[{','.join(TINY_LABELS)}]",
        "model.char_ngram_range=null",
        "model.max_iter=200",
        "train.error_analysis_rows=3",
    ]


@pytest.fixture
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty SQLite tracking store and artifact folder in a temporary working directory.

    MLflow remembers the last experiment set in this process (in its own state and in
    ``MLFLOW_EXPERIMENT_ID``); an id from another test's store would name a missing experiment
    here, so the fixture forgets both.
    """
    import mlflow.tracking.fluent

    monkeypatch.setattr(mlflow.tracking.fluent, "_active_experiment_id", None)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    uri = f"sqlite:///{workdir / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised two-layer BERT and a word-level tokenizer, built locally (no download)."""
    import re

    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    folder = tmp_path_factory.mktemp("tiny-bert")
    words = sorted(
        {
            w
            for paragraphs in TINY_ARTICLES.values()
            for text, _ in paragraphs
            for w in re.findall(r"[a-z]+|[^\sa-z]", text.lower())
        }
    )
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    tokenizer = BertTokenizer(vocab={token: index for index, token in enumerate(vocab)}, do_lower_case=True)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        initializer_range=0.3,
    )
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture()
def tiny_transformer_overrides(tiny_bert_dir: Path, tiny_overrides: list[str]) -> list[str]:
    """The tiny data with the tiny BERT as a fast, CPU-only transformer run (add checkpoint settings per test)."""
    return [o for o in tiny_overrides if not o.startswith("model.")] + [
        "model=transformer",
        f"model.base_model={tiny_bert_dir}",
        "model.epochs=4",
        "model.batch_size=4",
        "model.max_length=32",
        "model.learning_rate=5e-3",
        "model.warmup_ratio=0.0",
        "model.device=cpu",
        "model.log_every_steps=1",
    ]


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now, for a server a test starts."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, server: subprocess.Popen[str], name: str, seconds: float, interval: float) -> None:
    """Poll ``url``/health until it answers 200; a server that exits first fails with its stderr."""
    import time
    import urllib.request

    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(f"{name} exited: {server.stderr.read() if server.stderr else ''}") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(interval)
