"""Per-language scorers: pooled score, each corpus language's score and their mean."""
from typing import List

import spacy
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import registry

from spacy_kdseq.lang import set_doc_lang


def _pos_example(nlp, lang: str, gold: List[str], pred: List[str]) -> Example:
    words = [f"w{i}" for i in range(len(gold))]
    reference = Doc(nlp.vocab, words=words, pos=gold)
    if lang:
        set_doc_lang(reference, lang)
    return Example(Doc(nlp.vocab, words=words, pos=pred), reference)


def test_tagger_scorer_macro_averages_languages() -> None:
    nlp = spacy.blank("xx")
    examples = [
        # "en": 4 tokens, all right; "ta": 2 tokens, one right; one doc with no language
        _pos_example(nlp, "en", ["NOUN", "VERB", "NOUN", "ADJ"], ["NOUN", "VERB", "NOUN", "ADJ"]),
        _pos_example(nlp, "ta", ["NOUN", "VERB"], ["NOUN", "NOUN"]),
        _pos_example(nlp, "", ["NOUN", "VERB"], ["VERB", "NOUN"]),
    ]
    score = registry.scorers.get("spacy-kdseq.LanguageTaggerScorer.v1")()
    scores = score(examples, attr="pos")
    assert scores["pos_acc"] == 5 / 8  # pooled, as spaCy's own
    assert scores["pos_acc_per_lang"] == {"en": 1.0, "none": 0.0, "ta": 0.5}
    assert abs(scores["pos_acc_macro"] - 0.5) < 1e-9  # (1 + 0.5 + 0) / 3


def test_ner_scorer_macro_averages_languages() -> None:
    nlp = spacy.blank("xx")
    examples = []
    for lang, right in (("es", True), ("nl", False)):
        reference = Doc(nlp.vocab, words=["Ana", "vive", "en", "Madrid"])
        reference.ents = [Span(reference, 0, 1, "PER"), Span(reference, 3, 4, "LOC")]
        set_doc_lang(reference, lang)
        predicted = Doc(nlp.vocab, words=["Ana", "vive", "en", "Madrid"])
        predicted.ents = [Span(predicted, 0, 1, "PER"), Span(predicted, 3, 4, "LOC" if right else "ORG")]
        examples.append(Example(predicted, reference))
    scores = registry.scorers.get("spacy-kdseq.LanguageNERScorer.v1")()(examples)
    assert scores["ents_f_per_lang"] == {"es": 1.0, "nl": 0.5}
    assert abs(scores["ents_f_macro"] - 0.75) < 1e-9
    assert abs(scores["ents_f"] - 0.75) < 1e-9 and "ents_per_type" in scores


def test_training_selects_on_the_macro_score() -> None:
    """`nlp.evaluate` of a crf_tagger with the per-language scorer reports the macro key
    that `[training.score_weights]` can weight."""
    nlp = spacy.blank("xx")
    nlp.add_pipe("crf_tagger", config={"scorer": {"@scorers": "spacy-kdseq.LanguageTaggerScorer.v1"}})
    examples = [
        _pos_example(nlp, "en", ["NOUN", "VERB"], ["NOUN", "VERB"]),
        _pos_example(nlp, "ta", ["NOUN", "ADJ"], ["NOUN", "ADJ"]),
    ]
    nlp.initialize(lambda: examples)
    scores = nlp.evaluate(examples)
    assert set(scores["pos_acc_per_lang"]) == {"en", "ta"}
    assert scores["pos_acc_macro"] is not None
