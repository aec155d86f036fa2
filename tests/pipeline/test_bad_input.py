"""Bad input: degenerate docs, invalid or unknown gold, invalid settings."""
import numpy
import pytest
import spacy
from spacy.attrs import ENT_IOB, ENT_TYPE
from spacy.tokens import Doc
from spacy.training import Example

from ._data import ner_examples, pos_examples


@pytest.fixture(scope="module")
def nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("crf_ner")
    nlp.add_pipe("crf_tagger")
    examples = [
        Example(ner.predicted, ner.reference.copy())
        for ner in ner_examples(nlp)
    ]
    for eg, pos in zip(examples, pos_examples(nlp)):
        for token, gold in zip(eg.reference, pos.reference):
            token.pos_ = gold.pos_
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(5):
        nlp.update(examples, sgd=optimizer)
    return nlp


def test_empty_one_token_and_long_docs(nlp):
    long_text = " ".join(["word"] * 4999 + ["."])
    docs = list(nlp.pipe(["", "John", long_text, "", "Mary lives in Paris ."], batch_size=3))
    assert [len(doc) for doc in docs] == [0, 1, 5000, 0, 5]
    assert all(token.pos_ for doc in docs for token in doc)
    assert [len(doc) for doc in nlp.pipe(["", ""])] == [0, 0] and nlp("").ents == ()


def test_update_on_empty_docs(nlp):
    empty = Example.from_dict(nlp.make_doc(""), {"entities": []})
    assert nlp.update([empty]) == {"crf_ner": 0.0, "crf_tagger": 0.0}


def test_invalid_gold_span_sequence(nlp):
    words = ["in", "Madrid", "today"]
    reference = Doc(nlp.vocab, words=words)
    iob = {"O": 2, "I": 1}
    array = numpy.array(
        [[iob["O"], 0], [iob["I"], nlp.vocab.strings.add("LOC")], [iob["O"], 0]], dtype="uint64"
    )
    reference.from_array([ENT_IOB, ENT_TYPE], array)  # I without B: spaCy's E093 on read
    example = Example(Doc(nlp.vocab, words=words), reference)
    with pytest.raises(ValueError, match=r"E107.*example 0 \('in Madrid today'\).*E093"):
        nlp.get_pipe("crf_ner").gold_tags([example])


def test_unknown_labels_in_gold(nlp):
    doc = nlp.make_doc("Acme sells SUVs")
    example = Example.from_dict(doc, {"entities": [(0, 4, "COMPANY")]})
    with pytest.raises(ValueError, match=r"E106.*entity type 'COMPANY'.*\['LOC', 'ORG', 'PER'\]"):
        nlp.get_pipe("crf_ner").update([example])
    example = Example.from_dict(doc, {"pos": ["PROPN", "VERB", "SYM"]})
    with pytest.raises(ValueError, match=r"E106.*tag 'SYM'"):
        nlp.get_pipe("crf_tagger").update([example])


def test_add_label_after_initialize(nlp):
    assert nlp.get_pipe("crf_ner").add_label("PER") == 0
    with pytest.raises(ValueError, match="E105"):
        nlp.get_pipe("crf_ner").add_label("COMPANY")


@pytest.mark.parametrize(
    "factory,config,code",
    [
        ("crf_ner", {"scheme": "IOB"}, "E101"),
        ("crf_ner", {"loss_normalization": "batch"}, "E102"),
        ("crf_tagger", {"attr": "lemma"}, "E103"),
    ],
)
def test_invalid_settings(factory, config, code):
    with pytest.raises(ValueError, match=code):
        spacy.blank("en").add_pipe(factory, config=config)


def test_invalid_labels():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="E108"):
        nlp.add_pipe("crf_tagger").add_label("NN")
    with pytest.raises(ValueError, match="E104"):
        nlp.add_pipe("crf_ner").add_label(" PER")
    nlp.add_pipe("crf_tagger", name="tagger", config={"attr": "tag"}).add_label("NN")
