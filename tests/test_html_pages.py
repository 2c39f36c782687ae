"""Saved web pages: the main text is scored, with the page's title, date and site as metadata."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from framing.scoring.html_pages import NoArticleText, extract_page
from framing.scoring.sources import SourceOptions, iter_source

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Port strike ends | Harbour Chronicle</title>
<meta property="og:site_name" content="Harbour Chronicle">
<meta property="article:published_time" content="2019-03-14T08:00:00Z"></head><body>
<nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/politics">Politics</a></nav>
<article><h1>Port strike ends after a week</h1>
<p>Dock workers accepted a pay offer late on Sunday night, ending a strike that had closed the port for a week
and left hundreds of containers stranded on the quay.</p>
<p>Shipping companies said backlogs would clear within days, while union leaders warned that the agreement
would be put to a vote of all members next week.</p>
</article><footer>Copyright 2019 Harbour Chronicle. Cookie settings.</footer></body></html>
"""


def test_main_text_and_metadata_are_extracted() -> None:
    text, metadata = extract_page(PAGE.encode("utf-8"))
    paragraphs = text.split("\n\n")
    assert paragraphs[0] == "Port strike ends after a week"
    assert paragraphs[1].startswith("Dock workers accepted a pay offer")
    assert "Home" not in text and "Cookie" not in text
    assert metadata["date"] == "2019-03-14"
    assert metadata["site"] == metadata["outlet"] == "Harbour Chronicle"
    with pytest.raises(NoArticleText):
        extract_page(b"<html><body></body></html>")


def test_a_folder_of_saved_pages_is_scored_like_articles(tmp_path: Path) -> None:
    corpus = tmp_path / "pages"
    (corpus / "chronicle").mkdir(parents=True)
    (corpus / "chronicle" / "port.html").write_text(PAGE, encoding="utf-8")
    with gzip.open(corpus / "chronicle" / "port-copy.html.gz", "wt", encoding="utf-8") as handle:
        handle.write(PAGE.replace("Dock workers", "Harbour workers"))
    (corpus / "chronicle" / "empty.htm").write_text("<html><body></body></html>", encoding="utf-8")
    items = list(iter_source(corpus, SourceOptions()))
    records = pd.DataFrame([i for i in items if isinstance(i, dict)])
    assert set(records["article_id"]) == {"chronicle/port", "chronicle/port-copy"}
    port = records[records["article_id"] == "chronicle/port"]
    assert port["kind"].tolist()[0] == "title" and set(port["kind"].tolist()[1:]) == {"body"}
    assert set(port["date"]) == {"2019-03-14"} and set(port["outlet"]) == {"Harbour Chronicle"}
    rejects = [i for i in items if not isinstance(i, dict)]
    assert [r.reason.split(":")[0] for r in rejects] == ["no article text"]
