"""The steps of project.yml: convert → teachers → annotate → distill / spacy → report.

A step is a list of units of work (one training run each: a teacher per language, a
student per method and seed, a stock-spaCy model per language plus one `xx`; for
annotation a teacher per training file), run with the same functions as `spacy train` /
`spacy kdseq distill` (the equivalent command line is printed for every unit), one after
another or, with `--backend ray`, in parallel on Ray (docs/cluster.md). Each unit
trains to convergence (spaCy's `training.patience`, `max_steps` only as a cap),
evaluates model-best on the test files and writes its run record under
ROOT/results/<task>/ (layout in `spacy_kdseq.workflow.plan`). Units are atomic and a
step runs only the units whose record is missing, so runs accumulate and a step never
deletes what it was not asked to redo.
"""
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import srsly
import typer
from wasabi import msg

from spacy_kdseq.run_record import tagged_variant

app = typer.Typer(add_completion=False, no_args_is_help=True)

CONLL2002 = {"es": "esp", "nl": "ned"}
# language → (treebank folder, file prefix); the paper's UD languages plus the extra
# zero-shot ones of ../shared/data.
UD = {
    "en": ("UD_English-LinES", "en_lines"),
    "fr": ("UD_French-Sequoia", "fr_sequoia"),
    "ta": ("UD_Tamil-TTB", "ta_ttb"),
    "he": ("UD_Hebrew-HTB", "he_htb"),
    "id": ("UD_Indonesian-GSD", "id_gsd"),
    "fa": ("UD_Persian-Seraji", "fa_seraji"),
    "sl": ("UD_Slovenian-SST", "sl_sst"),
    "de": ("UD_German-GSD", "de_gsd"),
    "es": ("UD_Spanish-GSD", "es_gsd"),
    "nl": ("UD_Dutch-Alpino", "nl_alpino"),
}
# Treebanks without a train file train on their dev file minus a carved-out dev split.
DEV_FRACTION = 0.1
SPLITS = ("train", "dev", "test")


# The fan-out steps' backend (docs/cluster.md).
BACKEND = typer.Option("serial", help="serial: units one after another; ray: in parallel on Ray")
RAY_ADDRESS = typer.Option("", help="With ray: '' starts a local Ray on this machine's cores, "
                           "'auto' joins a head started with `ray start --head`, or ray://HOST:10001")
UNIT_CPUS = typer.Option(1, help="With ray: CPU cores (and torch threads) each unit declares")


# The encoder of the teachers (and of one of the students): a CNN learnt from scratch, or
# multilingual-e5-small, written offline by `spacy kdseq encoder` (docs/encoders.md).
ENCODERS = ("cnn", "e5")
ENCODER = typer.Option("cnn", help="cnn: spaCy's tok2vec, trained from scratch; e5: "
                       "multilingual-e5-small from --encoder-dir (configs/*-trf.cfg)")
ENCODER_DIR = typer.Option(Path("assets/encoders/e5-small"),
                           help="With --encoder e5: the Hugging Face directory (or hub name) of the encoder")
STUDENTS = typer.Option("e5 cnn", help="With --encoder e5: the students taught by the e5 teachers: "
                        "e5 (the paper's setting) and/or cnn (the CNN student config)")
# e5 models' convergence settings (0: the trf config's own), the same for every e5 model of a task.
E5_MAX_STEPS = typer.Option(0, help="max_steps of e5 models (0: the trf config's)")
E5_PATIENCE = typer.Option(0, help="patience of e5 models (0: the trf config's)")
E5_EVAL_FREQUENCY = typer.Option(0, help="eval_frequency of e5 models (0: the trf config's)")
E5_OVERRIDES = typer.Option("", help="section.key=value overrides for e5 models only, after --overrides")


def _encoder(encoder: str, encoder_dir: Path) -> Optional[str]:
    """The transformer the e5 models use (None: CNN), checked to exist."""
    if encoder not in ENCODERS:
        msg.fail(f"--encoder {encoder!r} is not one of {', '.join(ENCODERS)}.", exits=1)
    if encoder == "cnn":
        return None
    if not (Path(encoder_dir) / "config.json").is_file():
        msg.fail(f"No Hugging Face model directory at {encoder_dir} (no config.json).",
                 "Write multilingual-e5-small there first: `spacy project run encoder` "
                 f"(python -m spacy kdseq encoder e5-small {encoder_dir}).", exits=1)
    return str(encoder_dir)


def _backend(backend: str, ray_address: str, unit_cpus: int) -> Dict[str, Any]:
    return {"backend": backend, "address": ray_address, "unit_cpus": unit_cpus}


