"""`spacy kdseq report`: paper-shaped tables, a chart and learning curves from run records."""
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer
from wasabi import msg

from ._app import app

if TYPE_CHECKING:
    from ..report import ReportData


@app.command("report")
def report_cli(
    results_dir: Path = typer.Argument(..., help="A task's run records, e.g. results/ner", exists=True, file_okay=False),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Markdown file (default: RESULTS_DIR/report.md)"),
    plot: Optional[Path] = typer.Option(None, "--plot", "-p", help="PNG chart (default: RESULTS_DIR/report.png)"),
    curves: Optional[Path] = typer.Option(None, "--curves", help="PNG learning curves (default: RESULTS_DIR/curves.png)"),
    speed: Optional[Path] = typer.Option(None, "--speed", help="PNG accuracy against speed (default: RESULTS_DIR/speed.png)"),
    languages: str = typer.Option("", "--languages", "-l", help="Column order, e.g. 'es nl' (default: teachers' languages, sorted)"),
    title: Optional[str] = typer.Option(None, "--title", help="Heading of the report"),
) -> None:
    """Write report.md (mean ± std over seeds, in the paper's shape), report.png, curves.png
    and speed.png."""
    from ..errors import KDSeqError
    from ..fileio import check_output_file, write_text_atomic
    from ..report import load_report_data, render_markdown
    from ..report.plot import plot_curves, plot_report, plot_speed

    output = output or results_dir / "report.md"
    plot = plot or results_dir / "report.png"
    curves = curves or results_dir / "curves.png"
    speed = speed or results_dir / "speed.png"
    try:
        for path in (output, plot, curves, speed):
            check_output_file(path)
        data = load_report_data(results_dir, languages.split() or None)
        _check_languages(data, languages.split())
        write_text_atomic(output, render_markdown(data, title))
        plot_report(data, plot)
        plot_curves(data, curves)
        plot_speed(data, speed)
    except KDSeqError as err:
        msg.fail(str(err), exits=1)
    msg.good(f"Report for {len(data.rows)} rows × {len(data.languages)} languages", f"{output}\n{plot}\n{curves}\n{speed}")


def _check_languages(data: "ReportData", requested: List[str]) -> None:
    """Refuse --languages that no record was tested on (a column of dashes, E409); warn
    about tested languages the report leaves out (W416)."""
    from ..errors import Errors, KDSeqError, Warnings

    rows = [*data.rows, *(row for rows in data.variants.values() for row in rows)]
    tested = sorted({lang for row in rows for record in row.records
                     for lang in record["test"]["languages"]})
    missing = [lang for lang in requested if lang not in tested]
    if missing:
        raise KDSeqError(Errors.E409.format(requested=" ".join(requested), missing=missing,
                                            tested=tested))
    dropped = [lang for lang in tested if lang not in {*data.languages, *data.zero_shot}]
    if dropped:
        msg.warn(Warnings.W416.format(dropped=dropped, shown=[*data.languages, *data.zero_shot]))
