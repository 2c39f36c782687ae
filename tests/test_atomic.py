"""Files written whole or not at all: a failed write keeps the old file and leaves no temporary one."""

from __future__ import annotations

from pathlib import Path

import pytest

from framing.atomic import atomic_write_text, replaced_whole
from framing.formats import Reject, read_rejects, write_rejects


def test_a_write_replaces_the_file_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    target.write_text("old", encoding="utf-8")

    atomic_write_text(target, "new")

    assert target.read_text(encoding="utf-8") == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path: Path) -> None:
    target = tmp_path / "rejects.jsonl"
    target.write_text("old", encoding="utf-8")

    with pytest.raises(KeyboardInterrupt), replaced_whole(target) as tmp:
        tmp.write_text("half of the new", encoding="utf-8")
        raise KeyboardInterrupt  # a kill between writing and the rename

    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["rejects.jsonl"]


def test_a_failed_reject_file_keeps_the_old_rejects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "rejects.jsonl"
    old = [Reject("a.jsonl", 3, "bad JSON line: expecting value")]
    write_rejects(target, old)

    def killed(*_: object) -> None:
        raise OSError("disk full")  # the new file is written; its rename fails

    monkeypatch.setattr("framing.atomic.os.replace", killed)
    with pytest.raises(OSError, match="disk full"):
        write_rejects(target, [Reject("b.jsonl", 1, "empty file")])

    assert list(read_rejects(target)) == old
    assert [p.name for p in tmp_path.iterdir()] == ["rejects.jsonl"]
