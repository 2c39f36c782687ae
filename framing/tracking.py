"""MLflow's writer: where runs go, their life cycle, what they log, the registry.

This module decides where runs go (embedded SQLite store by default, a server
when configured) and checks that it can be written or reached, owns the run's
life cycle (a crash ends it FAILED, SIGTERM KILLED, never RUNNING), opens the
keyed parent run of a sweep or a cross-validation (``parent_run``) and logs
config, data fingerprints, metrics, figures, tables and exactly one model,
which it loads back once. Training, sweeps and cross-validation open runs
only through it. The other modules that import ``mlflow`` do so for one job
each: ``pyfunc_model`` is the logged model's code, ``compare`` reads runs back,
and ``results`` logs a run's intervals, predictions and description into the
run this module opened and reads a run's predictions back for ``paired``.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import mlflow
import pandas as pd
from mlflow.data.pandas_dataset import from_pandas
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from framing.config import Config, TrackingConfig
from framing.data.dataset import LabelledSet
from framing.errors import FramingError, ModelLoadError
from framing.models.base import StopSignal, TrainingTerminated, model_family
from framing.package import PACKAGE_ARTIFACT, Predictor, library_versions, load_model

P = ParamSpec("P")
R = TypeVar("R")
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
MODEL_NAME_IN_RUN = "model"
DEFAULT_MODEL_NAME = "framing"
CHAMPION_ALIAS = "champion"
# MLflow 3's UI opens an experiment in the GenAI (traces) view unless told it is for model training.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
PACKAGE_DIR = Path(__file__).resolve().parent
# MLflow's own defaults (120 s, 7 retries with backoff) wait about four minutes on a dead server.
REQUEST_TIMEOUT_ENV = "MLFLOW_HTTP_REQUEST_TIMEOUT"
REQUEST_RETRIES_ENV = "MLFLOW_HTTP_REQUEST_MAX_RETRIES"
DEFAULT_REQUEST_TIMEOUT = 5
DEFAULT_REQUEST_MAX_RETRIES = 2
# What every logged model needs; a family adds its own (ModelFamily.requirements).
BASE_REQUIREMENTS = ("mlflow", "scikit-learn", "skops", "pandas", "numpy", "pyarrow", "pydantic", "omegaconf", "pyyaml")


class TrackingStoreError(FramingError):
    """The tracking store cannot be reached or written: nothing was trained."""


def resolve_tracking_uri(config: TrackingConfig) -> str:
    """Config key first, then ``MLFLOW_TRACKING_URI``, then the embedded SQLite store."""
    return config.uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def _is_local_store(uri: str) -> bool:
    return uri.startswith(("sqlite:", "file:")) or "://" not in uri


def apply_request_settings(config: TrackingConfig) -> None:
    """Set MLflow's documented request variables from ``tracking.request_*``.

    A key left at None keeps a variable the user exported and otherwise sets
    the project's short default, so a dead server fails in seconds.
    """
    settings = (
        (REQUEST_TIMEOUT_ENV, config.request_timeout, DEFAULT_REQUEST_TIMEOUT),
        (REQUEST_RETRIES_ENV, config.request_max_retries, DEFAULT_REQUEST_MAX_RETRIES),
    )
    for variable, value, default in settings:
        if value is not None:
            os.environ[variable] = str(value)
        else:
            os.environ.setdefault(variable, str(default))


def use_tracking_uri(config: TrackingConfig) -> str:
    """Point MLflow at the configured store and return its URI."""
    uri = resolve_tracking_uri(config)
    apply_request_settings(config)
    mlflow.set_tracking_uri(uri)
    return uri


def _local_store_path(uri: str) -> Path | None:
    """The file of a SQLite store or the folder of a file store; None for a server or an in-memory database."""
    if uri.startswith("sqlite:"):
        from sqlalchemy.engine import make_url

        database = make_url(uri).database
        return Path(database) if database and database != ":memory:" else None
    if uri.startswith("file:"):
        from urllib.parse import urlparse
        from urllib.request import url2pathname

        return Path(url2pathname(urlparse(uri).path))
    return Path(uri) if "://" not in uri else None


def _unwritable(folder: Path) -> str | None:
    """Why nothing can be written in ``folder`` (created if missing), or None when a probe file can be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _check_local_store(uri: str, path: Path) -> None:
    """SQLite writes the database and a journal beside it; a file store writes folders under it."""
    folder = path.parent if uri.startswith("sqlite:") else path
    reason = _unwritable(folder)
    if reason is None and uri.startswith("sqlite:") and path.exists():
        try:
            with open(path, "ab"):
                pass
        except OSError as exc:
            reason = exc.strerror or str(exc)
            folder = path
    if reason is not None:
        raise TrackingStoreError(
            f"tracking store {uri}: cannot write to {folder} ({reason}); make it writable or point "
            "tracking.uri (or MLFLOW_TRACKING_URI) at a writable place"
        )


