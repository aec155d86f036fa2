"""Run records: one JSON per finished training run, under ``results/<task>/``.

A record is everything a results table needs about one run, so tables rebuild from
the records alone (models and caches are never committed)::

    {
      "version": 1,
      "task": "ner" | "pos",
      "kind": "teacher" | "student" | "spacy",
      "name": str,            # "es" for a teacher / spaCy model, the method for a student
      "variant": str,         # "default", or e.g. "w64" for a smaller student
      "teacher_variant": str, # students only: whose teachers taught it ("default" if absent)
      "seed": int,
      "train_langs": [str],   # languages trained on (one, or the union)
      "overrides": {key: value},          # config overrides of this run
      "training": {"max_steps": int, "patience": int, "eval_frequency": int,
                   "steps": int, "best_step": int, "best_dev": float,
                   "stopped_by": "patience" | "max_steps", "wall_seconds": float},
      "curve": [[step, dev score], ...],  # spaCy's ConsoleLogger.v3 JSONL, per evaluation
      "test": {...},          # spacy_kdseq.evaluation metrics (docs/evaluate.md)
      "commit": str | null, "dirty": bool | null, "finished": str (UTC, ISO 8601),
      "machine": {"cpu": str, "cores": int, "torch_threads": int | null,
                  "versions": {package: version}},  # wall times compare on one machine only
    }
"""
import json
import os
import platform
import subprocess
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ..errors import Errors, KDSeqError

RECORD_VERSION = 1
KINDS = ("teacher", "student", "spacy")


def read_curve(log_path: Path) -> List[Tuple[int, float]]:
    """(step, dev score) per evaluation from a ConsoleLogger.v3 JSONL file."""
    curve = []
    with Path(log_path).open(encoding="utf8") as lines:
        for line in lines:
            if line.strip():
                entry = json.loads(line)
                curve.append((int(entry["step"]), float(entry["score"])))
    return curve


def summarise_training(
    curve: List[Tuple[int, float]], training: Dict[str, Any], wall_seconds: float, log_path: Path
) -> Dict[str, Any]:
    """Steps taken, best step (spaCy's rule: highest score, later step on ties), why it stopped."""
    if not curve:
        raise KDSeqError(Errors.E406.format(path=log_path))
    best_dev, best_step = max((score, step) for step, score in curve)
    steps = curve[-1][0]
    max_steps = int(training["max_steps"])
    return {
        "max_steps": max_steps,
        "patience": int(training["patience"]),
        "eval_frequency": int(training["eval_frequency"]),
        "steps": steps,
        "best_step": best_step,
        "best_dev": best_dev,
        "stopped_by": "max_steps" if max_steps and steps >= max_steps else "patience",
        "wall_seconds": round(wall_seconds, 1),
    }


def git_state(cwd: Optional[Path] = None) -> Tuple[Optional[str], Optional[bool]]:
    """(commit, dirty) of the checkout the run came from; (None, None) outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
            capture_output=True, text=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None, None
    return commit, bool(status.strip())


def machine_info(torch_threads: Optional[int] = None) -> Dict[str, Any]:
    """The machine and package versions a run trained with."""
    versions: Dict[str, Optional[str]] = {"python": platform.python_version()}
    for package in ("torch", "spacy", "thinc", "spacy-kdseq"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"cpu": _cpu_model(), "cores": os.cpu_count(), "torch_threads": torch_threads,
            "versions": versions}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def make_record(
    *, task: str, kind: str, name: str, variant: str, seed: int, train_langs: List[str],
    overrides: Dict[str, Any], training: Dict[str, Any], curve: List[Tuple[int, float]],
    test: Dict[str, Any], code: Optional[Tuple[Optional[str], Optional[bool]]] = None,
    machine: Optional[Dict[str, Any]] = None, teacher_variant: Optional[str] = None,
) -> Dict[str, Any]:
    """A run record (see the module docstring) stamped with the commit and the time.

    `code` is the (commit, dirty) state the run started from (default: now); `machine`
    where it ran (default: this machine, torch threads unknown); `teacher_variant`, for
    students, whose teachers taught it.
    """
    assert kind in KINDS, f"run kind {kind!r} is not one of {KINDS}"
    commit, dirty = code if code is not None else git_state()
    record = {
        "version": RECORD_VERSION, "task": task, "kind": kind, "name": name,
        "variant": variant, "seed": seed, "train_langs": list(train_langs),
        "overrides": {key: _jsonable(value) for key, value in sorted(overrides.items())},
        "training": training, "curve": [list(point) for point in curve], "test": test,
        "commit": commit, "dirty": dirty,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine if machine is not None else machine_info(),
    }
    if teacher_variant is not None:
        record["teacher_variant"] = teacher_variant
    return record


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temporary file beside `path`, then rename: never half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf8") as out:
            json.dump(data, out, indent=2, sort_keys=False)
            out.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else str(value)
