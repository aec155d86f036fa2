"""Which units a workflow step consists of, and which of them still have to run.

Where each run goes is `layout.py`. A unit is done when its record exists (and, for
teachers, which later steps need, its model too). A record made with other settings
than the unit asks for is never silently reused or overwritten: that is an error
naming both.
"""
import json
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .. import run_record
from ..errors import Errors, KDSeqError, Warnings
from .layout import knowledge_cache, run_paths, teacher_model
from .provenance import flatten
from .units import TEACHER_PATH_KEYS, TrainUnit

SPACY_XX = "xx"


def _test_files(root: Path, task: str, langs: Sequence[str]) -> tuple:
    return tuple(root / "corpus" / task / "test" / f"{lang}.spacy" for lang in langs)


def model_config(role: str, task: str, encoder: Optional[str] = None) -> Tuple[Path, Dict[str, Any]]:
    """The config of a teacher, student or stock spaCy model (`role`) and the overrides that
    pick its encoder: the CNN config (`configs/<role>-<task>.cfg`) without one, else the
    transformer config (`configs/<role>-<task>-trf.cfg`) on `encoder`, a Hugging Face
    directory or name."""
    if encoder is None:
        return Path(f"configs/{role}-{task}.cfg"), {}
    return Path(f"configs/{role}-{task}-trf.cfg"), {"paths.encoder": encoder}


def teacher_units(
    task: str, root: Path, langs: Sequence[str], zero_shot: Sequence[str], *,
    overrides: Dict[str, Any], variant: str = "default", gpu_id: int = -1,
    encoder: Optional[str] = None,
) -> List[TrainUnit]:
    """One teacher per language, scored on its language and the zero-shot ones; on the
    CNN config, or the transformer one when `encoder` names a transformer."""
    corpus = root / "corpus" / task
    config, picked = model_config("teacher", task, encoder)
    units = []
    for lang in langs:
        output, record = run_paths(root, task, "teacher", variant, lang)
        units.append(TrainUnit(
            task=task, kind="teacher", name=lang, config=config,
            output=output, record=record, train=corpus / "train" / f"{lang}.spacy",
            dev=corpus / "dev" / f"{lang}.spacy", train_langs=(lang,),
            test_files=_test_files(root, task, [lang, *zero_shot]), variant=variant,
            overrides={**picked, **overrides}, gpu_id=gpu_id,
        ))
    return units


def student_units(
    task: str, root: Path, langs: Sequence[str], zero_shot: Sequence[str], methods: Sequence[str],
    seeds: Sequence[int], *, overrides: Dict[str, Any], variant: str = "default",
    teacher_variant: str = "default", gpu_id: int = -1, encoder: Optional[str] = None,
) -> List[TrainUnit]:
    """One multilingual student per method and seed, scored on every language, taught by
    the teachers of `teacher_variant`; a CNN, or a transformer when `encoder` names one."""
    corpus = root / "corpus" / task
    config, picked = model_config("student", task, encoder)
    teachers = {lang: str(teacher_model(root, task, lang, teacher_variant)) for lang in langs}
    units = []
    selection = _language_selection(corpus, langs)
    for method in methods:
        for seed in seeds:
            output, record = run_paths(root, task, "student", variant, method, f"seed-{seed}")
            settings = {
                "distillation.method": method,
                "distillation.cache_dir": str(knowledge_cache(root, task, teacher_variant)),
                **picked,
                **selection,
                **overrides,
            }
            units.append(TrainUnit(
                task=task, kind="student", name=method, config=config,
                output=output, record=record, train=corpus / "train", dev=corpus / "dev",
                train_langs=tuple(langs), test_files=_test_files(root, task, [*langs, *zero_shot]),
                # The baseline learns from no teacher: it reads none, so its record names
                # none (not whichever teacher models happen to be on disk).
                seed=seed, variant=variant, overrides=settings,
                teachers=teachers if method != run_record.BASELINE else {},
                teacher_variant=teacher_variant, gpu_id=gpu_id,
            ))
    return units


