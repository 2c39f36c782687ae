"""Languages: every paragraph's language is identified and stored, models record their training languages,
and paragraphs in other languages are rejected with reason ``language`` unless ``--languages any``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from framing.cli import main
from framing.config import DataConfig, TfidfConfig
from framing.data.dataset import load_splits
from framing.errors import ConfigError
from framing.languages import UNDETERMINED, identify, language_problem, main_languages, parse_languages
from framing.models.base import FitContext
from framing.models.tfidf import TfidfClassifier
from framing.package import Predictor, load_package
from tests.conftest import TINY_LABELS

ENGLISH = "Officials said foreign channels distorted the events in the capital on Monday evening."
GERMAN = "Die Regierung hat den Bericht der ausländischen Medien über die Proteste scharf kritisiert."
RUSSIAN = "Власти обвинили иностранные СМИ в искажении событий в столице в понедельник вечером."


def test_identify_names_the_language_and_leaves_short_lines_undetermined() -> None:
    assert identify(ENGLISH)[0] == "en"
    assert identify(GERMAN)[0] == "de"
    assert identify(RUSSIAN)[0] == "ru"
    assert identify("By John Smith")[0] == UNDETERMINED
    assert identify("Photo: Reuters")[0] == UNDETERMINED


def test_main_languages_and_the_languages_option() -> None:
    assert main_languages({"en": 95, "de": 3, "und": 40}) == ["en"]
    assert main_languages({"en": 60, "de": 40}) == ["de", "en"]
    assert parse_languages(None, {"main_languages": ["en", "fr"]}) == ("en", "fr")
    assert parse_languages(None, {}) == ("en",), "a model without a record: English, as the shipped data"
    assert parse_languages("any", {"main_languages": ["en"]}) is None
    assert parse_languages("de, en", {}) == ("de", "en")
    with pytest.raises(ConfigError, match="xx"):
        parse_languages("en,xx", {})
    assert language_problem("de", 0.97, ("en",)) is not None
    assert language_problem("und", 0.3, ("en",)) is None
    assert language_problem("de", 0.97, None) is None


@pytest.fixture
def model_folder(tiny_data: dict[str, Path], tmp_path: Path) -> Path:
    """A tiny English TF-IDF model that records its training languages, as training does."""
    from framing.languages import training_record

    splits = load_splits(DataConfig(train=tiny_data["train"], validation=tiny_data["validation"], labels=TINY_LABELS))
    model = TfidfClassifier(TfidfConfig(char_ngram_range=None), TINY_LABELS, "multilabel")
    model.fit(splits.train, splits.validation, FitContext())
    predictor = Predictor(model, np.full(len(TINY_LABELS), 0.5), training=training_record(splits))
    return predictor.save(tmp_path / "model")


def _corpus(folder: Path) -> Path:
    folder.mkdir()
    (folder / "en.txt").write_text(f"{ENGLISH}\n\nBy Jane Doe\n", encoding="utf-8")
    german = f"Gipfel in Berlin\n\n{GERMAN}\n\n{GERMAN.replace('Regierung', 'Opposition')}\n"
    (folder / "de.txt").write_text(german, encoding="utf-8")  # the short headline takes the article's language
    (folder / "caption.txt").write_text("Photo: Reuters\n", encoding="utf-8")  # nothing to tell: scored
    (folder / "ru.txt").write_text(f"{RUSSIAN}\n", encoding="utf-8")
    return folder


def test_models_record_the_languages_of_their_training_data(model_folder: Path) -> None:
    training = load_package(model_folder).training
    assert training["main_languages"] == ["en"]
    assert training["languages"]["en"] > 0
    assert "train" in training["data"]


def test_other_languages_are_rejected_with_reason_language(
    model_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus, output = _corpus(tmp_path / "corpus"), tmp_path / "scores.jsonl"
    assert (
        main(["predict", "--model", str(model_folder), "--input", str(corpus), "--output", str(output), "--quiet"]) == 0
    )
    printed = capsys.readouterr().out
    assert "languages scored: en (the model's training data)" in printed
    assert "language: 4" in printed
    scored = pd.read_json(output, lines=True).set_index("article_id")
    assert set(scored.index) == {"en", "caption"}
    assert scored.loc["en", "detected_language"].tolist() == ["en", "en"], "a byline takes its article's language"
    assert scored.loc["caption", "detected_language"] == UNDETERMINED
    rejects = [json.loads(line) for line in output.with_name("scores.jsonl.rejects.jsonl").read_text().splitlines()]
    assert sorted(r["reason"].split(":")[1].split()[0] for r in rejects) == ["de", "de", "de", "ru"]
    assert all(r["reason"].startswith("language: ") for r in rejects)


def test_languages_any_keeps_every_paragraph_and_stores_its_language(
    model_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus, output = _corpus(tmp_path / "corpus"), tmp_path / "scores.parquet"
    args = ["predict", "--model", str(model_folder), "--input", str(corpus), "--output", str(output), "--quiet"]
    assert main([*args, "--languages", "any"]) == 0
    assert "rejected" not in capsys.readouterr().out
    scored = pd.read_parquet(output).set_index(["article_id", "paragraph"])
    assert scored.loc[("de", 0), "detected_language"] == "de"
    assert scored.loc[("ru", 0), "detected_language"] == "ru"
    assert main([*args.copy()[:-1], "--quiet", "--languages", "en,de", "--overwrite"]) == 0
    assert set(pd.read_parquet(output)["article_id"]) == {"en", "de", "caption"}