def _connection_problem(exc: BaseException) -> str | None:
    """The useful part of MLflow's long request error ("Connection refused", "Read timed out"), if it is one."""
    text = " ".join(str(exc).split())
    for pattern in (r"\[Errno -?\d+\] ([^'\")\]]+)", r"(Read timed out|Connect timeout|timed out)"):
        match = re.search(pattern, text)
        if match:
            return match.group(1).strip()
    return None


def _unreachable(uri: str, exc: BaseException) -> TrackingStoreError:
    problem = _connection_problem(exc)
    if problem is None:  # it answered, with an error (authentication, a proxy's page, ...)
        text = " ".join(str(exc).split())
        return TrackingStoreError(f"tracking server {uri} refused a request: {text[:300]}")
    timeout = os.environ.get(REQUEST_TIMEOUT_ENV, DEFAULT_REQUEST_TIMEOUT)
    retries = os.environ.get(REQUEST_RETRIES_ENV, DEFAULT_REQUEST_MAX_RETRIES)
    return TrackingStoreError(
        f"tracking server {uri} did not answer ({problem}; {timeout} s timeout, {retries} retries): "
        "check that the server is running and the URI (tracking.uri or MLFLOW_TRACKING_URI) is right; "
        f"tracking.request_timeout and tracking.request_max_retries ({REQUEST_TIMEOUT_ENV}, {REQUEST_RETRIES_ENV}) "
        "set how long to wait"
    )


def check_store(config: TrackingConfig) -> str:
    """Fail in seconds, with one line, when runs could not be recorded; returns the store's URI.

    A local store must be writable; a server must answer one small request
    within ``tracking.request_timeout`` and ``tracking.request_max_retries``.
    """
    uri = use_tracking_uri(config)
    path = _local_store_path(uri)
    if path is not None:
        _check_local_store(uri, path)
    else:
        _probe_server(uri)
    return uri


def use_reachable_store(config: TrackingConfig) -> str:
    """Point MLflow at the store for reading (compare, promote); a server must answer. Returns the URI."""
    uri = use_tracking_uri(config)
    if _local_store_path(uri) is None:
        _probe_server(uri)
    return uri


def _probe_server(uri: str) -> None:
    """One small request, within the request timeout and retries set by ``apply_request_settings``."""
    try:
        MlflowClient().search_experiments(max_results=1)
    except Exception as exc:  # MLflow wraps connection errors, timeouts and HTTP errors in several types
        raise _unreachable(uri, exc) from None


def use_tracking(config: TrackingConfig) -> str:
    """Point MLflow at the configured store; returns the experiment id (created if needed).

    A new experiment on a local store gets its artifacts under
    ``tracking.artifact_root`` in the working directory; on a server the
    server's artifact root applies.
    """
    uri = check_store(config)
    with _store_setup_lock(uri):
        return _get_or_create_experiment(config, uri)


@contextmanager
def _store_setup_lock(uri: str) -> Iterator[None]:
    """Two processes opening a new SQLite store at once: one creates its tables, the other waits.

    Without it both run MLflow's schema migration and one fails ("duplicate
    column"), or both create the experiment and one fails. A server needs none.
    """
    path = _local_store_path(uri) if uri.startswith("sqlite:") else None
    if path is None:
        yield
        return
    from filelock import FileLock

    with FileLock(f"{path}.lock"):
        yield


