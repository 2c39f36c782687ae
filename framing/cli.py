"""The ``framing`` command: argument parsing only; the work lives in the package.

Subcommands: ``train``, ``predict``, ``validate`` (check a config's data
without training), ``cv`` (grouped k-fold cross-validation), ``split``
(grouped train/validation/test files), ``report`` (article tables, summaries,
plots and an HTML page from scores), ``compare``, ``promote`` and ``annotate``
(the annotation loop: sample, Label Studio, import, agreement, check, estimate).
User errors print one line and exit 2; bugs keep their traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from framing.errors import FramingError

DESCRIPTION = (
    "Find framing and media-bias claims in news paragraphs: train and compare classifiers on labelled "
    "paragraphs, score your own articles with evidence for each flag, and report shares per outlet and "
    "time with 95% intervals."
)
EPILOG = """typical order:
  framing validate            check the labelled data of a config
  framing train               train, evaluate and log a model (MLflow)
  framing compare             rank runs on validation; framing promote RUN marks the champion
  framing predict             score articles with the champion or any model
  framing report              shares per outlet and year with intervals, as tables, plots and a page
  framing annotate ...        label a sample of your corpus to measure and improve the model

framing COMMAND -h explains each command."""


CONFIG_DIR_HELP = "folder of config groups (config.yaml, data/, model/, ...); default: configs/ of the project"
TRACKING_URI_HELP = (
    "MLflow store, e.g. sqlite:///mlflow.db or http://host:5000; default: $MLFLOW_TRACKING_URI or mlflow.db"
)


class HelpFormatter(argparse.HelpFormatter):
    """Wraps one-line descriptions, keeps the line breaks of text that has them (the epilogs), and shows
    an option's default where its help does not already."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        shown = default not in (None, False, [], argparse.SUPPRESS) and not isinstance(action, argparse._HelpAction)
        if shown and action.option_strings and "default" not in text and "%(default)" not in text:
            text = f"{text} (default: %(default)s)" if text else "default: %(default)s"
        return text


if TYPE_CHECKING:
    from framing.scoring import ScoringOptions, SourceOptions

    Commands = argparse._SubParsersAction[argparse.ArgumentParser]  # what add_subparsers returns


def _train(args: argparse.Namespace) -> int:
    from framing.config import config_reference, load_config

    if args.help_config:
        print(config_reference())
        return 0
    overrides = list(args.overrides)
    if args.register:
        overrides.append(f"tracking.model_name={args.register}")
    if args.alias:
        overrides.append(f"tracking.alias={args.alias}")
    config = load_config(overrides, args.config_dir)  # fails fast, before heavy imports

    from framing.training import run_training

    if config.sweep is not None:
        from framing.sweep import run_sweep

        if args.register or args.alias:
            raise FramingError("--register/--alias apply to one run; promote the sweep's best with framing promote")
        sweep = run_sweep(config, overrides, run_training, args.config_dir)
        print(f"sweep run_id: {sweep.parent_run_id} ({len(sweep.ran)} trials run, {len(sweep.skipped)} skipped)")
        print(f"best trial run_id: {sweep.best_run_id} ({config.sweep.metric} = {sweep.best_value:.4f})")
        print(f"run_id: {sweep.best_run_id}")
        print(f"model_uri: {sweep.best_model_uri}")
        return 0
    result = run_training(config)
    _print_metrics(result.metrics, result.labels)
    print(f"run_id: {result.run_id}")
    if result.registered_version:
        alias = f" (alias {config.tracking.alias})" if config.tracking.alias else ""
        print(f"registered: {config.tracking.model_name} version {result.registered_version}{alias}")
    print(f"model_uri: {result.model_uri}")
    return 0


