"""Constrained Viterbi decoding of a batch of ``CRFScores``: packed on CPU, bucketed by
length elsewhere."""
from typing import List, Optional, Sequence, Tuple

import numpy
import torch
from thinc.api import get_current_ops
from thinc.types import Floats1d, Floats2d, Ints1d

from .. import crf
from ..layers import CRFScores, scores_to_torch
from .threads import single_cpu_thread

# A bucket is closed once padding would exceed its real tokens (sorted lengths keep
# this rare) or its padded size reaches this many tokens, which bounds memory: a
# 5,000-token doc is decoded on its own instead of padding 1,000 short docs to it.
MAX_BUCKET_TOKENS = 32768


def viterbi_tags(
    scores: CRFScores, allowed: Optional[Tuple[Floats2d, Floats2d, Floats2d]] = None
) -> List[Ints1d]:
    """Best tag sequence (label indices) of every doc, in input order.

    allowed: boolean (transitions, start, end) masks; forbidden moves score -inf, so
    the output never contains them (the training scores hold a finite penalty only).
    """
    transitions, start, end = scores.transitions, scores.start, scores.end
    if allowed is not None:
        xp = get_current_ops().xp
        allowed_trans, allowed_start, allowed_end = allowed
        transitions = xp.where(allowed_trans, transitions, -numpy.inf).astype(transitions.dtype)
        start = xp.where(allowed_start, start, -numpy.inf).astype(start.dtype)
        end = xp.where(allowed_end, end, -numpy.inf).astype(end.dtype)
    lengths = [em.shape[0] for em in scores.emissions]
    if isinstance(transitions, numpy.ndarray) and crf.compiled_available():
        return _viterbi_packed(scores.emissions, lengths, transitions, start, end)
    guesses: List[Ints1d] = [numpy.zeros((0,), dtype="int64") for _ in lengths]
    with single_cpu_thread():
        for bucket in length_buckets(lengths):
            batch = CRFScores([scores.emissions[i] for i in bucket], transitions, start, end)
            padded = scores_to_torch(batch)
            _, tags = crf.viterbi(
                padded.emissions, padded.mask, padded.transitions, padded.start, padded.end
            )
            tags_np = tags.cpu().numpy()
            for row, i in enumerate(bucket):
                guesses[i] = tags_np[row, : lengths[i]]
    return guesses


def _viterbi_packed(
    emissions: List[Floats2d], lengths: List[int], transitions: Floats2d, start: Floats1d,
    end: Floats1d,
) -> List[Ints1d]:
    """CPU decoding by the compiled kernel, straight from the docs' scores laid end to
    end: no padding, no buckets (the kernel decodes one sequence at a time)."""
    if not lengths:
        return []
    _, tags = crf.viterbi_packed(
        torch.from_numpy(numpy.concatenate(emissions)), torch.tensor(lengths),
        *(torch.from_numpy(numpy.ascontiguousarray(x)) for x in (transitions, start, end)),
    )
    flat = tags.numpy()
    starts = numpy.cumsum([0] + lengths[:-1]).tolist()
    return [flat[first:first + n] for first, n in zip(starts, lengths)]


def length_buckets(lengths: Sequence[int]) -> List[List[int]]:
    """Group doc indices of similar length (empty docs are left out: nothing to decode)."""
    order = sorted((i for i, n in enumerate(lengths) if n > 0), key=lambda i: lengths[i])
    buckets: List[List[int]] = []
    current: List[int] = []
    real = 0
    for i in order:
        n = lengths[i]
        padded = (len(current) + 1) * n
        if current and (padded - (real + n) > real + n or padded > MAX_BUCKET_TOKENS):
            buckets.append(current)
            current, real = [], 0
        current.append(i)
        real += n
    if current:
        buckets.append(current)
    return buckets
