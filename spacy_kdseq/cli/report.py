"""`spacy kdseq report`: paper-shaped tables, a chart and learning curves from run records."""
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from ._app import app


@app.command("report")
def report_cli(
    results_dir: Path = typer.Argument(..., help="A task's run records, e.g. results/ner", exists=True, file_okay=False),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Markdown file (default: RESULTS_DIR/report.md)"),
    plot: Optional[Path] = typer.Option(None, "--plot", "-p", help="PNG chart (default: RESULTS_DIR/report.png)"),
    curves: Optional[Path] = typer.Option(None, "--curves", help="PNG learning curves (default: RESULTS_DIR/curves.png)"),
    languages: str = typer.Option("", "--languages", "-l", help="Column order, e.g. 'es nl' (default: teachers' languages, sorted)"),
    title: Optional[str] = typer.Option(None, "--title", help="Heading of the report"),
) -> None:
    """Write report.md (mean ± std over seeds, in the paper's shape), report.png and curves.png."""
    from ..errors import KDSeqError
    from ..report import load_report_data, render_markdown
    from ..report.plot import plot_curves, plot_report

    try:
        data = load_report_data(results_dir, languages.split() or None)
    except KDSeqError as err:
        msg.fail(str(err), exits=1)
    output = output or results_dir / "report.md"
    plot = plot or results_dir / "report.png"
    curves = curves or results_dir / "curves.png"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_markdown(data, title), encoding="utf8")
    plot_report(data, plot)
    plot_curves(data, curves)
    msg.good(f"Report for {len(data.rows)} rows × {len(data.languages)} languages", f"{output}\n{plot}\n{curves}")