def _get_or_create_experiment(config: TrackingConfig, uri: str) -> str:
    client = MlflowClient()
    experiment = client.get_experiment_by_name(config.experiment)
    if experiment is not None:
        if EXPERIMENT_KIND_TAG not in experiment.tags:
            client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
        _check_artifact_location(uri, experiment.artifact_location)
        return str(experiment.experiment_id)
    location = config.artifact_root.resolve().as_uri() if _is_local_store(uri) else None
    if location is not None:
        _check_artifact_location(uri, location)
    return str(
        client.create_experiment(
            config.experiment, artifact_location=location, tags={EXPERIMENT_KIND_TAG: EXPERIMENT_KIND}
        )
    )


def _check_artifact_location(uri: str, location: str | None) -> None:
    """A local artifact folder must be writable too, or the run fails only when it logs its model."""
    if not location or not location.startswith("file:"):
        return
    folder = _local_store_path(location)
    reason = _unwritable(folder) if folder is not None else None
    if reason is not None:
        raise TrackingStoreError(
            f"tracking store {uri}: cannot write artifacts to {folder} ({reason}); make it writable or set "
            "tracking.artifact_root (a new experiment) or tracking.experiment"
        )


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested config -> {"model.C": "4.0", ...} for MLflow params."""
    flat: dict[str, str] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def _git_commit() -> tuple[str, bool] | None:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = bool(
            subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, check=True).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit, dirty


def _shielded(method: Callable[Concatenate[RunLogger, P], R]) -> Callable[Concatenate[RunLogger, P], R]:
    """A logging call is never cut short by SIGTERM: MLflow would turn the interrupted database
    write into its own error and traceback. The stop waits for the call to return."""

    @functools.wraps(method)
    def guarded(self: RunLogger, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.stop.deferred():
            return method(self, *args, **kwargs)

    return guarded


class RunLogger:
    """Logging calls for the active run; created by ``start_run``."""

    def __init__(self, run: Any, stop: StopSignal | None = None) -> None:
        self.run = run
        self.run_id: str = run.info.run_id
        self.stop = stop or StopSignal()

    @_shielded
    def log_config(self, config: Config) -> None:
        values = config.to_dict()
        mlflow.log_dict(values, "config.yaml")
        # `resume` changes between a killed run and its continuation; params are write-once.
        resumed = values.pop("resume", False)
        values.pop("sweep", None)  # a trial's config has none; the sweep's parent run logs its own
        mlflow.log_params(flatten(values))
        tags = {f"version.{name}": version for name, version in library_versions().items()}
        tags["seed"] = str(config.seed)
        tags["model_family"] = config.model.family
        if resumed:
            tags["resumed"] = "true"
        git = _git_commit()
        if git:
            tags["mlflow.source.git.commit"] = git[0]
            tags["git_dirty"] = str(git[1]).lower()
        mlflow.set_tags(tags)

    @_shielded
    def log_split(self, split: LabelledSet, fingerprint: str) -> None:
        """Register the split as an MLflow dataset input (name, digest, source, schema)."""
        frame = split.to_frame()
        frame["labels"] = frame["labels"].map(lambda labels: "|".join(labels))
        with warnings.catch_warnings():
            # A plain path matches two equivalent local source types; MLflow warns and picks one.
            warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted")
            dataset = from_pandas(frame, source=str(split.path.resolve()), name=split.name)
        mlflow.log_input(dataset, context=split.name)
        mlflow.log_param(f"data.{split.name}_sha256", fingerprint)
        mlflow.log_param(f"data.{split.name}_rows", len(split))

    @_shielded
    def log_metrics(self, metrics: Mapping[str, float], prefix: str = "") -> None:
        mlflow.log_metrics({f"{prefix}{name}": value for name, value in metrics.items()})

    @_shielded
    def log_step_metrics(self, metrics: dict[str, float], step: int) -> None:
        """Metrics of one training step or epoch, plotted against ``step`` in the UI."""
        mlflow.log_metrics(metrics, step=step)

    @_shielded
    def log_figure(self, figure: Any, path: str) -> None:
        import matplotlib.pyplot as plt

        mlflow.log_figure(figure, path)
        plt.close(figure)

    @_shielded
    def log_table(self, frame: pd.DataFrame, path: str) -> None:
        """Log as an MLflow table (viewable in the UI) and as CSV."""
        mlflow.log_table(frame, artifact_file=f"{path}.json")
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / f"{Path(path).name}.csv"
            frame.to_csv(target, index=False)
            mlflow.log_artifact(str(target), artifact_path=str(Path(path).parent) if "/" in path else None)

    @_shielded
    def log_text(self, text: str, path: str) -> None:
        mlflow.log_text(text, path)

    @_shielded
    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        mlflow.log_artifact(str(path), artifact_path=artifact_path)

    @_shielded
    def log_model(self, predictor: Predictor, example_texts: list[str]) -> str:
        """Log the single model of the run as a pyfunc defined from code; returns its URI."""
        example = pd.DataFrame({"text": example_texts})
        signature = infer_signature(example, predictor.predict(example_texts))
        versions = library_versions()
        needed = [*BASE_REQUIREMENTS, *model_family(predictor.model.family).requirements]
        requirements = [f"{name}=={versions[name]}" for name in needed if name in versions]
        with tempfile.TemporaryDirectory() as tmp:
            package_dir = predictor.save(Path(tmp) / PACKAGE_ARTIFACT, extra={"run_id": self.run_id})
            size = sum(f.stat().st_size for f in package_dir.rglob("*") if f.is_file())
            mlflow.log_metric("model/size_mb", size / 2**20)
            mlflow.pyfunc.log_model(
                name=MODEL_NAME_IN_RUN,
                python_model=str(PACKAGE_DIR / "pyfunc_model.py"),
                artifacts={PACKAGE_ARTIFACT: str(package_dir)},
                code_paths=[str(PACKAGE_DIR)],
                signature=signature,
                input_example=example,
                pip_requirements=requirements,
                metadata={
                    "labels": predictor.labels,
                    "task": predictor.task,
                    "thresholds": None if predictor.thresholds is None else [float(t) for t in predictor.thresholds],
                },
            )
        return f"runs:/{self.run_id}/{MODEL_NAME_IN_RUN}"


def default_run_name(config: Config) -> str:
    """``tracking.run_name``, or what ran and a random suffix: ``transformer-framing_real-3f9a2c``.

    MLflow's own generated names come from Python's ``random``, which the run
    has just seeded: every run of one seed would get the same "random" name.
    The suffix comes from the operating system instead, so names stay distinct.
    """
    if config.tracking.run_name:
        return config.tracking.run_name
    what = config.experiment or config.model.family
    return f"{what}-{_data_name(config)}-{secrets.token_hex(3)}"


def _data_name(config: Config) -> str:
    """The adapter's name, or the training file's: its folder's where the file is just ``train``."""
    if config.data.adapter != "generic":
        return config.data.adapter
    train = config.data.train
    folder = train.resolve().parent.name
    return folder if train.stem.lower().startswith("train") and folder else train.stem


