"""Corpus files where a DocBin belongs: the error names the file and says what it holds.

spaCy's own errors name no file: E1014 ("not in the current binary format", about v2
JSON) for an empty, cut or text file, W090 and a later E923 for a CoNLL file or a folder
without .spacy files, an AttributeError for a reader without a path.
"""
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc, DocBin
from spacy.util import registry

from spacy_kdseq.corpora.docbin import check_corpus_path, read_docbin
from spacy_kdseq.lang import set_doc_lang

READERS = ["spacy-kdseq.Corpus.v1", "spacy-kdseq.LanguageBalancedCorpus.v1"]


def _docbin(path: Path) -> Path:
    nlp = spacy.blank("xx")
    docs = []
    for i in range(20):
        doc = Doc(nlp.vocab, words=["Ana", "vive", "en", str(i)], ents=["B-PER", "O", "O", "O"])
        set_doc_lang(doc, "es")
        docs.append(doc)
    DocBin(docs=docs, store_user_data=True).to_disk(path)
    return path


def _bad(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / ("train.spacy" if kind != "conll" else "train.conll")
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "cut":
        path.write_bytes(_docbin(tmp_path / "full.spacy").read_bytes()[:100])
    else:  # a CoNLL file, under its own name or a DocBin's
        path.write_text("Ana B-PER\nvive O\n", encoding="utf8")
    return path


@pytest.mark.parametrize("kind,what", [
    ("empty", "it is empty (0 bytes)"),
    ("cut", "its 100 bytes are truncated or corrupt"),
    ("text", "it holds text, starting 'Ana B-PER'"),
    ("conll", "it holds text, starting 'Ana B-PER'"),
])
@pytest.mark.parametrize("reader", READERS)
def test_training_readers_name_a_file_that_is_not_a_docbin(tmp_path, kind, what, reader):
    path = _bad(tmp_path, kind)
    corpus = registry.readers.get(reader)(path)
    with pytest.raises(ValueError, match=r"E233") as err:
        list(corpus(spacy.blank("xx")))
    assert f"{path} is not a DocBin" in str(err.value) and what in str(err.value)
    assert "spacy kdseq convert" in str(err.value)


@pytest.mark.parametrize("reader", READERS)
def test_a_reader_without_a_path_says_which_paths_to_set(reader):
    """`spacy train configs/teacher-ner.cfg` without --paths.train / --paths.dev."""
    corpus = registry.readers.get(reader)(None)
    with pytest.raises(ValueError, match=r"E231.*--paths\.train .*--paths\.dev"):
        list(corpus(spacy.blank("xx")))


def test_read_docbin_reads_a_docbin_and_names_a_missing_one(tmp_path):
    assert len(read_docbin(_docbin(tmp_path / "a.spacy"))) == 20
    with pytest.raises(ValueError, match=r"E201.*no\.spacy"):
        read_docbin(tmp_path / "no.spacy")


def test_corpus_paths_that_spacy_would_find_nothing_in(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.warns(UserWarning, match="W090"), pytest.raises(ValueError, match="E222"):
        check_corpus_path(tmp_path / "empty")
    with pytest.raises(ValueError, match="E201"):
        check_corpus_path(tmp_path / "missing")
    (tmp_path / "d.docbin").write_bytes(_docbin(tmp_path / "d.spacy").read_bytes())
    with pytest.raises(ValueError, match="E236"):
        check_corpus_path(tmp_path / "d.docbin")
    check_corpus_path(tmp_path / "d.spacy")
    check_corpus_path(tmp_path)