def _language_selection(corpus: Path, langs: Sequence[str]) -> Dict[str, Any]:
    """Reader overrides that keep only `langs` when the corpus folders hold more languages
    (one file per language, as `convert` writes them); none when they hold just these."""
    held = {path.stem for split in ("train", "dev") for path in (corpus / split).glob("*.spacy")}
    if not held - set(langs):
        return {}
    keep = sorted(langs)
    return {"corpora.train.languages": keep, "corpora.dev.languages": keep}


def spacy_units(
    task: str, root: Path, langs: Sequence[str], zero_shot: Sequence[str], *,
    overrides: Dict[str, Any], xx_overrides: Optional[Dict[str, Any]], variant: str = "default",
    gpu_id: int = -1, encoder: Optional[str] = None,
) -> List[TrainUnit]:
    """Stock spaCy: one model per language (teacher protocol) and, unless `xx_overrides` is
    None, one `xx` on the union; on spaCy's CNN tok2vec, or on `encoder`, a transformer."""
    corpus = root / "corpus" / task
    config, picked = model_config("spacy", task, encoder)
    units = []
    for lang in langs:
        output, record = run_paths(root, task, "spacy", variant, lang)
        units.append(TrainUnit(
            task=task, kind="spacy", name=lang, config=config, output=output, record=record,
            train=corpus / "train" / f"{lang}.spacy", dev=corpus / "dev" / f"{lang}.spacy",
            train_langs=(lang,), test_files=_test_files(root, task, [lang, *zero_shot]),
            variant=variant, overrides={**picked, **overrides}, gpu_id=gpu_id,
        ))
    if xx_overrides is not None:
        output, record = run_paths(root, task, "spacy", variant, SPACY_XX)
        units.append(TrainUnit(
            task=task, kind="spacy", name=SPACY_XX, config=config, output=output, record=record,
            train=corpus / "train", dev=corpus / "dev", train_langs=tuple(langs),
            test_files=_test_files(root, task, [*langs, *zero_shot]), variant=variant,
            overrides={**picked, **overrides, **xx_overrides}, gpu_id=gpu_id,
        ))
    return units


def pending(units: Sequence[TrainUnit], *, need_model: bool = False) -> List[TrainUnit]:
    """The units still to run; raises if a record was made otherwise than the unit asks.

    A unit's own record must have its settings (E405) and its inputs: the content of
    every corpus file and teacher (E431). A unit without a record must agree with the
    records already in its report row (the other seeds, the other languages' teachers)
    on everything but the seed (E432), so that a row never averages different runs.
    Settings are compared as the run sees them: an override, else the config's own
    value, so `--patience 1600` and a config saying `patience = 1600` are the same run.
    """
    todo = []
    unverified = []
    for unit in units:
        if unit.record.exists():
            record = _read(unit.record)
            details = _differences(unit, record, same_run=True)
            if details:
                raise KDSeqError(Errors.E405.format(
                    record=unit.record, unit=unit.label, details=details, output=unit.output
                ))
            if record.get("version", 1) < 2:
                unverified.append(unit.record)
            else:
                changed = _changed_inputs(unit, record, same_run=True)
                if changed:
                    raise KDSeqError(Errors.E431.format(
                        record=unit.record, unit=unit.label, details=changed, output=unit.output
                    ))
            if need_model and not (unit.output / "model-best").exists():
                todo.append(unit)
            continue
        for sibling, record in _row_records(unit):
            details = ", ".join(filter(None, [
                _differences(unit, record, same_run=False), _changed_inputs(unit, record, same_run=False),
            ]))
            if details:
                raise KDSeqError(Errors.E432.format(
                    unit=unit.label, record=sibling, details=details, output=_output_of(unit, sibling),
                ))
        todo.append(unit)
    if unverified:
        warnings.warn(Warnings.W401.format(n=len(unverified), example=unverified[0]))
    _check_corpus(todo)
    return todo


def _read(path: Path) -> Dict[str, Any]:
    return json.loads(path.read_text(encoding="utf8"))


