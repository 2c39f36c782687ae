"""Splitting article text into paragraphs: blank lines, short-line blocks, hard-wrapped prose."""

from __future__ import annotations

import textwrap

from framing.scoring.paragraphs import split_paragraphs

P1 = (
    "The city council met late on Tuesday to debate the budget for the coming year, and members of the "
    "opposition accused the mayor of hiding the true cost of the new tram line from voters. The mayor "
    "rejected the claim."
)
P2 = (
    "Residents who attended the meeting said they were worried about rising rents in the old town, where "
    "many families have lived for generations and where small shops have been closing one after another "
    "for months now."
)
P3 = (
    "Engineers from the transport authority told the council that work on the tram line could begin in "
    "the spring if the regional government releases the promised funds before the end of the year, but "
    "warned that any delay would raise costs."
)

SHORT_P1 = "The port reopened on Monday after a week of strikes."
SHORT_P2 = "Dock workers accepted a pay offer late on Sunday night."
SHORT_P3 = "Shipping companies said backlogs would clear within days."


def _wrap(paragraph: str, width: int = 70) -> list[str]:
    lines = textwrap.wrap(paragraph, width)
    # the test premise: every line but the last is long, the last is short and ends a sentence
    assert len(lines) >= 3
    assert len(lines[-1]) < 0.75 * max(len(line) for line in lines)
    assert lines[-1].endswith(".")
    return lines


def test_blank_lines_separate_paragraphs() -> None:
    text = f"{SHORT_P1}\n\n{SHORT_P2}\n\n\n\n{SHORT_P3}"
    assert split_paragraphs(text) == [SHORT_P1, SHORT_P2, SHORT_P3]


def test_whitespace_only_lines_count_as_blank_and_no_empty_rows() -> None:
    text = f"\n\n   \n{SHORT_P1}\n \t \n{SHORT_P2}\n\n   \n\n"
    assert split_paragraphs(text) == [SHORT_P1, SHORT_P2]


def test_spaces_inside_a_paragraph_are_collapsed_and_stripped() -> None:
    assert split_paragraphs("  The   port\treopened   on Monday.  ") == ["The port reopened on Monday."]


def test_empty_and_blank_text_give_no_rows() -> None:
    assert split_paragraphs("") == []
    assert split_paragraphs(" \n\n\t\n  ") == []


def test_block_of_short_lines_gives_one_row_per_line() -> None:
    header = "Port strike ends\nBy Maria Lopez, Harbour Correspondent\nPhoto: cranes idle at the container terminal"
    text = f"{header}\n\n{SHORT_P1}"
    assert split_paragraphs(text) == [
        "Port strike ends",
        "By Maria Lopez, Harbour Correspondent",
        "Photo: cranes idle at the container terminal",
        SHORT_P1,
    ]


def test_hard_wrapped_prose_is_rejoined_into_paragraphs() -> None:
    lines = _wrap(P1) + _wrap(P2) + _wrap(P3)
    assert max(len(line) for line in lines) <= 70
    text = "\n".join(lines)
    assert split_paragraphs(text) == [P1, P2, P3]


def test_hard_wrapped_paragraphs_separated_by_blank_lines() -> None:
    text = "Tram plan divides council\n\n" + "\n".join(_wrap(P1)) + "\n\n" + "\n".join(_wrap(P2))
    assert split_paragraphs(text) == ["Tram plan divides council", P1, P2]


def test_single_newlines_between_full_paragraphs() -> None:
    # no blank lines at all: each line is a paragraph (lines are long and not wrapped to one width)
    text = f"Tram plan divides council\nBy Jonas Berg\n{P1}\n{SHORT_P1}\n{P3}"
    assert split_paragraphs(text) == ["Tram plan divides council", "By Jonas Berg", P1, SHORT_P1, P3]


def test_windows_line_endings() -> None:
    text = f"Port strike ends\r\nBy Maria Lopez\r\n\r\n{SHORT_P1}\r\n\r\n{SHORT_P2}\r\n"
    assert split_paragraphs(text) == ["Port strike ends", "By Maria Lopez", SHORT_P1, SHORT_P2]


def test_windows_line_endings_in_hard_wrapped_prose() -> None:
    text = "\r\n".join(_wrap(P1) + _wrap(P2)) + "\r\n"
    assert split_paragraphs(text) == [P1, P2]


def test_old_mac_line_endings() -> None:
    assert split_paragraphs(f"{SHORT_P1}\r\r{SHORT_P2}") == [SHORT_P1, SHORT_P2]


def test_no_row_is_empty_or_padded() -> None:
    text = "\n".join(["", "Headline", "   ", "", *_wrap(P2), "", "", "Caption text  ", "\t"])
    rows = split_paragraphs(text)
    assert rows == ["Headline", P2, "Caption text"]
    assert all(row and row == row.strip() for row in rows)


def test_single_newlines_between_similar_length_sentences_stay_separate() -> None:
    text = f"{SHORT_P1}\n{SHORT_P2}\n{SHORT_P3}"
    assert split_paragraphs(text) == [SHORT_P1, SHORT_P2, SHORT_P3]


def test_a_paragraph_wrapped_over_two_lines_is_one_row() -> None:
    text = (
        "The council approved the budget on Tuesday after a long debate in which\n"
        "members of the opposition walked out.\n\n"
        "Residents said the tram line would be finished, according to the\n"
        "Mayor, before the end of next year.\n\n"
        "Foreign ministers pledge closer cooperation on river shipping\n"
        "Agreement signed in Riga"
    )
    assert split_paragraphs(text) == [
        "The council approved the budget on Tuesday after a long debate in which members of the opposition walked out.",
        "Residents said the tram line would be finished, according to the Mayor, before the end of next year.",
        "Foreign ministers pledge closer cooperation on river shipping",
        "Agreement signed in Riga",
    ]


def test_headline_and_byline_directly_above_a_wrapped_body_stay_apart() -> None:
    text = "\n".join(["Tram plan divides council", "By Jonas Berg", *_wrap(P1), *_wrap(P2)])
    assert split_paragraphs(text) == ["Tram plan divides council", "By Jonas Berg", P1, P2]