def _show(command: str) -> None:
    msg.text(f"$ {command}")


def _split_langs(langs: str) -> List[str]:
    return [lang for lang in langs.split() if lang]


def _required(values: List[Any], option: str, step: str, what: str, example: str, var: str) -> List[Any]:
    """`values`, or E408: an empty option would make the step exit 0 having done nothing."""
    if not values:
        from spacy_kdseq.errors import Errors

        msg.fail(Errors.E408.format(option=option, step=step, what=what, example=example, var=var),
                 exits=1)
    return values


def _langs(task: str, langs: str, step: str) -> List[str]:
    """The step's languages (--langs), at least one."""
    return _required(_split_langs(langs), "langs", step, "the languages to run",
                     "es nl" if task == "ner" else "en fr",
                     f"{task}_langs (smoke_{task}_langs in the smoke workflow)")


def _sources(task: str, lang: str, assets: Path) -> Dict[str, Path]:
    """The corpus file of each split that exists for `lang` (train/dev/test)."""
    if task == "ner":
        if lang not in CONLL2002:
            msg.fail(f"No CoNLL-2002 NER data for language {lang!r}; known: {sorted(CONLL2002)}", exits=1)
        prefix = assets / "conll2002" / CONLL2002[lang]
        return {"train": Path(f"{prefix}.train"), "dev": Path(f"{prefix}.testa"), "test": Path(f"{prefix}.testb")}
    if lang not in UD:
        msg.fail(f"No UD treebank configured for language {lang!r}; known: {sorted(UD)}", exits=1)
    folder, prefix = UD[lang]
    files = {split: assets / "ud" / folder / f"{prefix}-ud-{split}.conllu" for split in SPLITS}
    if not files["train"].exists():
        del files["train"]  # this treebank trains on its dev file minus a carved-out dev split
    return files


@app.command("data")
def data(local_data: Path = typer.Option(..., help="Folder laid out like ../shared/data")) -> None:
    """Link each asset of project.yml from `local_data` after checking its checksum."""
    from weasel.util import get_checksum

    from spacy_kdseq.errors import KDSeqError
    from spacy_kdseq.fileio import make_dirs

    assets = srsly.read_yaml("project.yml")["assets"]
    missing = []
    for asset in assets:
        dest = Path(asset["dest"])
        source = local_data / dest.relative_to("assets")
        if dest.exists():
            continue
        if not source.exists():
            missing.append(str(dest))
            continue
        if get_checksum(source) != asset["checksum"]:
            msg.fail(f"{source}: checksum differs from project.yml ({asset['checksum']}); "
                     "it is not the release this project pins.", exits=1)
        if dest.is_symlink():  # a link of an earlier run to data that has moved since
            dest.unlink()
        try:
            make_dirs(dest.parent)
        except KDSeqError as err:
            msg.fail(str(err), exits=1)
        dest.symlink_to(source.resolve())
    if missing:
        msg.fail(f"{len(missing)} assets are neither in {local_data} nor in assets/: "
                 f"{', '.join(missing[:3])}…", "Run `spacy project assets` to download them.", exits=1)
    msg.good(f"All {len(assets)} assets present")


@app.command("convert")
def convert(
    task: str, root: Path = Path("."), langs: str = "", zero_shot: str = "",
    train_limit: int = 0, test_limit: int = 0,
) -> None:
    """Convert train/dev/test of every language (test only for zero-shot ones)."""
    from spacy_kdseq.corpora import convert_corpus
    from spacy_kdseq.errors import KDSeqError

    out = root / "corpus" / task
    jobs: List[Tuple[str, str, Path, Optional[int], Optional[Path]]] = []
    for lang in _langs(task, langs, "convert"):
        sources = _sources(task, lang, Path("assets"))
        if "train" in sources:
            jobs.append((lang, "train", sources["train"], train_limit or None, None))
            jobs.append((lang, "dev", sources["dev"], test_limit or None, None))
        else:
            jobs.append((lang, "train", sources["dev"], train_limit or None, out / "dev" / f"{lang}.spacy"))
        jobs.append((lang, "test", sources["test"], test_limit or None, None))
    for lang in _split_langs(zero_shot):
        jobs.append((lang, "test", _sources(task, lang, Path("assets"))["test"], test_limit or None, None))
    missing = [str(source) for _, _, source, _, _ in jobs if not source.is_file()]
    if missing:
        # Checked before anything is written: an empty corpus folder would satisfy the
        # next step's dependency and fail there, far from the cause.
        msg.fail(f"{len(missing)} corpus file(s) missing from assets/: {', '.join(missing[:3])}"
                 f"{' …' if len(missing) > 3 else ''}",
                 "Link them from vars.local_data with `spacy project run data`, or download "
                 "them with `spacy project assets`.", exits=1)
    for lang, split, source, limit, dev_output in jobs:
        output = out / split / f"{lang}.spacy"
        extra = f" --limit {limit}" if limit else ""
        if dev_output is not None:
            extra += f" --dev-fraction {DEV_FRACTION} --dev-output {dev_output}"
        _show(f"python -m spacy kdseq convert {source} {output} --lang {lang}{extra}")
        # convert_corpus writes beside the outputs and renames: a killed step leaves no half corpus.
        try:
            stats, _ = convert_corpus(
                source, output, lang, limit=limit,
                dev_fraction=DEV_FRACTION if dev_output else 0.0, dev_output=dev_output,
            )
        except KDSeqError as err:
            msg.fail(str(err), exits=1)
        msg.info(f"{lang} {split}: {stats.summary()}")


