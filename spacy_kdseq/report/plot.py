"""Figures of the report: scores per language (bars with ± std) and dev learning curves.

matplotlib is imported inside the functions and drawn through its Agg canvas, so
importing the package costs nothing and no process-wide backend is set.
"""
from pathlib import Path
from typing import Any, Tuple

from ..errors import Errors, KDSeqError
from ..fileio import atomic_path
from .tables import ReportData


def _figure(size: Tuple[float, float]) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise KDSeqError(Errors.E235.format(err=err)) from None
    return Figure(figsize=size)


def plot_report(report: ReportData, path: Path) -> None:
    """Write `path` (PNG): mean score × 100 per language and Avg per row, std as error bars."""
    groups = list(report.languages) + ["Avg"]
    rows = report.rows
    width = 0.8 / max(len(rows), 1)
    fig = _figure((max(8.0, 1.3 * len(groups) + 4.5), 4.8))
    ax = fig.add_subplot()
    lows = []
    for i, row in enumerate(rows):
        cells = [row.cell(lang, report.metric) for lang in report.languages]
        cells.append(row.average(report.languages, report.metric))
        xs = [g + (i - (len(rows) - 1) / 2) * width for g in range(len(groups))]
        means = [100 * c.mean if c else 0.0 for c in cells]
        errs = [100 * c.std if c and c.std else 0.0 for c in cells]
        lows += [m for m, c in zip(means, cells) if c]
        ax.bar(xs, means, width, yerr=errs, capsize=2, label=row.label)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups)
    if lows:
        ax.set_ylim(max(0.0, min(lows) - 8), min(100.0, max(lows) + 4))
    ax.set_ylabel(f"{report.metric_name} (test)")
    ax.set_title(f"{report.task.upper()}: teachers, stock spaCy, baseline and distilled students")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    _save(fig, path)


def plot_curves(report: ReportData, path: Path) -> None:
    """Write `path` (PNG): dev score against steps for every student, one line per seed."""
    fig = _figure((8.5, 4.8))
    ax = fig.add_subplot()
    colours = {}
    for row in report.students():
        for record in sorted(row.records, key=lambda r: r["seed"]):
            steps = [step for step, _ in record["curve"]]
            scores = [100 * score for step, score in record["curve"]]
            label = row.label if row.label not in colours else None
            line, = ax.plot(steps, scores, color=colours.get(row.label), label=label, linewidth=1.2)
            colours.setdefault(row.label, line.get_color())
    ax.set_xlabel("training step")
    ax.set_ylabel("dev score (× 100)")
    ax.set_title(f"{report.task.upper()}: student dev score during training (one line per seed)")
    if colours:
        ax.legend(fontsize="small", loc="lower right")
        ax.set_ylim(bottom=max(0.0, ax.get_ylim()[1] - 40))
    fig.tight_layout()
    _save(fig, path)


def plot_speed(report: ReportData, path: Path) -> None:
    """Write `path` (PNG): test Avg (± std over seeds) against inference words per second
    (log scale) for every row of every variant: what each model size and encoder buys."""
    from ..run_record import encoder_of

    fig = _figure((8.5, 5.2))
    ax = fig.add_subplot()
    rows = report.rows + [r for rows in report.variants.values() for r in rows]
    for row in rows:
        speed = row.words_per_second()
        avg = row.average(report.languages, report.metric)
        if speed is None or avg is None:
            continue
        transformer = any(encoder_of(r) != "cnn" for r in row.records)
        ax.errorbar([speed], [100 * avg.mean], yerr=[100 * (avg.std or 0.0)], capsize=2,
                    marker="s" if transformer else "o", color="tab:red" if transformer else "tab:blue")
        name = row.label if row.variant == "default" else f"{row.label} ({row.variant})"
        ax.annotate(name, (speed, 100 * avg.mean), fontsize="x-small", xytext=(3, 3),
                    textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("inference words / second (test evaluation, log scale)")
    ax.set_ylabel(f"{report.metric_name} (test Avg)")
    ax.set_title(f"{report.task.upper()}: accuracy against speed (squares: transformer encoders)")
    fig.tight_layout()
    _save(fig, path)


def _save(fig: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
