"""`spacy train` on a corpus that does not fit the component: what the corpus holds and
which setting fits, instead of spaCy's bare E143 ("labels not initialized")."""
from pathlib import Path

import pytest
from spacy.cli.train import train as spacy_train

from spacy_kdseq.corpora import convert_corpus

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
TINY = {
    "components.tok2vec.model.encode.width": 16,
    "components.tok2vec.model.encode.depth": 1,
    "training.max_steps": 1,
}
CONLLU = """# text = Ana vive
1\tAna\tAna\tPROPN\tNP\t_\t2\tnsubj\t_\t_
2\tvive\tvivir\tVERB\tVM\t_\t0\troot\t_\t_

# text = Bien
1\tBien\tbien\tADV\tRG\t_\t0\troot\t_\t_
"""


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> dict:
    """The same sentences as UPOS, XPOS, entities, and tokens with no entity."""
    root = tmp_path_factory.mktemp("fit")
    (root / "ud.conllu").write_text(CONLLU, encoding="utf8")
    (root / "ner.conll").write_text("Ana B-PER\nvive O\n\nBien O\n", encoding="utf8")
    (root / "o.conll").write_text("Ana O\nvive O\n\nBien O\n", encoding="utf8")
    files = {"upos": root / "upos.spacy", "xpos": root / "xpos.spacy",
             "ner": root / "ner.spacy", "no-entities": root / "o.spacy"}
    convert_corpus(root / "ud.conllu", files["upos"], "es")
    convert_corpus(root / "ud.conllu", files["xpos"], "es", tag_column="xpos")
    convert_corpus(root / "ner.conll", files["ner"], "es")
    convert_corpus(root / "o.conll", files["no-entities"], "es")
    return files


@pytest.mark.parametrize("config,corpus,overrides,expected", [
    ("teacher-ner.cfg", "upos", {}, r"ner \(crf_ner\): the training corpus holds no entities.*"
     r"2 docs of 3 tokens, with 0 entities, Universal POS tags \(token\.pos_\) on 3 tokens.*"
     r"looks like a POS corpus.*teacher-pos\.cfg"),
    ("teacher-ner.cfg", "no-entities", {}, r"holds no entities.*2 docs of 3 tokens, with 0 "
     r"entities.*spacy kdseq convert"),
    ("teacher-pos.cfg", "xpos", {}, r"holds no Universal POS tags.*fine-grained tags "
     r"\(token\.tag_\) on 3.*set attr = \"tag\".*--components\.tagger\.attr tag"),
    ("teacher-pos.cfg", "upos", {"components.tagger.attr": "tag"}, r"holds no fine-grained "
     r"tags.*set attr = \"pos\".*--components\.tagger\.attr pos.*--tag-column xpos"),
    ("teacher-pos.cfg", "ner", {}, r"holds no Universal POS tags.*1 entities.*looks like an NER "
     r"corpus.*teacher-ner\.cfg"),
])
def test_a_corpus_that_does_not_fit_says_what_it_holds(corpora, config, corpus, overrides, expected):
    paths = {"paths.train": str(corpora[corpus]), "paths.dev": str(corpora[corpus])}
    with pytest.raises(ValueError, match=r"E232\] .*" + expected):
        spacy_train(CONFIGS / config, None, overrides={**TINY, **paths, **overrides})


def test_spacy_train_without_paths_says_which_to_set():
    with pytest.raises(ValueError, match=r"E231.*paths\.train and paths\.dev"):
        spacy_train(CONFIGS / "teacher-ner.cfg", None, overrides=TINY)
