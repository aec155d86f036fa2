"""Move ``CRFScores`` into padded torch tensors and their gradients back.

Losses (the NLL in the components, the distillation losses) are written in torch on
padded (B, T, L) tensors; this is the only place that converts, so every loss gets the
same layout: right-padded, with a bool mask.
"""
from typing import List

import torch
from thinc.api import get_current_ops, torch2xp, xp2torch
from thinc.types import Floats2d

from ..crf import TorchCRF
from .types import CRFScores


def scores_to_torch(scores: CRFScores, requires_grad: bool = False) -> TorchCRF:
    """Pad the per-doc emissions into one (B, T, L) tensor plus its mask."""
    ops = get_current_ops()
    n_labels = scores.transitions.shape[0]
    lengths = [e.shape[0] for e in scores.emissions]
    B, T = len(lengths), max(lengths, default=0)
    padded = ops.alloc3f(B, T, n_labels, dtype=scores.transitions.dtype)
    for i, em in enumerate(scores.emissions):
        padded[i, : em.shape[0]] = em
    emissions = xp2torch(padded, requires_grad=requires_grad)
    lengths_t = torch.tensor(lengths, dtype=torch.long, device=emissions.device)
    mask = torch.arange(T, device=emissions.device)[None, :] < lengths_t[:, None]
    return TorchCRF(
        emissions,
        mask,
        xp2torch(ops.xp.ascontiguousarray(scores.transitions), requires_grad=requires_grad),
        xp2torch(ops.xp.ascontiguousarray(scores.start), requires_grad=requires_grad),
        xp2torch(ops.xp.ascontiguousarray(scores.end), requires_grad=requires_grad),
    )


def gradients_to_scores(crf: TorchCRF) -> CRFScores:
    """Collect the `.grad` of each tensor (zeros where none) as a ``CRFScores``."""
    lengths = crf.mask.sum(1).tolist()
    d_em = torch2xp(_grad(crf.emissions))
    d_emissions: List[Floats2d] = [d_em[i, :n] for i, n in enumerate(lengths)]
    return CRFScores(
        d_emissions,
        torch2xp(_grad(crf.transitions)),
        torch2xp(_grad(crf.start)),
        torch2xp(_grad(crf.end)),
    )


def _grad(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.grad if tensor.grad is not None else torch.zeros_like(tensor)
