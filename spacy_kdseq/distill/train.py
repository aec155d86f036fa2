"""`spacy kdseq annotate` and `spacy kdseq distill` as library functions.

`prepare` validates the config and the teachers (read from disk) and builds (or reuses)
the knowledge cache, loading each teacher only while it annotates; `distill` then trains
the student with spaCy's own `init_nlp` + `train`, with the KD objective hooked into the
student component.
"""
import sys
import warnings
from collections import defaultdict
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from spacy import util
from spacy.language import Language
from spacy.training.corpus import walk_corpus
from spacy.training.initialize import init_nlp
from spacy.training.loop import train
from thinc.api import Config

from ..corpora.docbin import check_corpus_path, read_docbin
from ..device import setup_device
from ..errors import Errors, KDSeqError, Warnings
from ..fileio import make_dirs
from ..lang import get_doc_lang
from .cache import Knowledge, KnowledgeCache
from .objective import DistillationObjective
from .settings import DistillSettings, parse_settings
from .store import KnowledgeStore
from .teachers import (
    CRF_FACTORIES, Teacher, TeacherPipeline, annotate, read_teacher, union_labels, union_tag_names,
)


class Prepared:
    """What `prepare` found: settings, teachers (as read from disk; no pipeline stays
    loaded), the knowledge, the student's labels."""

    def __init__(self, settings: DistillSettings, teachers: Dict[str, Teacher],
                 knowledge: Dict[str, List[Knowledge]], labels: List[str], cache_dir: Path) -> None:
        self.settings = settings
        self.teachers = teachers
        self.knowledge = knowledge
        self.labels = labels
        self.cache_dir = cache_dir


def load_distill_config(config_path: Path, overrides: Optional[Dict[str, Any]] = None) -> Config:
    """The training config with overrides applied, not yet interpolated."""
    return util.load_config(config_path, overrides=overrides or {}, interpolate=False)


def read_setup(resolved: Config) -> Tuple[DistillSettings, Dict[str, Teacher]]:
    """Validated settings and every teacher, read from disk and checked against the
    student (none for method `none`); `resolved` is the interpolated config."""
    if "distillation" not in resolved:
        raise KDSeqError(Errors.E311)
    if _uses_transformers(resolved) and find_spec("spacy_transformers") is None:
        raise KDSeqError(Errors.E328)
    settings = parse_settings(resolved["distillation"])
    components = resolved.get("components", {})
    student = components.get(settings.component, {})
    factory = student.get("factory")
    if factory not in CRF_FACTORIES:
        raise KDSeqError(Errors.E312.format(name=settings.component, components=sorted(components)))
    if settings.method == "none":
        return settings, {}
    scheme = student["scheme"] if "scheme" in student else _default(factory, "scheme")
    teachers = {
        lang: read_teacher(
            lang, path, settings.teacher_pipe_name, student_name=settings.component,
            student_factory=factory, student_scheme=scheme,
        )
        for lang, path in sorted(settings.teachers.items())
    }
    return settings, teachers


def prepare(config: Config, *, force: bool = False) -> Prepared:
    """Validate everything, read the teachers, and build or reuse the knowledge cache.

    A teacher is loaded only if some of its cache entries are missing (or `force`), at
    most once, and freed before the next teacher is loaded.
    """
    resolved = config.interpolate()
    settings, teachers = read_setup(resolved)
    if settings.method == "none":
        return Prepared(settings, {}, {}, [], Path(settings.cache_dir))
    labels = union_labels(list(teachers.values()), _warn)
    tag_names = union_tag_names(list(teachers.values()))
    by_file = read_train_corpus(resolved, settings)
    _check_taught(_docs_per_lang(by_file), settings)
    cache = KnowledgeCache(Path(settings.cache_dir))
    knowledge: Dict[str, List[Knowledge]] = defaultdict(list)
    for lang, teacher in teachers.items():
        with TeacherPipeline(teacher) as pipeline:
            for path, docs_by_lang in by_file.items():
                docs = docs_by_lang.get(lang)
                if not docs:
                    continue
                knowledge[lang].append(cache.get_or_build(
                    teacher_path=teacher.path, corpus_path=path, labels=tag_names,
                    component=settings.teacher_pipe_name, lang=lang, force=force,
                    on_stale=_warn,
                    build=lambda tp=pipeline, d=docs, p=path: annotate(
                        tp.teacher, tp.get(), d, tag_names, batch_size=settings.batch_size,
                        desc=f"annotate {p.name} ({tp.teacher.lang})",
                    ),
                ))
    return Prepared(settings, teachers, dict(knowledge), labels, Path(settings.cache_dir))


def read_train_corpus(resolved: Config, settings: DistillSettings) -> Dict[Path, Dict[str, list]]:
    """Training docs per .spacy file and language; checks each language's teacher policy."""
    train_key = resolved.get("training", {}).get("train_corpus", "corpora.train")
    section: Any = resolved
    for part in train_key.split("."):
        section = section.get(part, {}) if isinstance(section, dict) else {}
    corpus_path = section.get("path") if isinstance(section, dict) else None
    if not corpus_path:
        raise KDSeqError(Errors.E318.format(path=corpus_path))
    check_corpus_path(corpus_path)  # a missing path, a folder without DocBins, a CoNLL file
    # The docs the training reader yields: only `languages` when it keeps some (Corpus.v2).
    keep = section.get("languages") if isinstance(section, dict) else None
    files = walk_corpus(corpus_path, ".spacy")
    vocab = util.get_lang_class("xx")().vocab
    by_file: Dict[Path, Dict[str, list]] = {}
    for path in files:
        docs_by_lang: Dict[str, list] = defaultdict(list)
        for index, doc in enumerate(read_docbin(path).get_docs(vocab)):
            lang = get_doc_lang(doc)
            if lang is None:
                raise KDSeqError(Errors.E315.format(path=path, index=index))
            if keep is None or lang in keep:
                docs_by_lang[lang].append(doc)
        for lang, docs in docs_by_lang.items():
            if lang not in settings.teachers and settings.missing_teacher == "error":
                raise KDSeqError(Errors.E304.format(
                    path=path, n_docs=len(docs), lang=lang, teachers=sorted(settings.teachers)
                ))
        by_file[Path(path)] = dict(docs_by_lang)
    return by_file


