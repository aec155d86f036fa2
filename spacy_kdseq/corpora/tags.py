"""Entity tag sequences (IOB1, IOB2, BIOES/BILUO) normalised to IOB2.

Tags are read into spans by `spacy_kdseq.tagsets.tags_to_spans`, the decoder that
``crf_ner`` uses too; see there for how each scheme is read.
"""
from typing import List, Sequence

from ..tagsets import Span, tags_to_spans


def spans_to_iob2(spans: Sequence[Span], n_tokens: int) -> List[str]:
    """IOB2 tags for non-overlapping spans over `n_tokens` tokens."""
    tags = ["O"] * n_tokens
    for start, end, label in spans:
        tags[start] = f"B-{label}"
        for i in range(start + 1, end):
            tags[i] = f"I-{label}"
    return tags


def to_iob2(tags: Sequence[str]) -> List[str]:
    """Normalise a tag sequence in any supported scheme to IOB2."""
    return spans_to_iob2(tags_to_spans(tags), len(tags))
