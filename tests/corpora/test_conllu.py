from pathlib import Path

import pytest
import spacy

from spacy_kdseq.corpora import count_sentences, read_conllu
from spacy_kdseq.corpora.conllu import iter_conllu_sentences
from spacy_kdseq.corpora.stats import CorpusStats

# Sentence counts from shared/data/README.md (train, dev, test; None: no file).
UD_COUNTS = {
    "UD_English-LinES": (3457, 1118, 1121), "UD_French-Sequoia": (2231, 412, 456),
    "UD_Tamil-TTB": (400, 80, 120), "UD_Hebrew-HTB": (None, 484, 491),
    "UD_Indonesian-GSD": (None, 559, 557), "UD_Persian-Seraji": (None, 599, 600),
    "UD_Slovenian-SST": (None, 595, 432), "UD_English-EWT": (None, 2001, 2077),
    "UD_German-GSD": (None, 799, 977), "UD_Dutch-Alpino": (None, 718, 596),
    "UD_Spanish-GSD": (None, 1400, 427),
}

SAMPLE = (
    "# sent_id = 1\n"
    "# text = I didn't go, Bob.\n"
    "1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_\n"
    "2-3\tdidn't\t_\t_\t_\t_\t_\t_\t_\t_\n"
    "2\tdid\tdo\tAUX\tVBD\t_\t4\taux\t_\t_\n"
    "3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_\n"
    "4\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\tSpaceAfter=No\n"
    "4.1\tgo\tgo\tVERB\tVB\t_\t_\t_\t4:conj\t_\n"
    "5\t,\t,\tPUNCT\t,\t_\t4\tpunct\t_\t_\n"
    "6\tBob\tBob\tPROPN\tNNP\t_\t4\tvocative\t_\tSpaceAfter=No\n"
    "7\t.\t.\tPUNCT\t.\t_\t4\tpunct\t_\t_\n"
    "\n"
    "1\tdel\t_\t_\t_\t_\t_\t_\t_\tSpaceAfter=No\n"
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sample.conllu"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("treebank", sorted(UD_COUNTS))
def test_counts_match_readme(shared_data, treebank):
    folder = shared_data / "ud" / treebank
    for split, expected in zip(("train", "dev", "test"), UD_COUNTS[treebank]):
        files = list(folder.glob(f"*-ud-{split}.conllu"))
        assert len(files) == (0 if expected is None else 1)
        if files:
            assert count_sentences(files[0]).sentences == expected


def test_words_spaces_and_skips(tmp_path):
    # Second sentence: a word without a multiword token, tagged with UPOS below.
    text = SAMPLE.replace("1\tdel\t_\t_\t_\t_\t_\t_\t_\tSpaceAfter=No\n",
                          "1\tOk\tok\tINTJ\tUH\t_\t0\troot\t_\t_\n")
    stats = CorpusStats()
    docs = list(read_conllu(write(tmp_path, text), "en", spacy.blank("xx").vocab, stats=stats))
    doc = docs[0]
    assert [t.text for t in doc] == ["I", "did", "n't", "go", ",", "Bob", "."]
    assert doc.text == "I didn't go, Bob."
    assert [t.pos_ for t in doc] == ["PRON", "AUX", "PART", "VERB", "PUNCT", "PROPN", "PUNCT"]
    assert not doc.has_annotation("TAG")
    assert (stats.sentences, stats.tokens, stats.tags) == (2, 8, 8)
    assert stats.skipped == {"multiword lines": 1, "empty nodes": 1}


def test_space_after_without_text(tmp_path):
    text = "\n".join(l for l in SAMPLE.split("\n") if not l.startswith("# text")).split("\n\n")[0]
    doc = next(read_conllu(write(tmp_path, text + "\n"), "en", spacy.blank("xx").vocab))
    assert doc.text == "I didn't go, Bob."


def test_xpos_goes_to_tag(tmp_path):
    text = SAMPLE.split("\n\n")[0] + "\n"
    doc = next(read_conllu(write(tmp_path, text), "en", spacy.blank("xx").vocab, tag_column="xpos"))
    assert [t.tag_ for t in doc][:3] == ["PRP", "VBD", "RB"]
    assert not doc.has_annotation("POS")


@pytest.mark.parametrize(
    "text,code,line",
    [
        ("1\ta\ta\tX\t_\t_\t0\troot\t_\t_\n3\tb\tb\tX\t_\t_\t1\tdep\t_\t_\n", "E207", 2),
        ("1\ta\ta\tX\t_\t_\t0\troot\t_\t_\n1\tb\tb\tX\t_\t_\t1\tdep\t_\t_\n", "E207", 2),
        ("1-3\tab\t_\t_\t_\t_\t_\t_\t_\t_\n1\ta\ta\tX\t_\t_\t0\troot\t_\t_\n", "E207", 1),
        ("1\ta\ta\tX\t_\t_\t0\troot\t_\t_\n2.1\tb\tb\tX\t_\t_\t_\t_\t_\t_\n", "E207", 2),
        ("x\ta\ta\tX\t_\t_\t0\troot\t_\t_\n", "E207", 1),
        ("1\ta\ta\tX\t_\t_\t0\troot\t_\n", "E203", 1),
        ("1\ta\ta\tNOUNS\t_\t_\t0\troot\t_\t_\n", "E210", 1),
        ("1\ta\ta\t_\t_\t_\t0\troot\t_\t_\n", "E209", 1),
        ("1\ta\ta\tX\t_\t_\t0\troot\t_\t_\n\n# sent_id = 2\n\n", "E205", 3),
        ("# sent_id = 1\n", "E205", 1),
        ("\n\n", "E202", None),
    ],
)
def test_bad_input(tmp_path, text, code, line):
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=code) as err:
        list(iter_conllu_sentences(path))
    if line is not None:
        assert f"{path}:{line}:" in str(err.value)


def test_missing_xpos_and_unknown_column(tmp_path):
    path = write(tmp_path, "1\ta\ta\tX\t_\t_\t0\troot\t_\t_\n")
    with pytest.raises(ValueError, match="E209.*XPOS"):
        list(iter_conllu_sentences(path, tag_column="xpos"))
    with pytest.raises(ValueError, match="E211"):
        list(iter_conllu_sentences(path, tag_column="lemma"))
