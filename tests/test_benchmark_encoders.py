"""Encoder-writing benchmarks: a folder appears complete or not at all, and another run's folder is never touched."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest


class _Saves:
    """Stands in for a model or tokenizer: ``save_pretrained`` writes one named file."""

    def __init__(self, name: str) -> None:
        self.name = name

    def save_pretrained(self, folder: Path, **_: object) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / self.name).write_text("weights", encoding="utf-8")


@pytest.fixture()
def common(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
    from benchmarks import _common

    return _common


def test_write_encoder_puts_the_whole_folder_in_place(common: ModuleType, tmp_path: Path) -> None:
    output = tmp_path / "encoder"
    common.write_encoder(_Saves("model.safetensors"), _Saves("tokenizer.json"), output)

    assert sorted(p.name for p in output.iterdir()) == ["model.safetensors", "tokenizer.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["encoder"]  # no partial folder left beside it


def test_write_encoder_keeps_a_folder_written_meanwhile_and_names_its_own(common: ModuleType, tmp_path: Path) -> None:
    output = tmp_path / "encoder"
    output.mkdir()
    (output / "notes.txt").write_text("a user's file", encoding="utf-8")

    with pytest.raises(SystemExit, match="written meanwhile by another run") as stopped:
        common.write_encoder(_Saves("model.safetensors"), _Saves("tokenizer.json"), output)

    assert [p.name for p in output.iterdir()] == ["notes.txt"]
    assert (output / "notes.txt").read_text(encoding="utf-8") == "a user's file"
    partial = next(p for p in tmp_path.iterdir() if p.name.startswith(".encoder.partial-"))
    assert str(partial) in str(stopped.value)
    assert sorted(p.name for p in partial.iterdir()) == ["model.safetensors", "tokenizer.json"]


def test_write_encoder_keeps_an_empty_folder_made_meanwhile(common: ModuleType, tmp_path: Path) -> None:
    output = tmp_path / "encoder"
    output.mkdir()

    with pytest.raises(SystemExit, match="written meanwhile by another run"):
        common.write_encoder(_Saves("model.safetensors"), _Saves("tokenizer.json"), output)

    assert list(output.iterdir()) == []


def test_contrastive_classes_are_whole_label_sets_with_none_for_no_label(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from contrastive_stage import label_sets

    rows = [[], ["diplomacy"], ["security_threat", "diplomacy"], ["diplomacy", "security_threat"]]
    assert label_sets(rows) == ["none", "diplomacy", "diplomacy|security_threat", "diplomacy|security_threat"]


def _readme(common: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    readme = tmp_path / "README.md"
    readme.write_text("# Benchmarks\n\n<!-- other -->\nkept\n<!-- /other -->\n", encoding="utf-8")
    monkeypatch.setattr(common, "README", readme)
    monkeypatch.setattr(common, "RESULTS", tmp_path / "results")
    return readme


def test_save_waits_for_another_benchmark_writing_the_readme(
    common: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import threading

    from filelock import FileLock

    readme = _readme(common, monkeypatch, tmp_path)
    before = readme.read_text(encoding="utf-8")
    with FileLock(f"{readme}.lock"):  # another benchmark is between reading and writing the README
        saving = threading.Thread(target=common.save, args=("mine", {"n": 1}, "## Mine\n", True))
        saving.start()
        saving.join(timeout=1.0)
        assert saving.is_alive()
        assert readme.read_text(encoding="utf-8") == before
    saving.join(timeout=10.0)

    text = readme.read_text(encoding="utf-8")
    assert "<!-- mine -->\n## Mine\n<!-- /mine -->" in text
    assert "<!-- other -->\nkept\n<!-- /other -->" in text


def test_save_killed_while_replacing_the_readme_leaves_it_whole(
    common: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import os

    readme = _readme(common, monkeypatch, tmp_path)
    before = readme.read_text(encoding="utf-8")
    real_replace = os.replace

    def interrupted(source: str | Path, target: str | Path) -> None:
        if Path(target) == readme:
            raise KeyboardInterrupt
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        common.save("mine", {"n": 1}, "## Mine\n", True)

    assert readme.read_text(encoding="utf-8") == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []
    assert (tmp_path / "results" / "mine.json").read_text(encoding="utf-8") == '{\n  "n": 1\n}\n'
