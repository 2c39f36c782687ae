"""The annotation loop on hand-written Label Studio exports and small scored corpora (no server)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from framing.annotate.agreement import agreement, cohen_kappa, krippendorff_alpha
from framing.annotate.estimate import estimate_metrics
from framing.annotate.export import read_exports
from framing.annotate.resolve import read_adjudicated, resolve, resolve_export
from framing.annotate.sample import SampleOptions, allocate, sample_paragraphs
from framing.cli import main
from framing.errors import DataError

pytest.importorskip("krippendorff")


def _annotation(user: Any, choices: list[str] | None, from_name: str = "labels", cancelled: bool = False) -> dict:
    result = (
        []
        if choices is None
        else [{"from_name": from_name, "to_name": "text", "type": "choices", "value": {"choices": choices}}]
    )
    return {"completed_by": user, "result": result, "was_cancelled": cancelled, "updated_at": "2026-01-01T00:00:00Z"}


def _task(task_id: int, annotations: list[dict], text: str | None = None) -> dict:
    data = {
        "id": f"t{task_id}",
        "text": text or f"Paragraph number {task_id}.",
        "article_id": f"art{task_id}",
        "paragraph": 0,
    }
    return {"id": task_id, "data": data, "annotations": annotations, "predictions": []}


def _write(path: Path, tasks: list[dict]) -> Path:
    path.write_text(json.dumps(tasks), encoding="utf-8")
    return path


# Two annotators (users 1 and 2), five tasks, label "a" only. Worked by hand:
# A: 1 1 0 0 1 / B: 1 0 0 0 1 -> coincidences o00=4, o11=4, o01=o10=1; n0=n1=5, n=10
# alpha = 1 - (n-1) * o01 / (n0 * n1) = 1 - 9/25 = 0.64
# kappa: observed 0.8, expected 0.6*0.4 + 0.4*0.6 = 0.48 -> (0.8-0.48)/0.52 = 0.6154
TWO = [
    _task(1, [_annotation(1, ["a"]), _annotation(2, ["a"])]),
    _task(2, [_annotation(1, ["a", "b"]), _annotation(2, ["b"])]),
    _task(3, [_annotation(1, []), _annotation(2, None)]),
    _task(4, [_annotation(1, None), _annotation(2, [])]),
    _task(5, [_annotation(1, ["a"]), _annotation(2, ["a"])]),
]

# Three annotators (1, 2, 3) with a skip, a task nobody annotated and another from_name. Label "a" by hand:
# t1: 1 1 1 -> o11 += 3 | t2: 0 1 0 -> o01 += 1, o10 += 1, o00 += 1 | t3: 1 1 (3 skipped) -> o11 += 2
# t4: 0 0 (from_name "framing") -> o00 += 2 | t5: nothing. o00=3, o01=o10=1, o11=5; n0=4, n1=6, n=10
# alpha = 1 - 9 * 1 / (4 * 6) = 0.625
THREE = [
    _task(1, [_annotation(1, ["a"]), _annotation(2, ["a"]), _annotation({"id": 3, "email": "c@x"}, ["a"])]),
    _task(2, [_annotation(1, []), _annotation(2, ["a"]), _annotation({"id": 3, "email": "c@x"}, [])]),
    _task(3, [_annotation(1, ["a"]), _annotation(2, ["a"]), _annotation(3, ["b"], cancelled=True)]),
    _task(4, [_annotation(1, ["b"], "framing"), _annotation({"id": 3, "email": "c@x"}, None, "framing")]),
    _task(5, []),
]


def test_reading_counts_skips_and_empty_results(tmp_path: Path) -> None:
    export = read_exports([_write(tmp_path / "three.json", THREE)])
    assert export.cancelled == 1
    assert export.unannotated == 1
    assert export.items["t3"].annotations == {"1": frozenset({"a"}), "2": frozenset({"a"})}
    assert export.items["t4"].annotations == {"1": frozenset({"b"}), "c@x": frozenset()}
    only = read_exports([tmp_path / "three.json"], from_name="labels")
    assert only.items["t4"].annotations == {"1": frozenset(), "c@x": frozenset()}


def test_alpha_and_kappa_match_the_hand_worked_values(tmp_path: Path) -> None:
    two = {r.label: r for r in agreement(read_exports([_write(tmp_path / "two.json", TWO)]), ["a", "b"])}
    assert two["a"].alpha == pytest.approx(0.64, abs=1e-9)
    assert two["a"].kappa[("1", "2")] == pytest.approx(0.32 / 0.52, abs=1e-9)
    assert two["a"].items == 5
    assert two["a"].positive_rate == {"1": 0.6, "2": 0.4}
    # label b: 1 vs 1 on t2, 0 vs 0 elsewhere -> perfect agreement
    assert two["b"].alpha == pytest.approx(1.0)
    three = {r.label: r for r in agreement(read_exports([_write(tmp_path / "three.json", THREE)]), ["a"])}
    assert three["a"].alpha == pytest.approx(0.625, abs=1e-9)
    assert three["a"].items == 4


def test_choices_without_a_type_and_other_result_types(tmp_path: Path) -> None:
    untyped = [
        {"data": {"text": f"p{i}"}, "id": i, "annotations": [
            {"completed_by": 1, "result": [{"from_name": "x", "to_name": "t", "value": {"choices": a}}]},
            {"completed_by": 2, "result": [{"from_name": "x", "to_name": "t", "value": {"choices": b}},
                                           {"from_name": "note", "type": "textarea", "value": {"text": ["hm"]}}]},
        ]}
        for i, (a, b) in enumerate([(["a"], ["a"]), (["a"], []), ([], []), (["a"], ["a"]), ([], [])])
    ]  # fmt: skip
    result = agreement(read_exports([_write(tmp_path / "untyped.json", untyped)]), ["a"])[0]
    # o11=4, o00=4, o01=o10=1; n0=n1=5: alpha = 1 - 9/25
    assert result.alpha == pytest.approx(0.64)


def test_alpha_is_undefined_without_variation() -> None:
    assert math.isnan(krippendorff_alpha(np.zeros((2, 4))))
    assert math.isnan(cohen_kappa(np.ones(3), np.ones(3)))


def test_agreement_command_prints_and_writes_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "two.json", TWO)
    assert main(["annotate", "agreement", "--input", str(path), "--output", str(tmp_path / "agreement.csv")]) == 0
    out = capsys.readouterr().out
    assert "0.640" in out and "0.615" in out
    table = pd.read_csv(tmp_path / "agreement.csv")
    assert table.loc[table["label"] == "a", "alpha"].item() == pytest.approx(0.64)
    assert list(table.columns[:4]) == ["label", "alpha", "items", "kappa_mean"]


def test_agreement_needs_overlap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "one.json", [_task(1, [_annotation(1, ["a"])])])
    assert main(["annotate", "agreement", "--input", str(path)]) == 2
    assert "two or more annotators" in capsys.readouterr().err


def test_resolution_rules() -> None:
    one, two = frozenset({"a"}), frozenset({"a", "b"})
    assert resolve({"x": one}).how == "single"
    assert resolve({"x": one, "y": one}).how == "unanimous"
    tie = resolve({"x": one, "y": two})
    assert (tie.labels, tie.how, tie.suggested) == (None, "tie", ["a"])
    majority = resolve({"x": one, "y": one, "z": two})
    assert (majority.labels, majority.how) == (["a"], "majority")
    assert resolve({"x": one, "y": one, "z": two}, require="unanimous").labels is None
    assert (
        resolve({"x": frozenset({"a"}), "y": frozenset({"b"}), "z": frozenset({"c"})}, single_label=True).how == "tie"
    )


def test_import_then_adjudicate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = _write(tmp_path / "two.json", TWO)
    output, disagreements = tmp_path / "labelled.jsonl", tmp_path / "disagreements.jsonl"
    args = [
        "annotate",
        "import",
        "--input",
        str(export),
        "--output",
        str(output),
        "--disagreements",
        str(disagreements),
    ]
    assert main(args) == 0
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert {r["id"]: r["resolution"] for r in rows} == {
        "t1": "unanimous",
        "t3": "unanimous",
        "t4": "unanimous",
        "t5": "unanimous",
    }
    assert rows[0]["labels"] == ["a"] and rows[0]["annotators"] == ["1", "2"] and rows[0]["article_id"] == "art1"
    waiting = [json.loads(line) for line in disagreements.read_text().splitlines()]
    assert [(w["id"], w["reason"], w["labels"]) for w in waiting] == [("t2", "tie", None)]
    waiting[0]["labels"] = ["b"]
    disagreements.write_text(json.dumps(waiting[0]) + "\n")
    assert main([*args[:-2], "--disagreements", str(tmp_path / "left.jsonl"), "--adjudicated", str(disagreements)]) == 0
    rows = {json.loads(line)["id"]: json.loads(line) for line in output.read_text().splitlines()}
    assert (rows["t2"]["labels"], rows["t2"]["resolution"]) == (["b"], "adjudicated")
    assert (tmp_path / "left.jsonl").read_text() == ""
    assert "adjudicated 1" in capsys.readouterr().out


def test_adjudication_from_a_spreadsheet(tmp_path: Path) -> None:
    sheet = tmp_path / "adjudicated.csv"
    sheet.write_text('id,text,labels\nt2,x,"[""b""]"\nt3,y,\nt4,z,a;b\n', encoding="utf-8")
    assert read_adjudicated(sheet, ["a", "b"]) == {"t2": ["b"], "t4": ["a", "b"]}
    sheet.write_text("id,labels\nt2,propaganda\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"adjudicated.csv, row 1: unknown label"):
        read_adjudicated(sheet, ["a", "b"])


def test_unknown_labels_and_bad_exports_name_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = _write(tmp_path / "two.json", TWO)
    with pytest.raises(DataError, match="task t2: annotator 1 chose unknown label"):
        read_exports([export], labels=["a"])
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a list"}')
    assert main(["annotate", "import", "--input", str(bad), "--output", str(tmp_path / "o.jsonl")]) == 2
    assert "bad.json: not a Label Studio JSON export" in capsys.readouterr().err


def test_annotators_are_named_by_the_users_file_beside_the_export(tmp_path: Path) -> None:
    export = _write(tmp_path / "two.json", TWO)
    (tmp_path / "two.users.json").write_text(json.dumps({"1": "ann@example.org", "2": "bo@example.org"}))
    assert read_exports([export]).annotators == ["ann@example.org", "bo@example.org"]


def test_exports_merge_on_the_stable_id(tmp_path: Path) -> None:
    first = _write(tmp_path / "first.json", [_task(1, [_annotation(1, ["a"])])])
    second = _write(tmp_path / "second.json", [{**_task(7, [_annotation(2, ["a"])]), "data": _task(1, [])["data"]}])
    export = read_exports([first, second])
    assert export.items["t1"].annotations == {"1": frozenset({"a"}), "2": frozenset({"a"})}
    assert resolve_export(export).rows[0]["resolution"] == "unanimous"


def test_config_lists_every_label_with_hints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["annotate", "config"]) == 0
    config = capsys.readouterr().out
    assert '<Choices name="labels" toName="text" choice="multiple"' in config
    assert config.count("<Choice ") == 5 and 'hint="Centres on negotiations' in config
    assert main(["annotate", "config", "--labels", "Biased", "Non-biased", "--single-label"]) == 0
    assert 'choice="single"' in capsys.readouterr().out


# --------------------------------------------------------------------------- sampling


WORDS = "war aid talks press rain ships grain border court vote strike flood envoy truce army camp fuel port".split()  # noqa: SIM905


def _scores(n_articles: int = 40, per_article: int = 5, seed: int = 0) -> pd.DataFrame:
    """Scored paragraphs: two labels, threshold 0.5, a few exact copies across articles."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(n_articles):
        for p in range(per_article):
            probabilities = rng.uniform(0, 1, 2)
            text = f"Article {a} paragraph {p} says {' '.join(rng.choice(WORDS, 10))}."
            if a % 10 == 0 and p == 0:
                text = "Top stories"  # the same navigation line in four articles
            labels = [name for name, q in zip(["x", "y"], probabilities, strict=True) if q >= 0.5]
            rows.append(
                {
                    "article_id": f"A{a:02d}",
                    "paragraph": p,
                    "text": text,
                    "labels": labels,
                    "p_x": probabilities[0],
                    "p_y": probabilities[1],
                }
            )
    return pd.DataFrame(rows)


