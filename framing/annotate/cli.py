"""``framing annotate ...``: argument parsing for the annotation loop; the work lives in the modules."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from framing.errors import DataError, FramingError

DEFAULT_LABELS = ["media_bias_claim", "foreign_hostility", "humanitarian", "security_threat", "diplomacy"]


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.3f}"
    return str(value)


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """A plain aligned table for the console."""
    cells = [[_cell(row.get(column, "")) for column in columns] for row in rows]
    widths = [max(len(column), *(len(r[i]) for r in cells)) for i, column in enumerate(columns)]
    print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(columns, widths, strict=True))))
    for r in cells:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))))


def _model_version(scores: Path) -> str:
    """The model URI recorded in the scoring manifest, else the scores' name."""
    for manifest in (scores / "_manifest.json", scores.with_name(scores.name + ".manifest.json")):
        if manifest.is_file():
            try:
                return str(json.loads(manifest.read_text(encoding="utf-8")).get("model_uri") or scores.name)
            except (OSError, json.JSONDecodeError):
                break
    return scores.name


def _sample(args: argparse.Namespace) -> int:
    from framing.annotate.copies import read_texts
    from framing.annotate.sample import SampleOptions, sample_paragraphs
    from framing.annotate.scores import infer_thresholds, is_scores, read_scores, score_raw_corpus
    from framing.annotate.tasks import write_tasks

    options = SampleOptions(
        args.n, args.strategy, args.seed, args.max_per_article, args.copy_threshold, args.random_share
    )
    source, output = Path(args.input), Path(args.output)
    if not is_scores(source):
        if not args.model:
            raise DataError(
                source, "not the output of framing predict (no p_<label> columns); pass --model to score it"
            )
        scored = Path(args.scores_output or output.with_name(output.stem + ".scores.parquet"))
        source = score_raw_corpus(args.model, source, scored, args.unit)
        print(f"scores: {scored}")
    scores, labels = read_scores(source)
    thresholds = infer_thresholds(scores, labels)
    if args.model:
        from framing.package import load_model

        predictor = load_model(args.model)
        if predictor.thresholds is not None:
            thresholds = dict(zip(predictor.labels, (float(t) for t in predictor.thresholds), strict=True))
    excluded = [text for path in args.exclude for text in read_texts(path)]
    result = sample_paragraphs(scores, labels, thresholds, options, excluded)
    write_tasks(result.sample, output, args.model or _model_version(source), args.format)
    print(f"population: {result.population} paragraphs ({result.excluded} left out as copies of --exclude)")
    for reason, count in sorted(result.skipped.items()):
        print(f"skipped while drawing: {count} ({reason})")
    groups = result.sample.groupby(["strategy", "stratum"], sort=True)["weight"].agg(["count", "first", "sum"])
    rows = [
        {"strategy": s, "stratum": h, "n": int(r["count"]), "weight": r["first"], "sum": r["sum"]}
        for (s, h), r in groups.iterrows()
    ]
    print_table(rows, ["strategy", "stratum", "n", "weight", "sum"])
    print(f"sampled {len(result.sample)} paragraphs from {result.sample['article_id'].nunique()} articles")
    print(f"tasks: {output}")
    return 0


def _labels_arg(args: argparse.Namespace) -> list[str]:
    return list(args.labels) if args.labels else DEFAULT_LABELS


def _label_config(args: argparse.Namespace) -> str:
    from framing.annotate.labelling import labelling_config, read_hints

    hints = read_hints(Path(args.hints)) if args.hints else None
    return labelling_config(_labels_arg(args), hints, args.single_label)


def _config(args: argparse.Namespace) -> int:
    print(_label_config(args), end="")
    return 0


