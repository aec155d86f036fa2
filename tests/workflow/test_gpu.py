"""--gpu-id in the workflow: every kind of unit sets the GPU up before it trains, so on a
machine without one each fails at once, as `spacy train` does, instead of a student
training on the CPU (and, on Ray, idling the GPU it reserved)."""
import os
from pathlib import Path

import pytest
from thinc.util import has_cupy_gpu

import spacy_kdseq.distill.train as distill_train
from spacy_kdseq.corpora import convert_corpus
from spacy_kdseq.distill.teachers import Teacher
from spacy_kdseq.workflow.annotation import AnnotateUnit, annotate_unit
from spacy_kdseq.workflow.plan import spacy_units, student_units, teacher_units
from spacy_kdseq.workflow.units import run_unit

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(has_cupy_gpu, reason="this machine has a usable GPU")


@pytest.fixture
def root(tmp_path: Path, monkeypatch) -> Path:
    """A workflow root with a 2-sentence es corpus per split; nothing trained."""
    conll = tmp_path / "es.conll"
    conll.write_text("Ana B-PER\nvive O\n\nEn O\nMadrid B-LOC\n", encoding="utf8")
    for split in ("train", "dev", "test"):
        convert_corpus(conll, tmp_path / "corpus" / "ner" / split / "es.spacy", "es")
    monkeypatch.chdir(REPO)  # units name the repository's configs by relative path

    def trained(*args, **kwargs):
        raise AssertionError("training started without the GPU")

    monkeypatch.setattr(distill_train, "init_nlp", trained)
    return tmp_path


def _units(kind: str, root: Path):
    if kind == "teacher":
        return teacher_units("ner", root, ["es"], [], overrides={}, gpu_id=0)
    if kind == "spacy":
        return spacy_units("ner", root, ["es"], [], overrides={}, xx_overrides={}, gpu_id=0)
    return student_units("ner", root, ["es"], [], [kind], [0], overrides={}, gpu_id=0)


@pytest.mark.parametrize("kind,error", [
    ("teacher", r"Cannot use GPU"),  # spaCy's own check, in `spacy train`
    ("spacy", r"Cannot use GPU"),
    ("none", r"E228\] GPU 0 cannot be used: Cannot use GPU"),
    ("posterior", r"E228\] GPU 0 cannot be used: Cannot use GPU"),
])
def test_a_unit_on_a_missing_gpu_fails_before_training(root: Path, kind: str, error: str) -> None:
    unit = _units(kind, root)[0]
    with pytest.raises(ValueError, match=error):
        run_unit(unit)
    assert not unit.record.exists() and not unit.output.exists()
    assert not [p for p in unit.output.parent.iterdir() if ".partial-" in p.name]


def test_an_annotation_unit_on_a_missing_gpu_fails_before_loading_its_teacher(tmp_path: Path) -> None:
    teacher = Teacher("es", tmp_path / "no-teacher", "ner", "crf_ner", ("PER",), "BILUO")
    unit = AnnotateUnit(teacher, tmp_path / "no.spacy", ("O",), tmp_path / "cache", 8, gpu_id=0)
    with pytest.raises(ValueError, match=r"E228"):
        annotate_unit(unit)
    assert os.listdir(tmp_path) == []
