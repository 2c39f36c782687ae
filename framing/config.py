"""Typed run configuration, composed from YAML groups, an experiment file and overrides.

Composition order (later wins), in the spirit of lightning-hydra-template but
without its machinery:

1. ``configs/config.yaml``: top-level keys and ``defaults``, the file chosen
   for each group (``data``, ``model``, ``train``, ``tracking``);
2. ``experiments/NAME.yaml`` when ``experiment=NAME`` is given: its own
   ``defaults`` pick group files, the rest overrides only what changes;
3. ``group=name`` arguments (``model=transformer``) pick group files;
4. ``key=value`` arguments (``model.C=2``, ``seed=7``).

OmegaConf merges the YAML; pydantic validates the result once into frozen
objects, so an unknown key or a bad value fails before any work starts, with a
message naming the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException
from pydantic import Field, ValidationError, field_validator

from framing.config_base import ModelSettings, StrictConfig
from framing.data.adapters import ADAPTERS
from framing.errors import ConfigError
from framing.models.families import FAMILIES
from framing.models.tfidf import TfidfConfig as TfidfConfig
from framing.models.transformer import TransformerConfig as TransformerConfig

GROUPS = ("data", "model", "train", "tracking")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The same default as scoring's --max-paragraph-chars: a longer "paragraph" is almost always a
# whole document or a broken file, and would train (or score) silently for minutes.
MAX_PARAGRAPH_CHARS = 20_000
MAX_SEED = 2**32 - 1  # numpy's seed range


# A public dataset's own format, by the adapters' registry (framing.data.adapters); generic = the columns below.
AdapterName = Literal[("generic", *ADAPTERS)]  # type: ignore[valid-type]


class DataConfig(StrictConfig):
    """Where the labelled paragraphs are and how to read them."""

    train: Path = Field(description="Training rows: a CSV, JSON Lines or Parquet file, or a datasets folder.")
    validation: Path = Field(description="Validation rows: early stopping and threshold tuning, never fitting.")
    test: Path | None = Field(
        default=None, description="Test rows, used for nothing but the reported scores; none: no test metrics."
    )
    unlabelled: Path | None = Field(
        default=None,
        description="Unlabelled paragraphs of the same kind of text (any input predict.py reads), on which a "
        "transformer's cascade student learns to mimic it; paragraphs equal to a validation or test row are left out.",
    )
    format: Literal["auto", "csv", "jsonl", "parquet", "hf"] = Field(
        default="auto",
        description="File format of the splits; auto: from the extension (a folder is a datasets folder).",
    )
    adapter: AdapterName = Field(
        default="generic",
        description="A public dataset's own format (framing.data.adapters); generic = the columns below.",
    )
    adapter_options: dict[str, Any] = Field(
        default_factory=dict, description="Keyword options of the adapter, e.g. {task: opinion} for babe."
    )
    text_column: str = Field(default="text", description="Column holding the paragraph text.")
    label_column: str | None = Field(
        default="labels",
        description="Column holding the labels: a list, a JSON list or a label_delimiter-separated string.",
    )
    label_columns: list[str] | None = Field(
        default=None, description="Wide format: one 0/1 column per label, used instead of label_column."
    )
    label_delimiter: str = Field(default="|", description="Separator of labels written as one string in label_column.")
    id_column: str | None = Field(
        default="id", description="Column of unique row ids; none: the split's name and the row number."
    )
    group_column: str | None = Field(
        default="article_id",
        description="Column naming each row's article: splits, folds and leakage checks keep an article "
        "whole; none: each row is its own article.",
    )
    task: Literal["multilabel", "multiclass"] = Field(
        default="multilabel", description="multilabel: zero or more labels per row; multiclass: exactly one."
    )
    labels: list[str] | None = Field(
        default=None, description="The label set in order; a row with another label is an error."
    )
    requires_news_media: list[str] = Field(
        default_factory=list,
        description="Labels decided only for paragraphs that refer to the news media (framing.mentions): "
        "elsewhere their probability is 0, in training, evaluation and scoring alike. Multi-label tasks only; "
        "labels the data does not have are left out.",
    )
    bad_rows: Literal["error", "skip"] = Field(
        default="error",
        description="error: stop at the first bad row; skip: count it, write it to rejects_dir and go on.",
    )
    rejects_dir: Path = Field(default=Path("rejects"), description="Where rejects.jsonl goes under bad_rows: skip.")
    deduplicate: bool = Field(
        default=False,
        description="Drop exact copies (normalised text) within and across splits before the duplicate check; "
        "test is kept whole, then validation, then train. Every removal is counted and logged.",
    )
    duplicate_check: bool = Field(
        default=True, description="Refuse exact or near copies across splits and articles in two splits."
    )
    near_duplicate_threshold: float = Field(
        default=0.9, gt=0.0, le=1.0, description="Character 4-gram cosine at which two paragraphs count as near copies."
    )
    max_paragraph_chars: int = Field(
        default=MAX_PARAGRAPH_CHARS,
        ge=1,
        description="A longer text is a bad row (an error, or a reject under bad_rows: skip); "
        "the same limit as scoring's --max-paragraph-chars.",
    )

    @field_validator("label_delimiter")
    @classmethod
    def _delimiter_not_empty(cls, value: str) -> str:
        if not value:
            raise ValueError("must not be empty")
        return value


# The ``model`` section: one settings class per family, each declared in its family's module
# (framing.models.families lists them); ``family`` picks which.
MODEL_FAMILIES = tuple(FAMILIES)
if TYPE_CHECKING:
    ModelConfig = ModelSettings
else:
    ModelConfig = Annotated[Union[tuple(f.config for f in FAMILIES.values())], Field(discriminator="family")]  # noqa: UP007


class TrainConfig(StrictConfig):
    """Decision thresholds and evaluation settings."""

    tune_thresholds: bool = Field(
        default=True, description="Tune each label's threshold on validation; else use default_threshold for all."
    )
    default_threshold: float = Field(
        default=0.5,
        gt=0.0,
        lt=1.0,
        description="Threshold of every label when tuning is off, and the reference 'default' metrics.",
    )
    min_threshold: float = Field(default=0.05, gt=0.0, lt=1.0, description="Lowest threshold tuning may choose.")
    max_threshold: float = Field(default=0.95, gt=0.0, lt=1.0, description="Highest threshold tuning may choose.")
    threshold_beta: float = Field(
        default=1.0,
        gt=0.0,
        description="Tuning maximises F-beta: 1 is F1; 0.5 weighs precision twice as much as recall.",
    )
    error_analysis_rows: int = Field(
        default=25, ge=0, description="Worst false positives and negatives logged per label and split."
    )


class TrackingConfig(StrictConfig):
    """Where runs go. ``uri: null`` means $MLFLOW_TRACKING_URI, else the embedded SQLite store."""

    uri: str | None = Field(
        default=None, description="Tracking store; none: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db."
    )
    artifact_root: Path = Field(
        default=Path("mlartifacts"), description="Artifact folder of a new experiment on a local store."
    )
    experiment: str = Field(
        default="framing", description="MLflow experiment the run is logged to (not the experiments/NAME.yaml overlay)."
    )
    run_name: str | None = Field(
        default=None, description="Name of the MLflow run; none: <experiment or family>-<data>-<random suffix>."
    )
    model_name: str | None = Field(default=None, description="Register the model under this name.")
    alias: str | None = Field(default=None, description="Alias set on the registered version.")
    tags: dict[str, str] = Field(default_factory=dict, description="Tags set on the run as soon as it opens.")
    request_timeout: int | None = Field(
        default=None,
        ge=1,
        description="Seconds per request to a tracking server (MLFLOW_HTTP_REQUEST_TIMEOUT); "
        "None: that variable if set, else 5.",
    )
    request_max_retries: int | None = Field(
        default=None,
        ge=0,
        le=10,
        description="Retries of a failed request to a tracking server (MLFLOW_HTTP_REQUEST_MAX_RETRIES); "
        "None: that variable if set, else 2.",
    )


class SweepConfig(StrictConfig):
    """A grid over config keys, declared in an experiment file; each combination is one nested run.

    ``params`` maps a dotted key (``model.C``) to the values to try. The best
    trial is chosen on ``metric``, a validation metric by default, so the test
    split stays out of model selection.
    """

    method: Literal["grid"] = Field(default="grid", description="How the grid is walked; only grid: every combination.")
    params: dict[str, list[Any]] = Field(
        min_length=1, description="Dotted config key to the list of values to try, e.g. model.C: [1, 4]."
    )
    metric: str = Field(
        default="validation/tuned/f1_macro",
        description="Metric that picks the best trial; a validation metric keeps the test split out of selection.",
    )
    direction: Literal["maximize", "minimize"] = Field(
        default="maximize", description="Whether the best trial has the highest or the lowest metric."
    )

    @field_validator("params")
    @classmethod
    def _values_not_empty(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in value.items():
            if not values:
                raise ValueError(f"{key}: give at least one value")
            if key.split(".")[0] in {"sweep", "experiment"}:
                raise ValueError(f"{key}: cannot be swept")
        return value


class Config(StrictConfig):
    """The whole resolved configuration of one training run."""

    seed: int = Field(
        default=42,
        ge=0,
        le=MAX_SEED,
        description="Seed of data order, model initialisation and dropout: the same seed gives the same CPU run.",
    )
    experiment: str | None = Field(
        default=None,
        description="The experiments/NAME.yaml overlay applied (experiment=NAME), "
        "not the MLflow experiment (tracking.experiment).",
    )
    resume: bool = Field(default=False, description="Continue the last checkpointed run of this same config.")
    checkpoint_dir: Path = Field(
        default=Path("checkpoints"),
        description="Where families that checkpoint keep a run's resumable state until it finishes.",
    )
    data: DataConfig = Field(description="The labelled paragraphs and how to read them.")
    model: ModelConfig = Field(description="The model family (family: tfidf, transformer, ...) and its settings.")
    train: TrainConfig = Field(default=TrainConfig(), description="Decision thresholds and evaluation.")
    tracking: TrackingConfig = Field(
        default=TrackingConfig(), description="Where the run is logged and what is registered."
    )
    sweep: SweepConfig | None = Field(
        default=None, description="A grid of runs under one parent run; declared in an experiment file."
    )

    def with_tracking(self, **updates: Any) -> Config:
        """This config with some tracking settings replaced (a nested run's name, tags, no registration)."""
        return self.model_copy(update={"tracking": self.tracking.model_copy(update=updates)})

    def to_dict(self) -> dict[str, Any]:
        """Plain, YAML-safe values (paths as strings), as logged with the run."""
        return self.model_dump(mode="json")


def default_config_dir() -> Path:
    """``configs/`` of the working directory when present, else the project's own."""
    local = Path("configs")
    return local if (local / "config.yaml").is_file() else PROJECT_ROOT / "configs"


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return loaded


def _split_overrides(overrides: list[str]) -> tuple[dict[str, str], list[str]]:
    """Separate ``group=name`` choices from ``dotted.key=value`` overrides."""
    choices: dict[str, str] = {}
    dotlist: list[str] = []
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r}: expected key=value")
        if key in GROUPS or key == "experiment":
            choices[key] = value
        else:
            dotlist.append(item)
    return choices, dotlist


