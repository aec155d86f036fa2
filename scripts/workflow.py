"""The steps of project.yml: convert → teachers → annotate → distill → evaluate.

Each step loops over the task's languages (or methods) in one process, calling the
same functions as the `spacy train` / `spacy kdseq …` commands (whose equivalent
command line is printed for every unit of work), so a workflow pays Python's and
spaCy's start-up once per step rather than once per language. project.yml's deps and
outputs decide which steps are re-run.

Layout under ROOT (`.` for the full experiment, `smoke` for the smoke workflow):
  corpus/<task>/<split>/<lang>.spacy
  training/<task>/teachers/<lang>/model-best
  training/<task>/students/<method>/model-best  (+ <method>.cfg, timings.json)
  kd-cache/<task>/
  metrics/<task>/evaluation/{teacher-<lang>,student-<method>}.json, timings.json
"""
import shlex
import shutil
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import srsly
import typer
from wasabi import msg

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


def _show(command: str) -> None:
    msg.text(f"$ {command}")


def _split_langs(langs: str) -> List[str]:
    return [lang for lang in langs.split() if lang]


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
    return {split: path for split, path in files.items() if path.exists()}


@app.command("data")
def data(local_data: Path = typer.Option(..., help="Folder laid out like ../shared/data")) -> None:
    """Link each asset of project.yml from `local_data` after checking its checksum."""
    from weasel.util import get_checksum

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
        dest.parent.mkdir(parents=True, exist_ok=True)
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

    out = root / "corpus" / task
    if out.exists():
        shutil.rmtree(out)
    jobs: List[Tuple[str, str, Path, Optional[int], Optional[Path]]] = []
    for lang in _split_langs(langs):
        sources = _sources(task, lang, Path("assets"))
        if "train" in sources:
            jobs.append((lang, "train", sources["train"], train_limit or None, None))
            jobs.append((lang, "dev", sources["dev"], test_limit or None, None))
        else:
            jobs.append((lang, "train", sources["dev"], train_limit or None, out / "dev" / f"{lang}.spacy"))
        jobs.append((lang, "test", sources["test"], test_limit or None, None))
    for lang in _split_langs(zero_shot):
        jobs.append((lang, "test", _sources(task, lang, Path("assets"))["test"], test_limit or None, None))
    for lang, split, source, limit, dev_output in jobs:
        output = out / split / f"{lang}.spacy"
        output.parent.mkdir(parents=True, exist_ok=True)
        extra = f" --limit {limit}" if limit else ""
        if dev_output is not None:
            dev_output.parent.mkdir(parents=True, exist_ok=True)
            extra += f" --dev-fraction {DEV_FRACTION} --dev-output {dev_output}"
        _show(f"python -m spacy kdseq convert {source} {output} --lang {lang}{extra}")
        stats, _ = convert_corpus(
            source, output, lang, limit=limit,
            dev_fraction=DEV_FRACTION if dev_output else 0.0, dev_output=dev_output,
        )
        msg.info(f"{lang} {split}: {stats.summary()}")


@app.command("teachers")
def teachers(
    task: str, root: Path = Path("."), langs: str = "", max_steps: int = 0, eval_frequency: int = 0,
    overrides: str = "", gpu_id: int = -1,
) -> None:
    """Train one teacher per language with `spacy train`."""
    from spacy.cli.train import train

    corpus = root / "corpus" / task
    for lang in _split_langs(langs):
        output = root / "training" / task / "teachers" / lang
        settings = {
            "paths.train": str(corpus / "train" / f"{lang}.spacy"),
            "paths.dev": str(corpus / "dev" / f"{lang}.spacy"),
            **_training_overrides(max_steps, eval_frequency, overrides),
        }
        args = " ".join(f"--{k} {shlex.quote(str(v))}" for k, v in settings.items())
        _show(f"python -m spacy train configs/teacher-{task}.cfg --output {output} --gpu-id {gpu_id} {args}")
        train(Path(f"configs/teacher-{task}.cfg"), output, use_gpu=gpu_id, overrides=settings)


def _training_overrides(max_steps: int, eval_frequency: int, extra: str = "") -> Dict[str, Any]:
    """Step budget, evaluation interval (0 keeps the config's value) and `key=value` pairs."""
    overrides: Dict[str, Any] = {}
    for pair in extra.split():
        key, sep, value = pair.partition("=")
        if not sep:
            msg.fail(f"Override {pair!r} is not of the form section.key=value", exits=1)
        try:
            overrides[key] = srsly.json_loads(value)
        except ValueError:
            overrides[key] = value
    if max_steps:
        overrides["training.max_steps"] = max_steps
    if eval_frequency:
        overrides["training.eval_frequency"] = eval_frequency
    return overrides


