"""The e5 path of the POS workflow on real UD slices, with a tiny BERT in e5's place:
transformer CRF teachers (teacher variant `e5`) scored zero-shot, their knowledge cached,
the two students they teach (an e5 student, variant `e5`; the CNN config, `te5`), and
stock spaCy's morphologizer on the same encoder (variant `e5`)."""
import json
import os
from pathlib import Path

import pytest

from spacy_kdseq.corpora import convert_corpus
from spacy_kdseq.run_record import tagged_variant
from spacy_kdseq.workflow.annotation import annotate_teachers
from spacy_kdseq.workflow.backends import run_serial
from spacy_kdseq.workflow.layout import teacher_model
from spacy_kdseq.workflow.plan import pending, spacy_units, student_units, teacher_units
from spacy_kdseq.workflow.units import run_unit

REPO = Path(__file__).resolve().parents[2]
LANGS, ZERO_SHOT = ["en", "ta"], ["de"]
SOURCES = {
    "en": ("UD_English-LinES", "en_lines-ud"), "ta": ("UD_Tamil-TTB", "ta_ttb-ud"),
    "de": ("UD_German-GSD", "de_gsd-ud"),
}
# A few steps of small batches: enough to run every e5 path, as the smoke-e5 workflow does.
E5 = {"training.max_steps": 4, "training.eval_frequency": 2, "training.batcher.size": 300}
CNN = {"components.tok2vec.model.encode.width": 32, "components.tok2vec.model.encode.depth": 1,
       "training.max_steps": 4, "training.eval_frequency": 2,
       "training.batcher.size.start": 300, "training.batcher.size.stop": 300}


def _label(unit) -> str:
    return unit.label


@pytest.fixture(scope="module")
def root(shared_data: Path, tiny_bert, tmp_path_factory) -> Path:
    """en + ta UD slices (de for zero-shot), e5 teachers trained and their knowledge cached."""
    root = tmp_path_factory.mktemp("workflow-e5-pos")
    words = []
    for lang, (treebank, prefix) in SOURCES.items():
        splits = [("test", "test", 20)] if lang in ZERO_SHOT else [
            ("train", "train", 30), ("dev", "dev", 15), ("test", "test", 15)]
        for split, suffix, limit in splits:
            out = root / "corpus" / "pos" / split / f"{lang}.spacy"
            out.parent.mkdir(parents=True, exist_ok=True)
            source = shared_data / "ud" / treebank / f"{prefix}-{suffix}.conllu"
            convert_corpus(source, out, lang, limit=limit)
            words += [line.split("\t")[1] for line in source.read_text(encoding="utf8").splitlines()[:400]
                      if line and line[0].isdigit()]
    encoder = str(tiny_bert(words, root / "tiny-bert"))
    cwd = os.getcwd()
    os.chdir(REPO)  # units name the repository's configs by relative path, as project.yml does
    try:
        teacher_variant = tagged_variant("default", "e5")
        run_serial(teacher_units("pos", root, LANGS, ZERO_SHOT, overrides=E5, variant=teacher_variant,
                                 encoder=encoder), run_unit, _label)
        teachers = {lang: str(teacher_model(root, "pos", lang, teacher_variant)) for lang in LANGS}
        annotate_teachers("pos", root, teachers, teacher_variant=teacher_variant)
        students = student_units("pos", root, LANGS, ZERO_SHOT, ["posterior"], [0], overrides=E5,
                                 variant=tagged_variant("default", "e5"), teacher_variant=teacher_variant,
                                 encoder=encoder)
        students += student_units("pos", root, LANGS, ZERO_SHOT, ["posterior"], [0], overrides=CNN,
                                  variant=tagged_variant("default", "te5"), teacher_variant=teacher_variant)
        stock = spacy_units("pos", root, LANGS[:1], ZERO_SHOT, overrides=E5, xx_overrides=None,
                            variant=teacher_variant, encoder=encoder)
        run_serial(students + stock, run_unit, _label)
        assert pending(students + stock) == []
        yield root
    finally:
        os.chdir(cwd)


def _record(root: Path, *parts: str) -> dict:
    return json.loads((root / "results" / "pos" / Path(*parts)).read_text())


def test_e5_teachers_are_recorded_with_zero_shot_scores(root: Path) -> None:
    for lang in LANGS:
        record = _record(root, "teachers-e5", f"{lang}.json")
        assert record["variant"] == "e5" and record["encoder"].endswith("tiny-bert")
        assert sorted(record["test"]["languages"]) == sorted([lang, *ZERO_SHOT])
        assert all(0 <= s["pos_acc"] <= 1 for s in record["test"]["languages"].values())


def test_both_students_learn_from_the_e5_teachers(root: Path) -> None:
    e5 = _record(root, "students-e5", "posterior", "seed-0.json")
    cnn = _record(root, "students-te5", "posterior", "seed-0.json")
    assert e5["encoder"].endswith("tiny-bert") and cnn["encoder"] == "cnn"
    for record in (e5, cnn):
        assert record["teacher_variant"] == "e5" and record["train_langs"] == LANGS
        assert sorted(record["test"]["languages"]) == sorted([*LANGS, *ZERO_SHOT])
        assert sorted(record["teacher_encoders"]) == LANGS


def test_stock_spacy_on_the_encoder_is_recorded_per_language_only(root: Path) -> None:
    record = _record(root, "spacy-e5", "en.json")
    assert record["kind"] == "spacy" and record["variant"] == "e5"
    assert record["encoder"].endswith("tiny-bert") and record["train_langs"] == ["en"]
    assert record["settings"]["components.tagger.factory"] == "morphologizer"
    assert sorted(record["test"]["languages"]) == sorted(["en", *ZERO_SHOT])
    assert not (root / "results" / "pos" / "spacy-e5" / "xx.json").exists()