THRESHOLDS = {"x": 0.5, "y": 0.5}


@pytest.mark.parametrize("strategy", ["random", "stratified", "mixed", "uncertainty"])
def test_same_seed_same_sample_no_copies(strategy: str) -> None:
    scores = _scores()
    options = SampleOptions(n=30, strategy=strategy, seed=5, max_per_article=2)
    first = sample_paragraphs(scores, ["x", "y"], THRESHOLDS, options).sample
    again = sample_paragraphs(scores, ["x", "y"], THRESHOLDS, options).sample
    pd.testing.assert_frame_equal(first, again)
    assert len(first) == 30 and first["id"].is_unique
    assert (first["text"] == "Top stories").sum() <= 1
    assert first["article_id"].value_counts().max() <= 2
    other = sample_paragraphs(scores, ["x", "y"], THRESHOLDS, SampleOptions(n=30, strategy=strategy, seed=6)).sample
    assert (set(other["id"]) == set(first["id"])) == (
        strategy == "uncertainty"
    )  # only uncertainty is chosen, not drawn


@pytest.mark.parametrize("strategy", ["random", "stratified", "mixed"])
def test_weights_sum_to_the_population(strategy: str) -> None:
    scores = _scores()
    result = sample_paragraphs(scores, ["x", "y"], THRESHOLDS, SampleOptions(n=24, strategy=strategy, seed=1))
    assert result.population == len(scores)
    assert result.sample["weight"].sum() == pytest.approx(len(scores))


