"""The cascade-band benchmark's invented paragraphs: new combinations of the file's own sentences, never repeated."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture()
def band(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
    from benchmarks import cascade_band

    return cascade_band


def _write(path: Path, paragraphs: list[str]) -> Path:
    path.write_text("".join(json.dumps({"text": p}) + "\n" for p in paragraphs), encoding="utf-8")
    return path


def test_recombined_paragraphs_are_distinct_and_made_of_the_files_sentences(band: ModuleType, tmp_path: Path) -> None:
    source = _write(
        tmp_path / "train.jsonl",
        [
            "The port reopened. Ships queued for days.",
            "Talks resumed in Vienna! Both sides spoke.",
            "Aid arrived late.",
        ],
    )
    sentences = {"The port reopened.", "Ships queued for days.", "Talks resumed in Vienna!", "Both sides spoke."}
    sentences.add("Aid arrived late.")

    made = band._recombined(source, 12, seed=1)

    assert len(made) == len(set(made)) == 12
    for paragraph in made:
        parts = band.SENTENCE_END.split(paragraph)
        assert set(parts) <= sentences and len(parts) == len(set(parts)) <= 2


def test_recombined_stops_naming_the_file_when_it_cannot_make_enough(band: ModuleType, tmp_path: Path) -> None:
    source = _write(tmp_path / "train.jsonl", ["Only one sentence here."])

    with pytest.raises(SystemExit, match=r"train\.jsonl: too few sentences for 5 distinct paragraphs \(1 made\)"):
        band._recombined(source, 5, seed=0)
