"""spaCy v4's on-the-fly distillation (one teacher) for `CRFPipe.distill` and
`CRFPipe.get_teacher_student_loss`, built on the same loss functions as `spacy kdseq distill`."""
from typing import Dict, Iterable, Optional, Tuple

import torch
from spacy.training import Example, validate_examples
from thinc.api import Optimizer, set_dropout_rate

from ..layers import CRFScores, gradients_to_scores, scores_to_torch
from .losses import LOSSES
from .teacher import TeacherCRF

DEFAULT_METHOD = "posterior"


def teacher_student_loss(
    teacher_scores: CRFScores, student_scores: CRFScores, *, method: str = DEFAULT_METHOD,
    k: int = 10, temperature: float = 1.0,
) -> Tuple[float, CRFScores]:
    """Mean KD loss over the non-empty docs and its gradient w.r.t. the student's scores.

    Teacher and student share one label space (v4's contract for distillation).
    """
    student = scores_to_torch(student_scores, requires_grad=True)
    t = scores_to_torch(teacher_scores)
    dtype = student.emissions.dtype
    teacher = TeacherCRF(
        t.emissions.to(dtype), student.mask, t.transitions.to(dtype)[None],
        t.start.to(dtype)[None], t.end.to(dtype)[None],
        torch.zeros(student.mask.shape[0], dtype=torch.long, device=student.mask.device),
    )
    per_doc = LOSSES[method](student, teacher, k=k, temperature=temperature)
    n_docs = student.mask[:, 0].sum().clamp(min=1) if student.mask.shape[1] else 1
    loss = per_doc.sum() / n_docs
    if loss.requires_grad:
        loss.backward()
    return float(loss.item()), gradients_to_scores(student)


def distill_step(
    student_pipe, teacher_pipe, examples: Iterable[Example], *, drop: float = 0.0,
    sgd: Optional[Optimizer] = None, losses: Optional[Dict[str, float]] = None,
) -> Dict[str, float]:
    """One update of `student_pipe` towards `teacher_pipe` on the examples' predicted docs."""
    losses = {} if losses is None else losses
    losses.setdefault(student_pipe.name, 0.0)
    examples = list(examples)
    validate_examples(examples, f"{type(student_pipe).__name__}.distill")
    docs = [eg.predicted for eg in examples]
    if not any(len(doc) for doc in docs):
        return losses
    teacher_scores = teacher_pipe.model.predict(docs)
    set_dropout_rate(student_pipe.model, drop)
    student_scores, backprop = student_pipe.model.begin_update(docs)
    loss, d_scores = student_pipe.get_teacher_student_loss(teacher_scores, student_scores)
    backprop(d_scores)
    if sgd not in (None, False):
        student_pipe.finish_update(sgd)
    losses[student_pipe.name] += loss
    return losses
