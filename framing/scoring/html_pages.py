"""Saved web pages as articles: the main text and its metadata, without the page around it.

A scraped archive is a folder of HTML pages, and most of a page is not the
article: menus, teasers, cookie notices, comments. trafilatura extracts the
main text (one line per paragraph; headline first) and the page's metadata;
each page becomes one article whose paragraphs are scored like a ``.txt``
article's, with ``title``, ``date`` (``YYYY-MM-DD``), ``site``, ``author``
and ``url`` as metadata columns (``outlet`` is the site name unless the
path pattern gives one). A page with no main text is a reject
(``no article text``), never an empty article scored silently.
"""

from __future__ import annotations

from typing import Any

HTML_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
_FIELDS = {"title": "title", "date": "date", "sitename": "site", "author": "author", "url": "url"}


class NoArticleText(ValueError):
    """The page holds no main text trafilatura could find."""


def extract_page(data: bytes) -> tuple[str, dict[str, Any]]:
    """(article text with a blank line between paragraphs, metadata) of one saved page."""
    import trafilatura

    document = trafilatura.bare_extraction(data, with_metadata=True, favor_precision=True, include_comments=False)
    if document is None:
        raise NoArticleText("no article text: trafilatura found no main text in the page")
    found = document.as_dict() if hasattr(document, "as_dict") else dict(document)
    text = str(found.get("text") or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise NoArticleText("no article text: trafilatura found no main text in the page")
    metadata = {column: str(found[key]) for key, column in _FIELDS.items() if found.get(key)}
    if "site" not in metadata and found.get("hostname"):
        metadata["site"] = str(found["hostname"])
    if "site" in metadata:
        metadata["outlet"] = metadata["site"]
    return "\n\n".join(lines), metadata


def is_html(name: str) -> bool:
    return name.lower().endswith(HTML_SUFFIXES)


__all__ = ["HTML_SUFFIXES", "NoArticleText", "extract_page", "is_html"]