@contextmanager
def start_run(config: Config, run_id: str | None = None, stop: StopSignal | None = None) -> Iterator[RunLogger]:
    """Open a run (or reopen ``run_id`` to resume it); an exception ends it FAILED, SIGTERM KILLED.

    With ``stop`` (the SIGTERM handler's signal), a SIGTERM while the run is
    being opened waits until it can end the run KILLED, and one after the
    work is done lets the run end FINISHED: neither leaves it RUNNING.
    """
    stop = stop or StopSignal()
    experiment_id = use_tracking(config.tracking)
    # Inside a sweep's parent run, a training run is its nested child.
    nested = mlflow.active_run() is not None
    with stop.held():
        if run_id is not None:
            opened = mlflow.start_run(run_id=run_id, nested=nested)
        else:
            opened = mlflow.start_run(experiment_id=experiment_id, run_name=default_run_name(config), nested=nested)
    with opened as run, killed_on_termination():
        stop.check()
        if run_id is None and config.tracking.tags:
            mlflow.set_tags(config.tracking.tags)
        yield RunLogger(run, stop)
        stop.deferring = True  # finished: a late SIGTERM is re-sent once the run has ended (training.sigterm_stops)


@contextmanager
def killed_on_termination() -> Iterator[None]:
    """Inside an open run: SIGTERM (``TrainingTerminated``) ends it KILLED, not FAILED and never RUNNING."""
    try:
        yield
    except TrainingTerminated:
        mlflow.end_run("KILLED")  # stopped from outside, not a failure of the run itself
        raise


