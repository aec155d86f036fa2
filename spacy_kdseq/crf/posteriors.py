"""Log node posteriors with log Z, and node + edge posteriors from one forward–backward.

`marginals` and `edge_marginals` each run their own forward–backward; losses that need
log-posteriors (which must not underflow to log 0) or both kinds of posteriors use
these instead.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

from ._checks import check_inputs
from ._dp import backward_betas, edge_posteriors, forward_alphas, node_posteriors


def log_marginals(
    emissions: Tensor,
    mask: Tensor,
    transitions: Tensor,
    start: Optional[Tensor] = None,
    end: Optional[Tensor] = None,
) -> Tuple[Tensor, Tensor]:
    """(log node posteriors (B, T, L), 0 at padding; log Z (B,)). Differentiable.

    Taken as alphas + betas − log Z rather than ``log(marginals(...))``: labels behind
    forbidden moves have posteriors that underflow to 0, whose log is −inf and whose
    product with a zero target would be NaN.
    """
    start, end = check_inputs("log_marginals", emissions, mask, transitions, start, end)
    if emissions.shape[1] == 0:
        return torch.zeros_like(emissions), emissions.new_zeros(emissions.shape[0])
    alphas, log_z = forward_alphas(emissions, mask, transitions, start, end)
    betas = backward_betas(emissions, mask, transitions, end)
    log_q = alphas + betas - log_z[:, None, None]
    return torch.where(mask.unsqueeze(-1), log_q, torch.zeros_like(log_q)), log_z


def posteriors(
    emissions: Tensor,
    mask: Tensor,
    transitions: Tensor,
    start: Optional[Tensor] = None,
    end: Optional[Tensor] = None,
) -> Tuple[Tensor, Tensor]:
    """(node (B, T, L), edge (B, T-1, L, L)) posteriors, 0 at padding. Differentiable."""
    start, end = check_inputs("posteriors", emissions, mask, transitions, start, end)
    B, T, L = emissions.shape
    if T == 0:
        return torch.zeros_like(emissions), emissions.new_zeros(B, 0, L, L)
    alphas, log_z = forward_alphas(emissions, mask, transitions, start, end)
    betas = backward_betas(emissions, mask, transitions, end)
    node = node_posteriors(alphas, betas, log_z, mask)
    return node, edge_posteriors(emissions, mask, transitions, alphas, betas, log_z)
