"""The report over scored paragraphs: per-article totals, summaries, plots and HTML, checked against hand counts."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest

from framing.cli import main
from framing.errors import DataError
from framing.report import ReportSettings, aggregate_articles, iter_chunks, summarise, write_report
from framing.scoring.sinks import AtomicSink

NORTH, SOUTH = "North Herald", "South Post"
EVIL = '<script>alert("x")</script> Times'

# (article_id, outlet, date, language, [(labels, p_diplomacy, p_media_bias_claim), ...]); the labels come from
# tuned thresholds, so a03 flags diplomacy at 0.45 and a04 does not at 0.60.
ARTICLES = [
    (
        "a01",
        NORTH,
        "2022-03-01",
        "en",
        [(["diplomacy"], 0.91, 0.10), ([], 0.20, 0.05), (["diplomacy", "mbc"], 0.75, 0.66)],
    ),
    ("a02", NORTH, "2022-07-15", "en", [(["mbc"], 0.12, 0.88), (["mbc"], 0.30, 0.71)]),
    (
        "a03",
        NORTH,
        "2023-01-09",
        "en",
        [([], 0.40, 0.20), (["diplomacy"], 0.45, 0.10), ([], 0.05, 0.02), (["diplomacy"], 0.82, 0.33)],
    ),
    ("a04", NORTH, "2023-11-30", "en", [([], 0.10, 0.10), ([], 0.60, 0.30)]),
    (
        "a05",
        SOUTH,
        "2022-02-02",
        "en",
        [(["diplomacy"], 0.95, 0.15), (["diplomacy"], 0.85, 0.25), (["mbc"], 0.35, 0.90)],
    ),
    ("a06", SOUTH, "2022-12-31", "en", [(["mbc"], 0.05, 0.77), ([], 0.15, 0.44)]),
    (
        "a07",
        SOUTH,
        "2023-05-05",
        "en",
        [(["diplomacy", "mbc"], 0.66, 0.61), (["diplomacy"], 0.70, 0.35), ([], 0.25, 0.15)],
    ),
    ("a08", SOUTH, "2023-08-08", "en", [([], 0.30, 0.30), (["mbc"], 0.20, 0.93)]),
    ("a09", EVIL, "2022-06-06", "fr", [(["diplomacy"], 0.55, 0.05), ([], 0.10, 0.10)]),
    ("a10", EVIL, "2023-09-09", "fr", [(["mbc"], 0.01, 0.99), (["mbc"], 0.02, 0.98), (["mbc"], 0.03, 0.52)]),
]
LABELS = ["diplomacy", "mbc"]

# Counted by hand: article -> (paragraphs, share_diplomacy, share_mbc, max_p_diplomacy, max_p_mbc).
EXPECTED = {
    "a01": (3, 2 / 3, 1 / 3, 0.91, 0.66),
    "a02": (2, 0.0, 1.0, 0.30, 0.88),
    "a03": (4, 0.5, 0.0, 0.82, 0.33),
    "a04": (2, 0.0, 0.0, 0.60, 0.30),
    "a05": (3, 2 / 3, 1 / 3, 0.95, 0.90),
    "a06": (2, 0.0, 0.5, 0.15, 0.77),
    "a07": (3, 2 / 3, 1 / 3, 0.70, 0.61),
    "a08": (2, 0.0, 0.5, 0.30, 0.93),
    "a09": (2, 0.5, 0.0, 0.55, 0.10),
    "a10": (3, 0.0, 1.0, 0.03, 0.99),
}
# group -> (paragraphs, articles, flagged diplomacy, flagged mbc)
BY_OUTLET = {NORTH: (11, 4, 4, 3), SOUTH: (10, 4, 4, 4), EVIL: (5, 2, 1, 3)}
BY_YEAR = {"2022": (12, 5, 5, 5), "2023": (14, 5, 4, 5)}


def scored_rows() -> pd.DataFrame:
    """Rows as ``framing predict`` writes them; a01's second row carries a different url (first row wins)."""
    rows = []
    for article_id, outlet, date, language, paragraphs in ARTICLES:
        for index, (labels, p_dip, p_mbc) in enumerate(paragraphs):
            rows.append(
                {
                    "article_id": article_id,
                    "paragraph": index,
                    "text": f"Invented paragraph {index} of {article_id} about talks and coverage.",
                    "labels": labels,
                    "p_diplomacy": p_dip,
                    "p_mbc": p_mbc,
                    "evidence": {label: ["talks"] for label in labels},
                    "outlet": outlet,
                    "date": date,
                    "url": f"https://example.org/{article_id}" + (f"?page={index}" if index else ""),
                    "language": language,
                }
            )
    return pd.DataFrame(rows)


