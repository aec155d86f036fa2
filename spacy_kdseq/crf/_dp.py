"""The forward and backward recursions in the log semiring (internal).

Shapes: emissions (B, T, L), mask (B, T) bool right-padded, transitions (L, L) with
transitions[i, j] scoring i→j, start/end (L,). Padded steps carry the previous value
through (``torch.where``), so no Python loop over the batch is ever needed.
"""
from typing import Tuple

import torch
from torch import Tensor


def full_length(mask: Tensor) -> int:
    """Steps at which no sequence is padded: there the ``torch.where`` carry is skipped."""
    return int(mask.sum(1).min()) if mask.shape[0] else 0


def forward_alphas(
    emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> Tuple[Tensor, Tensor]:
    """Return (alphas (B, T, L), log Z (B,)); log Z is 0 for empty sequences.

    alphas[b, t, j] is the log-sum of the scores of all prefixes ending in label j at t,
    emission at t included; at padded steps it repeats the last real step.
    """
    B, T, L = emissions.shape
    # shape: (1, L_to, L_from), contiguous: a reduction over a strided dim is much slower.
    trans_t = transitions.t().contiguous().unsqueeze(0)
    n_full = full_length(mask)
    alpha = start + emissions[:, 0]
    alphas = [alpha]
    for t in range(1, T):
        # shape: (B, L_to, L_from) -> (B, L_to)
        nxt = torch.logsumexp(alpha.unsqueeze(1) + trans_t, dim=2) + emissions[:, t]
        alpha = nxt if t < n_full else torch.where(mask[:, t].unsqueeze(1), nxt, alpha)
        alphas.append(alpha)
    log_z = torch.logsumexp(alpha + end, dim=1)
    log_z = torch.where(mask[:, 0], log_z, torch.zeros_like(log_z))
    return torch.stack(alphas, dim=1), log_z


def backward_betas(
    emissions: Tensor, mask: Tensor, transitions: Tensor, end: Tensor
) -> Tensor:
    """Return betas (B, T, L): log-sum of the scores of all suffixes after label j at t.

    The emission at t is not included; the end score is. Padded steps hold `end`.
    """
    B, T, L = emissions.shape
    n_full = full_length(mask)
    beta = end.expand(B, L)
    betas = [beta]
    trans = transitions.unsqueeze(0)
    for t in range(T - 2, -1, -1):
        # shape: (B, L_from, L_to) -> (B, L_from)
        nxt = torch.logsumexp(trans + (emissions[:, t + 1] + beta).unsqueeze(1), dim=2)
        beta = nxt if t + 1 < n_full else torch.where(mask[:, t + 1].unsqueeze(1), nxt, beta)
        betas.append(beta)
    betas.reverse()
    return torch.stack(betas, dim=1)


def node_posteriors(alphas: Tensor, betas: Tensor, log_z: Tensor, mask: Tensor) -> Tensor:
    """(B, T, L) node marginals from alphas/betas; exactly 0 at padding."""
    log_p = alphas + betas - log_z[:, None, None]
    return torch.where(mask.unsqueeze(-1), log_p.exp(), torch.zeros_like(log_p))


def edge_posteriors(
    emissions: Tensor, mask: Tensor, transitions: Tensor,
    alphas: Tensor, betas: Tensor, log_z: Tensor,
) -> Tensor:
    """(B, T-1, L, L) pairwise marginals p(y_t = i, y_t+1 = j); exactly 0 at padding."""
    # shape: (B, T-1, L_from, 1) + (1, 1, L, L) + (B, T-1, 1, L_to)
    log_p = (
        alphas[:, :-1].unsqueeze(3)
        + transitions
        + (emissions[:, 1:] + betas[:, 1:]).unsqueeze(2)
        - log_z[:, None, None, None]
    )
    valid = mask[:, 1:, None, None]
    return torch.where(valid, log_p.exp(), torch.zeros_like(log_p))