def verify_logged_model(model_uri: str, texts: list[str], labels: list[str], cascade: bool = False) -> None:
    """Load the logged model as ``framing.load_model`` does and predict ``texts``.

    A run is only as good as the model it logged: one that cannot be loaded
    (an untrusted type, a missing file) must end the run FAILED, not FINISHED.
    """
    try:
        frame = load_model(model_uri).predict(texts)
    except Exception as exc:  # whatever stops loading or predicting, the model is unusable
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise ModelLoadError(f"the logged model {model_uri} failed its load-and-predict check: {reason}") from None
    expected = ["labels", *[f"p_{label}" for label in labels], *(["decided_by"] if cascade else [])]
    if list(frame.columns) != expected or len(frame) != len(texts):
        raise ModelLoadError(
            f"the logged model {model_uri} failed its load-and-predict check: got columns {list(frame.columns)} "
            f"for {len(frame)} of {len(texts)} texts, expected {expected}"
        )


@dataclass
class ParentRun:
    """An open parent run (a sweep's or a cross-validation's) and the children it finished earlier.

    Children are the nested training runs, each tagged ``child_tag`` with its
    key when it opens; ``finished`` maps the key of each FINISHED child to its
    run id: the work not to redo.
    """

    run_id: str
    reopened: bool
    finished: dict[str, str]
    skipped: list[int] = field(default_factory=list)
    name: str = ""

    def run_children(
        self,
        keys: Sequence[str],
        run_child: Callable[[int], str],
        name: Callable[[int], str],
        log: Callable[[str], None],
    ) -> list[str]:
        """Each child's run id, in order: a finished one is skipped (its index in ``skipped``), the rest run.

        ``run_child(index)`` runs the child and returns its run id; ``name(index)``
        names it in the log line of a skipped child.
        """
        run_ids = []
        for index, key in enumerate(keys):
            if key in self.finished:
                run_ids.append(self.finished[key])
                self.skipped.append(index)
                log(f"{name(index)}: finished earlier, skipped")
                continue
            run_ids.append(run_child(index))
        return run_ids

    def child_metrics(self, run_id: str) -> dict[str, float]:
        """The metrics a child logged (last value of each)."""
        return dict(MlflowClient().get_run(run_id).data.metrics)

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        mlflow.log_metrics(dict(metrics))

    def set_tags(self, tags: Mapping[str, str]) -> None:
        mlflow.set_tags(dict(tags))

    def log_table(self, frame: pd.DataFrame, artifact_file: str) -> None:
        mlflow.log_table(frame, artifact_file=artifact_file)


@contextmanager
def parent_run(
    tracking: TrackingConfig,
    key_tag: str,
    key: str,
    child_tag: str,
    *,
    name: str,
    tags: Mapping[str, str],
    params: Mapping[str, Any],
    config: Mapping[str, Any],
    config_file: str,
) -> Iterator[ParentRun]:
    """Open the parent run keyed ``key_tag = key``, or reopen the newest one to continue it.

    A new parent gets the key and ``tags``, ``params`` and ``config`` (as
    ``config_file``); a reopened one keeps what it logged (params are write-once).
    Training runs opened inside are its nested children. SIGTERM ends the parent
    KILLED, an exception FAILED.
    """
    from framing.training import sigterm_stops

    experiment_id = use_tracking(tracking)
    earlier = find_keyed_run(experiment_id, key_tag, key)
    if not earlier:
        name = _unused_parent_name(experiment_id, key_tag, name)
    opened = (
        mlflow.start_run(run_id=earlier) if earlier else mlflow.start_run(experiment_id=experiment_id, run_name=name)
    )
    with sigterm_stops(StopSignal()), opened as run, killed_on_termination():
        run_id = run.info.run_id
        if not earlier:
            mlflow.set_tags({key_tag: key, **tags})
            mlflow.log_params(dict(params))
            mlflow.log_dict(dict(config), config_file)
        parent = ParentRun(run_id, earlier is not None, finished_children(experiment_id, run_id, child_tag))
        parent.name = str(run.info.run_name)
        yield parent


