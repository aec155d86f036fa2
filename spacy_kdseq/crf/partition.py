"""Partition function, path scores, NLL and posteriors of a linear-chain CRF."""
from typing import Optional

import torch
from torch import Tensor

from ._checks import check_inputs
from . import _compiled, _scaled


class _LogPartition(torch.autograd.Function):
    """log Z with a hand-written backward: the gradient of log Z is the posteriors.

    Both passes are the scaled exp-space recursions of ``_scaled`` (one small matrix
    product per step); the backward runs the backward recursion once instead of letting
    autograd replay the forward, and sums the pairwise posteriors for the transitions'
    gradient in one (L, B·T) × (B·T, L) product.
    """

    @staticmethod
    def forward(ctx, emissions, mask, transitions, start, end):  # type: ignore[override]
        fwd = _scaled.forward(emissions, mask, transitions, start, end)
        ctx.fwd = fwd
        ctx.save_for_backward(mask)
        return fwd.log_z.to(emissions.dtype)

    @staticmethod
    def backward(ctx, grad_log_z):  # type: ignore[override]
        (mask,) = ctx.saved_tensors
        fwd: _scaled.Forward = ctx.fwd
        dtype = grad_log_z.dtype
        betas = _scaled.backward(fwd, mask)
        node = _scaled.node_marginals(fwd, betas, mask)
        g = grad_log_z.to(node.dtype)
        d_emissions = d_transitions = d_start = d_end = None
        if ctx.needs_input_grad[0]:
            d_emissions = (node * g[:, None, None]).to(dtype)
        if ctx.needs_input_grad[2]:
            if mask.shape[1] > 1:
                left, right, weight = _scaled.edge_factors(fwd, betas, mask)
                L = left.shape[2]
                # shape: (L, B·(T-1)) @ (B·(T-1), L) -> (L_from, L_to)
                pair = (left * (weight * g[:, None])[:, :, None]).reshape(-1, L).t() @ (
                    right.reshape(-1, L)
                )
                d_transitions = (fwd.trans_exp * pair).to(dtype)
            else:
                d_transitions = grad_log_z.new_zeros(fwd.trans_exp.shape)
        if ctx.needs_input_grad[3]:
            d_start = (node[:, 0] * g[:, None]).sum(0).to(dtype)
        if ctx.needs_input_grad[4]:
            last = (mask.sum(1) - 1).clamp(min=0)
            # shape: (B, L) posteriors at each sequence's last real token (0 if empty)
            final = node.gather(1, last[:, None, None].expand(-1, 1, node.shape[2])).squeeze(1)
            d_end = (final * g[:, None]).sum(0).to(dtype)
        return d_emissions, None, d_transitions, d_start, d_end


def log_partition(
    emissions: Tensor,
    mask: Tensor,
    transitions: Tensor,
    start: Optional[Tensor] = None,
    end: Optional[Tensor] = None,
    compiled: Optional[bool] = None,
) -> Tensor:
    """(B,) log Z of each sequence; 0 for an empty sequence. Differentiable (once: the
    backward is hand-written). `compiled` as in `viterbi`."""
    start, end = check_inputs("log_partition", emissions, mask, transitions, start, end)
    return _log_partition(emissions, mask, transitions, start, end, compiled)


def _log_partition(
    emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor,
    compiled: Optional[bool],
) -> Tensor:
    if emissions.shape[1] == 0:
        # Zeros that stay on the graph, so `loss.backward()` works on an all-empty batch.
        return emissions.sum(dim=(1, 2))
    if _compiled.use("log_partition", compiled, emissions):
        return _compiled.LogPartition.apply(emissions, mask, transitions, start, end)
    return _LogPartition.apply(emissions, mask, transitions, start, end)


def path_score(
    emissions: Tensor,
    mask: Tensor,
    transitions: Tensor,
    tags: Tensor,
    start: Optional[Tensor] = None,
    end: Optional[Tensor] = None,
) -> Tensor:
    """(B,) unnormalised score of the label sequences `tags` (B, T); padding tags ignored."""
    start, end = check_inputs("path_score", emissions, mask, transitions, start, end, tags=tags)
    return _path_score(emissions, mask, transitions, tags.long(), start, end)


def _path_score(
    emissions: Tensor, mask: Tensor, transitions: Tensor, tags: Tensor, start: Tensor, end: Tensor
) -> Tensor:
    B, T, _ = emissions.shape
    if T == 0:
        return emissions.new_zeros(B)
    zero = emissions.new_zeros(())
    safe = torch.where(mask, tags, torch.zeros_like(tags))
    # shape: (B, T) emission score of each gold label
    emit = emissions.gather(2, safe.unsqueeze(2)).squeeze(2)
    score = torch.where(mask, emit, zero).sum(1)
    if T > 1:
        # shape: (B, T-1) score of each gold transition
        trans = transitions[safe[:, :-1], safe[:, 1:]]
        score = score + torch.where(mask[:, 1:], trans, zero).sum(1)
    lengths = mask.sum(1)
    last = safe.gather(1, (lengths - 1).clamp(min=0).unsqueeze(1)).squeeze(1)
    edges = start[safe[:, 0]] + end[last]
    return score + torch.where(lengths > 0, edges, zero)


def nll(
    emissions: Tensor,
    mask: Tensor,
    transitions: Tensor,
    tags: Tensor,
    start: Optional[Tensor] = None,
    end: Optional[Tensor] = None,
    compiled: Optional[bool] = None,
) -> Tensor:
    """(B,) negative log-likelihood log Z − score(tags) of each sequence. `compiled` as
    in `viterbi` (for log Z)."""
    start, end = check_inputs("nll", emissions, mask, transitions, start, end, tags=tags)
    log_z = _log_partition(emissions, mask, transitions, start, end, compiled)
    return log_z - _path_score(emissions, mask, transitions, tags.long(), start, end)


def marginals(
    emissions: Tensor,
    mask: Tensor,
    transitions: Tensor,
    start: Optional[Tensor] = None,
    end: Optional[Tensor] = None,
) -> Tensor:
    """(B, T, L) node posteriors p(y_t = j | x), 0 at padding. Differentiable."""
    start, end = check_inputs("marginals", emissions, mask, transitions, start, end)
    if emissions.shape[1] == 0:
        return torch.zeros_like(emissions)
    fwd = _scaled.forward(emissions, mask, transitions, start, end)
    betas = _scaled.backward(fwd, mask)
    return _scaled.node_marginals(fwd, betas, mask).to(emissions.dtype)


def edge_marginals(
    emissions: Tensor,
    mask: Tensor,
    transitions: Tensor,
    start: Optional[Tensor] = None,
    end: Optional[Tensor] = None,
) -> Tensor:
    """(B, T-1, L, L) pairwise posteriors p(y_t = i, y_t+1 = j | x), 0 at padding."""
    start, end = check_inputs("edge_marginals", emissions, mask, transitions, start, end)
    B, T, L = emissions.shape
    if T <= 1:
        return emissions.new_zeros(B, max(T - 1, 0), L, L)
    fwd = _scaled.forward(emissions, mask, transitions, start, end)
    betas = _scaled.backward(fwd, mask)
    left, right, weight = _scaled.edge_factors(fwd, betas, mask)
    # shape: (B, T-1, L_from, 1) * (L, L) * (B, T-1, 1, L_to)
    pair = left.unsqueeze(3) * fwd.trans_exp * (right * weight.unsqueeze(2)).unsqueeze(2)
    return pair.to(emissions.dtype)
