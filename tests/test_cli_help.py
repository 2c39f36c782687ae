"""Help text written for the user: what the tool does, help and defaults on options, experiments listed."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from framing.cli import build_parser
from framing.config import PROJECT_ROOT


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*argv, "-h"])
    assert exit_info.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # lines re-wrapped to one


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_the_top_level_help_says_what_the_tool_does_for_a_user(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help([], capsys)
    assert "Find framing and media-bias claims in news paragraphs" in text
    assert "argument parsing only" not in text and "%%" not in text
    assert "typical order:" in text and "framing COMMAND -h" in text


@pytest.mark.parametrize("command", ["train", "predict", "validate", "cv", "split", "report", "compare", "promote"])
def test_every_option_has_help_and_defaults_are_shown(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    parser = _commands(build_parser())[command]
    missing = [a.dest for a in parser._actions if not a.help and not isinstance(a, argparse._HelpAction)]
    assert missing == []
    text = _help([command], capsys)
    for action in parser._actions:
        if action.option_strings and action.default not in (None, False, [], argparse.SUPPRESS):
            assert f"default: {action.default}" in text or "default" in (action.help or ""), action.dest


def test_split_help_shows_its_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(["split"], capsys)
    assert "(default: 13)" in text and "(default: article_id)" in text


def test_train_help_lists_every_experiment_with_what_it_is(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(["train"], capsys)
    experiments = sorted(Path(PROJECT_ROOT / "experiments").glob("*.yaml"))
    assert experiments
    for path in experiments:
        assert f" {path.stem} " in text
    assert "Grid over the baseline's regularisation" in text  # tfidf_sweep's first comment line
