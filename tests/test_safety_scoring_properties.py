"""Property-based tests for the paragraph splitter and the corpus readers (issue 13).

Arbitrary bytes, encodings, line endings and huge lines never raise; no valid
paragraph is lost or duplicated; every unusable record becomes a reject.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framing.data.readers import read_records
from framing.scoring.paragraphs import split_paragraphs
from framing.scoring.sources import Reject, SourceOptions, iter_source

LINE_ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])
WORD = st.text(alphabet=st.characters(blacklist_categories=["Cs", "Zs", "Cc", "Zl", "Zp"]), min_size=1, max_size=12)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def articles_text(draw: st.DrawFn) -> str:
    """Lines of words, blank lines between some, any line ending, now and then one huge line."""
    ending = draw(LINE_ENDINGS)
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        words = draw(st.lists(WORD, max_size=15))
        if draw(st.integers(0, 20)) == 0:
            words = words * 5000  # a huge line
        lines.append(" ".join(words))
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", "  ", "\t"])))
    return ending.join(lines)


@SETTINGS
@given(articles_text())
def test_splitting_keeps_every_word_once_and_in_order(text: str) -> None:
    paragraphs = split_paragraphs(text)
    assert all(p and p == p.strip() for p in paragraphs)
    assert " ".join(paragraphs).split() == text.split()


@SETTINGS
@given(st.text())
def test_splitting_any_text_never_raises_and_keeps_every_word(text: str) -> None:
    paragraphs = split_paragraphs(text)
    assert " ".join(paragraphs).split() == text.split()


def _score_items(path: Path, options: SourceOptions | None = None) -> tuple[list[dict[str, object]], list[Reject]]:
    records, rejects = [], []
    for item in iter_source(path, options or SourceOptions()):
        (rejects if isinstance(item, Reject) else records).append(item)
    return records, rejects  # type: ignore[return-value]


@st.composite
def jsonl_corpus(draw: st.DrawFn) -> tuple[bytes, list[str], int]:
    """JSON Lines bytes mixing valid articles with garbage lines; returns bytes, valid ids, garbage count."""
    ending = draw(st.sampled_from([b"\n", b"\r\n"]))
    lines, ids, garbage = [], [], 0
    for index in range(draw(st.integers(0, 15))):
        if draw(st.booleans()):
            text = draw(articles_text())
            if not text.strip():
                continue
            lines.append(json.dumps({"article_id": f"a{index}", "text": text}).encode())
            ids.append(f"a{index}")
        else:
            raw = draw(st.binary(max_size=40)).replace(b"\n", b" ").replace(b"\r", b" ")
            if not raw.strip() or raw.strip().lstrip(b"\xef\xbb\xbf").startswith(b"{"):
                continue  # blank lines are skipped; objects would be records, not garbage
            lines.append(raw)
            garbage += 1
    return ending.join(lines) + ending, ids, garbage


@SETTINGS
@given(jsonl_corpus(), st.booleans())
def test_jsonl_tables_give_each_valid_article_once_and_a_reject_per_bad_line(
    corpus: tuple[bytes, list[str], int], compressed: bool
) -> None:
    content, ids, garbage = corpus
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("corpus.jsonl.gz" if compressed else "corpus.jsonl")
        path.write_bytes(gzip.compress(content) if compressed else content)
        records, rejects = _score_items(path, SourceOptions(max_paragraph_chars=10**7))
    assert list(dict.fromkeys(str(r["article_id"]) for r in records)) == ids
    assert len({(r["article_id"], r["paragraph"]) for r in records}) == len(records)
    expected_rejects = garbage + (1 if not ids and not garbage else 0)  # a file with no rows is one reject
    assert len(rejects) == expected_rejects


@SETTINGS
@given(st.binary(max_size=2000), st.booleans())
def test_any_bytes_as_a_table_or_article_never_raise(content: bytes, compressed: bool) -> None:
    for name in ("corpus.jsonl", "corpus.csv", "corpus.parquet", "article.txt"):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / (name + (".gz" if compressed else ""))
            path.write_bytes(gzip.compress(content) if compressed else content)
            try:
                records, rejects = _score_items(path)
            except Exception as exc:  # only a one-line user error is allowed, e.g. a missing text column
                from framing.errors import FramingError

                assert isinstance(exc, FramingError), repr(exc)
                continue
            assert records or rejects


@SETTINGS
@given(
    st.lists(st.tuples(st.text(max_size=30), st.text(max_size=300)), max_size=12),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
def test_csv_rows_come_back_exactly_whatever_their_quotes_newlines_and_length(
    rows: list[tuple[str, str]], ending: str, huge: bool
) -> None:
    if huge and rows:
        rows[0] = (rows[0][0], rows[0][1] + "x" * 200_000)  # over the csv module's default field limit
    rows = [(a.replace("\x00", "").replace("\r", ""), b.replace("\x00", "").replace("\r", "")) for a, b in rows]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=ending)
    writer.writerow(["id", "text"])
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.csv"
        path.write_bytes(buffer.getvalue().encode("utf-8"))
        read = list(read_records(path))
    assert [(r["id"], r["text"]) for _, r in read] == rows
    assert [n for n, _ in read] == list(range(1, len(rows) + 1))


@SETTINGS
@given(st.text(min_size=1, max_size=200), st.sampled_from(["latin-1", "utf-16", "cp1252", "utf-8-sig"]))
def test_articles_in_other_encodings_are_read_or_rejected_never_raised(text: str, encoding: str) -> None:
    try:
        content = text.encode(encoding)
    except UnicodeEncodeError:
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "article.txt"
        path.write_bytes(content)
        records, rejects = _score_items(path)
    assert len(rejects) <= 1
    if not rejects:  # UTF-8 when it is UTF-8, else the encoding each paragraph records it was read with
        used = {str(r["source_encoding"]) for r in records}
        assert len(used) == 1
        codec = "utf-8-sig" if used == {"utf-8"} else used.pop()
        assert " ".join(str(r["text"]) for r in records).split() == content.decode(codec).split()
