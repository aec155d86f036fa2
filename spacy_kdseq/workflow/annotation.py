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
from spacy.tokens import DocBin
from thinc.api import Config

from ..distill.cache import Knowledge, KnowledgeCache, entry_key, hash_file, hash_pipeline
from ..distill.settings import parse_settings
from ..distill.teachers import annotate, load_teacher, union_tag_names
from ..distill.train import CRF_FACTORIES, Prepared, _read_train_corpus, prepare
from ..lang import get_doc_lang
from .backends import run_units


@dataclass(frozen=True)
class AnnotateUnit:
    """One teacher's knowledge for its language's docs in one training file."""

    lang: str
    teacher: Path
    corpus: Path  # one .spacy training file
    labels: Tuple[str, ...]  # the student's label space: the union of every teacher's
    component: str  # the teachers' CRF component
    factory: str  # the student's factory, which the teacher must share
    cache_dir: Path
    batch_size: int
    gpu_id: int = -1

    @property
    def label(self) -> str:
        """How messages name the unit, e.g. ``annotate es smoke/corpus/ner/train/es.spacy``."""
        return f"annotate {self.lang} {self.corpus}"


def annotation_units(config: Config, *, force: bool = False, gpu_id: int = -1) -> List[AnnotateUnit]:
    """The (language, training file) entries of `config`'s cache still to build (all if `force`).

    A config `prepare` would refuse gives no units, so that `prepare` reports it.
    """
    resolved = config.interpolate()
    if "distillation" not in resolved:
        return []
    settings = parse_settings(resolved["distillation"])
    factory = resolved.get("components", {}).get(settings.component, {}).get("factory")
    if settings.method == "none" or factory not in CRF_FACTORIES:
        return []
    component = settings.teacher_pipe_name
    teachers = {
        lang: load_teacher(lang, path, component, factory)
        for lang, path in sorted(settings.teachers.items())
    }
    labels = tuple(union_tag_names(list(teachers.values())))
    cache = KnowledgeCache(Path(settings.cache_dir))
    units = []
    for path, docs_by_lang in _read_train_corpus(resolved, settings).items():
        for lang in sorted(docs_by_lang):
            if lang not in teachers:
                continue
            unit = AnnotateUnit(
                lang=lang, teacher=teachers[lang].path, corpus=Path(path), labels=labels,
                component=component, factory=factory, cache_dir=Path(settings.cache_dir),
                batch_size=settings.batch_size, gpu_id=gpu_id,
            )
            if force or not _cached(cache, unit):
                units.append(unit)
    return units


def _cached(cache: KnowledgeCache, unit: AnnotateUnit) -> bool:
    key = entry_key(hash_pipeline(unit.teacher), hash_file(unit.corpus), unit.labels,
                    unit.component, unit.lang)
    name = f"{unit.lang}-{key}.npz"  # the name `KnowledgeCache.get_or_build` gives the entry
    return name in cache.entries and (cache.dir / name).exists()


def annotate_unit(unit: AnnotateUnit) -> Knowledge:
    """Run the unit's teacher over its file's docs of its language (what `prepare` does per entry)."""
    if unit.gpu_id >= 0:
        from thinc.api import require_gpu

        require_gpu(unit.gpu_id)
    teacher = load_teacher(unit.lang, str(unit.teacher), unit.component, unit.factory)
    vocab = util.get_lang_class("xx")().vocab
    docs = [doc for doc in DocBin().from_disk(unit.corpus).get_docs(vocab) if get_doc_lang(doc) == unit.lang]
    return annotate(teacher, docs, list(unit.labels), batch_size=unit.batch_size,
                    desc=f"annotate {unit.corpus.name} ({unit.lang})")


class CacheWriter:
    """The driver's side: store each unit's knowledge in the cache as it arrives."""

    def __init__(self) -> None:
        self.caches: Dict[Path, KnowledgeCache] = {}

    def __call__(self, unit: AnnotateUnit, knowledge: Knowledge) -> None:
        cache = self.caches.setdefault(unit.cache_dir, KnowledgeCache(unit.cache_dir))
        # force: the unit has just built this entry, whatever the manifest says
        cache.get_or_build(
            teacher_path=unit.teacher, corpus_path=unit.corpus, labels=list(unit.labels),
            component=unit.component, lang=unit.lang, build=lambda: knowledge, force=True,
            on_stale=_warn,
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
    task: str, root: Path, teachers: Dict[str, str], *, gpu_id: int = -1,
    backend: str = "serial", address: str = "", unit_cpus: int = 1, check: bool = True,
) -> None:
    """Build (or reuse) the knowledge cache of `teachers` over ROOT's training corpus.

    `check` then runs `prepare` (every validation, every entry loaded), as the annotate step
    does; without it only missing entries are built (the distill step's quick check).
    """
    corpus = root / "corpus" / task
    config = util.load_config(Path(f"configs/student-{task}.cfg"), overrides={
        "paths.train": str(corpus / "train"), "paths.dev": str(corpus / "dev"),
        "distillation.method": "posterior", "distillation.cache_dir": str(root / "kd-cache" / task),
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
