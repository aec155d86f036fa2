"""The on-disk knowledge cache: one compressed ``.npz`` per (teacher, corpus file, language).

Layout of ``cache_dir``::

    manifest.json          {"format_version": 1, "entries": {file name: entry}}
    <lang>-<key>.npz       keys (N,) int64, offsets (N+1,) int64, emissions (n_tokens, L)
                           float16, transitions (L, L), start (L,), end (L,) float32

`key` hashes everything the content depends on (teacher files, corpus bytes, label
space, teacher component, format version), so a changed teacher or corpus never matches
an old file. Each entry records the sha256 of its file: a file that does not match, or
does not load, is corrupt and refused rather than used.
"""
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy

from ..errors import Errors, KDSeqError, Warnings
from ..fileio import atomic_path, check_folder, write_json_atomic
from ..hashing import hash_file, hash_pipeline

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


@dataclass
class Knowledge:
    """One teacher's potentials for the docs of one corpus file, in the student's label space."""

    lang: str
    labels: List[str]  # the label space of `emissions`' columns
    keys: numpy.ndarray  # (N,) int64 doc keys, see `doc_key`
    offsets: numpy.ndarray  # (N+1,) int64: doc i's rows are offsets[i]:offsets[i+1]
    emissions: numpy.ndarray  # (n_tokens, L) float16
    transitions: numpy.ndarray  # (L, L) float32
    start: numpy.ndarray  # (L,) float32
    end: numpy.ndarray  # (L,) float32


