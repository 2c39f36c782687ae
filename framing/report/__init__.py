"""Reports over scored paragraphs: article tables, corpus summaries, plots and one offline HTML page.

``reading`` finds the files of a scores output and reads them in chunks through
``framing.formats``; ``aggregate`` reduces them to one row per article and
articles to summaries per group, with ``shares`` for intervals and correction;
``figures`` draws the plots, ``examples`` picks the paragraphs shown, ``page``
renders the HTML, and ``write.write_report`` runs the flow.
"""

from framing.report.aggregate import ArticleTotals, aggregate_articles, summarise
from framing.report.page import display_summary
from framing.report.reading import iter_chunks, score_files, scores_manifest
from framing.report.settings import ReportSettings
from framing.report.write import Report, write_report

__all__ = [
    "ArticleTotals",
    "Report",
    "ReportSettings",
    "aggregate_articles",
    "display_summary",
    "iter_chunks",
    "score_files",
    "scores_manifest",
    "summarise",
    "write_report",
]
