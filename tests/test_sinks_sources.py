"""Atomic output files and paragraph sources (folders of .txt articles, tables)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from framing.errors import DataError
from framing.scoring.sinks import AtomicSink, output_format
from framing.scoring.sources import Reject, RejectCounts, SourceOptions, check_input, iter_source


class Rejects:
    """Collects the rejects a source yields beside its paragraphs."""

    def __init__(self) -> None:
        self.items: list[dict[str, object]] = []

    def counts(self) -> dict[str, int]:
        counted = RejectCounts()
        for item in self.items:
            counted.add(str(item["reason"]))
        return counted.counts


def iter_paragraphs(path: Path, options: SourceOptions, rejects: Rejects) -> Iterator[dict[str, object]]:
    for item in iter_source(path, options):
        if isinstance(item, Reject):
            rejects.items.append(item.to_dict())
        else:  # the detected language is tested in test_languages.py, the encoding below
            yield {
                key: value for key, value in item.items() if key not in ("detected_language", "source_encoding", "kind")
            }


BATCH_1 = pd.DataFrame(
    {
        "article_id": ["wire/a1", "wire/a1"],
        "paragraph": [0, 1],
        "text": ["Talks resumed in Geneva.", "Aid trucks crossed the border, officials said."],
        "labels": [["diplomacy"], ["humanitarian"]],
        "p_diplomacy": [0.81, 0.12],
        "evidence": [{"diplomacy": ["talks resumed"]}, {"humanitarian": ["aid trucks"]}],
    }
)
BATCH_2 = pd.DataFrame(
    {
        "article_id": ["wire/a2"],
        "paragraph": [0],
        "text": ["Ministers signed a trade pact."],
        "labels": [["diplomacy"]],
        "p_diplomacy": [0.77],
        "evidence": [{"diplomacy": ["trade pact"]}],
    }
)


def _partial(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


# ---------------------------------------------------------------- AtomicSink


def test_jsonl_sink_writes_nothing_under_final_name_before_commit(tmp_path: Path) -> None:
    target = tmp_path / "out" / "scores.jsonl"
    sink = AtomicSink(target)
    sink.write(BATCH_1)
    sink.write(BATCH_2)
    assert not target.exists()
    assert _partial(target).exists()
    sink.commit()
    assert target.exists()
    assert not _partial(target).exists()
    assert sink.rows == 3
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [r["article_id"] for r in records] == ["wire/a1", "wire/a1", "wire/a2"]
    assert records[1]["labels"] == ["humanitarian"]
    assert records[1]["evidence"] == {"humanitarian": ["aid trucks"]}
    assert records[2]["p_diplomacy"] == 0.77


def test_csv_sink_writes_header_once_and_json_encodes_lists(tmp_path: Path) -> None:
    target = tmp_path / "scores.csv"
    with AtomicSink(target) as sink:
        sink.write(BATCH_1)
        sink.write(BATCH_2)
        assert not target.exists()
    frame = pd.read_csv(target)
    assert list(frame.columns) == ["article_id", "paragraph", "text", "labels", "p_diplomacy", "evidence"]
    assert frame["article_id"].tolist() == ["wire/a1", "wire/a1", "wire/a2"]
    assert [json.loads(v) for v in frame["labels"]] == [["diplomacy"], ["humanitarian"], ["diplomacy"]]
    assert json.loads(frame["evidence"][2]) == {"diplomacy": ["trade pact"]}
    assert target.read_text(encoding="utf-8").count("article_id,paragraph") == 1


def test_parquet_sink_round_trips(tmp_path: Path) -> None:
    target = tmp_path / "scores.parquet"
    with AtomicSink(target) as sink:
        sink.write(BATCH_1)
        sink.write(BATCH_2)
        assert not target.exists()
    rows = pq.read_table(target).to_pylist()
    assert [r["text"] for r in rows] == [*BATCH_1["text"], *BATCH_2["text"]]
    assert rows[0]["labels"] == ["diplomacy"]
    assert json.loads(rows[2]["evidence"]) == {"diplomacy": ["trade pact"]}
    assert rows[1]["p_diplomacy"] == pytest.approx(0.12)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_abort_removes_partial_and_leaves_no_final_file(tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"scores{suffix}"
    sink = AtomicSink(target)
    sink.write(BATCH_1)
    assert _partial(target).exists()
    sink.abort()
    assert not _partial(target).exists()
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_exception_inside_with_block_aborts(tmp_path: Path) -> None:
    target = tmp_path / "scores.jsonl"
    with pytest.raises(RuntimeError, match="scorer crashed"), AtomicSink(target) as sink:
        sink.write(BATCH_1)
        raise RuntimeError("scorer crashed")
    assert not target.exists()
    assert not _partial(target).exists()


def test_abort_keeps_an_existing_final_file(tmp_path: Path) -> None:
    target = tmp_path / "scores.jsonl"
    target.write_text('{"old": true}\n', encoding="utf-8")
    sink = AtomicSink(target)
    sink.write(BATCH_2)
    sink.abort()
    assert target.read_text(encoding="utf-8") == '{"old": true}\n'


def test_commit_without_rows_creates_empty_jsonl(tmp_path: Path) -> None:
    target = tmp_path / "scores.jsonl"
    AtomicSink(target).commit()
    assert target.read_text(encoding="utf-8") == ""


def test_commit_without_rows_creates_readable_parquet(tmp_path: Path) -> None:
    target = tmp_path / "scores.parquet"
    AtomicSink(target).commit()
    assert pq.read_table(target).num_rows == 0


def test_parquet_sink_first_batch_without_any_label(tmp_path: Path) -> None:
    target = tmp_path / "scores.parquet"
    first = BATCH_1.assign(labels=[[], []])
    with AtomicSink(target) as sink:
        sink.write(first)
        sink.write(BATCH_2)
    assert [r["labels"] for r in pq.read_table(target).to_pylist()] == [[], [], ["diplomacy"]]


@pytest.mark.parametrize("name", ["scores.txt", "scores.json", "scores"])
def test_unknown_output_extension(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    with pytest.raises(DataError) as info:
        AtomicSink(target)
    assert info.value.path == str(target)
    assert "unknown output type" in str(info.value)
    assert ".jsonl, .csv or .parquet" in str(info.value)


def test_output_format_is_case_insensitive() -> None:
    assert output_format(Path("OUT.PARQUET")) == "parquet"
    assert output_format(Path("out.Jsonl")) == "jsonl"


# ---------------------------------------------------------------- sources: folder of .txt articles


def test_text_folder_paragraphs_rejects_and_ids(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "wire").mkdir(parents=True)
    (corpus / "wire" / "a1.txt").write_text(
        "Summit opens\n\nLeaders arrived in the capital for two days of talks.\n\nSecurity was tight.\n",
        encoding="utf-8",
    )
    (corpus / "b2.txt").write_bytes("\ufeffFloods hit the delta.\r\n\r\nThousands were evacuated.\r\n".encode())
    (corpus / "empty.txt").write_text("  \n\n", encoding="utf-8")
    (corpus / "latin1.txt").write_bytes("Caf\xe9 owners protested.".encode("latin-1"))
    (corpus / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10")
    (corpus / "notes.md").write_text("Not an article.", encoding="utf-8")

    rejects = Rejects()
    records = list(iter_paragraphs(corpus, SourceOptions(), rejects))

    assert records == [
        {"article_id": "b2", "paragraph": 0, "text": "Floods hit the delta."},
        {"article_id": "b2", "paragraph": 1, "text": "Thousands were evacuated."},
        {"article_id": "latin1", "paragraph": 0, "text": "Café owners protested."},
        {"article_id": "wire/a1", "paragraph": 0, "text": "Summit opens"},
        {"article_id": "wire/a1", "paragraph": 1, "text": "Leaders arrived in the capital for two days of talks."},
        {"article_id": "wire/a1", "paragraph": 2, "text": "Security was tight."},
    ]
    by_source = {Path(item["source"]).name: item for item in rejects.items}
    assert set(by_source) == {"empty.txt", "binary.txt"}
    assert by_source["empty.txt"]["reason"] == "empty article"
    assert by_source["binary.txt"]["reason"].startswith("undecodable: bytes that are not UTF-8 at offset 0")
    assert by_source["empty.txt"]["row"] is None
    assert rejects.counts() == {"empty article": 1, "undecodable": 1}


def test_legacy_encodings_are_decoded_and_recorded(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = "Le président a déclaré que la réunion était très importante.\n\n„Zitat“ – Über den Fluss."
    (corpus / "cp1252.txt").write_bytes(text.encode("cp1252"))
    (corpus / "utf8.txt").write_text(text, encoding="utf-8")
    records = [r for r in iter_source(corpus, SourceOptions()) if not isinstance(r, Reject)]
    by_file: dict[str, list[dict[str, object]]] = {}
    for record in records:
        by_file.setdefault(str(record["article_id"]), []).append(record)
    assert [r["text"] for r in by_file["cp1252"]] == [r["text"] for r in by_file["utf8"]]
    assert {r["source_encoding"] for r in by_file["cp1252"]} == {"cp1252"}
    assert {r["source_encoding"] for r in by_file["utf8"]} == {"utf-8"}


def test_single_txt_file_uses_its_stem(tmp_path: Path) -> None:
    article = tmp_path / "2024-05-01-port.txt"
    article.write_text("Port strike ends\n\nDock workers accepted the offer.", encoding="utf-8")
    records = list(iter_paragraphs(article, SourceOptions(), Rejects()))
    assert [(r["article_id"], r["paragraph"]) for r in records] == [("2024-05-01-port", 0), ("2024-05-01-port", 1)]


def test_folder_without_txt_files_is_an_error(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("Not an article.", encoding="utf-8")
    with pytest.raises(DataError, match=r"no \.txt, \.txt\.gz, \.html, \.csv, \.jsonl or \.parquet files found"):
        list(iter_paragraphs(corpus, SourceOptions(), Rejects()))


def test_missing_input_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        iter_source(tmp_path / "absent", SourceOptions())
    assert str(info.value) == f"{tmp_path / 'absent'}: input not found"


# ---------------------------------------------------------------- sources: tables


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_paragraph_table_carries_metadata(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "paragraphs.jsonl",
        [
            {
                "article_id": "x1",
                "paragraph": 4,
                "text": " Talks resumed. ",
                "outlet": "Daily Star",
                "year": 2021,
                "tags": ["politics"],
            },
            {
                "article_id": "x1",
                "paragraph": 5,
                "text": "Aid arrived.",
                "outlet": "Daily Star",
                "year": 2021,
                "paywalled": None,
            },
            {"article_id": "x2", "text": "   ", "outlet": "Evening Post", "year": 2020},
            {"text": "Ministers signed a pact.", "outlet": "Evening Post", "score": 0.5, "paywalled": True},
        ],
    )
    rejects = Rejects()
    records = list(iter_paragraphs(path, SourceOptions(unit="paragraph"), rejects))
    assert records == [
        {"article_id": "x1", "paragraph": 4, "text": "Talks resumed.", "outlet": "Daily Star", "year": 2021},
        {
            "article_id": "x1",
            "paragraph": 5,
            "text": "Aid arrived.",
            "outlet": "Daily Star",
            "year": 2021,
            "paywalled": None,
        },
        {
            "article_id": "paragraphs-4",
            "paragraph": 3,
            "text": "Ministers signed a pact.",
            "outlet": "Evening Post",
            "score": 0.5,
            "paywalled": True,
        },
    ]
    assert rejects.items == [{"source": str(path), "row": 3, "reason": "empty article"}]


def test_article_table_is_split_into_paragraphs_with_metadata(tmp_path: Path) -> None:
    path = tmp_path / "articles.csv"
    path.write_text(
        'article_id,text,outlet\nk1,"Port strike ends\n\nDock workers accepted the offer.",Harbour News\n',
        encoding="utf-8",
    )
    records = list(iter_paragraphs(path, SourceOptions(), Rejects()))
    assert records == [
        {"article_id": "k1", "paragraph": 0, "text": "Port strike ends", "outlet": "Harbour News"},
        {"article_id": "k1", "paragraph": 1, "text": "Dock workers accepted the offer.", "outlet": "Harbour News"},
    ]


def test_table_without_text_column_names_row(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "rows.jsonl", [{"article_id": "x1", "body": "Talks resumed."}])
    with pytest.raises(DataError) as info:
        check_input(path, SourceOptions(unit="paragraph"))  # before any work
    assert str(info.value) == f"{path}, row 1: no text column 'text' (columns: 'article_id', 'body'); set --text-column"
    rejects = Rejects()
    assert list(iter_paragraphs(path, SourceOptions(unit="paragraph"), rejects)) == []  # a later row: a reject
    assert rejects.counts() == {"no text": 1}


def test_a_csv_export_in_windows_1252_is_read_and_its_encoding_recorded(tmp_path: Path) -> None:
    table = tmp_path / "export.csv"
    text = "Le président a déclaré que la réunion était très importante – „Zitat“."
    table.write_bytes(f"article_id,outlet,text\na1,Le Monde,{text}\n".encode("cp1252"))
    records = [r for r in iter_source(table, SourceOptions()) if not isinstance(r, Reject)]
    assert [(r["text"], r["outlet"], r["source_encoding"]) for r in records] == [(text, "Le Monde", "cp1252")]
    utf8 = tmp_path / "utf8.csv"
    utf8.write_text(f"article_id,text\na1,{text}\n", encoding="utf-8")
    assert [r["source_encoding"] for r in iter_source(utf8, SourceOptions()) if not isinstance(r, Reject)] == ["utf-8"]
