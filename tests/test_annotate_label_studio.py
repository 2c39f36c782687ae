"""The whole annotation loop against a real Label Studio server, started here on 127.0.0.1.

Label Studio runs from its own environment, ``.venv-ls`` (``make label-studio-install``),
with a temporary data folder and two annotator accounts created with fixed API tokens.
The test samples tasks from scores, pushes them with the printed labelling config, has
both annotators label them through the API (one skips a task, they disagree on some),
pulls the export, imports it, checks agreement against a hand computation and trains a
model on the result. Skipped where ``.venv-ls`` is missing, except under
FRAMING_LABEL_STUDIO_TESTS=required (set by ``.ci/run``), where that is a failure.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from framing.cli import main
from tests.conftest import PROJECT_ROOT, TINY_ARTICLES, TINY_LABELS, free_port, wait_until_up

LABEL_STUDIO = PROJECT_ROOT / ".venv-ls" / "bin" / "label-studio"
REQUIRED = os.environ.get("FRAMING_LABEL_STUDIO_TESTS") == "required"

if not LABEL_STUDIO.exists():
    if REQUIRED:
        raise RuntimeError(
            f"FRAMING_LABEL_STUDIO_TESTS=required but {LABEL_STUDIO} is missing (make label-studio-install)"
        )
    pytest.skip("Label Studio is not installed in .venv-ls (make label-studio-install)", allow_module_level=True)
if not REQUIRED:
    pytest.importorskip("label_studio_sdk")

ANNOTATORS = {"one@example.org": "framing-test-token-one", "two@example.org": "framing-test-token-two"}
QUIET = {"LATEST_VERSION_CHECK": "false", "COLLECT_ANALYTICS": "false", "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true"}


def _run(arguments: list[str], env: dict[str, str]) -> None:
    done = subprocess.run([str(LABEL_STUDIO), *arguments], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh server on a free loopback port with the two annotator accounts; yields its URL."""
    data_dir = tmp_path_factory.mktemp("label-studio")
    env = {**os.environ, **QUIET, "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir)}
    for email, token in ANNOTATORS.items():
        _run(["init", "--data-dir", str(data_dir), "-q", "--enable-legacy-api-token", "--username", email,
              "--password", f"pw-{token}", "--user-token", token], env)  # fmt: skip
    port = free_port()
    command = [str(LABEL_STUDIO), "start", "--no-browser", "--data-dir", str(data_dir)]
    command += ["--internal-host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, server, "label-studio", seconds=240, interval=1)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)


def _scores(path: Path) -> Path:
    """Scores for the tiny articles, as framing predict writes them (probabilities invented, seeded)."""
    rng = np.random.default_rng(3)
    rows = []
    for article_id, paragraphs in TINY_ARTICLES.items():
        for number, (text, _) in enumerate(paragraphs):
            p = rng.uniform(0, 1, len(TINY_LABELS))
            labels = [label for label, q in zip(TINY_LABELS, p, strict=True) if q >= 0.5]
            row = {"article_id": article_id, "paragraph": number, "text": text, "labels": labels}
            rows.append(row | {f"p_{label}": float(q) for label, q in zip(TINY_LABELS, p, strict=True)})
    pd.DataFrame(rows).to_parquet(path)
    return path


def _choices(labels: list[str]) -> list[dict[str, object]]:
    value = {"choices": labels}
    return [{"from_name": "labels", "to_name": "text", "type": "choices", "value": value}] if labels else []


def _hand_alpha(pairs: list[tuple[int, int]]) -> float:
    """Nominal alpha of two annotators on a yes/no label: 1 - (n-1) * o01 / (n0 * n1)."""
    o01 = sum(1 for a, b in pairs if a != b)
    n1 = sum(a + b for a, b in pairs)
    n = 2 * len(pairs)
    return 1 - (n - 1) * o01 / ((n - n1) * n1)


def _out(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out


def test_annotation_loop_through_label_studio(
    label_studio: str, tmp_path: Path, mlflow_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from label_studio_sdk import LabelStudio

    truth = {text: labels for paragraphs in TINY_ARTICLES.values() for text, labels in paragraphs}
    scores = _scores(tmp_path / "scores.parquet")
    tasks = tmp_path / "tasks.json"
    assert main(["annotate", "sample", "--input", str(scores), "--n", "24", "--strategy", "mixed",
                 "--output", str(tasks)]) == 0  # fmt: skip
    assert len(json.loads(tasks.read_text())) == 24

    server = ["--url", label_studio, "--api-key", ANNOTATORS["one@example.org"]]
    labels = ["--labels", *TINY_LABELS]
    push = ["annotate", "push", "--tasks", str(tasks), "--title", "loop test", "--annotators", "2"]
    assert main([*push, *labels, *server]) == 0
    project = int(_out(capsys).split("project ")[1].split(":")[0])

    one, two = (LabelStudio(base_url=label_studio, api_key=token) for token in ANNOTATORS.values())
    assert one.projects.get(id=project).maximum_annotations == 2
    listed = sorted(one.tasks.list(project=project), key=lambda t: t.id)
    assert len(listed) == 24 and listed[0].data["id"] and listed[0].data["weight"] > 0
    flipped = zip(listed[1:4], ("diplomacy", "humanitarian", "media_bias_claim"), strict=True)
    disagree = {task.id: sorted(set(truth[task.data["text"]]) ^ {label}) for task, label in flipped}  # ties
    for task in listed[:-1]:  # the last task stays unannotated
        given = truth[task.data["text"]]
        one.annotations.create(id=task.id, result=_choices(given))
        if task.id == listed[4].id:
            two.annotations.create(id=task.id, result=[], was_cancelled=True)  # annotator two skips it
        else:
            two.annotations.create(id=task.id, result=_choices(disagree.get(task.id, given)))

    export = tmp_path / "export.json"
    assert main(["annotate", "pull", "--project", str(project), "--output", str(export), *server]) == 0
    assert len(json.loads(export.read_text())) == 24
    users = json.loads((tmp_path / "export.users.json").read_text())
    assert set(ANNOTATORS) <= set(users.values())

    labelled = tmp_path / "labelled.jsonl"
    assert main(["annotate", "import", "--input", str(export), "--output", str(labelled), *labels]) == 0
    out = _out(capsys)
    assert "1 skipped annotation(s), 1 task(s) without annotation" in out
    rows = [json.loads(line) for line in labelled.read_text().splitlines()]
    assert all(truth[row["text"]] == row["labels"] for row in rows)  # ties left out, majority/unanimous are right
    assert {row["resolution"] for row in rows} <= {"unanimous", "single"}
    assert {tuple(row["annotators"]) for row in rows} == {tuple(ANNOTATORS), ("one@example.org",)}
    assert len(rows) == 23 - len(disagree)
    assert all(row["weight"] > 0 and row["strategy"] in ("random", "uncertainty") for row in rows)

    assert main(["annotate", "agreement", "--input", str(export), "--output", str(tmp_path / "agreement.csv")]) == 0
    measured = pd.read_csv(tmp_path / "agreement.csv").set_index("label")
    both = [t for t in listed[:-1] if t.id != listed[4].id]
    for label in TINY_LABELS:
        pairs = [
            (int(label in truth[t.data["text"]]), int(label in disagree.get(t.id, truth[t.data["text"]]))) for t in both
        ]
        assert measured.loc[label, "alpha"] == pytest.approx(_hand_alpha(pairs), abs=1e-9)
        assert measured.loc[label, "items"] == len(both)

    split = tmp_path / "split"
    assert (
        main(["split", "--input", str(labelled), "--output-dir", str(split), "--fractions", "0.6", "0.2", "0.2"]) == 0
    )
    train = [f"data.{name}={split / f'{name}.jsonl'}" for name in ("train", "validation", "test")]
    train += [f"data.labels=[{','.join(TINY_LABELS)}]", "model.char_ngram_range=null", "train.error_analysis_rows=2"]
    assert main(["train", *train]) == 0
    assert "model_uri: runs:/" in _out(capsys)
