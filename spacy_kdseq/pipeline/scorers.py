"""Scorers registered through the ``spacy_scorers`` entry point.

The per-language scorers add, beside spaCy's pooled score over the whole dev set, the
score of each corpus language (``lang.get_doc_lang``) and their mean. A multilingual dev
set is dominated by its largest treebanks, so the pooled score picks the model-best and
triggers patience for them; weighting ``<key>_macro`` in ``[training.score_weights]``
selects on every language equally, as the results tables average them.
"""
from typing import Any, Callable, Dict, Iterable, List

from spacy.scorer import Scorer, get_ner_prf
from spacy.training import Example

from ..lang import get_doc_lang

# The group of dev docs that record no corpus language (reported, never dropped).
NO_LANG = "none"


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


def per_language(
    examples: Iterable[Example], score: Callable[[List[Example]], Dict[str, Any]], key: str
) -> Dict[str, Any]:
    """`score` over all examples, plus ``<key>_per_lang`` ({lang: score}) and ``<key>_macro``
    (their mean; None if no language has a score)."""
    examples = list(examples)
    scores = score(examples)
    groups: Dict[str, List[Example]] = {}
    for example in examples:
        groups.setdefault(get_doc_lang(example.reference, NO_LANG), []).append(example)
    per_lang = {lang: score(group)[key] for lang, group in sorted(groups.items())}
    values = [value for value in per_lang.values() if value is not None]
    scores[f"{key}_per_lang"] = per_lang
    scores[f"{key}_macro"] = sum(values) / len(values) if values else None
    return scores


def make_language_tagger_scorer() -> Callable[..., Dict[str, Any]]:
    """``spacy-kdseq.LanguageTaggerScorer.v1``: `pos_acc` (or `tag_acc`) pooled, per
    language and macro-averaged over languages (``pos_acc_macro``)."""

    def score(examples: Iterable[Example], *, attr: str = "pos", **kwargs: Any) -> Dict[str, Any]:
        return per_language(
            examples, lambda group: crf_tagger_score(group, attr=attr, **kwargs), f"{attr}_acc"
        )

    return score


def make_language_ner_scorer() -> Callable[..., Dict[str, Any]]:
    """``spacy-kdseq.LanguageNERScorer.v1``: spaCy's `ents_p/r/f/per_type` pooled, plus
    `ents_f` per language and macro-averaged over languages (``ents_f_macro``)."""

    def score(examples: Iterable[Example], **kwargs: Any) -> Dict[str, Any]:
        return per_language(examples, lambda group: get_ner_prf(group, **kwargs), "ents_f")

    return score
