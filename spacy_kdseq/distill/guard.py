"""``spacy-kdseq.RequireDistillation.v1``: a student config refuses `spacy train`.

A student config's `[distillation]` block means nothing to `spacy train`, which would
quietly train the multilingual baseline. This `[training.before_update]` callback stops
that at the first update, naming `spacy kdseq distill`; under `distill` the KD objective
is hooked before training starts, so it passes.
"""
from typing import Callable, Dict

from spacy.language import Language
from spacy.util import registry

from ..errors import Errors, KDSeqError


@registry.callbacks("spacy-kdseq.RequireDistillation.v1")
def make_require_distillation(component: str, method: str) -> Callable[[Language, Dict], None]:
    """component: the student's CRF component; method: `[distillation] method`."""

    def before_update(nlp: Language, info: Dict) -> None:
        hooked = getattr(nlp.get_pipe(component), "distillation_loss", None) is not None
        if method != "none" and not hooked:
            raise KDSeqError(Errors.E325.format(method=method, name=component))

    return before_update
