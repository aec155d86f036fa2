"""Collect evaluation JSON into the paper's table shape and render it as Markdown.

The metrics folder of one task holds ``teacher-<lang>.json`` (each teacher evaluated
on its own language, and optionally on the zero-shot languages),
``student-<method>.json`` (each student evaluated on every language) and optionally
``timings.json`` (``{method: training seconds}``), all written by the project workflow.
"""
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from ..errors import Errors

# (row label as in the paper, distillation method); None marks the teachers' row.
ROWS: Tuple[Tuple[str, Optional[str]], ...] = (
    ("Teachers", None),
    ("Baseline", "none"),
    ("Emission", "emission"),
    ("Top-K", "topk"),
    ("Top-WK", "topwk"),
    ("Posterior", "posterior"),
    ("Pos.+Top-WK", "posterior+topwk"),
    ("Structure", "structure"),
)

_METRIC_NAMES = {"ents_f": "NER F1", "pos_acc": "UPOS accuracy", "tag_acc": "tag accuracy"}


@dataclass
class ReportData:
    """Scores per row and language, as fractions in [0, 1]."""

    task: str
    metric: str
    languages: List[str]
    zero_shot: List[str]
    scores: Dict[str, Dict[str, float]] = field(default_factory=dict)
    zero_scores: Dict[str, Dict[str, float]] = field(default_factory=dict)
    timings: Dict[str, float] = field(default_factory=dict)

    @property
    def rows(self) -> List[str]:
        """Row labels present, in the paper's order."""
        return [label for label, _ in ROWS if label in self.scores]


def load_report_data(metrics_dir: Path, languages: Optional[Sequence[str]] = None) -> ReportData:
    """Read a task's metrics folder; `languages` fixes the column order (default: sorted)."""
    metrics_dir = Path(metrics_dir)
    teachers = {p.stem[len("teacher-"):]: _read(p) for p in sorted(metrics_dir.glob("teacher-*.json"))}
    students = {p.stem[len("student-"):]: _read(p) for p in sorted(metrics_dir.glob("student-*.json"))}
    if not teachers and not students:
        raise ValueError(Errors.E401.format(path=metrics_dir))
    first = next(iter(teachers.values()), None) or next(iter(students.values()))
    task = first["task"]
    metric = _metric(task, first)
    langs = list(languages) if languages else sorted(teachers)
    all_student_langs = {lang for data in students.values() for lang in data["languages"]}
    zero_shot = sorted(all_student_langs - set(langs))
    report = ReportData(task=task, metric=metric, languages=langs, zero_shot=zero_shot)
    if teachers:
        report.scores["Teachers"] = {}
        for lang in langs:
            if lang not in teachers:
                raise ValueError(Errors.E402.format(row="Teachers", lang=lang, path=metrics_dir))
            report.scores["Teachers"][lang] = _score(teachers[lang], lang, metric, metrics_dir)
        # The paper's zero-shot "teacher" is the best single monolingual model.
        best = {
            lang: max(data["languages"][lang][metric] for data in teachers.values())
            for lang in zero_shot
            if any(lang in data["languages"] for data in teachers.values())
        }
        if best:
            report.zero_scores["Teachers"] = best
    for label, method in ROWS[1:]:
        if method not in students:
            continue
        data = students[method]
        report.scores[label] = {lang: _score(data, lang, metric, metrics_dir) for lang in langs}
        report.zero_scores[label] = {
            lang: data["languages"][lang][metric] for lang in zero_shot if lang in data["languages"]
        }
    timings_path = metrics_dir / "timings.json"
    if timings_path.exists():
        timings = _read(timings_path)
        report.timings = {label: timings[m] for label, m in ROWS[1:] if m in timings}
    return report


def render_markdown(report: ReportData, title: Optional[str] = None) -> str:
    """The paper-shaped tables (scores × 100), zero-shot table and training times."""
    name = _METRIC_NAMES.get(report.metric, report.metric)
    lines = [f"# {title or report.task.upper() + ' results'}", ""]
    lines += [f"{name} on each language's test set (× 100); Avg is the macro average.", ""]
    lines += _table(report.rows, report.languages, report.scores)
    zero_rows = [r for r in report.rows if report.zero_scores.get(r)]
    if report.zero_shot and zero_rows:
        lines += ["", "## Zero-shot", ""]
        lines += [f"{name} on languages no student was trained on (× 100); Teachers = the "
                  "best single monolingual teacher.", ""]
        lines += _table(zero_rows, report.zero_shot, report.zero_scores)
    if report.timings:
        base = report.timings.get("Baseline")
        lines += ["", "## Student training time", "", "| Method | seconds | × Baseline |",
                  "|---|---:|---:|"]
        for label in report.rows:
            if label in report.timings:
                secs = report.timings[label]
                ratio = f"{secs / base:.2f}" if base else "–"
                lines.append(f"| {label} | {secs:.1f} | {ratio} |")
    return "\n".join(lines) + "\n"


def average(values: Dict[str, float], languages: Sequence[str]) -> Optional[float]:
    """Macro average over `languages`, None if any is missing."""
    if not languages or any(lang not in values for lang in languages):
        return None
    return sum(values[lang] for lang in languages) / len(languages)


def _table(rows: Sequence[str], langs: Sequence[str], scores: Dict[str, Dict[str, float]]) -> List[str]:
    out = ["| | " + " | ".join(langs) + " | Avg |", "|---|" + "---:|" * (len(langs) + 1)]
    for row in rows:
        cells = [_fmt(scores[row].get(lang)) for lang in langs]
        cells.append(_fmt(average(scores[row], langs)))
        out.append(f"| {row} | " + " | ".join(cells) + " |")
    return out


def _fmt(value: Optional[float]) -> str:
    return "–" if value is None else f"{100 * value:.2f}"


def _metric(task: str, data: dict) -> str:
    if task == "ner":
        return "ents_f"
    some_lang = next(iter(data["languages"].values()))
    return "pos_acc" if "pos_acc" in some_lang else "tag_acc"


def _score(data: dict, lang: str, metric: str, metrics_dir: Path) -> float:
    try:
        return float(data["languages"][lang][metric])
    except KeyError:
        raise ValueError(
            Errors.E402.format(row=data.get("model", "?"), lang=lang, path=metrics_dir)
        ) from None


def _read(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(Errors.E403.format(path=path, err=err)) from None
