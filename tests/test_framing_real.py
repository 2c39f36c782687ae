"""The real-text annotation adapter: rows rebuilt by id, refused when the text differs or is missing.

The datasets folder here is a tiny stand-in written for the test, in the real
layouts (PTC article files, BABE's ';' CSV, Ukraine JSON, MBIC's workbook).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from framing.data.adapters.framing_real import load_framing_real
from framing.data.real_sources import all_units, resolve_units, text_hash
from framing.errors import DataError

MBIC_ARTICLE = "Anchors cheered the plan.\n\n  Critics said the coverage left out the cost.  \nA second sentence of it."
ARTICLE = "Harbour talks resume\n\nThe ministry said foreign networks twisted the story.\nTalks resumed on Monday.\n"


@pytest.fixture()
def datasets(tmp_path: Path) -> Path:
    root = tmp_path / "datasets"
    ptc = root / "ptc-semeval2020"
    for folder in ("train-articles", "dev-articles"):
        (ptc / folder).mkdir(parents=True)
    (ptc / "train-articles" / "article111.txt").write_text(ARTICLE, encoding="utf-8")
    (root / "babe").mkdir()
    (root / "babe" / "final_labels_SG2.csv").write_text(
        "\ufefftext;news_link;outlet\nThe paper buried the report.;http://x/1;X\n", encoding="utf-8"
    )
    (root / "ukraine-news-bias" / "json").mkdir(parents=True)
    article = {"id": "article_0", "sentences": [{"id": "sent_0", "content": "Envoys met in Geneva."}]}
    (root / "ukraine-news-bias" / "json" / "article_0.json").write_text(json.dumps(article), encoding="utf-8")
    (root / "mbic").mkdir()
    pd.DataFrame(
        {
            "text": ["Anchors cheered the plan.", "A second sentence of it.", "No article here."],
            "news_link": ["http://x/1", "http://x/1", "http://x/2"],
            "article": [MBIC_ARTICLE, MBIC_ARTICLE, None],
        }
    ).to_excel(root / "mbic" / "final_labels_MBIC.xlsx", index=False)
    return root


def _write_split(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_units_have_stable_ids_offsets_and_hashes(datasets: Path) -> None:
    units = list(all_units(datasets))
    assert [u.unit_id for u in units] == [
        "ptc:111:0-20",
        "ptc:111:22-75",
        "ptc:111:76-100",
        "babe:1",
        "ukraine:article_0:sent_0",
        "mbic:1:0",
        "mbic:1:1",
        "mbic:1:2",
    ]
    # an MBIC article repeats on every row of its sentences and is read once; its paragraphs share the
    # article key of the BABE sentences of the same link, so splits and bootstraps keep them together
    assert units[6].text == "Critics said the coverage left out the cost."
    assert {u.article_id for u in units if u.source in ("babe", "mbic")} == {"babe:http://x/1"}
    assert ARTICLE[22:75] == "The ministry said foreign networks twisted the story."
    again = resolve_units([u.unit_id for u in units], datasets)
    assert {k: v.text for k, v in again.items()} == {u.unit_id: u.text for u in units}


def test_split_file_rebuilds_text_and_keeps_labels(datasets: Path, tmp_path: Path) -> None:
    units = {u.unit_id: u for u in all_units(datasets)}
    rows = [
        {"id": "ptc:111:22-75", "text_sha256_16": units["ptc:111:22-75"].text_hash, "labels": ["media_bias_claim"]},
        {"id": "babe:1", "text_sha256_16": text_hash("The paper buried the report."), "labels": ["media_bias_claim"]},
        {
            "id": "ukraine:article_0:sent_0",
            "text_sha256_16": units["ukraine:article_0:sent_0"].text_hash,
            "labels": ["diplomacy"],
        },
    ]
    frame, counts = load_framing_real(_write_split(tmp_path / "split.jsonl", rows), datasets=str(datasets))
    assert frame["text"].tolist() == [
        "The ministry said foreign networks twisted the story.",
        "The paper buried the report.",
        "Envoys met in Geneva.",
    ]
    assert frame["article_id"].tolist() == ["ptc:111", "babe:http://x/1", "ukraine:article_0"]
    assert frame["labels"].tolist() == [["media_bias_claim"], ["media_bias_claim"], ["diplomacy"]]
    assert counts.rows_kept == 3


def test_changed_text_is_refused_with_the_row(datasets: Path, tmp_path: Path) -> None:
    path = _write_split(tmp_path / "split.jsonl", [{"id": "babe:1", "text_sha256_16": "0" * 16, "labels": []}])
    with pytest.raises(DataError, match=r"split.jsonl, row 1: text of 'babe:1' does not match its hash"):
        load_framing_real(path, datasets=str(datasets))


def test_missing_unit_and_missing_datasets_are_clear(datasets: Path, tmp_path: Path) -> None:
    path = _write_split(tmp_path / "split.jsonl", [{"id": "ptc:999:0-5", "labels": []}])
    with pytest.raises(DataError, match=r"row 1: unit 'ptc:999:0-5' not found .*FRAMING_DATASETS"):
        load_framing_real(path, datasets=str(datasets))
    with pytest.raises(DataError, match="public datasets folder not found; set FRAMING_DATASETS"):
        load_framing_real(path, datasets=str(tmp_path / "nowhere"))


def test_invented_rows_come_from_the_shipped_files(tmp_path: Path) -> None:
    shipped = tmp_path / "repo" / "data" / "framing"
    shipped.mkdir(parents=True)
    for name in ("train", "validation", "test"):
        record = {"id": f"{name}-1", "article_id": f"a-{name}", "text": f"Invented {name} paragraph.", "labels": []}
        (shipped / f"{name}.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    path = _write_split(
        tmp_path / "repo" / "data" / "framing_real" / "train.jsonl",
        [{"id": "invented:validation-1", "labels": ["diplomacy"]}],
    )
    frame, _ = load_framing_real(path)
    assert frame["text"].tolist() == ["Invented validation paragraph."]
    assert frame["labels"].tolist() == [["diplomacy"]]
    assert frame["article_id"].tolist() == ["invented:a-validation"]


def test_contrast_rows_come_from_the_contrast_file_and_a_missing_one_is_named(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "data" / "framing").mkdir(parents=True)
    for name in ("train", "validation", "test"):
        (repo / "data" / "framing" / f"{name}.jsonl").write_text("", encoding="utf-8")
    path = _write_split(
        repo / "data" / "framing_real" / "train.jsonl", [{"id": "invented:c-001", "labels": ["media_bias_claim"]}]
    )
    with pytest.raises(DataError, match=r"row 1: invented paragraph 'invented:c-001' not found in .*contrast.jsonl"):
        load_framing_real(path)
    (repo / "data" / "contrast").mkdir()
    record = {"id": "c-001", "article_id": "c-p01", "text": "The coach said the tabloids ran a smear.", "labels": []}
    (repo / "data" / "contrast" / "contrast.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    frame, _ = load_framing_real(path)
    assert frame["text"].tolist() == ["The coach said the tabloids ran a smear."]
    assert frame["article_id"].tolist() == ["invented:c-p01"]
    assert frame["labels"].tolist() == [["media_bias_claim"]]  # the split file's labels, as for every row


def test_a_malformed_line_is_refused_with_its_row(datasets: Path, tmp_path: Path) -> None:
    path = tmp_path / "split.jsonl"
    path.write_text('{"id": "babe:1", "labels": []}\n{"id": "babe:1", "labels": [\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"split.jsonl, row 2: .*JSON"):
        load_framing_real(path, datasets=str(datasets))
    path.write_text('{"id": 7, "labels": []}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"row 1: expected an object with a string 'id' and 'labels'"):
        load_framing_real(path, datasets=str(datasets))


def test_mbic_rows_rebuild_and_a_missing_workbook_is_named(datasets: Path, tmp_path: Path) -> None:
    text = "Critics said the coverage left out the cost."
    path = _write_split(tmp_path / "split.jsonl", [{"id": "mbic:1:1", "text_sha256_16": text_hash(text), "labels": []}])
    frame, _ = load_framing_real(path, datasets=str(datasets))
    assert frame["text"].tolist() == [text]
    assert frame["article_id"].tolist() == ["babe:http://x/1"]
    (datasets / "mbic" / "final_labels_MBIC.xlsx").unlink()
    with pytest.raises(DataError, match=r"final_labels_MBIC.xlsx: MBIC final_labels_MBIC.xlsx not found"):
        load_framing_real(path, datasets=str(datasets))


def test_adaptive_pretraining_text_leaves_out_validation_and_test_articles_and_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from framing.data.dataset import LabelledSet, Splits
    from framing.data.real_sources import TextUnit

    def split(name: str, groups: list[str], texts: list[str]) -> LabelledSet:
        ids = [f"{name}{i}" for i in range(len(texts))]
        return LabelledSet(name, Path(name), ids, texts, groups, [[]] * len(texts))

    splits = Splits(
        train=split("train", ["a"], ["A training row of the first article."]),
        validation=split("validation", ["v"], ["A validation row somewhere in the corpus."]),
        test=split("test", ["t"], ["A test row that a copy repeats."]),
        label_names=[],
    )
    units = [
        TextUnit("u1", "ptc", "a", "Another paragraph of a training article."),
        TextUnit("u2", "ptc", "v", "A paragraph of a validation article, never annotated."),
        TextUnit("u3", "ptc", "t", "A paragraph of a test article."),
        TextUnit("u4", "mbic", "x", "A test row that a copy repeats."),
        TextUnit("u5", "ptc", "y", "Too short here."),
        TextUnit("u6", "ptc", "z", "Another paragraph of a training article."),
    ]
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from adaptive_pretraining import _texts

    assert _texts(splits, units) == ["Another paragraph of a training article."]
