"""Batch scoring of article corpora: sources -> paragraphs -> predictor -> parts."""

from framing.scoring.corpus import ScoringOptions, ScoringSummary, score_corpus
from framing.scoring.paragraphs import split_paragraphs
from framing.scoring.sources import SourceOptions

__all__ = ["ScoringOptions", "ScoringSummary", "SourceOptions", "score_corpus", "split_paragraphs"]