def _unused_parent_name(experiment_id: str, key_tag: str, name: str) -> str:
    """``name``, or ``name #2``, ``#3``... when parents of other settings (other keys) already use it.

    The same command reopens its own parent; only a sweep with other overrides
    or another grid gets here, and it should not look like the earlier one.
    """
    parents = MlflowClient().search_runs([experiment_id], filter_string=f"tags.`{key_tag}` != ''")
    taken = {str(run.info.run_name) for run in parents}
    if name not in taken:
        return name
    number = 2
    while f"{name} #{number}" in taken:
        number += 1
    return f"{name} #{number}"


def find_keyed_run(experiment_id: str, key_tag: str, key: str) -> str | None:
    """The newest run of the experiment tagged ``key_tag = key`` (a sweep's or a cross-validation's parent)."""
    earlier = MlflowClient().search_runs(
        [experiment_id], filter_string=f"tags.`{key_tag}` = '{key}'", order_by=["attributes.start_time DESC"]
    )
    return earlier[0].info.run_id if earlier else None


def finished_children(experiment_id: str, parent_id: str, tag: str) -> dict[str, str]:
    """``tag`` value -> run id of the parent's FINISHED nested runs that carry ``tag``: the work not to redo."""
    runs = MlflowClient().search_runs(
        [experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent_id}' and attributes.status = 'FINISHED'",
    )
    return {run.data.tags[tag]: run.info.run_id for run in runs if tag in run.data.tags}


@dataclass
class Registration:
    """What ``register`` did: the version that now holds the run's model, and whether it was made now."""

    run_id: str
    version: str
    created: bool


def _logged_model_id(client: MlflowClient, run_id: str) -> str:
    """The id of the model a run logged, so that registering it needs no guess (and no MLflow warning)."""
    run = client.get_run(run_id)
    outputs = [output.model_id for output in (run.outputs.model_outputs if run.outputs else [])]
    if not outputs:
        found = client.search_logged_models(
            experiment_ids=[run.info.experiment_id], filter_string=f"name = '{MODEL_NAME_IN_RUN}'"
        )
        outputs = [model.model_id for model in found if model.source_run_id == run_id]
    if not outputs:
        raise ModelLoadError(f"run {run_id} logged no model")
    return outputs[-1]


def register(run_id: str, name: str, alias: str | None) -> Registration:
    """Register the run's model under ``name`` once and point ``alias`` at it.

    A run already registered under ``name`` keeps its version (the latest, if
    an older release made several): promoting again only moves the alias.
    """
    client = MlflowClient()
    existing = client.search_model_versions(f"name = '{_quoted(name)}' and run_id = '{_quoted(run_id)}'")
    created = not existing
    if existing:
        version = str(max(int(item.version) for item in existing))
    else:
        model_id = _logged_model_id(client, run_id)
        try:
            client.create_registered_model(name)
        except mlflow.exceptions.MlflowException as exc:
            if exc.error_code not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
                raise
        made = client.create_model_version(name, source=f"models:/{model_id}", run_id=run_id, model_id=model_id)
        version = str(made.version)
    if alias:
        client.set_registered_model_alias(name, alias, version)
    return Registration(run_id, version, created)


def _quoted(value: str) -> str:
    """A value safe inside an MLflow filter's single quotes."""
    return value.replace("'", "\\'")