def _row_records(unit: TrainUnit) -> List[Tuple[Path, Dict[str, Any]]]:
    """The records already in the unit's report row: the other seeds of a student or
    the `xx` model, the other languages of a teacher or per-language spaCy model."""
    if not unit.record.parent.is_dir():
        return []
    found = []
    for path in sorted(unit.record.parent.glob("*.json")):
        if path == unit.record:
            continue
        record = _read(path)
        if record.get("kind") == unit.kind and run_record.row_key(record) == _row_key(unit):
            found.append((path, record))
    return found


def _row_key(unit: TrainUnit) -> Tuple[str, str, str, str]:
    probe = {"task": unit.task, "kind": unit.kind, "name": unit.name, "variant": unit.variant}
    return run_record.row_key(probe)


def _output_of(unit: TrainUnit, record_path: Path) -> Path:
    """The model directory of another record of the unit's row (same layout)."""
    return unit.output.parent / record_path.stem


def _differences(unit: TrainUnit, record: Dict[str, Any], *, same_run: bool) -> str:
    """How `record` was made otherwise than `unit` would run: settings, teachers, languages,
    encoder. For another run of the row (`same_run` false) the per-run keys are ignored."""
    details = []
    # A baseline reads no teacher: whose knowledge cache it was pointed at says nothing of it.
    ignored = set() if _taught(unit) else {"distillation.cache_dir"}
    if record.get("version", 1) >= 2:
        recorded = record.get("settings", {})
        wanted = unit.settings()
        # Teachers are compared by content (E431) and variant (below), not by folder.
        keys = {k for k in (set(recorded) | set(wanted)) - ignored if not k.startswith(TEACHER_PATH_KEYS)}
        changed = sorted(k for k in keys if recorded.get(k) != wanted.get(k)
                         and (same_run or not run_record.is_per_run_key(k)))
        details += [f"{k}: {recorded.get(k)!r} → {wanted.get(k)!r}" for k in changed]
        if record.get("encoder") != unit.encoder():
            details.append(f"encoder: {record.get('encoder')!r} → {unit.encoder()!r}")
    else:
        recorded = record.get("overrides", {})
        wanted = json.loads(json.dumps(unit.all_overrides(), sort_keys=True, default=str))
        config = _flat_config(unit.config)
        changed = sorted(
            key for key in (set(recorded) | set(wanted)) - ignored
            if recorded.get(key, config.get(key)) != wanted.get(key, config.get(key))
            and (same_run or not run_record.is_per_run_key(key))
        )
        details += [f"{k}: {recorded.get(k, config.get(k))!r} → {wanted.get(k, config.get(k))!r}"
                    for k in changed]
    if _taught(unit):
        taught_by = run_record.teacher_variant_of(record)
        if taught_by != unit.teacher_variant:
            details.append(f"teachers: {taught_by!r} → {unit.teacher_variant!r}")
    if not run_record.per_language(record) and record.get("version", 1) >= 2:
        wanted_langs = unit.train_languages or list(unit.train_langs)
        if sorted(record.get("train_langs", [])) != sorted(wanted_langs):
            details.append(f"training languages: {sorted(record.get('train_langs', []))} → "
                           f"{sorted(wanted_langs)}")
    return ", ".join(details)


def _taught(unit: TrainUnit) -> bool:
    return run_record.is_taught(unit.kind, unit.name)


def _changed_inputs(unit: TrainUnit, record: Dict[str, Any], *, same_run: bool) -> str:
    """The corpus files and teachers whose content differs from what `record` read (for
    another run of the row, only the files both read)."""
    if record.get("version", 1) < 2:
        return ""
    now = unit.inputs()
    details = []
    for part, what in (("corpus", "corpus file"), ("teachers", "teacher")):
        before = record.get("inputs", {}).get(part, {})
        for key in sorted(set(before) | set(now[part])):
            if key in before and key in now[part]:
                if before[key] != now[part][key]:
                    details.append(f"{what} {key} changed since")
            elif same_run and part == "corpus":
                details.append(f"{what} {key} " + ("no longer read" if key in before else "not read then"))
    return ", ".join(details)


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
    """Every `section.key` value of a config file, uninterpolated (read once per file: a
    step compares every unit against the same config)."""
    from spacy.util import load_config

    return flatten(load_config(path, interpolate=False))
