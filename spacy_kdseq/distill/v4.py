"""spaCy v4's on-the-fly distillation loss (one teacher, the student's label space) for
`CRFPipe.get_teacher_student_loss`, built on the same losses as `spacy kdseq distill`.

Registered as ``spacy-kdseq.TeacherStudentLoss.v1`` in ``registry.misc``; the
components look it up by that name, so they never import this package.
"""
from typing import Tuple

import torch
from spacy.util import registry

from ..layers import CRFScores, gradients_to_scores, scores_to_torch
from .losses import KDLoss
from .registry import builtin_loss
from .teacher import TeacherCRF


@registry.misc("spacy-kdseq.TeacherStudentLoss.v1")
def make_teacher_student_loss(
    method: str = "posterior", temperature: float = 1.0, topk_k: int = 1, topwk_k: int = 10
):
    """(teacher scores, student scores) -> (mean KD loss over the non-empty docs, d_student)."""
    loss_fn = builtin_loss(method, temperature=temperature, topk_k=topk_k, topwk_k=topwk_k)

    def teacher_student_loss(
        teacher_scores: CRFScores, student_scores: CRFScores
    ) -> Tuple[float, CRFScores]:
        return _mean_loss(loss_fn, teacher_scores, student_scores)

    return teacher_student_loss


def _mean_loss(
    loss_fn: KDLoss, teacher_scores: CRFScores, student_scores: CRFScores
) -> Tuple[float, CRFScores]:
    student = scores_to_torch(student_scores, requires_grad=True)
    t = scores_to_torch(teacher_scores)
    dtype = student.emissions.dtype
    teacher = TeacherCRF(
        t.emissions.to(dtype), student.mask, t.transitions.to(dtype)[None],
        t.start.to(dtype)[None], t.end.to(dtype)[None],
        torch.zeros(student.mask.shape[0], dtype=torch.long, device=student.mask.device),
    )
    per_doc = loss_fn(student, teacher)
    n_docs = student.mask[:, 0].sum().clamp(min=1) if student.mask.shape[1] else 1
    loss = per_doc.sum() / n_docs
    if loss.requires_grad:
        loss.backward()
    return float(loss.item()), gradients_to_scores(student)
