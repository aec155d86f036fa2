"""Deterministic dev carving for treebanks that ship no train file."""
import hashlib
from typing import Set

from ..errors import Errors, KDSeqError


def dev_indices(n: int, fraction: float, seed: int = 0) -> Set[int]:
    """Indices of the ``round(n * fraction)`` sentences carved out as dev.

    A sentence's rank is the SHA-1 of ``f"{seed}:{index}"``, so the choice is the
    same on every machine and Python version, and a sentence's fate does not
    depend on how the rest of the file is ordered.
    """
    if not 0 <= fraction < 1:
        raise KDSeqError(Errors.E212.format(fraction=fraction))
    k = round(n * fraction)
    ranked = sorted(range(n), key=lambda i: hashlib.sha1(f"{seed}:{i}".encode()).digest())
    return set(ranked[:k])
