"""The run record: the contract between the workflow, which writes one JSON per finished
training run under ``results/<task>/``, and the report, which rebuilds its tables from
them alone (models and caches are never committed). It also says what makes two records
the same report row.

Schema (version 2; version-1 records lack ``settings``, ``inputs`` and the encoders)::

    {
      "version": 2,
      "task": "ner" | "pos",
      "kind": "teacher" | "student" | "spacy",
      "name": str,            # "es" for a teacher / spaCy model, the method for a student
      "variant": str,         # "default", or e.g. "w64" for a smaller student
      "teacher_variant": str, # students only: whose teachers taught it ("default" if absent)
      "seed": int,
      "train_langs": [str],   # the languages of the training docs actually read
      "encoder": str,         # "cnn" (a spaCy tok2vec) or the transformer's name / directory
      "teacher_encoders": {lang: str},    # students only: each teacher's encoder
      "overrides": {key: value},          # config overrides of this run
      "settings": {key: value},           # the run's whole config (uninterpolated, overrides
                                          # applied), as `section.key` paths
      "inputs": {"corpus": {path: sha256},          # every corpus file it read
                 "teachers": {lang: sha256}},       # students: every saved teacher pipeline
      "training": {"max_steps": int, "patience": int, "eval_frequency": int,
                   "steps": int, "best_step": int, "best_dev": float,
                   "stopped_by": "patience" | "max_steps", "wall_seconds": float,
                   "cpu_seconds": float | null,  # all threads' CPU time, pauses left out
                                   # (absent before the twenty-sixth session; null when
                                   # it resumed a checkpoint made before then)
                   "resumed_from": [int]},  # steps the run resumed after (checkpoints)
      "curve": [[step, dev score], ...],  # spaCy's ConsoleLogger.v3 JSONL, per evaluation
      "test": {...},          # spacy_kdseq.evaluation metrics (docs/evaluate.md)
      "model_sha256": str | null,  # the saved model-best, as its students record it
                                   # (null before the seventeenth session)
      "commit": str | null, "dirty": bool | null,  # dirty: tracked code (not a run
                                   # record) differed from the commit (records before the
                                   # twentieth session also counted changed records)
      "finished": str (UTC, ISO 8601),
      "machine": {"cpu": str, "cores": int, "torch_threads": int | null,
                  "gpu": str | null,                # the GPU it trained on (absent before)
                  "versions": {package: version}},  # wall times compare on one machine only
      "earlier_machines": [machine, ...],   # a resumed run: its earlier attempts' machines
    }

**One row.** Records share a report row when they have the same task, kind, row name (the
method for students, ``xx`` for spaCy's multilingual model, every language for teachers
and per-language spaCy models) and variant. Such records must agree on everything that
made them except the seed and the per-run paths (`row_conflicts`): settings, teachers
(variant, encoders, content), the languages trained on (multilingual rows), the encoder,
and the content of every corpus file that more than one of them read. The report refuses
a row that does not; the workflow refuses to start a run that would make one.
"""
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .errors import Errors, KDSeqError

RECORD_VERSION = 2
KINDS = ("teacher", "student", "spacy")
SPACY_XX = "xx"
DEFAULT_VARIANT = "default"
# The student method that learns from no teacher.
BASELINE = "none"
# The encoder of every version-1 record: only CNN (tok2vec) pipelines were recorded then.
V1_ENCODER = "cnn"
# Settings that differ between the runs of one row by design: the seed, and where each
# run reads and writes (the corpus content is compared by hash instead).
_PER_RUN_PREFIXES = ("paths.", "distillation.teachers.")
_PER_RUN_KEYS = {"system.seed", "training.seed", "distillation.cache_dir"}


def tagged_variant(variant: str, tag: str) -> str:
    """`variant` marked with an encoder tag, as the workflow names e5 runs: `e5` for the
    default variant, else e.g. `w64-e5`; the CNN students of e5 teachers: `te5`, `w64-te5`."""
    return tag if variant == DEFAULT_VARIANT else f"{variant}-{tag}"


def make_record(
    *, task: str, kind: str, name: str, variant: str, seed: int, train_langs: Sequence[str],
    overrides: Dict[str, Any], training: Dict[str, Any], curve: Sequence[Tuple[int, float]],
    test: Dict[str, Any], code: Tuple[Optional[str], Optional[bool]], machine: Dict[str, Any],
    teacher_variant: Optional[str] = None, settings: Optional[Dict[str, Any]] = None,
    inputs: Optional[Dict[str, Dict[str, str]]] = None, encoder: str = V1_ENCODER,
    teacher_encoders: Optional[Dict[str, str]] = None, resumed_from: Optional[List[int]] = None,
    earlier_machines: Optional[List[Dict[str, Any]]] = None, model_sha256: Optional[str] = None,
) -> Dict[str, Any]:
    """A run record (see the module docstring), stamped with the time it finished.

    `code` is the (commit, dirty) state the run started from, `machine` where its last
    attempt ran; `teacher_variant` and `teacher_encoders`, for students, who taught it;
    `resumed_from` the steps after which a killed run was resumed from its checkpoints
    (none: empty), and `earlier_machines` where the attempts before them ran.
    `model_sha256` is the saved model-best's, as its students record it.
    """
    assert kind in KINDS, f"run kind {kind!r} is not one of {KINDS}"
    commit, dirty = code
    record: Dict[str, Any] = {
        "version": RECORD_VERSION, "task": task, "kind": kind, "name": name,
        "variant": variant, "seed": seed, "train_langs": sorted(train_langs), "encoder": encoder,
        "overrides": {key: _jsonable(value) for key, value in sorted(overrides.items())},
        "settings": {key: _jsonable(value) for key, value in sorted((settings or {}).items())},
        "inputs": {"corpus": dict(sorted((inputs or {}).get("corpus", {}).items())),
                   "teachers": dict(sorted((inputs or {}).get("teachers", {}).items()))},
        "training": {**training, "resumed_from": list(resumed_from or [])},
        "curve": [list(point) for point in curve], "test": test, "model_sha256": model_sha256,
        "commit": commit, "dirty": dirty,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine, "earlier_machines": list(earlier_machines or []),
    }
    if kind == "student":
        record["teacher_variant"] = teacher_variant or DEFAULT_VARIANT
        record["teacher_encoders"] = dict(sorted((teacher_encoders or {}).items()))
    return record