def _print_metrics(metrics: dict[str, float], labels: list[str]) -> None:
    """The split's per-label table and headline F1, each number with its 95% interval where the run has one."""
    from framing.results import HIGH, with_interval

    split = "test" if any(k.startswith("test/") for k in metrics) else "validation"
    tuned = f"{split}/tuned/"
    intervals = f"{tuned}f1_macro/{HIGH}" in metrics
    print(f"\n{split} metrics at tuned thresholds" + (" (95% bootstrap intervals over articles)" if intervals else ""))
    width = 24 if intervals else 10
    print(f"{'label':<22}{'precision':>{width}}{'recall':>{width}}{'f1':>{width}}{'pr_auc':>{width}}{'support':>9}")
    for label in labels:
        cells = [
            with_interval(metrics, f"{tuned}{label}/{m}") or "nan" for m in ("precision", "recall", "f1", "pr_auc")
        ]
        support = int(metrics.get(f"{tuned}{label}/support", 0))
        print(f"{label:<22}" + "".join(f"{cell:>{width}}" for cell in cells) + f"{support:>9}")
    print(
        f"micro F1 {with_interval(metrics, tuned + 'f1_micro')}   macro F1 {with_interval(metrics, tuned + 'f1_macro')}"
        f"   (default 0.5 thresholds: micro {metrics[f'{split}/default/f1_micro']:.3f},"
        f" macro {metrics[f'{split}/default/f1_macro']:.3f})"
    )
    cascade = f"cascade/{split}/"
    if f"{cascade}escalation" in metrics:
        print(
            f"cascade (default scoring; predict --exact skips it): {metrics[f'{cascade}escalation']:.1%} of {split} "
            f"paragraphs go to the transformer; decisions equal to the transformer's: worst label "
            f"{metrics[f'{cascade}agreement']:.2%}, mean {metrics[f'{cascade}agreement_mean']:.2%}; macro F1 "
            f"{metrics[f'{cascade}f1_macro']:.3f} against {metrics[f'{cascade}f1_macro_exact']:.3f}"
        )


def _predict(args: argparse.Namespace) -> int:
    from framing.scoring import ScoringOptions, SourceOptions, score_corpus
    from framing.scoring.model_files import load_for_scoring

    source = SourceOptions(
        text_column=args.text_column,
        id_column=args.id_column,
        unit=args.unit,
        max_paragraph_chars=args.max_paragraph_chars,
        path_pattern=args.path_pattern,
    )
    options = ScoringOptions(
        batch_size=args.batch_size,
        part_size=args.part_size,
        evidence_k=args.evidence,
        repeat_cache=args.repeat_cache,
        precision=args.precision,
        limit=args.limit,
        folder_format=args.format,
        overwrite=args.overwrite,
        progress=not args.quiet,
        exact=args.exact,
    )  # options are checked here, before a model is loaded
    if args.model is None:
        args.model = _champion_model(args.tracking_uri)
    if args.engine == "ray":
        from framing.scoring.model_files import training_record
        from framing.scoring.ray_engine import score_with_ray

        source = _with_languages(source, args.languages, training_record(args.model))
        summary = score_with_ray(
            args.model,
            Path(args.input),
            Path(args.output),
            source,
            options,
            address=args.ray_address,
            dashboard=args.ray_dashboard,
        )
    else:
        predictor, model_files = load_for_scoring(args.model)
        predictor.exact = options.exact
        if options.precision is not None:
            predictor.use_escalation_precision(options.precision)
        source = _with_languages(source, args.languages, predictor.training)
        summary = score_corpus(
            predictor, str(args.model), Path(args.input), Path(args.output), source, options, model_files
        )
    print(summary.table())
    print(f"output: {args.output}")
    return 0


def _with_languages(source: Any, value: str | None, training: dict[str, Any]) -> Any:
    """The source options with the languages to score: ``--languages``, or those the model was trained on."""
    import dataclasses

    from framing.languages import model_languages, parse_languages

    languages = parse_languages(value, training)
    if value is None:
        recorded = model_languages(training)[1]
        origin = "the model's training data" if recorded else "not recorded by this model; assumed"
        print(f"languages scored: {', '.join(languages or ())} ({origin}); --languages any scores every language")
    return dataclasses.replace(source, languages=languages)


def _champion_model(tracking_uri: str | None) -> str:
    """The registered champion, announced, when ``--model`` is left out."""
    from framing.config import TrackingConfig
    from framing.tracking import CHAMPION_ALIAS, DEFAULT_MODEL_NAME, champion_uri, use_tracking_uri

    store = use_tracking_uri(TrackingConfig(uri=tracking_uri))
    uri = champion_uri()
    if uri is None:
        raise FramingError(
            f"no --model given and no models:/{DEFAULT_MODEL_NAME}@{CHAMPION_ALIAS} in {store}; "
            f"pass --model or run `framing promote RUN_ID --alias {CHAMPION_ALIAS}`"
        )
    print(f"model: {uri} (the registered champion)")
    return uri


