"""The early-exit benchmark's accounting: who decides each paragraph, and the layer passes that costs."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

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


def _tiny_classifier(labels: int = 2) -> Any:
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=40,
        hidden_size=16,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
        num_labels=labels,
    )
    return BertForSequenceClassification(config).eval()


def test_an_untrained_tail_on_the_states_entering_the_last_layer_is_the_model(early_exit: ModuleType) -> None:
    import torch

    model = _tiny_classifier()
    ids = torch.tensor([[2, 5, 6, 7, 3], [2, 8, 3, 0, 0]])
    mask = (ids != 0).long()
    with torch.inference_mode():
        output = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    states = [output.hidden_states[-2][row, : int(mask[row].sum())] for row in range(2)]

    found = early_exit.tail_logits(early_exit.tail_module(model), states)

    np.testing.assert_allclose(found, output.logits.numpy(), atol=1e-5)  # padding and pooling as the model's own


def test_training_a_tail_brings_it_closer_to_its_targets(early_exit: ModuleType) -> None:
    import torch

    model = _tiny_classifier()
    generator = torch.Generator().manual_seed(1)
    states = [torch.randn(int(n), 16, generator=generator) for n in torch.randint(3, 9, (64,), generator=generator)]
    tail = early_exit.tail_module(model)
    targets = early_exit.tail_logits(tail, states) + np.array([1.0, -1.0], dtype=np.float32)  # a learnable shift
    before = float(np.mean((early_exit.tail_logits(tail, states) - targets) ** 2))

    losses = early_exit.fit_tail(tail, states, targets, epochs=30, seed=0, learning_rate=1e-2)
    after = float(np.mean((early_exit.tail_logits(tail, states) - targets) ** 2))

    assert len(losses) == 30
    assert after < before / 2


def test_joint_budgets_hold_the_requirement_and_never_need_more_work_than_the_shipped_pair(
    early_exit: ModuleType,
) -> None:
    from types import SimpleNamespace

    from benchmarks._cascade import CascadeInputs
    from framing.cascade import threshold_logits
    from framing.models.transformer import CascadeConfig

    rng = np.random.default_rng(0)
    settings = CascadeConfig(agreement=0.99, f1_tolerance=0.01)
    teacher_model = SimpleNamespace(temperature=1.0, config=SimpleNamespace(cascade=settings))
    teacher = SimpleNamespace(thresholds=np.array([0.5, 0.5]), model=teacher_model, labels=["a", "b"])
    logits, first, second, truth, opened = {}, {}, {}, {}, {}
    for split in early_exit.SPLITS:
        exact = rng.normal(scale=3.0, size=(400, 2))
        logits[split] = exact
        first[split] = exact + rng.normal(scale=2.0, size=exact.shape)  # a rough student
        second[split] = exact + rng.normal(scale=0.5, size=exact.shape)  # a closer head
        truth[split] = (exact + rng.normal(scale=1.0, size=exact.shape) > 0).astype(int)
        opened[split] = np.ones_like(exact, dtype=bool)
    inputs = CascadeInputs(Path("."), teacher, [], 0, logits=logits, truth=truth, opened=opened)
    exit_ = early_exit.Exit(3, 6, 1, threshold_logits(teacher.thresholds, 1.0), settings)
    shipped_bands = (inputs.fit_band(first["validation"], 0.0075), inputs.fit_band(second["validation"], 0.0075))

    joint = early_exit._joint_budgets(inputs, first, second, exit_)
    shipped = early_exit._three_tiers(inputs, first, second, shipped_bands, exit_)

    check = joint["validation"]
    assert check["agreement"] >= settings.agreement
    assert check["f1"] >= check["f1_exact"] - settings.f1_tolerance
    holds = shipped["validation"]["agreement"] >= settings.agreement
    assert not holds or check["work"] <= shipped["validation"]["work"]
    assert check["work"] < 1.0  # the head decides some rows the transformer would otherwise run fully
