"""Compiled CPU kernels for Viterbi and k-best decoding (internal; numba, the `fast` extra).

The torch kernels in ``decode.py`` are bound by per-op overhead on the CPU (~8 small ops
per time step) and, for k-best, by a ``topk`` over the L·k candidates of every (sequence,
label) row at every step. The kernels in ``_numba.py`` loop over one sequence at a time in
compiled code instead, on one thread:

- Viterbi: a backward max-product pass (the best score from every (step, label) to the
  end), then the best path read forwards from the start.
- log Z and its gradient (the posteriors): the scaled exp-space forward and backward
  recursions of ``_scaled``, in float64, with the pairwise posteriors summed into the
  transitions' gradient as they are produced.
- k-best: Lawler's partitioning on top of that pass. A set of paths "this prefix, then
  any but the labels already taken at the next step, then anything" has its best path in
  O(L), because the backward scores are exact completions; the sets are taken best
  first, and each taken path splits the rest of its set into one set per later step.
  Only as many sets are kept as paths are still to be taken. The k best paths cost the
  pass plus O(k·T·(L + k)) per sequence, instead of a k-wide pass over every node.

Scores are summed in the inputs' dtype, so float32 and float64 give what the torch
kernels give up to rounding; the paths are the same.
"""
from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from ..errors import Errors, KDSeqError
from ._checks import check_packed_values, check_values


