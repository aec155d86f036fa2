"""Paper-shaped result tables, verdicts and figures rebuilt from the run records."""
from .markdown import render_markdown, verdicts
from .tables import Cell, ReportData, Row, load_report_data

__all__ = ["Cell", "ReportData", "Row", "load_report_data", "render_markdown", "verdicts"]
