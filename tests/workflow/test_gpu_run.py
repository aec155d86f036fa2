"""--gpu-id 0 for real, where a CUDA GPU and CuPy are there (skipped elsewhere: CI has no
GPU): the CRF's torch kernels on CUDA give the CPU's numbers, and a CNN teacher, its
knowledge cache and a Posterior+Top-WK student all run on the GPU and record it."""
from pathlib import Path

import pytest
import torch
from thinc.util import has_cupy_gpu

from spacy_kdseq import crf
from spacy_kdseq.corpora import convert_corpus
from spacy_kdseq.workflow.annotation import annotate_teachers
from spacy_kdseq.workflow.layout import teacher_model
from spacy_kdseq.workflow.plan import student_units, teacher_units
from spacy_kdseq.workflow.units import run_unit

from .test_workflow import TINY

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    not (has_cupy_gpu and torch.cuda.is_available()), reason="needs a CUDA GPU and CuPy"
)
SENTENCES = [
    "Ana B-PER\nvive O\nen O\nMadrid B-LOC\n. O\n",
    "La O\nONU B-ORG\nabre O\nen O\nGinebra B-LOC\n. O\n",
    "Juan B-PER\nPérez I-PER\nvisita O\nel O\nPrado B-MISC\n. O\n",
]


def test_the_crf_on_cuda_gives_the_cpus_numbers() -> None:
    generator = torch.Generator().manual_seed(0)
    emissions = torch.randn(6, 9, 5, generator=generator, dtype=torch.float64)
    transitions = torch.randn(5, 5, generator=generator, dtype=torch.float64)
    start, end = torch.randn(5, generator=generator), torch.randn(5, generator=generator)
    lengths = torch.tensor([9, 1, 4, 0, 7, 3])
    mask = torch.arange(9)[None, :] < lengths[:, None]
    tags = torch.randint(0, 5, (6, 9), generator=generator)
    cpu = (emissions, mask, transitions)
    cuda = tuple(x.cuda() for x in cpu)
    ends = (start.double(), end.double())
    cuda_ends = tuple(x.cuda() for x in ends)
    pairs = [
        (crf.nll(*cpu, tags, *ends, compiled=False), crf.nll(*cuda, tags.cuda(), *cuda_ends)),
        (crf.marginals(*cpu, *ends), crf.marginals(*cuda, *cuda_ends)),
        (crf.posteriors(*cpu, *ends)[1], crf.posteriors(*cuda, *cuda_ends)[1]),
        (crf.kbest(*cpu, 4, *ends, compiled=False)[0], crf.kbest(*cuda, 4, *cuda_ends)[0]),
    ]
    for on_cpu, on_cuda in pairs:
        assert on_cuda.is_cuda
        torch.testing.assert_close(on_cuda.cpu(), on_cpu)
    best_cpu = crf.viterbi(*cpu, *ends, compiled=False)[1]
    assert torch.equal(crf.viterbi(*cuda, *cuda_ends)[1].cpu(), best_cpu)


def test_a_teacher_its_knowledge_and_a_kd_student_run_on_the_gpu(tmp_path: Path, monkeypatch) -> None:
    conll = tmp_path / "es.conll"
    conll.write_text("\n".join(SENTENCES), encoding="utf8")
    for split in ("train", "dev", "test"):
        convert_corpus(conll, tmp_path / "corpus" / "ner" / split / "es.spacy", "es")
    monkeypatch.chdir(REPO)  # units name the repository's configs by relative path
    (teacher,) = teacher_units("ner", tmp_path, ["es"], [], overrides=TINY, gpu_id=0)
    records = [run_unit(teacher)]
    annotate_teachers("ner", tmp_path, {"es": str(teacher_model(tmp_path, "ner", "es"))}, gpu_id=0)
    (student,) = student_units("ner", tmp_path, ["es"], [], ["posterior+topwk"], [0],
                               overrides=TINY, gpu_id=0)
    records.append(run_unit(student))
    for record in records:
        assert record["machine"]["gpu"] == torch.cuda.get_device_name(0)
        assert record["training"]["steps"] == TINY["training.max_steps"]
        assert 0.0 <= record["test"]["average"]["ents_f"] <= 1.0
    assert records[1]["inputs"]["teachers"]  # the student learned from the GPU teacher