def _training_overrides(
    max_steps: int, patience: int, eval_frequency: int, extra: str = ""
) -> Dict[str, Any]:
    """Cap, patience, evaluation interval (0 keeps the config's value) and `key=value` pairs."""
    overrides: Dict[str, Any] = {}
    for pair in extra.split():
        key, sep, value = pair.partition("=")
        if not sep:
            msg.fail(f"Override {pair!r} is not of the form section.key=value", exits=1)
        try:
            overrides[key] = srsly.json_loads(value)
        except ValueError:
            overrides[key] = value
    for key, value in (("max_steps", max_steps), ("patience", patience), ("eval_frequency", eval_frequency)):
        if value:
            overrides[f"training.{key}"] = value
    return overrides


def _e5_settings(
    max_steps: int, patience: int, eval_frequency: int, overrides: str, e5_overrides: str
) -> Dict[str, Any]:
    """The e5 models' settings: their own cap, patience and interval, and the common
    --overrides followed by --e5-overrides (the later value wins)."""
    return _training_overrides(max_steps, patience, eval_frequency, f"{overrides} {e5_overrides}")


def _run(units: list, backend: Dict[str, Any]) -> None:
    from spacy_kdseq.errors import KDSeqError
    from spacy_kdseq.workflow.backends import UnitsFailed, run_units
    from spacy_kdseq.workflow.units import run_unit

    for unit in units:
        _show(unit.command())
    if backend["backend"] == "ray":
        # Longest first, so that no long run starts last: those on more languages
        # (the `xx` model, students) before the single-language ones.
        units = sorted(units, key=lambda unit: -len(unit.train_langs))
    try:
        run_units(units, run_unit, lambda unit: unit.label, **backend)
    except (UnitsFailed, KDSeqError) as err:
        msg.fail(str(err), exits=1)


def _pending(units: list, need_model: bool = False) -> list:
    from spacy_kdseq.errors import KDSeqError
    from spacy_kdseq.workflow.plan import pending

    try:
        todo = pending(units, need_model=need_model)
    except KDSeqError as err:
        msg.fail(str(err), exits=1)
    msg.info(f"{len(todo)} of {len(units)} units to run ({len(units) - len(todo)} recorded already)")
    return todo


@app.command("teachers")
def teachers(
    task: str, root: Path = Path("."), langs: str = "", zero_shot: str = "", max_steps: int = 0,
    patience: int = 0, eval_frequency: int = 0, overrides: str = "", variant: str = "default",
    gpu_id: int = -1, backend: str = BACKEND, ray_address: str = RAY_ADDRESS, unit_cpus: int = UNIT_CPUS,
    encoder: str = ENCODER, encoder_dir: Path = ENCODER_DIR, e5_max_steps: int = E5_MAX_STEPS,
    e5_patience: int = E5_PATIENCE, e5_eval_frequency: int = E5_EVAL_FREQUENCY,
    e5_overrides: str = E5_OVERRIDES,
) -> None:
    """Train one teacher per language to convergence; record each run. With --encoder e5
    the teachers are e5 CRFs, kept as teacher variant `e5` (`<variant>-e5`)."""
    from spacy_kdseq.workflow.plan import teacher_units

    model = _encoder(encoder, encoder_dir)
    if model is None:
        settings = _training_overrides(max_steps, patience, eval_frequency, overrides)
    else:
        settings = _e5_settings(e5_max_steps, e5_patience, e5_eval_frequency,
                                overrides, e5_overrides)
        variant = tagged_variant(variant, encoder)
    units = teacher_units(
        task, root, _langs(task, langs, "teachers"), _split_langs(zero_shot),
        overrides=settings, variant=variant, gpu_id=gpu_id, encoder=model,
    )
    _run(_pending(units, need_model=True), _backend(backend, ray_address, unit_cpus))


