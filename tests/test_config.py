"""Config composition (group files < experiment < overrides) and validation with key-naming errors."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
import yaml

from framing.config import GROUPS, Config, compose, load_config
from framing.errors import ConfigError

REAL_CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"
REAL_EXPERIMENTS = sorted((REAL_CONFIG_DIR.parent / "experiments").glob("*.yaml"))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text).lstrip(), encoding="utf-8")


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """configs/ with one or two files per group and experiments/ beside it."""
    root = tmp_path / "project"
    conf = root / "configs"
    _write(
        conf / "config.yaml",
        """
        defaults:
          data: news
          model: tfidf
          train: default
          tracking: local
        seed: 1
        """,
    )
    _write(
        conf / "data" / "news.yaml",
        """
        train: news/train.jsonl
        validation: news/validation.jsonl
        labels: [a, b]
        """,
    )
    _write(
        conf / "data" / "wire.yaml",
        """
        train: wire/train.csv
        validation: wire/validation.csv
        task: multiclass
        """,
    )
    _write(
        conf / "model" / "tfidf.yaml",
        """
        family: tfidf
        C: 1.0
        min_df: 1
        max_iter: 100
        """,
    )
    _write(
        conf / "model" / "small.yaml",
        """
        family: tfidf
        C: 0.5
        max_features: 1000
        char_ngram_range: null
        """,
    )
    _write(conf / "train" / "default.yaml", "default_threshold: 0.5\n")
    _write(conf / "tracking" / "local.yaml", "experiment: group-file\n")
    _write(
        root / "experiments" / "strong.yaml",
        """
        # raises C over the group file, picks another data file
        defaults:
          data: wire
        model:
          C: 8.0
        tracking:
          run_name: strong-run
        """,
    )
    _write(
        root / "experiments" / "typo.yaml",
        """
        model:
          Cee: 2.0
        """,
    )
    return conf


def test_base_composition_reads_group_files(config_dir: Path) -> None:
    config = load_config([], config_dir)
    assert isinstance(config, Config)
    assert config.seed == 1
    assert config.experiment is None
    assert config.data.train == Path("news/train.jsonl")
    assert config.data.labels == ["a", "b"]
    assert config.model.C == 1.0
    assert config.model.max_iter == 100
    assert config.model.char_ngram_range == (2, 5)  # the class default, untouched by the group file
    assert config.tracking.experiment == "group-file"


def test_experiment_overrides_group_file_and_picks_groups(config_dir: Path) -> None:
    config = load_config(["experiment=strong"], config_dir)
    assert config.experiment == "strong"
    assert config.model.C == 8.0  # experiment > group file
    assert config.model.max_iter == 100  # the rest of the group file stays
    assert config.data.train == Path("wire/train.csv")  # experiment defaults chose data=wire
    assert config.data.task == "multiclass"
    assert config.tracking.run_name == "strong-run"
    assert config.tracking.experiment == "group-file"


def test_key_value_overrides_experiment(config_dir: Path) -> None:
    config = load_config(["experiment=strong", "model.C=2.5", "seed=7", "data.labels=[x,y,z]"], config_dir)
    assert config.model.C == 2.5
    assert config.seed == 7
    assert config.data.labels == ["x", "y", "z"]


def test_group_choice_on_command_line_beats_experiment_defaults(config_dir: Path) -> None:
    config = load_config(["experiment=strong", "data=news", "model=small"], config_dir)
    assert config.data.train == Path("news/train.jsonl")
    assert config.model.C == 8.0  # the experiment body still applies over the chosen group file
    assert config.model.max_features == 1000
    assert config.model.char_ngram_range is None
    assert config.model.max_iter == 2000  # small.yaml does not set it: class default


def test_group_selection(config_dir: Path) -> None:
    config = load_config(["model=small"], config_dir)
    assert config.model.C == 0.5
    assert config.model.max_features == 1000
    assert config.model.char_ngram_range is None


def test_order_of_arguments_does_not_matter(config_dir: Path) -> None:
    first = load_config(["model.C=3", "model=small", "experiment=strong"], config_dir)
    second = load_config(["experiment=strong", "model=small", "model.C=3"], config_dir)
    assert first == second
    assert first.model.C == 3.0


def test_compose_returns_plain_dict(config_dir: Path) -> None:
    raw = compose(["seed=5"], config_dir)
    assert raw["seed"] == 5
    assert raw["model"] == {"family": "tfidf", "C": 1.0, "min_df": 1, "max_iter": 100}
    assert "defaults" not in raw


def test_to_dict_is_yaml_safe(config_dir: Path) -> None:
    values = load_config([], config_dir).to_dict()
    assert values["data"]["train"] == "news/train.jsonl"
    assert values["model"]["char_ngram_range"] == [2, 5]


# ---------------------------------------------------------------- errors


def test_unknown_key_names_dotted_key(config_dir: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(["model.learning_rate=0.1"], config_dir)
    assert str(info.value) == "invalid config: model.learning_rate: unknown key"


def test_unknown_key_in_experiment_file_names_dotted_key(config_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"model\.Cee: unknown key"):
        load_config(["experiment=typo"], config_dir)


def test_unknown_top_level_and_data_keys_are_all_listed(config_dir: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(["sed=3", "data.txt_column=body"], config_dir)
    message = str(info.value)
    assert "sed: unknown key" in message
    assert "data.txt_column: unknown key" in message


def test_bad_value_names_key_and_value(config_dir: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(["model.C=-1"], config_dir)
    message = str(info.value)
    assert message.startswith("invalid config: model.C: ")
    assert "greater than 0" in message
    assert "(got -1" in message


def test_bad_literal_value_names_key(config_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"data\.bad_rows: .*'drop'"):
        load_config(["data.bad_rows=drop"], config_dir)


def test_missing_required_key_names_it(config_dir: Path) -> None:
    _write(config_dir / "data" / "partial.yaml", "train: only/train.jsonl\n")
    with pytest.raises(ConfigError) as info:
        load_config(["data=partial"], config_dir)
    assert str(info.value) == "invalid config: data.validation: Field required"


def test_missing_group_file_lists_available(config_dir: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(["model=bert"], config_dir)
    message = str(info.value)
    assert message.startswith("model=bert: no ")
    assert str(config_dir / "model" / "bert.yaml") in message
    assert message.endswith("(available: small, tfidf)")


def test_missing_experiment_file_names_path(config_dir: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(["experiment=nope"], config_dir)
    expected = config_dir.parent / "experiments" / "nope.yaml"
    assert str(info.value) == f"{expected}: config file not found"


@pytest.mark.parametrize("override", ["seed", "=3", "model.C"])
def test_malformed_override_without_equals(config_dir: Path, override: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config([override], config_dir)
    assert str(info.value) == f"override {override!r}: expected key=value"


def test_unknown_group_in_defaults(config_dir: Path) -> None:
    _write(config_dir.parent / "experiments" / "odd.yaml", "defaults:\n  optimizer: adam\n")
    with pytest.raises(ConfigError, match="unknown config group 'optimizer'"):
        load_config(["experiment=odd"], config_dir)


def test_invalid_yaml_names_file(config_dir: Path) -> None:
    _write(config_dir / "train" / "broken.yaml", "default_threshold: [0.5\n")
    with pytest.raises(ConfigError) as info:
        load_config(["train=broken"], config_dir)
    assert str(info.value).startswith(f"{config_dir / 'train' / 'broken.yaml'}: invalid YAML")


# ---------------------------------------------------------------- the project's own configs


def test_real_project_config_composes_and_validates() -> None:
    config = load_config([], REAL_CONFIG_DIR)
    assert config.model.family == "tfidf"
    assert config.data.task in {"multilabel", "multiclass"}
    assert config.data.labels  # the shipped task fixes its label order
    assert config.train.min_threshold < config.train.default_threshold < config.train.max_threshold


def test_real_experiments_folder_is_not_empty() -> None:
    assert REAL_EXPERIMENTS, f"no experiment files in {REAL_CONFIG_DIR.parent / 'experiments'}"


@pytest.mark.parametrize("experiment", REAL_EXPERIMENTS, ids=lambda p: p.stem)
def test_real_experiment_composes_and_validates(experiment: Path) -> None:
    config = load_config([f"experiment={experiment.stem}"], REAL_CONFIG_DIR)
    assert config.experiment == experiment.stem
    declared = yaml.safe_load(experiment.read_text(encoding="utf-8")).get("defaults", {}).get("model", "tfidf")
    assert config.model.family == declared


REAL_GROUP_FILES = sorted(p for group in GROUPS for p in (REAL_CONFIG_DIR / group).glob("*.yaml"))


@pytest.mark.parametrize("group_file", REAL_GROUP_FILES, ids=lambda p: f"{p.parent.name}={p.stem}")
def test_every_shipped_group_file_composes_and_validates(group_file: Path) -> None:
    config = load_config([f"{group_file.parent.name}={group_file.stem}"], REAL_CONFIG_DIR)
    declared = yaml.safe_load(group_file.read_text(encoding="utf-8"))
    if group_file.parent.name == "data":
        assert config.data.labels == declared["labels"] and config.data.task == declared["task"]


def test_every_family_has_a_config_file_and_one_registry_entry() -> None:
    from framing.config import MODEL_FAMILIES
    from framing.models.base import model_class
    from framing.models.families import FAMILIES

    assert tuple(FAMILIES) == MODEL_FAMILIES
    for name, family in FAMILIES.items():
        config = load_config([f"model={name}"], REAL_CONFIG_DIR)
        assert isinstance(config.model, family.config) and config.model.family == name
        assert model_class(name).family == name


def test_help_config_lists_every_key_with_a_description(capsys: pytest.CaptureFixture[str]) -> None:
    from framing.cli import main

    assert main(["train", "--help-config"]) == 0
    printed = capsys.readouterr().out.splitlines()
    keys = {line.split()[0] for line in printed}
    expected = {"seed", "data.train", "model.C", "model.eval_batch_size", "tracking.request_timeout", "sweep.metric"}
    assert expected <= keys
    assert not [line for line in printed if line.rstrip().endswith(":")], "a key without a description"
