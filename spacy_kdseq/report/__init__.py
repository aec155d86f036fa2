"""Paper-shaped result tables and a bar chart from ``spacy kdseq evaluate`` output."""
from .tables import ROWS, ReportData, load_report_data, render_markdown
from .plot import plot_report

__all__ = ["ROWS", "ReportData", "load_report_data", "plot_report", "render_markdown"]
