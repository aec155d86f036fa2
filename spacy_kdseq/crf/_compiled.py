"""Compiled CPU kernels for Viterbi and k-best decoding (internal; numba, the `fast` extra).

The torch kernels in ``decode.py`` are bound by per-op overhead on the CPU (~8 small ops
per time step) and, for k-best, by a ``topk`` over the L·k candidates of every (sequence,
label) row at every step. The kernels in ``_numba.py`` loop over one sequence at a time in
compiled code instead, on one thread:

- Viterbi: a backward max-product pass (the best score from every (step, label) to the
  end), then the best path read forwards from the start.
- k-best: Lawler's partitioning on top of that pass. A set of paths "this prefix, then
  any but the labels already taken at the next step, then anything" has its best path in
  O(L), because the backward scores are exact completions; a best-first heap pops the
  sets in score order, and each popped path splits the rest of its set into one set per
  later step. The k best paths cost the pass plus O(k·T·(L + log kT)) per sequence,
  instead of a k-wide pass over every node.

Scores are summed in the inputs' dtype, so float32 and float64 give what the torch
kernels give up to rounding; the paths are the same.
"""
from typing import Tuple

import numpy as np
import torch
from torch import Tensor


def available() -> bool:
    """Whether numba is installed, so the compiled kernels can run."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def _numpy(tensor: Tensor) -> np.ndarray:
    return tensor.detach().contiguous().numpy()


def viterbi(
    emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> Tuple[Tensor, Tensor]:
    """``decode.viterbi`` on checked CPU inputs: (scores (B,), tags (B, T))."""
    from . import _numba

    em = _numpy(emissions)
    B, T, _ = em.shape
    scores = np.zeros(B, dtype=em.dtype)
    tags = np.full((B, T), -1, dtype=np.int64)
    _numba.viterbi_batch(em, _numpy(mask.sum(1)), _numpy(transitions), _numpy(start),
                         _numpy(end), scores, tags)
    return torch.from_numpy(scores), torch.from_numpy(tags)


def kbest(
    emissions: Tensor, mask: Tensor, transitions: Tensor, k: int, start: Tensor, end: Tensor
) -> Tuple[Tensor, Tensor]:
    """``decode.kbest`` on checked CPU inputs: (scores (B, k), tags (B, k, T))."""
    from . import _numba

    em = _numpy(emissions)
    B, T, _ = em.shape
    scores = np.full((B, k), -np.inf, dtype=em.dtype)
    tags = np.full((B, k, T), -1, dtype=np.int64)
    _numba.kbest_batch(em, _numpy(mask.sum(1)), _numpy(transitions), _numpy(start),
                       _numpy(end), k, scores, tags)
    return torch.from_numpy(scores), torch.from_numpy(tags)
