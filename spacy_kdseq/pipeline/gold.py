"""Gold tag indices from token arrays: no Python loop over tokens.

spaCy's ``Example.get_aligned_ner`` / ``get_aligned`` build the gold per token in Python
(alignment, span offsets, BILUO strings) on every update, for the same docs every epoch.
When the predicted doc has the reference's tokens (``gold_preproc``, or any corpus whose
tokenisation the pipeline reproduces) the alignment is the identity, and the tags follow
from the reference's ``ENT_IOB``/``ENT_TYPE`` or ``POS``/``TAG`` arrays with a few numpy
operations over the whole batch. Examples these functions cannot do exactly (another
tokenisation, an invalid entity sequence, a label the component lacks) come back as
``None``, and the caller derives them the slow way, which also raises the errors.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy
from spacy.attrs import ENT_IOB, ENT_TYPE, IS_SPACE, ORTH
from spacy.training import Example

# Ids stored in ENT_IOB.
_MISSING, _I, _O, _B = 0, 1, 2, 3
# Offset of each prefix inside an entity type's block of `tag_names`.
_BILUO = {"B": 0, "I": 1, "L": 2, "U": 3}
_BIO = {"B": 0, "I": 1}


def _same_tokens(examples: Sequence[Example], attrs: List[int]) -> Tuple[
    List[int], numpy.ndarray, numpy.ndarray
]:
    """Examples whose predicted and reference tokens are identical (and not empty).

    Returns their indices, the reference's `attrs` over all their tokens (N, len(attrs)),
    and each kept doc's start offset into those rows.
    """
    kept, rows = [], []
    for i, eg in enumerate(examples):
        x, y = eg.predicted, eg.reference
        if len(x) and len(x) == len(y):
            kept.append(i)
            rows.append((x.to_array(ORTH), y.to_array([ORTH] + attrs)))
    if not kept:
        return [], numpy.zeros((0, len(attrs)), dtype="uint64"), numpy.zeros(0, dtype="int64")
    x_orth = numpy.concatenate([r[0] for r in rows])
    y_values = numpy.concatenate([r[1] for r in rows])
    lengths = numpy.array([len(r[0]) for r in rows])
    starts = numpy.concatenate([[0], numpy.cumsum(lengths)[:-1]])
    # An empty ORTH (hash 0) could share character offsets with its neighbour; rare
    # enough to leave to spaCy's alignment.
    bad = (x_orth != y_values[:, 0]) | (x_orth == 0)
    same = numpy.add.reduceat(bad, starts) == 0
    keep_rows = numpy.repeat(same, lengths)
    kept = [i for i, ok in zip(kept, same) if ok]
    new_lengths = lengths[same]
    new_starts = numpy.concatenate([[0], numpy.cumsum(new_lengths)[:-1]]).astype("int64")
    return kept, y_values[keep_rows, 1:], new_starts


def _split(values: numpy.ndarray, starts: numpy.ndarray) -> List[numpy.ndarray]:
    return numpy.split(values, starts[1:])


def ner_tag_ids(
    examples: Sequence[Example], label_ids: Dict[int, int], scheme: str
) -> List[Optional[numpy.ndarray]]:
    """Gold tag index per token (-1: missing) of each example, or None (derive slowly).

    label_ids maps an entity type's string hash to its position among the labels;
    tags index ``["O"] + [prefix-label for label in labels for prefix in scheme]``, the
    layout of ``CRFEntityRecognizer.tag_names``. Matches ``get_aligned_ner`` exactly:
    a token outside every entity is "O" if annotated as O (or a space), else missing,
    and a doc with no entity annotation at all is missing throughout.
    """
    out: List[Optional[numpy.ndarray]] = [None] * len(examples)
    kept, values, starts = _same_tokens(examples, [ENT_IOB, ENT_TYPE, IS_SPACE])
    if not kept:
        return out
    iob = values[:, 0].astype("int64")
    etype = values[:, 1]
    space = values[:, 2] != 0
    n = len(iob)
    first = numpy.zeros(n, dtype=bool)
    first[starts] = True
    last = numpy.roll(first, -1)
    begin = (iob == _B) & (etype != 0)
    inside = iob == _I
    in_ent = begin | inside
    # An I without an open entity before it: spaCy raises (E093) reading doc.ents.
    prev_in = numpy.roll(in_ent, 1) & ~first
    invalid = inside & ~prev_in
    end = in_ent & ~(numpy.roll(inside, -1) & ~last)
    # Each entity token takes the type of the B that opened its entity.
    opener = numpy.maximum.accumulate(numpy.where(begin, numpy.arange(n), 0))
    types = etype[opener]
    unique, inverse = numpy.unique(numpy.where(in_ent, types, 0), return_inverse=True)
    label_index = numpy.array([label_ids.get(int(h), -1) for h in unique], dtype="int64")
    label = label_index[inverse.reshape(-1)]
    unknown = in_ent & (label < 0)
    if scheme == "BILUO":
        prefix = numpy.where(
            begin, numpy.where(end, _BILUO["U"], _BILUO["B"]),
            numpy.where(end, _BILUO["L"], _BILUO["I"]),
        )
    else:
        prefix = numpy.where(begin, _BIO["B"], _BIO["I"])
    block = len(_BILUO) if scheme == "BILUO" else len(_BIO)
    outside = numpy.where((iob == _O) | space, 0, -1)
    tags = numpy.where(in_ent, 1 + label * block + prefix, outside)
    annotated = numpy.maximum.reduceat(iob != _MISSING, starts)
    failed = numpy.maximum.reduceat(invalid | unknown, starts)
    for i, doc_tags, has_gold, bad in zip(kept, _split(tags, starts), annotated, failed):
        if not bad:
            out[i] = doc_tags if has_gold else numpy.full(len(doc_tags), -1, dtype="int64")
    return out


def token_tag_ids(
    examples: Sequence[Example], attr: int, value_ids: Dict[int, int]
) -> List[Optional[numpy.ndarray]]:
    """Gold tag index per token (-1: missing) of each example, or None (derive slowly).

    attr is POS or TAG; value_ids maps each label's stored value (UPOS id or string
    hash) to its index. 0 (unannotated) is missing, as in ``get_aligned``.
    """
    out: List[Optional[numpy.ndarray]] = [None] * len(examples)
    kept, values, starts = _same_tokens(examples, [attr])
    if not kept:
        return out
    unique, inverse = numpy.unique(values[:, 0], return_inverse=True)
    index = numpy.array([value_ids.get(int(v), -2) for v in unique], dtype="int64")
    index[unique == 0] = -1
    tags = index[inverse.reshape(-1)]
    failed = numpy.minimum.reduceat(tags, starts) == -2
    for i, doc_tags, bad in zip(kept, _split(tags, starts), failed):
        if not bad:
            out[i] = doc_tags
    return out
