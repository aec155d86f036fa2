"""The Markdown report: main and zero-shot tables, verdicts, training cost, variants, runs."""
import statistics
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from ..run_record import V1_ENCODER, encoder_of, gpu_of, teacher_variant_of
from .tables import DEFAULT_VARIANT, Cell, ReportData, Row, best_on_dev

# The zero-shot average a student on a pretrained multilingual encoder must reach besides
# its teachers + 2.00 (the e5 experiment's bar); CNN students from scratch have no such bar.
PRETRAINED_ZERO_SHOT_BAR = 0.85


def fmt(cell: Optional[Cell]) -> str:
    """``77.84 ± 0.31`` (× 100); one run has no ± part; a missing score is a dash."""
    if cell is None:
        return "–"
    text = f"{100 * cell.mean:.2f}"
    return text if cell.std is None else f"{text} ± {100 * cell.std:.2f}"


def render_markdown(report: ReportData, title: Optional[str] = None) -> str:
    """The whole report as Markdown."""
    lines = [f"# {title or report.task.upper() + ' results'}", ""]
    lines += [
        f"{report.metric_name} on each language's test set (× 100), mean ± sample std over "
        "seeds (runs = number of seeds; teachers and stock-spaCy models are trained once). "
        "Avg is the macro average, its ± the std over seeds of each run's average.", "",
    ]
    if report.rows:
        lines += [f"{encoders(report.rows)}.", ""]
    lines += _score_table(report.rows, report.languages, report, zero=False)
    zero_rows = _zero_rows(report.rows, report)
    if zero_rows:
        lines += ["", "## Zero-shot", "",
                  f"{report.metric_name} on languages no student was trained on (× 100). Teachers "
                  "and per-language spaCy models: the best single model for each language.", ""]
        lines += _score_table(zero_rows, report.zero_shot, report, zero=True)
    lines += ["", "## Verdicts", ""] + verdicts(report)
    lines += ["", "## Training cost", ""] + _cost_table(report.rows)
    lines += ["", "## Size and speed", ""] + _speed_table(report)
    for variant, own_rows in report.variants.items():
        rows = _with_shared_baseline(own_rows, report, variant)
        lines += ["", f"## Variant `{variant}`", "",
                  f"{encoders(own_rows)}. Chosen between on dev (the mean best dev score of "
                  "training, over the seeds the methods share); test shown beside it.", ""]
        lines += _variant_table(rows, report)
        # the paper's table shape for a variant too: per language, and zero-shot
        lines += ["", "Per language:", ""] + _score_table(rows, report.languages, report, zero=False)
        zero_rows = _zero_rows(rows, report)
        if zero_rows:
            lines += ["", "Zero-shot:", ""] + _score_table(zero_rows, report.zero_shot, report, zero=True)
    lines += ["", "## Runs", ""] + _runs_table(report)
    return "\n".join(lines) + "\n"


def _with_shared_baseline(rows: Sequence[Row], report: ReportData, variant: str) -> List[Row]:
    """A variant's rows, with the baseline its KD students share when they have none of
    their own (students of a teacher variant): the paper's table shape, teachers,
    baseline, KD, in one table. The shared row is labelled with its variant."""
    base = report.baseline(variant)
    if base is None or base.variant == variant:
        return list(rows)
    owner = "default" if base.variant == DEFAULT_VARIANT else f"`{base.variant}`"
    shared = replace(base, label=f"{base.label} ({owner})")
    teachers = [r for r in rows if r.kind != "student"]
    return [*teachers, shared, *(r for r in rows if r.kind == "student")]


def _score_table(rows: Sequence[Row], langs: Sequence[str], report: ReportData, zero: bool) -> List[str]:
    out = ["| | runs | " + " | ".join(langs) + " | Avg |", "|---|---:|" + "---:|" * (len(langs) + 1)]
    for row in rows:
        if zero:
            cells = [row.zero_cell(lang, report.metric) for lang in langs]
            found = [c for c in cells if c is not None]
            avg = _zero_average(row, langs, report) if len(found) == len(langs) else None
        else:
            cells = [row.cell(lang, report.metric) for lang in langs]
            avg = row.average(langs, report.metric)
        runs = len({r["name"] for r in row.records}) if row.per_language else len(row.records)
        label = f"{row.label} ({runs} model{'s' if runs != 1 else ''})" if row.per_language else row.label
        out.append(f"| {label} | {1 if row.per_language else runs} | "
                   + " | ".join(fmt(c) for c in cells) + f" | {fmt(avg)} |")
    return out


def _zero_rows(rows: Sequence[Row], report: ReportData) -> List[Row]:
    """The rows with a score on some zero-shot language."""
    return [r for r in rows if any(r.zero_cell(lang, report.metric) for lang in report.zero_shot)]


