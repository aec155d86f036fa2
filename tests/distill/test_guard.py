"""`spacy train` on a student config refuses to train the baseline in silence."""
import pytest
from spacy.cli.train import train as spacy_train

from spacy_kdseq.errors import KDSeqError

from .conftest import CONFIGS, TINY


def _overrides(kd_data, **extra):
    return {
        **TINY, "paths.train": str(kd_data["corpus"]), "paths.dev": str(kd_data["corpus"] / "es.spacy"),
        "training.max_steps": 2, **extra,
    }


def test_spacy_train_names_kdseq_distill(kd_data, tmp_path):
    with pytest.raises(KDSeqError, match=r"E325.*'posterior'.*spacy kdseq distill"):
        spacy_train(CONFIGS / "student-ner.cfg", tmp_path, overrides=_overrides(kd_data))


def test_spacy_train_runs_the_baseline_when_asked(kd_data, tmp_path):
    spacy_train(CONFIGS / "student-ner.cfg", tmp_path,
                overrides=_overrides(kd_data, **{"distillation.method": "none"}))
    assert (tmp_path / "model-last").exists()
