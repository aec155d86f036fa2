import pytest
import spacy
from spacy.tokens import DocBin

from spacy_kdseq.corpora import convert_corpus, detect_format, dev_indices, read_corpus
from spacy_kdseq.lang import get_doc_lang


def test_dev_indices_deterministic_and_sized():
    dev = dev_indices(484, 0.1, seed=0)
    assert len(dev) == 48 and dev == dev_indices(484, 0.1, seed=0)
    assert dev != dev_indices(484, 0.1, seed=1)
    assert dev_indices(10, 0.0) == set()
    for fraction in (-0.1, 1.0):
        with pytest.raises(ValueError, match="E212"):
            dev_indices(10, fraction)


def test_detect_format(tmp_path):
    (tmp_path / "a.txt").write_text("\n# sent_id = 1\n1\ta\ta\tX\t_\t_\t0\troot\t_\t_\n")
    (tmp_path / "b.txt").write_text("1\ta\ta\tX\t_\t_\t0\troot\t_\t_\n")
    (tmp_path / "c.conllu").write_text("anything\n")
    (tmp_path / "d.txt").write_text("Ana B-PER\n")
    assert [detect_format(tmp_path / n) for n in ("a.txt", "b.txt", "c.conllu", "d.txt")] == [
        "conllu", "conllu", "conllu", "conll"
    ]
    with pytest.raises(ValueError, match="E206"):
        list(read_corpus(tmp_path / "d.txt", "es", fmt="json"))


def test_convert_with_dev_and_limit(shared_data, tmp_path):
    source = shared_data / "ud" / "UD_Hebrew-HTB" / "he_htb-ud-dev.conllu"
    train, dev = tmp_path / "train.spacy", tmp_path / "dev.spacy"
    stats, written = convert_corpus(source, train, "he", limit=200, dev_fraction=0.1,
                                    dev_output=dev, seed=3)
    assert written == {train: 180, dev: 20}
    assert stats.sentences == 200
    vocab = spacy.blank("xx").vocab
    train_docs = list(DocBin().from_disk(train).get_docs(vocab))
    dev_docs = list(DocBin().from_disk(dev).get_docs(vocab))
    assert {get_doc_lang(d) for d in train_docs + dev_docs} == {"he"}
    all_docs = list(read_corpus(source, "he", vocab))[:200]
    carved = dev_indices(200, 0.1, seed=3)
    assert [d.text for d in dev_docs] == [d.text for i, d in enumerate(all_docs) if i in carved]
    assert [d.text for d in train_docs] == [
        d.text for i, d in enumerate(all_docs) if i not in carved
    ]


@pytest.mark.parametrize(
    "kwargs,code",
    [({"limit": 0}, "E219"), ({"dev_fraction": 0.1}, "E212"), ({"dev_fraction": 1.5}, "E212")],
)
def test_convert_bad_options(tmp_path, kwargs, code):
    source = tmp_path / "in.txt"
    source.write_text("Ana B-PER\n")
    if "dev_fraction" in kwargs and kwargs["dev_fraction"] > 1:
        kwargs["dev_output"] = tmp_path / "dev.spacy"
    with pytest.raises(ValueError, match=code):
        convert_corpus(source, tmp_path / "out.spacy", "es", **kwargs)
