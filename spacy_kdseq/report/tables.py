"""Run records (``results/<task>/**.json``) → the paper's table shape, mean ± std over seeds.

Rows: the teachers, stock spaCy (one model per language, and one `xx` model), the
multilingual baseline and every distillation method. A row's score for a language is
the mean over its runs (seeds) and the sample standard deviation; the Avg column is
the mean and std over runs of each run's macro average. Only runs of the "default"
variant make the main tables; other variants (smaller students, tuning runs) get
tables of their own, with the dev scores that choose between them.
"""
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..distill.methods import METHODS
from ..errors import Errors, KDSeqError
from ..run_record import DEFAULT_VARIANT, check_row, gpu_of, is_per_run_key, read_records, row_key

_METRIC_NAMES = {"ents_f": "NER F1", "pos_acc": "UPOS accuracy", "tag_acc": "tag accuracy"}
_SPACY_COMPONENT = {"ner": "ner", "pos": "morphologizer"}
# A setting a version-1 record neither overrode nor kept (it kept no whole config).
_UNKNOWN = object()


@dataclass
class Cell:
    """Mean and sample std (None for one run) of a score over runs, as fractions."""

    values: List[float]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def std(self) -> Optional[float]:
        return statistics.stdev(self.values) if len(self.values) > 1 else None

    @property
    def n(self) -> int:
        return len(self.values)


@dataclass
class Row:
    """One table row: a label and its runs' records."""

    label: str
    kind: str
    name: str
    variant: str
    records: List[dict] = field(default_factory=list)

    def cell(self, lang: str, metric: str) -> Optional[Cell]:
        """The score on `lang` over this row's runs (per-language rows: the run for `lang`)."""
        if self.per_language:
            values = [_score(r, lang, metric) for r in self.records if r["name"] == lang]
        else:
            values = [_score(r, lang, metric) for r in self.records]
        values = [v for v in values if v is not None]
        return Cell(values) if values else None

    def average(self, langs: Sequence[str], metric: str) -> Optional[Cell]:
        """Mean ± std over runs of the macro average over `langs`."""
        if not langs:
            return None
        if self.per_language:
            cells = [self.cell(lang, metric) for lang in langs]
            if any(c is None for c in cells):
                return None
            return Cell([statistics.fmean(c.mean for c in cells if c is not None)])
        per_run = []
        for record in self.records:
            scores = [_score(record, lang, metric) for lang in langs]
            if any(s is None for s in scores):
                return None
            per_run.append(statistics.fmean(s for s in scores if s is not None))
        return Cell(per_run) if per_run else None

    def best_single(self, lang: str, metric: str) -> Optional[Cell]:
        """Zero-shot: the best single model of a per-language row on `lang`."""
        values = [_score(r, lang, metric) for r in self.records]
        values = [v for v in values if v is not None]
        return Cell([max(values)]) if values else None

    def zero_cell(self, lang: str, metric: str) -> Optional[Cell]:
        return self.best_single(lang, metric) if self.per_language else self.cell(lang, metric)

    def words_per_second(self) -> Optional[float]:
        """Mean inference speed of the row's models on their test files (one run each,
        as the unit's evaluation measured it; tokens / seconds in `nlp.pipe`), over the
        runs evaluated on a CPU: a GPU's speed would not compare with the other rows'."""
        values = [r["test"].get("total", {}).get("words_per_second") for r in self.records
                  if not gpu_of(r)]
        values = [float(v) for v in values if v]
        return statistics.fmean(values) if values else None

    @property
    def per_language(self) -> bool:
        """Teachers and per-language spaCy models: one run per language."""
        return self.kind == "teacher" or (self.kind == "spacy" and self.name != "xx")

    @property
    def dev(self) -> Optional[Cell]:
        values = [r["training"]["best_dev"] for r in self.records]
        return Cell(values) if values else None


@dataclass
class ReportData:
    """Everything the Markdown report and the figures show."""

    task: str
    metric: str
    languages: List[str]
    zero_shot: List[str]
    rows: List[Row]
    variants: Dict[str, List[Row]]

    @property
    def metric_name(self) -> str:
        return _METRIC_NAMES.get(self.metric, self.metric)

    def row(self, kind: str, name: str) -> Optional[Row]:
        return next((r for r in self.rows if r.kind == kind and r.name == name), None)

    def variant_rows(self, variant: str = DEFAULT_VARIANT) -> List[Row]:
        """The rows of `variant` (the default's are the main tables' rows)."""
        return self.rows if variant == DEFAULT_VARIANT else self.variants.get(variant, [])

    def students(self, variant: str = DEFAULT_VARIANT) -> List[Row]:
        return [r for r in self.variant_rows(variant) if r.kind == "student"]

    def baseline(self, variant: str = DEFAULT_VARIANT) -> Optional[Row]:
        """The baseline (method `none`) that `variant`'s KD students compare with.

        A variant's own, if it has one. Students that differ from another variant's only
        in their teachers (they were taught by a teacher variant) share that variant's
        baseline, the default one first: method `none` learns from no teacher, so it would
        be the same run.
        """
        own = next((r for r in self.students(variant) if r.name == "none"), None)
        if own is not None or variant == DEFAULT_VARIANT:
            return own
        taught = [record for row in self.students(variant) for record in row.records]
        if not taught or any(
            record.get("teacher_variant", DEFAULT_VARIANT) == DEFAULT_VARIANT for record in taught
        ):
            return None
        for other in [DEFAULT_VARIANT, *self.variants]:
            base = next((r for r in self.students(other) if r.name == "none"), None)
            if base is not None and all(
                any(_made_alike(record, own) for own in base.records) for record in taught
            ):
                return base
        return None


