"""Writing outputs so that a killed process never leaves half of one, nor destroys an input.

Every file is written under a temporary name beside its destination and renamed over it
(`os.replace`, atomic on one filesystem): a reader sees the old file or the new one,
never a 0-byte or partial one. Files are created as `open` creates them (0666 less the
umask), not with `tempfile.mkstemp`'s 0600, so that other users of shared storage can
read them. A folder or file in the way is a coded error, not a raw `OSError`.

Imports neither spaCy nor torch: the CLI and the workflow use it before any heavy work.
"""
import json
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional, Union

from .errors import Errors, KDSeqError

PathLike = Union[str, Path]


def make_dirs(path: PathLike) -> Path:
    """Create the folder `path` and its parents, or say what is in the way (E225, E227)."""
    path = Path(path)
    _make_dirs(path, path)
    return path


def check_folder(path: PathLike) -> Path:
    """Refuse a folder path with a file in its way (E225), creating nothing."""
    path = Path(path)
    blocker = _file_in_the_way(path)
    if blocker is not None:
        raise KDSeqError(Errors.E225.format(path=path, blocker=blocker))
    return path


def check_output_file(path: PathLike) -> Path:
    """Make the parent folder of the output file `path`; refuse a folder at `path` (E226)."""
    path = Path(path)
    if path.is_dir():
        raise KDSeqError(Errors.E226.format(path=path))
    _make_dirs(path.parent, path)
    return path


def _make_dirs(folder: Path, output: Path) -> None:
    """Create `folder` for `output` (the path errors name)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = _file_in_the_way(folder) or folder
        raise KDSeqError(Errors.E225.format(path=output, blocker=blocker)) from None
    except OSError as err:
        raise KDSeqError(Errors.E227.format(path=output, err=err)) from None


def _file_in_the_way(folder: Path) -> Optional[Path]:
    """The nearest of `folder` and its parents that is there but is no folder (a file, or
    a link to nothing), if any."""
    return next((p for p in (folder, *folder.parents)
                 if (p.exists() or p.is_symlink()) and not p.is_dir()), None)


def same_file(a: PathLike, b: PathLike) -> bool:
    """Whether `a` and `b` name one file: the same resolved path (links, `..`), or, both
    existing, the same inode (hard links)."""
    a, b = Path(a), Path(b)
    if a.resolve() == b.resolve():
        return True
    return a.exists() and b.exists() and os.path.samefile(a, b)


@contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """A temporary path beside `path` to write to; renamed to `path` when the block ends
    without an error, deleted when it raises (or is interrupted)."""
    path = check_output_file(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: PathLike, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf8")


def write_json_atomic(path: PathLike, data: Any) -> None:
    """Write `data` as indented JSON (one trailing newline) to `path` atomically."""
    write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def replace_dir(source: PathLike, dest: PathLike) -> None:
    """Move the folder `source` to `dest`; an older `dest` (a retrain) is moved aside, then
    deleted."""
    source, dest = Path(source), Path(dest)
    old: Optional[Path] = None
    if dest.exists():
        old = dest.parent / f".{dest.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(dest, old)
    os.replace(source, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
