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
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

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

    train: Path
    validation: Path
    test: Path | None = None
    format: Literal["auto", "csv", "jsonl", "parquet", "hf"] = "auto"
    adapter: AdapterName = Field(
        default="generic",
        description="A public dataset's own format (framing.data.adapters); generic = the columns below.",
    )
    adapter_options: dict[str, Any] = Field(
        default_factory=dict, description="Keyword options of the adapter, e.g. {task: opinion} for babe."
    )
    text_column: str = "text"
    label_column: str | None = "labels"
    label_columns: list[str] | None = Field(
        default=None, description="Wide format: one 0/1 column per label, used instead of label_column."
    )
    label_delimiter: str = "|"
    id_column: str | None = "id"
    group_column: str | None = "article_id"
    task: Literal["multilabel", "multiclass"] = "multilabel"
    labels: list[str] | None = Field(
        default=None, description="The label set in order; a row with another label is an error."
    )
    bad_rows: Literal["error", "skip"] = "error"
    rejects_dir: Path = Path("rejects")
    deduplicate: bool = Field(
        default=False,
        description="Drop exact copies (normalised text) within and across splits before the duplicate check; "
        "test is kept whole, then validation, then train. Every removal is counted and logged.",
    )
    duplicate_check: bool = True
    near_duplicate_threshold: float = Field(default=0.9, gt=0.0, le=1.0)
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

    tune_thresholds: bool = True
    default_threshold: float = Field(default=0.5, gt=0.0, lt=1.0)
    min_threshold: float = Field(default=0.05, gt=0.0, lt=1.0)
    max_threshold: float = Field(default=0.95, gt=0.0, lt=1.0)
    error_analysis_rows: int = Field(default=25, ge=0)


class TrackingConfig(StrictConfig):
    """Where runs go. ``uri: null`` means $MLFLOW_TRACKING_URI, else the embedded SQLite store."""

    uri: str | None = None
    artifact_root: Path = Path("mlartifacts")
    experiment: str = "framing"
    run_name: str | None = None
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

    method: Literal["grid"] = "grid"
    params: dict[str, list[Any]] = Field(min_length=1)
    metric: str = "validation/tuned/f1_macro"
    direction: Literal["maximize", "minimize"] = "maximize"

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

    seed: int = Field(default=42, ge=0, le=MAX_SEED)
    experiment: str | None = None
    resume: bool = Field(default=False, description="Continue the last checkpointed run of this same config.")
    checkpoint_dir: Path = Path("checkpoints")
    data: DataConfig
    model: ModelConfig
    train: TrainConfig = TrainConfig()
    tracking: TrackingConfig = TrackingConfig()
    sweep: SweepConfig | None = None

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
