"""Log node posteriors with log Z, and node + edge posteriors from one forward–backward.

`marginals` and `edge_marginals` each run their own forward–backward; losses that need
log-posteriors (which must not underflow to log 0) or both kinds of posteriors use
these instead.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

from ._checks import check_inputs
from ._dp import alphas_betas, backward_betas, edge_posteriors, forward_alphas, node_posteriors



class _LogMarginals(torch.autograd.Function):
    """(log q (B, T, L), log Z (B,)) in the log semiring, with a hand-written backward.

    log q = α + β − log Z. Autograd would replay the 2T logsumexp steps; here each step's
    local Jacobian is a softmax weight, w[t, i, k] = ∂α_t+1(k)/∂α_t(i) and
    v[t, k, i] = ∂β_t(i)/∂β_t+1(k), all built at once from the saved α and β, so the
    backward is two linear recursions (the adjoints of α, run backward, and of β, run
    forward) sharing one batched product per step, and the parameters' gradients are
    sums over those adjoints. Everything stays in log space: labels behind forbidden
    moves (−1e4) keep exact, finite log-posteriors and gradients.
    """

    @staticmethod
    def forward(ctx, emissions, mask, transitions, start, end):  # type: ignore[override]
        alphas, betas, log_z = alphas_betas(emissions, mask, transitions, start, end)
        log_q = alphas + betas - log_z[:, None, None]
        log_q = torch.where(mask.unsqueeze(-1), log_q, torch.zeros_like(log_q))
        ctx.save_for_backward(emissions, mask, transitions, end, alphas, betas, log_z)
        ctx.mark_non_differentiable(mask)
        return log_q.to(emissions.dtype), log_z.to(emissions.dtype)

    @staticmethod
    def backward(ctx, grad_q, grad_z):  # type: ignore[override]
        emissions, mask, transitions, end, alphas, betas, log_z = ctx.saved_tensors
        B, T, L = emissions.shape
        # Padding may hold anything; the float64 recursion values are used in the
        # inputs' dtype, like autograd of the log-space recursion would.
        emissions = emissions.masked_fill(~mask.unsqueeze(2), 0.0)
        alphas, betas, log_z = (x.to(emissions.dtype) for x in (alphas, betas, log_z))
        real = mask.unsqueeze(2)
        g = torch.where(real, grad_q, torch.zeros_like(grad_q))
        # log Z enters every log q with weight −1
        g_z = torch.where(mask[:, 0], grad_z - g.sum(dim=(1, 2)), torch.zeros_like(grad_z))
        # shape: (B, L) ∂log Z/∂α at the last step (α is carried through padding)
        final = torch.where(
            mask[:, :1], (alphas[:, -1] + end - log_z[:, None]).exp(), torch.zeros_like(end)
        )
        last = (mask.sum(1) - 1).clamp(min=0)
        # shape: (B, T, L) what each α_t feeds into the loss directly, log Z's share
        # entering at the last real step (α is only carried from there)
        at_last = torch.arange(T, device=mask.device) == last[:, None]
        g_alpha = g + torch.where(at_last.unsqueeze(2), (g_z[:, None] * final).unsqueeze(1), 0.0)
        # Time-major (T, B, ...): each step's slice is contiguous, and a batched product
        # over a strided slice is ~10× slower on CPU.
        g_t, g_alpha_t = g.transpose(0, 1), g_alpha.transpose(0, 1)
        start_bar = torch.cat([g_alpha_t[-1], g_t[0]])  # (2B, L)
        if T == 1:
            alpha_bar, beta_bar = start_bar[:B, None], start_bar[B:, None]
        else:
            nxt_real = mask.t()[1:].unsqueeze(2)  # (T-1, B, 1)
            al, be = alphas.transpose(0, 1), betas.transpose(0, 1)
            em = emissions.transpose(0, 1)
            # −inf where t+1 is padding, so the local Jacobians there are 0; an α or β of
            # −inf (every term −inf) is clamped so that it gives 0 rather than NaN.
            a_to = torch.where(nxt_real, em[1:] - al[1:].clamp(min=-1e30), float("-inf"))
            b_to = torch.where(nxt_real, em[1:] + be[1:], float("-inf"))
            # Both adjoint recursions, the α one running from T-1 down and the β one from
            # 0 up, share one (2B, L, L) @ (2B, L, 1) product per step.
            mats = emissions.new_empty(T - 1, 2 * B, L, L)
            w, v = mats[:, :B], mats[:, B:]
            # shape: (T-1, B, L_from, L_to) w[s, b, i, k] = ∂α_t+1(k)/∂α_t(i), t = T-2-s
            torch.add(al[:-1].flip(0).unsqueeze(3), a_to.flip(0).unsqueeze(2), out=w)
            w += transitions
            # shape: (T-1, B, L_to, L_from) v[t, b, k, i] = ∂β_t(i)/∂β_t+1(k)
            torch.sub(b_to.unsqueeze(3), be[:-1].clamp(min=-1e30).unsqueeze(2), out=v)
            v += transitions.t()
            mats.exp_()
            adds = torch.cat([g_alpha_t[:-1].flip(0), g_t[1:]], dim=1)  # (T-1, 2B, L)
            bars = [start_bar]
            for s in range(T - 1):
                bars.append(adds[s] + torch.bmm(mats[s], bars[-1].unsqueeze(2)).squeeze(2))
            both = torch.stack(bars)  # (T, 2B, L)
            alpha_bar = both[:, :B].flip(0).transpose(0, 1)  # (B, T, L)
            beta_bar = both[:, B:].transpose(0, 1)  # (B, T, L)
        d_emissions = d_transitions = d_start = d_end = None
        if ctx.needs_input_grad[0]:
            # β̄ − g is what β̄_t received from β_t−1, which reads e_t (0 at t = 0)
            d_emissions = torch.where(real, alpha_bar + beta_bar - g, torch.zeros_like(g))
        if ctx.needs_input_grad[2]:
            d_transitions = torch.zeros_like(transitions)
            if T > 1:
                # shape: (T-1, B, L) ᾱ at t+1 in w's reversed order, and β̄ at t
                a_next = both[:-1, :B]
                b_prev = both[:-1, B:]
                d_transitions = (w * a_next[:, :, None, :]).sum(dim=(0, 1)) + (
                    v * b_prev[:, :, None, :]).sum(dim=(0, 1)).t()
        if ctx.needs_input_grad[3]:
            d_start = torch.where(real[:, 0], alpha_bar[:, 0], 0.0).sum(0)
        if ctx.needs_input_grad[4]:
            # β̄ at the last real step, where β is `end`
            beta_end = beta_bar.gather(1, last[:, None, None].expand(B, 1, L)).squeeze(1)
            d_end = (g_z[:, None] * final + beta_end).sum(0)
        return d_emissions, None, d_transitions, d_start, d_end


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
    return _LogMarginals.apply(emissions, mask, transitions, start, end)


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
