"""Grouped splits, the cross-split duplicate check and ``split_file``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from framing.data.dataset import LabelledSet
from framing.data.split_files import split_file
from framing.data.splits import (
    DuplicatePair,
    assign_group_splits,
    check_no_cross_split_duplicates,
    find_cross_split_duplicates,
    normalise_text,
)
from framing.errors import DataError

LONG = (
    "The regional parliament voted on Thursday to extend the emergency powers of the governor for another six "
    "months, despite protests by opposition deputies who said the measure was unconstitutional and would silence "
    "independent newspapers in the province."
)
HARVEST = "Farmers in the northern valley reported the best apple harvest in a decade after a warm and dry summer."
ARREST = "Police said the suspect was arrested at the airport late on Sunday night."
BANK = "The national bank kept interest rates unchanged, citing slowing inflation and weak exports."
CHOIR = "A children's choir from the coastal town won first prize at the spring music festival."


def _split(name: str, rows: list[tuple[str, str]], groups: list[str] | None = None) -> LabelledSet:
    ids = [row_id for row_id, _ in rows]
    return LabelledSet(
        name=name,
        path=Path(f"{name}.jsonl"),
        ids=ids,
        texts=[text for _, text in rows],
        groups=groups if groups is not None else [f"g-{row_id}" for row_id in ids],
        labels=[[] for _ in rows],
    )


# ---------------------------------------------------------------- normalise_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  The Minister SAID:   “No comment.”  ", "the minister said no comment"),
        ("Café owners in Zürich — déjà vu!", "cafe owners in zurich deja vu"),
        ("snake_case\tand\nnew-lines", "snake case and new lines"),
        ("...!!!", ""),
    ],
)
def test_normalise_text(text: str, expected: str) -> None:
    assert normalise_text(text) == expected


# ---------------------------------------------------------------- assign_group_splits


def _groups(n_groups: int = 100, rows_per_group: int = 3) -> list[str]:
    return [f"article-{g:03d}" for g in range(n_groups) for _ in range(rows_per_group)]


def test_group_splits_keep_groups_together() -> None:
    groups = _groups()
    assignment = assign_group_splits(groups, (0.8, 0.1, 0.1), seed=3)
    assert len(assignment) == len(groups)
    split_of: dict[str, set[str]] = {}
    for group, name in zip(groups, assignment, strict=True):
        split_of.setdefault(group, set()).add(name)
    assert all(len(names) == 1 for names in split_of.values())
    assert set(assignment) == {"train", "validation", "test"}


def test_group_splits_respect_fractions_of_groups() -> None:
    groups = _groups(n_groups=100, rows_per_group=2)
    assignment = assign_group_splits(groups, (0.7, 0.2, 0.1), seed=11)
    per_group = dict(zip(groups, assignment, strict=True))
    assert Counter(per_group.values()) == {"train": 70, "validation": 20, "test": 10}


def test_group_splits_are_deterministic_for_a_seed() -> None:
    groups = _groups()
    first = assign_group_splits(groups, (0.8, 0.1, 0.1), seed=42)
    assert assign_group_splits(groups, (0.8, 0.1, 0.1), seed=42) == first
    assert assign_group_splits(list(reversed(groups)), (0.8, 0.1, 0.1), seed=42) == list(reversed(first))
    assert assign_group_splits(groups, (0.8, 0.1, 0.1), seed=43) != first


def test_group_split_fractions_must_sum_to_one() -> None:
    with pytest.raises(ValueError, match="must sum to 1"):
        assign_group_splits(["a", "b"], (0.8, 0.1, 0.2), seed=0)


# ---------------------------------------------------------------- duplicates


def test_finds_exact_and_near_duplicates_but_not_unrelated_paragraphs() -> None:
    train = _split("train", [("t1", LONG), ("t2", HARVEST), ("t3", ARREST)])
    exact_copy = (
        "FARMERS in the Northern Valley reported the best apple-harvest in a decade -- after a warm and dry summer!!"
    )
    near_copy = LONG.replace("Thursday", "Wednesday")
    validation = _split("validation", [("v1", near_copy), ("v2", exact_copy), ("v3", BANK)])
    test = _split("test", [("x1", CHOIR)])

    pairs = find_cross_split_duplicates([train, validation, test], threshold=0.9)

    by_ids = {(p.left_id, p.right_id): p for p in pairs}
    assert set(by_ids) == {("t2", "v2"), ("t1", "v1")}
    exact = by_ids[("t2", "v2")]
    assert (exact.left_split, exact.right_split, exact.similarity) == ("train", "validation", 1.0)
    assert exact.describe() == "exact: train id t2 ~ validation id v2"
    near = by_ids[("t1", "v1")]
    assert 0.9 <= near.similarity < 0.9999
    assert near.describe().startswith("near (0.9")


def test_same_text_inside_one_split_is_not_a_cross_split_duplicate() -> None:
    train = _split("train", [("t1", HARVEST), ("t2", HARVEST.upper())])
    validation = _split("validation", [("v1", BANK)])
    assert find_cross_split_duplicates([train, validation]) == []


def test_duplicate_pair_describe_near() -> None:
    assert DuplicatePair("train", "a", "test", "b", 0.934).describe() == "near (0.93): train id a ~ test id b"


def test_check_raises_on_duplicates_naming_both_rows() -> None:
    train = _split("train", [("t1", HARVEST), ("t2", ARREST)])
    validation = _split("validation", [("v1", BANK), ("v2", HARVEST.lower() + " ")])
    with pytest.raises(DataError) as info:
        check_no_cross_split_duplicates([train, validation])
    message = str(info.value)
    assert info.value.path == "validation.jsonl"
    assert "1 duplicate paragraph(s) across splits (threshold 0.9)" in message
    assert "exact: train id t2" not in message
    assert "exact: train id t1 ~ validation id v2" in message


def test_check_passes_for_clean_splits() -> None:
    train = _split("train", [("t1", HARVEST), ("t2", ARREST)])
    validation = _split("validation", [("v1", BANK)])
    test = _split("test", [("x1", CHOIR)])
    assert check_no_cross_split_duplicates([train, validation, test]) is None


def test_check_raises_when_an_article_sits_in_two_splits() -> None:
    train = _split("train", [("t1", HARVEST), ("t2", ARREST)], groups=["a1", "a2"])
    validation = _split("validation", [("v1", BANK)], groups=["a2"])
    with pytest.raises(DataError) as info:
        check_no_cross_split_duplicates([train, validation])
    assert str(info.value) == "validation.jsonl: article 'a2' is in both train and validation"


# ---------------------------------------------------------------- split_file


def test_split_file_writes_three_jsonl_files_with_whole_groups(tmp_path: Path) -> None:
    source = tmp_path / "all.jsonl"
    rows = [
        {"id": f"p{g}-{i}", "article_id": f"art{g:02d}", "text": f"Paragraph {i} of article {g}.", "labels": ["x"]}
        for g in range(20)
        for i in range(3)
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    out = tmp_path / "splits"
    counts = split_file(source, out, "article_id", (0.6, 0.2, 0.2), seed=5)

    assert sorted(p.name for p in out.iterdir()) == ["test.jsonl", "train.jsonl", "validation.jsonl"]
    assert counts == {"train": 36, "validation": 12, "test": 12}  # 12/4/4 articles of three rows
    written: dict[str, list[dict[str, object]]] = {}
    for name in ("train", "validation", "test"):
        lines = (out / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        written[name] = [json.loads(line) for line in lines]
        assert len(written[name]) == counts[name]
    group_sets = {name: {r["article_id"] for r in records} for name, records in written.items()}
    assert not group_sets["train"] & group_sets["validation"]
    assert not group_sets["train"] & group_sets["test"]
    assert not group_sets["validation"] & group_sets["test"]
    for records in written.values():
        per_group = Counter(r["article_id"] for r in records)
        assert set(per_group.values()) == {3}
    assert sorted((r for rs in written.values() for r in rs), key=lambda r: r["id"]) == sorted(
        rows, key=lambda r: r["id"]
    )

    again = tmp_path / "again"
    split_file(source, again, "article_id", (0.6, 0.2, 0.2), seed=5)
    for name in ("train", "validation", "test"):
        assert (again / f"{name}.jsonl").read_text(encoding="utf-8") == (out / f"{name}.jsonl").read_text(
            encoding="utf-8"
        )


def test_split_file_missing_group_column_names_row(tmp_path: Path) -> None:
    source = tmp_path / "all.csv"
    source.write_text("id,text\np1,Ports reopened.\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        split_file(source, tmp_path / "out", "article_id", (0.8, 0.1, 0.1), seed=0)
    assert str(info.value) == f"{source}, row 1: missing group column 'article_id'"
    assert not (tmp_path / "out").exists()


def test_split_file_needs_three_fractions(tmp_path: Path) -> None:
    source = tmp_path / "all.csv"
    source.write_text("id,article_id,text\np1,a1,Ports reopened.\n", encoding="utf-8")
    with pytest.raises(DataError, match="need three split fractions"):
        split_file(source, tmp_path / "out", "article_id", (0.9, 0.1), seed=0)
