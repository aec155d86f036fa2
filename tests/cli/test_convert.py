import subprocess
import sys

import pytest
import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

from spacy_kdseq.cli import app
from spacy_kdseq.lang import get_doc_lang

runner = CliRunner()


def flat(output: str) -> str:
    """CLI output without wasabi's line wrapping."""
    return " ".join(output.split())


def test_convert_conll_slice(shared_data, tmp_path):
    out = tmp_path / "nl.spacy"
    result = runner.invoke(
        app, ["convert", str(shared_data / "conll2002" / "ned.testa"), str(out), "--lang", "nl",
              "--limit", "100"],
    )
    assert result.exit_code == 0, result.output
    assert "100 sentences, 1196 tokens, 87 entities, 1196 tags; skipped by design: 3 DOCSTART lines" in flat(result.output)
    docs = list(DocBin().from_disk(out).get_docs(spacy.blank("xx").vocab))
    assert len(docs) == 100 and {get_doc_lang(d) for d in docs} == {"nl"}


def test_convert_conllu_with_dev(shared_data, tmp_path):
    source = shared_data / "ud" / "UD_Tamil-TTB" / "ta_ttb-ud-dev.conllu"
    train, dev = tmp_path / "train.spacy", tmp_path / "dev.spacy"
    result = runner.invoke(
        app, ["convert", str(source), str(train), "-l", "ta", "--dev-fraction", "0.1",
              "--dev-output", str(dev), "--seed", "0"],
    )
    assert result.exit_code == 0, result.output
    assert "Wrote 72 docs" in result.output and "Wrote 8 docs" in result.output
    assert "80 sentences, 1263 tokens, 1263 tags; skipped by design: 121 multiword lines" in flat(result.output)


@pytest.mark.parametrize(
    "text,args,code",
    [
        ("a O\nb B-PER x\n", [], "E203"),
        ("a O\nb PER\n", [], "E204"),
        ("a O\n", ["--format", "json"], "E206"),
        ("", [], "E202"),
    ],
)
def test_convert_bad_input_exits(tmp_path, text, args, code):
    source = tmp_path / "in.txt"
    source.write_text(text)
    result = runner.invoke(app, ["convert", str(source), str(tmp_path / "o.spacy"), "-l", "en", *args])
    assert result.exit_code == 1
    assert code in result.output
    assert code == "E206" or "in.txt" in flat(result.output)
    assert not (tmp_path / "o.spacy").exists()


def test_convert_missing_file(tmp_path):
    result = runner.invoke(app, ["convert", str(tmp_path / "no.txt"), str(tmp_path / "o.spacy"), "-l", "en"])
    assert result.exit_code == 1 and "E201" in result.output


def test_spacy_cli_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "spacy", "kdseq", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "convert" in result.stdout and "evaluate" in result.stdout


@pytest.mark.parametrize("lang", ["esp", "ned", "ES", "e s"])
def test_language_codes_spacy_does_not_know_are_refused(shared_data, tmp_path, lang):
    """A mistyped code would leave the docs without a teacher at distillation time."""
    out = tmp_path / "x.spacy"
    result = runner.invoke(
        app, ["convert", str(shared_data / "conll2002" / "esp.testa"), str(out), "--lang", lang,
              "--limit", "5"],
    )
    assert result.exit_code == 1 and "E221" in flat(result.output)
    assert not out.exists()
