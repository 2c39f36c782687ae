"""The early-exit benchmark's accounting: who decides each paragraph, and the layer passes that costs."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pytest


@pytest.fixture()
def early_exit(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
    from benchmarks import cascade_early_exit

    return cascade_early_exit


def test_each_tier_decides_its_own_rows_and_the_work_counts_their_layers(early_exit: ModuleType) -> None:
    from benchmarks._cascade import CascadeInputs

    teacher = np.array([[2.0], [2.0], [2.0], [-2.0]])  # the transformer: on, on, on, off
    inputs = CascadeInputs(Path("."), None, [], 0, logits={"test": teacher}, opened={"test": np.ones((4, 1), bool)})
    student = np.array([[-1.0], [-1.0], [-1.0], [-1.0]])  # wrong on rows 0-2
    head = np.array([[-1.0], [1.0], [-1.0], [1.0]])  # wrong on rows 0 and 3
    sent = np.array([False, True, True, True])  # the student keeps row 0 (a mistake) and sends the rest on
    still = np.array([False, False, True, False])  # the head keeps rows 1 and 3 (a mistake on 3)

    found = early_exit._tiers(inputs, "test", student, sent, (head, still), np.zeros(1), layer=2, layers=6)

    assert found["agreement"] == pytest.approx(0.5)  # rows 0 and 3 wrong
    assert found["full"] == pytest.approx(0.25)
    assert found["work"] == pytest.approx(0.75 * 2 / 6 + 0.25 * 4 / 6)


def test_without_a_head_what_is_sent_on_runs_every_layer(early_exit: ModuleType) -> None:
    from benchmarks._cascade import CascadeInputs

    teacher = np.array([[1.0], [-1.0]])
    inputs = CascadeInputs(Path("."), None, [], 0, logits={"test": teacher}, opened={"test": np.ones((2, 1), bool)})

    found = early_exit._tiers(
        inputs, "test", np.array([[1.0], [1.0]]), np.array([False, True]), None, np.zeros(1), 0, 0
    )

    assert found == {"full": 0.5, "agreement": 1.0, "work": 0.5}