def test_uncertainty_takes_the_paragraphs_nearest_a_threshold() -> None:
    scores = _scores()
    result = sample_paragraphs(
        scores, ["x", "y"], THRESHOLDS, SampleOptions(n=10, strategy="uncertainty", max_per_article=None)
    )
    distance = (scores[["p_x", "p_y"]] - 0.5).abs().min(axis=1)
    assert sorted(result.sample["uncertainty"]) == pytest.approx(sorted(distance.nsmallest(10)))
    copies = result.sample["text"] == "Top stories"  # one of four copies: it stands for all four
    assert result.sample.loc[~copies, "weight"].eq(1.0).all() and result.sample.loc[copies, "weight"].eq(4.0).all()


def test_mixed_keeps_a_random_share_and_stratified_fills_each_stratum() -> None:
    scores = _scores()
    mixed = sample_paragraphs(
        scores, ["x", "y"], THRESHOLDS, SampleOptions(n=20, strategy="mixed", random_share=0.25)
    ).sample
    assert mixed["strategy"].value_counts().to_dict() == {"uncertainty": 15, "random": 5}
    stratified = sample_paragraphs(scores, ["x", "y"], THRESHOLDS, SampleOptions(n=21, strategy="stratified")).sample
    assert stratified["stratum"].value_counts().to_dict() == {"(none)": 7, "x": 7, "y": 7}
    assert allocate(10, {"a": 2, "b": 50, "c": 50}) == {"a": 2, "b": 4, "c": 4}