def resolve_run_id(run_id: str) -> str:
    """A full run id from a unique prefix of one (as ``git`` takes short commit ids)."""
    if re.fullmatch(r"[0-9a-f]{32}", run_id) or not re.fullmatch(r"[0-9a-f]+", run_id):
        return run_id  # a full id, or not an id at all: check_promotable says it is not there
    client = MlflowClient()
    experiments = [experiment.experiment_id for experiment in client.search_experiments()]
    matches = (
        client.search_runs(experiments, f"attributes.run_id LIKE '{run_id}%'", max_results=3) if experiments else []
    )
    if not matches:
        raise ModelLoadError(f"no run id starts with {run_id!r} in {mlflow.get_tracking_uri()}")
    if len(matches) > 1:
        shown = ", ".join(run.info.run_id for run in matches[:2]) + (", ..." if len(matches) > 2 else "")
        raise ModelLoadError(f"run id prefix {run_id!r} is ambiguous: it starts {shown}; give more characters")
    return str(matches[0].info.run_id)


def champion_uri(name: str = DEFAULT_MODEL_NAME, alias: str = CHAMPION_ALIAS) -> str | None:
    """``models:/<name>@<alias>`` if that alias is set in the registry of the current store, else None."""
    try:
        MlflowClient().get_model_version_by_alias(name, alias)
    except mlflow.exceptions.MlflowException:
        return None
    return f"models:/{name}@{alias}"


def promote(run_id: str, name: str = DEFAULT_MODEL_NAME, alias: str = CHAMPION_ALIAS) -> Registration:
    """Register the run's model under ``name`` (once) and point ``alias`` at it.

    ``run_id`` may be a unique prefix of a run id.
    """
    run_id = resolve_run_id(run_id)
    check_promotable(run_id)
    try:
        return register(run_id, name, alias)
    except mlflow.exceptions.MlflowException as exc:
        raise ModelLoadError(f"cannot register run {run_id}'s model: {' '.join(exc.message.split())}") from None


def check_promotable(run_id: str) -> None:
    """Only a FINISHED training run has a model worth promoting; say what to promote instead."""
    from framing.crossval import CV_KEY_TAG
    from framing.sweep import SWEEP_KEY_TAG

    client = MlflowClient()
    try:
        run = client.get_run(run_id)
    except mlflow.exceptions.MlflowException:
        raise ModelLoadError(f"no run {run_id!r} in {mlflow.get_tracking_uri()}") from None
    tags = run.data.tags
    if SWEEP_KEY_TAG in tags:
        best = tags.get("best.run_id")
        hint = f"; promote its best trial: framing promote {best}" if best else "; promote one of its trials"
        raise ModelLoadError(f"run {run_id} is a sweep's parent run and logged no model{hint}")
    if CV_KEY_TAG in tags:
        raise ModelLoadError(
            f"run {run_id} is a cross-validation's parent run and logged no model; "
            "train on all the data with framing train and promote that run"
        )
    if run.info.status != "FINISHED":
        raise ModelLoadError(f"run {run_id} is {run.info.status}; only a FINISHED run's model can be promoted")
    logged = {item.path for item in client.list_artifacts(run_id, MODEL_NAME_IN_RUN)}
    if f"{MODEL_NAME_IN_RUN}/MLmodel" not in logged:
        raise ModelLoadError(f"run {run_id} logged no model ({MODEL_NAME_IN_RUN}/MLmodel)")


def download_model_package(uri: str, destination: Path) -> Path:
    """Fetch the model folder behind ``runs:/``, ``models:/`` or any MLflow model URI into ``destination``.

    The caller owns ``destination`` and removes it (``framing.package.local_model``):
    left to MLflow, each download lands in a new temporary folder that nothing removes.
    """
    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(destination)))
    except Exception as exc:  # MLflow raises several types for a missing run/model/version
        raise ModelLoadError(f"cannot load model {uri!r}: {exc}") from None
    package = local / "artifacts" / PACKAGE_ARTIFACT
    if not package.is_dir():
        raise ModelLoadError(f"{uri}: not a framing model (no artifacts/{PACKAGE_ARTIFACT} in it)")
    return package
