"""What a training corpus holds, for the error when it holds no labels for a component.

spaCy's own error (E143, "labels not initialized") names neither the corpus nor what is
wrong with it; the usual causes are a corpus of the other task, or tags in the other
token attribute (UPOS in token.pos_, XPOS in token.tag_) than the tagger's `attr`.
"""
from dataclasses import dataclass
from typing import Iterable

from spacy.training import Example


@dataclass(frozen=True)
class CorpusContents:
    """Counts of the annotation the reference docs of a corpus carry."""

    docs: int
    tokens: int
    entities: int
    upos: int  # tokens with a token.pos_
    tags: int  # tokens with a token.tag_

    @classmethod
    def of(cls, examples: Iterable[Example]) -> "CorpusContents":
        docs = tokens = entities = upos = tags = 0
        for example in examples:
            doc = example.reference
            docs += 1
            tokens += len(doc)
            entities += len(doc.ents)
            upos += sum(1 for token in doc if token.pos_)
            tags += sum(1 for token in doc if token.tag_)
        return cls(docs, tokens, entities, upos, tags)

    def __str__(self) -> str:
        if not self.docs:
            return "no docs at all"
        return (f"{self.docs} docs of {self.tokens} tokens, with {self.entities} entities, "
                f"Universal POS tags (token.pos_) on {self.upos} tokens and fine-grained "
                f"tags (token.tag_) on {self.tags}")

    def fallback_hint(self) -> str:
        """What to do where the corpus suggests no other task or setting."""
        if not self.docs:
            return ("Check paths.train: it should be a .spacy file from `spacy kdseq convert`, "
                    "or a folder of them.")
        return ("Train on a corpus converted with `spacy kdseq convert` from an annotated "
                "CoNLL (entities) or CoNLL-U (POS tags) file.")
