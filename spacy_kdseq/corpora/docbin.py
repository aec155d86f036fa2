"""Reading a `.spacy` DocBin, with an error that names the file and says what it holds instead.

spaCy's own error for a file that is not a DocBin (E1014) names no file and speaks of v2
JSON training data; the usual causes here are a CoNLL file given where its converted
DocBin belongs, and an empty or truncated copy.
"""
from pathlib import Path
from typing import Iterable, Union

from spacy.tokens import DocBin
from spacy.training.corpus import walk_corpus

from ..errors import Errors, KDSeqError

FILE_TYPE = ".spacy"
# How much of a file that is not a DocBin the error quotes.
_PREVIEW = 200


def read_docbin(path: Union[str, Path]) -> DocBin:
    """The DocBin stored in `path` (E201: no such file; E233: not a DocBin)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise KDSeqError(Errors.E201.format(path=path)) from None
    try:
        return DocBin().from_bytes(data)
    except (ValueError, KeyError, TypeError):
        # spaCy's E1014 (not zlib data), or msgpack/keys that are not a DocBin's
        raise KDSeqError(Errors.E233.format(path=path, what=describe_bytes(data))) from None


def check_corpus_path(path: Union[str, Path]) -> None:
    """Refuse a corpus path in which spaCy's readers would find no .spacy file (they only
    warn, W090, and training fails later without naming it): E201, E222, E233, E236."""
    path = Path(path)
    if path.is_dir():
        if not walk_corpus(path, FILE_TYPE):
            raise KDSeqError(Errors.E222.format(path=path))
    elif not path.exists():
        raise KDSeqError(Errors.E201.format(path=path))
    elif path.suffix != FILE_TYPE:
        read_docbin(path)  # E233 for a CoNLL file (the usual case) or anything else
        raise KDSeqError(Errors.E236.format(path=path))


def check_docbins(paths: Iterable[Union[str, Path]]) -> None:
    """Raise `read_docbin`'s error for the first of `paths` that is not a readable DocBin."""
    for path in paths:
        read_docbin(path)


def describe_bytes(data: bytes) -> str:
    """What a file that is not a DocBin holds, as the error says it."""
    if not data:
        return "it is empty (0 bytes)"
    # The preview may end inside a multi-byte character: only earlier damage means binary.
    text = data[:_PREVIEW].decode("utf8", errors="replace")
    if "\ufffd" in text[:-3] or "\x00" in text:
        return f"its {len(data)} bytes are truncated or corrupt"
    first = next((line for line in text.splitlines() if line.strip()), text)
    return f"it holds text, starting {first.strip()!r} (a CoNLL or CoNLL-U corpus?)"