@app.command("spacy")
def spacy_baselines(
    task: str, root: Path = Path("."), langs: str = "", zero_shot: str = "", max_steps: int = 0,
    patience: int = 0, eval_frequency: int = 0, overrides: str = "", xx_overrides: str = "",
    gpu_id: int = -1, backend: str = BACKEND, ray_address: str = RAY_ADDRESS,
    unit_cpus: int = UNIT_CPUS, encoder: str = ENCODER, encoder_dir: Path = ENCODER_DIR,
    e5_max_steps: int = E5_MAX_STEPS, e5_patience: int = E5_PATIENCE,
    e5_eval_frequency: int = E5_EVAL_FREQUENCY, e5_overrides: str = E5_OVERRIDES,
) -> None:
    """Stock spaCy (`ner` / `morphologizer`) per language and one `xx` model, same protocol.
    With --encoder e5: per language on e5 (variant `e5`), with the e5 models' settings; no
    `xx` model, as --xx-overrides size the CNN tok2vec (the e5 student is the one e5 model)."""
    from spacy_kdseq.workflow.plan import spacy_units

    model = _encoder(encoder, encoder_dir)
    if model is None:
        settings = _training_overrides(max_steps, patience, eval_frequency, overrides)
        xx: Optional[Dict[str, Any]] = _training_overrides(0, 0, 0, xx_overrides)
        variant = "default"
    else:
        settings = _e5_settings(e5_max_steps, e5_patience, e5_eval_frequency,
                                overrides, e5_overrides)
        xx, variant = None, tagged_variant("default", encoder)
        msg.info(f"--encoder {encoder}: stock spaCy per language on {model} (variant {variant}); "
                 "no `xx` model, so --xx-overrides (the CNN `xx` model's) are not used.")
    units = spacy_units(
        task, root, _langs(task, langs, "spacy"), _split_langs(zero_shot), overrides=settings,
        xx_overrides=xx, variant=variant, gpu_id=gpu_id, encoder=model,
    )
    _run(_pending(units), _backend(backend, ray_address, unit_cpus))


@app.command("annotate")
def annotate(
    task: str, root: Path = Path("."), langs: str = "", teacher_variant: str = "default",
    gpu_id: int = -1, backend: str = BACKEND, ray_address: str = RAY_ADDRESS, unit_cpus: int = UNIT_CPUS,
    encoder: str = ENCODER,
) -> None:
    """Cache every teacher's knowledge once (one unit per language and file); every distill run reuses it."""
    if encoder not in ENCODERS:
        msg.fail(f"--encoder {encoder!r} is not one of {', '.join(ENCODERS)}.", exits=1)
    _annotate(task, root, _langs(task, langs, "annotate"), teacher_variant, encoder, gpu_id,
              _backend(backend, ray_address, unit_cpus))


def _teacher_variant(teacher_variant: str, encoder: str) -> str:
    """The variant the teachers of --teacher-variant and --encoder are kept under."""
    return teacher_variant if encoder == "cnn" else tagged_variant(teacher_variant, encoder)


def _teachers(task: str, root: Path, langs: List[str], teacher_variant: str, encoder: str) -> Dict[str, str]:
    """{lang: model-best} of the teachers of --teacher-variant and --encoder; fails with the
    command that trains them (the variant as the user gives it: the e5 tag is added again)."""
    from spacy_kdseq.workflow.layout import teacher_model

    kept_as = _teacher_variant(teacher_variant, encoder)
    teachers = {lang: teacher_model(root, task, lang, kept_as) for lang in langs}
    missing = [str(path) for path in teachers.values() if not path.exists()]
    if missing:
        e5_vars = "" if encoder == "cnn" else f" --vars.encoder {encoder}"
        e5_args = "" if encoder == "cnn" else f" --encoder {encoder}"
        msg.fail(f"No teacher model at {', '.join(missing)}.",
                 f"Train the teachers first: the teachers step (project.yml: {task}-teachers, "
                 f"with --vars.teacher_variant {teacher_variant}{e5_vars} and that variant's "
                 f"teacher_overrides), i.e. python scripts/workflow.py teachers {task} --root {root} "
                 f"--variant {teacher_variant}{e5_args} --langs ...", exits=1)
    return {lang: str(path) for lang, path in teachers.items()}


