"""Reading CSV, JSON Lines, Parquet and saved `datasets` folders as (row number, record) pairs."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from framing.data import readers
from framing.data.readers import detect_format, read_records
from framing.errors import DataError

ROWS = [
    {"id": "p1", "article_id": "a1", "text": "The council approved the new budget after a long debate."},
    {"id": "p2", "article_id": "a1", "text": "Opposition members walked out before the final vote."},
    {"id": "p3", "article_id": "a2", "text": "Fishermen said the storm destroyed dozens of boats in the harbour."},
]


def _write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _dataset_saved(folder: Path, columns: dict[str, list[object]]) -> Path:
    from datasets import Dataset

    Dataset.from_dict(columns).save_to_disk(str(folder))
    return folder


# ---------------------------------------------------------------- happy paths


def test_csv_rows_are_numbered_from_one_after_the_header(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(
        "id,article_id,text\n"
        "p1,a1,The council approved the new budget after a long debate.\n"
        'p2,a1,"Opposition members walked out, before the final vote."\n'
        "p3,a2,Fishermen said the storm destroyed dozens of boats in the harbour.\n",
        encoding="utf-8",
    )
    rows = list(read_records(path))
    assert [number for number, _ in rows] == [1, 2, 3]
    assert rows[1][1] == {
        "id": "p2",
        "article_id": "a1",
        "text": "Opposition members walked out, before the final vote.",
    }


def test_csv_with_byte_order_mark_keeps_first_column_name(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffid,text\np1,Ministers met in the capital.\n".encode())
    assert list(read_records(path)) == [(1, {"id": "p1", "text": "Ministers met in the capital."})]


def test_csv_row_with_more_fields_than_header_names_row(tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_text("id,text\np1,Rain fell overnight.\np2,Roads closed,unexpected\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        list(read_records(path))
    assert info.value.row == 2
    assert str(info.value).startswith(f"{path}, row 2: more fields than the header has")


def test_jsonl_rows_are_physical_lines_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = _write_jsonl(
        tmp_path / "rows.jsonl", [json.dumps(ROWS[0]), "", "   ", json.dumps(ROWS[1]), json.dumps(ROWS[2])]
    )
    rows = list(read_records(path))
    assert [number for number, _ in rows] == [1, 4, 5]
    assert [record for _, record in rows] == ROWS


def test_gzipped_jsonl_is_read(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(json.dumps(r) for r in ROWS) + "\n")
    assert detect_format(path) == "jsonl"
    assert [record["id"] for _, record in read_records(path)] == ["p1", "p2", "p3"]


def test_parquet_rows_numbered_across_record_batches(tmp_path: Path) -> None:
    path = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), path)
    rows = list(readers.iter_parquet(path, batch_size=2))  # two batches: [p1, p2], [p3]
    assert [(number, record["id"]) for number, record in rows] == [(1, "p1"), (2, "p2"), (3, "p3")]
    assert [record for _, record in read_records(path)] == ROWS


def test_corrupt_parquet_names_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"this is not parquet at all")
    with pytest.raises(DataError) as info:
        list(read_records(path))
    assert info.value.path == str(path)
    assert "not a readable Parquet file" in str(info.value)


def test_saved_dataset_folder_is_read_with_one_based_rows(tmp_path: Path) -> None:
    folder = _dataset_saved(
        tmp_path / "saved", {key: [row[key] for row in ROWS] for key in ("id", "article_id", "text")}
    )
    assert detect_format(folder) == "hf"
    rows = list(read_records(folder))
    assert [number for number, _ in rows] == [1, 2, 3]
    assert [record for _, record in rows] == ROWS


def test_declared_format_overrides_extension(tmp_path: Path) -> None:
    path = tmp_path / "rows.txt"
    path.write_text(json.dumps(ROWS[0]) + "\n", encoding="utf-8")
    assert list(read_records(path, "jsonl")) == [(1, ROWS[0])]


# ---------------------------------------------------------------- errors name file and row


def test_malformed_json_line_names_file_and_line(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "bad.jsonl", [json.dumps(ROWS[0]), json.dumps(ROWS[1]), '{"id": "p3", "text": '])
    with pytest.raises(DataError) as info:
        list(read_records(path))
    assert info.value.path == str(path)
    assert info.value.row == 3
    assert str(info.value).startswith(f"{path}, row 3: malformed JSON")


def test_non_object_json_line_names_line_and_type(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "list.jsonl", [json.dumps(ROWS[0]), '["not", "an", "object"]'])
    with pytest.raises(DataError) as info:
        list(read_records(path))
    assert info.value.row == 2
    assert str(info.value) == f"{path}, row 2: expected a JSON object, got list"


def test_undecodable_jsonl_line_names_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(
        (json.dumps(ROWS[0]) + "\n").encode() + '{"id": "p2", "text": "Caf\xe9 owners protested."}\n'.encode("latin-1")
    )
    with pytest.raises(DataError) as info:
        list(read_records(path))
    assert info.value.path == str(path)
    assert info.value.row == 2
    assert "not UTF-8" in str(info.value)


def test_undecodable_csv_names_data_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from framing.formats import csv_table

    monkeypatch.setattr(csv_table, "SAMPLE", 40)  # the encoding is chosen on UTF-8 lines; bad bytes come later
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        b"id,text\n"
        b"p1,The mayor opened the new bridge.\n"
        b"p2,Visitors crowded the market square.\n" + "p3,Caf\xe9 owners protested.\n".encode("latin-1")
    )
    with pytest.raises(DataError) as info:
        list(read_records(path))
    assert info.value.path == str(path)
    assert info.value.row == 3  # data row 3 = physical line 4
    assert "physical line 4" in str(info.value)


def test_undecodable_csv_with_byte_order_mark_names_the_right_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from framing.formats import csv_table

    monkeypatch.setattr(csv_table, "SAMPLE", 20)
    path = tmp_path / "bom_latin1.csv"
    path.write_bytes("\ufeffid,text\np1,Talks resumed.\n".encode() + "\xe9t\xe9,Summer heat.\n".encode("latin-1"))
    with pytest.raises(DataError) as info:
        list(read_records(path))
    assert info.value.row == 2


def test_a_csv_wholly_in_a_legacy_encoding_is_read(tmp_path: Path) -> None:
    path = tmp_path / "cp1252.csv"
    path.write_bytes("id,text\np1,Caf\xe9 owners protested \u2013 \u201cenough\u201d.\n".encode("cp1252"))
    assert list(read_records(path)) == [
        (1, {"id": "p1", "text": "Caf\xe9 owners protested \u2013 \u201cenough\u201d."})
    ]


def test_jsonl_with_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(("\ufeff" + json.dumps(ROWS[0]) + "\n").encode())
    assert list(read_records(path)) == [(1, ROWS[0])]


def test_unknown_extension_names_file_and_extension(tmp_path: Path) -> None:
    path = tmp_path / "rows.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError) as info:
        read_records(path)
    assert info.value.path == str(path)
    assert "unknown file type '.xlsx'" in str(info.value)


def test_file_without_extension_is_unknown(tmp_path: Path) -> None:
    path = tmp_path / "rows"
    path.write_text("id,text\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"unknown file type '\(none\)'"):
        read_records(path)


def test_missing_file_names_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.jsonl"
    with pytest.raises(DataError) as info:
        read_records(path)
    assert str(info.value) == f"{path}: file not found"
    assert info.value.row is None


def test_plain_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "train.jsonl").write_text(json.dumps(ROWS[0]) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_records(folder)
    assert info.value.path == str(folder)
    assert "not a saved `datasets` dataset" in str(info.value)


def _save_dataset_dict(folder: Path) -> Path:
    from datasets import Dataset, DatasetDict

    DatasetDict(
        {
            "train": Dataset.from_dict({"text": ["Grain exports rose in March."]}),
            "validation": Dataset.from_dict({"text": ["The port reopened after repairs."]}),
        }
    ).save_to_disk(str(folder))
    return folder


def test_dataset_dict_folder_with_hf_format_names_its_splits(tmp_path: Path) -> None:
    folder = _save_dataset_dict(tmp_path / "dict")
    with pytest.raises(DataError) as info:
        list(read_records(folder, "hf"))
    assert info.value.path == str(folder)
    assert "a DatasetDict (train, validation); point at one split's folder" in str(info.value)


def test_dataset_dict_folder_with_auto_format_names_its_splits(tmp_path: Path) -> None:
    folder = _save_dataset_dict(tmp_path / "dict")
    with pytest.raises(DataError) as info:
        list(read_records(folder))
    assert "DatasetDict (train, validation)" in str(info.value)


def test_csv_field_over_the_csv_module_default_limit_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_text("id,text\np1,Short paragraph.\np2," + "x" * 140_000 + "\np3,Another.\n", encoding="utf-8")
    rows = list(read_records(path))
    assert [number for number, _ in rows] == [1, 2, 3]
    assert len(rows[1][1]["text"]) == 140_000
