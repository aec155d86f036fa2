from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin

from spacy_kdseq.corpora import convert_corpus, count_sentences, read_conll, to_iob2
from spacy_kdseq.corpora.conll import iter_conll_sentences
from spacy_kdseq.corpora.stats import CorpusStats
from spacy_kdseq.lang import get_doc_lang

# From shared/data/README.md.
CONLL_COUNTS = {
    "esp.train": (8323, 264715), "esp.testa": (1915, 52923), "esp.testb": (1517, 51533),
    "ned.train": (15806, 202644), "ned.testa": (2895, 37687), "ned.testb": (5195, 68875),
}


@pytest.fixture(scope="module")
def vocab():
    return spacy.blank("xx").vocab


def write(tmp_path: Path, text: str, name: str = "corpus.txt", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("name", sorted(CONLL_COUNTS))
def test_counts_match_readme(shared_data, name):
    stats = count_sentences(shared_data / "conll2002" / name)
    assert (stats.sentences, stats.tokens) == CONLL_COUNTS[name]
    assert stats.skipped["DOCSTART lines"] == (0 if name.startswith("esp") else
                                               {"train": 287, "testa": 74, "testb": 119}[name[4:]])


@pytest.mark.parametrize("name", ["esp.train", "esp.testa", "esp.testb"])
def test_spanish_quirk_has_one_stray_inside_tag(shared_data, name):
    stray = 0
    for sentence in iter_conll_sentences(shared_data / "conll2002" / name):
        previous = "O"
        for tag in sentence.tags:
            if tag.startswith("I-") and previous[2:] != tag[2:]:
                stray += 1
            previous = tag
    assert stray == 1


# esp.testb in full (it holds the stray I- tag); a slice of ned.testa (DOCSTART, POS).
@pytest.mark.parametrize("name,lang,limit", [("esp.testb", "es", None), ("ned.testa", "nl", 500)])
def test_entities_round_trip(shared_data, tmp_path, vocab, name, lang, limit):
    path = shared_data / "conll2002" / name
    stats, written = convert_corpus(path, tmp_path / "out.spacy", lang, limit=limit)
    docs = list(DocBin().from_disk(tmp_path / "out.spacy").get_docs(vocab))
    sentences = list(iter_conll_sentences(path))[:limit]
    assert written == {tmp_path / "out.spacy": len(sentences)} and len(docs) == len(sentences)
    for doc, sentence in zip(docs, sentences):
        assert [t.text for t in doc] == sentence.words
        iob = [t.ent_iob_ + "-" + t.ent_type_ if t.ent_type_ else "O" for t in doc]
        assert iob == to_iob2(sentence.tags)
        assert [t.tag_ for t in doc] == [cols[0] for cols in sentence.middle]
        assert get_doc_lang(doc) == lang
    assert stats.entities == sum(len(doc.ents) for doc in docs)


def test_iob1_bioes_and_docstart(tmp_path, vocab):
    text = (
        "-DOCSTART- -X- O\n\n"
        "Ann x I-PER\nBo y I-PER\nCy z B-PER\nand o O\n\n\n"
        "-DOCSTART- -X- O\n"
        "Rome a S-LOC\nThe b B-ORG\nTimes c E-ORG\n"
        "-DOCSTART- -X- O\n"
        "w w O\n"
    )
    path = write(tmp_path, text)
    stats = CorpusStats()
    docs = list(read_conll(path, "en", vocab, stats=stats))
    assert [[(e.text, e.label_) for e in doc.ents] for doc in docs] == [
        [("Ann Bo", "PER"), ("Cy", "PER")],
        [("Rome", "LOC"), ("The Times", "ORG")],
        [],
    ]
    assert [t.tag_ for t in docs[0]] == ["x", "y", "z", "o"]
    assert docs[0].text == "Ann Bo Cy and"
    assert (stats.sentences, stats.tokens, stats.entities) == (3, 8, 4)
    assert stats.skipped["DOCSTART lines"] == 3


def test_two_columns_set_no_tags(tmp_path, vocab):
    docs = list(read_conll(write(tmp_path, "Ana B-PER\nrie O\n"), "es", vocab))
    assert not docs[0].has_annotation("TAG") and docs[0].ents[0].text == "Ana"


@pytest.mark.parametrize(
    "text,code,line",
    [
        ("a O\nb B-PER x\n", "E203", 2),
        ("a x O\n\nb B-PER\n", "E203", 3),
        ("a O\nb B_PER\n", "E204", 2),
        ("a O\nb PER\n", "E204", 2),
        ("a\n", "E220", 1),
        ("", "E202", None),
        ("\n\n-DOCSTART- O\n\n", "E202", None),
    ],
)
def test_bad_input(tmp_path, text, code, line):
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=code) as err:
        list(iter_conll_sentences(path))
    assert str(path) in str(err.value)
    if line is not None:
        assert f"{path}:{line}:" in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="E201"):
        list(iter_conll_sentences(tmp_path / "nope.txt"))


def test_encoding(tmp_path):
    path = write(tmp_path, "Peña B-PER\n\nSí O\n", encoding="latin-1")
    with pytest.raises(ValueError, match=rf"E208.*{path.name}:1:.*--encoding latin-1"):
        list(iter_conll_sentences(path))
    sentences = list(iter_conll_sentences(path, encoding="latin-1"))
    assert [s.words for s in sentences] == [["Peña"], ["Sí"]]
