"""CRF negative log-likelihood with partial gold, on padded torch tensors."""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F

from .. import crf
from ..layers import NEG, TorchCRF

NORMALIZATIONS = ("sentence", "token")


def gold_tensor(gold: Sequence[Sequence[Optional[int]]], shape: torch.Size) -> torch.Tensor:
    """(B, T) long tensor of gold tag indices; -1 where missing and at padding."""
    B, T = shape[0], shape[1]
    rows: List[List[int]] = [
        [-1 if t is None else t for t in doc] + [-1] * (T - len(doc)) for doc in gold
    ]
    return torch.tensor(rows, dtype=torch.long).reshape(B, T)


def partial_nll(
    scores: TorchCRF, gold: Sequence[Sequence[Optional[int]]], normalization: str
) -> torch.Tensor:
    """log Z − log Z_gold, normalised per sentence (mean over non-empty docs) or per token.

    Z_gold sums over the tag sequences that agree with every known gold tag; a missing
    tag (None) allows every tag there. Disallowed tags get the emission score ``NEG``,
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
