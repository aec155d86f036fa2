"""A grouped bar chart of the report: one group per language, one bar per row."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402

from .tables import ReportData, average  # noqa: E402


def plot_report(report: ReportData, path: Path) -> None:
    """Write `path` (PNG): scores × 100 per language and the average, per row."""
    groups = list(report.languages) + ["Avg"]
    rows = report.rows
    width = 0.8 / max(len(rows), 1)
    fig, ax = plt.subplots(figsize=(max(7.5, 1.2 * len(groups) + 3.5), 4.5))
    for i, row in enumerate(rows):
        values = [report.scores[row].get(lang) for lang in report.languages]
        values.append(average(report.scores[row], report.languages))
        xs = [g + (i - (len(rows) - 1) / 2) * width for g in range(len(groups))]
        ax.bar(xs, [100 * v if v is not None else 0.0 for v in values], width, label=row)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups)
    finite = [v for row in rows for v in report.scores[row].values()]
    if finite:
        ax.set_ylim(max(0.0, 100 * min(finite) - 10), min(100.0, 100 * max(finite) + 5))
    ax.set_ylabel(report.metric)
    ax.set_title(f"{report.task.upper()}: teachers, baseline and distilled students")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
