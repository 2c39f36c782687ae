"""Per-label threshold tuning, flagging, metrics and error analysis on hand-checked examples."""

from __future__ import annotations

import numpy as np
import pytest

from framing.evaluation import compute_metrics, error_analysis
from framing.thresholds import apply_thresholds, tune_thresholds

# ---------------------------------------------------------------- tune_thresholds


def test_threshold_separates_a_separable_label() -> None:
    y_true = np.array([[1], [1], [0], [0], [0]])
    scores = np.array([[0.9], [0.3], [0.2], [0.1], [0.25]])
    thresholds = tune_thresholds(y_true, scores, default=0.5)
    assert thresholds.tolist() == [0.3]
    flags = apply_thresholds(scores, thresholds, "multilabel")
    assert flags[:, 0].tolist() == [True, True, False, False, False]


def test_label_without_positives_keeps_default() -> None:
    y_true = np.array([[1, 0], [0, 0], [1, 0]])
    scores = np.array([[0.8, 0.9], [0.5, 0.2], [0.3, 0.3]])
    thresholds = tune_thresholds(y_true, scores, default=0.45)
    assert thresholds[1] == 0.45
    assert thresholds[0] == 0.3  # the label with positives is tuned: 0.3 flags both (F1 0.8)


def test_candidates_outside_low_high_are_ignored() -> None:
    # the only perfect cut-off (0.02) is below `low`; the best allowed one is the default
    y_true = np.array([[1], [1], [0]])
    scores = np.array([[0.6], [0.02], [0.01]])
    assert tune_thresholds(y_true, scores, default=0.5, low=0.05, high=0.95).tolist() == [0.5]


def test_tie_goes_to_lower_candidate_when_it_is_nearer_the_default() -> None:
    # F1 at 0.2 (all four flagged) = 2*2/(4+2) = 2/3; at 0.9 = 2*1/(1+2) = 2/3; at default 0.5 = 2/5
    y_true = np.array([[1], [0], [0], [1]])
    scores = np.array([[0.9], [0.8], [0.7], [0.2]])
    assert tune_thresholds(y_true, scores, default=0.5).tolist() == [0.2]


def test_tie_goes_to_higher_candidate_when_it_is_nearer_the_default() -> None:
    # F1 at 0.06 = 2/3 and at 0.9 = 2/3; |0.9-0.5| < |0.06-0.5|; default 0.5 flags 3 -> 2/5
    y_true = np.array([[1], [0], [0], [1]])
    scores = np.array([[0.9], [0.7], [0.65], [0.06]])
    assert tune_thresholds(y_true, scores, default=0.5).tolist() == [0.9]


def test_tie_with_default_keeps_default() -> None:
    y_true = np.array([[1], [0], [0]])
    scores = np.array([[0.9], [0.3], [0.2]])
    assert tune_thresholds(y_true, scores, default=0.5).tolist() == [0.5]


def test_beta_below_one_trades_recall_for_precision() -> None:
    # F1: 0.4 (3 of 4 flagged are true, F1 6/7) beats 0.8 (2 of 2, F1 4/5);
    # F0.5 weighs precision twice: 0.8 scores 2.5/2.75 = 0.91 against 3.75/4.75 = 0.79 at 0.4
    y_true = np.array([[1], [1], [0], [1], [0], [0]])
    scores = np.array([[0.9], [0.8], [0.7], [0.4], [0.3], [0.2]])
    assert tune_thresholds(y_true, scores, default=0.5).tolist() == [0.4]
    assert tune_thresholds(y_true, scores, default=0.5, beta=0.5).tolist() == [0.8]


# ---------------------------------------------------------------- apply_thresholds


def test_apply_thresholds_multilabel_per_label_cutoffs() -> None:
    probabilities = np.array([[0.6, 0.2, 0.5], [0.1, 0.35, 0.49], [0.0, 0.0, 0.0]])
    flags = apply_thresholds(probabilities, np.array([0.5, 0.3, 0.5]), "multilabel")
    assert flags.dtype == bool
    assert flags.tolist() == [[True, False, True], [False, True, False], [False, False, False]]


def test_apply_thresholds_multiclass_takes_argmax_ignoring_thresholds() -> None:
    probabilities = np.array([[0.2, 0.5, 0.3], [0.7, 0.2, 0.1], [0.3, 0.3, 0.4]])
    flags = apply_thresholds(probabilities, np.array([0.9, 0.9, 0.9]), "multiclass")
    assert flags.tolist() == [[False, True, False], [True, False, False], [False, False, True]]
    assert flags.sum(axis=1).tolist() == [1, 1, 1]


def test_apply_thresholds_without_thresholds_is_argmax() -> None:
    probabilities = np.array([[0.1, 0.9], [0.8, 0.2]])
    assert apply_thresholds(probabilities, None, "multilabel").tolist() == [[False, True], [True, False]]


def test_apply_thresholds_multiclass_with_no_rows() -> None:
    flags = apply_thresholds(np.zeros((0, 3)), None, "multiclass")
    assert flags.shape == (0, 3)


# ---------------------------------------------------------------- compute_metrics


