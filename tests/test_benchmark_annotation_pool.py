"""The annotation-pool census: annotated, copies and open units counted apart, claims rated per reference state."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from framing.data.real_sources import TextUnit


@pytest.fixture()
def pool(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
    from benchmarks import annotation_pool

    return annotation_pool


def test_census_counts_open_units_by_source_reference_and_split(pool: ModuleType) -> None:
    annotated = {
        "ptc:1:0-10": pool.Annotated("train", "ptc:1", ("media_bias_claim",)),
        "ptc:2:0-10": pool.Annotated("test", "ptc:2", ()),
    }
    claim = "The mainstream media buried the story for weeks."
    units = [
        TextUnit("ptc:1:0-10", "ptc/train-articles", "ptc:1", claim),
        TextUnit("ptc:2:0-10", "ptc/train-articles", "ptc:2", "Rain fell on the city all day."),
        # open: a media word, another reference, none; in a training, a test and an unsplit article
        TextUnit("ptc:1:11-20", "ptc/train-articles", "ptc:1", "Journalists gathered outside the court."),
        TextUnit("ptc:2:11-20", "ptc/train-articles", "ptc:2", "The Times said the talks had stalled."),
        TextUnit("ptc:9:0-10", "ptc/unlabelled-articles", "ptc:9", "Prices rose again in March."),
        # copies: of an annotated text (whitespace and case aside), and of an open unit above
        TextUnit("babe:5", "babe", "babe:x", "the MAINSTREAM media buried the story for weeks. "),
        TextUnit("ptc:9:11-20", "ptc/unlabelled-articles", "ptc:9", "Prices rose again in March."),
    ]

    result = pool.census(units, annotated, [claim, "Rain fell on the city all day."])

    assert {(r["source"], r["reference"], r["split"]): r["units"] for r in result["open"]} == {
        ("ptc", "media word", "train"): 1,
        ("ptc", "other reference", "test"): 1,
        ("ptc", "none", "none"): 1,
    }
    assert result["copies"] == 2
    assert result["annotated"]["media word"] == {"units": 1, "claims": 1}
    assert result["annotated"]["none"] == {"units": 1, "claims": 0}


def test_wilson_interval_brackets_the_rate_and_stays_inside_zero_one(pool: ModuleType) -> None:
    low, high = pool.wilson(5, 3989)
    assert 0 < low < 5 / 3989 < high < 0.01

    assert pool.wilson(0, 10)[0] == 0.0
    assert pool.wilson(10, 10)[1] == pytest.approx(1.0)
    assert pool.wilson(0, 0) == (0.0, 1.0)


def test_section_expects_claims_at_each_states_rate(pool: ModuleType) -> None:
    results = {
        "open": [
            {"source": "ptc", "reference": "media word", "split": "train", "units": 100},
            {"source": "ptc", "reference": "none", "split": "train", "units": 1000},
        ],
        "annotated": {
            "media word": {"units": 50, "claims": 10},
            "other reference": {"units": 0, "claims": 0},
            "none": {"units": 100, "claims": 1},
        },
        "copies": 3,
    }

    section = pool._section(results)

    assert "| ptc | train | 100 (20 " in section  # 100 units at 20%
    assert "| 1,000 (10 " in section  # 1,000 units at 1%
    assert "left out: 3." in section