def _zero_average(row: Row, langs: Sequence[str], report: ReportData) -> Optional[Cell]:
    if row.per_language:
        cells = [row.zero_cell(lang, report.metric) for lang in langs]
        if any(c is None for c in cells):
            return None
        return Cell([statistics.fmean(c.mean for c in cells if c is not None)])
    return row.average(langs, report.metric)


def best_kd(report: ReportData, variant: str = DEFAULT_VARIANT) -> Optional[Row]:
    """The distillation method of `variant` that dev chooses (`best_on_dev`)."""
    return best_on_dev(report.students(variant))


def verdicts(report: ReportData) -> List[str]:
    """The results issue's bars, stated from the numbers (best KD method chosen on dev)."""
    metric, langs = report.metric, report.languages
    out: List[str] = []
    for variant in [DEFAULT_VARIANT, *report.variants]:
        base, kd = report.baseline(variant), best_kd(report, variant)
        if base is None or kd is None:
            continue
        owner = "default" if base.variant == DEFAULT_VARIANT else f"`{base.variant}`"
        shared = "" if base.variant == variant else \
            f" (the {owner} one: these students differ from its students only in their teachers)"
        b, k = base.average(langs, metric), kd.average(langs, metric)
        if b is None or k is None:
            continue
        margin = max(b.std or 0.0, k.std or 0.0)
        gain = k.mean - b.mean
        met = gain > margin and b.n > 1 and k.n > 1
        out.append(
            f"- **{variant}**: best KD method on dev is {kd.label} ({_seeds(k.n)}): Avg {fmt(k)} vs "
            f"the baseline's{shared} {fmt(b)} ({_seeds(b.n)}), a gain of {100 * gain:+.2f}; the larger std is "
            f"{100 * margin:.2f}. Beats the baseline by more than its spread: "
            f"**{'yes' if met else 'no'}**" + ("" if b.n > 1 and k.n > 1 else " (needs ≥ 2 seeds each)") + "."
            + _teacher_gap(report, kd, k) + _teacher_choice(report, kd, base.variant, owner)
        )
    kd = best_kd(report)
    k = kd.average(langs, metric) if kd else None
    for kind_name, what, strict in ((("spacy", "per-language"), "N stock-spaCy models", False),
                                    (("spacy", "xx"), "the stock-spaCy `xx` model", True)):
        row = report.row(*kind_name)
        ref = row.average(langs, metric) if row else None
        if kd is None or k is None or ref is None:
            continue
        met = k.mean > ref.mean if strict else k.mean >= ref.mean
        out.append(f"- {kd.label} (one model) vs {what}: Avg {fmt(k)} vs {fmt(ref)}: "
                   f"{'at least as good' if not strict else 'better'}: **{'yes' if met else 'no'}**.")
    for variant in [DEFAULT_VARIANT, *report.variants]:
        line = _zero_shot_verdict(report, variant)
        if line is not None:
            out.append(line)
    return out or ["- Not enough runs yet (a baseline and a KD method are needed)."]


def _zero_shot_verdict(report: ReportData, variant: str) -> Optional[str]:
    """The paper's zero-shot claim for `variant`'s best KD student on dev: at least +2.00
    over its own teachers (e5 students against the e5 teachers), best single teacher per
    language."""
    kd = best_kd(report, variant) if report.zero_shot else None
    teachers = _teachers_of(report, kd) if kd is not None else None
    if kd is None or teachers is None:
        return None
    t = _zero_average(teachers, report.zero_shot, report)
    z = kd.average(report.zero_shot, report.metric)
    if t is None or z is None:
        return None
    gain = z.mean - t.mean
    where = "" if variant == DEFAULT_VARIANT else f" **{variant}**:"
    base = report.baseline(variant)
    b = base.average(report.zero_shot, report.metric) if base is not None else None
    pretrained = any(encoder_of(record) != V1_ENCODER for record in kd.records)
    floor = (f" Avg at least {100 * PRETRAINED_ZERO_SHOT_BAR:.2f} (a pretrained encoder's bar): "
             f"**{'yes' if z.mean >= PRETRAINED_ZERO_SHOT_BAR else 'no'}**.") if pretrained else ""
    return (f"- Zero-shot:{where} {kd.label} Avg {fmt(z)} vs the best single teacher's "
            f"{fmt(t)}: {100 * gain:+.2f}; at least +2.00: **{'yes' if gain >= 0.02 else 'no'}**."
            + floor + ("" if b is None else f" The baseline's Avg: {fmt(b)}."))


def _teachers_of(report: ReportData, kd: Row) -> Optional[Row]:
    """The per-language teacher row of the variant whose teachers taught `kd`'s runs."""
    taught_by = {teacher_variant_of(record) for record in kd.records}
    if len(taught_by) != 1:
        return None
    (teacher_variant,) = taught_by
    return next((r for r in report.variant_rows(teacher_variant) if r.kind == "teacher" and r.per_language), None)


