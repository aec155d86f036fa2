"""The tag sets every layer shares: Universal POS tags and the span-encoding schemes.

Plain Python (no torch, no spaCy), so the CRF (`crf/`), the components (`pipeline/`),
the corpus readers (`corpora/`) and the distillation (`distill/`) all read one table.

Span decoding uses one reading for every scheme, the one conlleval uses: B/S/U always
open an entity, I/E/L continue the open entity of the same type and otherwise open a
new one, E/L/S/U close it. For IOB2, BILUO and BIOES that is the scheme's own meaning;
for IOB1 it is the definition; for the one stray ``I-X`` after ``O`` in each Spanish
CoNLL-2002 file it is what the task's scorer did.
"""
import re
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

# Universal Dependencies v2 (https://universaldependencies.org/u/pos/): 17 tags. Not
# spaCy's POS symbols, which add UD v1's CONJ and spaCy's own SPACE.
UPOS_TAGS = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART",
    "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
)

Span = Tuple[int, int, str]  # (start, end, label), end exclusive


class Prefixes(NamedTuple):
    """A scheme's tag prefixes by role; None where the scheme has no such tag."""

    begin: str
    inside: str
    last: Optional[str]
    unit: Optional[str]


SCHEMES: Dict[str, Prefixes] = {
    "BIO": Prefixes("B", "I", None, None),
    "BILUO": Prefixes("B", "I", "L", "U"),
    "IOBES": Prefixes("B", "I", "E", "S"),
}


def _roles(*roles: str) -> frozenset:
    """The prefixes that play any of `roles` in any scheme."""
    found = {getattr(p, role) for p in SCHEMES.values() for role in roles}
    return frozenset(found - {None})


_OPENS = _roles("begin", "unit")
_CLOSES = _roles("last", "unit")
_TAG = re.compile(r"^(?:O|([%s])-(\S+))$" % "".join(sorted(_roles(*Prefixes._fields))))


def scheme_prefixes(scheme: str) -> List[str]:
    """The prefixes of `scheme` in tag order (B, I, then L/E and U/S if it has them)."""
    return [p for p in SCHEMES[scheme] if p is not None]


def tag_names(labels: Sequence[str], scheme: Optional[str]) -> List[str]:
    """A CRF's label space: "O" then each label's prefixed tags, labels in order; with
    no scheme (plain tagging) the labels themselves."""
    if scheme is None:
        return list(labels)
    prefixes = scheme_prefixes(scheme)
    return ["O"] + [f"{p}-{label}" for label in labels for p in prefixes]


def parse_tag(tag: str) -> Tuple[str, str]:
    """Split a tag into (prefix, type); ("O", "") for outside. ValueError if invalid."""
    match = _TAG.match(tag)
    if match is None:
        raise ValueError(tag)
    if tag == "O":
        return "O", ""
    return match.group(1), match.group(2)


def tags_to_spans(tags: Sequence[str]) -> List[Span]:
    """Entity spans of a tag sequence in any of IOB1, IOB2, BILUO, BIOES."""
    parsed = {tag: parse_tag(tag) for tag in set(tags)}
    spans: List[Span] = []
    start, label, is_open = 0, "", False
    for i, tag in enumerate(tags):
        prefix, type_ = parsed[tag]
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
