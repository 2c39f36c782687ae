"""Which language is a paragraph in, and does the model know it?

A model trained on English paragraphs scores a German one as if it were
English (it flags it for the word "den") and a Russian one as nothing at all;
neither is a measurement. Every paragraph's language is therefore identified
(py3langid: offline, a small Naive Bayes model over byte n-grams, 97
languages) and stored in the output as ``detected_language``; every model
records the languages of its training paragraphs; and scoring rejects, with
the reason ``language``, paragraphs in a language the model was not trained
on, unless the user asks for ``--languages any`` (or names the languages).

Short lines (titles, bylines, "Read more:") carry too little text for a
reliable answer: a paragraph with fewer than ``MIN_LETTERS`` letters, or whose
best language has a normalised probability under ``MIN_CONFIDENCE``, is
``und`` (undetermined) and is scored, never rejected on a guess.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from framing.errors import ConfigError

UNDETERMINED = "und"
ANY = "any"
MIN_LETTERS = 20
MIN_CONFIDENCE = 0.8
# A language is one of the model's when at least this share of its (determined) training paragraphs are in it.
MIN_TRAINING_SHARE = 0.05
FALLBACK_LANGUAGES = ("en",)  # models trained before languages were recorded: the shipped data is English


@functools.lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@functools.lru_cache(maxsize=16_384)
def identify(text: str) -> tuple[str, float]:
    """(ISO 639-1 code or ``und``, probability of the best language).

    The answers for the last 16,384 distinct texts are kept:
    archives repeat paragraphs (wire copy, sign-offs), and identification was
    a tenth of a scoring run's time on a corpus of repeated paragraphs.
    """
    if len(list(itertools.islice(filter(str.isalpha, text), MIN_LETTERS))) < MIN_LETTERS:
        return UNDETERMINED, 0.0
    language, probability = _identifier().classify(text)
    probability = float(probability)
    return (str(language) if probability >= MIN_CONFIDENCE else UNDETERMINED), probability


def language_counts(texts: Iterable[str]) -> dict[str, int]:
    """Paragraphs per identified language (``und`` included), most frequent first."""
    counts = Counter(identify(text)[0] for text in texts)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def main_languages(counts: Mapping[str, int], min_share: float = MIN_TRAINING_SHARE) -> list[str]:
    """The languages that make up at least ``min_share`` of the determined paragraphs, sorted."""
    determined = {k: v for k, v in counts.items() if k != UNDETERMINED}
    total = sum(determined.values())
    if not total:
        return []
    return sorted(k for k, v in determined.items() if v / total >= min_share)


def training_record(splits: Any) -> dict[str, Any]:
    """What a model stores about its training data: language counts, main languages, files and rows."""
    counts = language_counts(splits.train.texts)
    return {
        "languages": counts,
        "main_languages": main_languages(counts),
        "data": {split.name: f"{split.path} ({len(split)} rows)" for split in splits.all()},
    }


def model_languages(training: Mapping[str, Any]) -> tuple[list[str], bool]:
    """The languages a model scores by default, and whether they were recorded (else the fallback)."""
    recorded = training.get("main_languages")
    if recorded:
        return sorted(str(x) for x in recorded), True
    return list(FALLBACK_LANGUAGES), False


def parse_languages(value: str | None, training: Mapping[str, Any]) -> tuple[str, ...] | None:
    """``--languages``: ``any`` (None: keep every language), a comma list of codes, or the model's languages."""
    if value is None:
        return tuple(model_languages(training)[0])
    if value.strip().lower() == ANY:
        return None
    codes = tuple(sorted({code.strip().lower() for code in value.split(",") if code.strip()}))
    known = set(_identifier().nb_classes)
    unknown = [code for code in codes if code not in known]
    if not codes or unknown:
        raise ConfigError(f"--languages: unknown language code(s) {unknown or [value]}; use ISO 639-1 codes or 'any'")
    return codes


def language_problem(language: str, probability: float, allowed: Sequence[str] | None) -> str | None:
    """The reject reason for a paragraph in a language outside ``allowed`` (None: every language is fine)."""
    if allowed is None or language == UNDETERMINED or language in allowed:
        return None
    return (
        f"language: {language} (p={probability:.2f}) is not among the model's languages "
        f"({', '.join(allowed)}); --languages any scores it anyway"
    )


__all__ = [
    "ANY",
    "UNDETERMINED",
    "identify",
    "language_counts",
    "language_problem",
    "main_languages",
    "model_languages",
    "parse_languages",
    "training_record",
]
