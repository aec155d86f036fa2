"""Reading the teachers, checking them against the student, and annotating docs.

Every check reads the saved pipeline's files (its ``config.cfg`` and the component's
``cfg``), so a complete knowledge cache never loads a teacher. A teacher's pipeline is
loaded only to annotate the docs its cache entries lack, and freed right after.
"""
import gc
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple

import numpy
import spacy
import srsly
import torch
from spacy import util
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import minibatch
from thinc.api import CupyOps, get_current_ops
from tqdm import tqdm

from .. import tagsets
from ..errors import Errors, KDSeqError, Warnings
from ..layers import NEG
from .cache import Knowledge, doc_key

# The factories whose components are CRFs of this package: what a teacher must be.
CRF_FACTORIES = ("crf_ner", "crf_tagger")


@dataclass(frozen=True)
class Teacher:
    """A saved teacher pipeline as read from its files; nothing is loaded."""

    lang: str
    path: Path
    component: str
    factory: str
    labels: Tuple[str, ...]
    scheme: Optional[str]

    @property
    def tag_names(self) -> List[str]:
        """The teacher CRF's label space, computed as its component computes it."""
        return tagsets.tag_names(self.labels, self.scheme)


def read_teacher(
    lang: str, path: str, component: str, *, student_name: str, student_factory: str,
    student_scheme: Optional[str],
) -> Teacher:
    """Read one teacher from disk and check that its CRF component solves the student's
    task, in the student's tag scheme."""
    root = Path(path)
    config = _read(lang, path, lambda: util.load_config(root / "config.cfg", interpolate=False))
    nlp_section = config.get("nlp", {})
    disabled = set(nlp_section.get("disabled", []))
    # Like `nlp.pipe_names` after `spacy.load`: the enabled components, in order.
    factories = {
        name: config.get("components", {}).get(name, {}).get("factory")
        for name in nlp_section.get("pipeline", []) if name not in disabled
    }
    factory = factories.get(component)
    if factory not in CRF_FACTORIES:
        crf_names = [name for name, f in factories.items() if f in CRF_FACTORIES]
        if component not in factories and crf_names:
            raise KDSeqError(Errors.E302.format(
                lang=lang, path=path, name=component, components=crf_names
            ))
        found = [f"{name} ({f})" for name, f in factories.items()]
        raise KDSeqError(Errors.E326.format(lang=lang, path=path, components=found))
    if factory != student_factory:
        raise KDSeqError(Errors.E303.format(
            lang=lang, path=path, found=factory, name=student_name, expected=student_factory
        ))
    # The component's own settings, as `CRFPipe.to_disk` wrote them.
    cfg = _read(lang, path, lambda: srsly.read_json(root / component / "cfg"))
    scheme = cfg.get("scheme")
    if scheme != student_scheme:
        raise KDSeqError(Errors.E324.format(
            lang=lang, path=path, found=scheme, expected=student_scheme,
            name=student_name, teacher_name=component,
        ))
    return Teacher(lang, root, component, factory, tuple(cfg.get("labels", ())), scheme)


def _read(lang: str, path: str, read: Callable[[], Any]) -> Any:
    """`read()`, with a file that is missing or unreadable reported as E301."""
    try:
        return read()
    except (OSError, ValueError) as err:
        raise KDSeqError(
            Errors.E301.format(lang=lang, path=path, err=" ".join(str(err).split()))
        ) from None


class TeacherPipeline:
    """A teacher's pipeline, loaded on first `get()` and freed when the `with` block ends."""

    def __init__(self, teacher: Teacher) -> None:
        self.teacher = teacher
        self._nlp: Optional[Language] = None

    def get(self) -> Language:
        """The loaded pipeline (loading it now if this is the first call)."""
        if self._nlp is None:
            try:
                self._nlp = spacy.load(self.teacher.path)
            except (OSError, ValueError) as err:
                raise KDSeqError(Errors.E301.format(
                    lang=self.teacher.lang, path=self.teacher.path, err=err
                )) from None
        return self._nlp

    def __enter__(self) -> "TeacherPipeline":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._nlp is not None:
            self._nlp = None
            _free_memory()


def _free_memory() -> None:
    """Give a dropped pipeline's memory back, on the GPU too: the student trains next."""
    gc.collect()  # spaCy pipelines hold reference cycles
    if torch.cuda.is_initialized():
        torch.cuda.empty_cache()
    if isinstance(get_current_ops(), CupyOps):
        import cupy  # installed wherever CupyOps is the current ops

        cupy.get_default_memory_pool().free_all_blocks()


