"""Entity tag sequences (IOB1, IOB2, BIOES/BILUO) to spans and back.

One reading covers every scheme, the one conlleval uses: B/S/U always open an
entity, I/E/L continue the open entity of the same type and otherwise open a new
one, E/L/S/U close it. For IOB2 and BIOES that is the scheme's own meaning; for
IOB1 it is the definition; for the one stray ``I-X`` after ``O`` in each Spanish
CoNLL-2002 file it is what the task's scorer did.
"""
import re
from typing import List, Sequence, Tuple

Span = Tuple[int, int, str]  # (start, end, label), end exclusive

_TAG = re.compile(r"^(?:O|([BIESLU])-(\S+))$")
_OPENS = {"B", "S", "U"}
_CLOSES = {"E", "L", "S", "U"}


def parse_tag(tag: str) -> Tuple[str, str]:
    """Split a tag into (prefix, type); ("O", "") for outside. ValueError if invalid."""
    match = _TAG.match(tag)
    if match is None:
        raise ValueError(tag)
    if tag == "O":
        return "O", ""
    return match.group(1), match.group(2)


def tags_to_spans(tags: Sequence[str]) -> List[Span]:
    """Entity spans of a tag sequence in any of IOB1, IOB2, BIOES, BILUO."""
    spans: List[Span] = []
    start, label, is_open = 0, "", False
    for i, tag in enumerate(tags):
        prefix, type_ = parse_tag(tag)
        continues = is_open and prefix not in _OPENS and prefix != "O" and type_ == label
        if is_open and not continues:
            spans.append((start, i, label))
            is_open = False
        if prefix == "O":
            continue
        if not continues:
            start, label, is_open = i, type_, True
        if prefix in _CLOSES:
            spans.append((start, i + 1, label))
            is_open = False
    if is_open:
        spans.append((start, len(tags), label))
    return spans


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