def _available(folder: Path) -> str:
    return ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))


def _named_file(folder: Path, name: str, what: str) -> Path:
    """``folder/<name>.yaml``, refusing a name that is a path: a choice may not read outside its folder."""
    if not name or name != Path(name).name or name.startswith(".") or "\\" in name:
        raise ConfigError(f"{what}={name}: not a file name in {folder} (available: {_available(folder)})")
    return folder / f"{name}.yaml"


def compose(overrides: list[str] | None = None, config_dir: Path | None = None) -> dict[str, Any]:
    """Merge the YAML layers into one plain dict (not yet validated)."""
    config_dir = config_dir or default_config_dir()
    choices, dotlist = _split_overrides(list(overrides or []))
    base = _read_yaml(config_dir / "config.yaml")
    selected: dict[str, str] = dict(base.pop("defaults", {}) or {})
    experiment_body: dict[str, Any] = {}
    experiment = choices.pop("experiment", None) or base.get("experiment")
    if experiment:
        experiment_body = _read_yaml(_named_file(config_dir.parent / "experiments", str(experiment), "experiment"))
        selected.update(experiment_body.pop("defaults", {}) or {})
        base["experiment"] = experiment
    selected.update(choices)
    layers: list[Any] = [base]
    for group, name in selected.items():
        if group not in GROUPS:
            raise ConfigError(f"defaults: unknown config group {group!r} (groups: {', '.join(GROUPS)})")
        group_file = _named_file(config_dir / group, str(name), group)
        if not group_file.is_file():
            raise ConfigError(f"{group}={name}: no {group_file} (available: {_available(config_dir / group)})")
        layers.append({group: _read_yaml(group_file)})
    layers.append(experiment_body)
    try:
        layers.append(OmegaConf.from_dotlist(dotlist))
        merged = OmegaConf.merge(*[OmegaConf.create(layer) for layer in layers])
        resolved = OmegaConf.to_container(merged, resolve=True)
    except (OmegaConfBaseException, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot compose config: {' '.join(str(exc).split())}") from None
    assert isinstance(resolved, dict)
    return {str(k): v for k, v in resolved.items()}


def validate(raw: dict[str, Any]) -> Config:
    """Validate a composed dict; the error names every bad key and why."""
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = list(error["loc"])
            if len(loc) > 1 and loc[0] == "model" and loc[1] in MODEL_FAMILIES:
                del loc[1]  # the union's tag: "model.C", not "model.tfidf.C"
            key = ".".join(str(part) for part in loc)
            value = error.get("input")
            shown = "" if error["type"] in {"missing", "extra_forbidden"} else f" (got {value!r:.80})"
            message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"{key}: {message}{shown}")
        raise ConfigError("invalid config: " + "; ".join(problems)) from None


