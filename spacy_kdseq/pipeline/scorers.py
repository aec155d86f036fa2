"""Scorers registered through the ``spacy_scorers`` entry point."""
from typing import Any, Callable, Dict, Iterable

from spacy.scorer import Scorer
from spacy.training import Example


def crf_tagger_score(
    examples: Iterable[Example], *, attr: str = "pos", **kwargs: Any
) -> Dict[str, Any]:
    """Token accuracy of `attr` ("pos" gives `pos_acc`, "tag" gives `tag_acc`).

    `attr` comes from the component's cfg, which `Pipe.score` passes as keyword arguments.
    """
    return Scorer.score_token_attr(examples, attr, **kwargs)


def make_crf_tagger_scorer() -> Callable[..., Dict[str, Any]]:
    """``spacy-kdseq.TaggerScorer.v1``."""
    return crf_tagger_score
