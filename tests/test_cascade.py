"""The cascade: the band's error budget, the student's files, and a transformer run that scores through it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from scipy.special import expit

from framing.cascade import Cascade, threshold_logits
from framing.cascade.band import Band, fit_band, margins
from framing.cascade.fit import choose_band, compare
from framing.cascade.student import STUDENT_FILE, Student
from framing.errors import ModelLoadError
from framing.models.transformer import CascadeConfig


def _wrong_decisions(margin: np.ndarray, teacher: np.ndarray, band: Band) -> np.ndarray:
    """Per label: rows the band lets the student decide, where it decides against the teacher."""
    off = (margin <= band.low) & teacher
    on = (margin >= band.high) & ~teacher
    return np.asarray(off.sum(axis=0) + on.sum(axis=0))


def test_the_band_allows_at_most_the_budget_of_errors_per_side_and_contains_the_threshold() -> None:
    rng = np.random.default_rng(0)
    teacher_logit = rng.normal(size=(2000, 3)) * 3
    margin = teacher_logit + rng.normal(size=teacher_logit.shape)  # a noisy student
    teacher = teacher_logit >= 0
    for budget in (0.0, 0.002, 0.01):
        band = fit_band(margin, teacher, budget, multilabel=True)
        assert (band.low <= 0).all() and (band.high >= 0).all()
        wrong_low = ((margin <= band.low) & teacher).sum(axis=0)
        wrong_high = ((margin >= band.high) & ~teacher).sum(axis=0)
        assert (wrong_low <= int(budget * 2000)).all() and (wrong_high <= int(budget * 2000)).all()
    wide = fit_band(margin, teacher, 0.01, multilabel=True)
    narrow = fit_band(margin, teacher, 0.0, multilabel=True)
    assert wide.decided(margin, True).mean() > narrow.decided(margin, True).mean() > 0


def test_ties_at_the_edge_of_the_band_are_not_split() -> None:
    """Rows with the same margin are decided alike, so a tie cannot smuggle an error past the budget."""
    margin = np.array([[-3.0], [-2.0], [-2.0], [-1.0], [1.0]])
    teacher = np.array([[False], [False], [True], [False], [True]])
    band = fit_band(margin, teacher, budget=0.0, multilabel=True)
    assert band.low[0] == -3.0
    assert _wrong_decisions(margin, teacher, band).sum() == 0


def test_a_multiclass_band_keeps_the_students_class_only_with_a_wide_enough_lead() -> None:
    logits = np.array([[5.0, 0.0], [0.2, 0.0], [0.0, 4.0], [0.0, 0.1]])
    same = np.array([[True], [False], [True], [True]])
    band = fit_band(margins(logits, None), same, budget=0.0, multilabel=False)
    assert band.decided(margins(logits, None), multilabel=False).tolist() == [True, False, True, False]


class _Fixed:
    """A student whose logits are given, to test the band choice without fitting anything."""

    def __init__(self, logits: np.ndarray) -> None:
        self._logits = logits

    def logits(self, texts: list[str]) -> np.ndarray:
        return self._logits


def _choose(student_logits: np.ndarray, teacher_logits: np.ndarray, truth: np.ndarray) -> Cascade:
    thresholds = np.full(truth.shape[1], 0.5)
    cascade, _ = choose_band(
        _Fixed(student_logits),  # type: ignore[arg-type]
        student_logits,
        expit(teacher_logits),
        truth,
        thresholds,
        1.0,
        CascadeConfig(agreement=0.99, f1_tolerance=0.005),
    )
    return cascade


def test_a_faithful_student_decides_most_rows_and_a_useless_one_hardly_any() -> None:
    rng = np.random.default_rng(1)
    teacher_logits = rng.normal(size=(1000, 2)) * 4
    truth = teacher_logits >= 0
    faithful = _choose(teacher_logits + rng.normal(scale=0.1, size=teacher_logits.shape), teacher_logits, truth)
    noisy_student = teacher_logits + rng.normal(scale=0.1, size=teacher_logits.shape)
    teacher = expit(teacher_logits)  # the transformer's probabilities, temperature 1
    check = compare(faithful, noisy_student, teacher, truth, np.full(2, 0.5))
    assert check.escalation < 0.2 and check.agreement.min() >= 0.99
    assert faithful.fitted["budget"] > 0
    random_logits = rng.normal(size=teacher_logits.shape)
    useless = _choose(random_logits, teacher_logits, truth)
    assert compare(useless, random_logits, teacher, truth, np.full(2, 0.5)).escalation > 0.95
    contrary = _choose(-teacher_logits, teacher_logits, truth)  # always wrong: it may decide only a handful
    check = compare(contrary, -teacher_logits, teacher, truth, np.full(2, 0.5))
    assert check.escalation > 0.97 and check.agreement.min() >= 0.99


def test_thresholds_become_logit_cuts_with_the_temperature() -> None:
    cuts = threshold_logits(np.array([0.5, 0.8]), temperature=2.0)
    assert cuts is not None
    assert cuts[0] == pytest.approx(0.0) and cuts[1] == pytest.approx(2.0 * np.log(4.0))
    assert threshold_logits(None, 1.0) is None


def test_the_student_reproduces_logits_and_round_trips_through_skops(tmp_path: Path) -> None:
    texts = [
        f"the outlet {w} the story about {v}" for w in ("hid", "told", "wrote", "spun") for v in ("war", "aid")
    ] * 3
    logits = np.array([[3.0 if "spun" in t or "hid" in t else -3.0, 2.0 if "aid" in t else -2.0] for t in texts])
    student = Student.fit(texts, logits)
    predicted = student.logits(texts)
    assert np.sign(predicted).tolist() == np.sign(logits).tolist()
    student.save(tmp_path)
    assert np.allclose(Student.load(tmp_path).logits(texts), predicted)


def test_a_student_file_with_an_untrusted_type_is_refused(tmp_path: Path) -> None:
    import skops.io as sio
    from sklearn.pipeline import Pipeline

    class Sneaky:
        def fit(self, x: object, y: object = None) -> Sneaky:
            return self

        def transform(self, x: object) -> object:
            return x

    sio.dump(Pipeline([("features", Sneaky())]), tmp_path / STUDENT_FILE)
    with pytest.raises(ModelLoadError, match="untrusted"):
        Student.load(tmp_path)


@pytest.fixture
def cascade_run(
    tiny_transformer_overrides: list[str], mlflow_store: str, tmp_path: Path
) -> tuple[str, dict[str, float]]:
    """A tiny transformer run with its cascade, distilled on extra unlabelled paragraphs too."""
    from framing.config import load_config
    from framing.training import run_training

    unlabelled = tmp_path / "unlabelled.jsonl"
    rows = [
        {"article_id": f"u{i}", "text": f"Officials met again to talk about aid and the talks number {i}."}
        for i in range(30)
    ]
    unlabelled.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    # fp32 escalation, so that escalated rows equal --exact on any CPU; bf16 has its own test.
    fp32 = "model.cascade.transformer_precision=fp32"
    overrides = [*tiny_transformer_overrides, f"data.unlabelled={unlabelled}", fp32]
    result = run_training(load_config(overrides))
    import mlflow

    description = mlflow.get_run(result.run_id).data.tags["mlflow.note.content"]
    assert "Cascade (the default scoring path" in description
    return result.model_uri, result.metrics


def test_a_transformer_run_fits_logs_and_ships_its_cascade(cascade_run: tuple[str, dict[str, float]]) -> None:
    from framing import load_model

    model_uri, metrics = cascade_run
    for name in ("validation", "test"):
        for metric in ("agreement", "escalation", "f1_macro", "f1_macro_exact"):
            assert 0.0 <= metrics[f"cascade/{name}/{metric}"] <= 1.0
    assert metrics["cascade/distillation_rows"] > 30  # training rows plus the unlabelled ones
    assert metrics["cascade/unlabelled_rejected"] == 0

    predictor = load_model(model_uri)
    exact = load_model(model_uri, exact=True)
    assert predictor.cascade is not None and predictor.cascading and not exact.cascading
    texts = [
        "The outlet hid the story about the war.",
        "Aid convoys reached the city after talks.",
        "Officials met again to talk about aid.",
        "Nothing happened today in the capital.",
    ]
    routed = predictor.predict(texts)
    full = exact.predict(texts)
    assert set(routed["decided_by"]) <= {"student", "transformer"}
    assert (full["decided_by"] == "transformer").all()
    escalated = (routed["decided_by"] == "transformer").to_numpy()
    probability_columns = [c for c in full.columns if c.startswith("p_")]
    assert np.allclose(routed.loc[escalated, probability_columns], full.loc[escalated, probability_columns])
    assert predictor.fingerprint() != exact.fingerprint()  # a resumed scoring run cannot mix the two


def _with_escalation_precision(predictor: Any, precision: str) -> Any:
    predictor.use_escalation_precision(precision)
    return predictor


def test_escalated_paragraphs_may_score_and_be_explained_in_bf16_while_exact_stays_fp32(
    cascade_run: tuple[str, dict[str, float]],
) -> None:
    from framing import load_model

    fp32 = _with_escalation_precision(load_model(cascade_run[0]), "fp32")
    bf16 = _with_escalation_precision(load_model(cascade_run[0]), "bf16")
    exact = _with_escalation_precision(load_model(cascade_run[0], exact=True), "bf16")
    assert fp32.escalation_precision() == "fp32" and bf16.escalation_precision() == "bf16"
    assert fp32.escalation_model() is fp32.model
    fast = bf16.escalation_model()
    assert fast._length_step > 1  # fixed batch shapes: bf16 kernels are made per shape
    assert next(fast.model.parameters()).dtype == torch.bfloat16
    assert next(bf16.model.model.parameters()).dtype == torch.float32  # the trained weights stay as they are
    # both refer to the news media, so media_bias_claim is scored (framing.mentions)
    texts = ["The outlet hid the story about the war.", "Reporters saw aid convoys reach the city after talks."] * 3
    exact_probabilities = exact.probabilities(texts)
    assert np.array_equal(exact_probabilities, fp32.model.predict_proba(texts))  # --exact ignores the setting
    bf16_probabilities = fast.predict_proba(texts)
    assert not np.array_equal(bf16_probabilities, exact_probabilities)
    assert np.allclose(bf16_probabilities, exact_probabilities, atol=0.02)
    bf16.cascade.band = Band(np.full(len(bf16.labels), -np.inf), np.full(len(bf16.labels), np.inf))  # all escalate
    flags = np.ones((len(texts), len(bf16.labels)), dtype=bool)
    routed = bf16.evidence(texts, flags, np.ones(len(texts), dtype=bool), k=2)
    assert routed == fast.evidence(texts, flags, k=2)  # explained by the weights that scored them
    assert routed == bf16.evidence(texts, flags, np.ones(len(texts), dtype=bool), k=2)
    assert exact.evidence(texts, flags, np.ones(len(texts), dtype=bool), k=2) == fp32.model.evidence(texts, flags, k=2)
    # a resumed scoring run cannot mix bf16 and fp32 scores, nor cascade and exact
    assert len({fp32.fingerprint(), bf16.fingerprint(), exact.fingerprint()}) == 3


def test_the_cascade_can_be_turned_off(tiny_transformer_overrides: list[str], mlflow_store: str) -> None:
    from framing import load_model
    from framing.config import load_config
    from framing.training import run_training

    result = run_training(load_config([*tiny_transformer_overrides, "model.cascade.enabled=false"]))
    assert not any(name.startswith("cascade/") for name in result.metrics)
    predictor = load_model(result.model_uri)
    assert predictor.cascade is None and "decided_by" not in predictor.predict(["Aid arrived."]).columns


def test_a_scoring_run_cannot_be_resumed_past_or_through_the_cascade(
    cascade_run: tuple[str, dict[str, float]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from framing.cli import main

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps({"article_id": "a", "text": "Aid convoys reached the city after talks."}) + "\n")
    output = tmp_path / "scores.jsonl"
    command = ["predict", "--model", cascade_run[0], "--input", str(corpus), "--output", str(output), "--quiet"]
    assert main([*command, "--languages", "any"]) == 0
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert rows[0]["decided_by"] in {"student", "transformer"}
    capsys.readouterr()
    assert main([*command, "--languages", "any", "--exact"]) == 2
    assert "--exact" in capsys.readouterr().err
    assert main([*command, "--languages", "any", "--precision", "bf16"]) == 2  # nor in another precision
    assert "precision" in capsys.readouterr().err
    assert main([*command, "--languages", "any", "--precision", "bf16", "--overwrite"]) == 0


def test_precision_is_checked_before_a_model_loads_and_refused_for_models_without_a_cascade(
    tiny_overrides: list[str], mlflow_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from framing.cli import main
    from framing.config import load_config
    from framing.errors import ConfigError
    from framing.scoring import ScoringOptions
    from framing.training import run_training

    with pytest.raises(ConfigError, match="--precision"):
        ScoringOptions(precision="fp16")
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps({"article_id": "a", "text": "Aid convoys reached the city after talks."}) + "\n")
    tfidf_model = run_training(load_config(tiny_overrides)).model_uri
    command = ["predict", "--model", tfidf_model, "--input", str(corpus), "--output", str(tmp_path / "o.jsonl")]
    assert main([*command, "--quiet", "--languages", "any", "--precision", "bf16"]) == 2
    assert "without a cascade has no escalation precision" in capsys.readouterr().err


def test_the_students_word_shares_add_up_to_its_logit_and_explain_what_it_flags() -> None:
    from framing.cascade.explain import word_shares

    texts = [
        f"The {w} outlet {v} the story, again; about {x} talks."
        for w in ("state", "foreign")
        for v in ("hid", "spun", "told")
        for x in ("war", "aid", "Café")
    ] * 2
    logits = np.array([[3.0 if "hid" in t else -3.0, 2.0 if "aid" in t else -2.0] for t in texts])
    student = Student.fit(texts, logits)
    features = student.pipeline.named_steps["features"].transform(texts).tocsr()
    intercept = student.pipeline.named_steps["ridge"].intercept_
    for row, text in enumerate(texts):
        shares, words = word_shares(student.pipeline, text, features[row])
        assert words == text.split()
        assert np.allclose(shares.sum(axis=0) + intercept, student.logits([text])[0], atol=1e-4)
    flags = np.array([[True, False], [False, False], [True, True]])
    evidence = student.evidence(["claim", "aid"], texts[:3], flags, k=3)
    assert [sorted(cell) for cell in evidence] == [["claim"], [], ["aid", "claim"]]
    hid = evidence[0]["claim"]
    assert 0 < len(hid) <= 3 and hid[0][0] == "hid"  # the word the logit was taught on leads
    assert all(weight > 0 and word in texts[0] for word, weight in hid)
    assert all(cell == {} for cell in student.evidence(["claim", "aid"], texts[:3], flags, k=0)[1:2])


def test_through_the_cascade_each_row_is_explained_by_the_scorer_that_decided_it(
    cascade_run: tuple[str, dict[str, float]],
) -> None:
    from framing import load_model

    predictor = _with_escalation_precision(load_model(cascade_run[0]), "fp32")
    assert predictor.cascade is not None
    texts = ["The outlet hid the story about the war.", "Reporters saw aid convoys reach the city after talks."]
    flags = np.ones((len(texts), len(predictor.labels)), dtype=bool)
    escalated = np.array([True, False])
    mixed = predictor.evidence(texts, flags, escalated, k=3)
    assert mixed[0] == predictor.model.evidence(texts[:1], flags[:1], k=3)[0]
    assert mixed[1] == predictor.cascade.student.evidence(predictor.labels, texts[1:], flags[1:], k=3)[0]
    assert mixed[1] != predictor.model.evidence(texts[1:], flags[1:], k=3)[0]
    scored = predictor.predict_with_evidence(texts, k=3)
    for decided_by, flagged, cell in zip(scored["decided_by"], scored["labels"], scored["evidence"], strict=True):
        assert sorted(cell) == sorted(flagged), decided_by


def test_scoring_and_explaining_in_one_pass_gives_the_decisions_and_evidence_of_two(
    cascade_run: tuple[str, dict[str, float]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from framing import load_model
    from framing.models import transformer_model

    predictor = _with_escalation_precision(load_model(cascade_run[0]), "fp32")
    assert predictor.cascade is not None
    predictor.thresholds = np.full(len(predictor.labels), 0.05)  # most rows flag several labels
    rows_run: dict[str, int] = {"from kept states": 0, "whole": 0}
    explaining_pass = transformer_model._last_layer_input

    def counted(model: Any, batch: dict[str, Any], entering: Any = None) -> Any:
        rows_run["whole" if entering is None else "from kept states"] += len(batch["input_ids"])
        return explaining_pass(model, batch, entering)

    monkeypatch.setattr(transformer_model, "_last_layer_input", counted)
    long_text = " ".join(["Reporters said the outlet hid the story about the war and the aid convoys."] * 4)
    texts = [
        "The outlet hid the story about the war.",
        "Reporters saw aid convoys reach the city after talks.",
        "Nothing happened today in the capital.",
        long_text,  # several windows of 32 tokens: explained as before
        "Officials met again to talk about aid.",
    ] * 3
    cuts = threshold_logits(predictor.thresholds, predictor.cascade.temperature)
    student_margins = np.abs(margins(predictor.cascade.student.logits(texts), cuts))
    edge = student_margins.min(axis=1)[3] + 1e-6  # the long text and rows nearer a cut than it go on
    predictor.cascade.band = Band(np.full(len(predictor.labels), -edge), np.full(len(predictor.labels), edge))
    one_pass = predictor.predict_with_evidence(texts, k=3)
    replayed, whole = rows_run["from kept states"], rows_run["whole"]

    probabilities, escalated = predictor.decide(texts)
    flags = predictor.flags(probabilities)
    two_passes = predictor.evidence(texts, flags, escalated, k=3)
    assert 0 < escalated.sum() < len(texts)  # both scorers decide some rows
    assert escalated[3] and flags[3].any() and flags[escalated].sum() > flags[escalated].any(axis=1).sum()
    assert (one_pass["decided_by"] == np.where(escalated, "transformer", "student")).all()
    assert one_pass["labels"].tolist() == [[predictor.labels[j] for j in np.flatnonzero(row)] for row in flags]
    columns = [f"p_{label}" for label in predictor.labels]
    assert np.allclose(one_pass[columns].to_numpy(), probabilities, atol=1e-5)
    for cell, expected in zip(one_pass["evidence"], two_passes, strict=True):
        assert sorted(cell) == sorted(expected)
        for label, terms in expected.items():
            assert [word for word, _ in cell[label]] == [word for word, _ in terms]
            assert np.allclose([w for _, w in cell[label]], [w for _, w in terms], rtol=1e-3)
    long_pairs = 3 * int(flags[3].sum())  # the long text's windows are explained by whole passes
    assert whole == long_pairs  # every one-window flag is explained from the state its scoring kept
    assert replayed == int(flags[escalated].sum()) - long_pairs


def test_an_int8_model_scores_with_its_int8_weights_also_when_it_explains(
    cascade_run: tuple[str, dict[str, float]],
) -> None:
    from framing import load_model

    predictor = _with_escalation_precision(load_model(cascade_run[0]), "fp32")
    assert predictor.cascade is not None
    predictor.model.quantize()  # type: ignore[attr-defined]
    assert predictor.escalation_model() is predictor.model
    predictor.cascade.band = Band(np.full(len(predictor.labels), -np.inf), np.full(len(predictor.labels), np.inf))
    predictor.thresholds = np.full(len(predictor.labels), 0.05)
    texts = ["The outlet hid the story about the war.", "Reporters saw aid convoys reach the city after talks."] * 2
    probabilities, escalated = predictor.decide(texts)
    assert escalated.all()
    with_evidence = predictor.predict_with_evidence(texts, k=3)
    assert np.array_equal(with_evidence[[f"p_{label}" for label in predictor.labels]].to_numpy(), probabilities)
    expected = predictor.evidence(texts, predictor.flags(probabilities), escalated, k=3)
    assert with_evidence["evidence"].tolist() == expected
    assert any(cell for cell in expected)
