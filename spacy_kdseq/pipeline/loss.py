"""CRF negative log-likelihood with partial gold, on padded torch tensors."""
from typing import Optional, Sequence, Union

import numpy
import torch
import torch.nn.functional as F

from .. import crf
from ..layers import NEG, TorchCRF

NORMALIZATIONS = ("sentence", "token")
# One doc's gold tag indices: an int array (-1: missing) or a list (None: missing).
GoldTags = Union[numpy.ndarray, Sequence[Optional[int]]]


def gold_tensor(gold: Sequence[GoldTags], shape: torch.Size) -> torch.Tensor:
    """(B, T) long tensor of gold tag indices; -1 where missing and at padding.

    Each doc's gold is an int array with -1 where missing (as `CRFPipe.gold_tag_ids`
    gives it) or a list with None where missing.
    """
    B, T = shape[0], shape[1]
    tags = numpy.full((B, T), -1, dtype="int64")
    for i, doc in enumerate(gold):
        if isinstance(doc, numpy.ndarray):
            tags[i, : len(doc)] = doc
        else:
            tags[i, : len(doc)] = [-1 if t is None else t for t in doc]
    return torch.from_numpy(tags)


def partial_nll(
    scores: TorchCRF, gold: Sequence[GoldTags], normalization: str
) -> torch.Tensor:
    """log Z − log Z_gold, normalised per sentence (mean over non-empty docs) or per token.

    Z_gold sums over the tag sequences that agree with every known gold tag; a missing
    tag (None or -1) allows every tag there. Disallowed tags get the emission score ``NEG``,
    so Z_gold is one more forward pass over masked emissions. With complete gold, Z_gold
    is the score of the gold path and this is the usual NLL (computed directly then).
    """
    em, mask = scores.emissions, scores.mask
    tags = gold_tensor(gold, em.shape).to(em.device)
    known = tags >= 0
    if bool((known | ~mask).all()):
        per_doc = crf.nll(em, mask, scores.transitions, tags, scores.start, scores.end)
    else:
        log_z = crf.log_partition(em, mask, scores.transitions, scores.start, scores.end)
        # shape: (B, T, L) tags allowed at each position
        allowed = F.one_hot(tags.clamp(min=0), em.shape[2]).bool() | ~known.unsqueeze(2)
        restricted = em.masked_fill(~allowed, NEG)
        log_z_gold = crf.log_partition(
            restricted, mask, scores.transitions, scores.start, scores.end
        )
        per_doc = log_z - log_z_gold
    if normalization == "token":
        return per_doc.sum() / mask.sum().clamp(min=1)
    n_docs = mask[:, 0].sum().clamp(min=1) if mask.shape[1] else 1
    return per_doc.sum() / n_docs
