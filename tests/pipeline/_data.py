"""Tiny training data shared by the component tests."""
from typing import List

from spacy.language import Language
from spacy.training import Example

TRAIN = [
    (
        "John lives in New York City .",
        [(0, 4, "PER"), (14, 27, "LOC")],
        ["PROPN", "VERB", "ADP", "PROPN", "PROPN", "PROPN", "PUNCT"],
    ),
    (
        "Mary works at Google in London .",
        [(0, 4, "PER"), (14, 20, "ORG"), (24, 30, "LOC")],
        ["PROPN", "VERB", "ADP", "PROPN", "ADP", "PROPN", "PUNCT"],
    ),
    (
        "The Red Cross helps people .",
        [(4, 13, "ORG")],
        ["DET", "PROPN", "PROPN", "VERB", "NOUN", "PUNCT"],
    ),
]


def ner_examples(nlp: Language) -> List[Example]:
    return [Example.from_dict(nlp.make_doc(text), {"entities": ents}) for text, ents, _ in TRAIN]


def pos_examples(nlp: Language, attr: str = "pos") -> List[Example]:
    key = "pos" if attr == "pos" else "tags"
    return [Example.from_dict(nlp.make_doc(text), {key: tags}) for text, _, tags in TRAIN]
