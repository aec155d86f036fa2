"""The shared tag sets: one UPOS list, one scheme table, one span decoder, and that the
CRF, the components and the corpus readers all use them."""
import numpy
import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

from spacy_kdseq import crf, tagsets
from spacy_kdseq.corpora import conllu
from spacy_kdseq.corpora.conllu import iter_conllu_sentences
from spacy_kdseq.pipeline import crf_ner, crf_tagger
from spacy_kdseq.tagsets import SCHEMES, UPOS_TAGS, parse_tag, tag_names, tags_to_spans

# https://universaldependencies.org/u/pos/
UD_V2 = {"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON",
         "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"}


# --- UPOS --------------------------------------------------------------------------
def test_upos_is_the_ud_v2_set():
    assert len(UPOS_TAGS) == 17 and set(UPOS_TAGS) == UD_V2


def test_the_tagger_and_the_reader_read_the_one_list():
    assert crf_tagger.UPOS_TAGS is UPOS_TAGS and conllu.UPOS_TAGS is UPOS_TAGS


@pytest.mark.parametrize("tag", ["CONJ", "SPACE"])
def test_tags_outside_ud_v2_are_refused_by_both(tmp_path, tag):
    """UD v1's CONJ and spaCy's SPACE: the tagger used to accept them, the reader not."""
    with pytest.raises(ValueError, match="E108"):
        spacy.blank("en").add_pipe("crf_tagger").add_label(tag)
    path = tmp_path / "x.conllu"
    path.write_text(f"1\ta\ta\t{tag}\t_\t_\t0\troot\t_\t_\n\n", encoding="utf8")
    with pytest.raises(ValueError, match="E210"):
        list(iter_conllu_sentences(path))


def test_every_ud_v2_tag_is_a_tagger_label():
    pipe = spacy.blank("en").add_pipe("crf_tagger")
    for tag in UPOS_TAGS:
        pipe.add_label(tag)
    assert pipe.labels == UPOS_TAGS


# --- the scheme table and the CRF label space ----------------------------------------
def test_tag_names_keep_their_order():
    """The model's outputs and the knowledge cache's columns are in this order."""
    assert tag_names(["LOC", "PER"], "BILUO") == [
        "O", "B-LOC", "I-LOC", "L-LOC", "U-LOC", "B-PER", "I-PER", "L-PER", "U-PER"]
    assert tag_names(["LOC", "PER"], "BIO") == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    assert tag_names(["ADJ", "NOUN"], "IOBES")[1:5] == ["B-ADJ", "I-ADJ", "E-ADJ", "S-ADJ"]
    assert tag_names(["NOUN", "ADJ"], None) == ["NOUN", "ADJ"]


@pytest.mark.parametrize("factory,config,scheme", [
    ("crf_ner", {"scheme": "BIO"}, "BIO"),
    ("crf_ner", {"scheme": "BILUO"}, "BILUO"),
    ("crf_tagger", {"attr": "tag"}, None),
])
def test_components_use_the_shared_tag_names(monkeypatch, factory, config, scheme):
    pipe = spacy.blank("en").add_pipe(factory, config=config)
    for label in ("PER", "LOC"):
        pipe.add_label(label)
    assert pipe.scheme == scheme
    assert pipe.tag_names == tag_names(["PER", "LOC"], scheme)
    monkeypatch.setattr(tagsets, "tag_names", lambda labels, scheme: ["sentinel"])
    assert pipe.tag_names == ["sentinel"]


def test_the_ner_schemes_are_schemes_of_the_table():
    assert set(crf_ner.NER_SCHEMES) <= set(SCHEMES)


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_the_crf_constrains_every_scheme_of_the_table(scheme):
    names = tag_names(["X", "Y"], scheme)
    allowed = crf.allowed_transitions(names, scheme)
    assert allowed.transitions.shape == (len(names), len(names))


def test_the_crf_names_the_table_schemes_when_refusing_one():
    with pytest.raises(ValueError, match=r"E007.*\['BILUO', 'BIO', 'IOBES'\]"):
        crf.allowed_transitions(["O"], "IOB")


