"""What a training unit measures for its run record (the schema, and what makes two
records one report row, are in `spacy_kdseq.run_record`): the dev curve from spaCy's
logger, the training summary, the code and machine it ran on, and the atomic write.
"""
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ..errors import Errors, KDSeqError
from ..fileio import write_json_atomic  # noqa: F401 (units write records with it)


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
    curve: List[Tuple[int, float]], training: Dict[str, Any], wall_seconds: float,
    cpu_seconds: Optional[float], log_path: Path,
) -> Dict[str, Any]:
    """Steps taken, best step (spaCy's rule: highest score, later step on ties), why it
    stopped, and what it took: wall-clock seconds, and the CPU seconds of all its threads
    (None when unknown), which leave out any time the process was paused."""
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
        "cpu_seconds": None if cpu_seconds is None else round(cpu_seconds, 1),
    }


# Run records are what the workflow writes into the checkout it runs in (results/ under
# ROOT, tracked so that they are committed): one run's record must not make the next run's
# code count as changed.
_NOT_CODE = ":(top,exclude,glob)**/results/**/*.json"


def git_state(cwd: Optional[Path] = None) -> Tuple[Optional[str], Optional[bool]]:
    """(commit, dirty) of the checkout the run came from; (None, None) outside git. Dirty:
    a tracked file other than a run record differs from the commit."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ":(top)", _NOT_CODE],
            cwd=cwd, capture_output=True, text=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None, None
    return commit, bool(status.strip())


def machine_info(torch_threads: Optional[int] = None, gpu_id: int = -1) -> Dict[str, Any]:
    """The machine and package versions a run trained with; `gpu` names the GPU it trained
    on (`gpu_id` ≥ 0), else None."""
    versions: Dict[str, Optional[str]] = {"python": platform.python_version()}
    for package in ("torch", "spacy", "thinc", "spacy-kdseq"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"cpu": _cpu_model(), "cores": os.cpu_count(), "torch_threads": torch_threads,
            "gpu": _gpu_name(gpu_id), "versions": versions}


def _gpu_name(gpu_id: int) -> Optional[str]:
    if gpu_id < 0:
        return None
    import torch

    # A GPU torch cannot see (a CuPy-only setup) is still recorded as used, by its id.
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(gpu_id)
    return f"GPU {gpu_id}"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
