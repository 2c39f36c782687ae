"""Batch scoring of article corpora: sources -> paragraphs -> predictor -> sinks."""

from framing.scoring.corpus import ScoringSummary, score_corpus
from framing.scoring.paragraphs import split_paragraphs

__all__ = ["ScoringSummary", "score_corpus", "split_paragraphs"]