# --- span decoding ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "tags,spans",
    [
        # IOB2
        (["B-PER", "I-PER", "O", "B-LOC"], [(0, 2, "PER"), (3, 4, "LOC")]),
        (["B-PER", "B-PER"], [(0, 1, "PER"), (1, 2, "PER")]),
        # IOB1: I opens, B only separates two adjacent entities of one type
        (["I-PER", "I-PER", "B-PER", "O", "I-LOC"], [(0, 2, "PER"), (2, 3, "PER"), (4, 5, "LOC")]),
        # the CoNLL-2002 quirk: I after O or after another type opens an entity
        (["O", "I-MISC", "I-MISC"], [(1, 3, "MISC")]),
        (["B-ORG", "I-LOC"], [(0, 1, "ORG"), (1, 2, "LOC")]),
        # BIOES and BILUO
        (["B-ORG", "I-ORG", "E-ORG", "S-PER", "O"], [(0, 3, "ORG"), (3, 4, "PER")]),
        (["B-ORG", "L-ORG", "U-PER", "U-PER"], [(0, 2, "ORG"), (2, 3, "PER"), (3, 4, "PER")]),
        (["B-ORG", "E-ORG", "I-ORG"], [(0, 2, "ORG"), (2, 3, "ORG")]),
        ([], []),
    ],
)
def test_tags_to_spans(tags, spans):
    assert tags_to_spans(tags) == spans


@pytest.mark.parametrize("tag", ["B", "B-", "X-PER", "b-PER", "O-PER", "B PER", ""])
def test_invalid_tags(tag):
    with pytest.raises(ValueError):
        parse_tag(tag)


def _encode(spans, n, scheme):
    """A valid tag sequence of `scheme` for non-overlapping spans."""
    begin, inside, last, unit = SCHEMES[scheme]
    tags = ["O"] * n
    for start, end, label in spans:
        for i in range(start, end):
            tags[i] = f"{inside}-{label}"
        tags[start] = f"{begin}-{label}"
        if last is not None:
            tags[end - 1] = f"{last}-{label}" if end - start > 1 else f"{unit}-{label}"
    return tags


@st.composite
def ner_cases(draw):
    n = draw(st.integers(0, 10))
    spans, i = [], 0
    while i < n:
        length = draw(st.integers(0, n - i))
        if length:
            spans.append((i, i + length, draw(st.sampled_from(["PER", "LOC"]))))
        i += max(length, 1)
    return spans, n, draw(st.sampled_from(crf_ner.NER_SCHEMES))


@settings(max_examples=60, deadline=None)
@given(ner_cases())
def test_crf_ner_sets_the_encoded_spans(case):
    """Behaviour kept: every valid tag sequence gives back the spans it encodes."""
    spans, n, scheme = case
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("crf_ner", config={"scheme": scheme})
    for label in ("LOC", "PER"):
        pipe.add_label(label)
    doc = spacy.tokens.Doc(nlp.vocab, words=["w"] * n)
    ids = numpy.asarray([pipe.tag_names.index(t) for t in _encode(spans, n, scheme)], dtype="int64")
    pipe.set_annotations([doc], [ids])
    assert [(e.start, e.end, e.label_) for e in doc.ents] == spans


def test_crf_ner_decodes_with_the_shared_decoder(monkeypatch):
    calls = []

    def spy(tags):
        calls.append(list(tags))
        return tags_to_spans(tags)

    monkeypatch.setattr(tagsets, "tags_to_spans", spy)
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("crf_ner")
    pipe.add_label("PER")
    doc = spacy.tokens.Doc(nlp.vocab, words=["Ana", "y", "Eva"])
    index = pipe.tag_names.index
    pipe.set_annotations([doc], [numpy.asarray([index("U-PER"), index("O"), index("U-PER")])])
    assert calls == [["U-PER", "O", "U-PER"]]
    assert [e.text for e in doc.ents] == ["Ana", "Eva"]
