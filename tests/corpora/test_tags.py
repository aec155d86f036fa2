from hypothesis import given
from hypothesis import strategies as st

from spacy_kdseq import tagsets
from spacy_kdseq.corpora import tags
from spacy_kdseq.corpora.tags import spans_to_iob2, to_iob2
from spacy_kdseq.tagsets import tags_to_spans


def test_the_corpus_reader_decodes_with_the_shared_decoder():
    assert tags.tags_to_spans is tagsets.tags_to_spans


def test_to_iob2_normalises_iob1_and_bioes():
    assert to_iob2(["I-PER", "B-PER", "O", "S-LOC"]) == ["B-PER", "B-PER", "O", "B-LOC"]


@st.composite
def span_sequences(draw):
    n = draw(st.integers(0, 12))
    spans, i = [], 0
    while i < n:
        length = draw(st.integers(0, n - i))
        if length:
            spans.append((i, i + length, draw(st.sampled_from(["PER", "LOC", "B-X"]))))
        i += max(length, 1)
    return spans, n


@given(span_sequences())
def test_spans_iob2_round_trip(case):
    spans, n = case
    tags = spans_to_iob2(spans, n)
    assert tags_to_spans(tags) == spans
    assert to_iob2(tags) == tags