def test_excluded_paragraphs_and_their_near_copies_are_not_sampled() -> None:
    scores = _scores(n_articles=6, per_article=2)
    labelled = scores["text"].iloc[[1, 3]].tolist()
    near = labelled[0].replace(".", "!").upper()  # the same words, other case and punctuation
    result = sample_paragraphs(
        scores,
        ["x", "y"],
        THRESHOLDS,
        SampleOptions(n=50, strategy="random", max_per_article=None),
        [near, labelled[1].replace("says", "said")],
    )
    assert result.excluded == 2
    assert not set(labelled) & set(result.sample["text"])


def test_sample_command_writes_label_studio_tasks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scores = _scores()
    scores.to_parquet(tmp_path / "scores.parquet")
    args = [
        "annotate",
        "sample",
        "--input",
        str(tmp_path / "scores.parquet"),
        "--n",
        "12",
        "--output",
        str(tmp_path / "tasks.json"),
    ]
    assert main(args) == 0
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    assert len(tasks) == 12
    data = tasks[0]["data"]
    assert {"id", "text", "article_id", "paragraph", "strategy", "stratum", "weight"} <= set(data)
    assert (
        tasks[0]["predictions"][0]["result"] == [] or tasks[0]["predictions"][0]["result"][0]["from_name"] == "labels"
    )
    assert main([*args[:-2], "--output", str(tmp_path / "tasks.csv"), "--format", "csv"]) == 0
    assert len(pd.read_csv(tmp_path / "tasks.csv")) == 12
    assert "sampled 12 paragraphs" in capsys.readouterr().out


def test_sample_excludes_earlier_tasks(tmp_path: Path) -> None:
    scores = _scores()
    scores.to_parquet(tmp_path / "scores.parquet")
    first = ["annotate", "sample", "--input", str(tmp_path / "scores.parquet"), "--n", "20", "--strategy", "random"]
    assert main([*first, "--output", str(tmp_path / "round1.json")]) == 0
    assert main([*first, "--output", str(tmp_path / "round2.json"), "--exclude", str(tmp_path / "round1.json")]) == 0
    texts = [{t["data"]["text"] for t in json.loads((tmp_path / f"round{i}.json").read_text())} for i in (1, 2)]
    assert len(texts[1]) == 20 and not texts[0] & texts[1]


