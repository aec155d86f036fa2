"""Run a step's units: one after another in this process (`serial`), or as Ray tasks (`ray`).

Every unit's output is atomic (see `units.py`), so a failure loses nothing that
finished: whatever the backend, the step keeps going past a failed unit, reports each
failed unit with its error and fails, and a rerun does only what is missing. Ray is
imported only when `ray` is chosen (`ray_backend.py`).
"""
import traceback
from typing import Any, Callable, List, Optional, Sequence, Tuple, TypeVar

from wasabi import msg

from ..errors import Errors, KDSeqError
from .outcomes import Done, UnitsFailed, describe

U = TypeVar("U")
BACKENDS = ("serial", "ray")


def run_serial(
    units: Sequence[U], run: Callable[[U], Any], label: Callable[[U], str],
    done: Optional[Done] = None,
) -> None:
    """Run every unit in this process, then `done(unit, result)`; raise `UnitsFailed` at the end."""
    failures: List[Tuple[str, str]] = []
    for i, unit in enumerate(units, 1):
        msg.divider(f"[{i}/{len(units)}] {label(unit)}")
        try:
            result = run(unit)
            if done is not None:
                done(unit, result)
        except Exception as err:  # one unit's failure must not stop the others
            traceback.print_exc()
            failures.append((label(unit), describe(err)))
    if failures:
        raise UnitsFailed(failures)


def run_units(
    units: Sequence[U], run: Callable[[U], Any], label: Callable[[U], str], *,
    backend: str = "serial", address: str = "", unit_cpus: int = 1, done: Optional[Done] = None,
) -> None:
    """Run `units` with `backend`; `address` and `unit_cpus` are Ray's (see `run_ray`)."""
    if backend not in BACKENDS:
        raise KDSeqError(Errors.E412.format(backend=backend, backends=", ".join(BACKENDS)))
    if backend == "serial":
        run_serial(units, run, label, done)
        return
    from .ray_backend import run_ray

    run_ray(units, run, label, address=address, unit_cpus=unit_cpus, done=done)