LABELS = ["bias", "aid", "peace"]
Y_TRUE = np.array(
    [
        [1, 0, 0],
        [1, 1, 0],
        [0, 1, 0],
        [0, 0, 0],
    ]
)
PROBABILITIES = np.array(
    [
        [0.9, 0.2, 0.1],
        [0.4, 0.8, 0.3],
        [0.6, 0.7, 0.6],
        [0.2, 0.6, 0.2],
    ]
)
FLAGS = PROBABILITIES >= 0.5


def test_compute_metrics_against_hand_counts() -> None:
    # bias: flagged rows 0, 2; true rows 0, 1 -> tp 1, fp 1, fn 1 -> P 0.5, R 0.5, F1 0.5
    # aid: flagged rows 1, 2, 3; true rows 1, 2 -> tp 2, fp 1, fn 0 -> P 2/3, R 1, F1 0.8
    # peace: flagged row 2; no positives -> tp 0, fp 1 -> P 0, R 0, F1 0
    # micro: tp 3, fp 3, fn 1 -> P 0.5, R 0.75, F1 0.6
    metrics = compute_metrics(Y_TRUE, PROBABILITIES, FLAGS, LABELS)
    assert metrics["bias/precision"] == pytest.approx(0.5)
    assert metrics["bias/recall"] == pytest.approx(0.5)
    assert metrics["bias/f1"] == pytest.approx(0.5)
    assert metrics["bias/support"] == 2.0
    assert metrics["aid/precision"] == pytest.approx(2 / 3)
    assert metrics["aid/recall"] == pytest.approx(1.0)
    assert metrics["aid/f1"] == pytest.approx(0.8)
    assert metrics["peace/precision"] == 0.0
    assert metrics["peace/f1"] == 0.0
    assert metrics["peace/support"] == 0.0
    assert metrics["precision_micro"] == pytest.approx(0.5)
    assert metrics["recall_micro"] == pytest.approx(0.75)
    assert metrics["f1_micro"] == pytest.approx(0.6)
    assert metrics["f1_macro"] == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    assert metrics["precision_macro"] == pytest.approx((0.5 + 2 / 3 + 0.0) / 3)
    assert metrics["recall_macro"] == pytest.approx((0.5 + 1.0 + 0.0) / 3)


def test_pr_auc_omitted_for_label_without_positives() -> None:
    # bias ranking 0.9(+), 0.6(-), 0.4(+), 0.2(-): AP = 1/2 * (1/1) + 1/2 * (2/3) = 5/6
    # aid ranking 0.8(+), 0.7(+), 0.6(-), 0.2(-): AP = 1
    metrics = compute_metrics(Y_TRUE, PROBABILITIES, FLAGS, LABELS)
    assert "peace/pr_auc" not in metrics
    assert metrics["bias/pr_auc"] == pytest.approx(5 / 6)
    assert metrics["aid/pr_auc"] == pytest.approx(1.0)
    assert metrics["pr_auc_macro"] == pytest.approx((5 / 6 + 1.0) / 2)
    assert all(not np.isnan(value) for value in metrics.values())


def test_no_pr_auc_macro_when_no_label_has_positives() -> None:
    y_true = np.zeros((2, 2), dtype=int)
    probabilities = np.array([[0.2, 0.7], [0.1, 0.3]])
    metrics = compute_metrics(y_true, probabilities, probabilities >= 0.5, ["x", "y"])
    assert "pr_auc_macro" not in metrics
    assert metrics["f1_micro"] == 0.0


# ---------------------------------------------------------------- error_analysis


def test_error_analysis_most_confident_false_positive_first() -> None:
    ids = ["p1", "p2", "p3", "p4", "p5"]
    texts = ["one", "two", "three", "four", "five"]
    y_true = np.array([[0, 1], [0, 0], [1, 0], [0, 0], [1, 1]])
    probabilities = np.array([[0.55, 0.9], [0.95, 0.1], [0.2, 0.1], [0.7, 0.2], [0.35, 0.8]])
    flags = probabilities >= 0.5
    frame = error_analysis(ids, texts, y_true, probabilities, flags, ["bias", "aid"], rows_per_kind=5)

    assert list(frame.columns) == ["label", "error", "probability", "id", "gold_labels", "text"]
    bias = frame[frame["label"] == "bias"]
    false_pos = bias[bias["error"] == "false_positive"]
    assert false_pos["id"].tolist() == ["p2", "p4", "p1"]
    assert false_pos["probability"].tolist() == [0.95, 0.7, 0.55]
    false_neg = bias[bias["error"] == "false_negative"]
    assert false_neg["id"].tolist() == ["p3", "p5"]  # lowest probability first
    assert frame.iloc[0]["id"] == "p2"
    assert frame.iloc[0]["error"] == "false_positive"
    assert frame.iloc[0]["gold_labels"] == ""
    p5 = false_neg[false_neg["id"] == "p5"].iloc[0]
    assert p5["gold_labels"] == "bias, aid"
    assert p5["text"] == "five"
    assert frame[frame["label"] == "aid"].empty  # aid: no mistakes


def test_error_analysis_limits_rows_per_kind() -> None:
    y_true = np.zeros((4, 1), dtype=int)
    probabilities = np.array([[0.6], [0.9], [0.7], [0.8]])
    frame = error_analysis(
        ["a", "b", "c", "d"], ["", "", "", ""], y_true, probabilities, probabilities >= 0.5, ["x"], 2
    )
    assert frame["id"].tolist() == ["b", "d"]