def write_scores(path: Path, frame: pd.DataFrame) -> Path:
    with AtomicSink(path) as sink:
        sink.write(frame)
    return path


def write_folder(folder: Path, frame: pd.DataFrame, suffix: str) -> Path:
    """Two parts with a05 split between them, an empty (rejects-only) part, and the files a run leaves beside them."""
    split = frame.index[(frame["article_id"] == "a05") & (frame["paragraph"] == 1)][0]
    folder.mkdir()
    write_scores(folder / f"part-00000.{suffix}", frame.iloc[:split])
    write_scores(folder / f"part-00001.{suffix}", frame.iloc[split:])
    AtomicSink(folder / f"part-00002.{suffix}").commit()
    (folder / "_manifest.json").write_text("{}", encoding="utf-8")
    (folder / "rejects-00000.jsonl").write_text('{"source": "x", "row": 1, "reason": "empty article"}\n')
    return folder


@pytest.fixture(params=["parquet", "jsonl", "csv", "parquet-folder", "jsonl-folder", "csv-folder"])
def scores(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    kind, _, folder = request.param.partition("-")
    if folder:
        return write_folder(tmp_path / "scores", scored_rows(), kind)
    return write_scores(tmp_path / f"scores.{kind}", scored_rows())


def check_articles(table: pd.DataFrame) -> None:
    assert table["article_id"].tolist() == list(EXPECTED)
    for row in table.to_dict(orient="records"):
        paragraphs, share_dip, share_mbc, max_dip, max_mbc = EXPECTED[row["article_id"]]
        assert row["paragraphs"] == paragraphs, row["article_id"]
        assert row["share_diplomacy"] == pytest.approx(share_dip), row["article_id"]
        assert row["share_mbc"] == pytest.approx(share_mbc), row["article_id"]
        assert row["max_p_diplomacy"] == pytest.approx(max_dip), row["article_id"]
        assert row["max_p_mbc"] == pytest.approx(max_mbc), row["article_id"]
    first = table.set_index("article_id")
    assert first.loc["a01", "url"] == "https://example.org/a01"
    assert first.loc["a09", "outlet"] == EVIL
    assert first.loc["a03", "date"] == "2023-01-09"


@pytest.mark.parametrize("chunk_size", [3, 10_000])
def test_article_totals_in_every_format(scores: Path, chunk_size: int) -> None:
    articles = aggregate_articles(scores, chunk_size=chunk_size)
    assert articles.labels == LABELS
    assert articles.paragraphs == 26
    table = articles.table()
    assert list(table.columns) == [
        "article_id",
        "outlet",
        "date",
        "url",
        "language",
        "paragraphs",
        "share_diplomacy",
        "share_mbc",
        "max_p_diplomacy",
        "max_p_mbc",
    ]
    check_articles(table)


def check_summary(summary: pd.DataFrame, key: str, expected: dict[str, tuple[int, int, int, int]]) -> None:
    assert sorted(summary[key].astype(str)) == sorted(expected)
    for row in summary.to_dict(orient="records"):
        paragraphs, articles, dip, mbc = expected[str(row[key])]
        assert (row["paragraphs"], row["articles"]) == (paragraphs, articles), row[key]
        assert row["share_diplomacy"] == pytest.approx(dip / paragraphs), row[key]
        assert row["share_mbc"] == pytest.approx(mbc / paragraphs), row[key]


def test_summaries_by_outlet_year_and_overall(scores: Path) -> None:
    articles = aggregate_articles(scores, chunk_size=4)
    check_summary(summarise(articles, ["outlet"]), "outlet", BY_OUTLET)
    check_summary(summarise(articles, ["year"]), "year", BY_YEAR)
    overall = summarise(articles).to_dict(orient="records")
    assert len(overall) == 1
    assert (overall[0]["paragraphs"], overall[0]["articles"]) == (26, 10)
    assert overall[0]["share_diplomacy"] == pytest.approx(9 / 26)
    assert overall[0]["share_mbc"] == pytest.approx(10 / 26)
    both = summarise(articles, ["outlet", "year"]).set_index(["outlet", "year"])
    assert len(both) == 6
    assert both.loc[(NORTH, "2022"), "paragraphs"] == 5
    assert both.loc[(NORTH, "2022"), "share_mbc"] == pytest.approx(3 / 5)
    assert both.loc[(EVIL, "2023"), "share_mbc"] == pytest.approx(1.0)


def test_tiny_chunks_match_one_chunk_even_when_articles_are_interleaved(tmp_path: Path) -> None:
    rows = scored_rows()
    order = list(range(len(rows)))
    random.Random(7).shuffle(order)
    path = write_scores(tmp_path / "shuffled.parquet", rows.iloc[order].reset_index(drop=True))
    chunks = list(iter_chunks(path, chunk_size=3))
    assert len(chunks) == 9
    assert all(len(chunk) <= 3 and "text" not in chunk and "evidence" not in chunk for _, chunk in chunks)
    tiny = aggregate_articles(path, chunk_size=3).table()
    whole = aggregate_articles(path, chunk_size=1_000).table()
    pd.testing.assert_frame_equal(tiny, whole)
    by_id = tiny.sort_values("article_id", kind="mergesort").reset_index(drop=True)
    assert by_id["paragraphs"].tolist() == [v[0] for v in EXPECTED.values()]
    assert by_id["max_p_mbc"].tolist() == pytest.approx([v[4] for v in EXPECTED.values()])


def test_write_report_files_plots_and_escaped_html(tmp_path: Path) -> None:
    scores = write_folder(tmp_path / "scores", scored_rows(), "parquet")
    report = write_report(scores, tmp_path / "report", chunk_size=5)
    assert (report.paragraphs, report.articles, report.labels) == (26, 10, LABELS)
    assert set(report.summaries) == {"overall", "outlet", "year"}
    assert report.summaries["outlet"].name == "summary_by_outlet.csv"
    assert report.summaries["year"].name == "summary_by_year.csv"
    for path in [report.html, report.articles_parquet, report.articles_csv, *report.summaries.values()]:
        assert path.is_file() and path.stat().st_size > 0, path
    for plot in report.plots.values():
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(report.plots) == {"outlet", "year"}

    check_articles(pd.read_parquet(report.articles_parquet))
    from_csv = pd.read_csv(report.articles_csv, dtype={"article_id": str, "date": str})
    check_articles(from_csv)
    check_summary(pd.read_csv(report.summaries["outlet"]), "outlet", BY_OUTLET)
    check_summary(pd.read_csv(report.summaries["year"], dtype={"year": str}), "year", BY_YEAR)

    page = report.html.read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 2
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Times" in page
    assert "http://" not in page and "https://" not in page and "<link" not in page
    assert "34.6%" in page  # overall diplomacy: 9 of 26 paragraphs
    assert "38.5%" in page  # overall mbc: 10 of 26


def test_group_by_chosen_columns_and_combinations(tmp_path: Path) -> None:
    scores = write_scores(tmp_path / "scores.jsonl", scored_rows())
    report = write_report(scores, tmp_path / "report", group_by=["language", "outlet+year"], chunk_size=3)
    assert set(report.summaries) == {"overall", "language", "outlet+year"}
    language = pd.read_csv(report.summaries["language"]).set_index("language")
    assert language.loc["en", "paragraphs"] == 21 and language.loc["en", "articles"] == 8
    assert language.loc["fr", "share_diplomacy"] == pytest.approx(1 / 5)
    assert report.summaries["outlet+year"].name == "summary_by_outlet_year.csv"
    assert len(pd.read_csv(report.summaries["outlet+year"])) == 6
    assert set(report.plots) == {"outlet", "year"}  # the plots do not depend on the groupings asked for


def test_scores_without_metadata_get_only_the_overall_summary(tmp_path: Path) -> None:
    rows = scored_rows()[["article_id", "paragraph", "text", "labels", "p_diplomacy", "p_mbc", "evidence"]]
    report = write_report(write_scores(tmp_path / "bare.csv", rows), tmp_path / "report")
    assert set(report.summaries) == {"overall"} and report.plots == {}
    assert "data:image/png;base64," not in report.html.read_text(encoding="utf-8")
    overall = pd.read_csv(report.summaries["overall"])
    assert overall.loc[0, "share_mbc"] == pytest.approx(10 / 26)


def test_errors_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.parquet"
    with pytest.raises(DataError, match=r"nowhere\.parquet"):
        write_report(missing, tmp_path / "out")
    no_probabilities = tmp_path / "plain.jsonl"
    no_probabilities.write_text(json.dumps({"article_id": "a", "labels": [], "text": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"plain\.jsonl.*p_<label>"):
        aggregate_articles(no_probabilities)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no part-"):
        aggregate_articles(empty)
    unknown = tmp_path / "scores.txt"
    unknown.write_text("x", encoding="utf-8")
    with pytest.raises(DataError, match="unknown scores type"):
        aggregate_articles(unknown)
    scores = write_scores(tmp_path / "scores.parquet", scored_rows().drop(columns=["date"]))
    with pytest.raises(DataError, match="year needs a date column"):
        write_report(scores, tmp_path / "out", group_by=["year"])
    with pytest.raises(DataError, match="'section'"):
        write_report(scores, tmp_path / "out", group_by=["outlet", "section"])


def test_cli_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scores = write_scores(tmp_path / "scores.csv", scored_rows())
    out = tmp_path / "report"
    assert main(["report", "--scores", str(scores), "--output-dir", str(out), "--group-by", "outlet"]) == 0
    printed = capsys.readouterr().out
    assert "26 paragraphs in 10 articles" in printed
    assert f"report: {out / 'report.html'}" in printed
    assert (out / "summary_by_outlet.csv").is_file() and not (out / "summary_by_year.csv").exists()

    assert main(["report", "--scores", str(tmp_path / "missing"), "--output-dir", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "missing" in error and error.count("\n") == 1


def test_shares_carry_counts_cluster_intervals_and_a_minimum(scores: Path) -> None:
    articles = aggregate_articles(scores, chunk_size=4)
    by_outlet = summarise(articles, ["outlet"], min_articles=3).set_index("outlet")
    for label in LABELS:
        share, low, high = (by_outlet[f"share_{label}{end}"] for end in ("", "_low", "_high"))
        assert ((low <= share) & (share <= high)).all(), label
    assert bool(by_outlet.loc[EVIL, "below_min"]) and not by_outlet.loc[NORTH, "below_min"]
    overall = summarise(articles).iloc[0]
    assert overall["share_mbc_low"] < 10 / 26 < overall["share_mbc_high"]
    assert summarise(articles, n_boot=0)["share_mbc_low"].isna().all()


def test_month_is_a_time_unit_on_a_real_time_axis(tmp_path: Path) -> None:
    from framing.report.shares import time_position

    scores = write_scores(tmp_path / "scores.parquet", scored_rows())
    report = write_report(scores, tmp_path / "report", group_by=["month", "year"])
    months = pd.read_csv(report.summaries["month"], dtype={"month": str})
    assert months.loc[months["month"] == "2022-03", "paragraphs"].item() == 3
    assert {"month", "year", "outlet"} == set(report.plots)
    assert report.plots["month"].read_bytes()[:4] == b"\x89PNG"
    gap = time_position("year", "1994") - time_position("year", "1992")
    assert gap.days == 730 and (time_position("year", "1993") - time_position("year", "1992")).days == 365
    assert (time_position("month", "2022-03") - time_position("month", "2022-01")).days == 59
    assert time_position("month", None) is None


def test_report_page_names_the_model_greys_small_groups_and_corrects_shares(tmp_path: Path) -> None:
    from framing.report import ReportSettings

    scores = write_scores(tmp_path / "scores.jsonl", scored_rows())
    manifest = {
        "model_uri": "runs:/abc123/model",
        "input_path": "corpus/",
        "settings": {"source": {"languages": ["en"]}},
        "model_info": {"thresholds": {"diplomacy": 0.42, "mbc": 0.5}, "languages": {"en": 120}},
    }
    scores.with_name(scores.name + ".manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    estimate = tmp_path / "estimate.csv"
    pd.DataFrame(
        [
            {"label": "mbc", "precision": 0.5, "precision_low": 0.4, "precision_high": 0.6}
            | {"recall": 1.0, "recall_low": 0.9, "recall_high": 1.0},
            {"label": "(macro F1)", "f1": 0.7},
        ]
    ).to_csv(estimate, index=False)
    report = write_report(scores, tmp_path / "report", settings=ReportSettings(min_articles=3), correction=estimate)
    page = report.html.read_text(encoding="utf-8")
    assert "runs:/abc123/model" in page and "diplomacy 0.42" in page and "training languages" in page
    assert 'class="few"' in page and "fewer than 3 articles" in page
    assert "cluster bootstrap" in page and "Corrected shares" in page
    overall = pd.read_csv(report.summaries["overall"])
    assert overall.loc[0, "corrected_mbc"] == pytest.approx(10 / 26 * 0.5)
    assert "corrected_diplomacy" not in overall
    assert (
        overall.loc[0, "corrected_mbc_low"] <= overall.loc[0, "corrected_mbc"] <= overall.loc[0, "corrected_mbc_high"]
    )


def test_cli_report_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scores = write_scores(tmp_path / "scores.csv", scored_rows())
    out = tmp_path / "report"
    assert main(["report", "--scores", str(scores), "--output-dir", str(out), "--bootstrap", "0"]) == 0
    assert "intervals" not in capsys.readouterr().out
    assert main(["report", "--scores", str(scores), "--output-dir", str(out), "--bootstrap", "5"]) == 2
    assert main(["report", "--scores", str(scores), "--output-dir", str(out), "--correct-with", "nope.csv"]) == 2
    assert "nope.csv" in capsys.readouterr().err


def test_evidence_terms_read_every_shape_and_are_highlighted() -> None:
    from framing.report.examples import evidence_terms, highlight

    assert evidence_terms('{"mbc": ["biased media", ["talks", 0.8]]}', "mbc") == [
        ("biased media", None),
        ("talks", 0.8),
    ]
    assert evidence_terms({"mbc": [{"term": "press", "weight": 1.5}]}, "mbc") == [("press", 1.5)]
    assert evidence_terms("not json", "mbc") == [] and evidence_terms({}, "mbc") == []
    marked = highlight("The <b>Biased</b> media said so.", [("biased media", None)])
    assert marked == "The &lt;b&gt;<mark>Biased</mark>&lt;/b&gt; <mark>media</mark> said so."


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl", ".csv"])
def test_report_page_shows_the_surest_flagged_paragraphs_per_label(tmp_path: Path, suffix: str) -> None:
    scores = write_scores(tmp_path / f"scores{suffix}", scored_rows())
    page = write_report(scores, tmp_path / "report").html.read_text(encoding="utf-8")
    examples = page[page.index("<h2>Examples</h2>") :]
    assert "<h3>mbc</h3>" in examples and "<h3>diplomacy</h3>" in examples
    assert "a10, paragraph 0; p = 0.99" in examples, "the surest mbc paragraph comes first"
    assert examples.count("<blockquote>") == 6  # three per label
    none = write_report(scores, tmp_path / "none", settings=ReportSettings(examples=0)).html.read_text(encoding="utf-8")
    assert "<h2>Examples</h2>" not in none
