"""The student's training objective λ·L_KD + (1 − λ)·L_NLL, as a `distillation_loss` hook.

`CRFPipe.update` calls the hook instead of `get_loss`; the `KDWeightSchedule.v1`
callback (run by spaCy's loop before every update) tells it the epoch, from which λ
follows. Docs whose language has no teacher get the plain NLL at full weight; a doc with
no language at all is an error (its corpus records one: the reader lost it).
"""
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from spacy.language import Language
from spacy.training import Example
from spacy.util import registry

from ..errors import Errors, KDSeqError
from ..lang import get_doc_lang
from ..layers import CRFScores, gradients_to_scores, scores_to_torch
from .registry import build_loss
from .settings import DistillSettings
from .store import KnowledgeStore


class DistillationObjective:
    """Callable hook `(pipe, examples, scores) -> (loss, d_scores)` for one student pipe."""

    def __init__(self, store: KnowledgeStore, settings: DistillSettings) -> None:
        self.store = store
        self.settings = settings
        self.loss_fn = build_loss(settings)
        self.kd_weight = settings.kd_weight_at(0)

    def set_epoch(self, epoch: int) -> None:
        """Anneal λ: called by the `KDWeightSchedule.v1` callback before each update."""
        self.kd_weight = self.settings.kd_weight_at(epoch)

    def __call__(self, pipe, examples: List[Example], scores: CRFScores) -> Tuple[float, CRFScores]:
        lam = self.kd_weight
        normalization = pipe.cfg["loss_normalization"]
        langs = [get_doc_lang(eg.reference) for eg in examples]
        if None in langs:
            index = langs.index(None)
            text = examples[index].reference.text[:60].strip()
            raise KDSeqError(Errors.E329.format(index=index, text=text))
        with_teacher = [i for i, lang in enumerate(langs) if self.store.has_teacher(lang)]
        taught = set(with_teacher)
        gold_only = [i for i in range(len(examples)) if i not in taught]
        total = _count(scores.emissions, range(len(examples)), normalization)
        d_scores = _zeros_like(pipe, scores)
        loss = 0.0
        if with_teacher and lam > 0:
            sub = _subset(scores, with_teacher)
            student = scores_to_torch(sub, requires_grad=True)
            teacher = self.store.teacher_crf(
                [examples[i] for i in with_teacher], student.mask, student.emissions.dtype
            )
            per_doc = self.loss_fn(student, teacher)
            kd = per_doc.sum() * (lam / total)
            kd.backward()
            loss += float(kd.item())
            _accumulate(d_scores, gradients_to_scores(student), with_teacher, 1.0)
        nll_parts = [(with_teacher, 1.0 - lam), (gold_only, 1.0)]
        for rows, weight in nll_parts:
            if not rows or weight <= 0:
                continue
            # get_loss normalises over its own rows; rescale to the whole batch's count.
            scale = weight * _count(scores.emissions, rows, normalization) / total
            nll, d_nll = pipe.get_loss([examples[i] for i in rows], _subset(scores, rows))
            loss += nll * scale
            _accumulate(d_scores, d_nll, rows, scale)
        return loss, d_scores


def _count(emissions: Sequence, rows: Sequence[int], normalization: str) -> float:
    """The NLL's normaliser over `rows`: non-empty docs ("sentence") or tokens ("token")."""
    if normalization == "token":
        return max(1.0, float(sum(emissions[i].shape[0] for i in rows)))
    return max(1.0, float(sum(1 for i in rows if emissions[i].shape[0])))


def _subset(scores: CRFScores, rows: Sequence[int]) -> CRFScores:
    emissions = [scores.emissions[i] for i in rows]
    return CRFScores(emissions, scores.transitions, scores.start, scores.end)


def _zeros_like(pipe, scores: CRFScores) -> CRFScores:
    ops = pipe.model.ops
    return CRFScores(
        [ops.alloc2f(*em.shape) for em in scores.emissions],
        ops.alloc2f(*scores.transitions.shape),
        ops.alloc1f(scores.start.shape[0]),
        ops.alloc1f(scores.end.shape[0]),
    )


def _accumulate(total: CRFScores, part: CRFScores, rows: Sequence[int], scale: float) -> None:
    """total += scale · part, where part's docs are `total`'s docs `rows`."""
    for em, i in zip(part.emissions, rows):
        total.emissions[i] += scale * em
    total.transitions += scale * part.transitions
    total.start += scale * part.start
    total.end += scale * part.end


@registry.callbacks("spacy-kdseq.KDWeightSchedule.v1")
def make_kd_weight_schedule(
    component: str, inner: Optional[Callable[[Language, Dict], None]] = None
) -> Callable[[Language, Dict], None]:
    """A `[training.before_update]` callback: pass the epoch to the student's KD hook.

    component: the student's CRF component. inner: a callback the config had before,
    still run after this one.
    """

    def before_update(nlp: Language, info: Dict) -> None:
        hook = getattr(nlp.get_pipe(component), "distillation_loss", None)
        if isinstance(hook, DistillationObjective):
            hook.set_epoch(info["epoch"])
        if inner is not None:
            inner(nlp, info)

    return before_update