def load_config(overrides: list[str] | None = None, config_dir: Path | None = None) -> Config:
    """Compose and validate: the one way the rest of the package gets a ``Config``."""
    return validate(compose(overrides, config_dir))


def config_reference() -> str:
    """Every config key with its type, default and description: what ``framing train --help-config`` prints.

    The model section is listed once per family (``model=NAME`` picks one); the
    defaults are the settings classes' own, which the YAML files under
    ``configs/`` may override (``configs/data/*.yaml`` name the required splits).
    """
    lines: list[tuple[str, str]] = []
    _reference_lines(Config, "", lines)
    width = max(len(key) for key, _ in lines)
    return "\n".join(f"{key:<{width}}  {detail}" for key, detail in lines)


def _reference_lines(section: type[StrictConfig], prefix: str, lines: list[tuple[str, str]]) -> None:
    for name, field in section.model_fields.items():
        key = f"{prefix}{name}"
        if key == "model":
            for family in FAMILIES.values():
                lines.append((f"model (model={family.name})", (family.config.__doc__ or "").splitlines()[0]))
                _reference_lines(family.config, "model.", lines)
            continue
        candidates = (field.annotation, *get_args(field.annotation))
        nested = [t for t in candidates if isinstance(t, type) and issubclass(t, StrictConfig)]
        if nested:
            lines.append((key, field.description or ""))
            _reference_lines(nested[0], f"{key}.", lines)
            continue
        lines.append((key, f"{_type_name(field.annotation)}, {_default_text(field)}: {field.description or ''}"))


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type) and not get_args(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("pathlib.", "")


def _default_text(field: Any) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    return f"default '{value}'" if isinstance(value, Path) else f"default {value!r}"
