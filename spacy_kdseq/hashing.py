"""Content hashes of the files a run reads: corpora, saved pipelines.

The knowledge cache keys its entries by them and run records carry them, so that a
result or a cached annotation is never trusted once what made it has changed.
"""
import hashlib
from pathlib import Path


def hash_file(path: Path) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with Path(path).open("rb") as file_:
        for chunk in iter(lambda: file_.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def hash_pipeline(path: Path) -> str:
    """sha256 over the relative names and bytes of every file of a saved pipeline."""
    h = hashlib.sha256()
    root = Path(path)
    for file_ in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(file_.relative_to(root)).encode("utf8"))
        h.update(hash_file(file_).encode("ascii"))
    return h.hexdigest()
