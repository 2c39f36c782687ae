"""The Ray engine in local mode gives the same labels as the local engine."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from framing import load_model
from framing.scoring import ScoringOptions, SourceOptions, score_corpus
from tests.test_scoring_resume import save_tiny_model, write_corpus

ray = pytest.importorskip("ray")


def test_ray_engine_matches_local_engine(tiny_data: dict[str, Path], tmp_path: Path) -> None:
    from framing.scoring.ray_engine import score_with_ray

    model = save_tiny_model(tiny_data, tmp_path / "model")
    corpus = tmp_path / "corpus"
    expected = write_corpus(corpus, articles=30)
    (corpus / "desk" / "blank.txt").write_text("   \n", encoding="utf-8")

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)  # small, local
    try:
        summary = score_with_ray(
            str(model), corpus, tmp_path / "ray_out", options=ScoringOptions(progress=False), concurrency=1
        )
    finally:
        ray.shutdown()
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
