"""The Ray engine in local mode gives the same labels and summary counts as the local engine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from framing import load_model
from framing.scoring import ScoringOptions, SourceOptions, score_corpus
from tests.test_scoring_resume import save_tiny_model, write_corpus

ray = pytest.importorskip("ray")

GERMAN = "Die Regierung hat den Bericht der ausländischen Medien über die Proteste scharf kritisiert."


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One small Ray for the module, started as the engine starts it: on 127.0.0.1, no dashboard."""
    from framing.scoring.ray_engine import _local_ray

    with _local_ray(None, dashboard=False, num_cpus=2):
        yield


def test_ray_engine_matches_local_engine(tiny_data: dict[str, Path], tmp_path: Path, local_ray: None) -> None:
    from framing.scoring.ray_engine import score_with_ray

    model = save_tiny_model(tiny_data, tmp_path / "model")
    corpus = tmp_path / "corpus"
    expected = write_corpus(corpus, articles=30)
    (corpus / "desk" / "blank.txt").write_text("   \n", encoding="utf-8")

    summary = score_with_ray(
        str(model), corpus, tmp_path / "ray_out", options=ScoringOptions(progress=False), concurrency=1
    )
    local = score_corpus(
        load_model(model),
        str(model),
        corpus,
        tmp_path / "local.parquet",
        SourceOptions(),
        ScoringOptions(progress=False),
    )

    by_ray = pd.read_parquet(tmp_path / "ray_out").sort_values(["article_id", "paragraph"]).reset_index(drop=True)
    by_local = (
        pd.read_parquet(tmp_path / "local.parquet").sort_values(["article_id", "paragraph"]).reset_index(drop=True)
    )
    assert len(by_ray) == len(by_local) == expected
    assert list(by_ray.columns) == list(by_local.columns)
    assert by_ray["labels"].map(list).tolist() == by_local["labels"].map(list).tolist()
    pd.testing.assert_series_equal(by_ray["p_diplomacy"], by_local["p_diplomacy"], check_exact=False, rtol=1e-9)
    assert summary.paragraphs == local.paragraphs and summary.flagged == local.flagged
    assert summary.articles == local.articles == 30
    assert summary.rejects == {"empty article": 1}
    assert json.loads((tmp_path / "ray_out" / "_rejects.jsonl").read_text())["reason"] == "empty article"


def test_ray_summary_counts_rejects_languages_and_kinds_as_the_local_one(
    tiny_data: dict[str, Path], tmp_path: Path, local_ray: None
) -> None:
    from framing.scoring.ray_engine import score_with_ray

    model = save_tiny_model(tiny_data, tmp_path / "model")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    caption = "Photo: The foreign ministers signed a cooperation agreement on border crossings and trade."
    article = [
        "Talks in Vienna",  # title; too short to identify, it takes the article's language
        "By Jane Doe",
        "Delegations from both capitals agreed to resume talks on a ceasefire next week in Vienna.",
        GERMAN,  # not among the model's languages: a reject
        caption,  # a diplomacy sentence, but a caption: flagged in the output, not in the shares
        "Aid workers reached two thousand displaced families with food and clean water on Monday.",
    ]
    (corpus / "en.txt").write_text("\n\n".join(article), encoding="utf-8")
    (corpus / "de.txt").write_text(f"{GERMAN}\n\n{GERMAN.replace('Regierung', 'Opposition')}", encoding="utf-8")
    source, options = SourceOptions(languages=("en",)), ScoringOptions(progress=False)

    by_ray = score_with_ray(str(model), corpus, tmp_path / "ray_out", source, options, concurrency=1)
    local = score_corpus(load_model(model), str(model), corpus, tmp_path / "local.parquet", source, options)

    assert local.rejects == by_ray.rejects == {"language": 3}
    assert local.kinds == by_ray.kinds == {"title": 1, "byline": 1, "caption": 1, "body": 2}
    assert local.languages == by_ray.languages == {"en": 5}
    assert local.paragraphs == by_ray.paragraphs == 5 and local.articles == by_ray.articles == 1
    scored = pd.read_parquet(tmp_path / "ray_out").set_index("text")
    assert "diplomacy" in list(scored.loc[caption, "labels"]), "else the caption could not show it is left out"
    body = scored[scored["kind"] == "body"]["labels"].explode().dropna().value_counts().to_dict()
    assert local.flagged == by_ray.flagged == body
    assert by_ray.table().replace(str(by_ray.rejects_path), "REJECTS") == local.table().replace(
        str(local.rejects_path), "REJECTS"
    )
    assert "kinds: body 2, byline 1, caption 1, title 1" in by_ray.table()
    assert "rejected: language: 3" in by_ray.table()