def _teacher_gap(report: ReportData, kd: Row, k: Cell) -> str:
    """How far the student is from the teachers that taught it (the paper: 1.6–2.0 below)."""
    teachers = _teachers_of(report, kd)
    t = teachers.average(report.languages, report.metric) if teachers is not None else None
    if t is None:
        return ""
    return f" Against its teachers' Avg {fmt(t)}: {100 * (k.mean - t.mean):+.2f}."


def _teacher_choice(report: ReportData, kd: Row, owner_variant: str, owner: str) -> str:
    """For students of a teacher variant: whether dev picks them over the students of the
    variant whose baseline they share (the same students, taught by the usual teachers)."""
    rival = best_kd(report, owner_variant) if kd.variant != owner_variant else None
    if rival is None or kd.dev is None or rival.dev is None:
        return ""
    # The bars' rule: a lead inside the seeds' spread is a tie, and a tie keeps the usual teachers.
    gap = kd.dev.mean - rival.dev.mean
    spread = max(kd.dev.std or 0.0, rival.dev.std or 0.0)
    if gap > spread:
        choice = "dev picks these teachers' students"
    elif gap > 0:
        choice = (f"a tie ({100 * gap:+.2f}, within the larger std {100 * spread:.2f}): dev does "
                  f"not pick these teachers' students")
    else:
        choice = "dev does not pick these teachers' students"
    return (f" On dev (mean best dev score) it scores {fmt(kd.dev)} against {fmt(rival.dev)} for the "
            f"{owner} students' best, {rival.label}: {choice}.")


def _seeds(n: int) -> str:
    return f"{n} seed" if n == 1 else f"{n} seeds"


