"""The learning-curve benchmark: shares drawn by whole articles and nested, and its log2 line read both ways."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pytest


@pytest.fixture()
def curve(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
    from benchmarks import learning_curve

    return learning_curve


def _rows(sizes: list[int]) -> list[dict[str, object]]:
    """Rows of articles ``a0, a1, ...`` holding ``sizes[i]`` rows each, interleaved as annotation files are."""
    rows = []
    for turn in range(max(sizes)):
        rows += [{"article_id": f"a{i}", "labels": []} for i, size in enumerate(sizes) if turn < size]
    return rows


def test_shares_take_whole_articles_and_are_nested(curve: ModuleType) -> None:
    rows = _rows([1, 5, 2, 7, 3, 3, 1, 4, 6, 2])
    shares = curve.nested_shares(rows, [0.25, 0.5, 1.0], seed=3)

    article_sizes: dict[object, int] = {}
    for row in rows:
        article_sizes[row["article_id"]] = article_sizes.get(row["article_id"], 0) + 1
    for fraction, indices in shares.items():
        chosen = [rows[i]["article_id"] for i in indices]
        assert all(chosen.count(a) == article_sizes[a] for a in set(chosen))  # no article split
        assert len(indices) >= fraction * len(rows)
        assert len(indices) == len(set(indices))
    assert set(shares[0.25]) <= set(shares[0.5]) <= set(shares[1.0])
    assert shares[1.0] == list(range(len(rows)))


def test_a_share_is_the_shortest_prefix_of_whole_articles(curve: ModuleType) -> None:
    rows = _rows([4] * 10)  # 40 rows, 10 articles of 4
    shares = curve.nested_shares(rows, [0.1, 0.11, 0.5], seed=0)

    assert [len(shares[f]) for f in (0.1, 0.11, 0.5)] == [4, 8, 20]


def test_draws_differ_by_seed_and_repeat_with_it(curve: ModuleType) -> None:
    rows = _rows([2] * 30)
    first = curve.nested_shares(rows, [0.5], seed=0)[0.5]

    assert curve.nested_shares(rows, [0.5], seed=0)[0.5] == first
    assert curve.nested_shares(rows, [0.5], seed=1)[0.5] != first


def test_a_fraction_outside_zero_to_one_is_refused(curve: ModuleType) -> None:
    with pytest.raises(SystemExit, match=r"1\.5 is not in"):
        curve.nested_shares(_rows([1, 1]), [1.5], seed=0)


def test_the_line_recovers_gain_per_doubling_and_the_rows_for_a_target(curve: ModuleType) -> None:
    sizes = [500, 1000, 2000, 4000]
    scores = [0.40 + 0.05 * np.log2(n / 500) for n in sizes]  # +0.05 per doubling from 0.40 at 500

    intercept, slope = curve.log2_fit(sizes, scores)

    assert slope == pytest.approx(0.05)
    assert curve.rows_for(0.60, intercept, slope) == pytest.approx(500 * 2**4)  # four more doublings
    assert curve.rows_for(0.60, intercept, 0.0) is None
    assert curve.rows_for(0.60, intercept, -0.01) is None


def test_the_section_says_when_a_line_never_reaches_its_target(curve: ModuleType) -> None:
    value = {"value": 0.5, "low": 0.4, "high": 0.6}
    point = {
        "family": "tfidf",
        "fraction": 1.0,
        "draw": 0,
        "real_rows": 100,
        "real_articles": 10,
        "real_claims": 7,
        "run_id": "0123456789abcdef",
        **{name: value for name in curve.METRICS},
    }
    falling = {"family": "tfidf", "metric": "test macro-F1", "slope_per_doubling": -0.01, "intercept": 0.5}
    results = {
        "points": [point],
        "real_rows": 100,
        "invented_rows": 20,
        "fits": [{**falling, "target": 0.60, "rows_for_target": None}],
    }

    section = curve._section(results)

    assert "| tfidf | 1 | 0 | 100 (10) | 7 | 0.500 | 0.500 [0.40, 0.60] | 0.500 [0.40, 0.60] | `01234567` |" in section
    assert "| tfidf | test macro-F1 | -0.010 | 0.60 | never (the line does not rise) |" in section
