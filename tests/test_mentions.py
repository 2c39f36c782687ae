"""The news-media requirement of ``media_bias_claim``: the lexicon, the gate, and where it applies."""

from __future__ import annotations

import numpy as np
import pytest

from framing.mentions import mentions_news_media, news_media_labels, require_news_media


@pytest.mark.parametrize(
    "text",
    [
        "State television keeps telling viewers a story that never happened.",
        "The ministry said foreign networks ignored the weapons on board.",
        "Western outlets, he said, repeat whatever the Pentagon tells them.",
        "Xinhua accused the agencies of smearing the delegation.",
        "The Times ran the leak on its front page without a single named source.",
        "Journalists, he said, had made up the quote.",
    ],
)
def test_paragraphs_that_refer_to_the_news_media_are_found(text: str) -> None:
    assert mentions_news_media(text)


@pytest.mark.parametrize(
    "text",
    [
        "What details will promote the narrative you are trying to tell with your painted squad?",
        "The convoy reached the city after three days of talks.",
        "At times the river rose above the bridge.",  # 'times' in lower case is not the newspaper
        "Officials said the figures were lies from start to finish.",
    ],
)
def test_paragraphs_without_a_media_referent_are_not(text: str) -> None:
    assert not mentions_news_media(text)


def test_the_gate_zeroes_only_the_required_labels_of_paragraphs_without_a_media_referent() -> None:
    labels = ["media_bias_claim", "humanitarian"]
    texts = ["Reporters twisted his words.", "Aid reached the town, and the narrative was a lie."]
    probabilities = np.array([[0.9, 0.2], [0.8, 0.7]])
    gated = require_news_media(probabilities, texts, labels, ["media_bias_claim"])
    np.testing.assert_array_equal(gated, [[0.9, 0.2], [0.0, 0.7]])
    assert probabilities[1, 0] == 0.8  # the input is not changed in place
    assert require_news_media(probabilities, texts, labels, []) is probabilities


def test_the_requirement_applies_to_the_labels_a_multilabel_task_has() -> None:
    assert news_media_labels(["media_bias_claim"], ["media_bias_claim", "diplomacy"], "multilabel") == [
        "media_bias_claim"
    ]
    assert news_media_labels(["media_bias_claim"], ["opinion", "fact"], "multilabel") == []  # other label sets
    assert news_media_labels(["media_bias_claim"], ["media_bias_claim", "other"], "multiclass") == []


def test_a_trained_model_keeps_the_requirement_and_scores_with_it(tiny_overrides: list[str], mlflow_store: str) -> None:
    from framing import load_model
    from framing.config import load_config
    from framing.training import run_training

    required = load_model(run_training(load_config(tiny_overrides)).model_uri)
    free = load_model(run_training(load_config([*tiny_overrides, "data.requires_news_media=[]"])).model_uri)
    assert required.news_media_labels == ["media_bias_claim"] and free.news_media_labels == []
    texts = ["The outlet hid the story about the war.", "The outlet hid the story; the narrative was a lie."]
    texts.append("They hid it about the war, and the narrative was a lie.")
    gated, plain = required.predict(texts), free.predict(texts)
    assert gated["p_media_bias_claim"].iloc[2] == 0.0 < plain["p_media_bias_claim"].iloc[2]
    np.testing.assert_allclose(gated["p_media_bias_claim"].iloc[:2], plain["p_media_bias_claim"].iloc[:2])
    np.testing.assert_allclose(gated["p_humanitarian"], plain["p_humanitarian"])  # other labels untouched
    assert required.fingerprint() != free.fingerprint()  # a resumed scoring run cannot mix the two


def test_a_label_the_requirement_rules_out_never_sends_a_row_to_the_transformer() -> None:
    from framing.cascade.band import Band
    from framing.mentions import open_labels

    band = Band(low=np.array([-1.0, -1.0]), high=np.array([1.0, 1.0]))
    inside_for_the_first_label = np.array([[0.0, 2.0], [0.0, 2.0]])
    mask = open_labels(["The weather was fine.", "Reporters saw it."], ["media_bias_claim", "x"], ["media_bias_claim"])
    np.testing.assert_array_equal(mask, [[False, True], [True, True]])
    assert band.decided(inside_for_the_first_label, multilabel=True, open_mask=mask).tolist() == [True, False]
    assert band.decided(inside_for_the_first_label, multilabel=True).tolist() == [False, False]
