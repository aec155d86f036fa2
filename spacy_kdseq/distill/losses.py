"""The distillation losses, one function per `[distillation] method` (pure torch).

Every loss takes the student's potentials (a ``crf.TorchCRF`` whose tensors require
grad) and the teachers' (a ``TeacherCRF`` in the same label space, same mask), plus its
own settings as keyword arguments, and returns one loss per sequence, shape (B,), summed
over the sequence's tokens like the CRF NLL, so that λ·L_KD + (1 − λ)·L_NLL mixes
quantities of the same scale. Teacher targets are constants (computed under
``no_grad``); gradients flow into the student only. `registry` turns them into the
configurable `KDLoss` callables.
"""
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import crf
from ..crf import TorchCRF
from .teacher import TeacherCRF, teacher_kbest, teacher_log_marginals, teacher_posteriors

# (student, teacher) -> (B,) loss per sequence, differentiable w.r.t. the student.
KDLoss = Callable[[TorchCRF, TeacherCRF], Tensor]

# A teacher path scoring this far below the teacher's best has probability < e^-1000
# relative to it: it uses a forbidden move or a label the teacher lacks (both scored
# -1e4), so it is not one of the teacher's k best *possible* paths and is dropped.
_IMPOSSIBLE_MARGIN = 1e3


def none_loss(student: TorchCRF, teacher: TeacherCRF) -> Tensor:
    """The multilingual baseline: no knowledge, L_KD = 0."""
    return student.emissions.new_zeros(student.emissions.shape[0])


def emission_loss(student: TorchCRF, teacher: TeacherCRF, *, temperature: float) -> Tensor:
    """Σ_i CE(softmax(e_t,i / T), softmax(e_s,i / T)) · T², token-level on emission scores."""
    target = F.softmax(teacher.emissions / temperature, dim=-1)
    log_q = F.log_softmax(student.emissions / temperature, dim=-1)
    return _token_ce(target, log_q, student.mask) * temperature**2


def posterior_loss(student: TorchCRF, teacher: TeacherCRF, *, temperature: float) -> Tensor:
    """Σ_i CE(q_t,i, q_s,i) · T², both log-posteriors divided by T and renormalised."""
    log_q_s, _ = crf.log_marginals(*student)
    return _posterior_ce(log_q_s, teacher, student.mask, temperature)


def topk_loss(student: TorchCRF, teacher: TeacherCRF, *, k: int) -> Tensor:
    """−(1/k) Σ_{y ∈ top-k(p_t)} log p_s(y); k is the number of possible paths if fewer."""
    scores, tags = teacher_kbest(teacher, k)
    valid = _possible(scores)
    weights = valid / valid.sum(1, keepdim=True).clamp(min=1)
    return _weighted_path_nll(student, tags, weights, valid)


def topwk_loss(student: TorchCRF, teacher: TeacherCRF, *, k: int) -> Tensor:
    """−Σ_{y ∈ top-k} p'_t(y) log p_s(y), p'_t = p_t renormalised over the k paths."""
    return _topwk(student, teacher, k)


def posterior_topwk_loss(
    student: TorchCRF, teacher: TeacherCRF, *, k: int, temperature: float
) -> Tensor:
    """posterior + topwk, summed as in the reference implementation.

    Both parts share one student forward pass: the log Z of the posteriors' forward
    recursion is the normaliser of the top-WK path probabilities.
    """
    log_q_s, log_z = crf.log_marginals(*student)
    posterior = _posterior_ce(log_q_s, teacher, student.mask, temperature)
    return posterior + _topwk(student, teacher, k, log_z)


def structure_loss(student: TorchCRF, teacher: TeacherCRF) -> Tensor:
    """Exact −Σ_y p_t(y) log p_s(y) = log Z_s − E_{p_t}[score_s(y)].

    The expectation is linear in the student's potentials, so it needs only the
    teacher's node (B, T, L) and edge (B, T-1, L, L) posteriors: no enumeration.
    Computed in float64: the loss is a small difference of two large sums, and float32
    posteriors (off by ~1e-4 on peaked teachers) made it negative on converged students.
    """
    s = TorchCRF(*(t.double() if t.is_floating_point() else t for t in student))
    node, edge = teacher_posteriors(teacher._replace(
        emissions=teacher.emissions.double(), transitions=teacher.transitions.double(),
        start=teacher.start.double(), end=teacher.end.double(),
    ))
    log_z = crf.log_partition(*s)
    expected = (node * s.emissions).sum(dim=(1, 2))
    if edge.shape[1] > 0:
        # shape: (B, L, L) expected count of each move, then weighted by its score
        expected = expected + (edge.sum(1) * s.transitions).sum(dim=(1, 2))
    if node.shape[1] > 0:
        last = (s.mask.sum(1) - 1).clamp(min=0)
        # shape: (B, L) posteriors of the first and the last real token (0 if empty)
        final = node.gather(1, last[:, None, None].expand(-1, 1, node.shape[2])).squeeze(1)
        expected = expected + node[:, 0] @ s.start + final @ s.end
    return (log_z - expected).to(student.emissions.dtype)


def _posterior_ce(log_q_s: Tensor, teacher: TeacherCRF, mask: Tensor, temperature: float) -> Tensor:
    target = F.softmax(teacher_log_marginals(teacher) / temperature, dim=-1)
    log_q = F.log_softmax(log_q_s / temperature, dim=-1)
    return _token_ce(target, log_q, mask) * temperature**2


def _topwk(student: TorchCRF, teacher: TeacherCRF, k: int, log_z: Optional[Tensor] = None) -> Tensor:
    scores, tags = teacher_kbest(teacher, k)
    valid = _possible(scores)
    # softmax over the k scores is p_t(y) / Σ_top-k p_t: log Z_t cancels.
    weights = F.softmax(scores.masked_fill(~valid, float("-inf")), dim=1)
    return _weighted_path_nll(student, tags, weights, valid, log_z)


def _token_ce(target: Tensor, log_q: Tensor, mask: Tensor) -> Tensor:
    """(B,) Σ over unmasked tokens of −Σ_j target_j log q_j."""
    ce = -(target * log_q).sum(-1)
    return torch.where(mask, ce, torch.zeros_like(ce)).sum(1)


def _possible(scores: Tensor) -> Tensor:
    """(B, k) bool: the k-best slots holding a path the teacher deems possible."""
    best = scores[:, :1]
    return torch.isfinite(scores) & (scores > best - _IMPOSSIBLE_MARGIN)


def _weighted_path_nll(
    student: TorchCRF, tags: Tensor, weights: Tensor, valid: Tensor, log_z: Optional[Tensor] = None
) -> Tensor:
    """(B,) −Σ_r weights[b, r] · log p_s(tags[b, r]); k paths batched as (B·k, T)."""
    s = student
    B, k, T = tags.shape
    L = s.emissions.shape[2]
    if log_z is None:
        log_z = crf.log_partition(*s)
    # Dropped slots and padding hold -1 tags; any label will do, their weight is 0.
    safe = tags.clamp(min=0)
    flat_mask = s.mask.unsqueeze(1).expand(B, k, T).reshape(B * k, T)
    flat_em = s.emissions.unsqueeze(1).expand(B, k, T, L).reshape(B * k, T, L)
    flat_tags = safe.reshape(B * k, T)
    scores = crf.path_score(flat_em, flat_mask, s.transitions, flat_tags, s.start, s.end)
    log_p = scores.view(B, k) - log_z.unsqueeze(1)
    return -(weights * torch.where(valid, log_p, torch.zeros_like(log_p))).sum(1)