def available() -> bool:
    """Whether numba is installed, so the compiled kernels can run."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def preload() -> bool:
    """Import the compiled kernels now, if numba is installed; return whether it is.

    They are otherwise imported on first use: a long run calls this when it starts, so
    that code changed on disk while it trains is never half-imported (cf. ``units``).
    """
    if not available():
        return False
    from . import _numba  # noqa: F401

    return True


def use(func: str, compiled: Optional[bool], emissions: Tensor) -> bool:
    """Whether `func` runs the compiled CPU kernel: `compiled` None picks it for float32 or
    float64 CPU inputs with labels when numba is installed; False never; True always, or
    an error."""
    if compiled is False:
        return False
    if (emissions.device.type != "cpu" or emissions.shape[2] == 0
            or emissions.dtype not in (torch.float32, torch.float64)):
        if compiled:
            raise KDSeqError(Errors.E013.format(
                func=func, need="float32 or float64 CPU inputs with at least one label (got "
                f"{emissions.dtype} on {emissions.device}, L={emissions.shape[2]})",
                hint="Pass compiled=None to pick the kernel by device and dtype."))
        return False
    if not available():
        if compiled:
            raise KDSeqError(Errors.E013.format(
                func=func, need="numba", hint="Install it with `pip install spacy-kdseq[fast]`."))
        return False
    return True


def _numpy(tensor: Tensor) -> np.ndarray:
    return tensor.detach().contiguous().numpy()


def _checked_arrays(
    func: str, emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """numpy views of inputs that passed ``check_inputs(values=False)`` (emissions,
    transitions, start, end) and the (B,) lengths, after the checks of ``check_values`` ran
    compiled: as torch ops those are ~10 small ops, whose cost on cold caches (~0.3 ms) is
    more than a whole Viterbi pass at B = 32, T = 20. Only when the compiled checks fail do
    the torch ones run, to raise the error that names the bad value."""
    from . import _numba

    em, trans, first, last = (_numpy(x) for x in (emissions, transitions, start, end))
    lengths = np.empty(em.shape[0], dtype=np.int64)
    if not _numba.checked_lengths(em, _numpy(mask), trans, first, last, lengths):
        check_values(func, emissions, mask, transitions, start, end)
        raise AssertionError(f"{func}: the compiled input checks failed where the torch "
                             "checks passed; please report this as a bug.")
    return em, trans, first, last, lengths


def viterbi(
    emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> Tuple[Tensor, Tensor]:
    """``decode.viterbi`` on CPU inputs that passed ``check_inputs(values=False)``:
    (scores (B,), tags (B, T))."""
    from . import _numba

    em, trans, first, last, lengths = _checked_arrays(
        "viterbi", emissions, mask, transitions, start, end)
    B, T, _ = em.shape
    scores = np.zeros(B, dtype=em.dtype)
    tags = np.full((B, T), -1, dtype=np.int64)
    _numba.viterbi_batch(em, lengths, trans, first, last, scores, tags)
    return torch.from_numpy(scores), torch.from_numpy(tags)


def viterbi_packed(
    emissions: Tensor, lengths: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> Tuple[Tensor, Tensor]:
    """``decode.viterbi_packed`` on CPU inputs that passed ``check_packed``: (scores (B,),
    tags (N,))."""
    from . import _numba

    em, trans, first, last = (_numpy(x) for x in (emissions, transitions, start, end))
    if not _numba.finite_packed(em, trans, first, last):
        check_packed_values("viterbi_packed", emissions, transitions, start, end)
        raise AssertionError("viterbi_packed: the compiled input checks failed where the "
                             "torch checks passed; please report this as a bug.")
    n_seqs = _numpy(lengths).astype(np.int64)
    scores = np.zeros(len(n_seqs), dtype=em.dtype)
    tags = np.empty(em.shape[0], dtype=np.int64)
    _numba.viterbi_packed(em, n_seqs, trans, first, last, scores, tags)
    return torch.from_numpy(scores), torch.from_numpy(tags)


def kbest(
    emissions: Tensor, mask: Tensor, transitions: Tensor, k: int, start: Tensor, end: Tensor
) -> Tuple[Tensor, Tensor]:
    """``decode.kbest`` on CPU inputs that passed ``check_inputs(values=False)``:
    (scores (B, k), tags (B, k, T))."""
    from . import _numba

    em, trans, first, last, lengths = _checked_arrays(
        "kbest", emissions, mask, transitions, start, end)
    B, T, _ = em.shape
    scores = np.full((B, k), -np.inf, dtype=em.dtype)
    tags = np.full((B, k, T), -1, dtype=np.int64)
    _numba.kbest_batch(em, lengths, trans, first, last, k, scores, tags)
    return torch.from_numpy(scores), torch.from_numpy(tags)


def _exp_shifted(scores: np.ndarray) -> Tuple[np.ndarray, float]:
    """(exp(scores - max), max), with max 0 where no score is finite."""
    top = float(scores.max()) if scores.size else 0.0
    top = top if np.isfinite(top) else 0.0
    return np.exp(scores - top), top


class LogPartition(torch.autograd.Function):
    """``partition._LogPartition`` on CPU inputs, with both passes compiled."""

    @staticmethod
    def forward(ctx, emissions, mask, transitions, start, end):  # type: ignore[override]
        from . import _numba

        em = _numpy(emissions.double())
        B, T, L = em.shape
        lengths = _numpy(mask.sum(1))
        trans_exp, trans_max = _exp_shifted(_numpy(transitions.double()))
        end_exp, end_max = _exp_shifted(_numpy(end.double()))
        alphas = np.zeros((B, T, L))
        em_exp = np.ones((B, T, L))
        log_z = np.empty(B)
        _numba.log_z_forward(em, lengths, trans_exp, trans_max, _numpy(start.double()),
                             end_exp, end_max, alphas, em_exp, log_z)
        ctx.saved = (lengths, alphas, em_exp, trans_exp, end_exp)
        return torch.from_numpy(log_z).to(emissions.dtype)

    @staticmethod
    def backward(ctx, grad_log_z):  # type: ignore[override]
        from . import _numba

        lengths, alphas, em_exp, trans_exp, end_exp = ctx.saved
        B, T, L = alphas.shape
        d_em = np.zeros((B, T, L))
        pair = np.zeros((L, L))
        d_start = np.zeros(L)
        d_end = np.zeros(L)
        _numba.log_z_backward(lengths, alphas, em_exp, trans_exp, end_exp,
                              _numpy(grad_log_z.double()), d_em, pair, d_start, d_end)
        dtype = grad_log_z.dtype
        grads = [torch.from_numpy(x).to(dtype) for x in (d_em, trans_exp * pair, d_start, d_end)]
        return grads[0], None, grads[1], grads[2], grads[3]