def _import(args: argparse.Namespace) -> int:
    from framing.annotate.export import read_exports
    from framing.annotate.resolve import read_adjudicated, resolve_export, write_disagreements

    export = read_exports([Path(p) for p in args.input], args.from_name, args.labels)
    adjudicated = read_adjudicated(Path(args.adjudicated), args.labels) if args.adjudicated else {}
    result = resolve_export(export, args.require, adjudicated, args.single_label)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "w", encoding="utf-8") as handle:
        for row in result.rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    disagreements = Path(args.disagreements or output.with_name(output.stem + ".disagreements.jsonl"))
    open_rows = [row for row in result.disagreements if row["id"] not in adjudicated]
    write_disagreements(open_rows, disagreements)
    print(f"{len(export.items)} tasks, {len(export.annotated)} annotated by {len(export.annotators)} annotator(s)")
    print(f"not counted: {export.cancelled} skipped annotation(s), {export.unannotated} task(s) without annotation")
    counts = ", ".join(f"{how} {n}" for how, n in sorted(result.counts.items()) if how != "unannotated")
    print(f"resolved: {counts}")
    print(f"wrote {len(result.rows)} labelled rows: {output}")
    waiting = sum(1 for row in open_rows if row["reason"] in ("tie", "disagreement"))
    print(f"{len(open_rows)} disagreement(s) to adjudicate ({waiting} without labels until then): {disagreements}")
    return 0


def _agreement(args: argparse.Namespace) -> int:
    from framing.annotate.agreement import agreement, agreement_table
    from framing.annotate.export import read_exports

    export = read_exports([Path(p) for p in args.input], args.from_name)
    labels = list(args.labels) if args.labels else export.labels_seen()
    if not labels:
        raise FramingError("no label was chosen in the exports; pass --labels to report on them anyway")
    rows = agreement_table(agreement(export, labels))
    print(f"{len(export.annotated)} annotated tasks, annotators: {', '.join(export.annotators)}")
    columns = list(dict.fromkeys(column for row in rows for column in row))
    print_table(rows, columns)
    if args.output:
        import pandas as pd

        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows, columns=columns).to_csv(args.output, index=False)
        print(f"wrote {args.output}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from framing.annotate.check import check_frame, label_issues
    from framing.config import load_config
    from framing.crossval import add_leakage_groups, out_of_fold_probabilities, pooled_frame

    config = load_config(list(args.overrides), args.config_dir)
    if args.input:
        frame, labels = _labelled_frame(Path(args.input), config)
    else:
        frame, labels = pooled_frame(config)
    check_frame(frame, labels)
    frame = add_leakage_groups(frame, threshold=args.copy_threshold)
    try:
        probabilities = out_of_fold_probabilities(frame, config, labels, args.folds, config.seed)
    except ValueError as exc:
        raise FramingError(f"cannot make {args.folds} grouped folds: {exc}") from None
    suspects = label_issues(frame, labels, probabilities, config.data.task == "multiclass")
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    shown = suspects.head(args.top).assign(text=lambda f: f["text"].str.slice(0, 50))
    for column in ("given", "suggested"):
        shown[column] = shown[column].map(lambda names: ", ".join(names) or "(none)")
    for column in ("given", "suggested", "in_question"):
        suspects[column] = suspects[column].map(json.dumps)
    suspects.to_csv(output, index=False)
    print(f"{len(suspects)} likely label error(s) among {len(frame)} rows ({args.folds} grouped folds)")
    print_table(shown.to_dict(orient="records"), ["rank", "id", "given", "suggested", "quality", "text"])
    print(f"wrote {output}")
    return 0


def _labelled_frame(path: Path, config: Any) -> tuple[Any, list[str]]:
    """Rows of one labelled file (e.g. from ``annotate import``), read as training would read them."""
    import pandas as pd

    from framing.data.dataset import read_labelled

    rows = read_labelled(path, "labelled", config.data, config.data.labels)
    labels = list(config.data.labels or sorted({label for row in rows.labels for label in row}))
    frame = pd.DataFrame({"id": rows.ids, "article_id": rows.groups, "text": rows.texts, "labels": rows.labels})
    return frame, labels


def _estimate(args: argparse.Namespace) -> int:
    from framing.annotate.estimate import estimate, read_labelled
    from framing.annotate.scores import read_scores

    labelled = read_labelled(Path(args.labelled))
    scores, labels = read_scores(Path(args.scores))
    if args.bootstrap < 100:
        raise FramingError("--bootstrap needs at least 100 resamples for a 95% interval")
    result = estimate(labelled, scores, labels, seed=args.seed, n_boot=args.bootstrap)
    print(f"{result.rows} labelled paragraphs from {result.articles} articles; 95% bootstrap intervals over articles")
    rows = []
    for row in result.table.to_dict(orient="records"):
        shown = {"label": row["label"]}
        for name in ("precision", "recall", "f1", "prevalence"):
            value = row.get(name, float("nan"))
            if isinstance(value, float) and not math.isnan(value):
                shown[name] = f"{value:.3f} [{row[name + '_low']:.3f}, {row[name + '_high']:.3f}]"
        rows.append(shown)
    print_table(rows, ["label", "precision", "recall", "f1", "prevalence"])
    for note in result.notes:
        print(f"note: {note}")
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        result.table.to_csv(args.output, index=False)
        print(f"wrote {args.output}")
    return 0


def _push(args: argparse.Namespace) -> int:
    from framing.annotate.server import push, read_tasks, server_from

    server = server_from(args.url, args.api_key)
    tasks = read_tasks(Path(args.tasks))
    project, imported = push(server, args.title, _label_config(args), tasks, args.annotators)
    print(f"project {project}: {imported} tasks imported, {args.annotators} annotator(s) per task")
    print(f"label at {server.url}/projects/{project}/data")
    return 0


def _pull(args: argparse.Namespace) -> int:
    from framing.annotate.server import pull, server_from

    count = pull(server_from(args.url, args.api_key), args.project, Path(args.output))
    print(f"wrote {count} tasks (Label Studio JSON export): {args.output}")
    return 0


def _add_label_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--labels", nargs="+", help="label names (default: the five of the shipped codebook)")
    parser.add_argument("--hints", help="YAML or JSON mapping label: one-line definition (default: the codebook)")
    parser.add_argument("--single-label", action="store_true", help="one label per paragraph (radio buttons)")


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="Label Studio URL (default: $LABEL_STUDIO_URL)")
    parser.add_argument("--api-key", help="access token (default: $LABEL_STUDIO_API_KEY)")


