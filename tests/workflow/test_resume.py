"""Training units survive being killed: a rerun resumes from the unit's checkpoint and
ends with the record and model of a run never interrupted."""
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict

import pytest
import torch

from spacy_kdseq.corpora import convert_corpus
from spacy_kdseq.errors import KDSeqError
from spacy_kdseq.training import checkpoint
from spacy_kdseq.workflow.annotation import annotate_teachers
from spacy_kdseq.workflow.layout import checkpoint_path, teacher_model
from spacy_kdseq.workflow.plan import student_units, teacher_units
from spacy_kdseq.workflow.units import LOG_NAME, TrainUnit, run_unit

from training._interrupt import stopped_after_first_checkpoint
from .test_workflow import TINY

REPO = Path(__file__).resolve().parents[2]
# Long enough for several epochs, dev evaluations on both sides of the checkpoints and
# a batch-size schedule that advances across epochs.
RESUMED = {
    **TINY,
    "training.max_steps": 24,
    "training.batcher.size.start": 100,
    "training.batcher.size.compound": 1.05,
}
# Kills the unit given as JSON right after its `after`-th checkpoint is complete: no
# exception handler or `finally` runs, as when a session ends or a worker is preempted.
KILL_SCRIPT = """
import json, os, signal, sys
from pathlib import Path
from spacy_kdseq.training import checkpoint
from spacy_kdseq.workflow.units import TrainUnit, run_unit

fields, after = json.loads(sys.argv[1]), int(sys.argv[2])
paths = {key: Path(fields[key]) for key in ("config", "output", "record", "train", "dev")}
unit = TrainUnit(**{**fields, **paths, "train_langs": tuple(fields["train_langs"]),
                    "test_files": tuple(Path(p) for p in fields["test_files"])})
write, written = checkpoint.write, []

def write_then_die(*args, **kwargs):
    folder = write(*args, **kwargs)
    written.append(folder)
    if len(written) == after:
        os.kill(os.getpid(), signal.SIGKILL)
    return folder

checkpoint.write = write_then_die
run_unit(unit)
"""


@pytest.fixture(scope="module")
def root(shared_data: Path, tmp_path_factory) -> Path:
    """A workflow root with a 60/30/30-sentence es NER corpus and a tiny es teacher whose
    knowledge is cached (for the students)."""
    root = tmp_path_factory.mktemp("resume")
    for split, suffix, limit in (("train", "train", 60), ("dev", "testa", 30), ("test", "testb", 30)):
        out = root / "corpus" / "ner" / split / "es.spacy"
        out.parent.mkdir(parents=True, exist_ok=True)
        convert_corpus(shared_data / "conll2002" / f"esp.{suffix}", out, "es", limit=limit)
    cwd = os.getcwd()
    os.chdir(REPO)  # units name the repository's configs by relative path, as project.yml does
    try:
        (teacher,) = teacher_units("ner", root, ["es"], [], overrides=TINY)
        run_unit(teacher)
        annotate_teachers("ner", root, {"es": str(teacher_model(root, "ner", "es"))})
        yield root
    finally:
        os.chdir(cwd)


def _teacher(root: Path, variant: str, **overrides) -> TrainUnit:
    settings = {**RESUMED, **overrides}
    (unit,) = teacher_units("ner", root, ["es"], [], overrides=settings, variant=variant)
    return dataclasses.replace(unit, checkpoint_steps=5)


def _student(root: Path) -> TrainUnit:
    (unit,) = student_units("ner", root, ["es"], [], ["posterior"], [0], overrides=RESUMED)
    return dataclasses.replace(unit, checkpoint_steps=5)


def _kill_after_checkpoints(unit: TrainUnit, after: int, threads: int = 0) -> None:
    fields = json.dumps(dataclasses.asdict(unit), default=str)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)} if threads else None
    out = subprocess.run([sys.executable, "-c", KILL_SCRIPT, fields, str(after)], cwd=REPO,
                         capture_output=True, text=True, env=env)
    assert out.returncode == -signal.SIGKILL, out.stderr[-3000:]


def _interrupt_after_first_checkpoint(unit: TrainUnit, monkeypatch) -> None:
    with stopped_after_first_checkpoint(monkeypatch):
        run_unit(unit)
    assert (checkpoint_path(unit.output) / "LATEST").read_text() == "step-000000004"