def _docs_per_lang(by_file: Dict[Path, Dict[str, list]]) -> Dict[str, int]:
    """Number of training docs per language, over every training file."""
    counts: Dict[str, int] = defaultdict(int)
    for docs_by_lang in by_file.values():
        for lang, docs in docs_by_lang.items():
            counts[lang] += len(docs)
    return dict(sorted(counts.items()))


def _check_taught(counts: Dict[str, int], settings: DistillSettings) -> None:
    """Refuse a run that no teacher can teach, and warn, with counts, about docs no
    teacher will teach and teachers with no docs: a mistyped language code
    (`convert --lang esp`) would otherwise turn KD off quietly."""
    if not any(lang in settings.teachers for lang in counts):
        # Every doc would train on gold alone: the baseline, under a KD method's name.
        raise KDSeqError(Errors.E330.format(
            method=settings.method, langs=counts, teachers=sorted(settings.teachers),
        ))
    untaught = {lang: n for lang, n in counts.items() if lang not in settings.teachers}
    if untaught:
        _warn(Warnings.W303.format(
            counts=", ".join(f"{n} {lang!r}" for lang, n in untaught.items()),
            teachers=sorted(settings.teachers),
        ))
    idle = [lang for lang in sorted(settings.teachers) if lang not in counts]
    if idle:
        _warn(Warnings.W304.format(idle=idle, langs=counts))


def student_config(config: Config, prepared: Prepared) -> Config:
    """The config spaCy trains: student labels = the teachers' union, λ-schedule callback."""
    config = config.copy()
    name = prepared.settings.component
    if prepared.settings.method == "none":
        return config
    init = config.setdefault("initialize", {}).setdefault("components", {}).setdefault(name, {})
    init.setdefault("labels", prepared.labels)
    training = config.setdefault("training", {})
    callback: Dict[str, Any] = {"@callbacks": "spacy-kdseq.KDWeightSchedule.v1", "component": name}
    if training.get("before_update") is not None:
        callback["inner"] = training["before_update"]
    training["before_update"] = callback
    return config


def hook_student(nlp, prepared: Prepared) -> None:
    """Set the KD objective on the student component (never saved with the pipeline)."""
    if prepared.settings.method == "none":
        return
    pipe = nlp.get_pipe(prepared.settings.component)
    store = KnowledgeStore(prepared.knowledge, pipe.tag_names, prepared.settings.component)
    pipe.distillation_loss = DistillationObjective(store, prepared.settings)


def distill(
    config_path: Path, output_path: Optional[Path], *, overrides: Optional[Dict[str, Any]] = None,
    use_gpu: int = -1, force_annotate: bool = False,
) -> Tuple[Any, Prepared]:
    """Validate, annotate (or reuse the cache), then train the student like `spacy train`,
    on GPU `use_gpu` (-1: the CPU), set up first as `spacy train` does."""
    setup_device(use_gpu)
    if output_path is not None:
        make_dirs(output_path)  # a file in its way is refused before the teachers run
    nlp, prepared = init_student(
        config_path, overrides=overrides, use_gpu=use_gpu, force_annotate=force_annotate
    )
    try:
        train(nlp, output_path, use_gpu=use_gpu, stdout=sys.stdout, stderr=sys.stderr)
    finally:
        unhook_student(nlp, prepared)
    return nlp, prepared


def init_student(
    config_path: Path, *, overrides: Optional[Dict[str, Any]] = None, use_gpu: int = -1,
    force_annotate: bool = False,
) -> Tuple[Language, Prepared]:
    """Validate, annotate (or reuse the cache) and initialise the student with its KD
    objective hooked: what `distill` trains, for a caller with its own training loop
    (the workflow's resumable units). Unhook it with `unhook_student` when done."""
    config = load_distill_config(config_path, overrides)
    prepared = prepare(config, force=force_annotate)
    nlp = init_nlp(student_config(config, prepared), use_gpu=use_gpu)
    hook_student(nlp, prepared)
    return nlp, prepared


def unhook_student(nlp: Language, prepared: Prepared) -> None:
    """Take the KD objective off the student again (`hook_student`'s inverse)."""
    if prepared.settings.method != "none":
        nlp.get_pipe(prepared.settings.component).distillation_loss = None


def _uses_transformers(section: Any) -> bool:
    """Whether a config section names spacy-transformers (its factory or a function)."""
    if isinstance(section, dict):
        if section.get("factory") == "transformer":
            return True
        return any(_uses_transformers(value) for value in section.values())
    return isinstance(section, str) and section.startswith("spacy-transformers.")


def _default(factory: str, key: str) -> Any:
    """The default of a factory's setting (None if it has no such setting)."""
    # spaCy imports the entry-point factories (ours among them) when a Language is
    # made; before that, a fresh process knows no factory meta.
    if not Language.has_factory(factory):
        util.get_lang_class("xx")()
    return Language.get_factory_meta(factory).default_config.get(key)


def _warn(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=3)
