"""Where the workflow keeps each run under ROOT (`.` for the full experiment, `smoke` for the
smoke workflow)::

    corpus/<task>/<split>/<lang>.spacy
    training/<task>/teachers[-<variant>]/<lang>/           model-best, model-last, train-log.jsonl
    training/<task>/students[-<variant>]/<method>/seed-<n>/   taught by teachers[-<teacher variant>]
    training/<task>/spacy[-<variant>]/<lang or xx>/
    training/<task>/<…>/<run>.checkpoint/                     a unit's checkpoint, until recorded
    results/<task>/<same relative path>.json                  one run record per unit
    kd-cache/<task>/                                          the default teachers' knowledge
    kd-cache/<task>-teachers-<teacher variant>/               another teacher variant's

Only paths, no training code: annotation and the command line need them without
importing what a training unit runs.
"""
from pathlib import Path
from typing import Tuple


def _kind_dir(kind: str, variant: str) -> str:
    base = {"teacher": "teachers", "student": "students", "spacy": "spacy"}[kind]
    return base if variant == "default" else f"{base}-{variant}"


def run_paths(root: Path, task: str, kind: str, variant: str, *parts: str) -> Tuple[Path, Path]:
    """The output directory of one run and the path of its record."""
    rel = Path(_kind_dir(kind, variant), *parts)
    return root / "training" / task / rel, (root / "results" / task / rel).with_suffix(".json")


def checkpoint_path(output: Path) -> Path:
    """Where the unit training into `output` keeps its checkpoint until it is recorded."""
    return output.parent / f"{output.name}.checkpoint"


def teacher_model(root: Path, task: str, lang: str, variant: str = "default") -> Path:
    """Where the teacher of `lang` is (students and annotation read it)."""
    return run_paths(root, task, "teacher", variant, lang)[0] / "model-best"


def knowledge_cache(root: Path, task: str, teacher_variant: str = "default") -> Path:
    """The knowledge cache of a teacher variant: its own directory, since a cache holds one
    entry per training file and language and another teacher's entry would replace it."""
    name = task if teacher_variant == "default" else f"{task}-teachers-{teacher_variant}"
    return root / "kd-cache" / name
