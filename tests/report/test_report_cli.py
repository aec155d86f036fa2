"""`spacy kdseq report` checks --languages against the records and its outputs' folders."""
from pathlib import Path
from typing import Tuple

from typer.testing import CliRunner

from spacy_kdseq.cli import app

from .test_report import results  # noqa: F401 (fixture: en/ta teachers and students, de zero-shot)

runner = CliRunner()


def _report(results: Path, *args: str) -> Tuple[int, str]:  # noqa: F811
    result = runner.invoke(app, ["report", str(results), *args])
    return result.exit_code, " ".join(result.output.split())


def test_languages_without_records_are_refused(results: Path) -> None:  # noqa: F811
    """Not a column of dashes: fr is no language of the records."""
    code, output = _report(results, "--languages", "en fr")
    assert code == 1 and "[E409]" in output and "['fr']" in output and "['de', 'en', 'ta']" in output
    assert not (results / "report.md").exists()


def test_languages_left_out_are_named(results: Path) -> None:  # noqa: F811
    """ta is trained on (so never a zero-shot column) but not asked for."""
    code, output = _report(results, "--languages", "en")
    assert code == 0 and "[W416] The report leaves out ['ta']" in output
    assert (results / "report.md").exists()
    code, output = _report(results, "--languages", "en ta")
    assert code == 0 and "W416" not in output


def test_an_output_under_a_file_is_a_coded_error(results: Path) -> None:  # noqa: F811
    (results / "afile").write_text("")
    for option in ("--output", "--plot", "--curves"):
        code, output = _report(results, option, str(results / "afile" / "x"))
        assert code == 1 and "[E225]" in output and "afile is a file" in output
    assert not (results / "report.md").exists()
