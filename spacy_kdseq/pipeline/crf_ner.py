"""``crf_ner``: named entities with a linear-chain CRF, decoded into valid spans."""
from typing import Callable, Iterable, List, Optional

import numpy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.vocab import Vocab
from thinc.api import Model
from thinc.types import Ints1d

from ..errors import Errors
from ..layers import CRFScores
from .crf_pipe import DEFAULT_CRF_MODEL, CRFPipe, _preview
from .gold import ner_tag_ids

SCHEMES = {"BIO": ("B", "I"), "BILUO": ("B", "I", "L", "U")}



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
        if scheme not in SCHEMES:
            raise ValueError(Errors.E101.format(name=name, scheme=scheme, schemes=list(SCHEMES)))
        super().__init__(
            vocab, model, name, scorer=scorer, loss_normalization=loss_normalization,
            scheme=scheme,
        )

    @property
    def scheme(self) -> str:
        return self.cfg["scheme"]

    @property
    def tag_names(self) -> List[str]:
        prefixes = SCHEMES[self.scheme]
        return ["O"] + [f"{p}-{label}" for label in self.labels for p in prefixes]

    def _labels_in_example(self, example: Example) -> Iterable[str]:
        return (ent.label_ for ent in example.reference.ents)

    def _gold_tag_ids_from_arrays(self, examples: List[Example]) -> List[Optional[numpy.ndarray]]:
        label_ids = {self.vocab.strings[label]: i for i, label in enumerate(self.labels)}
        return ner_tag_ids(examples, label_ids, self.scheme)

    def _gold_tag_names(self, example: Example, index: int) -> List[Optional[str]]:
        try:
            biluo = example.get_aligned_ner()
        except ValueError as err:
            raise ValueError(
                Errors.E107.format(
                    name=self.name, index=index, text=_preview(example.reference),
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
        kinds = []
        for tag in self.tag_names:
            prefix, _, label = tag.partition("-")
            kinds.append((prefix, label))
        for doc, doc_tags in zip(docs, tag_ids):
            spans = []
            begin, open_label = -1, ""
            for i, tag in enumerate(doc_tags.tolist()):
                prefix, label = kinds[tag]
                # IOB reading of both schemes; L/U also close the span after this token.
                continues = prefix in ("I", "L") and begin >= 0 and label == open_label
                if begin >= 0 and not continues:
                    spans.append(Span(doc, begin, i, label=open_label))
                    begin = -1
                if prefix != "O" and not continues:
                    begin, open_label = i, label
                if prefix in ("L", "U"):
                    spans.append(Span(doc, begin, i + 1, label=open_label))
                    begin = -1
            if begin >= 0:
                spans.append(Span(doc, begin, len(doc), label=open_label))
            doc.set_ents(spans, default="outside")