def read_records(results_dir: Path) -> List[Dict[str, Any]]:
    """Every run record under `results_dir` (recursively), in path order."""
    records = []
    for path in sorted(Path(results_dir).rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf8"))
        except (OSError, json.JSONDecodeError) as err:
            raise KDSeqError(Errors.E403.format(path=path, err=err)) from None
        if isinstance(data, dict) and data.get("kind") in KINDS and "test" in data:
            data["path"] = str(path)
            records.append(data)
    return records


def per_language(record: Dict[str, Any]) -> bool:
    """Teachers and per-language spaCy models: one run per language in a row."""
    return record["kind"] == "teacher" or (record["kind"] == "spacy" and record["name"] != SPACY_XX)


def row_key(record: Dict[str, Any]) -> Tuple[str, str, str, str]:
    """(task, kind, row name, variant): where the report puts a record."""
    name = "*" if per_language(record) else record["name"]
    return record["task"], record["kind"], name, record.get("variant", DEFAULT_VARIANT)


def run_settings(record: Dict[str, Any]) -> Dict[str, Any]:
    """The settings the runs of one row must share: the whole config for version-2
    records, the overrides for version-1 ones (which kept nothing else), less the
    per-run keys (seed, paths)."""
    source = record.get("settings") if record.get("version", 1) >= 2 else record.get("overrides", {})
    return {key: value for key, value in (source or {}).items() if not is_per_run_key(key)}


def is_per_run_key(key: str) -> bool:
    """Whether a setting differs between the runs of one row by design."""
    return key in _PER_RUN_KEYS or key.startswith(_PER_RUN_PREFIXES)


def encoder_of(record: Dict[str, Any]) -> str:
    """The record's encoder (version-1 records were all CNN pipelines)."""
    return record.get("encoder", V1_ENCODER)


def gpu_of(record: Dict[str, Any]) -> Optional[str]:
    """The GPU the run trained on; None for a CPU run (and records from before GPUs were kept)."""
    return (record.get("machine") or {}).get("gpu")


def is_taught(kind: str, name: str) -> bool:
    """Whether a run of `kind` and `name` learns from teachers: a KD student, not the baseline."""
    return kind == "student" and name != BASELINE


def teacher_variant_of(record: Dict[str, Any]) -> str:
    """Whose teachers taught a student (records from before teacher variants: the default)."""
    return record.get("teacher_variant", DEFAULT_VARIANT)


def row_conflicts(records: Sequence[Dict[str, Any]]) -> List[str]:
    """How the records of one row disagree, one line per difference (empty: they agree)."""
    if len(records) < 2:
        return []
    first = records[0]
    problems: List[str] = []

    def differ(what: str, value: Callable[[Dict[str, Any]], Any]) -> None:
        for record in records[1:]:
            if value(record) != value(first):
                problems.append(f"{what}: {_name(first)} has {value(first)!r}, "
                                f"{_name(record)} has {value(record)!r}")

    differ("record version", lambda r: min(int(r.get("version", 1)), RECORD_VERSION))
    differ("encoder", encoder_of)
    # Only a KD student reads teachers: a baseline's record may name a teacher variant, or
    # (written before that was so) the teacher models on disk, which say nothing of it.
    taught = is_taught(first["kind"], first["name"])
    if taught:
        differ("teachers", teacher_variant_of)
        differ("teacher encoders", lambda r: r.get("teacher_encoders", {}))
    if not per_language(first):
        differ("training languages", lambda r: sorted(r["train_langs"]))
    base = run_settings(first)
    for record in records[1:]:
        other = run_settings(record)
        changed = sorted(key for key in set(base) | set(other) if base.get(key) != other.get(key))
        if changed:
            problems.append(f"settings: {_name(first)} and {_name(record)} differ in " + ", ".join(
                f"{key} ({base.get(key)!r} vs {other.get(key)!r})" for key in changed[:6]
            ) + (f" and {len(changed) - 6} more" if len(changed) > 6 else ""))
    for part, what in (("corpus", "corpus file"),) + ((("teachers", "teacher"),) if taught else ()):
        seen: Dict[str, Tuple[str, Dict[str, Any]]] = {}
        for record in records:
            for key, digest in record.get("inputs", {}).get(part, {}).items():
                if key in seen and seen[key][0] != digest:
                    problems.append(f"{what} {key}: {_name(seen[key][1])} and {_name(record)} "
                                    f"read different contents (sha256 {seen[key][0][:12]}… vs {digest[:12]}…)")
                seen.setdefault(key, (digest, record))
    return problems


def check_row(records: Sequence[Dict[str, Any]], label: str) -> None:
    """Refuse (E430) to put records that were made differently in one row."""
    problems = row_conflicts(records)
    if problems:
        raise KDSeqError(Errors.E430.format(
            label=label, n=len(records), problems="; ".join(problems[:5])
            + (f"; and {len(problems) - 5} more" if len(problems) > 5 else ""),
        ))


def _name(record: Dict[str, Any]) -> str:
    return record.get("path") or f"{record['kind']} {record['name']} seed {record.get('seed')}"


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else str(value)
