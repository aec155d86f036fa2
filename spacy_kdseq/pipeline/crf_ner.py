"""``crf_ner``: named entities with a linear-chain CRF, decoded into valid spans."""
from typing import Callable, Iterable, List, Optional

import numpy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.vocab import Vocab
from thinc.api import Model
from thinc.types import Ints1d

from .. import tagsets
from ..errors import Errors, KDSeqError
from ..layers import CRFScores
from .corpus_fit import CorpusContents
from .crf_pipe import DEFAULT_CRF_MODEL, CRFPipe, preview_text
from .gold import ner_tag_ids

# The schemes (of `tagsets.SCHEMES`) whose gold `_gold_tag_names` derives from spaCy's
# BILUO tags.
NER_SCHEMES = ("BIO", "BILUO")
# Like spaCy's `ner`, an entity never starts or ends on a whitespace token: in BILUO a
# space may only be O or inside (I) an entity. BIO cannot say "inside but not last"
# without looking ahead, so there a space is always O.
SPACE_FORBIDDEN = {"BIO": ("B", "I"), "BILUO": ("B", "L", "U")}
# Emission score of a ruled-out tag in decoding: finite (the CRF refuses -inf
# emissions), and far below any real path score.
FORBIDDEN = -1e9


@Language.factory(
    "crf_ner",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type"],
    default_config={
        "model": DEFAULT_CRF_MODEL,
        "scheme": "BILUO",
        "loss_normalization": "sentence",
        "scorer": {"@scorers": "spacy.ner_scorer.v1"},
    },
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_crf_ner(
    nlp: Language,
    name: str,
    model: Model[List[Doc], CRFScores],
    scheme: str,
    loss_normalization: str,
    scorer: Optional[Callable],
) -> "CRFEntityRecognizer":
    """Create a CRF entity recognizer.

    scheme: the tag scheme inside the CRF, "BIO" or "BILUO".
    loss_normalization: "sentence" (mean over docs) or "token" (mean over tokens).
    """
    return CRFEntityRecognizer(
        nlp.vocab, model, name, scheme=scheme, loss_normalization=loss_normalization,
        scorer=scorer,
    )


class CRFEntityRecognizer(CRFPipe):
    """Sets `doc.ents` (replacing any present) from a CRF over BIO or BILUO tags.

    Decoding forbids the moves that are invalid for the scheme, so every output is a
    valid span sequence. Labels are entity types; `tag_names` is "O" followed by each
    type's prefixed tags, types in label order.
    """

    def __init__(
        self,
        vocab: Vocab,
        model: Model[List[Doc], CRFScores],
        name: str = "crf_ner",
        *,
        scheme: str = "BILUO",
        loss_normalization: str = "sentence",
        scorer: Optional[Callable] = None,
    ) -> None:
        if scheme not in NER_SCHEMES:
            raise KDSeqError(
                Errors.E101.format(name=name, scheme=scheme, schemes=list(NER_SCHEMES))
            )
        super().__init__(
            vocab, model, name, scorer=scorer, loss_normalization=loss_normalization,
            scheme=scheme,
        )

    @property
    def scheme(self) -> str:
        return self.cfg["scheme"]

    def _labels_in_example(self, example: Example) -> Iterable[str]:
        return (ent.label_ for ent in example.reference.ents)

    def _no_labels(self, found: CorpusContents) -> str:
        if found.upos or found.tags:
            hint = ("It looks like a POS corpus: train a crf_tagger on it (configs/teacher-pos"
                    ".cfg). An NER corpus is converted from a CoNLL file whose last column holds "
                    "the entity tags.")
        else:
            hint = found.fallback_hint()
        return Errors.E232.format(name=self.name, factory="crf_ner", what="entities",
                                  holds=found, hint=hint)

    def _forbid_tags(self, docs: List[Doc], scores: CRFScores) -> CRFScores:
        """No entity starts or ends on a whitespace token (see `SPACE_FORBIDDEN`)."""
        xp = self.model.ops.xp
        forbidden = [
            i for i, tag in enumerate(self.tag_names) if tag[0] in SPACE_FORBIDDEN[self.scheme]
        ]
        emissions = []
        for doc, em in zip(docs, scores.emissions):
            spaces = [token.i for token in doc if token.is_space]
            if spaces:
                em = em.copy()
                em[xp.asarray(spaces)[:, None], xp.asarray(forbidden)[None, :]] = FORBIDDEN
            emissions.append(em)
        return CRFScores(emissions, scores.transitions, scores.start, scores.end)

    def _gold_tag_ids_from_arrays(self, examples: List[Example]) -> List[Optional[numpy.ndarray]]:
        label_ids = {self.vocab.strings[label]: i for i, label in enumerate(self.labels)}
        return ner_tag_ids(examples, label_ids, self.scheme)

    def _gold_tag_names(self, example: Example, index: int) -> List[Optional[str]]:
        try:
            biluo = example.get_aligned_ner()
        except ValueError as err:
            raise KDSeqError(
                Errors.E107.format(
                    name=self.name, index=index, text=preview_text(example.reference),
                    error=" ".join(str(err).split()),
                )
            ) from err
        if self.scheme == "BILUO":
            return biluo
        # BIO: a unit is a one-token begin, a last token is an inside token.
        to_bio = {"U": "B", "L": "I"}
        return [
            tag if tag is None or tag == "O" else to_bio.get(tag[0], tag[0]) + tag[1:]
            for tag in biluo
        ]

    def set_annotations(self, docs: Iterable[Doc], tag_ids: List[Ints1d]) -> None:
        """Set `doc.ents` from the predicted tags; every other token becomes "O"."""
        names = self.tag_names
        for doc, doc_tags in zip(docs, tag_ids):
            spans = tagsets.tags_to_spans([names[tag] for tag in doc_tags.tolist()])
            doc.set_ents(
                [Span(doc, start, end, label=label) for start, end, label in spans],
                default="outside",
            )
