"""Run a step's units one after another (`serial`), keeping going past a failed unit.

Every unit's output is atomic (see `units.py`), so a failure loses nothing that
finished: the step reports each failed unit with its error and fails, and a rerun
does only what is missing.
"""
import traceback
from typing import Callable, List, Sequence, Tuple, TypeVar

from wasabi import msg

U = TypeVar("U")
BACKENDS = ("serial",)


class UnitsFailed(RuntimeError):
    """Some units of a step failed; the others' outputs are kept."""

    def __init__(self, failures: Sequence[Tuple[str, str]]) -> None:
        self.failures = list(failures)
        lines = "\n".join(f"- {label}: {error}" for label, error in self.failures)
        super().__init__(
            f"{len(self.failures)} unit(s) failed; finished units are kept, and running the "
            f"step again redoes only what is missing:\n{lines}"
        )


def run_serial(units: Sequence[U], run: Callable[[U], object], label: Callable[[U], str]) -> None:
    """Run every unit in this process; raise `UnitsFailed` at the end if any failed."""
    failures: List[Tuple[str, str]] = []
    for i, unit in enumerate(units, 1):
        msg.divider(f"[{i}/{len(units)}] {label(unit)}")
        try:
            run(unit)
        except Exception as err:  # one unit's failure must not stop the others
            traceback.print_exc()
            failures.append((label(unit), f"{type(err).__name__}: {err}"))
    if failures:
        raise UnitsFailed(failures)
