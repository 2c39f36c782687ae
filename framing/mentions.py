"""Whether a paragraph refers to the news media at all: the precondition of a ``media_bias_claim``.

The codebook's ``media_bias_claim`` accuses news media (outlets, journalists,
coverage) of bias or distortion, so a paragraph that never refers to them
cannot make one, whatever its wording. Models learn the wording of claims
("narrative", "lies", "fake") and, on unselected real news, flag paragraphs
with that wording and no media referent at all: game-painting guides about a
"narrative", fact-checks of hoax websites, officials calling "reports" false.
A label listed in ``data.requires_news_media`` is therefore decided only for
paragraphs this lexicon finds a news-media reference in; for the others its
probability is 0. The lexicon is deliberately broad (generic words for the
media and the names of widely cited outlets, state media included): it only
has to rule out paragraphs with no media referent, the model decides the rest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

_MEDIA_WORDS = re.compile(
    r"\b(?:media|msm|press|presstitutes?|news\w*|journalis\w*|reporters?|reporting|reported|reportage|"
    r"correspondents?|editors?|editorials?|editorialis\w*|columnists?|commentators?|commentariat|pundits?|"
    r"anchors?|anchorm[ae]n|broadcast\w*|television|tv|radio|outlets?|tabloids?|magazines?|papers?|"
    r"publications?|front pages?|headlines?|coverage|covering|covered|articles?|op-eds?|stories|propagand\w*|"
    r"fake news|hit pieces?|spin doctors?|talking heads|talk shows?|airwaves|airtime|aired|channels?|"
    r"networks?|stations?|programmes?|viewers|camera crews?|"
    r"cnn|msnbc|fox|bbc|nbc|abc|cbs|npr|pbs|c-span|reuters|bloomberg|politico|axios|"
    r"associated press|new york times|nyt|washington post|wapo|wall street journal|wsj|usa today|"
    r"huffpost|huffington|buzzfeed|breitbart|daily caller|daily beast|newsmax|infowars|drudge|"
    r"guardian|telegraph|daily mail|economist|new yorker|le monde|figaro|spiegel|bild|"
    r"russia today|sputnik|tass|ria novosti|pravda|izvestia|xinhua|global times|cgtn|cctv|people's daily|"
    r"al jazeera|al arabiya|haaretz|kyiv independent|meduza|euronews|deutsche welle|voice of america|"
    r"radio free europe|rfe/rl)\b",
    re.IGNORECASE,
)
# Outlet names that are ordinary words in lower case: counted only as written in titles.
_OUTLET_NAMES = re.compile(
    r"\b(?:AP|AFP|RT|DW|VOA|Times|Post|Mail|Sun|Mirror|Independent|Observer|Herald|Tribune|Journal|Gazette|"
    r"Chronicle|Express|Standard|Daily [A-Z]\w+)\b"
)


def mentions_news_media(text: str) -> bool:
    """Whether ``text`` names the news media, an outlet, journalists, coverage or propaganda."""
    return bool(_MEDIA_WORDS.search(text) or _OUTLET_NAMES.search(text))


def open_labels(texts: Sequence[str], labels: Sequence[str], required: Sequence[str]) -> np.ndarray:
    """[texts, labels]: whether a model decides the label for the text (False: the requirement rules it out)."""
    mask = np.ones((len(texts), len(labels)), dtype=bool)
    columns = np.array([list(labels).index(label) for label in required], dtype=np.int64)
    if len(columns) and len(texts):
        without = np.array([not mentions_news_media(text) for text in texts], dtype=bool)
        mask[np.ix_(without, columns)] = False
    return mask


def require_news_media(
    probabilities: np.ndarray, texts: Sequence[str], labels: Sequence[str], required: Sequence[str]
) -> np.ndarray:
    """``probabilities`` with the ``required`` labels set to 0 for texts that do not mention the news media."""
    if not required or not len(texts):
        return probabilities
    return gate(probabilities, open_labels(texts, labels, required))


def gate(probabilities: np.ndarray, open_mask: np.ndarray) -> np.ndarray:
    """``probabilities`` with 0 where ``open_mask`` (from ``open_labels``) is False; the input unchanged if none."""
    if open_mask.all():
        return probabilities
    return np.where(open_mask, probabilities, 0.0)


def news_media_labels(required: Sequence[str], labels: Sequence[str], task: str) -> list[str]:
    """The labels of ``data.requires_news_media`` this run has, for a multi-label task; none otherwise.

    The requirement belongs to the framing codebook's label; data with another
    label set, or a multi-class task (where a class must always win), has
    nothing to apply it to.
    """
    if task != "multilabel":
        return []
    return [label for label in required if label in labels]


__all__ = ["gate", "mentions_news_media", "news_media_labels", "open_labels", "require_news_media"]
