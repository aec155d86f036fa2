"""Which units a workflow step consists of, and which of them still have to run.

Where each run goes is `layout.py`. A unit is done when its record exists (and, for
teachers, which later steps need, its model too). A record made with other settings
than the unit asks for is never silently reused or overwritten: that is an error
naming both.
"""
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Sequence

from ..errors import Errors, KDSeqError
from .layout import knowledge_cache, run_paths, teacher_model
from .units import TrainUnit

SPACY_XX = "xx"


def _test_files(root: Path, task: str, langs: Sequence[str]) -> tuple:
    return tuple(root / "corpus" / task / "test" / f"{lang}.spacy" for lang in langs)


def teacher_units(
    task: str, root: Path, langs: Sequence[str], zero_shot: Sequence[str], *,
    overrides: Dict[str, Any], variant: str = "default", gpu_id: int = -1,
) -> List[TrainUnit]:
    """One teacher per language, scored on its language and the zero-shot ones."""
    corpus = root / "corpus" / task
    units = []
    for lang in langs:
        output, record = run_paths(root, task, "teacher", variant, lang)
        units.append(TrainUnit(
            task=task, kind="teacher", name=lang, config=Path(f"configs/teacher-{task}.cfg"),
            output=output, record=record, train=corpus / "train" / f"{lang}.spacy",
            dev=corpus / "dev" / f"{lang}.spacy", train_langs=(lang,),
            test_files=_test_files(root, task, [lang, *zero_shot]), variant=variant,
            overrides=dict(overrides), gpu_id=gpu_id,
        ))
    return units


def student_units(
    task: str, root: Path, langs: Sequence[str], zero_shot: Sequence[str], methods: Sequence[str],
    seeds: Sequence[int], *, overrides: Dict[str, Any], variant: str = "default",
    teacher_variant: str = "default", gpu_id: int = -1,
) -> List[TrainUnit]:
    """One multilingual student per method and seed, scored on every language, taught by
    the teachers of `teacher_variant`."""
    corpus = root / "corpus" / task
    teachers = {lang: str(teacher_model(root, task, lang, teacher_variant)) for lang in langs}
    units = []
    for method in methods:
        for seed in seeds:
            output, record = run_paths(root, task, "student", variant, method, f"seed-{seed}")
            settings = {
                "distillation.method": method,
                "distillation.cache_dir": str(knowledge_cache(root, task, teacher_variant)),
                **overrides,
            }
            units.append(TrainUnit(
                task=task, kind="student", name=method, config=Path(f"configs/student-{task}.cfg"),
                output=output, record=record, train=corpus / "train", dev=corpus / "dev",
                train_langs=tuple(langs), test_files=_test_files(root, task, [*langs, *zero_shot]),
                seed=seed, variant=variant, overrides=settings, teachers=teachers,
                teacher_variant=teacher_variant, gpu_id=gpu_id,
            ))
    return units


def spacy_units(
    task: str, root: Path, langs: Sequence[str], zero_shot: Sequence[str], *,
    overrides: Dict[str, Any], xx_overrides: Dict[str, Any], gpu_id: int = -1,
) -> List[TrainUnit]:
    """Stock spaCy: one model per language (teacher protocol) and one `xx` on the union."""
    corpus = root / "corpus" / task
    config = Path(f"configs/spacy-{task}.cfg")
    units = []
    for lang in langs:
        output, record = run_paths(root, task, "spacy", "default", lang)
        units.append(TrainUnit(
            task=task, kind="spacy", name=lang, config=config, output=output, record=record,
            train=corpus / "train" / f"{lang}.spacy", dev=corpus / "dev" / f"{lang}.spacy",
            train_langs=(lang,), test_files=_test_files(root, task, [lang, *zero_shot]),
            overrides=dict(overrides), gpu_id=gpu_id,
        ))
    output, record = run_paths(root, task, "spacy", "default", SPACY_XX)
    units.append(TrainUnit(
        task=task, kind="spacy", name=SPACY_XX, config=config, output=output, record=record,
        train=corpus / "train", dev=corpus / "dev", train_langs=tuple(langs),
        test_files=_test_files(root, task, [*langs, *zero_shot]),
        overrides={**overrides, **xx_overrides}, gpu_id=gpu_id,
    ))
    return units


def pending(units: Sequence[TrainUnit], *, need_model: bool = False) -> List[TrainUnit]:
    """The units still to run; raises if a record was made with other settings.

    Settings are compared as the run sees them: an override, else the config's own
    value, so `--patience 1600` and a config saying `patience = 1600` are the same run.
    """
    todo = []
    for unit in units:
        if not unit.record.exists():
            todo.append(unit)
            continue
        record = json.loads(unit.record.read_text(encoding="utf8"))
        recorded = record.get("overrides", {})
        wanted = json.loads(json.dumps(unit.all_overrides(), sort_keys=True, default=str))
        config = _flat_config(unit.config)
        changed = sorted(
            key for key in set(recorded) | set(wanted)
            if recorded.get(key, config.get(key)) != wanted.get(key, config.get(key))
        )
        details = ", ".join(
            f"{k}: {recorded.get(k, config.get(k))!r} → {wanted.get(k, config.get(k))!r}" for k in changed
        )
        # Records from before teacher variants existed were all taught by the default teachers.
        taught_by = record.get("teacher_variant", "default")
        if unit.kind == "student" and taught_by != unit.teacher_variant:
            details = ", ".join(filter(None, [details, f"teachers: {taught_by!r} → {unit.teacher_variant!r}"]))
        if details:
            raise KDSeqError(Errors.E405.format(
                record=unit.record, unit=unit.label, details=details, output=unit.output
            ))
        if need_model and not (unit.output / "model-best").exists():
            todo.append(unit)
    _check_corpus(todo)
    return todo


def _check_corpus(units: Sequence[TrainUnit]) -> None:
    """Refuse to start units whose corpus files are missing: each would fail deep inside
    spaCy's corpus reader, one after another, instead of naming the step to run first."""
    missing = sorted({
        str(path) for unit in units for path in (unit.train, unit.dev, *unit.test_files)
        if not path.exists()
    })
    if missing:
        shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
        raise KDSeqError(Errors.E407.format(
            n=len(missing), files=shown, task=units[0].task,
        ))


@lru_cache(maxsize=None)
def _flat_config(path: Path) -> Dict[str, Any]:
    """Every `section.key` value of a config file, uninterpolated, as JSON values (read
    once per file: a step compares every unit against the same config)."""
    from spacy.util import load_config

    flat: Dict[str, Any] = {}

    def walk(prefix: str, node: Any) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(f"{prefix}{key}.", value)
            else:
                flat[f"{prefix}{key}"] = json.loads(json.dumps(value, default=str))

    walk("", load_config(path, interpolate=False))
    return flat
