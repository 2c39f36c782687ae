"""Evidence for the paragraphs the student decides: each word's share of the student's logit.

When the cascade's student decides a paragraph, the transformer never sees
it, so the transformer's saliency would explain a decision nobody made. The
student is linear (hashed TF-IDF n-grams, one ridge regression), so its logit
for a label splits exactly into per-feature terms ``coef x value``. Each
term is shared among the n-gram occurrences that hashed to the feature, and
each occurrence goes to the whitespace-delimited word it came from (a word
bigram half to each of its two words; a ``char_wb`` n-gram never crosses a
word). A word's evidence weight is the sum of its shares: over all words the
weights add up to the student's logit minus its intercept, in the unit of the
transformer's logits that the student was distilled on.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

import numpy as np

from framing.models.base import Evidence, ranked_terms, shown_word

_WORD = re.compile(r"\S+")


def _parts(pipeline: Any) -> tuple[Any, Any, np.ndarray, Any]:
    """The word and character vectorizers, the ridge coefficients [labels, features] and the feature union."""
    features = pipeline.named_steps["features"]
    word, char = (part.steps[0][1] for _, part in features.transformer_list)
    return word, char, np.asarray(pipeline.named_steps["ridge"].coef_), features


def _occurrences(text: str, word: Any, char: Any) -> tuple[list[str], list[str], list[tuple[int, ...]], list[str]]:
    """Word n-grams, character n-grams, the word indices each came from (word n-grams first), and the words.

    Rebuilt the way scikit-learn's analyzers build them (lowercased text; word
    1-2-grams of the token pattern; ``char_wb`` n-grams of each whitespace-split
    word), so the n-grams are exactly those the student counted.
    """
    lowered = word.build_preprocessor()(text)
    spans = [(m.start(), m.end()) for m in _WORD.finditer(lowered)]
    starts = [start for start, _ in spans]
    tokens = [(m.group(), bisect_right(starts, m.start()) - 1) for m in re.finditer(word.token_pattern, lowered)]
    low, high = word.ngram_range
    word_grams: list[str] = []
    owners: list[tuple[int, ...]] = []
    for n in range(low, high + 1):
        for i in range(len(tokens) - n + 1):
            window = tokens[i : i + n]
            word_grams.append(" ".join(token for token, _ in window))
            owners.append(tuple(owner for _, owner in window))
    analyse_chars = char.build_analyzer()
    char_grams: list[str] = []
    for index, (start, end) in enumerate(spans):
        grams = analyse_chars(lowered[start:end])
        char_grams.extend(grams)
        owners.extend([(index,)] * len(grams))
    written = [text[s:e] for s, e in spans] if len(lowered) == len(text) else [lowered[s:e] for s, e in spans]
    return word_grams, char_grams, owners, written


def _columns(grams: list[str], vectorizer: Any) -> np.ndarray:
    """The hashed column of each n-gram: the ``FeatureHasher`` a ``HashingVectorizer`` hashes with."""
    if not grams:
        return np.zeros(0, dtype=np.int64)
    from sklearn.feature_extraction import FeatureHasher

    hasher = FeatureHasher(vectorizer.n_features, input_type="string", alternate_sign=vectorizer.alternate_sign)
    hashed = hasher.transform([[gram] for gram in grams]).tocsr()
    return np.asarray(hashed.indices, dtype=np.int64)


def word_shares(
    pipeline: Any, text: str, values: Any, parts: tuple[Any, ...] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Per word (whitespace-split) and label, its share of the student's logit; and the words as written.

    ``values`` is the text's row of the feature union's output (1 x features);
    ``parts`` what ``_parts`` gives for the pipeline, when the caller has it.
    """
    word, char, coef, _ = parts or _parts(pipeline)
    word_grams, char_grams, owners, written = _occurrences(text, word, char)
    columns = np.concatenate([_columns(word_grams, word), _columns(char_grams, char) + word.n_features])
    row = values.toarray().ravel() if hasattr(values, "toarray") else np.asarray(values).ravel()
    shares = np.zeros((len(written), coef.shape[0]))
    if not len(columns):
        return shares, written
    counts = np.bincount(columns, minlength=row.shape[0])
    # one entry per (occurrence, word it goes to): a bigram's term is halved between its two words
    repeats = np.fromiter((len(owner) for owner in owners), dtype=np.int64, count=len(owners))
    flat_columns = np.repeat(columns, repeats)
    flat_words = np.fromiter((index for owner in owners for index in owner), dtype=np.int64, count=int(repeats.sum()))
    scale = row[flat_columns] / counts[flat_columns] / np.repeat(repeats, repeats)
    np.add.at(shares, flat_words, (coef[:, flat_columns].astype(np.float64) * scale).T)
    return shares, written


def student_evidence(
    pipeline: Any, labels: Sequence[str], texts: Sequence[str], flags: np.ndarray, k: int
) -> list[Evidence]:
    """The ``k`` words with the largest positive share of each flagged label's logit, with that share.

    A word written more than once (any case) is listed once with its summed
    share, trimmed of punctuation at its edges, and only if it has a letter.
    """
    flags = np.asarray(flags, dtype=bool).reshape(len(texts), len(labels))
    results: list[Evidence] = [{labels[int(j)]: [] for j in np.flatnonzero(row)} for row in flags]
    rows = [int(row) for row in np.flatnonzero(flags.any(axis=1))]
    if k <= 0 or not rows:
        return results
    parts = _parts(pipeline)
    values = parts[3].transform([texts[row] for row in rows]).tocsr()
    for position, row in enumerate(rows):
        shares, written = word_shares(pipeline, texts[row], values[position], parts)
        totals: dict[str, list[Any]] = {}
        for share, form in zip(shares, written, strict=True):
            shown = shown_word(form)
            if shown is None:
                continue
            entry = totals.setdefault(shown.casefold(), [shown, np.zeros(len(labels))])
            entry[1] = entry[1] + share
        for j in np.flatnonzero(flags[row]):
            terms = ranked_terms((form, float(total[j])) for form, total in totals.values())
            results[row][labels[int(j)]] = terms[:k]
    return results


__all__ = ["student_evidence", "word_shares"]
