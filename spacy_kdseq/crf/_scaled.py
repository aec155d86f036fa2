"""Forward-backward in exp space with per-step rescaling (internal).

The log-space recursion (``_dp``) does a logsumexp over (B, L, L) at every step; here a
step is one (B, L) × (L, L) matrix product plus a rescaling of (B, L), the scaled
forward algorithm of HMMs. It runs in float64 whatever the input dtype: each step
renormalises the forward vector to sum 1 and every factor is at most 1, so a score is
lost only if it falls 700 nats below the best at its step — far beyond float32's own
resolution of log Z. Forbidden moves (-inf, or the layer's finite -1e4) are exact zeros.

Shapes: emissions (B, T, L), mask (B, T) bool right-padded, transitions (L, L), start
and end (L,). Padded steps are computed on zeroed emissions and never read: log Z sums
only real steps' scales and reads each sequence's last real forward vector.
"""
from typing import NamedTuple

import torch
from torch import Tensor

WORK = torch.float64
TINY = torch.finfo(WORK).tiny


class Forward(NamedTuple):
    """What the backward pass and the posteriors need from the forward pass."""

    alphas: Tensor  # (B, T, L) forward vectors, each summing to 1 (0 if no path)
    log_z: Tensor  # (B,) in WORK dtype, 0 for an empty sequence
    em_exp: Tensor  # (B, T, L) exp(emission − its max over labels), 1 at padding
    trans_exp: Tensor  # (L, L) exp(transitions − their max)
    end_exp: Tensor  # (L,) exp(end − its max)


def _shift(scores: Tensor, dim: int) -> Tensor:
    """Max over `dim` (keepdim), 0 where it is not finite (every score -inf)."""
    top = scores.amax(dim=dim, keepdim=True)
    return torch.where(torch.isfinite(top), top, torch.zeros_like(top))


def forward(
    emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> Forward:
    """Scaled forward vectors and log Z (T ≥ 1)."""
    B, T, L = emissions.shape
    em = emissions.to(WORK).masked_fill(~mask.unsqueeze(2), 0.0)
    em_max = _shift(em, 2)
    em_exp = (em - em_max).exp()
    trans = transitions.to(WORK)
    trans_max = _shift(trans.reshape(1, -1), 1).reshape(())
    trans_exp = (trans - trans_max).exp()
    first = start.to(WORK) + em[:, 0]
    first_max = _shift(first, 1)
    alpha = (first - first_max).exp()
    scale = alpha.sum(1, keepdim=True)
    alpha = alpha / scale.clamp(min=TINY)
    alphas, scales = [alpha], [scale]
    for t in range(1, T):
        # shape: (B, L_from) @ (L_from, L_to) -> (B, L_to)
        alpha = (alpha @ trans_exp) * em_exp[:, t]
        scale = alpha.sum(1, keepdim=True)
        alpha = alpha / scale.clamp(min=TINY)
        alphas.append(alpha)
        scales.append(scale)
    alphas_t = torch.stack(alphas, dim=1)
    # shape: (B, T) log of what each step's vector was divided by, plus what was shifted
    step_log = torch.cat(scales, dim=1).log() + em_max.squeeze(2) + trans_max
    step_log[:, 0] = step_log[:, 0] - em_max[:, 0, 0] - trans_max + first_max[:, 0]
    lengths = mask.sum(1)
    last = (lengths - 1).clamp(min=0)
    # shape: (B, L) forward vector at each sequence's last real step
    final = alphas_t.gather(1, last[:, None, None].expand(B, 1, L)).squeeze(1)
    end_w = end.to(WORK)
    end_max = _shift(end_w, 0)
    end_exp = (end_w - end_max).exp()
    log_z = torch.where(mask, step_log, torch.zeros_like(step_log)).sum(1)
    log_z = log_z + (final @ end_exp).log() + end_max
    log_z = torch.where(lengths > 0, log_z, torch.zeros_like(log_z))
    return Forward(alphas_t, log_z, em_exp, trans_exp, end_exp)


def backward(fwd: Forward, mask: Tensor) -> Tensor:
    """(B, T, L) backward vectors, each rescaled to sum 1; `end` at the last real step."""
    B, T, L = fwd.em_exp.shape
    lengths = mask.sum(1)
    n_full = int(lengths.min()) if B else 0
    init = (fwd.end_exp / fwd.end_exp.sum().clamp(min=TINY)).expand(B, L)
    trans_t = fwd.trans_exp.t()
    beta = init
    betas = [beta]
    for t in range(T - 2, -1, -1):
        # shape: (B, L_to) @ (L_to, L_from) -> (B, L_from)
        nxt = (fwd.em_exp[:, t + 1] * beta) @ trans_t
        nxt = nxt / nxt.sum(1, keepdim=True).clamp(min=TINY)
        beta = nxt if t + 1 < n_full else torch.where(mask[:, t + 1, None], nxt, init)
        betas.append(beta)
    betas.reverse()
    return torch.stack(betas, dim=1)


def node_marginals(fwd: Forward, betas: Tensor, mask: Tensor) -> Tensor:
    """(B, T, L) p(y_t = j), WORK dtype, exactly 0 at padding."""
    joint = fwd.alphas * betas
    node = joint / joint.sum(2, keepdim=True).clamp(min=TINY)
    return node.masked_fill(~mask.unsqueeze(2), 0.0)


def edge_factors(fwd: Forward, betas: Tensor, mask: Tensor) -> "tuple[Tensor, Tensor, Tensor]":
    """Factors of the pairwise marginals, WORK dtype.

    p(y_t = i, y_t+1 = j) = left[b, t, i] · trans_exp[i, j] · right[b, t, j] / norm[b, t],
    with left (B, T-1, L), right (B, T-1, L) and norm (B, T-1), 0 where t+1 is padding;
    sums over (b, t) are then one matrix product instead of a (B, T-1, L, L) tensor.
    """
    left = fwd.alphas[:, :-1]
    right = fwd.em_exp[:, 1:] * betas[:, 1:]
    # shape: (B, T-1) the sum of the unnormalised pairwise scores at each step
    norm = ((left @ fwd.trans_exp) * right).sum(2)
    weight = torch.where(mask[:, 1:], 1.0 / norm.clamp(min=TINY), torch.zeros_like(norm))
    return left, right, weight
