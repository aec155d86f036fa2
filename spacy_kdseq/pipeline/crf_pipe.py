"""``CRFPipe``: the shared ``TrainablePipe`` behind ``crf_ner`` and ``crf_tagger``.

Subclasses say what the labels are and how tags map to and from docs: `scheme` (which
with the labels gives `tag_names`, the CRF label space), `_labels_in_example`,
`_gold_tag_names` and `set_annotations`.
Everything else — decoding, the loss, training, initialization and serialization — is
the same for any linear-chain CRF over tokens.
"""
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy
import srsly
from spacy import util
from spacy.errors import Errors as SpacyErrors
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.util import registry
from spacy.vocab import Vocab
from thinc.api import Config, Model, Optimizer, set_dropout_rate
from thinc.types import Ints1d

from .. import tagsets
from ..errors import Errors, KDSeqError
from ..layers import (
    CRFScores, gradients_to_scores, hard_constraints, scores_to_torch, set_constraints,
    set_n_labels,
)
from .corpus_fit import CorpusContents
from .decode import viterbi_tags
from .loss import NORMALIZATIONS, partial_nll
from .threads import single_cpu_thread

# The embedded default of both components: spaCy's CPU tok2vec, nothing downloaded.
default_model_config = """
[model]
@architectures = "spacy-kdseq.CRFTagger.v1"

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 96
depth = 4
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true
"""
DEFAULT_CRF_MODEL = Config().from_str(default_model_config)["model"]

# (pipe, examples, student scores) -> (loss, d_scores); see `CRFPipe.distillation_loss`.
LossHook = Callable[["CRFPipe", List[Example], CRFScores], Tuple[float, CRFScores]]
# (teacher scores, student scores) -> (loss, d_student_scores): spaCy v4's KD loss.
TeacherStudentLoss = Callable[[CRFScores, CRFScores], Tuple[float, CRFScores]]
# Registered in spacy_kdseq.distill (`spacy_misc` entry point), looked up by name so that
# the components never import the distillation code.
TEACHER_STUDENT_LOSS = "spacy-kdseq.TeacherStudentLoss.v1"


