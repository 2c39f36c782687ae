"""The MLflow UI, for real: our runs, their metrics and the compare view in headless Chromium.

Needs Debian's chromium (``.ci/run`` installs it and sets FRAMING_BROWSER_TESTS=required, so a
missing browser fails there instead of skipping). The screenshot goes to $FRAMING_SCREENSHOT_DIR
when set (that is how the one in ``docs/`` was made), else to the test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest

from framing.cli import main
from tests.conftest import free_port, wait_until_up

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if CHROMIUM is None:
    if os.environ.get("FRAMING_BROWSER_TESTS") == "required":
        raise RuntimeError("FRAMING_BROWSER_TESTS=required but no chromium on PATH (apt-get install chromium)")
    pytest.skip("no chromium on PATH", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def mlflow_ui(mlflow_store: str) -> Iterator[str]:
    """``mlflow ui`` on the test's store, bound to 127.0.0.1 on a free port; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", mlflow_store]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server, "mlflow ui", seconds=90, interval=0.5)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def _train(capsys: pytest.CaptureFixture[str], overrides: list[str]) -> str:
    assert main(["train", *overrides]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    return next(line.split(": ")[1] for line in lines if line.startswith("run_id: "))


def test_ui_shows_runs_metrics_and_compare_view(
    mlflow_ui: str, tiny_overrides: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first = _train(capsys, [*tiny_overrides, "tracking.run_name=tfidf-word"])
    second = _train(capsys, [*tiny_overrides, "tracking.run_name=tfidf-word-char", "model.char_ngram_range=[2,4]"])
    experiment = mlflow.get_experiment_by_name("framing")
    assert experiment is not None
    shots = Path(os.environ.get("FRAMING_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(60_000)
            training_view = "workflowType=machine_learning"  # MLflow 3: the model-training side of the UI
            page.goto(f"{mlflow_ui}/#/experiments/{experiment.experiment_id}/runs?{training_view}")
            page.get_by_text("tfidf-word-char").first.wait_for()
            page.get_by_text("tfidf-word", exact=True).first.wait_for()
            page.screenshot(path=str(shots / "mlflow-runs.png"))

            page.goto(f"{mlflow_ui}/#/experiments/{experiment.experiment_id}/runs/{first}?{training_view}")
            page.get_by_text("train/seconds").first.wait_for()

            runs = f'["{first}","{second}"]'
            page.goto(
                f'{mlflow_ui}/#/compare-runs?runs={runs}&experiments=["{experiment.experiment_id}"]&{training_view}'
            )
            page.get_by_text("Comparing 2 Runs").first.wait_for()
            page.get_by_text("data/rejected_rows").first.wait_for(state="attached")  # metrics table, virtualised
            body = page.inner_text("body")
            assert "tfidf-word" in body and "model.char_ngram_range" in body and "test/default/" in body
            page.screenshot(path=str(shots / "mlflow-compare.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(shots / "failure.png"))
            raise
        finally:
            browser.close()
    assert (shots / "mlflow-compare.png").stat().st_size > 10_000