def test_server_commands_need_a_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    assert main(["annotate", "pull", "--project", "1", "--output", str(tmp_path / "export.json")]) == 2
    assert "LABEL_STUDIO_URL" in capsys.readouterr().err
    tasks = _write(tmp_path / "tasks.json", [{"data": {"text": "x"}}])
    assert main(["annotate", "push", "--tasks", str(tasks), "--url", "http://127.0.0.1:9", "--api-key", "k"]) == 2
    assert "cannot reach Label Studio at http://127.0.0.1:9" in capsys.readouterr().err


def test_sample_refuses_a_corpus_without_a_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"article_id": "a", "text": "One paragraph."}\n')
    assert main(["annotate", "sample", "--input", str(corpus), "--n", "1", "--output", str(tmp_path / "t.json")]) == 2
    assert "pass --model" in capsys.readouterr().err


# --------------------------------------------------------------------------- estimate and check


def test_weighted_precision_recall_by_hand() -> None:
    merged = pd.DataFrame(
        {
            "article_id": ["a", "b", "c", "d"],
            "labels": [["x"], [], ["x"], []],
            "predicted": [["x"], ["x"], [], []],
            "weight": [1.0, 1.0, 2.0, 2.0],
        }
    )
    table = estimate_metrics(merged, ["x"], n_boot=200).set_index("label")
    # weighted TP 1, FP 1, FN 2: precision 1/2, recall 1/3, F1 2/(2+1+2); prevalence (1+2)/6
    assert table.loc["x", "precision"] == pytest.approx(0.5)
    assert table.loc["x", "recall"] == pytest.approx(1 / 3)
    assert table.loc["x", "f1"] == pytest.approx(0.4)
    assert table.loc["x", "prevalence"] == pytest.approx(0.5)
    assert table.loc["x", "precision_low"] <= 0.5 <= table.loc["x", "precision_high"]


def test_estimate_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scores = _scores()
    scores.to_parquet(tmp_path / "scores.parquet")
    sample = sample_paragraphs(scores, ["x", "y"], THRESHOLDS, SampleOptions(n=30, strategy="stratified")).sample
    with open(tmp_path / "labelled.jsonl", "w") as handle:
        for row in sample.to_dict(orient="records"):
            truth = ["x"] if row["p_x"] > 0.3 else []  # the model misses some x and never flags y correctly
            handle.write(
                json.dumps(
                    {
                        "id": row["id"],
                        "article_id": row["article_id"],
                        "paragraph": int(row["paragraph"]),
                        "labels": truth,
                        "weight": row["weight"],
                        "strategy": row["strategy"],
                    }
                )
                + "\n"
            )
    args = [
        "annotate",
        "estimate",
        "--labelled",
        str(tmp_path / "labelled.jsonl"),
        "--scores",
        str(tmp_path / "scores.parquet"),
    ]
    assert main([*args, "--output", str(tmp_path / "estimate.csv")]) == 0
    out = capsys.readouterr().out
    assert "30 labelled paragraphs" in out
    as_csv = pd.read_json(tmp_path / "labelled.jsonl", lines=True).assign(labels=lambda f: f["labels"].map(json.dumps))
    as_csv.to_csv(tmp_path / "labelled.csv", index=False)
    args[3] = str(tmp_path / "labelled.csv")
    assert main([*args, "--output", str(tmp_path / "estimate_from_csv.csv")]) == 0
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "estimate.csv"), pd.read_csv(tmp_path / "estimate_from_csv.csv")
    )
    table = pd.read_csv(tmp_path / "estimate.csv").set_index("label")
    assert table.loc["x", "precision"] == pytest.approx(1.0)
    assert 0 < table.loc["x", "recall"] < 1


def test_check_finds_a_flipped_label(
    tiny_data: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("cleanlab")
    rows = [json.loads(line) for line in tiny_data["train"].read_text().splitlines()]
    rows[0]["labels"] = ["diplomacy"]  # a media bias claim labelled as diplomacy
    tiny_data["train"].write_text("".join(json.dumps(r) + "\n" for r in rows))
    overrides = [
        f"data.train={tiny_data['train']}",
        f"data.validation={tiny_data['validation']}",
        f"data.test={tiny_data['test']}",
        "data.labels=[media_bias_claim,humanitarian,diplomacy]",
        "model.char_ngram_range=null",
    ]
    output = tmp_path / "suspects.csv"
    assert main(["annotate", "check", *overrides, "--folds", "3", "--output", str(output)]) == 0
    suspects = pd.read_csv(output)
    assert {"rank", "id", "given", "suggested", "quality", "in_question"} <= set(suspects.columns)
    assert "likely label error" in capsys.readouterr().out
    assert suspects["quality"].is_monotonic_increasing