def _cost_table(rows: Sequence[Row]) -> List[str]:
    machines = sorted({machine_label(r) for row in rows for r in row.records})
    keys = {label: chr(ord("A") + i) for i, label in enumerate(machines)}
    out = ["| | runs | machine | steps | best step | stopped by patience | minutes | s / step | "
           "× Baseline |", "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    base = next((r for r in rows if r.kind == "student" and r.name == "none"), None)
    for row in rows:
        t = [r["training"] for r in row.records]
        ratio = _ratio_to_baseline(row, base) if base and row.kind == "student" else None
        patience = sum(x["stopped_by"] == "patience" for x in t)
        where = ", ".join(sorted({keys[machine_label(r)] for r in row.records}))
        out.append(
            f"| {row.label} | {len(t)} | {where} | {statistics.fmean(x['steps'] for x in t):.0f} | "
            f"{statistics.fmean(x['best_step'] for x in t):.0f} | {patience}/{len(t)} | "
            f"{_minutes_cell(row.records)} | "
            f"{_seconds_per_step(row.records):.3f} | {'–' if ratio is None else f'{ratio:.2f}'} |"
        )
    out += ["", "Machines: " + "; ".join(f"{keys[m]}: {m}" for m in machines) + ". Wall time "
            "includes the dev evaluations, and runs shared their machine with other runs, so "
            "s / step compares only between runs on one machine: × Baseline uses the runs of "
            "the machines a method shares with the baseline (– if none)."]
    return out


def _minutes_cell(records: Sequence[Dict[str, Any]]) -> str:
    """Mean wall time of the runs' training in minutes, the runs on a GPU apart: a GPU run
    takes a fraction of a CPU run's time, and one mean of both would describe neither."""
    cpu = [r for r in records if not gpu_of(r)]
    gpu = [r for r in records if gpu_of(r)]
    if not gpu:
        return f"{_minutes(cpu):.1f}"
    on_gpu = f"GPU {_minutes(gpu):.1f}"
    return f"{_minutes(cpu):.1f} ({on_gpu})" if cpu else on_gpu


def _minutes(records: Sequence[Dict[str, Any]]) -> float:
    """Mean wall time of the runs' training, in minutes."""
    return statistics.fmean(r["training"]["wall_seconds"] for r in records) / 60


def _ratio_to_baseline(row: Row, base: Row) -> Optional[float]:
    shared = {machine_label(r) for r in row.records} & {machine_label(r) for r in base.records}
    if not shared:
        return None
    mine = [r for r in row.records if machine_label(r) in shared]
    theirs = [r for r in base.records if machine_label(r) in shared]
    return _seconds_per_step(mine) / _seconds_per_step(theirs)


def _seconds_per_step(records: Sequence[Dict[str, Any]]) -> float:
    t = [r["training"] for r in records]
    return sum(x["wall_seconds"] for x in t) / max(1, sum(x["steps"] for x in t))


def _speed_table(report: ReportData) -> List[str]:
    """Every row of every variant: encoder, test Avg and inference words per second."""
    out = ["| | variant | encoder | runs | test Avg | words / s |", "|---|---|---|---:|---:|---:|"]
    rows = report.rows + [r for rows in report.variants.values() for r in rows]
    for row in rows:
        speed = row.words_per_second()
        out.append(f"| {row.label} | {row.variant} | {', '.join(sorted({_short(encoder_of(r)) for r in row.records}))} "
                   f"| {len(row.records)} | {fmt(row.average(report.languages, report.metric))} | "
                   f"{'–' if speed is None else f'{speed:,.0f}'} |")
    out += ["", "Words per second: each model's own test evaluation (`nlp.pipe`, one process, "
            "the torch threads in the runs table), averaged over a row's runs on a CPU (runs on "
            "a GPU are left out; – where a row has none); models measured "
            "on different machines or under different load do not compare exactly. "
            "speed.png plots test Avg against it."]
    return out


def _variant_table(rows: Sequence[Row], report: ReportData) -> List[str]:
    out = ["| | runs | overrides | dev (best) | test Avg | minutes / run |", "|---|---:|---|---:|---:|---:|"]
    for row in rows:
        overrides = _distinct_overrides(row)
        # a variant's training cost beside its scores (the cost table covers the main rows)
        out.append(f"| {row.label} | {len(row.records)} | {overrides} | {fmt(row.dev)} | "
                   f"{fmt(row.average(report.languages, report.metric))} | {_minutes_cell(row.records)} |")
    return out


def _distinct_overrides(row: Row) -> str:
    shown = {k: v for k, v in row.records[0]["overrides"].items()
             if not k.startswith(("paths.", "system.seed", "distillation.cache_dir", "distillation.method"))}
    return ", ".join(f"`{k}={v}`" for k, v in sorted(shown.items())) or "–"


def encoders(rows: Sequence[Row]) -> str:
    """Which encoders the rows' models and their teachers use, e.g. ``Encoder: e5-small;
    teachers' encoder: e5-small`` (a directory is named by its last part)."""
    records = [r for row in rows for r in row.records]
    own = sorted({_short(encoder_of(r)) for r in records})
    taught = sorted({_short(e) for r in records for e in r.get("teacher_encoders", {}).values()})
    text = "Encoder: " + ", ".join(own)
    return text + ("; teachers' encoder: " + ", ".join(taught) if taught else "")


def _short(encoder: str) -> str:
    return Path(encoder).name or encoder


def _runs_table(report: ReportData) -> List[str]:
    out = ["| run | variant | encoder | seed | steps | best step | dev | minutes | CPU minutes | "
           "commit | machine |", "|---|---|---|---:|---:|---:|---:|---:|---:|---|---|"]
    rows = report.rows + [r for rows in report.variants.values() for r in rows]
    for row in rows:
        for r in sorted(row.records, key=lambda r: (r["name"], r["seed"])):
            t = r["training"]
            commit = (r.get("commit") or "?")[:7] + ("+" if r.get("dirty") else "")
            name = f"{r['kind']} {r['name']}"
            out.append(f"| {name} | {r['variant']} | {_short(encoder_of(r))} | {r['seed']} | "
                       f"{t['steps']} | {t['best_step']} | "
                       f"{100 * t['best_dev']:.2f} | {t['wall_seconds'] / 60:.1f} | "
                       f"{_cpu_minutes(t)} | {commit} | {_machines(r)} |")
    out += ["", "Minutes: wall clock, pauses and waits for a core included; CPU minutes: the "
            "CPU time of all the run's threads, without them (– where not recorded: runs "
            "before the twenty-sixth session, or resumed from a checkpoint made before it)."]
    return out


def _cpu_minutes(training: Dict[str, Any]) -> str:
    cpu = training.get("cpu_seconds")
    return "–" if cpu is None else f"{cpu / 60:.1f}"


def _machines(record: Dict[str, Any]) -> str:
    """The machine of a run's last attempt, and those of earlier attempts where they differ
    (attempt i ran up to the step `resumed_from[i]`)."""
    text = machine_label(record)
    steps = record["training"].get("resumed_from", [])
    for step, machine in zip(steps, record.get("earlier_machines", [])):
        earlier = machine_label({"machine": machine})
        if earlier != machine_label(record):
            text += f"; up to step {step}: {earlier}"
    return text


def machine_label(record: Dict[str, Any]) -> str:
    """A run's machine in a few words, e.g. ``2 cores, AMD EPYC 7B13, 1 thread``."""
    machine = record.get("machine")
    if not machine:
        return "not recorded"
    threads = machine.get("torch_threads")
    text = f"{machine['cores']} cores, {machine['cpu']}"
    if threads is not None:
        text = f"{text}, {threads} thread{'s' if threads != 1 else ''}"
    return f"{text}, GPU {machine['gpu']}" if machine.get("gpu") else text
