"""Loading the teachers, checking them against the student, and annotating docs."""
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, List, Optional, Sequence

import numpy
import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import minibatch
from tqdm import tqdm

from ..errors import Errors, KDSeqError, Warnings
from ..layers import NEG
from ..pipeline.crf_pipe import CRFPipe
from .cache import Knowledge, doc_key


@dataclass
class Teacher:
    """A loaded teacher pipeline and its CRF component."""

    lang: str
    path: Path
    nlp: Language
    pipe: CRFPipe
    factory: str


def load_teacher(
    lang: str, path: str, component: str, *, student_name: str, student_factory: str,
    student_scheme: Optional[str],
) -> Teacher:
    """Load one teacher and check that its CRF component solves the student's task, in
    the student's tag scheme."""
    try:
        nlp = spacy.load(path)
    except (OSError, IOError, ValueError) as err:
        raise KDSeqError(Errors.E301.format(lang=lang, path=path, err=err)) from None
    pipe = nlp.get_pipe(component) if component in nlp.pipe_names else None
    if not isinstance(pipe, CRFPipe):
        crf_names = [name for name, proc in nlp.pipeline if isinstance(proc, CRFPipe)]
        if pipe is None and crf_names:
            raise KDSeqError(Errors.E302.format(
                lang=lang, path=path, name=component, components=crf_names
            ))
        found = [f"{name} ({nlp.get_pipe_meta(name).factory})" for name in nlp.pipe_names]
        raise KDSeqError(Errors.E326.format(lang=lang, path=path, components=found))
    factory = nlp.get_pipe_meta(component).factory
    if factory != student_factory:
        raise KDSeqError(Errors.E303.format(
            lang=lang, path=path, found=factory, name=student_name, expected=student_factory
        ))
    if pipe.scheme != student_scheme:
        raise KDSeqError(Errors.E324.format(
            lang=lang, path=path, found=pipe.scheme, expected=student_scheme,
            name=student_name, teacher_name=component,
        ))
    return Teacher(lang, Path(path), nlp, pipe, factory)


def union_labels(teachers: Sequence[Teacher], warn: Callable[[str], None]) -> List[str]:
    """The sorted union of the teachers' labels; warns once if their label sets differ."""
    sets = {t.lang: set(t.pipe.labels) for t in teachers}
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
    return sorted(set().union(*(t.pipe.tag_names for t in teachers)))


def annotate(
    teacher: Teacher, docs: Sequence[Doc], tag_names: Sequence[str], *,
    batch_size: int = 256, desc: Optional[str] = None,
) -> Knowledge:
    """Run the teacher once over `docs` (on their gold words); keep its CRF potentials.

    Potentials are mapped into `tag_names`: labels the teacher lacks score ``NEG`` in
    every emission and in every transition into or out of them.
    """
    column = {tag: i for i, tag in enumerate(tag_names)}
    cols = numpy.asarray([column[tag] for tag in teacher.pipe.tag_names])
    L = len(tag_names)
    keys, lengths, chunks = [], [], []
    transitions = start = end = None
    model = teacher.pipe.model
    desc = desc or f"annotate {teacher.lang}"
    with tqdm(total=len(docs), desc=desc, unit="doc", leave=False) as bar:
        for batch in minibatch(docs, size=batch_size):
            predicted = [_gold_words_doc(teacher.nlp, doc) for doc in batch]
            for doc in predicted:
                keys.append(doc_key([t.text for t in doc]))
                lengths.append(len(doc))
            nonempty = [doc for doc in predicted if len(doc)]
            if nonempty:
                for _, proc in _preceding(teacher.nlp, teacher.pipe.name):
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
