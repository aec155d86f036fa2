import pytest
from hypothesis import given
from hypothesis import strategies as st

from spacy_kdseq.corpora.tags import parse_tag, spans_to_iob2, tags_to_spans, to_iob2


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
