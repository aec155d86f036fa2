"""CoNLL-U treebanks: one Doc per sentence with UPOS (``pos_``) or XPOS (``tag_``).

Docs are built on the syntactic words. Multiword-token lines (``1-2``) only
give the surface form and its spacing; empty nodes (``1.1``) are not words.
Whitespace comes from aligning the surface forms with ``# text``; where a
sentence has no ``# text`` or the forms do not match it, from ``SpaceAfter=No``.
The words inside a multiword token are joined without spaces, so a Doc's text
is the surface text wherever the treebank's words spell it (``did`` + ``n't``)
and the words themselves otherwise (Spanish ``del`` → ``deel``).
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

from spacy.tokens import Doc
from spacy.vocab import Vocab

from ..errors import Errors, KDSeqError
from ..lang import set_doc_lang
from ..tagsets import UPOS_TAGS
from ._lines import iter_lines
from .stats import CorpusStats

TAG_COLUMNS = {"upos": 3, "xpos": 4}
_N_COLUMNS = 10


@dataclass
class ConlluSentence:
    """One sentence: its words, their tags and trailing spaces, and where it starts."""

    words: List[str] = field(default_factory=list)
    tags: List[str] = field(default_factory=list)
    spaces: List[bool] = field(default_factory=list)
    text: Optional[str] = None
    line: int = 0


@dataclass
class _Surface:
    """A surface token: a plain word or a multiword token covering words first..last."""

    form: str
    first: int
    last: int
    space_after: bool
    line: int


def _space_after(misc: str) -> bool:
    return "SpaceAfter=No" not in misc.split("|")


def _spaces_from_text(forms: List[str], text: str) -> Optional[List[bool]]:
    """Whether whitespace follows each form in `text`; None if the forms don't spell it."""
    spaces, pos = [], 0
    for form in forms:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if not text.startswith(form, pos):
            return None
        pos += len(form)
        spaces.append(pos < len(text) and text[pos].isspace())
    return None if text[pos:].strip() else spaces


def _check_id(path: Path, number: int, token_id: str, n_words: int) -> Tuple[str, int, int]:
    """Classify an id as ("word" | "range" | "empty", first, last); E207 if broken."""
    parts = token_id.replace("-", " - ").replace(".", " . ").split()
    if len(parts) == 1 and token_id.isdigit() and int(token_id) == n_words + 1:
        return "word", n_words + 1, n_words + 1
    if len(parts) == 3 and parts[0].isdigit() and parts[2].isdigit():
        first, second = int(parts[0]), int(parts[2])
        if parts[1] == "-" and first == n_words + 1 and second > first:
            return "range", first, second
        if parts[1] == "." and first == n_words and second >= 1:
            return "empty", first, first
    raise KDSeqError(
        Errors.E207.format(path=path, line=number, found=token_id, expected=str(n_words + 1))
    )


def _finish(path: Path, sentence: ConlluSentence, surface: List[_Surface]) -> None:
    """Fill in the spaces of a complete sentence, checking its multiword ranges."""
    n = len(sentence.words)
    for token in surface:
        if token.last > n:
            raise KDSeqError(
                Errors.E207.format(
                    path=path, line=token.line, found=f"{token.first}-{token.last}",
                    expected=f"a range within 1-{n}",
                )
            )
    covered = {i for t in surface if t.first != t.last for i in range(t.first, t.last + 1)}
    # Words outside multiword tokens are their own surface token.
    tokens = sorted(
        surface + [_Surface(sentence.words[i - 1], i, i, sentence.spaces[i - 1], 0)
                   for i in range(1, n + 1) if i not in covered],
        key=lambda t: t.first,
    )
    spaces = None
    if sentence.text is not None:
        spaces = _spaces_from_text([t.form for t in tokens], sentence.text)
    if spaces is None:
        spaces = [t.space_after for t in tokens]
    sentence.spaces = [False] * n
    for token, space in zip(tokens, spaces):
        sentence.spaces[token.last - 1] = space
    # A Doc is one sentence; the space after its last word belongs between sentences.
    sentence.spaces[-1] = False


def iter_conllu_sentences(
    path: Path,
    *,
    tag_column: str = "upos",
    encoding: str = "utf-8",
    stats: Optional[CorpusStats] = None,
) -> Iterator[ConlluSentence]:
    """Stream the sentences of a CoNLL-U file, validating ids, columns and tags."""
    if tag_column not in TAG_COLUMNS:
        raise KDSeqError(Errors.E211.format(column=tag_column))
    column = TAG_COLUMNS[tag_column]
    stats = stats if stats is not None else CorpusStats()
    sentence, surface, started = ConlluSentence(), [], 0
    n_before = stats.sentences
    for number, line in iter_lines(path, encoding):
        if not line.strip():
            if started and not sentence.words:
                raise KDSeqError(Errors.E205.format(path=path, line=started))
            if sentence.words:
                _finish(path, sentence, surface)
                stats.add_sentence(len(sentence.words))
                yield sentence
            sentence, surface, started = ConlluSentence(), [], 0
            continue
        started = started or number
        if line.startswith("#"):
            key, _, value = line[1:].partition("=")
            if key.strip() == "text":
                sentence.text = value.strip()
            continue
        fields = line.split("\t")
        if len(fields) != _N_COLUMNS:
            raise KDSeqError(
                Errors.E203.format(
                    path=path, line=number, expected=_N_COLUMNS, first_line="1 of CoNLL-U",
                    found=len(fields), text=line,
                )
            )
        kind, first, last = _check_id(path, number, fields[0], len(sentence.words))
        if kind == "empty":
            stats.skipped["empty nodes"] += 1
            continue
        if kind == "range":
            stats.skipped["multiword lines"] += 1
            surface.append(_Surface(fields[1], first, last, _space_after(fields[9]), number))
            continue
        tag = fields[column]
        if tag == "_":
            raise KDSeqError(
                Errors.E209.format(path=path, line=number, column=tag_column.upper(),
                                   word=fields[1])
            )
        if tag_column == "upos" and tag not in UPOS_TAGS:
            raise KDSeqError(
                Errors.E210.format(path=path, line=number, value=tag, tags=", ".join(UPOS_TAGS))
            )
        if not sentence.words:
            sentence.line = number
        sentence.words.append(fields[1])
        sentence.tags.append(tag)
        sentence.spaces.append(_space_after(fields[9]))
    if started and not sentence.words:
        raise KDSeqError(Errors.E205.format(path=path, line=started))
    if sentence.words:
        _finish(path, sentence, surface)
        stats.add_sentence(len(sentence.words))
        yield sentence
    if stats.sentences == n_before:
        raise KDSeqError(Errors.E202.format(path=path))


def read_conllu(
    path: Path,
    lang: str,
    vocab: Vocab,
    *,
    tag_column: str = "upos",
    encoding: str = "utf-8",
    stats: Optional[CorpusStats] = None,
) -> Iterator[Doc]:
    """Stream one Doc per sentence; UPOS goes to ``token.pos_``, XPOS to ``token.tag_``."""
    stats = stats if stats is not None else CorpusStats()
    for sentence in iter_conllu_sentences(
        path, tag_column=tag_column, encoding=encoding, stats=stats
    ):
        tags = {"pos": sentence.tags} if tag_column == "upos" else {"tags": sentence.tags}
        doc = Doc(vocab, words=sentence.words, spaces=sentence.spaces, **tags)
        set_doc_lang(doc, lang)
        stats.tags += len(doc)
        yield doc
