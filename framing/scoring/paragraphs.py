"""Split an article's text into paragraphs, the unit every model scores.

Blank lines separate paragraphs. Inside a block, lines are kept as separate
rows (titles, bylines, captions, subheads) unless the block looks hard-wrapped
at a fixed width, in which case lines are joined back into prose and a short
line ending a sentence closes a paragraph. Text with no blank lines at all
gets the same treatment, which is the fallback for single-newline articles.
"""

from __future__ import annotations

import re

_BLANK_LINES = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"[.!?:;\"'\u201d\u2019)]$")


def _is_hard_wrapped(lines: list[str]) -> bool:
    """Most lines reach close to the longest one and break mid-sentence, as fixed-width wrapping does.

    One-sentence paragraphs separated by single newlines can have similar
    lengths too, but each of their lines ends a sentence.
    """
    if len(lines) < 3:
        return False
    width = max(len(line) for line in lines)
    if not 40 <= width <= 120:
        return False
    body = lines[:-1]
    full = sum(len(line) >= 0.75 * width for line in body)
    sentence_ends = sum(bool(_SENTENCE_END.search(line)) for line in body)
    return full >= 0.6 * len(body) and sentence_ends < 0.5 * len(body)


def _unwrap(lines: list[str]) -> list[str]:
    width = max(len(line) for line in lines)
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        current.append(line)
        if len(line) < 0.75 * width and _SENTENCE_END.search(line):
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of ``text`` in order, stripped, none empty."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs: list[str] = []
    for block in _BLANK_LINES.split(text):
        lines = [re.sub(r"\s+", " ", line).strip() for line in block.split("\n")]
        lines = [line for line in lines if line]
        if not lines:
            continue
        paragraphs.extend(_unwrap(lines) if _is_hard_wrapped(lines) else lines)
    return paragraphs
