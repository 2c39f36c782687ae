"""Training, tracking and CLI failures end in one clear line (exit 2), never a traceback or a RUNNING run.

One test per case of issue 13's training side: unlearnable labels and unloadable models (4), an
unreachable tracking server (5), a read-only store (6), SIGTERM (7), bad settings and bad rows (11)
and the CLI's own argument checks (12).
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient

from framing.cli import main
from framing.config import TrackingConfig
from framing.errors import ModelLoadError
from framing.models.tfidf import TfidfClassifier
from framing.tracking import REQUEST_RETRIES_ENV, REQUEST_TIMEOUT_ENV, apply_request_settings
from tests.conftest import PROJECT_ROOT, SPLIT_OF, TINY_ARTICLES, TINY_LABELS


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    """The one error line the command printed to stderr (MLflow's own log lines aside), and no traceback."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]


def _runs(experiment: str = "framing") -> list[Any]:
    """The experiment's runs in the test's own store (not the last one MLflow was pointed at)."""
    client = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
    found = client.get_experiment_by_name(experiment)
    return [] if found is None else client.search_runs([found.experiment_id])


def _rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _tiny_rows(split: str, extra_label: str | None = None) -> list[dict[str, Any]]:
    rows = []
    for article_id in SPLIT_OF[split]:
        for index, (text, labels) in enumerate(TINY_ARTICLES[article_id]):
            labels = [*labels, extra_label] if extra_label else labels
            rows.append({"id": f"{article_id}-{index}", "article_id": article_id, "text": text, "labels": labels})
    return rows


def _with_train(overrides: list[str], train: Path) -> list[str]:
    return [o for o in overrides if not o.startswith("data.train=")] + [f"data.train={train}"]


# ---------------------------------------------------------------- 4: unlearnable labels, unloadable models


def test_a_label_on_every_training_row_is_refused_by_validate_and_train(
    tiny_overrides: list[str], tmp_path: Path, mlflow_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    train = _rows(tmp_path / "everywhere.jsonl", _tiny_rows("train", extra_label="news"))
    overrides = [*_with_train(tiny_overrides, train), f"data.labels=[{','.join(TINY_LABELS)},news]"]
    for command in ("validate", "train"):
        assert main([command, *overrides]) == 2
        line = _error(capsys)
        assert line == (
            f"error: {train}: label(s) ['news'] on every one of the 16 training rows: a model cannot learn when "
            "they do not apply; add rows without them or remove them from data.labels"
        )
    assert _runs() == [], "refused before a run opened"


def test_a_label_without_training_rows_is_refused_by_validate(
    tiny_overrides: list[str], tiny_data: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    overrides = [*tiny_overrides, f"data.labels=[{','.join(TINY_LABELS)},security_threat]"]
    assert main(["validate", *overrides]) == 2
    assert _error(capsys) == (
        f"error: {tiny_data['train']}: no training row has label(s) ['security_threat']: a model cannot learn them; "
        "add examples or remove them from data.labels"
    )


def test_a_logged_model_that_cannot_be_loaded_fails_the_run(
    tiny_overrides: list[str], mlflow_store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> TfidfClassifier:
        raise ModelLoadError("tfidf.skops: refusing to load untrusted types ['_ConstantPredictor']")

    monkeypatch.setattr(TfidfClassifier, "load", classmethod(refuse))
    assert main(["train", *tiny_overrides]) == 2
    line = _error(capsys)
    assert "failed its load-and-predict check: tfidf.skops: refusing to load untrusted types" in line
    (run,) = _runs()
    assert run.info.status == "FAILED"
    assert line.startswith(f"error: the logged model runs:/{run.info.run_id}/model ")


# ---------------------------------------------------------------- 5: unreachable tracking server


def test_an_unreachable_tracking_server_fails_fast_with_one_line(tiny_overrides: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "MLFLOW_TRACKING_URI": "http://127.0.0.1:9", "HF_HUB_OFFLINE": "1"}
    for variable in (REQUEST_TIMEOUT_ENV, REQUEST_RETRIES_ENV):
        env.pop(variable, None)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "train.py"), *tiny_overrides],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert elapsed < 30
    assert done.stderr.strip().splitlines() == [
        "error: tracking server http://127.0.0.1:9 did not answer (Connection refused; 5 s timeout, 2 retries): "
        "check that the server is running and the URI (tracking.uri or MLFLOW_TRACKING_URI) is right; "
        "tracking.request_timeout and tracking.request_max_retries "
        "(MLFLOW_HTTP_REQUEST_TIMEOUT, MLFLOW_HTTP_REQUEST_MAX_RETRIES) set how long to wait"
    ]


@pytest.mark.parametrize("command", [["promote", "0123abcd"], ["compare"]])
def test_promote_and_compare_name_an_unreachable_server(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(REQUEST_TIMEOUT_ENV, "2")
    monkeypatch.setenv(REQUEST_RETRIES_ENV, "0")
    assert main([*command, "--tracking-uri", "http://127.0.0.1:9"]) == 2
    assert _error(capsys).startswith(
        "error: tracking server http://127.0.0.1:9 did not answer (Connection refused; 2 s timeout, 0 retries)"
    )


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A socket that accepts connections and never answers: a hung server."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def test_request_timeout_and_retries_are_settings(
    tiny_overrides: list[str],
    silent_server: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", silent_server)
    monkeypatch.setenv(REQUEST_TIMEOUT_ENV, "120")  # MLflow's own default: the settings must win over it
    monkeypatch.setenv(REQUEST_RETRIES_ENV, "7")
    started = time.monotonic()
    assert main(["train", *tiny_overrides, "tracking.request_timeout=1", "tracking.request_max_retries=0"]) == 2
    assert time.monotonic() - started < 10
    line = _error(capsys)
    assert line.startswith(f"error: tracking server {silent_server} did not answer (")
    assert "timed out" in line and "1 s timeout, 0 retries" in line


@pytest.fixture
def refusing_server() -> Iterator[str]:
    """An HTTP server that answers every request with 401, as one behind authentication does."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Refuse(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(401)
            self.end_headers()
            self.wfile.write(b"Unauthorized")

        do_POST = do_GET

        def log_message(self, *args: Any) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_server_that_refuses_requests_is_one_line(
    refusing_server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(REQUEST_TIMEOUT_ENV, "2")
    monkeypatch.setenv(REQUEST_RETRIES_ENV, "0")
    assert main(["compare", "--tracking-uri", refusing_server]) == 2
    line = _error(capsys)
    assert line.startswith(f"error: tracking server {refusing_server} refused a request: ")
    assert "401" in line


def test_request_settings_keep_exported_variables_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUEST_TIMEOUT_ENV, "30")
    monkeypatch.setenv(REQUEST_RETRIES_ENV, "1")
    apply_request_settings(TrackingConfig())
    assert (os.environ[REQUEST_TIMEOUT_ENV], os.environ[REQUEST_RETRIES_ENV]) == ("30", "1")
    apply_request_settings(TrackingConfig(request_timeout=3, request_max_retries=0))
    assert (os.environ[REQUEST_TIMEOUT_ENV], os.environ[REQUEST_RETRIES_ENV]) == ("3", "0")
    monkeypatch.delenv(REQUEST_TIMEOUT_ENV)
    monkeypatch.delenv(REQUEST_RETRIES_ENV)
    apply_request_settings(TrackingConfig())
    assert (os.environ[REQUEST_TIMEOUT_ENV], os.environ[REQUEST_RETRIES_ENV]) == ("5", "2")


# ---------------------------------------------------------------- 6: read-only store


def _cannot_write(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return False
    except OSError:
        return True


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder nothing can be written to: a chmod 555 folder, or for root (which ignores modes) /sys or /proc."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    system = next((Path(p) for p in ("/sys", "/proc") if Path(p).is_dir() and _cannot_write(Path(p))), None)
    if system is None:
        pytest.skip("running as root with no read-only folder to test against")
    yield system


def test_a_store_in_a_read_only_folder_fails_before_training(
    tiny_overrides: list[str], read_only_folder: Path, mlflow_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = f"sqlite:///{read_only_folder / 'mlflow.db'}"
    started = time.monotonic()
    assert main(["train", *tiny_overrides, f"tracking.uri={uri}"]) == 2
    assert time.monotonic() - started < 10
    line = _error(capsys)
    assert line.startswith(f"error: tracking store {uri}: cannot write to {read_only_folder} (")
    assert line.endswith("make it writable or point tracking.uri (or MLFLOW_TRACKING_URI) at a writable place")


# ---------------------------------------------------------------- 7: SIGTERM


def test_sigterm_during_baseline_training_marks_the_run_killed(
    tiny_overrides: list[str], mlflow_store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fit = TfidfClassifier.fit

    def fit_then_terminated(self: TfidfClassifier, *args: Any) -> None:
        fit(self, *args)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises here, as it would in a longer fit

    monkeypatch.setattr(TfidfClassifier, "fit", fit_then_terminated)
    previous = signal.getsignal(signal.SIGTERM)
    assert main(["train", *tiny_overrides]) == 143
    assert _error(capsys) == "error: training stopped by SIGTERM; the run is marked KILLED"
    (run,) = _runs()
    assert run.info.status == "KILLED"
    assert signal.getsignal(signal.SIGTERM) is previous, "the handler is removed after training"


def test_sigterm_while_the_run_opens_still_ends_it_killed(
    tiny_overrides: list[str], mlflow_store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import mlflow

    start_run = mlflow.start_run

    def start_then_terminated(*args: Any, **kwargs: Any) -> Any:
        run = start_run(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)  # the run exists but is not yet guarded
        time.sleep(0.5)
        return run

    monkeypatch.setattr(mlflow, "start_run", start_then_terminated)
    assert main(["train", *tiny_overrides]) == 143
    assert _error(capsys) == "error: training stopped by SIGTERM; the run is marked KILLED"
    (run,) = _runs()
    assert run.info.status == "KILLED"


def _run_statuses(database: Path) -> list[str]:
    if not database.is_file():
        return []
    try:
        with sqlite3.connect(database, timeout=1) as connection:
            return [row[0] for row in connection.execute("SELECT status FROM runs")]
    except sqlite3.OperationalError:  # tables not created yet
        return []


@pytest.mark.parametrize("seed", [1, 2])
def test_sigterm_at_a_random_moment_of_a_run_never_leaves_it_running(
    tiny_overrides: list[str], mlflow_store: str, seed: int
) -> None:
    database = Path(mlflow_store.removeprefix("sqlite:///"))
    process = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "train.py"), *tiny_overrides],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not _run_statuses(database) and process.poll() is None:
            assert time.monotonic() < deadline, "no run opened"
            time.sleep(0.02)
        time.sleep(random.Random(seed).uniform(0.0, 3.0))
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert "Traceback" not in stderr
    assert process.returncode in (0, 143, -signal.SIGTERM), stderr
    assert _run_statuses(database) in (["KILLED"], ["FINISHED"])


def _losses_logged(database: Path) -> int:
    """Training steps the run has logged so far, read straight from the store."""
    if not database.is_file():
        return 0
    try:
        with sqlite3.connect(database, timeout=1) as connection:
            rows = connection.execute("SELECT count(*) FROM metrics WHERE key = 'train/loss'").fetchone()
    except sqlite3.OperationalError:  # tables not created yet
        return 0
    return int(rows[0]) if rows else 0


def test_sigterm_during_transformer_training_checkpoints_kills_the_run_and_resumes(
    tiny_transformer_overrides: list[str], tmp_path: Path, mlflow_store: str
) -> None:
    checkpoints = tmp_path / "ckpt"
    overrides = [
        *tiny_transformer_overrides,
        "model.early_stopping_patience=100",
        "model.temperature_scaling=false",
        "model.checkpoint_every_steps=1000",
        f"checkpoint_dir={checkpoints}",
    ]
    database = Path(mlflow_store.removeprefix("sqlite:///"))
    process = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "train.py"), *overrides],
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while _losses_logged(database) < 5:  # into the second epoch: the first one's checkpoint exists
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "training never logged a step"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143, stderr
    assert stderr.strip().splitlines()[-1] == (
        "error: training stopped by SIGTERM; the run is marked KILLED; "
        "continue it with the same command plus resume=true"
    )
    (run,) = _runs()
    assert run.info.status == "KILLED"
    (state_file,) = checkpoints.glob("*/last/state.json")
    state = json.loads(state_file.read_text(encoding="utf-8"))
    assert state["step"] >= 4 and state["epoch"] < 4, "checkpointed where it stopped, not at the end"

    assert main(["train", *overrides, "resume=true"]) == 0
    (resumed,) = _runs()
    assert resumed.info.run_id == run.info.run_id and resumed.info.status == "FINISHED"


# ---------------------------------------------------------------- 11: bad settings and bad rows


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "model.word_ngram_range=[2,1]",
            "error: invalid config: model.word_ngram_range: Value error, needs 1 <= low <= high (got [2, 1])",
        ),
        ("seed=-5", "error: invalid config: seed: Input should be greater than or equal to 0 (got -5)"),
        (
            "model.min_df=1000000",
            "error: model.min_df=1000000: a term must be in that many training rows, but there are only 16",
        ),
        (
            "model.max_df=0.0001",
            "error: model.max_df=0.0001 keeps terms in at most 0.0016 of the 16 training rows, "
            "fewer than model.min_df=1: no term would remain",
        ),
    ],
)
def test_bad_model_settings_fail_at_validation(
    tiny_overrides: list[str], override: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", *tiny_overrides, override]) == 2
    assert _error(capsys) == message


def test_an_experiment_name_cannot_read_outside_experiments(
    tiny_overrides: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", *tiny_overrides, "experiment=../configs/config"]) == 2
    line = _error(capsys)
    assert line.startswith("error: experiment=../configs/config: not a file name in ")
    assert "experiments (available: baseline, " in line


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("labels", None, "no labels (null) in column 'labels'; write [] for a row with no labels"),
        ("id", None, "no id (null) in column 'id'"),
        ("article_id", None, "no group (null) in column 'article_id'"),
        ("text", 42, "expected text in column 'text', got a number (42)"),
        ("text", None, "no text (null) in column 'text'"),
    ],
)
def test_bad_values_name_file_row_and_problem(
    tiny_overrides: list[str],
    tmp_path: Path,
    field: str,
    value: Any,
    problem: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = _tiny_rows("train")
    rows[2][field] = value
    train = _rows(tmp_path / "bad.jsonl", rows)
    assert main(["validate", *_with_train(tiny_overrides, train)]) == 2
    assert _error(capsys) == f"error: {train}, row 3: {problem}"


def test_an_over_long_paragraph_is_refused_by_the_length_limit(
    tiny_overrides: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _tiny_rows("train")
    rows[0]["text"] = "word " * 10_000
    train = _rows(tmp_path / "long.jsonl", rows)
    overrides = _with_train(tiny_overrides, train)
    assert main(["validate", *overrides]) == 2
    assert _error(capsys) == (
        f"error: {train}, row 1: text of 49999 characters in column 'text', over data.max_paragraph_chars=20000; "
        "split it into paragraphs or raise the limit"
    )
    assert main(["validate", *overrides, "data.max_paragraph_chars=50000"]) == 0
    assert main(["validate", *overrides, "data.bad_rows=skip"]) == 0
    assert "train: 15 rows, 8 groups, 1 rejected" in capsys.readouterr().out


def test_a_malformed_line_is_skipped_and_counted_under_bad_rows_skip(
    tiny_overrides: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from framing.config import load_config
    from framing.data.dataset import load_splits

    lines = [json.dumps(row) for row in _tiny_rows("train")]
    lines.insert(3, '{"id": "broken", "text": ')
    train = tmp_path / "malformed.jsonl"
    train.write_text("\n".join(lines) + "\n", encoding="utf-8")
    overrides = _with_train(tiny_overrides, train)
    assert main(["validate", *overrides]) == 2
    assert _error(capsys) == f"error: {train}, row 4: malformed JSON: Expecting value (column 25)"
    assert main(["validate", *overrides, "data.bad_rows=skip"]) == 0
    assert "train: 16 rows, 8 groups, 1 rejected" in capsys.readouterr().out
    (reject,) = load_splits(load_config([*overrides, "data.bad_rows=skip"]).data).rejects
    assert (reject.source, reject.row) == (str(train), 4) and reject.reason.startswith("bad JSON line")


# ---------------------------------------------------------------- 12: CLI arguments


def test_split_fractions_must_add_up_to_one(
    tiny_data: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["split", "--input", str(tiny_data["train"]), "--output-dir", str(tmp_path / "out")]
    assert main([*argv, "--fractions", "0.5", "0.5", "0.5"]) == 2
    assert _error(capsys) == (
        "error: --fractions 0.5 0.5 0.5: need three shares (train, validation, test) between 0 and 1 that add up to 1"
    )
    assert not (tmp_path / "out").exists()


def test_cross_validation_needs_two_folds(tiny_overrides: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cv", *tiny_overrides, "--folds", "1"]) == 2
    assert _error(capsys) == "error: cross-validation needs at least 2 folds (--folds), got 1"


def test_promoting_a_sweep_parent_names_its_best_trial(mlflow_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    import mlflow

    from framing.sweep import SWEEP_KEY_TAG

    mlflow.set_tracking_uri(mlflow_store)
    mlflow.set_experiment("framing")
    with mlflow.start_run(run_name="sweep: grid") as parent:
        mlflow.set_tags({SWEEP_KEY_TAG: "k", "best.run_id": "0123abcd"})
    assert main(["promote", parent.info.run_id]) == 2
    assert _error(capsys) == (
        f"error: run {parent.info.run_id} is a sweep's parent run and logged no model; "
        "promote its best trial: framing promote 0123abcd"
    )
    with mlflow.start_run() as failed:
        pass
    MlflowClient(tracking_uri=mlflow_store).set_terminated(failed.info.run_id, "FAILED")
    assert main(["promote", failed.info.run_id]) == 2
    assert _error(capsys) == f"error: run {failed.info.run_id} is FAILED; only a FINISHED run's model can be promoted"


def test_a_second_process_waits_while_a_new_sqlite_store_is_set_up(tmp_path: Path) -> None:
    """Two trainings opening a new store at once both ran MLflow's migration; one died ("duplicate column")."""
    import threading

    from filelock import FileLock

    from framing.tracking import use_tracking

    database = tmp_path / "mlflow.db"
    config = TrackingConfig(uri=f"sqlite:///{database}", artifact_root=tmp_path / "mlartifacts")
    found: list[str] = []
    with FileLock(f"{database}.lock"):  # another process is setting the store up
        opener = threading.Thread(target=lambda: found.append(use_tracking(config)))
        opener.start()
        opener.join(timeout=3)
        assert opener.is_alive() and not found
    opener.join(timeout=120)
    assert found and found[0] == use_tracking(config)
