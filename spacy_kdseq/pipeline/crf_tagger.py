"""``crf_tagger``: part-of-speech tags (`token.pos_` or `token.tag_`) with a CRF."""
from typing import Callable, Iterable, List, Optional

import numpy
from spacy.attrs import POS, TAG
from spacy.language import Language
from spacy.parts_of_speech import IDS as UPOS_IDS
from spacy.tokens import Doc
from spacy.training import Example
from spacy.vocab import Vocab
from thinc.api import Model
from thinc.types import Ints1d

from ..errors import Errors, KDSeqError
from ..layers import CRFScores
from ..tagsets import UPOS_TAGS
from .corpus_fit import CorpusContents
from .crf_pipe import DEFAULT_CRF_MODEL, CRFPipe
from .gold import token_tag_ids

ATTRS = {"pos": POS, "tag": TAG}


@Language.factory(
    "crf_tagger",
    # Either attribute, depending on the `attr` setting.
    assigns=["token.pos", "token.tag"],
    default_config={
        "model": DEFAULT_CRF_MODEL,
        "attr": "pos",
        "loss_normalization": "sentence",
        "scorer": {"@scorers": "spacy-kdseq.TaggerScorer.v1"},
    },
    # Like spaCy's morphologizer: only the configured attribute is scored, and the
    # training loop weighs the scores that are present.
    default_score_weights={"pos_acc": 0.5, "tag_acc": 0.5},
)
def make_crf_tagger(
    nlp: Language,
    name: str,
    model: Model[List[Doc], CRFScores],
    attr: str,
    loss_normalization: str,
    scorer: Optional[Callable],
) -> "CRFTagger":
    """Create a CRF tagger.

    attr: "pos" sets `token.pos_` (Universal POS tags), "tag" sets `token.tag_`.
    loss_normalization: "sentence" (mean over docs) or "token" (mean over tokens).
    """
    return CRFTagger(
        nlp.vocab, model, name, attr=attr, loss_normalization=loss_normalization,
        scorer=scorer,
    )


class CRFTagger(CRFPipe):
    """Sets `token.pos_` or `token.tag_` (overwriting) by Viterbi decoding of a CRF.

    Labels are the tag values; `tag_names` is the same list.
    """

    def __init__(
        self,
        vocab: Vocab,
        model: Model[List[Doc], CRFScores],
        name: str = "crf_tagger",
        *,
        attr: str = "pos",
        loss_normalization: str = "sentence",
        scorer: Optional[Callable] = None,
    ) -> None:
        if attr not in ATTRS:
            raise KDSeqError(Errors.E103.format(name=name, attr=attr, options=list(ATTRS)))
        super().__init__(
            vocab, model, name, scorer=scorer, loss_normalization=loss_normalization, attr=attr
        )

    @property
    def attr(self) -> str:
        """The token attribute set: "pos" or "tag"."""
        return self.cfg["attr"]

    def _validate_label(self, label: str) -> None:
        if self.attr == "pos" and label not in UPOS_TAGS:
            raise KDSeqError(Errors.E108.format(name=self.name, label=label, tags=list(UPOS_TAGS)))

    def _labels_in_example(self, example: Example) -> Iterable[str]:
        if self.attr == "pos":
            return (token.pos_ for token in example.reference if token.pos_)
        return (token.tag_ for token in example.reference if token.tag_)

    def _no_labels(self, found: CorpusContents) -> str:
        # The other attribute, as `spacy kdseq convert --tag-column` fills it.
        other, column, found_other = (
            ("tag", "xpos", found.tags) if self.attr == "pos" else ("pos", "upos", found.upos)
        )
        if found_other:
            hint = (f"Its tags are in token.{other}_ (`spacy kdseq convert --tag-column "
                    f"{column}`): set attr = \"{other}\" to learn them (--components."
                    f"{self.name}.attr {other}), or convert the treebank again with "
                    f"--tag-column {'upos' if column == 'xpos' else 'xpos'}.")
        elif found.entities:
            hint = ("It looks like an NER corpus: train a crf_ner on it "
                    "(configs/teacher-ner.cfg).")
        else:
            hint = found.fallback_hint()
        what = ("Universal POS tags (token.pos_)" if self.attr == "pos"
                else "fine-grained tags (token.tag_)")
        return Errors.E232.format(name=self.name, factory="crf_tagger", what=what,
                                  holds=found, hint=hint)

    def _gold_tag_ids_from_arrays(self, examples: List[Example]) -> List[Optional[numpy.ndarray]]:
        # POS holds spaCy's UPOS symbol ids, TAG string-store hashes.
        lookup = UPOS_IDS if self.attr == "pos" else self.vocab.strings
        value_ids = {int(lookup[tag]): i for i, tag in enumerate(self.tag_names)}
        return token_tag_ids(examples, ATTRS[self.attr], value_ids)

    def _gold_tag_names(self, example: Example, index: int) -> List[Optional[str]]:
        # "" (unannotated) and None (misaligned) are both missing gold.
        gold = example.get_aligned(self.attr.upper(), as_string=True)
        return [tag if tag else None for tag in gold]

    def set_annotations(self, docs: Iterable[Doc], tag_ids: List[Ints1d]) -> None:
        """Write the predicted tags to `token.pos` or `token.tag`."""
        attr_id = ATTRS[self.attr]
        # POS values are spaCy's UPOS symbol ids, TAG values string-store hashes.
        lookup = UPOS_IDS if self.attr == "pos" else self.vocab.strings
        values = numpy.asarray([int(lookup[tag]) for tag in self.tag_names], dtype="uint64")
        for doc, doc_tags in zip(docs, tag_ids):
            if len(doc):
                doc.from_array([attr_id], values[numpy.asarray(doc_tags)].reshape(-1, 1))
