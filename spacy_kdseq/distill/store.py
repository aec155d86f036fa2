"""All the teachers' knowledge for a training run, looked up per Example."""
from typing import Dict, List, Mapping, Sequence, Tuple

import numpy
import torch
from spacy.training import Example

from ..errors import Errors, KDSeqError
from ..lang import get_doc_lang
from ..layers import NEG
from .cache import Knowledge, doc_key
from .teacher import TeacherCRF


class KnowledgeStore:
    """Teacher potentials by (language, doc key), mapped to the student's label space.

    Docs are found by a hash of their words, so the store does not depend on the order
    or the filtering of the training corpus (spaCy's Corpus may drop long docs).
    """

    def __init__(
        self,
        knowledge: Mapping[str, Sequence[Knowledge]],
        student_tags: Sequence[str],
        component: str,
    ) -> None:
        self.langs: List[str] = sorted(knowledge)
        self._entries: List[Tuple[int, numpy.ndarray, numpy.ndarray]] = []
        self._index: Dict[Tuple[str, int], Tuple[int, int]] = {}
        trans, starts, ends = [], [], []
        for g, lang in enumerate(self.langs):
            assert knowledge[lang], f"no knowledge entries for {lang!r}"
            for entry in knowledge[lang]:
                perm = _permutation(entry.labels, student_tags, component)
                emissions = _take_columns(entry.emissions, perm)
                e_id = len(self._entries)
                self._entries.append((g, emissions, entry.offsets))
                for i, key in enumerate(entry.keys.tolist()):
                    self._index.setdefault((lang, key), (e_id, i))
            # Every entry of a language comes from the same teacher: take its scores once.
            first = knowledge[lang][0]
            perm = _permutation(first.labels, student_tags, component)
            trans.append(_take_columns(_take_columns(first.transitions, perm).T, perm).T)
            starts.append(_take_columns(first.start[None], perm)[0])
            ends.append(_take_columns(first.end[None], perm)[0])
        L = len(student_tags)
        # shape: (G, L, L), (G, L), (G, L): one row per teacher, in `self.langs` order
        self.transitions = numpy.asarray(trans, dtype=numpy.float32).reshape(-1, L, L)
        self.start = numpy.asarray(starts, dtype=numpy.float32).reshape(-1, L)
        self.end = numpy.asarray(ends, dtype=numpy.float32).reshape(-1, L)

    def has_teacher(self, lang: str) -> bool:
        return lang in self.langs

    def teacher_crf(
        self, examples: Sequence[Example], mask: torch.Tensor, dtype: torch.dtype
    ) -> TeacherCRF:
        """Padded teacher potentials for `examples` (all of languages with a teacher)."""
        B, T = mask.shape
        L = self.transitions.shape[1]
        padded = numpy.zeros((B, T, L), dtype=numpy.float32)
        group = numpy.zeros((B,), dtype=numpy.int64)
        for b, eg in enumerate(examples):
            lang = get_doc_lang(eg.reference)
            words = [t.text for t in eg.reference]
            found = self._index.get((lang, doc_key(words)))
            n = len(eg.predicted)
            if found is None or n != len(words):
                raise KDSeqError(
                    Errors.E314.format(text=eg.reference.text[:60], lang=lang, n_tokens=n)
                )
            e_id, i = found
            g, emissions, offsets = self._entries[e_id]
            padded[b, :n] = emissions[offsets[i]: offsets[i + 1]]
            group[b] = g
        device = mask.device
        return TeacherCRF(
            torch.as_tensor(padded, device=device).to(dtype),
            mask,
            torch.as_tensor(self.transitions, device=device).to(dtype),
            torch.as_tensor(self.start, device=device).to(dtype),
            torch.as_tensor(self.end, device=device).to(dtype),
            torch.as_tensor(group, device=device),
        )


def _permutation(
    cache_tags: Sequence[str], student_tags: Sequence[str], component: str
) -> numpy.ndarray:
    """For each student tag, its column in the cache (-1: no teacher has it)."""
    column = {tag: i for i, tag in enumerate(cache_tags)}
    missing = sorted(set(cache_tags) - set(student_tags))
    if missing:
        raise KDSeqError(
            Errors.E316.format(missing=missing, tags=list(student_tags), name=component)
        )
    return numpy.asarray([column.get(tag, -1) for tag in student_tags], dtype=numpy.int64)


def _take_columns(array: numpy.ndarray, perm: numpy.ndarray) -> numpy.ndarray:
    """array[:, perm] with NEG in the columns of tags the cache lacks."""
    out = array[:, numpy.maximum(perm, 0)].copy()
    out[:, perm < 0] = NEG
    return out
