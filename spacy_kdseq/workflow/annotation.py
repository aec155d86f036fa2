"""Teacher annotation as units of work: one per (language, training file) not cached yet.

`prepare` (`spacy kdseq annotate`) builds every missing knowledge-cache entry in one
process. Here each missing entry is a unit whose worker runs its language's teacher
over that file's docs of that language and returns the knowledge; only the driver
writes the cache (`KnowledgeCache.get_or_build`, as each result arrives), so parallel
workers never race on the cache's manifest, and a worker killed mid-way leaves nothing
in it. `prepare` then runs as before: it validates everything and finds every entry.
"""
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Tuple

from spacy import util
from thinc.api import Config

from ..corpora.docbin import read_docbin
from ..device import setup_device
from ..distill.cache import Knowledge, KnowledgeCache
from ..distill.teachers import Teacher, TeacherPipeline, annotate, union_tag_names
from ..distill.train import Prepared, prepare, read_setup, read_train_corpus
from ..lang import get_doc_lang
from .backends import run_units
from .layout import knowledge_cache


@dataclass(frozen=True)
class AnnotateUnit:
    """One teacher's knowledge for its language's docs in one training file."""

    teacher: Teacher  # read from disk and checked against the student by the driver
    corpus: Path  # one .spacy training file
    labels: Tuple[str, ...]  # the student's label space: the union of every teacher's
    cache_dir: Path
    batch_size: int
    gpu_id: int = -1

    @property
    def label(self) -> str:
        """How messages name the unit, e.g. ``annotate es smoke/corpus/ner/train/es.spacy``."""
        return f"annotate {self.teacher.lang} {self.corpus}"


def annotation_units(config: Config, *, force: bool = False, gpu_id: int = -1) -> List[AnnotateUnit]:
    """The (language, training file) entries of `config`'s cache still to build (all if `force`).

    Reads and checks the teachers as `prepare` does (same errors); method `none` has none.
    """
    resolved = config.interpolate()
    settings, teachers = read_setup(resolved)
    if not teachers:
        return []
    labels = tuple(union_tag_names(list(teachers.values())))
    cache = KnowledgeCache(Path(settings.cache_dir))
    units = []
    for path, docs_by_lang in read_train_corpus(resolved, settings).items():
        for lang in sorted(docs_by_lang):
            if lang not in teachers:
                continue
            unit = AnnotateUnit(
                teacher=teachers[lang], corpus=Path(path), labels=labels,
                cache_dir=Path(settings.cache_dir), batch_size=settings.batch_size, gpu_id=gpu_id,
            )
            if force or not _cached(cache, unit):
                units.append(unit)
    return units


def _cached(cache: KnowledgeCache, unit: AnnotateUnit) -> bool:
    teacher = unit.teacher
    return cache.has(teacher_path=teacher.path, corpus_path=unit.corpus, labels=unit.labels,
                     component=teacher.component, lang=teacher.lang)


def annotate_unit(unit: AnnotateUnit) -> Knowledge:
    """Run the unit's teacher over its file's docs of its language (what `prepare` does per entry)."""
    if unit.gpu_id >= 0:
        setup_device(unit.gpu_id)
    lang = unit.teacher.lang
    vocab = util.get_lang_class("xx")().vocab
    docs = [doc for doc in read_docbin(unit.corpus).get_docs(vocab) if get_doc_lang(doc) == lang]
    with TeacherPipeline(unit.teacher) as pipeline:
        return annotate(unit.teacher, pipeline.get(), docs, list(unit.labels),
                        batch_size=unit.batch_size, desc=f"annotate {unit.corpus.name} ({lang})")


class CacheWriter:
    """The driver's side: store each unit's knowledge in the cache as it arrives."""

    def __init__(self) -> None:
        self.caches: Dict[Path, KnowledgeCache] = {}

    def __call__(self, unit: AnnotateUnit, knowledge: Knowledge) -> None:
        cache = self.caches.setdefault(unit.cache_dir, KnowledgeCache(unit.cache_dir))
        # force: the unit has just built this entry, whatever the manifest says
        cache.get_or_build(
            teacher_path=unit.teacher.path, corpus_path=unit.corpus, labels=list(unit.labels),
            component=unit.teacher.component, lang=unit.teacher.lang, build=lambda: knowledge,
            force=True, on_stale=_warn,
        )


def fill_cache(
    config: Config, *, force: bool = False, gpu_id: int = -1, backend: str = "serial",
    address: str = "", unit_cpus: int = 1,
) -> None:
    """Build the cache entries of `config` that are missing (all if `force`) with `backend`.

    Raises `UnitsFailed` (every failed language and file, with its error) after storing
    the entries that were built.
    """
    units = annotation_units(config, force=force, gpu_id=gpu_id)
    run_units(units, annotate_unit, _label, backend=backend, address=address,
              unit_cpus=unit_cpus, done=CacheWriter())


def annotate_config(
    config: Config, *, force: bool = False, gpu_id: int = -1, backend: str = "serial",
    address: str = "", unit_cpus: int = 1,
) -> Prepared:
    """`fill_cache`, then `prepare` as `spacy kdseq annotate` always did (it finds every entry)."""
    fill_cache(config, force=force, gpu_id=gpu_id, backend=backend, address=address, unit_cpus=unit_cpus)
    return prepare(config)


def annotate_teachers(
    task: str, root: Path, teachers: Dict[str, str], *, teacher_variant: str = "default",
    gpu_id: int = -1, backend: str = "serial", address: str = "", unit_cpus: int = 1,
    check: bool = True,
) -> None:
    """Build (or reuse) the knowledge cache of `teachers` (of `teacher_variant`) over ROOT's
    training corpus.

    `check` then runs `prepare` (every validation, every entry loaded), as the annotate step
    does; without it only missing entries are built (the distill step's quick check).
    """
    corpus = root / "corpus" / task
    cache_dir = knowledge_cache(root, task, teacher_variant)
    # Only the teachers' languages: the folder's other languages may be annotated by other
    # runs of this step (a lane per language), and whether a student trains on docs
    # without a teacher is its own check (W303) when it reads them.
    config = util.load_config(Path(f"configs/student-{task}.cfg"), overrides={
        "paths.train": str(corpus / "train"), "paths.dev": str(corpus / "dev"),
        "distillation.method": "posterior", "distillation.cache_dir": str(cache_dir),
        "corpora.train.languages": sorted(teachers),
    }, interpolate=False)
    config["distillation"]["teachers"] = dict(teachers)
    options = {"gpu_id": gpu_id, "backend": backend, "address": address, "unit_cpus": unit_cpus}
    if check:
        annotate_config(config, **options)
    else:
        fill_cache(config, **options)


def _label(unit: AnnotateUnit) -> str:
    return unit.label


def _warn(message: Any) -> None:
    warnings.warn(message, UserWarning, stacklevel=3)
