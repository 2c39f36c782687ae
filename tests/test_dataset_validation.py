"""Row validation of labelled splits: every problem names file and row, or becomes a Reject."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from framing.config import DataConfig
from framing.data.dataset import Reject, load_splits, read_labelled, write_rejects
from framing.errors import DataError


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _row(row_id: str, text: str, labels: Any, article: str = "a1") -> dict[str, Any]:
    return {"id": row_id, "article_id": article, "text": text, "labels": labels}


def _config(tmp_path: Path, **overrides: Any) -> DataConfig:
    values: dict[str, Any] = {"train": tmp_path / "train.jsonl", "validation": tmp_path / "validation.jsonl"}
    values.update(overrides)
    return DataConfig(**values)


GOOD = [
    _row("r1", "State television accused foreign reporters of staging the footage.", ["media_bias_claim"], "a1"),
    _row("r2", "Relief agencies delivered tents to families left homeless by the quake.", ["humanitarian"], "a1"),
    _row("r3", "The two foreign ministers agreed to reopen their embassies.", ["diplomacy"], "a2"),
    _row("r4", "The local orchestra announced its winter programme.", [], "a2"),
]


def _read(path: Path, config: DataConfig, known: list[str] | None = None) -> Any:
    return read_labelled(path, "train", config, known)


# ---------------------------------------------------------------- good rows


def test_good_rows_are_read_in_order(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "train.jsonl", GOOD)
    result = _read(path, _config(tmp_path))
    assert result.ids == ["r1", "r2", "r3", "r4"]
    assert result.groups == ["a1", "a1", "a2", "a2"]
    assert result.labels == [["media_bias_claim"], ["humanitarian"], ["diplomacy"], []]
    assert result.texts[0] == GOOD[0]["text"]
    assert result.rejects == []
    matrix = result.label_matrix(["diplomacy", "humanitarian", "media_bias_claim"])
    assert matrix.tolist() == [[0, 0, 1], [0, 1, 0], [1, 0, 0], [0, 0, 0]]


def test_text_is_stripped(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "train.jsonl", [_row("r1", "  Markets fell sharply.\n", ["economy"])])
    assert _read(path, _config(tmp_path)).texts == ["Markets fell sharply."]


def test_labels_as_json_string_list(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "train.jsonl", [_row("r1", "Talks resumed in Oslo.", '["diplomacy", "humanitarian"]')])
    assert _read(path, _config(tmp_path)).labels == [["diplomacy", "humanitarian"]]


def test_labels_as_delimited_string_in_csv(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_text(
        "id,article_id,text,labels\n"
        "r1,a1,Talks resumed in Oslo while aid trucks waited.,diplomacy | humanitarian\n"
        "r2,a1,The weather was mild.,\n"
        "r3,a2,Officials blamed foreign media.,media_bias_claim\n",
        encoding="utf-8",
    )
    result = _read(path, _config(tmp_path, train=path))
    assert result.labels == [["diplomacy", "humanitarian"], [], ["media_bias_claim"]]


def test_custom_label_delimiter(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "train.jsonl", [_row("r1", "Talks resumed in Oslo.", "diplomacy;humanitarian")])
    assert _read(path, _config(tmp_path, label_delimiter=";")).labels == [["diplomacy", "humanitarian"]]


def test_labels_as_list_from_parquet(tmp_path: Path) -> None:
    path = tmp_path / "train.parquet"
    pq.write_table(pa.Table.from_pylist(GOOD), path)
    result = _read(path, _config(tmp_path, train=path))
    assert result.labels == [["media_bias_claim"], ["humanitarian"], ["diplomacy"], []]


def test_wide_label_columns(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(
        "id,article_id,text,diplomacy,humanitarian\n"
        "r1,a1,Envoys met and aid arrived.,1,1\n"
        "r2,a1,Envoys met again.,1,0\n"
        "r3,a2,The choir sang.,0,0\n",
        encoding="utf-8",
    )
    config = _config(tmp_path, train=path, label_columns=["diplomacy", "humanitarian"])
    assert _read(path, config).labels == [["diplomacy", "humanitarian"], ["diplomacy"], []]


def test_wide_label_column_with_other_value_names_row_and_column(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "wide.jsonl",
        [
            {"id": "r1", "article_id": "a1", "text": "Envoys met.", "diplomacy": 1},
            {"id": "r2", "article_id": "a1", "text": "Envoys met again.", "diplomacy": 2},
        ],
    )
    with pytest.raises(DataError) as info:
        _read(path, _config(tmp_path, train=path, label_columns=["diplomacy"]))
    assert info.value.row == 2
    assert "column 'diplomacy' must be 0/1, got 2" in str(info.value)


def test_no_id_or_group_column_uses_row_based_ids(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "train.jsonl", [{"text": "Ports reopened.", "labels": []}, {"text": "Talks ended.", "labels": []}]
    )
    result = _read(path, _config(tmp_path, id_column=None, group_column=None))
    assert result.ids == ["train-1", "train-2"]
    assert result.groups == result.ids


# ---------------------------------------------------------------- errors


def test_missing_column_names_column_and_row(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "train.jsonl", [{"id": "r1", "article_id": "a1", "text": "Ports reopened."}])
    with pytest.raises(DataError) as info:
        _read(path, _config(tmp_path, bad_rows="skip"))  # a missing column is fatal even under skip
    assert str(info.value) == f"{path}, row 1: missing column(s) 'labels'"


def test_empty_text_names_row(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "train.jsonl", [GOOD[0], _row("r2", "   ", ["humanitarian"])])
    with pytest.raises(DataError) as info:
        _read(path, _config(tmp_path))
    assert info.value.row == 2
    assert str(info.value) == f"{path}, row 2: empty text in column 'text'"


def test_unknown_label_names_label_and_row(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "train.jsonl", [GOOD[0], GOOD[1], _row("r3", "Envoys met.", ["diplomcy"])])
    with pytest.raises(DataError) as info:
        _read(path, _config(tmp_path), known=["diplomacy", "humanitarian", "media_bias_claim"])
    assert info.value.row == 3
    assert "unknown label(s) ['diplomcy']" in str(info.value)


def test_duplicate_id_names_both_rows(tmp_path: Path) -> None:
    rows = [GOOD[0], GOOD[1], GOOD[2], _row("r2", "A different paragraph with a reused id.", [], "a3")]
    path = _jsonl(tmp_path / "train.jsonl", rows)
    with pytest.raises(DataError) as info:
        _read(path, _config(tmp_path))
    assert str(info.value) == f"{path}, row 4: duplicate id 'r2' (first at row 2)"


def test_multiclass_row_with_two_labels_is_an_error(tmp_path: Path) -> None:
    rows = [
        _row("r1", "Envoys met.", ["diplomacy"]),
        _row("r2", "Envoys met as aid arrived.", ["diplomacy", "humanitarian"]),
    ]
    path = _jsonl(tmp_path / "train.jsonl", rows)
    with pytest.raises(DataError) as info:
        _read(path, _config(tmp_path, task="multiclass"))
    assert info.value.row == 2
    assert "exactly one label" in str(info.value)


def test_multiclass_row_with_one_label_as_plain_string(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "train.jsonl", [_row("r1", "Envoys met.", "diplomacy")])
    assert _read(path, _config(tmp_path, task="multiclass")).labels == [["diplomacy"]]


@pytest.mark.parametrize(
    ("labels", "problem"),
    [
        ('["diplomacy", ', "is not valid JSON"),
        ("diplomacy||humanitarian", "is not a non-empty string"),
        (["diplomacy", "diplomacy"], "label repeated"),
        ([3], "label 3 is not a non-empty string"),
    ],
)
def test_malformed_labels_name_row(tmp_path: Path, labels: Any, problem: str) -> None:
    path = _jsonl(tmp_path / "train.jsonl", [GOOD[0], _row("r2", "Envoys met.", labels)])
    with pytest.raises(DataError) as info:
        _read(path, _config(tmp_path))
    assert info.value.row == 2
    assert problem in str(info.value)


def test_file_with_no_valid_rows_is_an_error(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "train.jsonl", [_row("r1", "", [])])
    with pytest.raises(DataError, match="no valid rows"):
        _read(path, _config(tmp_path, bad_rows="skip"))


# ---------------------------------------------------------------- bad_rows: skip


def test_skip_collects_rejects_with_rows_and_writes_them(tmp_path: Path) -> None:
    rows = [
        GOOD[0],
        _row("r2", "", ["humanitarian"]),
        GOOD[2],
        _row("r1", "Reused id for another paragraph.", []),
        _row("r5", "Envoys met.", ["unknown_label"]),
        GOOD[3],
    ]
    path = _jsonl(tmp_path / "train.jsonl", rows)
    known = ["diplomacy", "humanitarian", "media_bias_claim"]
    result = _read(path, _config(tmp_path, bad_rows="skip"), known=known)
    assert result.ids == ["r1", "r3", "r4"]
    assert [(r.source, r.row) for r in result.rejects] == [(str(path), 2), (str(path), 4), (str(path), 5)]
    assert all(isinstance(r, Reject) for r in result.rejects)
    assert "empty text" in result.rejects[0].reason
    assert "duplicate id 'r1' (first at row 1)" in result.rejects[1].reason
    assert "unknown label(s) ['unknown_label']" in result.rejects[2].reason

    target = write_rejects(result.rejects, tmp_path / "rejects" / "nested")
    assert target == tmp_path / "rejects" / "nested" / "rejects.jsonl"
    written = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert written == [{"source": r.source, "row": r.row, "reason": r.reason} for r in result.rejects]


def test_splits_rejects_gather_every_split(tmp_path: Path) -> None:
    train = _jsonl(tmp_path / "train.jsonl", [GOOD[0], _row("bad", " ", [])])
    validation = _jsonl(tmp_path / "validation.jsonl", [GOOD[1], _row("bad2", "", []), GOOD[3]])
    config = _config(
        tmp_path, train=train, validation=validation, bad_rows="skip", labels=["media_bias_claim", "humanitarian"]
    )
    splits = load_splits(config)
    assert [(Path(r.source).name, r.row) for r in splits.rejects] == [("train.jsonl", 2), ("validation.jsonl", 2)]


# ---------------------------------------------------------------- label order and split consistency


def test_label_order_is_sorted_train_labels_without_config(tmp_path: Path) -> None:
    train = _jsonl(tmp_path / "train.jsonl", GOOD)
    validation = _jsonl(tmp_path / "validation.jsonl", [_row("v1", "Envoys met.", ["diplomacy"], "a9")])
    splits = load_splits(_config(tmp_path, train=train, validation=validation))
    assert splits.label_names == ["diplomacy", "humanitarian", "media_bias_claim"]
    assert splits.test is None
    assert [s.name for s in splits.all()] == ["train", "validation"]


def test_label_order_follows_config(tmp_path: Path) -> None:
    train = _jsonl(tmp_path / "train.jsonl", GOOD)
    validation = _jsonl(tmp_path / "validation.jsonl", [_row("v1", "Envoys met.", ["diplomacy"], "a9")])
    test = _jsonl(tmp_path / "test.jsonl", [_row("t1", "Aid arrived.", ["humanitarian"], "a8")])
    order = ["media_bias_claim", "humanitarian", "diplomacy"]
    splits = load_splits(_config(tmp_path, train=train, validation=validation, test=test, labels=order))
    assert splits.label_names == order
    assert splits.test is not None and splits.test.labels == [["humanitarian"]]
    assert splits.validation.label_matrix(splits.label_names).tolist() == [[0, 0, 1]]


def test_train_label_outside_configured_labels_is_an_error(tmp_path: Path) -> None:
    train = _jsonl(tmp_path / "train.jsonl", GOOD)
    validation = _jsonl(tmp_path / "validation.jsonl", [_row("v1", "Envoys met.", ["diplomacy"], "a9")])
    with pytest.raises(DataError) as info:
        load_splits(_config(tmp_path, train=train, validation=validation, labels=["diplomacy", "humanitarian"]))
    assert info.value.path == str(train)
    assert info.value.row == 1


def test_validation_label_outside_train_labels_is_an_error(tmp_path: Path) -> None:
    train = _jsonl(tmp_path / "train.jsonl", GOOD)
    validation = _jsonl(
        tmp_path / "validation.jsonl",
        [
            _row("v1", "Envoys met.", ["diplomacy"], "a9"),
            _row("v2", "Troops massed at the border.", ["security_threat"], "a9"),
        ],
    )
    with pytest.raises(DataError) as info:
        load_splits(_config(tmp_path, train=train, validation=validation))
    assert info.value.path == str(validation)
    assert info.value.row == 2
    assert "unknown label(s) ['security_threat']" in str(info.value)
