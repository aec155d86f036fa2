"""What made a run, as its record keeps it: the run's whole config, the content of every
corpus file and teacher it read, the languages it trained on, its encoder
(`spacy_kdseq.run_record` says which of these make two records one report row)."""
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..hashing import hash_file, hash_pipeline
from ..lang import get_doc_lang
from ..run_record import V1_ENCODER

CORPUS_SUFFIX = ".spacy"
TRANSFORMER_FACTORY = "transformer"


def flatten(config: Mapping[str, Any]) -> Dict[str, Any]:
    """Every `section.key` value of a (nested) config as JSON-like values."""
    flat: Dict[str, Any] = {}

    def walk(prefix: str, node: Mapping[str, Any]) -> None:
        for key, value in node.items():
            if isinstance(value, Mapping):
                walk(f"{prefix}{key}.", value)
            else:
                flat[f"{prefix}{key}"] = json.loads(json.dumps(value, default=str))

    walk("", config)
    return flat


def config_encoder(config: Path, overrides: Mapping[str, Any]) -> str:
    """The encoder a config trains: its transformer's model name, or "cnn" (spaCy's tok2vec)."""
    from spacy.util import load_config

    return _encoder(load_config(config, overrides=dict(overrides), interpolate=True))


def pipeline_encoder(model: Path) -> str:
    """The encoder of a saved pipeline (from its config.cfg)."""
    from spacy.util import load_config

    # Interpolated: a saved transformer config names its model as `${paths.encoder}`.
    return _encoder(load_config(Path(model) / "config.cfg", interpolate=True))


def _encoder(config: Mapping[str, Any]) -> str:
    for component in config.get("components", {}).values():
        if component.get("factory") == TRANSFORMER_FACTORY:
            return str(component.get("model", {}).get("name"))
    return V1_ENCODER


def corpus_files(paths: Iterable[Path]) -> List[Path]:
    """The corpus files a reader given each of `paths` reads (a file, or a folder's
    `.spacy` files, as spaCy's corpus reader walks it)."""
    files: List[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob(f"*{CORPUS_SUFFIX}") if p.is_file()))
        elif path.exists():
            files.append(path)
    return files


def corpus_hashes(paths: Iterable[Path]) -> Dict[str, str]:
    """{path: sha256} of every corpus file under `paths`."""
    return {str(path): _file_digest(*_stamp(path)) for path in corpus_files(paths)}


def teacher_hashes(teachers: Mapping[str, str]) -> Dict[str, str]:
    """{lang: sha256 of the saved pipeline} of every teacher that exists."""
    return {
        lang: model_hash(Path(path)) for lang, path in teachers.items()
        if Path(path).exists()
    }


def model_hash(model: Path) -> str:
    """sha256 of a saved pipeline, as students record their teachers'."""
    return _pipeline_digest(*_stamp(Path(model)))


def teacher_encoders(teachers: Mapping[str, str]) -> Dict[str, str]:
    """{lang: encoder} of every teacher that exists."""
    return {
        lang: pipeline_encoder(Path(path)) for lang, path in teachers.items()
        if (Path(path) / "config.cfg").exists()
    }


def languages_read(path: Path, languages: Optional[Sequence[str]] = None) -> List[str]:
    """The languages of the docs a corpus reader reads from `path` (only `languages`,
    when given): what a run really trained on, whatever its unit was told."""
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    vocab = Vocab()
    found = set()
    for file_ in corpus_files([path]):
        for doc in DocBin().from_disk(file_).get_docs(vocab):
            lang = get_doc_lang(doc)
            if lang is not None and (languages is None or lang in languages):
                found.add(lang)
    return sorted(found)


def _stamp(path: Path) -> Tuple[str, int, int]:
    """A path with its size and modification time: a digest is reused only while both hold."""
    if path.is_dir():
        stats = [f.stat() for f in path.rglob("*") if f.is_file()]
        return str(path), sum(s.st_size for s in stats), max((s.st_mtime_ns for s in stats), default=0)
    stat = os.stat(path)
    return str(path), stat.st_size, stat.st_mtime_ns


@lru_cache(maxsize=None)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    return hash_file(Path(path))


@lru_cache(maxsize=None)
def _pipeline_digest(path: str, size: int, mtime_ns: int) -> str:
    return hash_pipeline(Path(path))
