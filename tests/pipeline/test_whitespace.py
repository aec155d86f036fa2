"""Like spaCy's `ner`, `crf_ner` never starts or ends an entity on a whitespace token."""
import pytest
import spacy
from spacy.tokens import Doc
from spacy.training import Example


def _ner(scheme: str, bias: dict):
    """A crf_ner whose output layer prefers the tags in `bias` everywhere."""
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("crf_ner", config={"scheme": scheme})
    words = ["Ana", "vive", "en", "Lima"]
    ref = Doc(nlp.vocab, words=words, ents=["B-PER", "O", "O", "B-LOC"])
    nlp.initialize(lambda: [Example(Doc(nlp.vocab, words=words), ref)])
    layer = pipe.model.get_ref("output_layer")
    b = layer.get_param("b").copy()
    for tag, value in bias.items():
        b[pipe.tag_names.index(tag)] = value
    layer.set_param("b", b)
    return nlp


@pytest.mark.parametrize("scheme,tag", [("BILUO", "U-LOC"), ("BIO", "B-LOC")])
@pytest.mark.parametrize("text,ents", [
    (" \n\t \n ", []),
    ("\n\n\nBarcelona", ["Barcelona"]),
    ("Barcelona \n\n", ["Barcelona"]),
])
def test_no_entity_on_whitespace(scheme, tag, text, ents):
    nlp = _ner(scheme, {tag: 50.0})
    doc = nlp(text)
    assert [e.text for e in doc.ents] == ents
    assert all(not doc[e.start].is_space and not doc[e.end - 1].is_space for e in doc.ents)


def test_whitespace_may_be_inside_a_biluo_entity():
    nlp = _ner("BILUO", {"B-LOC": 30.0, "I-LOC": 30.0, "L-LOC": 30.0})
    doc = nlp(Doc(nlp.vocab, words=["New", "\n", "York"], spaces=[True, False, False]))
    assert [(e.start, e.end, e.label_) for e in doc.ents] == [(0, 3, "LOC")]
