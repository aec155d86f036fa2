"""A training run's checkpoint on disk: written atomically, read back only if it is the
same run's.

Layout of a checkpoint folder (e.g. ``training/ner/teachers/es.checkpoint/``)::

    LATEST                 the name of the complete checkpoint, e.g. "step-000001200"
    step-000001200/
        state.json         owner, identity, loop state, optimizer and random values
        arrays.npz         weights, optimizer moments and gradients, random states
        model-best/        the best model so far, if there is one

A checkpoint is written to a temporary folder, synced to disk, renamed, and only then
named in LATEST (itself replaced by a rename), so a process killed at any moment leaves
the previous checkpoint intact; anything LATEST does not name is a leftover and removed.

Reading one back: another run's checkpoint (another owner) is refused (E440) and never
deleted; one that cannot be read is refused (E441), since an atomic write cannot leave
it so; one of the same run made with other settings or data is stale: discarded with a
warning (W440), and the run starts over.
"""
import json
import os
import shutil
import uuid
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import numpy
from thinc.api import Config

from ..errors import Errors, KDSeqError, Warnings

FORMAT_VERSION = 1
LATEST = "LATEST"
STATE = "state.json"
ARRAYS = "arrays.npz"
MODEL_BEST = "model-best"
# The log file changes with every attempt of a run (the workflow trains in a fresh folder).
PER_ATTEMPT_KEYS = ("config.paths.log",)


@dataclass(frozen=True)
class Checkpointing:
    """Where a run keeps its checkpoint, how often it writes one, and whose run it is.

    path: the checkpoint folder. owner: names the run; another owner's checkpoint is
    refused. every_seconds: wall time between checkpoints; every_steps > 0 checkpoints
    every that many steps instead. identity: what else makes the run this run (input
    hashes, ...) besides its config and training data, which are always compared.
    notes: JSON-able facts of the first attempt, handed back to every later one.
    attempt: JSON-able facts of this attempt (its machine, say); a checkpoint keeps those
    of every attempt up to it, and the loop hands them back in order.
    unrelated: prefixes of identity keys that do not tell runs apart, on either side
    (e.g. ``config.paths.teachers.`` where `identity` holds the teachers' content).
    """

    path: Path
    owner: str
    every_seconds: float = 900.0
    every_steps: int = 0
    identity: Mapping[str, Any] = field(default_factory=dict)
    notes: Mapping[str, Any] = field(default_factory=dict)
    attempt: Mapping[str, Any] = field(default_factory=dict)
    unrelated: Tuple[str, ...] = ()


@dataclass
class Saved:
    """A checkpoint read back: its folder, its JSON values and its arrays."""

    dir: Path
    values: Dict[str, Any]
    arrays: Dict[str, numpy.ndarray]

    @property
    def model_best(self) -> Optional[Path]:
        best = self.dir / MODEL_BEST
        return best if best.exists() else None


def run_identity(
    config: Config, train_digest: Optional[str], extra: Mapping[str, Any]
) -> Dict[str, Any]:
    """What must match for a checkpoint to be this run's: the whole config (but the log
    path), the training data, and `extra`, as JSON values by dotted key."""
    flat = _flatten({"config": config, **extra})
    for key in PER_ATTEMPT_KEYS:
        flat.pop(key, None)
    flat["train data"] = train_digest
    return json.loads(json.dumps(flat, default=str))


def load(checkpointing: Checkpointing, identity: Dict[str, Any]) -> Optional[Saved]:
    """The run's checkpoint, or None if there is none (or it was stale and is now gone)."""
    path = Path(checkpointing.path)
    owner = checkpointing.owner
    if not path.exists():
        return None
    if not path.is_dir():
        raise damaged(checkpointing, f"{path} is not a folder")
    pointer = path / LATEST
    if not pointer.exists():
        # Killed before its first checkpoint was complete: nothing to resume.
        _remove_except(path, keep=())
        return None
    try:
        name = pointer.read_text(encoding="utf8").strip()
        values = json.loads((path / name / STATE).read_text(encoding="utf8"))
        found = values["owner"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise damaged(checkpointing, repr(err)) from None
    if found != owner:
        raise KDSeqError(Errors.E440.format(path=path, found=found, owner=owner))
    changes = _changes(values, identity, checkpointing.unrelated)
    if changes:
        warnings.warn(Warnings.W440.format(path=path, owner=owner, changes=changes), UserWarning)
        remove(path)
        return None
    try:
        with numpy.load(path / name / ARRAYS, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise damaged(checkpointing, repr(err)) from None
    _remove_except(path, keep=(LATEST, name))
    return Saved(path / name, values, arrays)


def write(
    checkpointing: Checkpointing, step: int, values: Dict[str, Any],
    arrays: Dict[str, numpy.ndarray], model_best: Optional[Path],
) -> Path:
    """Write the checkpoint of `step` atomically; returns its folder."""
    path = Path(checkpointing.path)
    path.mkdir(parents=True, exist_ok=True)
    name = f"step-{step:09d}"
    tmp = path / f".{name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
        if model_best is not None and model_best.exists():
            shutil.copytree(model_best, tmp / MODEL_BEST)
        numpy.savez(tmp / ARRAYS, **arrays)
        state = {"format": FORMAT_VERSION, "owner": checkpointing.owner, **values}
        (tmp / STATE).write_text(json.dumps(state), encoding="utf8")
        _sync_tree(tmp)
        final = path / name
        if final.exists():  # a leftover of an attempt killed after the rename
            shutil.rmtree(final)
        os.replace(tmp, final)
        _sync(path)
        pointer_tmp = path / f".{LATEST}.tmp-{uuid.uuid4().hex[:8]}"
        pointer_tmp.write_text(name, encoding="utf8")
        _sync(pointer_tmp)
        os.replace(pointer_tmp, path / LATEST)
        _sync(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _remove_except(path, keep=(LATEST, name))
    return final


def remove(path: Path) -> None:
    """Delete a checkpoint folder (a finished run no longer needs it)."""
    shutil.rmtree(path, ignore_errors=True)


def damaged(checkpointing: Checkpointing, err: str) -> KDSeqError:
    """The coded error for a checkpoint that cannot be read or restored."""
    return KDSeqError(Errors.E441.format(path=checkpointing.path, err=err, owner=checkpointing.owner))


def _changes(values: Dict[str, Any], identity: Dict[str, Any], unrelated: Tuple[str, ...]) -> str:
    """How a checkpoint's identity differs from the run's ('' if it does not), keys
    starting with an `unrelated` prefix aside."""
    if values.get("format") != FORMAT_VERSION:
        return f"checkpoint format {values.get('format')!r}, this version reads {FORMAT_VERSION}"
    saved = values.get("identity", {})
    changed: List[str] = sorted(
        key for key in set(saved) | set(identity)
        if saved.get(key) != identity.get(key) and not key.startswith(unrelated)
    )
    shown = [
        f"{key}: {_short(saved.get(key))} → {_short(identity.get(key))}" for key in changed[:6]
    ]
    return ", ".join(shown) + (f" and {len(changed) - 6} more" if len(changed) > 6 else "")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _flatten(node: Mapping[str, Any], prefix: str = "") -> Dict[str, Any]:
    flat: Dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _remove_except(path: Path, keep: tuple) -> None:
    for entry in path.iterdir():
        if entry.name not in keep:
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _sync_tree(root: Path) -> None:
    """fsync every file and folder under `root`: a checkpoint must survive a lost machine,
    not only a killed process."""
    for folder, _, files in os.walk(root):
        for name in files:
            _sync(Path(folder) / name)
        _sync(Path(folder))


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
