"""Numbered, decoded lines of a corpus file, read lazily."""
from pathlib import Path
from typing import Iterator, Tuple

from ..errors import Errors, KDSeqError


def iter_lines(path: Path, encoding: str = "utf-8") -> Iterator[Tuple[int, str]]:
    """Yield (1-based line number, line without its newline) for a text file.

    Lines are decoded one at a time, so a bad byte is reported on its own line
    instead of somewhere in a buffered chunk.
    """
    path = Path(path)
    if not path.is_file():
        raise KDSeqError(Errors.E201.format(path=path))
    with path.open("rb") as file_:
        for number, raw in enumerate(file_, start=1):
            try:
                line = raw.decode(encoding)
            except UnicodeDecodeError as err:
                raise KDSeqError(
                    Errors.E208.format(path=path, line=number, encoding=encoding, error=err)
                ) from None
            if number == 1:
                line = line.lstrip("\ufeff")
            yield number, line.rstrip("\r\n")
