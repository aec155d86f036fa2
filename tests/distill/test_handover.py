"""Distillation's handovers to spaCy and the filesystem end in coded errors: a training file
that is not a DocBin, an output under a file, a teacher an override tried to remove."""
import pytest
from typer.testing import CliRunner

from spacy_kdseq.cli import app
from spacy_kdseq.distill.settings import parse_settings
from spacy_kdseq.distill.train import distill, load_distill_config, prepare

from .conftest import CONFIGS

runner = CliRunner()


def _config(kd_data, tmp_path, train):
    return load_distill_config(CONFIGS / "student-ner.cfg", {
        "paths.train": str(train), "paths.dev": str(kd_data["corpus"] / "es.spacy"),
        "paths.teachers.es": str(kd_data["teachers"]["es"]),
        "paths.teachers.nl": str(kd_data["teachers"]["nl"]),
        "distillation.cache_dir": str(tmp_path / "cache"),
    })


@pytest.mark.parametrize("name,content,what", [
    ("es.spacy", b"", "it is empty (0 bytes)"),
    ("es.spacy", b"Ana B-PER\n", "it holds text, starting 'Ana B-PER'"),
    ("esp.train", b"Ana B-PER\n", "it holds text, starting 'Ana B-PER'"),  # the CoNLL file itself
])
def test_a_training_file_that_is_not_a_docbin_is_named(kd_data, tmp_path, name, content, what):
    train = tmp_path / name
    train.write_bytes(content)
    with pytest.raises(ValueError, match="E233") as err:
        prepare(_config(kd_data, tmp_path, train))
    assert f"{train} is not a DocBin" in str(err.value) and what in str(err.value)
    assert not (tmp_path / "cache").exists()


def test_an_output_under_a_file_is_refused_before_the_teachers_run(kd_data, tmp_path):
    (tmp_path / "afile").write_text("")
    config = tmp_path / "student.cfg"
    _config(kd_data, tmp_path, kd_data["corpus"]).to_disk(config)
    with pytest.raises(ValueError, match=r"E225.*afile is a file"):
        distill(config, tmp_path / "afile" / "student")
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("value", [None, ""])
def test_removing_a_teacher_by_override_points_to_the_dict_form(value):
    with pytest.raises(ValueError, match=r"E416.*nl = .*--distillation\.teachers '\{\"es\": "):
        parse_settings({"method": "posterior", "teachers": {"es": "t/es", "nl": value}})


def test_the_dict_form_keeps_only_the_teachers_given():
    """The documented way (docs/distillation.md) to distil from some of the teachers."""
    result = runner.invoke(app, ["distill", str(CONFIGS / "student-ner.cfg"),
                                 "--paths.teachers.nl", "null"])
    output = " ".join(result.output.split())
    assert result.exit_code == 1 and "E416" in output and "docs/distillation.md" in output
    config = load_distill_config(CONFIGS / "student-ner.cfg",
                                 {"distillation.teachers": {"es": "t/es"}})
    assert parse_settings(config.interpolate()["distillation"]).teachers == {"es": "t/es"}