class CRFPipe(TrainablePipe):
    """A linear-chain CRF sequence labeller over the tokens of each doc."""

    def __init__(
        self,
        vocab: Vocab,
        model: Model[List[Doc], CRFScores],
        name: str,
        *,
        scorer: Optional[Callable],
        loss_normalization: str,
        **cfg: Any,
    ) -> None:
        if loss_normalization not in NORMALIZATIONS:
            raise KDSeqError(
                Errors.E102.format(name=name, value=loss_normalization, options=NORMALIZATIONS)
            )
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        self.cfg: Dict[str, Any] = {
            "labels": [], "loss_normalization": loss_normalization, **cfg
        }
        # The one hook for a teacher–student objective: set by `spacy kdseq distill` to
        # replace `get_loss` in `update`; never serialised.
        self.distillation_loss: Optional[LossHook] = None
        # The loss of spaCy v4's `get_teacher_student_loss`; default: the registered one.
        self.teacher_student_loss: Optional[TeacherStudentLoss] = None

    # --- labels ----------------------------------------------------------
    @property
    def labels(self) -> Tuple[str, ...]:
        """The labels added to the component (entity types or tags)."""
        return tuple(self.cfg["labels"])

    @property
    def label_data(self) -> List[str]:
        """The labels, as `spacy init labels` stores them for `initialize(labels=...)`."""
        return list(self.cfg["labels"])

    @property
    def tag_names(self) -> List[str]:
        """The CRF label space: one name per output of the model, in model order."""
        return tagsets.tag_names(self.labels, self.scheme)

    @property
    def scheme(self) -> Optional[str]:
        """The span-encoding scheme the tags follow, or None for unconstrained tags."""
        return None

    def add_label(self, label: str) -> int:
        """Add a label; return 0 if it was already there, else 1."""
        if not isinstance(label, str) or not label or label != label.strip():
            raise KDSeqError(Errors.E104.format(name=self.name, label=label))
        if label in self.labels:
            return 0
        if self.model.get_ref("crf").has_param("transitions"):
            raise KDSeqError(
                Errors.E105.format(name=self.name, label=label, n_tags=len(self.tag_names))
            )
        self._validate_label(label)
        self.cfg["labels"].append(label)
        self.vocab.strings.add(label)
        return 1

    def _validate_label(self, label: str) -> None:
        """Raise if `label` cannot be a label of this component."""

    def _labels_in_example(self, example: Example) -> Iterable[str]:
        """The labels found in the reference of one training example."""
        raise NotImplementedError

    def _no_labels(self, found: CorpusContents) -> str:
        """The error when the training corpus, which holds `found`, gives no labels."""
        raise NotImplementedError

    def _gold_tag_names(self, example: Example, index: int) -> List[Optional[str]]:
        """Gold tag name per predicted token (None: missing), in the CRF label space."""
        raise NotImplementedError

    def _gold_tag_ids_from_arrays(
        self, examples: List[Example]
    ) -> List[Optional[numpy.ndarray]]:
        """Gold tag indices (-1: missing) from token arrays where that is exact, else None.

        Subclasses override this fast path; None sends an example to `_gold_tag_names`.
        """
        return [None] * len(examples)

    def gold_tag_ids(self, examples: Iterable[Example]) -> List[numpy.ndarray]:
        """Gold tag index per predicted token of each example; -1 where gold is missing.

        Tags index `tag_names`. Derived from token arrays in a few numpy operations per
        batch when the predicted tokens are the reference's, from spaCy's alignment
        otherwise; both give the same tags. Used by the NLL.
        """
        examples = list(examples)
        fast = self._gold_tag_ids_from_arrays(examples)
        return [
            ids if ids is not None else self._gold_ids_from_names(eg, i)
            for i, (eg, ids) in enumerate(zip(examples, fast))
        ]

    def gold_tags(self, examples: Iterable[Example]) -> List[List[Optional[int]]]:
        """Gold tag index per predicted token of each example; None where gold is missing.

        Tags index `tag_names`. Used by the NLL and by the distillation losses.
        """
        return [
            [None if tag < 0 else tag for tag in ids.tolist()]
            for ids in self.gold_tag_ids(examples)
        ]

    def _gold_ids_from_names(self, example: Example, index: int) -> numpy.ndarray:
        index_of = {tag: i for i, tag in enumerate(self.tag_names)}
        names = self._gold_tag_names(example, index)
        for name in names:
            if name is not None and name not in index_of:
                label = name.partition("-")[2] if self.scheme else name
                raise KDSeqError(
                    Errors.E106.format(
                        name=self.name, index=index, text=preview_text(example.reference),
                        what="entity type" if self.scheme else "tag",
                        label=label, labels=list(self.labels),
                    )
                )
        return numpy.array(
            [-1 if name is None else index_of[name] for name in names], dtype="int64"
        )

    # --- prediction ------------------------------------------------------
    def predict(self, docs: Iterable[Doc]) -> List[Ints1d]:
        """Best tag sequence of every doc (indices into `tag_names`), by constrained Viterbi."""
        docs = list(docs)
        if not any(len(doc) for doc in docs):
            return [self.model.ops.alloc1i(0) for _ in docs]
        scores = self._forbid_tags(docs, self.model.predict(docs))
        return viterbi_tags(scores, hard_constraints(self.model.get_ref("crf")))

    def _forbid_tags(self, docs: List[Doc], scores: CRFScores) -> CRFScores:
        """Rule out tags at some tokens in decoding (a subclass's constraints); none here."""
        return scores

    # --- training --------------------------------------------------------
    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optional[Optimizer] = None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        """Learn from a batch of examples: the CRF NLL, or `distillation_loss` if set."""
        objective = self.distillation_loss or _gold_loss
        return self._learn(examples, objective, "update", drop=drop, sgd=sgd, losses=losses)

    def _learn(
        self,
        examples: Iterable[Example],
        objective: LossHook,
        caller: str,
        *,
        drop: float,
        sgd: Optional[Optimizer],
        losses: Optional[Dict[str, float]],
    ) -> Dict[str, float]:
        """One update of the model on the examples' predicted docs, by `objective`."""
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, f"{type(self).__name__}.{caller}")
        if not any(len(eg.predicted) for eg in examples):
            return losses
        set_dropout_rate(self.model, drop)
        scores, backprop = self.model.begin_update([eg.predicted for eg in examples])
        if any(self.model.ops.xp.isnan(em.sum()) for em in scores.emissions):
            raise KDSeqError(Errors.E109.format(name=self.name))
        with single_cpu_thread():
            loss, d_scores = objective(self, examples, scores)
        backprop(d_scores)
        if sgd not in (None, False):
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def get_loss(self, examples: Iterable[Example], scores: CRFScores) -> Tuple[float, CRFScores]:
        """CRF negative log-likelihood of the gold tags and its gradient.

        Partial gold is exact: the loss is log Z − log Z_gold, where Z_gold sums over the
        tag sequences that agree with every known gold tag (a missing tag allows all
        tags), so missing annotation is marginalised rather than read as "O". With
        complete gold this is the usual NLL. `loss_normalization` "sentence" averages
        over the non-empty docs, "token" divides the sum by the number of tokens.
        """
        examples = list(examples)
        validate_examples(examples, f"{type(self).__name__}.get_loss")
        gold = self.gold_tag_ids(examples)
        padded = scores_to_torch(scores, requires_grad=True)
        with single_cpu_thread():
            loss = partial_nll(padded, gold, self.cfg["loss_normalization"])
            loss.backward()
        return float(loss.item()), gradients_to_scores(padded)

    def distill(
        self,
        teacher_pipe: "CRFPipe",
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optional[Optimizer] = None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        """spaCy v4's distillation step: learn from `teacher_pipe` on the examples'
        predicted docs (one teacher, same label space), by `get_teacher_student_loss`."""
        examples = list(examples)
        docs = [eg.predicted for eg in examples]
        # `_learn` stops before the objective when every doc is empty.
        teacher_scores = teacher_pipe.model.predict(docs) if any(len(d) for d in docs) else None

        def objective(pipe: "CRFPipe", _: List[Example], scores: CRFScores):
            return pipe.get_teacher_student_loss(teacher_scores, scores)

        return self._learn(examples, objective, "distill", drop=drop, sgd=sgd, losses=losses)

    def get_teacher_student_loss(
        self, teacher_scores: CRFScores, student_scores: CRFScores
    ) -> Tuple[float, CRFScores]:
        """spaCy v4's distillation loss and its gradient: `teacher_student_loss`, by
        default the registered `spacy-kdseq.TeacherStudentLoss.v1` (`posterior`, T = 1)."""
        if self.teacher_student_loss is None:
            self.teacher_student_loss = registry.misc.get(TEACHER_STUDENT_LOSS)()
        return self.teacher_student_loss(teacher_scores, student_scores)

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[Sequence[str]] = None,
    ) -> None:
        """Add the labels (given, or read from the examples) and initialize the model."""
        validate_get_examples(get_examples, f"{type(self).__name__}.initialize")
        if labels is None:
            found = {label for eg in get_examples() for label in self._labels_in_example(eg)}
            labels = sorted(found)
        for label in labels:
            self.add_label(label)
        if not self.labels:
            # Instead of spaCy's E143, which says nothing about the corpus.
            raise KDSeqError(self._no_labels(CorpusContents.of(get_examples())))
        doc_sample = [eg.predicted for eg in islice(get_examples(), 10)]
        if not doc_sample:
            raise ValueError(SpacyErrors.E923.format(name=self.name))
        self._configure_model()
        self.model.initialize(X=doc_sample)

    def _configure_model(self) -> None:
        """Size the output layer and constrain the CRF from the labels in `cfg`."""
        set_n_labels(self.model, len(self.tag_names))
        set_constraints(self.model.get_ref("crf"), self.tag_names, self.scheme)

    # --- serialization ---------------------------------------------------
    # As TrainablePipe's, except that the model is sized and constrained from the
    # loaded cfg before its weights are read (the way spaCy's tagger sets nO).
    def to_bytes(self, *, exclude: Iterable[str] = tuple()) -> bytes:
        self._validate_serialization_attrs()
        serialize = {
            "cfg": lambda: srsly.json_dumps(self.cfg),
            "vocab": lambda: self.vocab.to_bytes(exclude=exclude),
            "model": self.model.to_bytes,
        }
        return util.to_bytes(serialize, exclude)

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = tuple()) -> "CRFPipe":
        self._validate_serialization_attrs()
        deserialize = {
            "cfg": lambda b: self.cfg.update(srsly.json_loads(b)),
            "vocab": lambda b: self.vocab.from_bytes(b, exclude=exclude),
            "model": self._load_model,
        }
        util.from_bytes(bytes_data, deserialize, exclude)
        return self

    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> None:
        self._validate_serialization_attrs()
        serialize = {
            "cfg": lambda p: srsly.write_json(p, self.cfg),
            "vocab": lambda p: self.vocab.to_disk(p, exclude=exclude),
            "model": lambda p: self.model.to_disk(p),
        }
        util.to_disk(path, serialize, exclude)

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> "CRFPipe":
        self._validate_serialization_attrs()

        def load_model(p: Path) -> None:
            with open(p, "rb") as file_:
                self._load_model(file_.read())

        deserialize = {
            "cfg": lambda p: self.cfg.update(srsly.read_json(p)),
            "vocab": lambda p: self.vocab.from_disk(p, exclude=exclude),
            "model": load_model,
        }
        util.from_disk(path, deserialize, exclude)
        return self

    def _load_model(self, data: bytes) -> None:
        self._configure_model()
        try:
            self.model.from_bytes(data)
        except AttributeError:
            raise ValueError(SpacyErrors.E149) from None


def _gold_loss(
    pipe: CRFPipe, examples: List[Example], scores: CRFScores
) -> Tuple[float, CRFScores]:
    return pipe.get_loss(examples, scores)


def preview_text(doc: Doc, n_chars: int = 60) -> str:
    """The doc's text on one line, cut to `n_chars`: how error messages show a doc."""
    text = " ".join(doc.text.split())
    return text if len(text) <= n_chars else text[: n_chars - 1] + "…"
