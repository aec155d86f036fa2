"""Size, speed and accuracy on one chart: the CNN students at each width, taught by the CNN
teachers and by the e5 teachers, against the e5 teachers and the e5 student.

Inference speed depends on the architecture, not on the weights, so each model is built
from its config, initialised on a few training docs, and timed with `nlp.pipe` over a
task's test docs in interleaved rounds (one torch thread), reporting the median
words/second; its size is the serialised pipeline (`nlp.to_bytes()`, what `to_disk` writes,
in MB). Accuracy comes from the run records in results/<task>/: the test macro average,
mean ± std over seeds. For each width (variant) the baseline and the best KD method on dev,
taught by the CNN teachers and, as variant `<variant>-te5` (`te5` for the default), by the
e5 teachers. With --encoder, the e5 pipeline (configs/teacher-<task>-trf.cfg) is timed
beside them: the e5 teachers (teacher variant `e5`, one per language) and the e5 students
(variant `e5`) share its architecture, so its speed and size.

    OMP_NUM_THREADS=1 python benchmarks/student_size.py ner --variant default=192 \\
        --variant w64=64 --variant w32=32 --encoder assets/encoders/e5-small \\
        --plot docs/img/ner-size.png
"""
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import spacy
import torch
import typer
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.util import load_config

from spacy_kdseq.report import load_report_data
from spacy_kdseq.report.markdown import fmt
from spacy_kdseq.report.tables import ReportData, Row, best_on_dev
from spacy_kdseq.run_record import tagged_variant

app = typer.Typer(add_completion=False)
ROOT = Path(__file__).resolve().parents[1]
E5 = "e5"
# The student series, in the order of the table's columns: which rows of a width's
# variants each one takes.
BASELINE, KD_CNN, KD_E5 = "Baseline", "best KD on dev, CNN teachers", "best KD on dev, e5 teachers"


@dataclass
class Point:
    """One model (a row of records) on the chart."""

    series: str
    name: str
    words_per_second: float
    megabytes: float
    mean: float
    std: float


def build(config_name: str, overrides: Dict[str, object], train: List[Doc]) -> spacy.Language:
    """A pipeline from configs/`config_name`, initialised (labels only) on `train`."""
    config = load_config(ROOT / "configs" / config_name, overrides=overrides, interpolate=False)
    # Speed needs the pipeline only: no distillation block, no training callbacks.
    config.pop("distillation", None)
    config["training"]["before_update"] = None
    config["initialize"]["before_init"] = None
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    examples = [Example(Doc(nlp.vocab, words=[t.text for t in d]), d) for d in train]
    nlp.initialize(lambda: examples)
    return nlp


def words_per_second(nlp: spacy.Language, docs: List[Doc]) -> float:
    """One pass of `nlp.pipe` over fresh copies of `docs` (gold tokenisation)."""
    fresh = [Doc(nlp.vocab, words=[t.text for t in d], spaces=[bool(t.whitespace_) for t in d]) for d in docs]
    start = time.perf_counter()
    for _ in nlp.pipe(fresh, batch_size=128):
        pass
    return sum(len(d) for d in docs) / (time.perf_counter() - start)


def megabytes(nlp: spacy.Language) -> float:
    """The pipeline's serialised size: weights, hash tables, labels and strings."""
    return len(nlp.to_bytes()) / 1e6


def _docs(paths: List[Path], vocab) -> List[Doc]:
    return [doc for path in paths for doc in DocBin().from_disk(path).get_docs(vocab)]


def _cell(row: Optional[Row], data: ReportData) -> str:
    avg = row.average(data.languages, data.metric) if row else None
    return f"{fmt(avg)} ({row.label})" if row is not None and avg is not None else "–"


def _point(series: str, name: str, row: Optional[Row], data: ReportData, speed: float,
           size: float) -> Optional[Point]:
    avg = row.average(data.languages, data.metric) if row else None
    if avg is None:
        return None
    return Point(series, name, speed, size, 100 * avg.mean, 100 * (avg.std or 0.0))


