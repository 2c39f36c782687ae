"""Shares of flagged paragraphs per group, with the uncertainty a study has to report.

A share is a ratio of sums over articles: flagged paragraphs over paragraphs.
Paragraphs of one article are not independent (one author, one story), so
the 95% interval is a percentile cluster bootstrap that resamples the group's
articles (``framing.uncertainty.cluster_ratio``), not its paragraphs. Each
group also carries its paragraph and article counts, and ``below_min`` marks
groups with fewer articles than the report's minimum: their shares are shown
greyed, because a share from a handful of articles says little.

Time groupings are ``year`` (``YYYY``) and ``month`` (``YYYY-MM``), read from
the first characters of ``date``; a date that does not start that way has no
year or month (the group ``(missing)``), never a wrong one.

Where the user measured the model on a labelled sample (``framing annotate
estimate --output``), a share can be corrected for the model's errors:
``share x precision / recall`` estimates the share of paragraphs that truly
carry the label (flagged ones that are right, scaled up for the ones it
misses). The corrected interval combines the share's interval with the
extremes of the precision and recall intervals, so it is conservative.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from framing.errors import DataError
from framing.uncertainty import N_BOOT, SEED, cluster_ratio

TIME_KEYS = {"year": re.compile(r"^(\d{4})"), "month": re.compile(r"^(\d{4}-\d{2})")}
MIN_ARTICLES = 10
INTERVAL_METHOD = "95% percentile cluster bootstrap over the group's articles"


def with_time_keys(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """``year`` and ``month`` columns from ``date`` for the time keys in ``keys`` (existing columns kept)."""
    wanted = [key for key in keys if key in TIME_KEYS]
    if not wanted or "date" not in frame:
        return frame
    out = frame.copy()
    for key in wanted:
        pattern = TIME_KEYS[key]
        out[key] = frame["date"].map(lambda v, p=pattern: _time_value(v, p))
    return out


def _time_value(value: object, pattern: re.Pattern[str]) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    match = pattern.match(str(value).strip())
    return match.group(1) if match else None


def time_position(key: str, value: object) -> pd.Timestamp | None:
    """Where a year or month sits on a real time axis (mid-year, mid-month); ``None`` when unknown."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value)
    try:
        if key == "year":
            return pd.Timestamp(year=int(text[:4]), month=7, day=1)
        return pd.Timestamp(year=int(text[:4]), month=int(text[5:7]), day=15)
    except ValueError:
        return None


def _interval_columns(counts: pd.DataFrame, labels: Sequence[str], n_boot: int, seed: int) -> dict[str, float]:
    flagged = counts[[f"flagged_{label}" for label in labels]].to_numpy(dtype=float)
    found = cluster_ratio(flagged, counts["paragraphs"].to_numpy(dtype=float), n_boot=n_boot, seed=seed)
    out: dict[str, float] = {}
    for j, label in enumerate(labels):
        out[f"share_{label}_low"], out[f"share_{label}_high"] = float(found["low"][j]), float(found["high"][j])
    return out


def group_intervals(
    frame: pd.DataFrame,
    labels: Sequence[str],
    keys: Sequence[str],
    n_boot: int = N_BOOT,
    seed: int = SEED,
) -> pd.DataFrame:
    """Per group of ``keys`` (or overall), the share intervals of every label, in groupby's sorted order."""
    columns = ["paragraphs", *(f"flagged_{label}" for label in labels)]
    if not keys:
        return pd.DataFrame([_interval_columns(frame[columns], labels, n_boot, seed)])
    rows = []
    for _, group in frame.groupby(list(keys), dropna=False, sort=True):
        rows.append(_interval_columns(group[columns], labels, n_boot, seed))
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Correction:
    """Per label, the model's measured precision and recall with their 95% intervals."""

    path: Path
    precision: dict[str, tuple[float, float, float]]
    recall: dict[str, tuple[float, float, float]]


def read_correction(path: Path) -> Correction:
    """The CSV that ``framing annotate estimate --output`` writes (label, precision[_low/_high], recall[...])."""
    if not path.is_file():
        raise DataError(path, "estimate table not found (write it with framing annotate estimate --output)")
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise DataError(path, f"unreadable: {exc}") from None
    needed = [f"{m}{end}" for m in ("precision", "recall") for end in ("", "_low", "_high")]
    missing = [c for c in ["label", *needed] if c not in table.columns]
    if missing:
        raise DataError(path, f"missing column(s) {missing}; expected the output of framing annotate estimate --output")
    table = table[~table["label"].astype(str).str.startswith("(")]  # the micro/macro rows
    precision, recall = {}, {}
    for row in table.to_dict(orient="records"):
        label = str(row["label"])
        precision[label] = (float(row["precision"]), float(row["precision_low"]), float(row["precision_high"]))
        recall[label] = (float(row["recall"]), float(row["recall_low"]), float(row["recall_high"]))
    return Correction(path, precision, recall)


def apply_correction(summary: pd.DataFrame, labels: Sequence[str], correction: Correction) -> pd.DataFrame:
    """Add ``corrected_<label>`` (and ``_low``/``_high``) = share x precision / recall, clipped to [0, 1].

    Labels the estimate does not cover, or whose recall is 0 or undefined, get no corrected share.
    """
    out = summary.copy()
    for label in labels:
        if label not in correction.precision:
            continue
        (p, p_low, p_high), (r, r_low, r_high) = correction.precision[label], correction.recall[label]
        if not all(np.isfinite([p, p_low, p_high, r, r_low, r_high])) or r_low <= 0:
            continue
        share = out[f"share_{label}"].astype(float)
        out[f"corrected_{label}"] = (share * p / r).clip(0, 1)
        out[f"corrected_{label}_low"] = (out[f"share_{label}_low"].astype(float) * p_low / r_high).clip(0, 1)
        out[f"corrected_{label}_high"] = (out[f"share_{label}_high"].astype(float) * p_high / r_low).clip(0, 1)
    return out


__all__ = [
    "INTERVAL_METHOD",
    "MIN_ARTICLES",
    "TIME_KEYS",
    "Correction",
    "apply_correction",
    "group_intervals",
    "read_correction",
    "time_position",
    "with_time_keys",
]