def _annotate(
    task: str, root: Path, langs: List[str], teacher_variant: str, encoder: str, gpu_id: int,
    backend: Dict[str, Any], check: bool = True,
) -> None:
    from spacy_kdseq.errors import KDSeqError
    from spacy_kdseq.workflow.annotation import annotate_teachers
    from spacy_kdseq.workflow.backends import UnitsFailed

    teachers = _teachers(task, root, langs, teacher_variant, encoder)
    _show(f"python -m spacy kdseq annotate configs/student-{task}.cfg "
          f"--paths.train {root / 'corpus' / task / 'train'} --backend {backend['backend']}")
    try:
        annotate_teachers(task, root, teachers, teacher_variant=_teacher_variant(teacher_variant, encoder),
                          gpu_id=gpu_id, check=check, **backend)
    except (UnitsFailed, KDSeqError) as err:
        msg.fail(str(err), exits=1)


@app.command("distill")
def distill(
    task: str, root: Path = Path("."), langs: str = "", zero_shot: str = "", methods: str = "",
    seeds: str = "0", variant: str = "default", teacher_variant: str = "default", max_steps: int = 0,
    patience: int = 0, eval_frequency: int = 0, overrides: str = "", gpu_id: int = -1,
    backend: str = BACKEND, ray_address: str = RAY_ADDRESS, unit_cpus: int = UNIT_CPUS,
    encoder: str = ENCODER, encoder_dir: Path = ENCODER_DIR, students: str = STUDENTS,
    e5_max_steps: int = E5_MAX_STEPS, e5_patience: int = E5_PATIENCE,
    e5_eval_frequency: int = E5_EVAL_FREQUENCY, e5_overrides: str = E5_OVERRIDES,
) -> None:
    """Train one student per method and seed to convergence, taught by the teachers of
    `teacher_variant`; record each run. With --encoder e5 the e5 teachers teach an e5
    student (variant `e5`) and the CNN student config (variant `te5`), per --students."""
    from spacy_kdseq.workflow.plan import student_units

    try:
        seed_list = [int(seed) for seed in seeds.split()]
    except ValueError:
        msg.fail(f"--seeds must be integers separated by spaces, e.g. '0 1 2'; got {seeds!r}", exits=1)
    method_list = _required(methods.split(), "methods", "distill", "the distillation methods",
                            "none posterior", "methods")
    _required(seed_list, "seeds", "distill", "the seeds", "0 1 2", "seeds (smoke_seeds in the smoke workflow)")
    lang_list, zero_list = _langs(task, langs, "distill"), _split_langs(zero_shot)
    model = _encoder(encoder, encoder_dir)
    cnn = _training_overrides(max_steps, patience, eval_frequency, overrides)
    if model is None:
        units = student_units(task, root, lang_list, zero_list, method_list, seed_list, overrides=cnn,
                              variant=variant, teacher_variant=teacher_variant, gpu_id=gpu_id)
    else:
        taught_by = _teacher_variant(teacher_variant, encoder)
        kinds = _required(students.split(), "students", "distill", "the students of the e5 teachers",
                          "e5 cnn", "students")
        unknown = sorted(set(kinds) - set(ENCODERS))
        if unknown:
            msg.fail(f"--students {' '.join(unknown)}: each must be one of {', '.join(ENCODERS)}.", exits=1)
        e5 = _e5_settings(e5_max_steps, e5_patience, e5_eval_frequency,
                          overrides, e5_overrides)
        units = []
        if encoder in kinds:  # the paper's setting: an e5 student of e5 teachers
            units += student_units(task, root, lang_list, zero_list, method_list, seed_list, overrides=e5,
                                   variant=tagged_variant(variant, encoder), teacher_variant=taught_by,
                                   gpu_id=gpu_id, encoder=model)
        if "cnn" in kinds:  # a transformer's knowledge at a CNN's speed
            units += student_units(task, root, lang_list, zero_list, method_list, seed_list, overrides=cnn,
                                   variant=tagged_variant(variant, f"t{encoder}"), teacher_variant=taught_by,
                                   gpu_id=gpu_id)
    todo = _pending(units)
    options = _backend(backend, ray_address, unit_cpus)
    if any(unit.name != "none" for unit in todo):
        if backend == "serial":
            _teachers(task, root, _split_langs(langs), teacher_variant, encoder)
        else:
            # Parallel students must find the knowledge cache complete, or each would build
            # the missing entries and write the cache's manifest at the same time.
            _annotate(task, root, _split_langs(langs), teacher_variant, encoder, gpu_id, options, check=False)
    _run(todo, options)


if __name__ == "__main__":
    app()
