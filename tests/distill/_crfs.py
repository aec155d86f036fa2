"""Tiny random CRFs and a brute-force enumeration oracle for the loss tests."""
import itertools
from typing import Tuple

import torch
from torch import Tensor

from spacy_kdseq.distill.teacher import TeacherCRF
from spacy_kdseq.crf import TorchCRF


def random_student(lengths, L: int, seed: int) -> TorchCRF:
    """float64 student potentials that require grad; right-padded to max(lengths)."""
    g = torch.Generator().manual_seed(seed)
    B, T = len(lengths), max(lengths)
    mask = torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]
    def leaf(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64).requires_grad_()
    return TorchCRF(leaf(B, T, L), mask, leaf(L, L), leaf(L), leaf(L))


def random_teacher(mask: Tensor, L: int, n_teachers: int, seed: int) -> TeacherCRF:
    g = torch.Generator().manual_seed(seed)
    B, T = mask.shape
    def rnd(*shape):
        return 2 * torch.randn(*shape, generator=g, dtype=torch.float64)
    teacher = torch.arange(B) % n_teachers
    return TeacherCRF(rnd(B, T, L), mask, rnd(n_teachers, L, L), rnd(n_teachers, L), rnd(n_teachers, L), teacher)


def all_paths(n: int, L: int) -> Tensor:
    """(L**n, n) every label sequence of length n."""
    return torch.tensor(list(itertools.product(range(L), repeat=n)), dtype=torch.long).view(L**n, n)


def enum_scores(emissions, transitions, start, end, n: int) -> Tuple[Tensor, Tensor]:
    """(paths (P, n), scores (P,)) of one sequence of length n, by enumeration; differentiable."""
    L = emissions.shape[-1]
    paths = all_paths(n, L)
    if n == 0:
        return paths, emissions.new_zeros(1)
    score = emissions[torch.arange(n), paths].sum(1)
    score = score + start[paths[:, 0]] + end[paths[:, -1]]
    if n > 1:
        score = score + transitions[paths[:, :-1], paths[:, 1:]].sum(1)
    return paths, score
