"""How good is the model on this corpus? Precision, recall and F1 on the labelled sample, reweighted.

Each labelled paragraph counts with its sampling weight (the number of corpus
paragraphs it stands for, recorded by ``sample``), so a stratified or mixed
sample estimates the corpus, not the sample: weighted true positives, false
positives and false negatives give precision, recall and F1 per label, plus
micro and macro F1 and each label's estimated share of the corpus
(prevalence). The 95% intervals are percentile bootstrap intervals that
resample whole articles (paragraphs of one article are not independent), drawn by
``framing.uncertainty``, the bootstrap every interval of the package shares.
The model's decisions are read from its scores (``labels``, at its tuned
thresholds) and matched to labelled rows on article id and paragraph number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from framing.errors import DataError
from framing.uncertainty import N_BOOT, ClusterBootstrap, percentile_interval

BOOTSTRAP = N_BOOT


@dataclass
class Estimate:
    """The per-label table and what went into it."""

    table: pd.DataFrame
    rows: int
    articles: int
    unmatched: int
    notes: list[str]


def match_scores(labelled: pd.DataFrame, scores: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Labelled rows with the model's ``predicted`` labels (on article_id, paragraph), and how many did not match."""
    key = ["article_id", "paragraph"]
    for frame in (labelled, scores):
        frame["article_id"] = frame["article_id"].astype(str)
        frame["paragraph"] = frame["paragraph"].astype(str)
    predicted = scores[[*key, "labels"]].drop_duplicates(key).rename(columns={"labels": "predicted"})
    merged = labelled.merge(predicted, on=key, how="left")
    missing = merged["predicted"].isna()
    return merged[~missing].reset_index(drop=True), int(missing.sum())


def _matrix(values: Sequence[Sequence[str]], labels: Sequence[str]) -> np.ndarray:
    return np.array([[label in set(row) for label in labels] for row in values], dtype=float).reshape(-1, len(labels))


def _scores(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 per label (last axis) and micro F1, from weighted counts; NaN where undefined."""
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = tp / (tp + fp)
        recall = tp / (tp + fn)
        f1 = 2 * tp / (2 * tp + fp + fn)
        micro = 2 * tp.sum(-1) / (2 * tp.sum(-1) + fp.sum(-1) + fn.sum(-1))
    return {"precision": precision, "recall": recall, "f1": f1, "micro_f1": micro}


def estimate_metrics(
    merged: pd.DataFrame, labels: Sequence[str], n_boot: int = BOOTSTRAP, seed: int = 13
) -> pd.DataFrame:
    """The table: one row per label (and micro/macro F1) with the estimate and its 95% bootstrap interval."""
    truth = _matrix(merged["labels"], labels)
    predicted = _matrix(merged["predicted"], labels)
    weight = merged["weight"].to_numpy(dtype=float)[:, None]
    parts = {
        "tp": truth * predicted * weight,
        "fp": (1 - truth) * predicted * weight,
        "fn": truth * (1 - predicted) * weight,
    }
    parts["pos"], parts["w"] = truth * weight, np.broadcast_to(weight, truth.shape)
    resample = ClusterBootstrap.over(merged["article_id"].astype(str), n_boot=n_boot, seed=seed)
    point, boot = {}, {}
    for k, values in parts.items():
        point[k], boot[k] = resample.totals(values)
    return _table(labels, point, boot, truth)


def _table(
    labels: Sequence[str], point: dict[str, np.ndarray], boot: dict[str, np.ndarray], truth: np.ndarray
) -> pd.DataFrame:
    est, sims = _scores(point["tp"], point["fp"], point["fn"]), _scores(boot["tp"], boot["fp"], boot["fn"])
    with np.errstate(invalid="ignore", divide="ignore"):
        prevalence, prevalence_boot = point["pos"] / point["w"], boot["pos"] / boot["w"]
    rows = []
    for j, label in enumerate(labels):
        row: dict[str, object] = {"label": label, "labelled_positives": int(truth[:, j].sum())}
        for name, value, draws in (
            ("precision", est["precision"][j], sims["precision"][:, j]),
            ("recall", est["recall"][j], sims["recall"][:, j]),
            ("f1", est["f1"][j], sims["f1"][:, j]),
            ("prevalence", prevalence[j], prevalence_boot[:, j]),
        ):
            low, high = percentile_interval(draws)
            row |= {name: float(value), f"{name}_low": low, f"{name}_high": high}
        rows.append(row)
    finite = np.isfinite(sims["f1"])
    with np.errstate(invalid="ignore", divide="ignore"):  # a draw where no label has an F1 gives NaN
        macro_boot = np.where(finite, sims["f1"], 0).sum(axis=1) / finite.sum(axis=1)
    for name, value, draws in (
        ("micro", est["micro_f1"], sims["micro_f1"]),
        ("macro", float(np.nanmean(est["f1"])) if np.isfinite(est["f1"]).any() else float("nan"), macro_boot),
    ):
        low, high = percentile_interval(np.asarray(draws))
        rows.append({"label": f"({name} F1)", "f1": float(value), "f1_low": low, "f1_high": high})
    return pd.DataFrame(rows)


def read_labelled(path: Path) -> pd.DataFrame:
    """Rows written by ``framing annotate import`` (any table format with article_id, paragraph, labels)."""
    from framing.data.readers import read_records

    records = [record for _, record in read_records(path)]
    if not records:
        raise DataError(path, "no labelled rows")
    frame = pd.DataFrame.from_records(records)
    missing = [c for c in ("article_id", "paragraph", "labels") if c not in frame.columns]
    if missing:
        raise DataError(path, f"missing column(s) {missing}; expected the output of framing annotate import")
    frame["labels"] = [_label_list(value, path, row) for row, value in enumerate(frame["labels"], start=1)]
    return frame


def _label_list(value: object, path: Path, row: int) -> list[str]:
    """A list as written in JSON Lines or Parquet, or a JSON list in a CSV cell."""
    import json

    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, str):
        text = value
        try:
            value = json.loads(text) if text.strip() else []
        except json.JSONDecodeError:
            raise DataError(path, f"labels is not a JSON list: {text[:80]!r}", row) from None
    if not isinstance(value, list | tuple | np.ndarray):
        raise DataError(path, f"labels is not a list: {value!r}", row)
    return [str(v) for v in value]


def estimate(
    labelled: pd.DataFrame, scores: pd.DataFrame, labels: Sequence[str], seed: int = 13, n_boot: int = BOOTSTRAP
) -> Estimate:
    """Match, weight and estimate; notes say when the sample cannot speak for the corpus."""
    notes = []
    if "weight" not in labelled.columns or labelled["weight"].isna().all():
        labelled = labelled.assign(weight=1.0)
        notes.append("no sampling weights: every labelled paragraph counts once (an estimate of the sample only)")
    labelled = labelled.assign(weight=labelled["weight"].fillna(1.0).astype(float))
    if "strategy" in labelled.columns and set(labelled["strategy"].dropna()) == {"uncertainty"}:
        notes.append("uncertainty sample only: it describes the uncertain paragraphs, not the corpus")
    merged, unmatched = match_scores(labelled.copy(), scores.copy())
    if merged.empty:
        raise DataError("--scores", "no labelled paragraph matches a scored one on (article_id, paragraph)")
    if unmatched:
        notes.append(f"{unmatched} labelled paragraph(s) not in the scores were left out")
    table = estimate_metrics(merged, labels, n_boot=n_boot, seed=seed)
    return Estimate(table, len(merged), int(merged["article_id"].nunique()), unmatched, notes)
