"""Corpus files to ``.spacy`` DocBins: format detection, slicing, dev carving."""
import itertools
from contextlib import ExitStack
from pathlib import Path
from typing import Dict, Iterator, Optional, Tuple

import spacy
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from ..errors import Errors, KDSeqError
from ..fileio import atomic_path, check_output_file, same_file
from ..lang import check_lang
from ._lines import iter_lines
from .conll import iter_conll_sentences, read_conll
from .conllu import iter_conllu_sentences, read_conllu
from .split import dev_indices
from .stats import CorpusStats

FORMATS = ("auto", "conll", "conllu")


def detect_format(path: Path, encoding: str = "utf-8") -> str:
    """"conllu" for a ``.conllu`` file or one whose first line is a comment or has
    10 tab-separated columns; "conll" otherwise."""
    if Path(path).suffix == ".conllu":
        return "conllu"
    for _, line in iter_lines(path, encoding):
        if line.strip():
            is_conllu = line.startswith("#") or len(line.split("\t")) == 10
            return "conllu" if is_conllu else "conll"
    raise KDSeqError(Errors.E202.format(path=path))


def _resolve(path: Path, fmt: str, encoding: str) -> str:
    if fmt not in FORMATS:
        raise KDSeqError(Errors.E206.format(fmt=fmt, formats=", ".join(FORMATS)))
    return detect_format(path, encoding) if fmt == "auto" else fmt


def read_corpus(
    path: Path,
    lang: str,
    vocab: Optional[Vocab] = None,
    *,
    fmt: str = "auto",
    tag_column: str = "upos",
    encoding: str = "utf-8",
    stats: Optional[CorpusStats] = None,
) -> Iterator[Doc]:
    """Stream one Doc per sentence of a CoNLL or CoNLL-U file, language recorded."""
    fmt = _resolve(path, fmt, encoding)
    vocab = vocab if vocab is not None else spacy.blank("xx").vocab
    if fmt == "conllu":
        return read_conllu(
            path, lang, vocab, tag_column=tag_column, encoding=encoding, stats=stats
        )
    return read_conll(path, lang, vocab, encoding=encoding, stats=stats)


def count_sentences(
    path: Path, *, fmt: str = "auto", tag_column: str = "upos", encoding: str = "utf-8"
) -> CorpusStats:
    """Parse and validate a file without building Docs; returns its counts."""
    fmt = _resolve(path, fmt, encoding)
    stats = CorpusStats()
    if fmt == "conllu":
        sentences = iter_conllu_sentences(
            path, tag_column=tag_column, encoding=encoding, stats=stats
        )
    else:
        sentences = iter_conll_sentences(path, encoding=encoding, stats=stats)
    for _ in sentences:
        pass
    return stats


def convert_corpus(
    input_path: Path,
    output_path: Path,
    lang: str,
    *,
    fmt: str = "auto",
    tag_column: str = "upos",
    encoding: str = "utf-8",
    limit: Optional[int] = None,
    dev_fraction: float = 0.0,
    dev_output: Optional[Path] = None,
    seed: int = 0,
) -> Tuple[CorpusStats, Dict[Path, int]]:
    """Write the first `limit` sentences as a DocBin (the language is a doc category,
    so no user data is stored), carving a `dev_fraction` of them into `dev_output`. Returns the
    counts read and the number of docs written per output file."""
    check_lang(lang)
    if limit is not None and limit < 1:
        raise KDSeqError(Errors.E219.format(limit=limit))
    if (dev_fraction > 0) != (dev_output is not None) or not 0 <= dev_fraction < 1:
        raise KDSeqError(Errors.E212.format(fraction=dev_fraction))
    _check_outputs(Path(input_path), Path(output_path), dev_output)
    dev: set = set()
    if dev_output is not None:
        n = count_sentences(
            input_path, fmt=fmt, tag_column=tag_column, encoding=encoding
        ).sentences
        dev = dev_indices(min(n, limit or n), dev_fraction, seed)
    stats = CorpusStats()
    docs = read_corpus(
        input_path, lang, fmt=fmt, tag_column=tag_column, encoding=encoding, stats=stats
    )
    train_bin = DocBin()
    dev_bin = DocBin()
    for i, doc in enumerate(itertools.islice(docs, limit)):
        (dev_bin if i in dev else train_bin).add(doc)
    written = {}
    # Both outputs are renamed into place only once both are written.
    with ExitStack() as outputs:
        for path, doc_bin in ((output_path, train_bin), (dev_output, dev_bin)):
            if path is not None:
                doc_bin.to_disk(outputs.enter_context(atomic_path(path)))
                written[Path(path)] = len(doc_bin)
    return stats, written


def _check_outputs(input_path: Path, output_path: Path, dev_output: Optional[Path]) -> None:
    """Refuse an output that is the input or the other output, whatever the path spelling;
    and a file or folder in an output's way, before anything is read."""
    if same_file(output_path, input_path):
        example = input_path.with_suffix(".spacy")
        if example.suffix == input_path.suffix:
            example = input_path.with_name(f"{input_path.stem}-docs.spacy")
        raise KDSeqError(Errors.E229.format(
            output=output_path, input=input_path, how=_how(output_path, input_path), example=example,
        ))
    if dev_output is not None:
        for other in (output_path, input_path):
            if same_file(dev_output, other):
                raise KDSeqError(Errors.E230.format(
                    dev=dev_output, other=other, how=_how(Path(dev_output), other),
                    example=output_path.with_name(f"dev-{output_path.name}"),
                ))
    for path in (output_path, dev_output):
        if path is not None:
            check_output_file(path)


def _how(a: Path, b: Path) -> str:
    return "" if a == b else " (the same file by another path)"