def add_annotate_parser(commands: Any) -> None:
    """Add ``annotate`` and its subcommands to the ``framing`` parser."""
    annotate = commands.add_parser("annotate", help="sample, label in Label Studio, import, agreement, check, estimate")
    steps = annotate.add_subparsers(dest="step", required=True)
    _add_sample_step(steps)
    _add_config_step(steps)
    _add_import_step(steps)
    _add_agreement_step(steps)
    _add_check_step(steps)
    _add_estimate_step(steps)
    _add_push_step(steps)
    _add_pull_step(steps)


def _add_sample_step(steps: Any) -> None:
    sample = steps.add_parser("sample", help="choose paragraphs to label; write Label Studio tasks")
    sample.add_argument("--input", required=True, help="output of framing predict, or a raw corpus with --model")
    sample.add_argument("--model", help="score a raw corpus with this model first (its thresholds are used)")
    sample.add_argument("--scores-output", help="where the scores of a raw corpus go (default: beside --output)")
    sample.add_argument("--unit", choices=["article", "paragraph"], default="article", help="rows of a raw table")
    sample.add_argument("--n", type=int, required=True, help="paragraphs to sample")
    sample.add_argument("--strategy", choices=["uncertainty", "random", "stratified", "mixed"], default="mixed")
    sample.add_argument("--random-share", type=float, default=0.5, help="mixed: share of n drawn at random")
    sample.add_argument("--seed", type=int, default=13)
    sample.add_argument("--max-per-article", type=int, default=2, help="at most this many paragraphs per article")
    sample.add_argument("--exclude", action="append", default=[], help="already labelled paragraphs (repeatable)")
    sample.add_argument("--copy-threshold", type=float, default=0.9, help="near copies at this similarity are skipped")
    sample.add_argument("--output", required=True, help="tasks file (.json) or spreadsheet (.csv with --format csv)")
    sample.add_argument("--format", choices=["json", "csv"], default="json")
    sample.set_defaults(handler=_sample)