def _weights(model: Path) -> Dict[str, bytes]:
    """Every file of a saved pipeline but its config (which names the run's temporary
    log path) and meta (whose per-type scores come in set order)."""
    return {
        str(path.relative_to(model)): path.read_bytes() for path in sorted(model.rglob("*"))
        if path.is_file() and path.name not in ("config.cfg", "meta.json")
    }


def _scores(test: dict) -> dict:
    """The test metrics but the measured speed."""
    return {key: _scores(value) if isinstance(value, dict) else value
            for key, value in test.items() if key != "words_per_second"}


def _leftovers(unit: TrainUnit) -> list:
    return [p.name for p in unit.output.parent.iterdir()
            if ".partial-" in p.name or ".checkpoint" in p.name]


@pytest.mark.parametrize("kind", ["teacher", "student"])
def test_a_killed_unit_resumes_to_the_same_record(root: Path, kind: str) -> None:
    unit = _teacher(root, "resumed") if kind == "teacher" else _student(root)
    whole = run_unit(unit)
    whole_weights = _weights(unit.output / "model-best")
    whole_log = (unit.output / LOG_NAME).read_text()
    shutil.rmtree(unit.output)
    unit.record.unlink()

    _kill_after_checkpoints(unit, after=2)  # after steps 4 and 9: past the step-6 evaluation
    assert (checkpoint_path(unit.output) / "LATEST").read_text() == "step-000000009"
    assert not unit.record.exists() and not unit.output.exists()
    resumed = run_unit(unit)

    assert whole["training"]["resumed_from"] == [] and resumed["training"]["resumed_from"] == [9]
    assert whole["earlier_machines"] == [] and len(resumed["earlier_machines"]) == 1
    assert [step for step, _ in resumed["curve"]] == [0, 6, 12, 18, 24]
    assert resumed["curve"] == whole["curve"]
    assert _scores(resumed["test"]) == _scores(whole["test"])
    for record in (whole, resumed):
        for measured in ("wall_seconds", "cpu_seconds", "resumed_from"):
            del record["training"][measured]
    assert resumed["training"] == whole["training"]
    # Bit for bit: the dev losses and scores of every evaluation, and the weights.
    assert (unit.output / LOG_NAME).read_text() == whole_log
    assert _weights(unit.output / "model-best") == whole_weights
    assert _leftovers(unit) == [], "the finished unit removes its checkpoint and partial output"


def test_a_unit_resumes_more_than_once(root: Path) -> None:
    unit = _teacher(root, "twice", **{"training.max_steps": 18})
    _kill_after_checkpoints(unit, after=1, threads=1)
    _kill_after_checkpoints(unit, after=2, threads=2)  # resumed after step 4, killed after 9 and 14
    assert (checkpoint_path(unit.output) / "LATEST").read_text() == "step-000000014"
    threads = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        record = run_unit(unit)
    finally:
        torch.set_num_threads(threads)
    assert record["training"]["resumed_from"] == [4, 14]
    assert record["training"]["steps"] == 18 and _leftovers(unit) == []
    assert record["training"]["cpu_seconds"] > 0
    # Each attempt's machine: the two killed ones, then the one that finished.
    assert [m["torch_threads"] for m in record["earlier_machines"]] == [1, 2]
    assert record["machine"]["torch_threads"] == 3


def test_cpu_seconds_leave_out_the_time_a_run_waits(root: Path, monkeypatch) -> None:
    """A run that stands still (here: 2 s after each of its 4 checkpoints; a paused or
    starved process alike) takes that much longer on the wall clock, and no more CPU time."""
    seconds = {}
    for pause in (0.0, 2.0):
        unit = _teacher(root, f"paused-{pause:.0f}")
        write = checkpoint.write

        def write_then_wait(*args, pause=pause, **kwargs):
            folder = write(*args, **kwargs)
            time.sleep(pause)
            return folder

        with monkeypatch.context() as patch:
            patch.setattr(checkpoint, "write", write_then_wait)
            training = run_unit(unit)["training"]
        seconds[pause] = (training["wall_seconds"], training["cpu_seconds"])
    (wall, cpu), (wall_paused, cpu_paused) = seconds[0.0], seconds[2.0]
    assert wall_paused - wall > 6.0
    assert abs(cpu_paused - cpu) < 0.5 * (wall_paused - wall)