def _compare(args: argparse.Namespace) -> int:
    if args.runs:
        return _compare_pair(args)
    from framing.compare import KEY_PARAMS, compare_runs, legend, markdown_table, param_filter, write_comparison

    filters = list(args.filter or [])
    filters += [f"tags.`{k}` = '{_quoted(v)}'" for k, v in (_key_value(t) for t in args.tag or [])]
    filters += [param_filter(k, v) for k, v in (_key_value(p) for p in args.param or [])]
    comparison = compare_runs(
        args.experiment,
        " and ".join(filters),
        params=args.params or KEY_PARAMS,
        tracking_uri=args.tracking_uri,
        run_names=args.run_name or (),
        rank_metric=args.rank_by,
    )
    print(markdown_table(comparison.marked()))
    if not comparison.cv_table.empty:
        print("\ncross-validation runs (mean ± std over test folds; not ranked with single runs):")
        print(markdown_table(comparison.cv_table))
    print(f"{len(comparison.table)} runs. {legend(comparison)}")
    for path in args.output or []:
        print(f"wrote {write_comparison(comparison, Path(path))}")
    return 0


def _compare_pair(args: argparse.Namespace) -> int:
    """``framing compare RUN_A RUN_B``: the paired bootstrap of B - A on their shared test rows."""
    from framing.paired import compare_pair, to_text

    if len(args.runs) != 2:
        raise FramingError(f"give two run ids to compare as a pair (got {len(args.runs)}), or none for the table")
    pair = compare_pair(args.runs[0], args.runs[1], args.tracking_uri)
    print(to_text(pair))
    for path in args.output or []:
        target = Path(path)
        if target.suffix not in (".csv", ".md"):
            raise FramingError(f"{target}: write .md or .csv")
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.suffix == ".csv":
            pair.table.to_csv(target, index=False)
        else:
            target.write_text(to_text(pair) + "\n", encoding="utf-8")
        print(f"wrote {target}")
    return 0


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise FramingError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _quoted(value: str) -> str:
    """A value safe inside an MLflow filter's single quotes."""
    return value.replace("'", "\\'")


