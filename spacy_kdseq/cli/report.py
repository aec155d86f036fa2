"""`spacy kdseq report`: paper-shaped tables and a bar chart from evaluation JSON."""
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from ..report import load_report_data, plot_report, render_markdown
from ._app import app


@app.command("report")
def report_cli(
    metrics_dir: Path = typer.Argument(..., help="Folder with teacher-*.json / student-*.json", exists=True, file_okay=False),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Markdown file (default: METRICS_DIR/report.md)"),
    plot: Optional[Path] = typer.Option(None, "--plot", "-p", help="PNG chart (default: METRICS_DIR/report.png)"),
    languages: str = typer.Option("", "--languages", "-l", help="Column order, e.g. 'es nl' (default: teachers' languages, sorted)"),
    title: Optional[str] = typer.Option(None, "--title", help="Heading of the report"),
) -> None:
    """Write report.md (per-language tables in the paper's shape) and report.png."""
    try:
        data = load_report_data(metrics_dir, languages.split() or None)
    except ValueError as err:
        msg.fail(str(err), exits=1)
    output = output or metrics_dir / "report.md"
    plot = plot or metrics_dir / "report.png"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_markdown(data, title), encoding="utf8")
    plot_report(data, plot)
    msg.good(f"Report for {len(data.rows)} rows × {len(data.languages)} languages", f"{output}\n{plot}")
