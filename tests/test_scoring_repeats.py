"""Repeated paragraphs are scored once and answered from memory, with the same output as scoring every copy."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from framing.errors import ConfigError
from framing.package import Predictor, load_package
from framing.scoring.corpus import ScoringOptions
from framing.scoring.repeats import RepeatedParagraphs
from tests.test_scoring_resume import SENTENCES, read_output, run_predict, save_tiny_model, write_corpus


class CountingPredictor:
    """A predictor that records the texts it was asked to score."""

    def __init__(self, predictor: Predictor) -> None:
        self.predictor = predictor
        self.calls: list[list[str]] = []

    def predict_with_evidence(self, texts: list[str], k: int = 5) -> pd.DataFrame:
        self.calls.append(list(texts))
        return self.predictor.predict_with_evidence(texts, k=k)


@pytest.fixture
def tiny_predictor(tiny_data: dict[str, Path], tmp_path: Path) -> Predictor:
    return load_package(save_tiny_model(tiny_data, tmp_path / "model"))


def test_each_distinct_paragraph_is_scored_once_with_the_output_of_scoring_every_copy(
    tiny_predictor: Predictor,
) -> None:
    counting = CountingPredictor(tiny_predictor)
    repeats = RepeatedParagraphs(counting, capacity=100)  # type: ignore[arg-type]
    first = [SENTENCES[0], SENTENCES[1], SENTENCES[0], SENTENCES[2]]
    second = [SENTENCES[2], SENTENCES[1], SENTENCES[3]]
    outputs = [repeats.predict_with_evidence(batch, k=3) for batch in (first, second)]
    assert counting.calls == [[SENTENCES[0], SENTENCES[1], SENTENCES[2]], [SENTENCES[3]]]
    assert (repeats.scored, repeats.reused) == (4, 3)
    for batch, output in zip((first, second), outputs, strict=True):
        pd.testing.assert_frame_equal(output, tiny_predictor.predict_with_evidence(batch, k=3))
    # another evidence size is another output: scored again
    repeats.predict_with_evidence([SENTENCES[0]], k=1)
    assert counting.calls[-1] == [SENTENCES[0]]


def test_memory_holds_at_most_capacity_paragraphs_least_recently_used_out(tiny_predictor: Predictor) -> None:
    counting = CountingPredictor(tiny_predictor)
    repeats = RepeatedParagraphs(counting, capacity=2)  # type: ignore[arg-type]
    for text in (SENTENCES[0], SENTENCES[1], SENTENCES[0], SENTENCES[2], SENTENCES[1], SENTENCES[0]):
        repeats.predict_with_evidence([text], k=0)
    # 0, 1 scored; 0 reused (now most recent); 2 evicts 1; 1 scored again, evicting 0; 0 scored again
    assert [call[0] for call in counting.calls] == [SENTENCES[i] for i in (0, 1, 2, 1, 0)]
    assert len(repeats._rows) == 2


def test_capacity_zero_scores_every_copy(tiny_predictor: Predictor) -> None:
    counting = CountingPredictor(tiny_predictor)
    repeats = RepeatedParagraphs(counting, capacity=0)  # type: ignore[arg-type]
    repeats.predict_with_evidence([SENTENCES[0], SENTENCES[0]], k=2)
    assert counting.calls == [[SENTENCES[0], SENTENCES[0]]]
    with pytest.raises(ConfigError, match="--repeat-cache"):
        ScoringOptions(repeat_cache=-1)


def test_a_corpus_with_repeats_scores_the_same_with_and_without_the_memory(
    tiny_data: dict[str, Path], tmp_path: Path
) -> None:
    model = save_tiny_model(tiny_data, tmp_path / "model")
    corpus = tmp_path / "corpus"
    write_corpus(corpus, articles=40)  # 200 paragraphs drawn from a few sentences: mostly repeats
    remembered, every_copy = tmp_path / "remembered.jsonl", tmp_path / "every.jsonl"
    assert run_predict(model, corpus, remembered, "--languages", "any", "--batch-size", "16") == 0
    assert run_predict(model, corpus, every_copy, "--languages", "any", "--repeat-cache", "0") == 0
    pd.testing.assert_frame_equal(read_output(remembered), read_output(every_copy))
