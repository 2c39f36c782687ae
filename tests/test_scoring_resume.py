"""Corpus scoring: exactly-once output after a kill -9, refused resumes, rejects, limits."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from framing.cli import main
from framing.config import DataConfig, TfidfConfig
from framing.data.dataset import load_splits
from framing.models.base import FitContext
from framing.models.tfidf import TfidfClassifier
from framing.package import Predictor
from tests.conftest import PROJECT_ROOT, TINY_ARTICLES, TINY_LABELS

SENTENCES = [text for paragraphs in TINY_ARTICLES.values() for text, _ in paragraphs]


def save_tiny_model(tiny_data: dict[str, Path], folder: Path, C: float = 1.0) -> Path:
    splits = load_splits(DataConfig(train=tiny_data["train"], validation=tiny_data["validation"], labels=TINY_LABELS))
    model = TfidfClassifier(TfidfConfig(char_ngram_range=None, C=C), TINY_LABELS, "multilabel")
    model.fit(splits.train, splits.validation, FitContext())
    return Predictor(model, np.full(len(TINY_LABELS), 0.5)).save(folder)


def write_corpus(folder: Path, articles: int, paragraphs_per_article: int = 5) -> int:
    """Articles as .txt and .txt.gz files in two sub-folders; returns the paragraph count."""
    rng = np.random.default_rng(0)
    for a in range(articles):
        body = "\n\n".join(SENTENCES[i] for i in rng.integers(0, len(SENTENCES), paragraphs_per_article))
        sub = folder / ("wire" if a % 2 else "desk")
        sub.mkdir(parents=True, exist_ok=True)
        if a % 3:
            (sub / f"a{a:05d}.txt").write_text(body, encoding="utf-8")
        else:
            with gzip.open(sub / f"a{a:05d}.txt.gz", "wt", encoding="utf-8") as handle:
                handle.write(body)
    return articles * paragraphs_per_article


def run_predict(model: Path, corpus: Path, output: Path, *extra: str) -> int:
    """``framing predict`` in-process, quiet."""
    return main(["predict", "--model", str(model), "--input", str(corpus), "--output", str(output), "--quiet", *extra])


def read_output(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" or path.is_dir() else pd.read_json(path, lines=True)


def test_killed_run_resumes_with_every_paragraph_exactly_once(tiny_data: dict[str, Path], tmp_path: Path) -> None:
    model = save_tiny_model(tiny_data, tmp_path / "model")
    corpus = tmp_path / "corpus"
    expected = write_corpus(corpus, articles=6000)
    output = tmp_path / "scores.parquet"
    command = [
        sys.executable,
        "predict.py",
        "--model",
        str(model),
        "--input",
        str(corpus),
        "--output",
        str(output),
        "--part-size",
        "500",
        "--batch-size",
        "100",
        "--quiet",
    ]
    parts = tmp_path / ".scores.parquet.parts"
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (parts / "part-00003.parquet").exists():
        assert process.poll() is None, process.communicate()[1].decode()[-2000:]
        assert time.monotonic() < deadline, "scoring did not start"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not output.exists(), "the final file appears only when the run is complete"
    done_before = sorted(p.name for p in parts.glob("part-*.parquet"))
    assert 4 <= len(done_before) < expected // 500

    resumed = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "part(s) were already done" in resumed.stdout
    scores = pd.read_parquet(output)
    assert len(scores) == expected
    assert not scores.duplicated(["article_id", "paragraph"]).any()
    assert scores["article_id"].nunique() == 6000
    assert f"scored {expected} paragraphs from 6000 articles" in resumed.stdout
    assert not parts.exists()

    again = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and f"scored {expected} paragraphs" in again.stdout
    assert len(pd.read_parquet(output)) == expected


def test_crash_inside_a_part_loses_nothing_and_duplicates_nothing(
    tiny_data: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = save_tiny_model(tiny_data, tmp_path / "model")
    corpus = tmp_path / "corpus"
    expected = write_corpus(corpus, articles=40)
    output = tmp_path / "scores"
    args = [
        "predict",
        "--model",
        str(model),
        "--input",
        str(corpus),
        "--output",
        str(output),
        "--format",
        "jsonl",
        "--part-size",
        "30",
        "--batch-size",
        "7",
        "--quiet",
    ]
    from framing.scoring import corpus as corpus_module

    original = corpus_module._PartWriter.commit
    calls = {"n": 0}

    def crash_on_fourth_part(self: object) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt  # as if killed while finishing part 3
        original(self)  # type: ignore[arg-type]

    monkeypatch.setattr(corpus_module._PartWriter, "commit", crash_on_fourth_part)
    with pytest.raises(KeyboardInterrupt):
        main(args)
    assert sorted(p.name for p in output.glob("part-*.jsonl")) == [f"part-0000{i}.jsonl" for i in range(3)]
    assert not list(output.glob(".*partial"))
    monkeypatch.setattr(corpus_module._PartWriter, "commit", original)
    assert main(args) == 0
    frames = [pd.read_json(p, lines=True) for p in sorted(output.glob("part-*.jsonl"))]
    scores = pd.concat(frames)
    assert len(scores) == expected and not scores.duplicated(["article_id", "paragraph"]).any()
    manifest = json.loads((output / "_manifest.json").read_text())
    assert manifest["complete"] and sum(p["paragraphs"] for p in manifest["parts"].values()) == expected


def test_resume_with_another_model_or_input_is_refused(
    tiny_data: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = save_tiny_model(tiny_data, tmp_path / "m1")
    other = save_tiny_model(tiny_data, tmp_path / "m2", C=9.0)
    corpus = tmp_path / "corpus"
    write_corpus(corpus, articles=10)
    output = tmp_path / "scores.jsonl"
    base = ["predict", "--input", str(corpus), "--output", str(output), "--quiet"]
    assert main([*base, "--model", str(first)]) == 0
    capsys.readouterr()
    assert main([*base, "--model", str(other)]) == 2
    assert "belongs to another scoring run" in capsys.readouterr().err
    (corpus / "desk" / "extra.txt").write_text("A new article.", encoding="utf-8")
    assert main([*base, "--model", str(first)]) == 2
    assert "differs from that run's" in capsys.readouterr().err
    assert main([*base, "--model", str(first), "--limit", "3"]) == 2
    assert "setting limit is 3" in capsys.readouterr().err
    assert main([*base, "--model", str(first), "--overwrite"]) == 0
    assert len(read_output(output)) == 51


def test_malformed_records_are_counted_and_written_with_reasons(
    tiny_data: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = save_tiny_model(tiny_data, tmp_path / "model")
    corpus = tmp_path / "articles.jsonl"
    with open(corpus, "wb") as handle:
        handle.write(json.dumps({"article_id": "ok1", "outlet": "Gazette", "text": SENTENCES[0]}).encode() + b"\n")
        handle.write(b'{"article_id": "broken", "text": "unterminated\n')
        handle.write(b'{"article_id": "latin", "text": "caf\xe9"}\n')
        handle.write(json.dumps({"article_id": "blank", "text": "  "}).encode() + b"\n")
        handle.write(json.dumps({"article_id": "huge", "text": "word " * 300}).encode() + b"\n")
        handle.write(json.dumps({"article_id": "ok2", "outlet": "Herald", "text": SENTENCES[1]}).encode() + b"\n")
    output = tmp_path / "scores.csv"
    assert run_predict(model, corpus, output, "--max-paragraph-chars", "500") == 0
    printed = capsys.readouterr().out
    assert "scored 2 paragraphs from 2 articles" in printed
    assert "bad JSON line: 1, empty article: 1, paragraph too long: 1, undecodable: 1" in printed
    rejects = [json.loads(line) for line in Path(f"{output}.rejects.jsonl").read_text().splitlines()]
    assert [(r["row"], r["reason"].split(":")[0]) for r in rejects] == [
        (2, "bad JSON line"),
        (3, "undecodable"),
        (4, "empty article"),
        (5, "paragraph too long"),
    ]
    scores = pd.read_csv(output)
    assert scores["outlet"].tolist() == ["Gazette", "Herald"]


def test_limit_scores_only_the_first_paragraphs(tiny_data: dict[str, Path], tmp_path: Path) -> None:
    model = save_tiny_model(tiny_data, tmp_path / "model")
    corpus = tmp_path / "corpus"
    write_corpus(corpus, articles=20)
    output = tmp_path / "peek.jsonl"
    assert run_predict(model, corpus, output, "--limit", "7") == 0
    assert len(read_output(output)) == 7
