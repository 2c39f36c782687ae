"""Real article layouts: every row gets a kind, and only body paragraphs count in shares by default."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from framing.report import aggregate_articles, summarise, write_report
from framing.scoring.kinds import classify
from framing.scoring.sources import SourceOptions, iter_source

ARTICLE = """Harbour Chronicle
World | Politics | Business | Sport
Port strike ends after a week
By Maria Lopez, harbour correspondent
March 14, 2019

Dock workers accepted a pay offer late on Sunday night, ending a strike that had closed the port for a week.

Photo: cranes idle at the container terminal

Shipping companies said backlogs would clear within days.

Read more: How the strike began
"""


def test_rows_are_classified_by_kind() -> None:
    rows = [
        "Port strike ends after a week",
        "By Maria Lopez, harbour correspondent",
        "March 14, 2019",
        "MOSCOW, March 3 (Reuters) -",
        "Photo: cranes idle at the container terminal",
        "Protesters gather outside parliament. (AFP)",
        "Read more: How the strike began",
        "Home | World | Politics | Business",
        "Copyright 2024 Harbour Chronicle. All rights reserved.",
        "Dock workers accepted a pay offer late on Sunday night.",
        "By the end of the week, dock workers had accepted a pay offer and the port reopened to ships.",
        "By Daniela Marcano | CARACAS",
        "Shoppers at a Doha supermarket on Friday. GCW/Khalid Al-Mansouri",
        "Latest news",
        "The ministry said 40/50 trucks arrived. Officials said the rest would follow.",
    ]
    assert classify(rows) == [
        "title",
        "byline",
        "dateline",
        "dateline",
        "caption",
        "caption",
        "boilerplate",
        "boilerplate",
        "boilerplate",
        "body",
        "body",
        "byline",
        "caption",
        "boilerplate",
        "body",
    ]


def test_scoring_keeps_every_row_with_its_kind(tmp_path: Path) -> None:
    article = tmp_path / "port.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    records = [r for r in iter_source(article, SourceOptions()) if isinstance(r, dict)]
    kinds = [(r["kind"], r["text"][:20]) for r in records]
    assert [k for k, _ in kinds] == [
        "title",
        "boilerplate",
        "title",
        "byline",
        "dateline",
        "body",
        "caption",
        "body",
        "boilerplate",
    ]


def _scores(tmp_path: Path) -> Path:
    rows = [
        ("a1", 0, "title", ["mbc"]),
        ("a1", 1, "body", ["mbc"]),
        ("a1", 2, "caption", ["mbc"]),
        ("a1", 3, "body", []),
        ("a2", 0, "body", []),
        ("a2", 1, "boilerplate", ["mbc"]),
    ]
    frame = pd.DataFrame(
        {
            "article_id": [r[0] for r in rows],
            "paragraph": [r[1] for r in rows],
            "text": "x",
            "kind": [r[2] for r in rows],
            "labels": [r[3] for r in rows],
            "p_mbc": 0.5,
        }
    )
    path = tmp_path / "scores.parquet"
    frame.to_parquet(path)
    return path


def test_only_body_paragraphs_count_in_shares_unless_asked(tmp_path: Path) -> None:
    scores = _scores(tmp_path)
    body = aggregate_articles(scores)
    assert body.paragraphs == 3 and body.left_out == {"title": 1, "caption": 1, "boilerplate": 1}
    assert summarise(body).loc[0, "share_mbc"] == pytest.approx(1 / 3)
    every = aggregate_articles(scores, kinds=None)
    assert every.paragraphs == 6 and summarise(every).loc[0, "share_mbc"] == pytest.approx(4 / 6)
    page = write_report(scores, tmp_path / "report").html.read_text(encoding="utf-8")
    assert "Counted: rows of kind body; left out: boilerplate 1, caption 1, title 1" in page


def test_path_pattern_fills_metadata_and_rejects_paths_that_do_not_match(tmp_path: Path) -> None:
    from framing.errors import ConfigError

    corpus = tmp_path / "corpus"
    (corpus / "north-herald").mkdir(parents=True)
    (corpus / "south-post").mkdir()
    body = "Dock workers accepted a pay offer late on Sunday night, ending a strike at the port."
    (corpus / "north-herald" / "19920301_port-strike.txt").write_text(body, encoding="utf-8")
    (corpus / "south-post" / "1994-05_talks.txt").write_text(body, encoding="utf-8")
    (corpus / "south-post" / "notes.txt").write_text(body, encoding="utf-8")
    items = list(iter_source(corpus, SourceOptions(path_pattern="{outlet}/{date}_{slug}.txt")))
    records = [i for i in items if isinstance(i, dict)]
    assert [(r["outlet"], r["date"], r["slug"]) for r in records] == [
        ("north-herald", "1992-03-01", "port-strike"),
        ("south-post", "1994-05", "talks"),
    ]
    rejects = [i for i in items if not isinstance(i, dict)]
    assert len(rejects) == 1 and rejects[0].reason.startswith("path pattern: 'south-post/notes' does not match")
    for bad in ("{outlet}/{outlet}.txt", "plain.txt", "{text}/{date}.txt", "{1x}.txt"):
        with pytest.raises(ConfigError, match="--path-pattern"):
            SourceOptions(path_pattern=bad)
