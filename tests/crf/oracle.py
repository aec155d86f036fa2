"""Brute-force oracles for the CRF: enumerate every label sequence with itertools.product.

Shared by all CRF tests. Everything is computed in Python floats (float64) from the same
(emissions, mask, transitions, start, end) convention as ``spacy_kdseq.crf``.
"""
import itertools
import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from spacy_kdseq.crf import allowed_transitions

NEG_INF = float("-inf")

# Label sets small enough to enumerate, one per scheme (L <= 5).
CONSTRAINED_LABELS = {
    "BIO": ["O", "B-X", "I-X", "B-Y", "I-Y"],
    "BILUO": ["O", "B-X", "I-X", "L-X", "U-X"],
    "IOBES": ["O", "B-X", "I-X", "E-X", "S-X"],
}


@dataclass
class Instance:
    """One random batch: the arguments of every CRF function."""

    emissions: Tensor  # (B, T, L)
    mask: Tensor  # (B, T) bool, right-padded
    transitions: Tensor  # (L, L)
    start: Optional[Tensor]  # (L,)
    end: Optional[Tensor]  # (L,)

    @property
    def args(self) -> Tuple[Tensor, Tensor, Tensor]:
        return self.emissions, self.mask, self.transitions

    @property
    def kwargs(self) -> dict:
        return {"start": self.start, "end": self.end}

    @property
    def lengths(self) -> List[int]:
        return self.mask.sum(1).tolist()


def random_instance(
    seed: int,
    B: int,
    T: int,
    L: int,
    *,
    start_end: bool = True,
    scheme: Optional[str] = None,
    dtype: torch.dtype = torch.float64,
    device: str = "cpu",
    lengths: Optional[Sequence[int]] = None,
    scale: float = 1.0,
) -> Instance:
    """Random scores and random lengths in [0, T] (the first row has length T).

    With `scheme`, L is the size of that scheme's label set in ``CONSTRAINED_LABELS`` and
    forbidden moves score -inf.
    """
    gen = torch.Generator().manual_seed(seed)
    if scheme is not None:
        L = len(CONSTRAINED_LABELS[scheme])
    emissions = torch.randn(B, T, L, generator=gen, dtype=torch.float64) * scale
    transitions = torch.randn(L, L, generator=gen, dtype=torch.float64) * scale
    start = torch.randn(L, generator=gen, dtype=torch.float64) * scale if start_end else None
    end = torch.randn(L, generator=gen, dtype=torch.float64) * scale if start_end else None
    if lengths is None:
        lengths = torch.randint(0, T + 1, (B,), generator=gen).tolist()
        if B:
            lengths[0] = T
    mask = torch.arange(T)[None, :] < torch.tensor(list(lengths), dtype=torch.long)[:, None]
    # Padding holds garbage on purpose: no function may read it.
    emissions = torch.where(mask[..., None], emissions, torch.full_like(emissions, 1e3))
    if scheme is not None:
        allowed = allowed_transitions(CONSTRAINED_LABELS[scheme], scheme)
        transitions = transitions.masked_fill(~allowed.transitions, NEG_INF)
        start = (start if start is not None else torch.zeros(L, dtype=torch.float64))
        end = (end if end is not None else torch.zeros(L, dtype=torch.float64))
        start = start.masked_fill(~allowed.start, NEG_INF)
        end = end.masked_fill(~allowed.end, NEG_INF)

    def cast(x: Optional[Tensor]) -> Optional[Tensor]:
        return None if x is None else x.to(dtype=dtype, device=device)

    return Instance(
        cast(emissions), mask.to(device), cast(transitions), cast(start), cast(end)
    )


def path_scores(inst: Instance, b: int) -> List[Tuple[float, Tuple[int, ...]]]:
    """Every (score, path) of sequence `b`, best first (ties keep enumeration order)."""
    n = inst.lengths[b]
    L = inst.emissions.shape[2]
    em = inst.emissions[b].double().tolist()
    trans = inst.transitions.double().tolist()
    start = inst.start.double().tolist() if inst.start is not None else [0.0] * L
    end = inst.end.double().tolist() if inst.end is not None else [0.0] * L
    scored = []
    for path in itertools.product(range(L), repeat=n):
        if n == 0:
            scored.append((0.0, path))
            continue
        s = start[path[0]] + end[path[-1]] + sum(em[t][y] for t, y in enumerate(path))
        s += sum(trans[a][c] for a, c in zip(path, path[1:]))
        scored.append((s, path))
    scored.sort(key=lambda item: -item[0])
    return scored


def _logsumexp(values: Sequence[float]) -> float:
    top = max(values)
    if top == NEG_INF:
        return NEG_INF
    return top + math.log(sum(math.exp(v - top) for v in values))


@dataclass
class Brute:
    """Exact answers for one `Instance`, by enumeration."""

    log_z: Tensor  # (B,)
    marginals: Tensor  # (B, T, L)
    edge_marginals: Tensor  # (B, T-1, L, L)
    ranked: List[List[Tuple[float, Tuple[int, ...]]]]  # finite-score paths, best first


def brute_force(inst: Instance) -> Brute:
    B, T, L = inst.emissions.shape
    log_z = torch.zeros(B, dtype=torch.float64)
    node = torch.zeros(B, T, L, dtype=torch.float64)
    edge = torch.zeros(B, max(T - 1, 0), L, L, dtype=torch.float64)
    ranked = []
    for b in range(B):
        scored = path_scores(inst, b)
        z = _logsumexp([s for s, _ in scored])
        log_z[b] = z
        for s, path in scored:
            if s == NEG_INF:
                continue
            p = math.exp(s - z)
            for t, y in enumerate(path):
                node[b, t, y] += p
            for t, (y, y_next) in enumerate(zip(path, path[1:])):
                edge[b, t, y, y_next] += p
        ranked.append([(s, path) for s, path in scored if s > NEG_INF])
    return Brute(log_z, node, edge, ranked)


def padded_tags(paths: Sequence[Tuple[int, ...]], T: int) -> Tensor:
    """(len(paths), T) long tensor of `paths`, -1 after each path's end."""
    out = torch.full((len(paths), T), -1, dtype=torch.long)
    for i, path in enumerate(paths):
        out[i, : len(path)] = torch.tensor(path, dtype=torch.long)
    return out
