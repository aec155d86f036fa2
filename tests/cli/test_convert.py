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


def _conll(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("Ana B-PER\nvive O\n\nEn O\nMadrid B-LOC\n\nSi O\n\nNo O\n", encoding="utf8")
    return path


@pytest.mark.parametrize("spell", ["same", "symlink", "relative"])
def test_convert_refuses_to_write_over_its_input(tmp_path, monkeypatch, spell):
    source = _conll(tmp_path / "in" / "self.conll")
    before = source.read_bytes()
    (tmp_path / "in" / "link.conll").symlink_to("self.conll")
    monkeypatch.chdir(tmp_path)
    output = {"same": "in/self.conll", "symlink": "in/link.conll", "relative": "in/../in/self.conll"}[spell]
    result = runner.invoke(app, ["convert", "in/self.conll", output, "--lang", "es"])
    assert result.exit_code == 1 and "E229" in result.output
    assert "in/self.spacy" in flat(result.output)
    assert source.read_bytes() == before


@pytest.mark.parametrize("dev", ["out/same.spacy", "out/../out/same.spacy", "in.conll"])
def test_convert_refuses_a_dev_output_that_is_another_file_of_the_run(tmp_path, monkeypatch, dev):
    source = _conll(tmp_path / "in.conll")
    before = source.read_bytes()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["convert", "in.conll", "out/same.spacy", "--lang", "es",
                                 "--dev-fraction", "0.5", "--dev-output", dev])
    assert result.exit_code == 1 and "E230" in result.output
    assert not (tmp_path / "out").exists() and source.read_bytes() == before


def test_a_convert_killed_while_writing_keeps_the_old_output(tmp_path, monkeypatch):
    from spacy_kdseq.corpora import convert_corpus

    source = _conll(tmp_path / "in.conll")
    train, dev = tmp_path / "out" / "train.spacy", tmp_path / "out" / "dev.spacy"
    convert_corpus(source, train, "es", dev_fraction=0.5, dev_output=dev)
    before = {path: path.read_bytes() for path in (train, dev)}

    def killed(self):
        raise KeyboardInterrupt

    # DocBin.to_disk opens its file before it serialises: a kill in between used to
    # leave a 0-byte output in place of the old one.
    monkeypatch.setattr(DocBin, "to_bytes", killed)
    with pytest.raises(KeyboardInterrupt):
        convert_corpus(source, train, "es", dev_fraction=0.5, dev_output=dev)
    assert {path: path.read_bytes() for path in (train, dev)} == before
    assert sorted(p.name for p in train.parent.iterdir()) == ["dev.spacy", "train.spacy"]


@pytest.mark.parametrize("option", ["output", "dev"])
def test_convert_output_under_a_file_is_a_coded_error(tmp_path, option):
    source = _conll(tmp_path / "in.conll")
    (tmp_path / "afile").write_text("not a folder")
    blocked, free = str(tmp_path / "afile" / "x" / "o.spacy"), str(tmp_path / "o.spacy")
    output, dev = (blocked, free.replace("o.spacy", "d.spacy")) if option == "output" else (free, blocked)
    result = runner.invoke(app, ["convert", str(source), output, "--lang", "es",
                                 "--dev-fraction", "0.5", "--dev-output", dev])
    assert result.exit_code == 1 and "E225" in result.output
    assert "afile is a file" in flat(result.output) and not (tmp_path / "o.spacy").exists()
