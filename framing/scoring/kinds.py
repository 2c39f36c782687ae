"""What each row of an article is: its body, or the furniture around it.

A caption ("Photo: ...") or a "Read more:" link is not the article's
reporting, yet it is scored like a paragraph and, counted in shares, moves
them. Each row gets a ``kind``:

- ``title``: a short line that does not end a sentence: a headline, an outlet
  name, a section name or a subhead;
- ``byline``: "By ...", "Von ...", "Par ...", "By Name | PLACE", "Reporting by ...";
- ``dateline``: a line that is only a date, or a place and date ("RIGA, September 2");
- ``caption``: "Photo: ...", "Image: ...", "(Photo ...)", a line ending with a credit
  ("/AFP", "... on Friday. Outlet/Photographer");
- ``boilerplate``: "Read more:", "Related:", "Subscribe ...", copyright and
  navigation lines ("Home | World | Politics", "Latest news");
- ``body``: everything else.

Only ``body`` rows count in report shares by default (``framing report
--kinds`` includes others); every row stays in the output with its kind.
The rules are deliberately conservative: a row is furniture only when it is
short and matches a pattern, so body prose is not dropped from shares.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

KINDS = ("title", "byline", "dateline", "caption", "boilerplate", "body")
BODY = "body"
SHORT = 160  # furniture is short; a longer row is body whatever it starts with

_MONTHS = (
    r"jan(?:uary|\.)?|feb(?:ruary|\.)?|mar(?:ch|\.)?|apr(?:il|\.)?|may|june?|july?|aug(?:ust|\.)?|"
    r"sep(?:t(?:ember)?|\.)?|oct(?:ober|\.)?|nov(?:ember|\.)?|dec(?:ember|\.)?|"
    r"januar|februar|märz|mai|juni|juli|oktober|dezember|"
    r"janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|décembre|"
    r"января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
)
_DATE = (
    rf"(?:\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}}|"
    rf"(?:{_MONTHS})\s+\d{{1,2}}(?:,?\s+\d{{4}})?|\d{{1,2}}\.?\s+(?:{_MONTHS})(?:\s+\d{{4}})?)"
)
_NAME = r"[A-ZÀ-ÖØ-ÞА-Я][^\s,]*"  # a capitalised word of a name
_PATTERNS = {
    # "By" and a capitalised name, not a sentence ("By the end of the week, ...", "By Monday, the port ...").
    "byline": re.compile(
        rf"^(?:[Bb]y|[Vv]on|[Pp]ar|[Оо]т|[Pp]or|[Dd]i|[Dd]oor)\s+(?:{_NAME}(?:\s+{_NAME})+(?:,[^.!?]*|\s*\|\s*[^.!?|]+)?|{_NAME})$"
        r"|^(?:[Rr]eporting|[Ww]riting|[Ee]diting|[Aa]dditional reporting)\s+by\b"
    ),
    "dateline": re.compile(
        rf"^(?:(?:updated|published|posted)[:\s]+)?(?:\w+day,?\s+)?{_DATE}(?:[,\s]+\d{{1,2}}[:.]\d{{2}}(?:\s*[ap]\.?m\.?)?)?"
        rf"(?:\s+\w{{2,4}})?\.?$|^[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ .'-]+,\s*{_DATE}\b.{{0,20}}$",
        re.IGNORECASE,
    ),
    "caption": re.compile(
        r"^(?:photo|image|picture|foto|caption|video|graphic|illustration)s?\s*(?::|by\b|credit)|^\((?:photo|image)\b|"
        r"(?:/\s*(?:afp|reuters|ap|getty images|epa|dpa)|\((?:afp|reuters|ap|getty images)\))$|"
        r"\.\s+(?:photo:\s*)?[^./]{2,40}/[^./]{2,40}$",  # "... on Friday. Outlet/Photographer"
        re.IGNORECASE,
    ),
    "boilerplate": re.compile(
        r"^(?:read (?:more|also|next)|related(?: articles| stories)?|see also|more on this|advertisement|"
        r"subscribe|sign up|follow us|share (?:this|on)|click here|newsletter|all rights reserved|copyright|©|"
        r"lesen sie auch|mehr zum thema|lire aussi|читайте также)\b|^\W*©|(?:\s[|·•»]\s.*){2,}|"
        r"^(?:(?:all|latest|more|top|region(?:al)?|local|world)\s+(?:news|stories)|latest|most (?:read|popular))$",
        re.IGNORECASE,
    ),
}
_SENTENCE_END = re.compile(r"[.!?\"'\u201d\u2019)]$")


def kind_of(text: str) -> str:
    """The kind of one row, from its own text."""
    if len(text) > SHORT:
        return BODY
    for kind, pattern in _PATTERNS.items():
        if pattern.search(text):
            return kind
    if not _SENTENCE_END.search(text) and len(text.split()) <= 20:
        return "title"
    return BODY


def classify(paragraphs: Sequence[str]) -> list[str]:
    """Kinds of an article's rows, in order."""
    return [kind_of(text) for text in paragraphs]


__all__ = ["BODY", "KINDS", "classify", "kind_of"]