def union_labels(teachers: Sequence[Teacher], warn: Callable[[str], None]) -> List[str]:
    """The sorted union of the teachers' labels; warns once if their label sets differ."""
    sets = {t.lang: set(t.labels) for t in teachers}
    union = sorted(set().union(*sets.values())) if sets else []
    differ = {
        lang: sorted(set(union) - labels) for lang, labels in sets.items() if labels != set(union)
    }
    if differ:
        detail = "; ".join(f"{lang} lacks {missing}" for lang, missing in sorted(differ.items()))
        warn(Warnings.W301.format(detail=detail, labels=union))
    return union


def union_tag_names(teachers: Sequence[Teacher]) -> List[str]:
    """The sorted union of the teachers' CRF label spaces: the cache's column order."""
    return sorted(set().union(*(t.tag_names for t in teachers)))


def annotate(
    teacher: Teacher, nlp: Language, docs: Sequence[Doc], tag_names: Sequence[str], *,
    batch_size: int = 256, desc: Optional[str] = None,
) -> Knowledge:
    """Run the teacher's pipeline `nlp` once over `docs` (on their gold words); keep its
    CRF potentials.

    Potentials are mapped into `tag_names`: labels the teacher lacks score ``NEG`` in
    every emission and in every transition into or out of them.
    """
    pipe = nlp.get_pipe(teacher.component)
    column = {tag: i for i, tag in enumerate(tag_names)}
    cols = numpy.asarray([column[tag] for tag in pipe.tag_names])
    L = len(tag_names)
    keys, lengths, chunks = [], [], []
    transitions = start = end = None
    model = pipe.model
    desc = desc or f"annotate {teacher.lang}"
    with tqdm(total=len(docs), desc=desc, unit="doc", leave=False) as bar:
        for batch in minibatch(docs, size=batch_size):
            predicted = [_gold_words_doc(nlp, doc) for doc in batch]
            for doc in predicted:
                keys.append(doc_key([t.text for t in doc]))
                lengths.append(len(doc))
            nonempty = [doc for doc in predicted if len(doc)]
            if nonempty:
                for _, proc in _preceding(nlp, teacher.component):
                    nonempty = list(proc.pipe(nonempty))
                scores = model.predict(nonempty)
                for em in scores.emissions:
                    mapped = numpy.full((em.shape[0], L), NEG, dtype=numpy.float16)
                    mapped[:, cols] = model.ops.to_numpy(em)
                    chunks.append(mapped)
                if transitions is None:
                    transitions = _map_square(model.ops.to_numpy(scores.transitions), cols, L)
                    start = _map_vector(model.ops.to_numpy(scores.start), cols, L)
                    end = _map_vector(model.ops.to_numpy(scores.end), cols, L)
            bar.update(len(batch))
    if transitions is None:  # no non-empty doc: the parameters are still the teacher's
        crf = model.get_ref("crf")
        transitions = _map_square(model.ops.to_numpy(crf.get_param("transitions")), cols, L)
        start = _map_vector(model.ops.to_numpy(crf.get_param("start")), cols, L)
        end = _map_vector(model.ops.to_numpy(crf.get_param("end")), cols, L)
    emissions = numpy.concatenate(chunks) if chunks else numpy.zeros((0, L), numpy.float16)
    offsets = numpy.concatenate([[0], numpy.cumsum(lengths)]).astype(numpy.int64)
    return Knowledge(
        lang=teacher.lang, labels=list(tag_names), keys=numpy.asarray(keys, dtype=numpy.int64),
        offsets=offsets, emissions=emissions, transitions=transitions, start=start, end=end,
    )


def _gold_words_doc(nlp: Language, doc: Doc) -> Doc:
    """A fresh, unannotated doc on the reference's words: the student's tokens exactly."""
    return Doc(nlp.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])


def _preceding(nlp: Language, name: str) -> Iterable:
    """The components before `name` (e.g. a shared tok2vec its model listens to)."""
    for pipe_name, proc in nlp.pipeline:
        if pipe_name == name:
            return
        yield pipe_name, proc


def _map_square(matrix: numpy.ndarray, cols: numpy.ndarray, L: int) -> numpy.ndarray:
    out = numpy.full((L, L), NEG, dtype=numpy.float32)
    out[cols[:, None], cols[None, :]] = matrix
    return out


def _map_vector(vector: numpy.ndarray, cols: numpy.ndarray, L: int) -> numpy.ndarray:
    out = numpy.full((L,), NEG, dtype=numpy.float32)
    out[cols] = vector
    return out
