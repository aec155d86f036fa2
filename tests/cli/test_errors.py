"""The CLIs print the package's own errors in one line and leave every other one alone."""
from pathlib import Path

import pytest
from typer.testing import CliRunner

import spacy_kdseq.distill.train as train
from spacy_kdseq.cli import app
from spacy_kdseq.errors import Errors, KDSeqError

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
runner = CliRunner()


def test_own_errors_are_one_line(monkeypatch):
    def fail(*args, **kwargs):
        raise KDSeqError(Errors.E311)

    monkeypatch.setattr(train, "distill", fail)
    result = runner.invoke(app, ["distill", str(CONFIGS / "student-ner.cfg")])
    assert result.exit_code == 1 and "E311" in result.output
    assert "Traceback" not in result.output


def test_other_value_errors_keep_their_traceback(monkeypatch):
    def fail(*args, **kwargs):
        raise ValueError("a bug deep inside numpy")

    monkeypatch.setattr(train, "distill", fail)
    result = runner.invoke(app, ["distill", str(CONFIGS / "student-ner.cfg")])
    assert isinstance(result.exception, ValueError)
    assert not isinstance(result.exception, KDSeqError)


def test_every_coded_error_is_a_value_error():
    with pytest.raises(ValueError):
        raise KDSeqError(Errors.E311)


def test_distill_on_a_missing_gpu_is_one_coded_line():
    from thinc.util import has_cupy_gpu

    if has_cupy_gpu:
        pytest.skip("this machine has a usable GPU")
    result = runner.invoke(app, ["distill", str(CONFIGS / "student-ner.cfg"), "--gpu-id", "0"])
    assert result.exit_code == 1 and "E228" in result.output and "CuPy" in result.output
    assert "Traceback" not in result.output
