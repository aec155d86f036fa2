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


WORK = torch.float64
# A step's sum below this may have lost terms to underflow: recompute with logsumexp.
_UNDERFLOW = 1e-280


def alphas_betas(
    emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> Tuple[Tensor, Tensor, Tensor]:
    """``forward_alphas`` and ``backward_betas`` together, in float64: (alphas, betas, log Z).

    Both recursions share one loop, and a step is one (2, B, L) × (2, L, L) batched
    product in exp space, shifted by each row's max, instead of two logsumexps over
    (B, L, L). The values stay in log space, so a label behind a −1e4 move keeps its
    exact finite score. A term under e^-708 of its row's max underflows to 0, which moves
    a sum by < 1e-26 of itself unless the sum is under `_UNDERFLOW` (e.g. a label every
    move into which is −inf or far below the rest); then the exact logsumexp recursions
    are run instead.
    """
    B, T, L = emissions.shape
    em = emissions.to(WORK).masked_fill(~mask.unsqueeze(2), 0.0)
    trans = transitions.to(WORK)
    shift = trans.amax()
    shift = torch.where(torch.isfinite(shift), shift, torch.zeros_like(shift))
    trans_exp = (trans - shift).exp()
    # shape: (2, L, L): the α side sums over the source label, the β side over the target
    mats = torch.stack([trans_exp, trans_exp.t()])
    end_w = end.to(WORK)
    # shape: (T, 2, B, L) what step s adds: α_s reads e_s, the β side reads e_(T-1-s)
    add = torch.stack([em, em.flip(1)]).permute(2, 0, 1, 3) + shift
    next_real = torch.cat([mask[:, 1:], torch.zeros_like(mask[:, :1])], 1)  # mask at t+1
    # shape: (T, 2, B, 1) whether step s is real: mask at s (α) and at T-s (β)
    real = torch.stack([mask, next_real.flip(1)]).permute(2, 0, 1).unsqueeze(3)
    # The α side runs on through padding (over zeroed emissions) and is reset to its last
    # real value afterwards, so only the β side needs a select: (T, 2, B, 1).
    moves = torch.stack([torch.ones_like(mask), next_real.flip(1)]).permute(2, 0, 1).unsqueeze(3)
    # shape: (T, 2, B, L) on the β side y = β + e where β is `end`; the α side's is unread
    carry = torch.stack([torch.zeros_like(em), end_w + em]).flip(2).permute(2, 0, 1, 3)
    # the β side holds y_t = β_t + e_t, the α side α_t
    x = torch.stack([start.to(WORK) + em[:, 0], carry[0, 1]])
    xs, sums = [x], []
    for s in range(1, T):
        top = x.amax(2, keepdim=True).clamp(min=-1e300)
        # shape: (2, B, L) @ (2, L, L) -> (2, B, L)
        total = torch.bmm((x - top).exp(), mats)
        x = torch.where(moves[s], total.log() + top + add[s], carry[s])
        xs.append(x)
        sums.append(total)
    if sums:
        smallest = torch.where(real[1:], torch.stack(sums), torch.ones_like(sums[0])).amin()
        if bool(smallest < _UNDERFLOW):
            alphas, log_z = forward_alphas(em, mask, trans, start.to(WORK), end_w)
            return alphas, backward_betas(em, mask, trans, end_w), log_z
    steps = torch.stack(xs)  # (T, 2, B, L)
    last = (mask.sum(1) - 1).clamp(min=0)
    # shape: (B, 1, L) α at each sequence's last real step, carried through its padding
    final = steps[:, 0].transpose(0, 1).gather(1, last[:, None, None].expand(B, 1, L))
    alphas = torch.where(mask.unsqueeze(2), steps[:, 0].transpose(0, 1), final)
    y = steps[:, 1].flip(0).transpose(0, 1)  # (B, T, L) β_t + e_t
    betas = torch.where(next_real.unsqueeze(2), y - em, end_w)
    log_z = torch.logsumexp(final.squeeze(1) + end_w, dim=1)
    return alphas, betas, torch.where(mask[:, 0], log_z, torch.zeros_like(log_z))
