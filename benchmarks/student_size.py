"""Student size against speed and accuracy: what distillation buys at each width.

Inference speed depends on the architecture, not on the weights, so each student
width is built from the student config (with that width), initialised on a few
training docs, and timed with `nlp.pipe` over a task's test docs in interleaved
rounds (one torch thread), reporting the median words/second. Accuracy comes from the
run records in results/<task>/: the test macro average, mean ± std over seeds, of the
baseline and of every KD method trained at that width (variant).

    OMP_NUM_THREADS=1 python benchmarks/student_size.py ner \\
        --variant default=192 --variant w96=96 --variant w64=64 --plot docs/img/ner-size.png
"""
import statistics
import time
from pathlib import Path
from typing import Dict, List, Tuple

import spacy
import torch
import typer
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.util import load_config

from spacy_kdseq.report import load_report_data
from spacy_kdseq.report.markdown import fmt

app = typer.Typer(add_completion=False)


def build_student(task: str, width: int, train: List[Doc]) -> spacy.Language:
    """The student architecture at `width`, initialised (labels only) on `train`."""
    config = load_config(Path(f"configs/student-{task}.cfg"), overrides={
        "components.tok2vec.model.encode.width": width,
    }, interpolate=False)
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


def _docs(paths: List[Path], vocab) -> List[Doc]:
    return [doc for path in paths for doc in DocBin().from_disk(path).get_docs(vocab)]


@app.command()
def main(
    task: str = typer.Argument(..., help="ner or pos"),
    variant: List[str] = typer.Option(..., help="VARIANT=WIDTH, e.g. default=192 (repeatable)"),
    corpus: Path = typer.Option(Path("corpus"), help="The workflow's corpus folder"),
    results: Path = typer.Option(Path("results"), help="The workflow's results folder"),
    rounds: int = typer.Option(5, help="Interleaved timing rounds"),
    plot: Path = typer.Option(None, help="PNG: accuracy against words/second"),
) -> None:
    torch.set_num_threads(1)
    widths: Dict[str, int] = {}
    for item in variant:
        name, _, width = item.partition("=")
        widths[name] = int(width)
    vocab = spacy.blank("xx").vocab
    train = _docs(sorted((corpus / task / "train").glob("*.spacy")), vocab)[:200]
    test = _docs(sorted((corpus / task / "test").glob("*.spacy")), vocab)
    nlps = {name: build_student(task, width, train) for name, width in widths.items()}
    speeds: Dict[str, List[float]] = {name: [] for name in nlps}
    for _ in range(rounds):
        for name, nlp in nlps.items():
            speeds[name].append(words_per_second(nlp, test))
    median = {name: statistics.median(values) for name, values in speeds.items()}
    data = load_report_data(results / task)
    ref = median.get("default")
    print(f"| variant | width | words/s (median of {rounds}) | × default | Baseline | best KD (on dev) |")
    print("|---|---:|---:|---:|---:|---:|")
    points: List[Tuple[str, str, float, float, float]] = []
    for name, width in widths.items():
        students = {row.name: row for row in data.students(name)}
        base = students.get("none")
        kd_rows = [r for r in students.values() if r.name != "none" and r.dev is not None]
        kd = max(kd_rows, key=lambda r: r.dev.mean) if kd_rows else None
        cells = []
        for row in (base, kd):
            avg = row.average(data.languages, data.metric) if row else None
            cells.append(f"{fmt(avg)} ({row.label})" if row and avg else "–")
            if row and avg:
                points.append((row.label, name, median[name], 100 * avg.mean, 100 * (avg.std or 0.0)))
        ratio = f"{median[name] / ref:.2f}" if ref else "–"
        print(f"| {name} | {width} | {median[name]:.0f} | {ratio} | {cells[0]} | {cells[1]} |")
    # What the students are measured against: N models, one per language.
    references: List[Tuple[str, float]] = []
    for kind in ("teacher", "spacy"):
        row = data.row(kind, "per-language")
        avg = row.average(data.languages, data.metric) if row else None
        if avg:
            references.append((row.label, 100 * avg.mean))
            print(f"\n{row.label}: {fmt(avg)}")
    if plot is not None:
        _plot(points, references, data.metric_name, task, plot)


def _plot(
    points: List[Tuple[str, str, float, float, float]], references: List[Tuple[str, float]],
    metric: str, task: str, path: Path,
) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 4.5))
    ax = fig.add_subplot()
    for label in sorted({p[0] for p in points}):
        mine = sorted((p for p in points if p[0] == label), key=lambda p: p[2])
        ax.errorbar([p[2] for p in mine], [p[3] for p in mine], yerr=[p[4] for p in mine],
                    marker="o", capsize=3, label=f"{label} (mean ± std over seeds)")
        for _, name, x, y, _ in mine:
            ax.annotate(name, (x, y), fontsize="x-small", xytext=(3, 3), textcoords="offset points")
    for (label, value), style in zip(references, (":", "--")):
        ax.axhline(value, color="grey", linestyle=style, linewidth=1, label=f"{label} (average)")
    ax.set_xlabel("inference words / second (one thread)")
    ax.set_ylabel(f"{metric}, test macro average")
    ax.set_title(f"{task.upper()}: student size against speed and accuracy")
    if points or references:
        ax.legend(fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    app()
