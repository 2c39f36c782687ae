"""Dataset adapters (BABE, MBIC, Ukraine news bias, SemEval-2023 Task 3) and de-duplication.

Every fixture under tests/fixtures/adapters/ is invented text in the real formats.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from framing.config import DataConfig
from framing.data.adapters import ADAPTERS, CORE_COLUMNS, load_adapter
from framing.data.adapters.media_bias_group import load_babe, load_mbic
from framing.data.adapters.semeval import load_semeval_subtask2, load_semeval_subtask3
from framing.data.adapters.ukraine import load_ukraine
from framing.data.dataset import read_labelled
from framing.data.dedup import deduplicate, normalise_text
from framing.errors import ConfigError, DataError

FIXTURES = Path(__file__).parent / "fixtures" / "adapters"
SEMEVAL = FIXTURES / "semeval"


def _core(frame: pd.DataFrame) -> None:
    assert list(frame.columns[: len(CORE_COLUMNS)]) == list(CORE_COLUMNS)
    assert all(isinstance(labels, list) for labels in frame["labels"])
    assert frame["id"].is_unique


# ---------------------------------------------------------------- BABE / MBIC


def test_babe_drops_no_agreement_with_a_count_and_keeps_metadata() -> None:
    frame, counts = load_babe(FIXTURES / "babe.csv")
    _core(frame)
    assert counts.rows_read == 5
    assert counts.rows_kept == 4 == len(frame)
    assert dict(counts.dropped) == {"no_agreement": 1}
    assert "no_agreement=1" in counts.summary()
    assert frame["labels"].tolist() == [["Non-biased"], ["Biased"], ["Biased"], ["Non-biased"]]
    assert frame["outlet"].tolist() == ["Daily Example", "Daily Example", "Evening Invented", "Morning Sample"]
    assert frame["topic"].tolist() == ["education", "education", "politics", "environment"]
    # the quoted field with a ';' inside is one sentence, quotes unescaped
    assert frame["text"][2] == '"Enough is enough; we will keep fighting," the senator shouted at the rally.'
    assert "Officials said the bridge" not in " ".join(frame["text"])


def test_babe_groups_sentences_of_one_article_by_link() -> None:
    frame, _ = load_babe(FIXTURES / "babe.csv")
    assert frame["article_id"][0] == frame["article_id"][1] == "https://example.org/news/library"
    assert frame["article_id"].nunique() == 3


def test_babe_opinion_task_drops_its_own_no_agreement_rows() -> None:
    frame, counts = load_babe(FIXTURES / "babe.csv", task="opinion")
    assert dict(counts.dropped) == {"no_agreement": 1}
    assert ["Somewhat factual but also opinionated"] in frame["labels"].tolist()
    assert ["Expresses writer’s opinion"] in frame["labels"].tolist()
    assert "Enough is enough" not in " ".join(frame["text"])
    assert frame["label_bias"].tolist() == ["Non-biased", "Biased", "No agreement", "Non-biased"]


def test_babe_unknown_label_names_file_and_row(tmp_path: Path) -> None:
    text = (FIXTURES / "babe.csv").read_text(encoding="utf-8").replace(";Biased;Expresses", ";Slanted;Expresses")
    path = tmp_path / "babe.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=r"babe\.csv, row 2: label_bias 'Slanted'"):
        load_babe(path)


def test_babe_comma_separated_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "babe.csv"
    path.write_text("text,label_bias\nA sentence.,Biased\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing column"):
        load_babe(path)


def test_babe_xlsx_reads_like_the_csv(tmp_path: Path) -> None:
    """The same sheet saved as XLSX (as BABE and MBIC ship it) gives the same rows and counts."""
    sheet = pd.read_csv(FIXTURES / "babe.csv", sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    path = tmp_path / "final_labels_SG2.xlsx"
    sheet.to_excel(path, index=False)
    from_csv, csv_counts = load_babe(FIXTURES / "babe.csv")
    from_xlsx, xlsx_counts = load_babe(path)
    columns = ["text", "labels", "outlet", "topic", "type", "article_id"]
    assert from_xlsx[columns].to_dict("records") == from_csv[columns].to_dict("records")
    assert xlsx_counts.dropped == csv_counts.dropped and xlsx_counts.rows_read == 5


def test_xlsx_without_openpyxl_asks_for_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "openpyxl" else real(name, *a))
    path = tmp_path / "final_labels_MBIC.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(DataError, match=r"openpyxl.*export the sheet to CSV"):
        load_mbic(path)


def test_mbic_groups_by_group_id() -> None:
    frame, counts = load_mbic(FIXTURES / "mbic.csv")
    _core(frame)
    assert dict(counts.dropped) == {"no_agreement": 1}
    assert frame["article_id"].tolist() == ["7", "8"]
    assert frame["outlet"].tolist() == ["daily-example", "evening-invented"]


# ---------------------------------------------------------------- Ukraine news bias


def test_ukraine_joins_binary_labels_and_groups_by_article() -> None:
    frame, counts = load_ukraine(FIXTURES / "ukraine")
    _core(frame)
    assert counts.rows_read == 5 and counts.rows_kept == 5 and not counts.dropped
    by_id = dict(zip(frame["id"], frame["labels"], strict=True))
    assert by_id == {"sent_0": [], "sent_1": ["bias", "framing"], "sent_2": [], "sent_3": ["bias"], "sent_4": []}
    assert frame.groupby("article_id")["id"].apply(list).to_dict() == {
        "article_0": ["sent_0", "sent_1", "sent_2"],
        "article_1": ["sent_3", "sent_4"],
    }
    assert frame.set_index("id")["framing_west"]["sent_3"] == -2.0
    assert set(frame["label_source"]) == {"csv,csv"}


def test_ukraine_derives_framing_from_json_without_csv(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "ukraine" / "json", tmp_path / "json")
    frame, _ = load_ukraine(tmp_path, tasks=["framing", "subjectivity"])
    by_id = dict(zip(frame["id"], frame["labels"], strict=True))
    assert by_id["sent_1"] == ["framing", "subjectivity"]
    assert by_id["sent_3"] == ["framing"]  # the west framed at -2 by the intensified vote
    assert by_id["sent_0"] == []
    with pytest.raises(DataError, match="no binary CSV for 'bias'"):
        load_ukraine(tmp_path, tasks=["bias"])


def test_ukraine_sentence_missing_from_csv_is_counted(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "ukraine", tmp_path / "ukraine")
    for csv_file in (tmp_path / "ukraine" / "csv").glob("*.csv"):
        lines = csv_file.read_text(encoding="utf-8").splitlines()
        csv_file.write_text("\n".join(line for line in lines if not line.startswith("Markets")) + "\n")
    frame, counts = load_ukraine(tmp_path / "ukraine")
    assert dict(counts.dropped) == {"not_in_binary_csv": 1}
    assert "sent_4" not in set(frame["id"])


# ---------------------------------------------------------------- SemEval-2023 Task 3


def test_semeval_subtask3_joins_template_and_labels() -> None:
    frame, counts = load_semeval_subtask3(SEMEVAL / "train-labels-subtask-3.template")
    _core(frame)
    assert counts.rows_read == 5 == counts.rows_kept
    assert frame["id"].tolist() == ["111-1", "111-3", "111-5", "222-1", "222-2"]
    assert frame["article_id"].tolist() == ["111", "111", "111", "222", "222"]
    assert frame["labels"].tolist() == [
        [],
        ["Exaggeration-Minimisation", "Loaded_Language"],
        ["Name_Calling-Labeling"],
        [],
        [],
    ]
    assert frame["text"][2] == "Opponents said only fools would believe such a promise."


def test_semeval_paragraph_without_label_line_names_file_and_line() -> None:
    template = SEMEVAL / "missing" / "dev-labels-subtask-3.template"
    with pytest.raises(DataError) as caught:
        load_semeval_subtask3(template)
    assert caught.value.path == str(template)
    assert caught.value.row == 3
    assert "article 111 paragraph 5 has no line in" in str(caught.value)
    assert "dev-labels-subtask-3.txt" in str(caught.value)


def test_semeval_malformed_label_line_names_file_and_line(tmp_path: Path) -> None:
    template = tmp_path / "x-labels-subtask-3.template"
    shutil.copy(SEMEVAL / "train-labels-subtask-3.template", template)
    labels = (SEMEVAL / "train-labels-subtask-3.txt").read_text().splitlines()
    labels[3] = "222 1 Loaded_Language"  # spaces, not tabs
    (tmp_path / "x-labels-subtask-3.txt").write_text("\n".join(labels) + "\n")
    with pytest.raises(DataError, match=r"x-labels-subtask-3\.txt, row 4: expected 'article_id<TAB>"):
        load_semeval_subtask3(template)


def test_semeval_label_line_without_paragraph_is_an_error(tmp_path: Path) -> None:
    template = tmp_path / "y-labels-subtask-3.template"
    template.write_text("111\t1\tOnly one paragraph here.\n")
    (tmp_path / "y-labels-subtask-3.txt").write_text("111\t1\t\n111\t2\tDoubt\n")
    with pytest.raises(DataError, match=r"y-labels-subtask-3\.txt, row 2: article 111 paragraph 2 is not in"):
        load_semeval_subtask3(template)


def test_semeval_subtask2_reads_articles_and_frames() -> None:
    frame, counts = load_semeval_subtask2(SEMEVAL / "train-articles-subtask-2")
    _core(frame)
    assert counts.rows_kept == 2
    assert frame["id"].tolist() == ["1001", "1002"]
    assert frame["labels"].tolist() == [
        ["Economic", "Quality_of_life"],
        ["Political", "Economic", "Fairness_and_equality"],
    ]
    assert frame["title"][0] == "Invented port reopens after storm"
    assert "harbour authority" in frame["text"][0]


def test_semeval_subtask2_article_without_labels_names_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "dev-articles-subtask-2"
    shutil.copytree(SEMEVAL / "train-articles-subtask-2", folder)
    (tmp_path / "dev-labels-subtask-2.txt").write_text("1001\tEconomic\n")
    with pytest.raises(DataError, match=r"article1002\.txt: article 1002 has no line in"):
        load_semeval_subtask2(folder)


# ---------------------------------------------------------------- de-duplication


def test_normalise_text_ignores_case_punctuation_and_spacing() -> None:
    assert normalise_text("  The Town-council   opened; “a” library!  ") == "the town council opened a library"


def test_dedup_reports_removals_within_and_across_sources() -> None:
    babe, _ = load_babe(FIXTURES / "babe.csv")
    mbic, _ = load_mbic(FIXTURES / "mbic.csv")
    extra = pd.DataFrame({"text": ["Markets rose.", "MARKETS   rose", "Something new."]})
    frames, report = deduplicate({"babe": babe, "mbic": mbic, "extra": extra})
    assert len(frames["babe"]) == 4
    assert len(frames["mbic"]) == 1  # its library sentence is BABE's, lowercased and without the full stop
    assert "library" not in frames["mbic"]["text"][0]
    assert report.across["mbic"] == {"babe": 1}
    assert report.within["extra"] == 1 and report.removed("extra") == 1
    assert report.total_removed == 2
    assert report.kept == {"babe": 4, "mbic": 1, "extra": 2}
    assert report.summary()[1] == "mbic: kept 1, removed 1 (within 0; already in: babe=1)"


def test_dedup_across_splits_keeps_the_first_split_whole() -> None:
    test = pd.DataFrame({"text": ["A shared sentence.", "Only in test."]})
    train = pd.DataFrame({"text": ["a shared sentence", "Only in train."]})
    frames, report = deduplicate({"test": test, "train": train})
    assert frames["test"]["text"].tolist() == ["A shared sentence.", "Only in test."]
    assert frames["train"]["text"].tolist() == ["Only in train."]
    assert report.removed("train") == 1 and report.removed("test") == 0


# ---------------------------------------------------------------- registry and config hook


def test_registry_lists_every_adapter_of_the_config() -> None:
    literal = DataConfig.model_fields["adapter"].annotation
    assert set(ADAPTERS) | {"generic"} == set(literal.__args__)  # type: ignore[union-attr]
    frame, _ = load_adapter("mbic", FIXTURES / "mbic.csv")
    assert len(frame) == 2
    with pytest.raises(ConfigError, match="unknown adapter"):
        load_adapter("nope", FIXTURES / "mbic.csv")
    with pytest.raises(ConfigError, match="adapter_options for babe"):
        load_adapter("babe", FIXTURES / "babe.csv", colour="red")


def test_config_adapter_reads_babe_as_a_labelled_split() -> None:
    config = DataConfig(
        train=FIXTURES / "babe.csv", validation=FIXTURES / "babe.csv", adapter="babe", task="multiclass"
    )
    split = read_labelled(config.train, "train", config, None)
    assert len(split) == 4
    assert split.labels[1] == ["Biased"]
    assert split.groups[0] == split.groups[1]
    assert split.source_counts is not None and dict(split.source_counts.dropped) == {"no_agreement": 1}


def test_config_adapter_options_reach_the_adapter() -> None:
    config = DataConfig(
        train=FIXTURES / "ukraine",
        validation=FIXTURES / "ukraine",
        adapter="ukraine",
        adapter_options={"tasks": ["bias"]},
    )
    split = read_labelled(config.train, "train", config, None)
    assert split.labels == [[], ["bias"], [], ["bias"], []]
    assert split.groups == ["article_0", "article_0", "article_0", "article_1", "article_1"]


def test_generic_adapter_is_the_default() -> None:
    assert DataConfig(train=Path("a.csv"), validation=Path("b.csv")).adapter == "generic"


def test_split_command_reads_a_public_format_and_keeps_copies_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``framing split --adapter babe`` writes the project's JSON Lines; the ``data=babe`` preset then reads them."""
    from framing.cli import main as cli_main
    from framing.config import PROJECT_ROOT, load_config
    from framing.training import prepare_data

    source = tmp_path / "babe.csv"
    lines = (FIXTURES / "babe.csv").read_text(encoding="utf-8-sig").splitlines()
    # a second article re-printing the first sentence: --group-copies must keep both on one side
    copy = lines[1].replace("https://example.org/news/library", "https://example.org/news/reprint")
    source.write_text("\n".join([*lines, copy]) + "\n", encoding="utf-8")
    out = tmp_path / "splits"
    args = ["split", "--adapter", "babe", "--input", str(source), "--output-dir", str(out), "--group-copies", "0.9"]
    assert cli_main([*args, "--fractions", "0.34", "0.33", "0.33", "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "label" in printed and "Biased" in printed and "Non-biased" in printed and "%)" in printed
    rows = {
        name: [json.loads(line) for line in (out / f"{name}.jsonl").read_text().splitlines()]
        for name in ("train", "validation", "test")
    }
    assert sum(len(r) for r in rows.values()) == 5  # 6 rows read, 1 without agreement dropped
    library = [name for name, r in rows.items() for row in r if row["text"].startswith("The town council opened")]
    assert len(library) == 2 and len(set(library)) == 1
    assert all(row["labels"] in (["Biased"], ["Non-biased"]) for r in rows.values() for row in r)
    overrides = ["data=babe", *(f"data.{name}={out / f'{name}.jsonl'}" for name in ("train", "validation", "test"))]
    splits = prepare_data(load_config(overrides, PROJECT_ROOT / "configs"))
    assert splits.label_names == ["Biased", "Non-biased"]