def _add_config_step(steps: Any) -> None:
    config = steps.add_parser("config", help="print the Label Studio labelling config")
    _add_label_options(config)
    config.set_defaults(handler=_config)


def _add_import_step(steps: Any) -> None:
    importer = steps.add_parser("import", help="Label Studio JSON export(s) -> training rows, one label set each")
    importer.add_argument("--input", action="append", required=True, help="JSON export (repeatable; merged by task)")
    importer.add_argument("--output", required=True, help="labelled rows (.jsonl)")
    importer.add_argument("--disagreements", help="rows to adjudicate (.jsonl or .csv; default: beside --output)")
    importer.add_argument("--adjudicated", help="a disagreements file with 'labels' filled in")
    importer.add_argument("--require", choices=["majority", "unanimous"], default="majority")
    importer.add_argument("--from-name", help="read only this choices control (default: every one)")
    importer.add_argument("--labels", nargs="+", help="known labels; any other is an error")
    importer.add_argument("--single-label", action="store_true", help="resolve to exactly one label")
    importer.set_defaults(handler=_import)


def _add_agreement_step(steps: Any) -> None:
    agree = steps.add_parser("agreement", help="Krippendorff's alpha, Cohen's kappa and positive rates per label")
    agree.add_argument("--input", action="append", required=True, help="JSON export (repeatable)")
    agree.add_argument("--output", help="also write the table as CSV")
    agree.add_argument("--labels", nargs="+", help="labels to report (default: every label chosen)")
    agree.add_argument("--from-name", help="read only this choices control (default: every one)")
    agree.set_defaults(handler=_agreement)


def _add_check_step(steps: Any) -> None:
    check = steps.add_parser("check", help="likely label errors from out-of-fold probabilities (cleanlab)")
    check.add_argument("overrides", nargs="*", help="training overrides, as for framing train")
    check.add_argument("--input", help="check this labelled file instead of the config's splits")
    check.add_argument("--output", required=True, help="suspects (.csv)")
    check.add_argument("--folds", type=int, default=5)
    check.add_argument("--copy-threshold", type=float, default=0.9, help="near copies share a fold")
    check.add_argument("--top", type=int, default=10, help="suspects shown on the console")
    check.add_argument("--config-dir", type=Path, default=None)
    check.set_defaults(handler=_check)


def _add_estimate_step(steps: Any) -> None:
    est = steps.add_parser("estimate", help="precision/recall/F1 on the corpus from the labelled sample")
    est.add_argument("--labelled", required=True, help="output of framing annotate import")
    est.add_argument("--scores", required=True, help="the scores the sample was drawn from")
    est.add_argument("--output", help="also write the table as CSV")
    est.add_argument("--seed", type=int, default=13, help="bootstrap seed")
    est.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples of the articles")
    est.set_defaults(handler=_estimate)


def _add_push_step(steps: Any) -> None:
    push = steps.add_parser("push", help="create a Label Studio project with the labelling config and import tasks")
    push.add_argument("--tasks", required=True, help="tasks file from framing annotate sample")
    push.add_argument("--title", default="framing annotation")
    push.add_argument("--annotators", type=int, default=1, help="annotators per task (2+ to measure agreement)")
    _add_label_options(push)
    _add_server_options(push)
    push.set_defaults(handler=_push)


def _add_pull_step(steps: Any) -> None:
    pull = steps.add_parser("pull", help="download a project's annotations as Label Studio JSON")
    pull.add_argument("--project", type=int, required=True, help="project id")
    pull.add_argument("--output", required=True)
    _add_server_options(pull)
    pull.set_defaults(handler=_pull)
