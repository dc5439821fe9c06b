"""What a person reads: the terminal/Markdown summary and the offline HTML report with charts."""

from tokenomics.report.summary import EXTRAS, Summary, summarize, summary_markdown

__all__ = ["EXTRAS", "Summary", "summarize", "summary_markdown", "render_report", "write_report"]


def render_report(warehouse, month=None):
    """The report as one HTML string (imported lazily: Altair and vl-convert load only when asked)."""
    from tokenomics.report.html import render_report as _render

    return _render(warehouse, month)


def write_report(warehouse, out, month=None):
    from tokenomics.report.html import write_report as _write

    return _write(warehouse, out, month)
