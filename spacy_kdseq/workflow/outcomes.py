"""How a step's units end, as every backend reports it: the failures of a step, how an
error is named in their list, and the callback a finished unit's result goes to.

Its own module so that the backends (`backends.py`, and `ray_backend.py`, which
`backends.py` imports only when Ray is chosen) share it without importing each other.
"""
from typing import Any, Callable, Sequence, Tuple

Done = Callable[[Any, Any], None]


class UnitsFailed(RuntimeError):
    """Some units of a step failed; the others' outputs are kept."""

    def __init__(self, failures: Sequence[Tuple[str, str]]) -> None:
        self.failures = list(failures)
        lines = "\n".join(f"- {label}: {error}" for label, error in self.failures)
        super().__init__(
            f"{len(self.failures)} unit(s) failed; finished units are kept, and running the "
            f"step again redoes only what is missing:\n{lines}"
        )


def describe(err: BaseException) -> str:
    """How a failure list names an error."""
    return f"{type(err).__name__}: {err}"
