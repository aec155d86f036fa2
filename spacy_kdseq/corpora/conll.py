"""CoNLL-2002/2003 column files: one token per line, the entity tag last.

Any number of middle columns is allowed (Dutch CoNLL-2002 has POS, CoNLL-2003
POS and chunk); the first of them is kept as ``token.tag_``. ``-DOCSTART-``
lines mark articles, are not sentences, and also end the sentence before them.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional

from spacy.tokens import Doc
from spacy.vocab import Vocab

from ..errors import Errors, KDSeqError
from ..lang import set_doc_lang
from ..tagsets import parse_tag, tags_to_spans
from ._lines import iter_lines
from .stats import CorpusStats
from .tags import spans_to_iob2

DOCSTART = "-DOCSTART-"


@dataclass
class ConllSentence:
    """One sentence: words, entity tags, middle columns per token, first line number."""

    words: List[str]
    tags: List[str]
    middle: List[List[str]]
    line: int


def iter_conll_sentences(
    path: Path, *, encoding: str = "utf-8", stats: Optional[CorpusStats] = None
) -> Iterator[ConllSentence]:
    """Stream the sentences of a CoNLL column file, validating as it goes."""
    stats = stats if stats is not None else CorpusStats()
    n_columns = first_line = 0
    sentence = ConllSentence([], [], [], 0)
    n_before = stats.sentences
    for number, line in iter_lines(path, encoding):
        fields = line.split()
        if fields and fields[0] == DOCSTART:
            stats.skipped["DOCSTART lines"] += 1
            fields = []
        if not fields:
            if sentence.words:
                stats.add_sentence(len(sentence.words))
                yield sentence
            sentence = ConllSentence([], [], [], 0)
            continue
        if not n_columns:
            if len(fields) < 2:
                raise KDSeqError(Errors.E220.format(path=path, line=number, text=line))
            n_columns, first_line = len(fields), number
        if len(fields) != n_columns:
            raise KDSeqError(
                Errors.E203.format(
                    path=path, line=number, expected=n_columns, first_line=first_line,
                    found=len(fields), text=line,
                )
            )
        try:
            parse_tag(fields[-1])
        except ValueError:
            raise KDSeqError(Errors.E204.format(path=path, line=number, tag=fields[-1])) from None
        if not sentence.words:
            sentence.line = number
        sentence.words.append(fields[0])
        sentence.tags.append(fields[-1])
        sentence.middle.append(fields[1:-1])
    if sentence.words:
        stats.add_sentence(len(sentence.words))
        yield sentence
    if stats.sentences == n_before:
        raise KDSeqError(Errors.E202.format(path=path))


def conll_sentence_to_doc(sentence: ConllSentence, vocab: Vocab, lang: str) -> Doc:
    """A Doc on the gold tokens, with `doc.ents` and the first middle column as tags."""
    n = len(sentence.words)
    tags = [cols[0] for cols in sentence.middle] if sentence.middle[0] else None
    ents = spans_to_iob2(tags_to_spans(sentence.tags), n)
    spaces = [True] * (n - 1) + [False]
    doc = Doc(vocab, words=sentence.words, spaces=spaces, tags=tags, ents=ents)
    set_doc_lang(doc, lang)
    return doc


def read_conll(
    path: Path,
    lang: str,
    vocab: Vocab,
    *,
    encoding: str = "utf-8",
    stats: Optional[CorpusStats] = None,
) -> Iterator[Doc]:
    """Stream one Doc per sentence of a CoNLL column file."""
    stats = stats if stats is not None else CorpusStats()
    for sentence in iter_conll_sentences(path, encoding=encoding, stats=stats):
        doc = conll_sentence_to_doc(sentence, vocab, lang)
        stats.entities += len(doc.ents)
        if sentence.middle[0]:
            stats.tags += len(doc)
        yield doc