def test_a_checkpoint_without_cpu_seconds_resumes_to_unknown_cpu_seconds(root: Path, monkeypatch) -> None:
    """A checkpoint written before CPU time was counted resumes, and the record says the
    run's CPU time is not known rather than counting only the last attempt's."""
    unit = _teacher(root, "uncounted", **{"training.max_steps": 6})
    _interrupt_after_first_checkpoint(unit, monkeypatch)
    state = checkpoint_path(unit.output) / "step-000000004" / "state.json"
    values = json.loads(state.read_text())
    del values["loop"]["cpu_seconds"]
    state.write_text(json.dumps(values))
    training = run_unit(unit)["training"]
    assert training["resumed_from"] == [4] and training["cpu_seconds"] is None


@pytest.mark.parametrize("damage", ["state.json", "arrays.npz", "LATEST"])
def test_a_damaged_checkpoint_is_refused_and_kept(root: Path, monkeypatch, damage: str) -> None:
    """Written atomically, a checkpoint can only be damaged from outside: E441 says so and
    how to start over, and nothing is deleted."""
    unit = _teacher(root, f"damaged-{damage.split('.')[0]}", **{"training.max_steps": 6})
    _interrupt_after_first_checkpoint(unit, monkeypatch)
    folder = checkpoint_path(unit.output)
    target = folder / ("step-000000004" if damage != "LATEST" else "") / damage
    if damage == "LATEST":
        target.write_text("step-000000099")
    else:
        target.write_bytes(target.read_bytes()[:40])
    before = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    with pytest.raises(KDSeqError, match=rf"E441.*{folder}.*Delete"):
        run_unit(unit)
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) == before
    assert not unit.record.exists()


def test_a_stale_checkpoint_is_discarded(root: Path, monkeypatch) -> None:
    """The same unit with other settings starts over, saying what changed (W440)."""
    unit = _teacher(root, "stale", **{"training.max_steps": 6})
    _interrupt_after_first_checkpoint(unit, monkeypatch)
    changed = _teacher(root, "stale", **{"training.max_steps": 6, "training.dropout": 0.2})
    with pytest.warns(UserWarning, match=r"W440.*config.training.dropout: 0.1 → 0.2"):
        record = run_unit(changed)
    assert record["training"]["resumed_from"] == [] and _leftovers(unit) == []


def test_a_student_resumes_with_its_teachers_moved(root: Path, monkeypatch) -> None:
    """Teachers are known by content: the same teachers in another folder (or a checkpoint
    that named the config's default teachers' folders, as before) resume the run."""
    (unit,) = student_units("ner", root, ["es"], [], ["posterior"], [0], overrides=RESUMED, variant="moved")
    unit = dataclasses.replace(unit, checkpoint_steps=5)
    _interrupt_after_first_checkpoint(unit, monkeypatch)
    state = checkpoint_path(unit.output) / "step-000000004" / "state.json"
    values = json.loads(state.read_text())
    assert values["identity"]["config.paths.teachers.es"] == unit.teachers["es"]
    values["identity"]["config.paths.teachers.es"] = "training/ner/teachers/es/model-best"
    state.write_text(json.dumps(values))
    moved = root / "moved-teachers" / "es"
    shutil.copytree(unit.teachers["es"], moved)
    record = run_unit(dataclasses.replace(unit, teachers={"es": str(moved)}))
    assert record["training"]["resumed_from"] == [4], "not stale (W440)"
    assert record["settings"]["paths.teachers.es"] == str(moved)


def test_another_units_checkpoint_is_refused(root: Path, monkeypatch) -> None:
    unit = _teacher(root, "mine", **{"training.max_steps": 6})
    _interrupt_after_first_checkpoint(unit, monkeypatch)
    other = _teacher(root, "other", **{"training.max_steps": 6})
    shutil.copytree(checkpoint_path(unit.output), checkpoint_path(other.output))
    refused = r"E440.*ner teacher es \(mine\).*not of ner teacher es \(other\)"
    with pytest.raises(KDSeqError, match=refused):
        run_unit(other)
    assert checkpoint_path(other.output).exists() and not other.record.exists()