@app.command()
def main(
    task: str = typer.Argument(..., help="ner or pos"),
    variant: List[str] = typer.Option(..., help="VARIANT=WIDTH, e.g. default=192 (repeatable)"),
    encoder: Optional[Path] = typer.Option(None, help="The e5 encoder directory: time the e5 models too"),
    corpus: Path = typer.Option(Path("corpus"), help="The workflow's corpus folder"),
    results: Path = typer.Option(Path("results"), help="The workflow's results folder"),
    rounds: int = typer.Option(5, help="Interleaved timing rounds"),
    plot: Optional[Path] = typer.Option(None, help="PNG: accuracy against words/second"),
) -> None:
    torch.set_num_threads(1)
    widths: Dict[str, int] = {}
    for item in variant:
        name, _, width = item.partition("=")
        widths[name] = int(width)
    vocab = spacy.blank("xx").vocab
    train = _docs(sorted((corpus / task / "train").glob("*.spacy")), vocab)[:200]
    test = _docs(sorted((corpus / task / "test").glob("*.spacy")), vocab)
    nlps = {name: build(f"student-{task}.cfg", {"components.tok2vec.model.encode.width": width}, train)
            for name, width in widths.items()}
    if encoder is not None:
        nlps[E5] = build(f"teacher-{task}-trf.cfg", {"paths.encoder": str(encoder)}, train)
    speeds: Dict[str, List[float]] = {name: [] for name in nlps}
    for _ in range(rounds):
        for name, nlp in nlps.items():
            speeds[name].append(words_per_second(nlp, test))
    median = {name: statistics.median(values) for name, values in speeds.items()}
    size = {name: megabytes(nlp) for name, nlp in nlps.items()}
    data = load_report_data(results / task)
    ref = median.get("default")

    def ratio(name: str) -> str:
        return f"{median[name] / ref:.2f}" if ref else "–"

    print(f"| model | width | MB | words/s (median of {rounds}) | × default | "
          f"{BASELINE} | {KD_CNN} | {KD_E5} |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    points: List[Point] = []
    for name, width in widths.items():
        rows = {BASELINE: data.baseline(name), KD_CNN: best_on_dev(data.students(name)),
                KD_E5: best_on_dev(data.students(tagged_variant(name, "te5")))}
        for series, row in rows.items():
            point = _point(series, name, row, data, median[name], size[name])
            if point is not None:
                points.append(point)
        cells = " | ".join(_cell(row, data) for row in rows.values())
        print(f"| CNN student `{name}` | {width} | {size[name]:.1f} | {median[name]:,.0f} | "
              f"{ratio(name)} | {cells} |")
    if encoder is not None:
        students = data.students(E5)
        teachers = next((r for r in data.variants.get(E5, []) if r.kind == "teacher"), None)
        rows = {"e5 teachers (one per language)": teachers, "e5 student, Baseline": data.baseline(E5),
                "e5 student, best KD on dev": best_on_dev(students)}
        for series, row in rows.items():
            point = _point(series, E5, row, data, median[E5], size[E5])
            if point is not None:
                points.append(point)
        # The e5 student learns from the e5 teachers: its KD cell is in their column.
        print(f"| e5 (multilingual-e5-small + CRF) | 384 | {size[E5]:.1f} | {median[E5]:,.0f} | "
              f"{ratio(E5)} | {_cell(rows['e5 student, Baseline'], data)} | – | "
              f"{_cell(rows['e5 student, best KD on dev'], data)} |")
        print(f"\ne5 teachers (one per language): {_cell(teachers, data)}")
    # What the students are measured against: N models, one per language.
    references: List[Tuple[str, float]] = []
    for kind in ("teacher", "spacy"):
        row = data.row(kind, "per-language")
        avg = row.average(data.languages, data.metric) if row else None
        if avg:
            references.append((row.label, 100 * avg.mean))
            print(f"{row.label}: {fmt(avg)}")
    if plot is not None:
        _plot(points, references, data.metric_name, task, plot)


def _plot(points: List[Point], references: List[Tuple[str, float]], metric: str, task: str,
          path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.0, 5.0))
    ax = fig.add_subplot()
    for series in dict.fromkeys(p.series for p in points):
        mine = sorted((p for p in points if p.series == series), key=lambda p: p.words_per_second)
        ax.errorbar([p.words_per_second for p in mine], [p.mean for p in mine],
                    yerr=[p.std for p in mine], marker="s" if mine[0].name == E5 else "o",
                    capsize=3, label=series)
    # Each model (a width, or e5) is named once, with its size, above its highest point.
    for name in dict.fromkeys(p.name for p in points):
        top = max((p for p in points if p.name == name), key=lambda p: p.mean)
        ax.annotate(f"{name}, {top.megabytes:.1f} MB", (top.words_per_second, top.mean + top.std),
                    fontsize="x-small", xytext=(0, 6), textcoords="offset points", ha="center")
    for (label, value), style in zip(references, (":", "--")):
        ax.axhline(value, color="grey", linestyle=style, linewidth=1, label=f"{label} (CNN, average)")
    ax.set_xscale("log")
    # Room beyond the outermost points for the labels centred on them.
    ax.margins(x=0.1, y=0.08)
    ax.set_xlabel("inference words / second (one thread, log scale)")
    ax.set_ylabel(f"{metric}, test macro average (mean ± std over seeds)")
    ax.set_title(f"{task.upper()}: size, speed and accuracy")
    if points or references:
        ax.legend(fontsize="x-small", loc="best")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    app()
