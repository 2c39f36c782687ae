"""Split an article's text into paragraphs, the unit every model scores.

Blank lines separate paragraphs. Inside a block, lines are kept as separate
rows (titles, bylines, captions, subheads) unless the block looks hard-wrapped
at a fixed width, in which case lines are joined back into prose and a short
line ending a sentence closes a paragraph. Text with no blank lines at all
gets the same treatment, which is the fallback for single-newline articles.

Two layouts need more: a short line that does not end a sentence at the start
of a wrapped paragraph (a headline or byline set directly above the body,
with no blank line) stays a row of its own instead of being glued to the
body; and a paragraph wrapped over only two lines (too few to see a fixed
width) is joined when its first line is long, does not end a sentence and the
second plainly continues it (starts in lower case, or the first ends with a
comma, hyphen or a word such as "the" or "of").
"""

from __future__ import annotations

import re

_BLANK_LINES = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"[.!?:;\"'\u201d\u2019)]$")
_CONTINUES = re.compile(
    r"(?:[,\-\u2013]|\b(?:a|an|the|of|to|in|on|at|for|with|and|or|but|that|which|who|from|as|its|their|his|her))$",
    re.IGNORECASE,
)
MIN_WRAPPED_LINE = 40


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
        if not current and len(line) < 0.75 * width and not _SENTENCE_END.search(line):
            paragraphs.append(line)  # a headline or byline above the body, not the start of its prose
            continue
        current.append(line)
        if len(line) < 0.75 * width and _SENTENCE_END.search(line):
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def _continues(first: str, second: str) -> bool:
    """Whether ``second`` is the rest of the sentence ``first`` breaks off (a two-line wrapped paragraph)."""
    if len(first) < MIN_WRAPPED_LINE or _SENTENCE_END.search(first):
        return False
    return second[:1].islower() or bool(_CONTINUES.search(first))


def _join_continuations(lines: list[str]) -> list[str]:
    joined: list[str] = []
    for line in lines:
        if joined and _continues(joined[-1], line):
            joined[-1] = f"{joined[-1]} {line}"
        else:
            joined.append(line)
    return joined


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of ``text`` in order, stripped, none empty."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs: list[str] = []
    for block in _BLANK_LINES.split(text):
        lines = [re.sub(r"\s+", " ", line).strip() for line in block.split("\n")]
        lines = [line for line in lines if line]
        if not lines:
            continue
        paragraphs.extend(_unwrap(lines) if _is_hard_wrapped(lines) else _join_continuations(lines))
    return paragraphs
