"""Hard constraints for span-encoding tag schemes (BIO, BILUO, IOBES)."""
from typing import NamedTuple, Sequence

import torch
from torch import Tensor

from ..errors import Errors, KDSeqError
from ..tagsets import SCHEMES, scheme_prefixes


class Constraints(NamedTuple):
    """Boolean masks of allowed moves: transitions (L, L), start (L,), end (L,)."""

    transitions: Tensor
    start: Tensor
    end: Tensor


def allowed_transitions(labels: Sequence[str], scheme: str) -> Constraints:
    """Which label moves keep the tag sequence a valid span encoding.

    A move i→j is allowed unless j continues a span (I, L/E) that i did not open or
    continue with the same type, or i leaves a span (B, I) open that j does not
    continue. Mask scores with ``scores.masked_fill(~allowed, float("-inf"))``.
    """
    if scheme not in SCHEMES:
        raise KDSeqError(Errors.E007.format(scheme=scheme, schemes=sorted(SCHEMES)))
    begin, inside, last, unit = SCHEMES[scheme]
    prefixes = scheme_prefixes(scheme)
    parsed = []
    for label in labels:
        if label == "O":
            parsed.append(("O", None))
            continue
        prefix, sep, etype = label.partition("-")
        if sep != "-" or prefix not in prefixes or not etype:
            raise KDSeqError(Errors.E008.format(label=label, scheme=scheme, prefixes=prefixes))
        parsed.append((prefix, etype))
    # "open": after this tag a span is still open and must be continued.
    opens = {begin, inside} if last is not None else set()
    # "continues": this tag needs an open span of the same type before it.
    continues = {inside, last} if last is not None else {inside}
    n = len(parsed)
    trans = torch.ones(n, n, dtype=torch.bool)
    for i, (p_i, t_i) in enumerate(parsed):
        for j, (p_j, t_j) in enumerate(parsed):
            if last is not None:
                if p_i in opens:
                    trans[i, j] = p_j in continues and t_j == t_i
                else:
                    trans[i, j] = p_j not in continues
            else:
                # BIO: an I-X may only follow B-X or I-X; anything may follow anything else.
                trans[i, j] = p_j not in continues or (p_i in (begin, inside) and t_i == t_j)
    start = torch.tensor([p not in continues for p, _ in parsed], dtype=torch.bool)
    end = torch.tensor([p not in opens for p, _ in parsed], dtype=torch.bool)
    return Constraints(trans, start, end)
