"""`spacy kdseq annotate` / `distill` on the command line: help and early, clear failures."""
from typer.testing import CliRunner

from spacy_kdseq.cli import app

from .conftest import CONFIGS

runner = CliRunner()


def test_commands_are_registered():
    for command in ("annotate", "distill"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0, result.output


def test_bad_knob_fails_before_any_work(tmp_path):
    config = str(CONFIGS / "student-ner.cfg")
    result = runner.invoke(app, ["distill", config, "--output", str(tmp_path), "--distillation.topwk_k", "0"])
    assert result.exit_code == 1
    assert "E306" in result.output
    assert not any(tmp_path.iterdir())
    result = runner.invoke(app, ["annotate", config, "--distillation.method", "nope"])
    assert result.exit_code == 1 and "E305" in result.output
