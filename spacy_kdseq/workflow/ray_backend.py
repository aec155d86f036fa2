"""The `ray` backend: each unit a Ray task with declared resources, run in the project directory.

A task asks for `unit_cpus` cores (Ray sets OMP_NUM_THREADS to match unless it is set,
and torch runs with as many threads) and, when its unit has gpu_id >= 0, one GPU, which
Ray shows it as device 0. Workers run in the
driver's project directory, since units name configs and corpora by relative paths: on
a cluster that directory must be on storage every node mounts at the same path
(docs/cluster.md). What a unit returns (a run record, a teacher's knowledge) comes back
to the driver, which hands it to `done`.
"""
import dataclasses
import os
import socket
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, TypeVar

from wasabi import msg

from ..errors import Errors, KDSeqError
from .outcomes import Done, UnitsFailed, describe

U = TypeVar("U")


def run_ray(
    units: Sequence[U], run: Callable[[U], Any], label: Callable[[U], str], *,
    address: str = "", unit_cpus: int = 1, done: Optional[Done] = None,
) -> None:
    """Run every unit as a Ray task on a local Ray (`address` "") or a cluster ("auto", "ray://…")."""
    if isinstance(unit_cpus, bool) or not isinstance(unit_cpus, int) or unit_cpus < 1:
        raise KDSeqError(Errors.E415.format(value=unit_cpus))
    if not units:
        return
    ray = import_ray()
    connect(ray, address)
    try:
        failures = _run_tasks(ray, units, run, label, unit_cpus, done)
    finally:
        ray.shutdown()  # stops a local Ray; only disconnects from a cluster
    if failures:
        raise UnitsFailed(failures)


def import_ray() -> Any:
    """The `ray` module, or an error that says how to install it."""
    try:
        import ray
    except ImportError as err:
        raise KDSeqError(Errors.E410.format(err=err)) from None
    return ray


def connect(ray: Any, address: str) -> None:
    """Start a local Ray on this machine's cores (`address` "") or join a running cluster."""
    if not address:
        # Ray runs its workers at nice 15, so that its daemons stay responsive; beside
        # other work on this machine that starves the units, which `serial` runs at
        # normal priority: give them normal priority here too.
        os.environ.setdefault("RAY_worker_niceness", "0")
        # "local": a new Ray of our own, even where `ray start` left a cluster behind
        ray.init(address="local", include_dashboard=False)
        return
    try:
        ray.init(address=address)
    except (ConnectionError, RuntimeError, ValueError) as err:
        raise KDSeqError(Errors.E411.format(address=address, err=err)) from None


def task_options(unit: Any, unit_cpus: int, name: str) -> Dict[str, Any]:
    """The resources a unit declares: `unit_cpus` cores, and one GPU if its gpu_id >= 0."""
    return {
        "num_cpus": unit_cpus,
        "num_gpus": 1 if unit.gpu_id >= 0 else 0,
        # A dead worker is reported, not retried: a crash is often a deterministic
        # out-of-memory, and rerunning the step redoes exactly the units that are missing.
        "max_retries": 0,
        "name": name,
    }


def on_visible_gpu(unit: U) -> U:
    """The unit as its worker must run it: Ray exposes a task's one GPU as device 0."""
    return dataclasses.replace(unit, gpu_id=0) if unit.gpu_id >= 0 else unit  # type: ignore[attr-defined]


def in_worker(run: Callable[[U], Any], unit: U, project: str, threads: int) -> Any:
    """A Ray task's body: run `unit` in the project directory with `threads` torch threads."""
    if not os.path.isdir(project):
        raise FileNotFoundError(Errors.E413.format(node=socket.gethostname(), path=project))
    os.chdir(project)
    import torch

    torch.set_num_threads(threads)
    return run(on_visible_gpu(unit))


def _run_tasks(
    ray: Any, units: Sequence[U], run: Callable[[U], Any], label: Callable[[U], str],
    unit_cpus: int, done: Optional[Done],
) -> List[Tuple[str, str]]:
    project = str(Path.cwd().resolve())
    task = ray.remote(in_worker)
    refs = {
        task.options(**task_options(unit, unit_cpus, label(unit))).remote(run, unit, project, unit_cpus): unit
        for unit in units
    }
    resources = ray.cluster_resources()
    msg.info(f"{len(units)} units on Ray ({resources.get('CPU', 0):g} CPUs, "
             f"{resources.get('GPU', 0):g} GPUs; {unit_cpus} CPU(s) per unit)")
    failures: List[Tuple[str, str]] = []
    waiting = list(refs)
    while waiting:
        # Results are taken as they come, so `done` (e.g. a cache commit) keeps up.
        (ref,), waiting = ray.wait(waiting, num_returns=1)
        unit = refs[ref]
        try:
            result = ray.get(ref)
            if done is not None:
                done(unit, result)
        except ray.exceptions.RayTaskError as err:  # the unit raised: its own error
            print(err, file=sys.stderr)
            failures.append((label(unit), describe(err.cause)))
        except ray.exceptions.RayError as err:  # the worker or its node died
            failures.append((label(unit), Errors.E414.format(err=describe(err).splitlines()[0])))
        except Exception as err:  # `done` failed: the unit counts as failed, the rest go on
            failures.append((label(unit), describe(err)))
        else:
            msg.good(f"[{len(units) - len(waiting)}/{len(units)}] {label(unit)}")
            continue
        msg.fail(f"[{len(units) - len(waiting)}/{len(units)}] {label(unit)}")
    return failures
