"""Check what `spacy project run smoke` produced (used by CI).

Every expected file exists (corpora, teachers, one run record per teacher, stock-spaCy
model, student method and seed, the report and its figures); each report has every row
and language; every score is in [0, 1]; every student scores clearly above a
majority-label baseline on each task; the README's Python snippets, which load the smoke
students, run as written; with --rerun-log, a second run skipped every step.
"""
import json
import re
import traceback
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional

import srsly
import typer
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from spacy_kdseq.lang import get_doc_lang
from spacy_kdseq.distill.methods import METHODS

MARGIN = 0.05  # "clearly above": at least 5 points over the majority baseline
SCORE_KEYS = ("ents_p", "ents_r", "ents_f", "pos_acc", "tag_acc")


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
    expected += [results / name for name in ("report.md", "report.png", "curves.png")]
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
        if data["training"]["steps"] <= 0 or not data["curve"]:
            errors.append(f"{path}: no training steps or no learning curve recorded")
        for lang, scores in data["test"]["languages"].items():
            for key in SCORE_KEYS:
                value = scores.get(key)
                if value is not None and not 0.0 <= value <= 1.0:
                    errors.append(f"{path}: {lang} {key} = {value} outside [0, 1]")
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


def main(root: Path = typer.Argument(Path("smoke")), rerun_log: Optional[Path] = typer.Option(None)) -> None:
    v = _vars()
    methods = v["methods"].split()
    seeds = [int(seed) for seed in v["smoke_seeds"].split()]
    errors = check_task(root, "ner", v["smoke_ner_langs"].split(), v["smoke_ner_zero_shot"].split(), methods, seeds)
    errors += check_task(root, "pos", v["smoke_pos_langs"].split(), v["smoke_pos_zero_shot"].split(), methods, seeds)
    if root.resolve() == Path("smoke").resolve():
        errors += readme_snippets()
    if rerun_log is not None:
        log = rerun_log.read_text(encoding="utf8")
        workflow = srsly.read_yaml("project.yml")["workflows"]["smoke"]
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
