"""Backends on toy units: parallel Ray tasks, failures kept apart, reruns, resources, lazy import."""
import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from spacy_kdseq.errors import KDSeqError
from spacy_kdseq.workflow.backends import UnitsFailed, run_units
from spacy_kdseq.workflow.records import write_json_atomic
from spacy_kdseq.workflow.ray_backend import in_worker, on_visible_gpu, task_options


@dataclasses.dataclass(frozen=True)
class Toy:
    """A unit that writes out/<name>.json atomically, or fails the way `fault` says."""

    name: str
    fault: str = ""  # "" | "raise" | "kill" (the worker dies half-way through its output)
    peer: str = ""  # a unit that must be running at the same time (or this one times out)
    gpu_id: int = -1

    @property
    def output(self) -> Path:
        return Path("out") / f"{self.name}.json"


def run_toy(unit: Toy) -> Dict[str, Any]:
    import torch

    if unit.fault == "raise":
        raise ValueError(f"{unit.name} is broken")
    unit.output.parent.mkdir(exist_ok=True)
    if unit.fault == "kill":
        unit.output.with_suffix(".partial").write_text("half")
        os.kill(os.getpid(), signal.SIGKILL)
    unit.output.with_suffix(".started").touch()
    deadline = time.time() + 60
    while unit.peer and not (unit.output.parent / f"{unit.peer}.started").exists():
        if time.time() > deadline:
            raise TimeoutError(f"{unit.name} never ran at the same time as {unit.peer}")
        time.sleep(0.1)
    result = {"name": unit.name, "threads": torch.get_num_threads(), "nice": os.nice(0)}
    write_json_atomic(unit.output, result)
    return result


def _label(unit: Toy) -> str:
    return f"toy {unit.name}"


@pytest.fixture
def ray_tasks(monkeypatch, tmp_path: Path) -> Path:
    """Ray installed; this module's toys shipped to the workers by value; cwd a fresh project."""
    ray = pytest.importorskip("ray")
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def test_ray_runs_units_in_parallel_keeps_failures_apart_and_reruns_only_them(ray_tasks: Path) -> None:
    # a and d wait for each other: they can finish only if two units run at once
    units = [Toy("a", peer="d"), Toy("d", peer="a"), Toy("b", "raise"), Toy("c", "kill")]
    done: List[Any] = []
    with pytest.raises(UnitsFailed) as failed:
        run_units(units, run_toy, _label, backend="ray", done=lambda unit, result: done.append(result))
    labels = [label for label, _ in failed.value.failures]
    assert sorted(labels) == ["toy b", "toy c"]
    errors = dict(failed.value.failures)
    assert errors["toy b"] == "ValueError: b is broken"
    assert "[E414]" in errors["toy c"] and "worker died" in errors["toy c"]
    # the finished units' outputs, in the project directory, one torch thread and
    # normal priority each (as `serial`)
    assert sorted(p.name for p in (ray_tasks / "out").glob("*.json")) == ["a.json", "d.json"]
    assert sorted(r["name"] for r in done) == ["a", "d"]
    assert [(r["threads"], r["nice"]) for r in done] == [(1, os.nice(0))] * 2
    kept = (ray_tasks / "out" / "a.json").stat().st_mtime_ns

    todo = [Toy(u.name) for u in units if not (ray_tasks / u.output).exists()]
    assert [u.name for u in todo] == ["b", "c"]
    run_units(todo, run_toy, _label, backend="ray")
    assert sorted(p.name for p in (ray_tasks / "out").glob("*.json")) == ["a.json", "b.json", "c.json", "d.json"]
    assert (ray_tasks / "out" / "a.json").stat().st_mtime_ns == kept
    assert json.loads((ray_tasks / "out" / "c.json").read_text())["name"] == "c"


def test_serial_keeps_going_past_a_failure(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnitsFailed, match="toy b: ValueError: b is broken"):
        run_units([Toy("a"), Toy("b", "raise"), Toy("c")], run_toy, _label)
    assert sorted(p.name for p in (tmp_path / "out").glob("*.json")) == ["a.json", "c.json"]


def test_without_ray_the_ray_backend_says_how_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(KDSeqError, match=r"\[E410\].*pip install 'spacy-kdseq\[ray\]'"):
        run_units([Toy("a")], run_toy, _label, backend="ray")


def test_unknown_backends_and_unit_cpus_are_refused() -> None:
    with pytest.raises(KDSeqError, match=r"\[E412\] Unknown backend 'dask'.*serial, ray"):
        run_units([Toy("a")], run_toy, _label, backend="dask")
    with pytest.raises(KDSeqError, match=r"\[E415\].*found 0"):
        run_units([Toy("a")], run_toy, _label, backend="ray", unit_cpus=0)


def test_a_unit_declares_its_cores_and_one_gpu_seen_as_device_0() -> None:
    assert task_options(Toy("a"), 2, "toy a") == {"num_cpus": 2, "num_gpus": 0, "max_retries": 0, "name": "toy a"}
    assert task_options(Toy("a", gpu_id=3), 1, "toy a")["num_gpus"] == 1
    assert on_visible_gpu(Toy("a", gpu_id=3)) == Toy("a", gpu_id=0)
    assert on_visible_gpu(Toy("a")) == Toy("a")


def test_a_node_without_the_project_directory_says_it_needs_shared_storage(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"\[E413\].*cannot see the project directory .*shared storage"):
        in_worker(run_toy, Toy("a"), str(tmp_path / "not-mounted"), 1)


def test_ray_is_imported_only_when_chosen() -> None:
    """The backends module and the package's CLI (what `spacy --help` loads) import no ray."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import spacy_kdseq.cli, spacy_kdseq.workflow.backends"],
        capture_output=True, text=True, check=True,
    )
    assert re.search(r"\|\s+spacy_kdseq\.workflow\.backends$", out.stderr, re.MULTILINE)
    assert not re.search(r"\|\s+ray(\.|$)", out.stderr, re.MULTILINE)