def best_on_dev(rows: Sequence[Row]) -> Optional[Row]:
    """The distillation method (any student row but `none`) that dev chooses, never test.

    Methods are compared on the seeds they all have: the protocol chooses on seed 0 and
    then runs more seeds of the chosen method only, so a mean over unequal seed sets
    would let the chosen method's later seeds undo the choice. Without a shared seed,
    the mean over each method's own seeds.
    """
    candidates = [r for r in rows if r.kind == "student" and r.name != "none" and r.dev is not None]
    if not candidates:
        return None
    shared = set.intersection(*({record["seed"] for record in row.records} for row in candidates))

    def dev(row: Row) -> float:
        values = [r["training"]["best_dev"] for r in row.records if not shared or r["seed"] in shared]
        return statistics.fmean(values)

    return max(candidates, key=dev)


def load_report_data(results_dir: Path, languages: Optional[Sequence[str]] = None) -> ReportData:
    """Read a task's run records; `languages` fixes the column order (default: teachers', sorted)."""
    records = read_records(Path(results_dir))
    if not records:
        raise KDSeqError(Errors.E401.format(path=results_dir))
    tasks = sorted({r["task"] for r in records})
    if len(tasks) != 1:
        raise KDSeqError(Errors.E404.format(path=results_dir, tasks=tasks))
    task = tasks[0]
    trained = sorted({lang for r in records for lang in r["train_langs"]})
    langs = list(languages) if languages else sorted(
        {r["name"] for r in records if r["kind"] == "teacher"} or trained
    )
    tested = {lang for r in records for lang in r["test"]["languages"]}
    zero_shot = sorted(tested - set(trained) - set(langs))
    metric = _metric(task, records)
    groups: Dict[Tuple[str, str, str, str], List[dict]] = defaultdict(list)
    for record in records:
        groups[row_key(record)].append(record)
    by_variant: Dict[str, List[Row]] = defaultdict(list)
    for (_, kind, name, variant), runs in groups.items():
        label = _label(task, kind, name)
        # A row is a mean over seeds: only of runs made the same way.
        check_row(runs, label if variant == DEFAULT_VARIANT else f"{label} ({variant})")
        by_variant[variant].append(Row(label, kind, _row_name(kind, name), variant, runs))
    for rows in by_variant.values():
        rows.sort(key=_order)
    rows = by_variant.pop(DEFAULT_VARIANT, [])
    return ReportData(task, metric, langs, zero_shot, rows, dict(sorted(by_variant.items())))


def _made_alike(a: dict, b: dict) -> bool:
    """Whether two student runs were made alike but for method, seed and teachers.

    Their overrides are compared key by key; a key only one of them overrides is read
    from the other's whole config, which version-2 records keep (`settings`): the same
    value given or defaulted is the same run. Version-1 records keep nothing but their
    overrides, so a key they do not override does not match. A version-2 student (e.g.
    taught by e5 teachers) thus shares a version-1 baseline made the same way.
    """
    keys = {key for key in (*a["overrides"], *b["overrides"])
            if not is_per_run_key(key) and key != "distillation.method"}
    return all(_setting(a, key) is not _UNKNOWN and _setting(a, key) == _setting(b, key) for key in keys)


def _setting(record: dict, key: str) -> Any:
    if key in record["overrides"]:
        return record["overrides"][key]
    return record.get("settings", {}).get(key, _UNKNOWN)


def _row_name(kind: str, name: str) -> str:
    return "per-language" if name == "*" else name


def _label(task: str, kind: str, name: str) -> str:
    if kind == "teacher":
        return "Teachers"
    if kind == "spacy":
        component = _SPACY_COMPONENT.get(task, task)
        return f"spaCy {component}, " + ("one xx model" if name == "xx" else "per language")
    return METHODS.get(name, name)


def _order(row: Row) -> Tuple[int, int, str]:
    kinds = {"teacher": 0, "spacy": 1, "student": 2}
    methods = list(METHODS)
    within = 0 if row.name == "per-language" else 1
    if row.kind == "student":
        within = methods.index(row.name) if row.name in methods else len(methods)
    return kinds[row.kind], within, row.name


def _metric(task: str, records: List[dict]) -> str:
    if task == "ner":
        return "ents_f"
    for record in records:
        for scores in record["test"]["languages"].values():
            if "pos_acc" in scores:
                return "pos_acc"
    return "tag_acc"


def _score(record: dict, lang: str, metric: str) -> Optional[float]:
    scores = record["test"]["languages"].get(lang)
    if scores is None or scores.get(metric) is None:
        return None
    return float(scores[metric])