def _student_config(
    task: str, root: Path, langs: List[str], method: str, training: Dict[str, Any], **knobs
) -> Path:
    """Write the student config of one method: the repo's config with this run's values."""
    from spacy.util import load_config

    corpus = root / "corpus" / task
    overrides = {
        "paths.train": str(corpus / "train"),
        "paths.dev": str(corpus / "dev"),
        "distillation.method": method,
        "distillation.cache_dir": str(root / "kd-cache" / task),
        **{f"distillation.{key}": value for key, value in knobs.items()},
        **training,
    }
    config = load_config(Path(f"configs/student-{task}.cfg"), overrides=overrides, interpolate=False)
    # Exactly this run's teachers, whatever the config lists by default.
    config["distillation"]["teachers"] = {
        lang: str(root / "training" / task / "teachers" / lang / "model-best") for lang in langs
    }
    path = root / "training" / task / "students" / f"{method}.cfg"
    path.parent.mkdir(parents=True, exist_ok=True)
    config.to_disk(path)
    return path


@app.command("annotate")
def annotate(task: str, root: Path = Path("."), langs: str = "", gpu_id: int = -1) -> None:
    """Cache every teacher's knowledge once; every distill run reuses it."""
    from spacy.cli._util import setup_gpu

    from spacy_kdseq.distill.train import load_distill_config, prepare

    setup_gpu(gpu_id)
    path = _student_config(task, root, _split_langs(langs), "posterior", {})
    _show(f"python -m spacy kdseq annotate {path}")
    prepare(load_distill_config(path))
    path.unlink()


@app.command("distill")
def distill(
    task: str, root: Path = Path("."), langs: str = "", methods: str = "", max_steps: int = 0,
    eval_frequency: int = 0, overrides: str = "", k: int = 10, temperature: float = 4.0, kd_weight: float = 1.0, kd_weight_decay: float = 0.005,
    gpu_id: int = -1,
) -> None:
    """Train one student per method; record each run's wall-clock time."""
    from spacy.cli._util import setup_gpu

    from spacy_kdseq.distill.train import distill as run_distill

    setup_gpu(gpu_id)
    students = root / "training" / task / "students"
    if students.exists():
        shutil.rmtree(students)
    timings: Dict[str, float] = {}
    for method in methods.split():
        path = _student_config(
            task, root, _split_langs(langs), method, _training_overrides(max_steps, eval_frequency, overrides),
            k=k, temperature=temperature, kd_weight=kd_weight, kd_weight_decay=kd_weight_decay,
        )
        output = students / method
        _show(f"python -m spacy kdseq distill {path} --output {output} --gpu-id {gpu_id}")
        start = time.perf_counter()
        run_distill(path, output, use_gpu=gpu_id)
        timings[method] = time.perf_counter() - start
    srsly.write_json(students / "timings.json", timings)


@app.command("evaluate")
def evaluate(
    task: str, root: Path = Path("."), langs: str = "", zero_shot: str = "", methods: str = "",
    gpu_id: int = -1,
) -> None:
    """Teachers on their language (and zero-shot ones), students on every language."""
    import spacy
    from spacy.cli._util import setup_gpu

    from spacy_kdseq.evaluation import evaluate_pipeline, load_gold

    setup_gpu(gpu_id)
    test = root / "corpus" / task / "test"
    out = root / "metrics" / task / "evaluation"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    zero = [test / f"{lang}.spacy" for lang in _split_langs(zero_shot)]
    models = [
        (f"teacher-{lang}", root / "training" / task / "teachers" / lang / "model-best",
         [test / f"{lang}.spacy"] + zero)
        for lang in _split_langs(langs)
    ]
    everything = [test / f"{lang}.spacy" for lang in _split_langs(langs)] + zero
    models += [
        (f"student-{method}", root / "training" / task / "students" / method / "model-best", everything)
        for method in methods.split()
    ]
    for name, model, files in models:
        output = out / f"{name}.json"
        _show(f"python -m spacy kdseq evaluate {model} {' '.join(map(str, files))} --output {output}")
        nlp = spacy.load(model)
        gold, found = load_gold([(None, path) for path in files], nlp)
        metrics = evaluate_pipeline(nlp, gold, task=task, model=str(model), files=found)
        srsly.write_json(output, metrics)
    timings = root / "training" / task / "students" / "timings.json"
    if timings.exists():
        shutil.copy(timings, out / "timings.json")
    msg.good(f"Wrote {len(models)} evaluations to {out}")


if __name__ == "__main__":
    app()
