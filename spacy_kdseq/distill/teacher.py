"""Teacher potentials for a batch and the targets derived from them (pure torch).

A batch may mix docs of several languages, each scored by its own teacher, so the
teachers' transition, start and end scores are stacked (G, ...) and every doc points at
its teacher with an index. Targets (k-best paths, node and edge posteriors) are computed
under ``no_grad`` once per teacher group: they are constants of the student's loss.
"""
from typing import Callable, NamedTuple, Tuple

import torch
from torch import Tensor

from .. import crf


class TeacherCRF(NamedTuple):
    """Padded teacher potentials, already mapped into the student's label space."""

    emissions: Tensor  # (B, T, L)
    mask: Tensor  # (B, T) bool, right-padded, the same as the student's
    transitions: Tensor  # (G, L, L), one per teacher
    start: Tensor  # (G, L)
    end: Tensor  # (G, L)
    teacher: Tensor  # (B,) long, index of each doc's teacher in [0, G)


def _per_teacher(teacher: TeacherCRF, fn: Callable[..., Tuple[Tensor, ...]]) -> Tuple[Tensor, ...]:
    """Run `fn(emissions, mask, transitions, start, end)` once per teacher; reassemble by doc."""
    assert teacher.transitions.shape[0] >= 1, "a TeacherCRF needs at least one teacher"
    if teacher.emissions.shape[0] == 0:
        return fn(teacher.emissions, teacher.mask,
                  teacher.transitions[0], teacher.start[0], teacher.end[0])
    outputs = None
    for g in torch.unique(teacher.teacher).tolist():
        rows = (teacher.teacher == g).nonzero().squeeze(1)
        result = fn(
            teacher.emissions[rows], teacher.mask[rows],
            teacher.transitions[g], teacher.start[g], teacher.end[g],
        )
        if outputs is None:
            B = teacher.emissions.shape[0]
            outputs = tuple(r.new_zeros((B,) + tuple(r.shape[1:])) for r in result)
        for out, r in zip(outputs, result):
            out[rows] = r
    return outputs


@torch.no_grad()
def teacher_log_marginals(teacher: TeacherCRF) -> Tensor:
    """(B, T, L) log node posteriors of each doc under its own teacher."""
    return _per_teacher(teacher, lambda *a: crf.log_marginals(*a)[:1])[0]


@torch.no_grad()
def teacher_posteriors(teacher: TeacherCRF) -> Tuple[Tensor, Tensor]:
    """Node (B, T, L) and edge (B, T-1, L, L) posteriors of each doc under its teacher."""
    return _per_teacher(teacher, crf.posteriors)


@torch.no_grad()
def teacher_kbest(teacher: TeacherCRF, k: int) -> Tuple[Tensor, Tensor]:
    """The k best paths of each doc under its teacher: scores (B, k), tags (B, k, T)."""
    return _per_teacher(teacher, lambda e, m, tr, s, en: crf.kbest(e, m, tr, k, s, en))