def doc_key(words: Sequence[str]) -> int:
    """A stable 63-bit key of a doc's words: knowledge survives shuffling and filtering."""
    digest = hashlib.blake2b("\x1f".join(words).encode("utf8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def entry_key(
    teacher_hash: str, corpus_hash: str, labels: Sequence[str], component: str, lang: str
) -> str:
    """The cache key of one (teacher, corpus, label space) combination."""
    blob = json.dumps(
        [FORMAT_VERSION, teacher_hash, corpus_hash, list(labels), component, lang]
    ).encode("utf8")
    return hashlib.sha256(blob).hexdigest()[:20]


class KnowledgeCache:
    """Read, validate and write the entries of one cache directory."""

    def __init__(self, cache_dir: Path) -> None:
        self.dir = Path(cache_dir)
        if self.dir.exists() and not self.dir.is_dir():
            raise KDSeqError(Errors.E327.format(path=self.dir))
        check_folder(self.dir)  # before any teacher runs, not at the first write
        self.manifest_path = self.dir / MANIFEST
        self.entries: Dict[str, Dict[str, Any]] = self._read_manifest()

    def _read_manifest(self) -> Dict[str, Dict[str, Any]]:
        if not self.manifest_path.exists():
            return {}
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf8"))
            entries = data["entries"]
            version = data["format_version"]
        except (ValueError, KeyError, TypeError) as err:
            raise KDSeqError(Errors.E309.format(path=self.manifest_path, err=repr(err))) from None
        if version != FORMAT_VERSION or not isinstance(entries, dict):
            raise KDSeqError(
                Errors.E313.format(path=self.dir, found=version, expected=FORMAT_VERSION)
            )
        return entries

    def _write_manifest(self) -> None:
        write_json_atomic(
            self.manifest_path, {"format_version": FORMAT_VERSION, "entries": self.entries}
        )

    def has(
        self, *, teacher_path: Path, corpus_path: Path, labels: Sequence[str], component: str,
        lang: str,
    ) -> bool:
        """Whether `get_or_build` with these inputs would load an entry rather than build one."""
        name = self._entry_name(teacher_path, corpus_path, labels, component, lang)
        return name in self.entries and (self.dir / name).exists()

    @staticmethod
    def _entry_name(
        teacher_path: Path, corpus_path: Path, labels: Sequence[str], component: str, lang: str
    ) -> str:
        key = entry_key(hash_pipeline(teacher_path), hash_file(corpus_path), labels, component, lang)
        return f"{lang}-{key}.npz"

    def get_or_build(
        self,
        *,
        teacher_path: Path,
        corpus_path: Path,
        labels: Sequence[str],
        component: str,
        lang: str,
        build: Callable[[], Knowledge],
        force: bool = False,
        on_stale: Optional[Callable[[str], None]] = None,
    ) -> Knowledge:
        """The entry for these inputs: loaded if cached and intact, else built and saved.

        An older entry for the same corpus path and language (stale: the teacher, the
        corpus or the labels changed) is replaced, and `on_stale` told why; so is an
        entry whose file is missing (a run killed while rebuilding it). Keys hash
        contents, not paths: a copied teacher or corpus reuses the entry.
        """
        teacher_hash = hash_pipeline(teacher_path)
        corpus_hash = hash_file(corpus_path)
        key = entry_key(teacher_hash, corpus_hash, labels, component, lang)
        name = f"{lang}-{key}.npz"
        if name in self.entries and not force:
            if (self.dir / name).exists():
                return self.load(name)
            # Interrupted before this entry's file was (re)written: rebuild just this one.
            if on_stale is not None:
                on_stale(Warnings.W305.format(path=self.dir / name))
            del self.entries[name]
        stale = False
        for old_name, old in list(self.entries.items()):
            same_source = (
                old.get("corpus") == str(Path(corpus_path).resolve()) and old.get("lang") == lang
            )
            if same_source and old_name != name:
                reason = _stale_reason(old, teacher_hash, corpus_hash, labels, component)
                if on_stale is not None:
                    on_stale(Warnings.W302.format(path=self.dir / old_name, reason=reason))
                (self.dir / old_name).unlink(missing_ok=True)
                del self.entries[old_name]
                stale = True
        if stale:
            # The manifest must never name a deleted file, even if the build is killed.
            self._write_manifest()
        knowledge = build()
        self._save(name, knowledge, {
            "teacher": str(Path(teacher_path).resolve()),
            "teacher_sha256": teacher_hash,
            "corpus": str(Path(corpus_path).resolve()),
            "corpus_size": Path(corpus_path).stat().st_size,
            "corpus_mtime": Path(corpus_path).stat().st_mtime,
            "corpus_sha256": corpus_hash,
            "labels": list(labels),
            "component": component,
            "lang": lang,
        })
        return knowledge

    def _save(self, name: str, knowledge: Knowledge, meta: Dict[str, Any]) -> None:
        path = self.dir / name
        with atomic_path(path) as tmp, tmp.open("wb") as file_:
            numpy.savez_compressed(
                file_,
                keys=knowledge.keys,
                offsets=knowledge.offsets,
                emissions=knowledge.emissions.astype(numpy.float16),
                transitions=knowledge.transitions.astype(numpy.float32),
                start=knowledge.start.astype(numpy.float32),
                end=knowledge.end.astype(numpy.float32),
            )
        self.entries[name] = {
            **meta,
            "file_sha256": hash_file(path),
            "n_docs": int(len(knowledge.keys)),
            "n_tokens": int(knowledge.emissions.shape[0]),
            "bytes": path.stat().st_size,
        }
        self._write_manifest()

    def load(self, name: str) -> Knowledge:
        """The entry `name` (a key of `entries`), checked against its sha256 and shapes."""
        entry = self.entries[name]
        path = self.dir / name
        if hash_file(path) != entry.get("file_sha256"):
            raise KDSeqError(
                Errors.E309.format(path=path, err="its sha256 differs from the manifest's")
            )
        try:
            with numpy.load(path, allow_pickle=False) as data:
                arrays = {key: data[key] for key in
                          ("keys", "offsets", "emissions", "transitions", "start", "end")}
        except (OSError, ValueError, KeyError) as err:
            raise KDSeqError(Errors.E309.format(path=path, err=repr(err))) from None
        L = len(entry["labels"])
        n_docs = len(arrays["keys"])
        consistent = (
            arrays["emissions"].ndim == 2 and arrays["emissions"].shape[1] == L
            and arrays["offsets"].shape == (n_docs + 1,)
            and int(arrays["offsets"][-1]) == arrays["emissions"].shape[0]
            and arrays["transitions"].shape == (L, L)
        )
        if not consistent:
            raise KDSeqError(Errors.E309.format(path=path, err="array shapes are inconsistent"))
        return Knowledge(lang=entry["lang"], labels=list(entry["labels"]), **arrays)


def _stale_reason(
    old: Dict[str, Any], teacher_hash: str, corpus_hash: str, labels: Sequence[str], component: str
) -> str:
    if old.get("teacher_sha256") != teacher_hash:
        return "the teacher model changed"
    if old.get("corpus_sha256") != corpus_hash:
        return "the corpus file changed"
    if old.get("labels") != list(labels):
        return "the label space changed"
    return "the teacher component changed"
