"""Scoring never loses what the user owns, and every failure is one line (issue 13, scoring side).

One test per case: the exact refusal or reject reason, exit status 2 where the
run is refused, nothing deleted, and every paragraph in the output exactly once.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from filelock import MarkerSoftFileLock

from framing.cli import main
from framing.config import DataConfig, TfidfConfig
from framing.data.dataset import load_splits
from framing.models.base import FitContext
from framing.models.tfidf import TfidfClassifier
from framing.package import Predictor
from framing.scoring import corpus as corpus_module
from framing.scoring.sinks import AtomicSink
from tests.conftest import PROJECT_ROOT, SPLIT_OF, TINY_LABELS, write_split
from tests.test_scoring_resume import SENTENCES, save_tiny_model, write_corpus


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny")
    data = {name: write_split(folder / f"{name}.jsonl", ids) for name, ids in SPLIT_OF.items()}
    return save_tiny_model(data, folder / "model")


def predict(model: Path, corpus: Path, output: Path, *extra: str) -> int:
    return main(["predict", "--model", str(model), "--input", str(corpus), "--output", str(output), "--quiet", *extra])


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes, to show nothing was touched."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def read_parts(folder: Path) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(p) for p in sorted(folder.glob("part-*.parquet"))], ignore_index=True)


def rejects_of(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def articles(n: int, start: int = 0) -> list[dict[str, object]]:
    return [{"article_id": f"a{i}", "text": SENTENCES[i % len(SENTENCES)]} for i in range(start, start + n)]


# 1. --overwrite removes only what a scoring run wrote; overlapping input and output are refused


def test_overwrite_with_the_input_inside_the_output_deletes_nothing(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "proj"
    write_corpus(project / "raw", articles=4)
    (project / "NOTES.md").write_text("my notes", encoding="utf-8")
    before = tree(project)
    assert predict(model, project / "raw", project, "--overwrite") == 2
    error = capsys.readouterr().err
    assert error.strip().count("\n") == 0
    assert f"the input {project / 'raw'} lies inside --output {project}" in error
    assert tree(project) == before


def test_output_equal_to_the_input_is_refused(model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = write_jsonl(tmp_path / "articles.jsonl", articles(3))
    before = table.read_bytes()
    assert predict(model, table, table, "--overwrite") == 2
    assert f"--output {table} is the input itself" in capsys.readouterr().err
    assert table.read_bytes() == before


def test_output_inside_the_input_folder_is_refused(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_corpus(tmp_path / "corpus", articles=3)
    before = tree(tmp_path / "corpus")
    assert predict(model, tmp_path / "corpus", tmp_path / "corpus" / "scores.jsonl") == 2
    assert "lies inside the input folder" in capsys.readouterr().err
    assert tree(tmp_path / "corpus") == before


def test_overwrite_refuses_a_run_folder_that_also_holds_other_files(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_corpus(tmp_path / "corpus", articles=4)
    output = tmp_path / "scores"
    assert predict(model, tmp_path / "corpus", output) == 0
    (output / "NOTES.md").write_text("keep me", encoding="utf-8")
    (output / "analysis").mkdir()
    before = tree(output)
    capsys.readouterr()
    assert predict(model, tmp_path / "corpus", output, "--overwrite") == 2
    error = capsys.readouterr().err
    assert "holds NOTES.md, analysis/, which no scoring run wrote; nothing was deleted" in error
    assert tree(output) == before


def test_overwrite_refuses_a_file_no_scoring_run_wrote(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_corpus(tmp_path / "corpus", articles=2)
    mine = tmp_path / "results.jsonl"
    mine.write_text('{"mine": true}\n', encoding="utf-8")
    assert predict(model, tmp_path / "corpus", mine, "--overwrite") == 2
    assert "no scoring run's manifest lists it; --overwrite only replaces" in capsys.readouterr().err
    assert mine.read_text(encoding="utf-8") == '{"mine": true}\n'


def test_overwrite_replaces_a_scoring_runs_own_output(model: Path, tmp_path: Path) -> None:
    expected = write_corpus(tmp_path / "corpus", articles=6)
    output = tmp_path / "scores"
    assert predict(model, tmp_path / "corpus", output, "--part-size", "7") == 0
    assert predict(model, tmp_path / "corpus", output, "--part-size", "5", "--overwrite") == 0
    scores = read_parts(output)
    assert len(scores) == expected and not scores.duplicated(["article_id", "paragraph"]).any()
    assert sorted(p.name for p in output.iterdir())[0] == "_manifest.json"


# 2. one run per output; a finished manifest is checked against the files on disk


def test_a_second_run_is_refused_while_the_first_holds_the_output(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_corpus(tmp_path / "corpus", articles=2)
    output = tmp_path / "scores.jsonl"
    holder = MarkerSoftFileLock(tmp_path / ".scores.jsonl.lock", timeout=0)
    holder.acquire()
    try:
        assert predict(model, tmp_path / "corpus", output) == 2
    finally:
        holder.release()
    error = capsys.readouterr().err
    assert f"{output} is being written by another scoring run (pid {os.getpid()} on host " in error
    assert not output.exists()
    assert predict(model, tmp_path / "corpus", output) == 0


def test_a_lock_left_by_a_killed_run_is_taken_over(model: Path, tmp_path: Path) -> None:
    write_corpus(tmp_path / "corpus", articles=2)
    lock = tmp_path / ".scores.jsonl.lock"
    code = f"import time, filelock; held = filelock.MarkerSoftFileLock({str(lock)!r}); held.acquire(); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 30
    while not lock.exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert lock.exists()  # stale: its owner is dead
    assert predict(model, tmp_path / "corpus", tmp_path / "scores.jsonl") == 0


def test_two_racing_runs_one_is_refused_and_the_other_writes_every_row_once(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = write_corpus(tmp_path / "corpus", articles=1500)
    output = tmp_path / "scores.jsonl"
    command = [sys.executable, "predict.py", "--model", str(model), "--input", str(tmp_path / "corpus")]
    command += ["--output", str(output), "--quiet", "--part-size", "200", "--batch-size", "50"]

    first = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (tmp_path / ".scores.jsonl.parts" / "part-00000.jsonl").exists():
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "scoring did not start"
        time.sleep(0.01)
    assert predict(model, tmp_path / "corpus", output, "--part-size", "200", "--batch-size", "50") == 2
    assert first.poll() is None, "the first run should still be writing"
    first_out, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert f"{output} is being written by another scoring run (pid {first.pid} on host " in capsys.readouterr().err
    assert f"scored {expected} paragraphs" in first_out
    scores = pd.read_json(output, lines=True)
    assert len(scores) == expected and not scores.duplicated(["article_id", "paragraph"]).any()


def test_a_deleted_finished_file_is_scored_again(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = write_corpus(tmp_path / "corpus", articles=5)
    output = tmp_path / "out.jsonl"
    assert predict(model, tmp_path / "corpus", output) == 0
    output.unlink()
    capsys.readouterr()
    assert predict(model, tmp_path / "corpus", output) == 0
    printed = capsys.readouterr().out
    assert "scored again: the finished output had out.jsonl missing" in printed
    assert len(pd.read_json(output, lines=True)) == expected


def test_a_deleted_part_of_a_finished_folder_is_scored_again(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = write_corpus(tmp_path / "corpus", articles=8)
    output = tmp_path / "scores"
    assert predict(model, tmp_path / "corpus", output, "--part-size", "10") == 0
    (output / "part-00001.parquet").unlink()
    capsys.readouterr()
    assert predict(model, tmp_path / "corpus", output, "--part-size", "10") == 0
    assert "part-00001.parquet missing" in capsys.readouterr().out
    scores = read_parts(output)
    assert len(scores) == expected and not scores.duplicated(["article_id", "paragraph"]).any()


# 3. the manifest fingerprints the model's files


def retrain_in_place(model_folder: Path, data_folder: Path) -> None:
    """Same family, labels, settings and thresholds; trained on other rows (validation, not train)."""
    data_folder.mkdir()
    data = {name: write_split(data_folder / f"{name}.jsonl", ids) for name, ids in SPLIT_OF.items()}
    splits = load_splits(DataConfig(train=data["train"], validation=data["validation"], labels=TINY_LABELS))
    other = TfidfClassifier(TfidfConfig(char_ngram_range=None), TINY_LABELS, "multilabel")
    other.fit(splits.validation, splits.train, FitContext())
    Predictor(other, np.full(len(TINY_LABELS), 0.5)).save(model_folder)


def test_resuming_with_a_retrained_model_is_refused_naming_the_changed_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = {name: write_split(tmp_path / f"{name}.jsonl", ids) for name, ids in SPLIT_OF.items()}
    folder = save_tiny_model(data, tmp_path / "model")
    write_corpus(tmp_path / "corpus", articles=5)
    output = tmp_path / "scores.jsonl"
    assert predict(folder, tmp_path / "corpus", output) == 0
    before = output.read_bytes()
    retrain_in_place(folder, tmp_path / "other")
    capsys.readouterr()
    assert predict(folder, tmp_path / "corpus", output) == 2
    error = capsys.readouterr().err
    assert "this output belongs to another scoring run: model" in error
    assert "model file tfidf.skops changed (sha256 " in error
    assert output.read_bytes() == before


# 9. a full disk or a read-only output: one line, no temporary files, then exactly once


@pytest.mark.parametrize(("code", "seed"), [(errno.ENOSPC, 1), (errno.EROFS, 2), (errno.EACCES, 3), (errno.ENOSPC, 4)])
def test_a_write_failing_at_a_random_part_is_one_line_and_the_rerun_completes_exactly_once(
    model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    code: int,
    seed: int,
) -> None:
    expected = write_corpus(tmp_path / "corpus", articles=30)
    output = tmp_path / ("scores.parquet" if seed % 2 else "scores")
    extra = ["--part-size", "20", "--batch-size", "6"]
    fail_at = random.Random(seed).randrange(1, expected // 6)
    calls = {"n": 0}
    original = AtomicSink.write

    def failing_write(self: AtomicSink, frame: pd.DataFrame) -> None:
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise OSError(code, os.strerror(code), str(self.partial))
        original(self, frame)

    monkeypatch.setattr(AtomicSink, "write", failing_write)
    assert predict(model, tmp_path / "corpus", output, *extra) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error
    assert "nothing half-written was kept: fix it and run the same command again to resume" in error
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith((".partial", ".tmp"))]
    monkeypatch.setattr(AtomicSink, "write", original)
    assert predict(model, tmp_path / "corpus", output, *extra) == 0
    scores = pd.read_parquet(output) if output.is_file() else read_parts(output)
    assert len(scores) == expected and not scores.duplicated(["article_id", "paragraph"]).any()


def test_a_full_disk_while_merging_the_single_file_leaves_no_partial_file(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = write_corpus(tmp_path / "corpus", articles=10)
    output = tmp_path / "scores.jsonl"
    original = corpus_module._write_merged

    def full_disk(layout: object, names: list[str], partial: Path) -> None:
        partial.write_text("half", encoding="utf-8")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(partial))

    monkeypatch.setattr(corpus_module, "_write_merged", full_disk)
    assert predict(model, tmp_path / "corpus", output, "--part-size", "15") == 2
    assert "no space left on the device" in capsys.readouterr().err
    assert not output.exists() and not (tmp_path / ".scores.jsonl.partial").exists()
    monkeypatch.setattr(corpus_module, "_write_merged", original)
    assert predict(model, tmp_path / "corpus", output, "--part-size", "15") == 0
    assert len(pd.read_json(output, lines=True)) == expected


# 10. bad input: a reject with its reason, or one line before any work


def score_table(model: Path, table: Path, output: Path, *extra: str) -> tuple[pd.DataFrame, list[dict[str, object]]]:
    assert predict(model, table, output, *extra) == 0
    scores = pd.read_parquet(output) if output.suffix == ".parquet" else pd.read_json(output, lines=True)
    return scores, rejects_of(Path(f"{output}.rejects.jsonl"))


def test_a_truncated_jsonl_gz_scores_what_is_there_and_rejects_the_rest(model: Path, tmp_path: Path) -> None:
    whole = gzip.compress("".join(json.dumps(r) + "\n" for r in articles(400)).encode())
    table = tmp_path / "articles.jsonl.gz"
    table.write_bytes(whole[: len(whole) // 2])
    scores, rejects = score_table(model, table, tmp_path / "scores.jsonl")
    assert 0 < len(scores) < 400
    assert [r["reason"].split(" (")[0] for r in rejects] == ["unreadable: the compressed file is cut short or corrupt"]


@pytest.mark.parametrize("content", [b"", b"PAR1 this is not parquet PAR1"])
def test_a_zero_byte_or_corrupt_parquet_part_is_a_reject(model: Path, tmp_path: Path, content: bytes) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    pd.DataFrame(articles(3)).to_parquet(folder / "a.parquet")
    (folder / "b.parquet").write_bytes(content)
    scores, rejects = score_table(model, folder, tmp_path / "scores.jsonl")
    assert len(scores) == 3
    assert [(Path(str(r["source"])).name, str(r["reason"]).split(":")[0]) for r in rejects] == [
        ("b.parquet", "unreadable")
    ]
    assert "not a readable Parquet file" in str(rejects[0]["reason"])


def test_mixed_metadata_types_on_parquet_output_reject_the_odd_rows(model: Path, tmp_path: Path) -> None:
    rows = articles(4)
    for row, year in zip(rows, [2020, 2021, "unknown", 2023], strict=True):
        row["year"] = year
    scores, rejects = score_table(model, write_jsonl(tmp_path / "a.jsonl", rows), tmp_path / "scores.parquet")
    assert scores["year"].tolist() == [2020, 2021, 2023]
    assert [(r["row"], r["reason"]) for r in rejects] == [
        (3, "mixed metadata types: column 'year' holds str 'unknown' here, int in earlier rows")
    ]


def test_a_csv_field_over_the_csv_modules_limit_is_one_reject_and_the_run_goes_on(model: Path, tmp_path: Path) -> None:
    table = tmp_path / "articles.csv"
    rows = [
        {"article_id": "a", "text": SENTENCES[0]},
        {"article_id": "huge", "text": "word " * 40_000},
        {"article_id": "b", "text": SENTENCES[1]},
    ]
    pd.DataFrame(rows).to_csv(table, index=False)
    scores, rejects = score_table(model, table, tmp_path / "scores.jsonl")
    assert scores["article_id"].tolist() == ["a", "b"]
    assert [(r["row"], str(r["reason"]).split(":")[0]) for r in rejects] == [(2, "paragraph too long")]


def test_a_folder_with_articles_and_a_table_is_refused_before_any_work(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_corpus(tmp_path / "corpus", articles=2)
    write_jsonl(tmp_path / "corpus" / "more.jsonl", articles(2))
    assert predict(model, tmp_path / "corpus", tmp_path / "scores.jsonl") == 2
    assert "holds both .txt articles (desk/a00000.txt.gz) and tables (more.jsonl); score them as two inputs" in (
        capsys.readouterr().err
    )
    assert not list(tmp_path.glob("*scores*"))


@pytest.mark.parametrize("name", ["empty.jsonl", "empty.csv", "header_only.csv"])
def test_a_table_without_rows_is_a_reject(model: Path, tmp_path: Path, name: str) -> None:
    folder = tmp_path / "tables"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", articles(2))
    (folder / name).write_text("article_id,text\n" if name == "header_only.csv" else "", encoding="utf-8")
    scores, rejects = score_table(model, folder, tmp_path / "scores.jsonl")
    assert len(scores) == 2
    assert [(Path(str(r["source"])).name, r["reason"]) for r in rejects] == [(name, "empty file: no rows")]


def test_duplicate_article_ids_are_rejected_not_merged(model: Path, tmp_path: Path) -> None:
    rows = [*articles(2), {"article_id": "a0", "text": SENTENCES[5]}]
    scores, rejects = score_table(model, write_jsonl(tmp_path / "a.jsonl", rows), tmp_path / "scores.jsonl")
    assert scores["article_id"].tolist() == ["a0", "a1"]
    assert [(r["row"], r["reason"]) for r in rejects] == [
        (3, "duplicate article id: 'a0' was read from an earlier row")
    ]


def test_the_same_article_as_txt_and_txt_gz_is_a_duplicate(model: Path, tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "x.txt").write_text(SENTENCES[0], encoding="utf-8")
    with gzip.open(tmp_path / "corpus" / "x.txt.gz", "wt", encoding="utf-8") as handle:
        handle.write(SENTENCES[1])
    scores, rejects = score_table(model, tmp_path / "corpus", tmp_path / "scores.jsonl")
    assert scores["article_id"].tolist() == ["x"]
    assert [str(r["reason"]) for r in rejects] == ["duplicate article id: 'x' was read from another file already"]


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--batch-size", "0", "--batch-size must be at least 1, got 0"),
        ("--limit", "-1", "--limit must be at least 1, got -1"),
        ("--part-size", "0", "--part-size must be at least 1, got 0"),
        ("--max-paragraph-chars", "0", "--max-paragraph-chars must be at least 1, got 0"),
    ],
)
def test_bad_numbers_are_one_line_before_the_model_is_loaded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, message: str
) -> None:
    write_corpus(tmp_path / "corpus", articles=1)
    missing_model = tmp_path / "no-such-model"
    assert predict(missing_model, tmp_path / "corpus", tmp_path / "scores.jsonl", flag, value) == 2
    assert capsys.readouterr().err == f"error: {message}\n"


@pytest.mark.parametrize("name", ["scores.xlsx", "scores.txt"])
def test_an_unknown_output_extension_is_refused(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    write_corpus(tmp_path / "corpus", articles=1)
    assert predict(model, tmp_path / "corpus", tmp_path / name) == 2
    suffix = name.split(".")[1]
    assert f"unknown output type '.{suffix}': name a .jsonl, .csv or .parquet file" in capsys.readouterr().err
    assert not (tmp_path / name).exists()


# 12. --unit paragraph with a paragraph column that is not a whole number


def test_a_non_integer_paragraph_column_is_a_reject(model: Path, tmp_path: Path) -> None:
    rows = [
        {"article_id": "a", "paragraph": 0, "text": SENTENCES[0]},
        {"article_id": "a", "paragraph": "intro", "text": SENTENCES[1]},
        {"article_id": "a", "paragraph": 1.5, "text": SENTENCES[2]},
        {"article_id": "a", "paragraph": "2", "text": SENTENCES[3]},
        {"article_id": "a", "paragraph": 2, "text": SENTENCES[4]},
    ]
    table = write_jsonl(tmp_path / "paragraphs.jsonl", rows)
    scores, rejects = score_table(model, table, tmp_path / "scores.jsonl", "--unit", "paragraph")
    assert scores["paragraph"].tolist() == [0, 2]
    assert [(r["row"], r["reason"]) for r in rejects] == [
        (2, "bad paragraph number: column 'paragraph' holds 'intro'"),
        (3, "bad paragraph number: column 'paragraph' holds 1.5"),
        (5, "duplicate paragraph: 'a' paragraph 2 was read already"),
    ]


@pytest.mark.parametrize("name", ["scores.parquet", "scores.csv"])
def test_a_metadata_column_first_seen_mid_run_widens_the_output(model: Path, tmp_path: Path, name: str) -> None:
    rows = articles(10)
    rows[5]["outlet"] = "Herald"
    table = write_jsonl(tmp_path / "a.jsonl", rows)
    assert predict(model, table, tmp_path / name, "--batch-size", "2", "--part-size", "4") == 0
    scores = pd.read_parquet(tmp_path / name) if name.endswith(".parquet") else pd.read_csv(tmp_path / name)
    assert scores["article_id"].tolist() == [f"a{i}" for i in range(10)]
    assert scores["outlet"].fillna("").tolist() == [""] * 5 + ["Herald"] + [""] * 4


def test_a_finished_file_changed_since_is_left_alone_and_the_run_refused(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_corpus(tmp_path / "corpus", articles=3)
    output = tmp_path / "out.jsonl"
    assert predict(model, tmp_path / "corpus", output) == 0
    with open(output, "a", encoding="utf-8") as handle:
        handle.write('{"my": "edit"}\n')
    edited = output.read_bytes()
    capsys.readouterr()
    assert predict(model, tmp_path / "corpus", output) == 2
    assert "out.jsonl changed since that scoring run finished; nothing was touched" in capsys.readouterr().err
    assert output.read_bytes() == edited


def test_a_full_disk_reported_by_arrow_without_an_errno_is_recognised(tmp_path: Path) -> None:
    from framing.scoring.guard import OutputError, write_errors

    full = r"scores\.parquet: no space left on the device; nothing half-written"
    with pytest.raises(OutputError, match=full), write_errors(tmp_path / "scores.parquet"):
        raise OSError("IOError: No space left on device. Detail: [errno 28] No space left on device")
    with pytest.raises(OSError, match="unrelated"), write_errors(tmp_path / "scores.parquet"):
        raise OSError("unrelated")


@pytest.mark.parametrize(
    ("name", "extra", "message"),
    [
        ("articles.xlsx", [], "unknown file type '.xlsx'"),
        ("articles.jsonl", ["--text-column", "body"], "row 1: no text column 'body' (columns: 'article_id', 'text')"),
    ],
)
def test_an_input_every_row_would_fail_on_is_one_line_before_any_work(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, extra: list[str], message: str
) -> None:
    table = write_jsonl(tmp_path / name, articles(2))
    assert predict(model, table, tmp_path / "scores.jsonl", *extra) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no manifest, lock or work folder left


def test_a_number_where_text_is_expected_is_named_as_such(model: Path, tmp_path: Path) -> None:
    rows = [*articles(1), {"article_id": "n", "text": 42}, {"article_id": "e", "text": "  "}]
    scores, rejects = score_table(model, write_jsonl(tmp_path / "a.jsonl", rows), tmp_path / "scores.jsonl")
    assert scores["article_id"].tolist() == ["a0"]
    assert [(r["row"], r["reason"]) for r in rejects] == [
        (2, "not text: column 'text' holds int"),
        (3, "empty article"),
    ]