def _promote(args: argparse.Namespace) -> int:
    from framing.config import TrackingConfig
    from framing.tracking import promote, use_reachable_store

    use_reachable_store(TrackingConfig(uri=args.tracking_uri))
    registration = promote(args.run_id, args.name, args.alias)
    done = "registered" if registration.created else "already registered:"
    print(f"{done} runs:/{registration.run_id}/model as {args.name} version {registration.version}, alias {args.alias}")
    print(f"model_uri: models:/{args.name}@{args.alias}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from framing.config import load_config
    from framing.training import check_trainable, prepare_data

    config = load_config(list(args.overrides), args.config_dir)
    splits = prepare_data(config)
    check_trainable(config, splits)
    for split in splits.all():
        print(f"{split.name}: {len(split)} rows, {len(set(split.groups))} groups, {len(split.rejects)} rejected")
    print(f"labels: {', '.join(splits.label_names)}")
    for line in splits.dedup_report.summary() if splits.dedup_report else []:
        print(f"deduplicated {line}")
    print("no duplicates across splits" if config.data.duplicate_check else "duplicate check off")
    return 0


def _adapter_option(item: str) -> tuple[str, object]:
    """``key=value`` with the value read as YAML (``tasks=[bias, framing]``, ``task=opinion``)."""
    import yaml

    key, value = _key_value(item)
    return key, yaml.safe_load(value)


def _split(args: argparse.Namespace) -> int:
    from framing.data.split_files import split_file

    options = dict(_adapter_option(item) for item in args.adapter_option)
    written = split_file(
        Path(args.input),
        Path(args.output_dir),
        args.group_column,
        tuple(args.fractions),
        args.seed,
        adapter=args.adapter,
        adapter_options=options,
        copy_threshold=args.group_copies,
    )
    for name, count in written.items():
        print(f"{name}: {count} rows")
    _print_label_counts(Path(args.output_dir), list(written), args.label_column)
    return 0


def _print_label_counts(folder: Path, splits: list[str], column: str) -> None:
    """Rows per label and split (and the share of the split's rows), so thin labels show before training."""
    from framing.data.split_files import label_counts

    found = {name: label_counts(folder / f"{name}.jsonl", column) for name in splits}
    totals = {name: rows for name, (rows, _) in found.items()}
    per_split = {name: counts for name, (_, counts) in found.items()}
    if all(counts is None for counts in per_split.values()):
        print(f"(no {column!r} column: no label counts)")
        return
    labels = sorted({label for counts in per_split.values() for label in (counts or {})})
    print(f"{'label':<24}" + "".join(f"{name:>20}" for name in splits))
    for label in labels:
        cells = []
        for name in splits:
            n = (per_split[name] or {}).get(label, 0)
            share = n / totals[name] if totals[name] else 0.0
            cells.append(f"{n:>10} ({share:>6.1%})")
        print(f"{label:<24}" + "".join(f"{cell:>20}" for cell in cells))


def _cv(args: argparse.Namespace) -> int:
    from framing.config import load_config
    from framing.crossval import add_leakage_groups, check_fold_count, pooled_frame, run_cross_validation

    check_fold_count(args.folds)
    overrides = list(args.overrides)
    config = load_config(overrides, args.config_dir)
    pooled, labels = pooled_frame(config)
    frame = add_leakage_groups(pooled, threshold=args.copy_threshold)
    result = run_cross_validation(
        frame,
        overrides,
        labels=labels,
        task=config.data.task,
        work_dir=Path(args.work_dir),
        n_folds=args.folds,
        seed=config.seed,
        name=f"cv: {config.tracking.run_name or config.experiment or config.model.family}",
        config_dir=args.config_dir,
    )
    print(f"{args.folds}-fold cross-validation, parent run {result.parent_run_id}; mean ± std over test folds:")
    for name in ("f1_micro", "f1_macro", "pr_auc_macro", *(f"{label}/f1" for label in labels)):
        if name in result.mean:
            print(f"  {name:<28} {result.mean[name]:.3f} ± {result.std[name]:.3f}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from framing.report import ReportSettings, write_report

    if args.chunk_size < 1:
        raise FramingError("--chunk-size must be at least 1")
    if args.bootstrap != 0 and args.bootstrap < 100:
        raise FramingError("--bootstrap needs at least 100 resamples for a 95% interval (0 turns intervals off)")
    if args.min_articles < 0:
        raise FramingError("--min-articles must be at least 0")
    kinds = None if "all" in args.kinds else tuple(args.kinds)
    if args.examples < 0:
        raise FramingError("--examples must be at least 0")
    settings = ReportSettings(
        min_articles=args.min_articles, n_boot=args.bootstrap, kinds=kinds, examples=args.examples
    )
    correction = Path(args.correct_with) if args.correct_with else None
    report = write_report(
        Path(args.scores),
        Path(args.output_dir),
        args.group_by,
        args.chunk_size,
        settings=settings,
        correction=correction,
    )
    print(f"{report.paragraphs} paragraphs in {report.articles} articles, labels: {', '.join(report.labels)}")
    if args.bootstrap:
        print(f"shares with 95% cluster-bootstrap intervals over articles ({args.bootstrap} resamples)")
    if correction is not None:
        print(f"corrected for precision and recall measured in {correction}")
    for name, path in report.summaries.items():
        print(f"summary {name}: {path}")
    print(f"articles: {report.articles_parquet}")
    print(f"report: {report.html}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``framing`` parser: one builder per subcommand below."""
    parser = argparse.ArgumentParser(
        prog="framing", description=DESCRIPTION, epilog=EPILOG, formatter_class=HelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_train(commands)
    _add_predict(commands)
    _add_validate(commands)
    _add_cv(commands)
    _add_split(commands)
    _add_report(commands)
    _add_compare(commands)
    _add_promote(commands)

    from framing.annotate.cli import add_annotate_parser

    add_annotate_parser(commands)
    _use_formatter(parser)
    return parser


def _use_formatter(parser: argparse.ArgumentParser) -> None:
    """Every (sub)command's help shows defaults, annotate's included."""
    parser.formatter_class = HelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _use_formatter(child)


def _experiments_epilog() -> str:
    """``train -h``'s list of experiment files: name and the first comment line of each."""
    from framing.config import default_config_dir

    folder = default_config_dir().parent / "experiments"
    lines = ["experiments (experiment=NAME, files in experiments/):"]
    for path in sorted(folder.glob("*.yaml")):
        first = next((line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()), "")
        about = first.lstrip("# ").strip() if first.startswith("#") else ""
        lines.append(f"  {path.stem:<20} {about}")
    if len(lines) == 1:
        lines.append(f"  (none in {folder})")
    lines += [
        "",
        "examples:",
        "  framing train                              the default TF-IDF model on the shipped data",
        "  framing train experiment=tfidf_sweep       a grid of runs under one parent run",
        "  framing train model=transformer seed=7     group=name picks a config file, key=value sets a key",
        "  framing train --help-config                every config key with its type, default and meaning",
    ]
    return "\n".join(lines)


def _add_train(commands: Commands) -> None:
    train = commands.add_parser(
        "train",
        help="train, evaluate and log one model (or a sweep's grid of them)",
        description="Train a model on the labelled splits of a config, tune its thresholds on validation, "
        "evaluate it on test (95% bootstrap intervals) and log everything, model included, to MLflow.",
        epilog=_experiments_epilog(),
    )
    train.add_argument(
        "overrides", nargs="*", help="key=value or group=name, e.g. experiment=baseline model=tfidf seed=7"
    )
    train.add_argument("--register", help="register the model under this name")
    train.add_argument("--alias", help="alias for the registered version, e.g. champion")
    train.add_argument("--config-dir", type=Path, default=None, help=CONFIG_DIR_HELP)
    train.add_argument(
        "--help-config", action="store_true", help="print every config key with its type, default and meaning"
    )
    train.set_defaults(handler=_train)


def _add_predict(commands: Commands) -> None:
    from framing.scoring import ScoringOptions, SourceOptions

    source, scoring = SourceOptions(), ScoringOptions()  # the defaults, written once there
    predict = commands.add_parser("predict", help="score articles or paragraphs with a model")
    predict.add_argument(
        "--model",
        default=None,
        help="runs:/..., models:/name@alias, models:/name/N or a folder; default: models:/framing@champion",
    )
    predict.add_argument("--tracking-uri", default=None, help="store for models:/ and runs:/ (else the default)")
    predict.add_argument("--input", required=True, help=".txt file or folder, or a CSV/JSONL/Parquet table")
    predict.add_argument("--output", required=True, help="output .jsonl, .csv or .parquet")
    predict.add_argument("--text-column", default=source.text_column, help="tables: the column holding the text")
    predict.add_argument(
        "--id-column", default=source.id_column, help="tables: the column identifying each row, kept in the output"
    )
    predict.add_argument(
        "--unit",
        choices=["article", "paragraph"],
        default=source.unit,
        help="whether each table row is a whole article (split it) or one paragraph",
    )
    predict.add_argument(
        "--path-pattern",
        default=None,
        help='.txt archives: metadata from each path relative to --input, e.g. "{outlet}/{date}_{slug}.txt"',
    )
    _add_scoring_options(predict, source, scoring)
    predict.set_defaults(handler=_predict)


def _add_scoring_options(predict: argparse.ArgumentParser, source: SourceOptions, scoring: ScoringOptions) -> None:
    """How ``predict`` scores and writes: batches, parts, limits, engine, evidence, languages."""
    from framing.models.transformer import ESCALATION_PRECISIONS

    predict.add_argument(
        "--batch-size",
        type=int,
        default=scoring.batch_size,
        help=(
            "paragraphs per model call (a transformer scores them model.eval_batch_size windows at a time; "
            "through a cascade only those it sends on, so smaller batches score slower)"
        ),
    )
    predict.add_argument("--part-size", type=int, default=scoring.part_size, help="paragraphs per output part")
    predict.add_argument("--limit", type=int, default=scoring.limit, help="score only the first N paragraphs")
    predict.add_argument(
        "--format",
        choices=["parquet", "jsonl", "csv"],
        default=scoring.folder_format,
        help="part format when --output is a folder",
    )
    predict.add_argument(
        "--max-paragraph-chars",
        type=int,
        default=source.max_paragraph_chars,
        help="longer paragraphs are rejected (with the reason) instead of scored",
    )
    predict.add_argument(
        "--overwrite", action="store_true", help="delete an earlier scoring run's own output and start over"
    )
    predict.add_argument(
        "--engine", choices=["local", "ray"], default="local", help="score in this process, or on a Ray cluster"
    )
    predict.add_argument("--ray-address", default=None, help="Ray cluster address; default: start Ray locally")
    predict.add_argument(
        "--ray-dashboard", action="store_true", help="serve the local Ray dashboard (on 127.0.0.1); off by default"
    )
    predict.add_argument(
        "--evidence", type=int, default=scoring.evidence_k, help="n-grams of evidence per flagged label"
    )
    predict.add_argument(
        "--languages",
        default=None,
        help="languages to score, e.g. en or en,de; 'any' scores every paragraph; default: the languages of the "
        "model's training data. Others are rejected with reason 'language'",
    )
    predict.add_argument(
        "--exact",
        action="store_true",
        help="score every paragraph with the transformer itself, past its cascade (slower; the cascade was "
        "fitted to agree with it on at least model.cascade.agreement of each label's validation decisions)",
    )
    predict.add_argument(
        "--repeat-cache",
        type=int,
        default=scoring.repeat_cache,
        help="distinct paragraphs whose output is kept to answer their repeats (wire copy, boilerplate) without "
        "scoring them again; 0: score every copy",
    )
    predict.add_argument(
        "--precision",
        choices=ESCALATION_PRECISIONS,
        default=None,
        help="what a transformer's cascade scores escalated paragraphs in: bf16 (about 2-3x faster on a CPU with "
        "AMX, decisions equal to fp32 on nearly every paragraph), fp32, or auto (bf16 where the CPU multiplies it "
        "natively); --exact and evidence stay fp32. Default: the model's model.cascade.transformer_precision",
    )
    predict.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_validate(commands: Commands) -> None:
    validate = commands.add_parser("validate", help="read and check a config's data without training")
    validate.add_argument("overrides", nargs="*", help="key=value or group=name, as for train")
    validate.add_argument("--config-dir", type=Path, default=None, help=CONFIG_DIR_HELP)
    validate.set_defaults(handler=_validate)


def _add_cv(commands: Commands) -> None:
    cv = commands.add_parser(
        "cv", help="k-fold cross-validation over all rows of the config's splits, grouped by article and copies"
    )
    cv.add_argument("overrides", nargs="*", help="key=value or group=name, as for train")
    cv.add_argument("--folds", type=int, default=5, help="number of folds")
    cv.add_argument("--copy-threshold", type=float, default=0.9, help="near copies at this similarity share a fold")
    cv.add_argument("--work-dir", default="outputs/cv", help="where the fold files are written")
    cv.add_argument("--config-dir", type=Path, default=None, help=CONFIG_DIR_HELP)
    cv.set_defaults(handler=_cv)


def _add_split(commands: Commands) -> None:
    split = commands.add_parser("split", help="write grouped train/validation/test files from one table")
    split.add_argument("--input", required=True, help="labelled table (CSV, JSONL or Parquet) or a dataset's files")
    split.add_argument("--output-dir", required=True, help="where train/validation/test.jsonl are written")
    split.add_argument("--group-column", default="article_id", help="rows sharing this value go to one split")
    split.add_argument("--label-column", default="labels", help="column whose labels are counted per split")
    split.add_argument(
        "--fractions", type=float, nargs=3, default=[0.7, 0.15, 0.15], help="train, validation and test shares"
    )
    split.add_argument("--seed", type=int, default=13, help="seed of the random assignment of groups")
    split.add_argument(
        "--adapter",
        default="generic",
        help="read a public dataset's format: babe, mbic, ukraine, semeval_subtask3, ...",
    )
    split.add_argument(
        "--adapter-option", action="append", default=[], metavar="KEY=VALUE", help="e.g. task=opinion (YAML value)"
    )
    split.add_argument(
        "--group-copies",
        type=float,
        metavar="THRESHOLD",
        help="put exact and near copies (similarity >= THRESHOLD, e.g. 0.9) in one group",
    )
    split.set_defaults(handler=_split)


def _add_report(commands: Commands) -> None:
    report = commands.add_parser("report", help="article tables, summaries, plots and an HTML page from scores")
    report.add_argument("--scores", required=True, help="output of framing predict: a file or a folder of parts")
    report.add_argument("--output-dir", required=True, help="where tables, plots and report.html are written")
    report.add_argument(
        "--group-by",
        nargs="+",
        default=None,
        help="summaries by these metadata columns (year, month: from date; a+b: by both); default: outlet and year",
    )
    report.add_argument("--chunk-size", type=int, default=50_000, help="rows read at a time")
    report.add_argument(
        "--examples",
        type=int,
        default=3,
        help="flagged paragraphs shown per label on the page, evidence highlighted (0: none; default: 3)",
    )
    report.add_argument(
        "--kinds",
        nargs="+",
        default=["body"],
        help="row kinds counted in shares: body (default), title, byline, dateline, caption, boilerplate, or all",
    )
    report.add_argument(
        "--min-articles",
        type=int,
        default=10,
        help="groups with fewer articles are greyed in tables and plots (default: 10)",
    )
    report.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        help="resamples of articles for the 95%% interval of every share (0: no intervals; default: 1000)",
    )
    report.add_argument(
        "--correct-with",
        metavar="ESTIMATE_CSV",
        help="the table of framing annotate estimate --output: also show shares corrected for its precision/recall",
    )
    report.set_defaults(handler=_report)


def _add_compare(commands: Commands) -> None:
    compare = commands.add_parser(
        "compare",
        help="an experiment's runs ranked on validation (test beside it, with intervals); "
        "RUN_A RUN_B: a paired bootstrap of their test difference",
    )
    compare.add_argument(
        "runs", nargs="*", metavar="RUN", help="two run ids: is B better than A on the same test rows? (paired)"
    )
    compare.add_argument(
        "--experiment", default="framing", help="MLflow experiment whose runs are compared (tracking.experiment)"
    )
    compare.add_argument(
        "--rank-by",
        default="f1_macro",
        help="validation metric (at tuned thresholds) that ranks and stars the runs, e.g. f1_micro, <label>/f1",
    )
    compare.add_argument(
        "--filter", action="append", help='MLflow search filter, e.g. "metrics.`test/tuned/f1_macro` > 0.7"'
    )
    compare.add_argument("--run-name", action="append", help="only runs with this name (repeatable)")
    compare.add_argument("--tag", action="append", help="only runs with this tag: KEY=VALUE")
    compare.add_argument(
        "--param",
        action="append",
        help="only runs with this param: KEY=VALUE, e.g. model.family=tfidf; KEY=null for a setting left empty",
    )
    compare.add_argument("--params", nargs="+", help="param columns (default: model.family seed experiment)")
    compare.add_argument("--output", action="append", help="also write .md or .csv (repeatable)")
    compare.add_argument("--tracking-uri", default=None, help=TRACKING_URI_HELP)
    compare.set_defaults(handler=_compare)


def _add_promote(commands: Commands) -> None:
    promote = commands.add_parser(
        "promote",
        help="register a run's model and set an alias on it",
        description="Register a FINISHED training run's model (once: promoting the same run again only moves "
        "the alias) and point the alias at that version.",
    )
    promote.add_argument("run_id", help="the run's id, or a unique prefix of it (e.g. the first 8 characters)")
    promote.add_argument("--alias", default="champion", help="alias to point at the version")
    promote.add_argument("--name", default="framing", help="registered model name")
    promote.add_argument("--tracking-uri", default=None, help=TRACKING_URI_HELP)
    promote.set_defaults(handler=_promote)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    try:
        return int(args.handler(args))
    except FramingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_status", 2))  # 143 after SIGTERM, as for a process it ends


def run(argv: Sequence[str] | None = None) -> NoReturn:
    """``main`` as a whole process (``predict.py``, ``train.py``, ``framing``): its exit skips tearing Python down.

    Once a command has returned, its files are closed and published; what is
    left is freeing every object of torch, transformers, scikit-learn and
    MLflow one by one, which took 2 s of an 11 s ``predict.py`` run over one
    article. Output streams are flushed and exit handlers run (as at a normal
    exit) before the process ends with the command's status. With a
    non-daemon thread still running, the exit is the usual one, which waits for it.
    """
    import atexit
    import threading

    code = main(argv)
    if any(not thread.daemon for thread in threading.enumerate() if thread is not threading.main_thread()):
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
