"""The hand-written backward of `crf.log_marginals` against finite differences and autograd.

The reference differentiates the log-space recursions (``_dp``) with autograd, which is
what `log_marginals` did before it got its own backward.
"""
import pytest
import torch
from torch.testing import assert_close

from spacy_kdseq import crf
from spacy_kdseq.crf._dp import backward_betas, forward_alphas

from .oracle import random_instance
from .test_exact import CASES, IDS

# Training replaces the constraints' -inf by this finite score.
FORBIDDEN = -1e4
# With T = 0 nothing is computed and nothing is differentiated.
NONEMPTY = [i for i, case in enumerate(CASES) if case[2] > 0]


def _finite(x: torch.Tensor) -> torch.Tensor:
    return x.masked_fill(torch.isneginf(x), FORBIDDEN)


def _params(index: int, dtype: torch.dtype):
    seed, B, T, L, start_end, scheme = CASES[index]
    inst = random_instance(seed, B, T, L, start_end=True, scheme=scheme, dtype=dtype)
    return inst.mask, [_finite(x).requires_grad_() for x in
                       (inst.emissions, inst.transitions, inst.start, inst.end)]


def _reference(emissions, mask, transitions, start, end):
    alphas, log_z = forward_alphas(emissions, mask, transitions, start, end)
    log_q = alphas + backward_betas(emissions, mask, transitions, end) - log_z[:, None, None]
    return torch.where(mask.unsqueeze(-1), log_q, torch.zeros_like(log_q)), log_z


@pytest.mark.parametrize("index", NONEMPTY, ids=[IDS[i] for i in NONEMPTY])
def test_gradcheck(index):
    """Both outputs' Jacobians, float64, masks with empty sequences, −1e4 constraints."""
    mask, params = _params(index, torch.float64)
    if CASES[index][5] is not None:
        # Finite differences of size 1e-6 cannot see e^-1e4; check at moderate scores.
        params = [p.detach().clamp(min=-20.0).requires_grad_() for p in params]
    em, trans, start, end = params
    assert torch.autograd.gradcheck(
        lambda e, tr, s, en: crf.log_marginals(e, mask, tr, s, en), (em, trans, start, end)
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("index", NONEMPTY, ids=[IDS[i] for i in NONEMPTY])
def test_matches_autograd_of_log_space(index, dtype):
    """Same values and gradients as autograd of the log-space recursion, −1e4 included."""
    mask, params = _params(index, dtype)
    gen = torch.Generator().manual_seed(index)
    log_q, log_z = crf.log_marginals(params[0], mask, *params[1:])
    ref_q, ref_z = _reference(params[0], mask, *params[1:])
    assert_close(log_q, ref_q)
    assert_close(log_z, ref_z)
    w_q = torch.randn(log_q.shape, generator=gen, dtype=torch.float64).to(dtype)
    w_z = torch.randn(log_z.shape, generator=gen, dtype=torch.float64).to(dtype)
    got = torch.autograd.grad((w_q * log_q).sum() + (w_z * log_z).sum(), params)
    want = torch.autograd.grad((w_q * ref_q).sum() + (w_z * ref_z).sum(), params,
                               allow_unused=True)
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == torch.float32 else {}
    for g, r, p in zip(got, want, params):
        # with T = 1 the reference never reads the transitions
        r = torch.zeros_like(p) if r is None else r
        assert bool(torch.isfinite(g).all())
        assert_close(g, r, **tol)


def test_cross_entropy_gradient_is_a_covariance():
    """∂/∂e_s,k of Σ_t,j w_tj log q_tj = Σ_t,j w_tj (p(y_s=k | y_t=j) − p(y_s=k)), by enumeration."""
    inst = random_instance(3, 1, 4, 3, dtype=torch.float64)
    em = inst.emissions.clone().requires_grad_()
    w = torch.randn(1, 4, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    log_q, _ = crf.log_marginals(em, inst.mask, inst.transitions, inst.start, inst.end)
    (grad,) = torch.autograd.grad((w * log_q).sum(), em)
    paths = torch.cartesian_prod(*[torch.arange(3)] * 4)  # (81, 4)
    score = (inst.emissions[0, torch.arange(4), paths].sum(1) + inst.start[paths[:, 0]]
             + inst.end[paths[:, -1]] + inst.transitions[paths[:, :-1], paths[:, 1:]].sum(1))
    p = score.softmax(0)
    onehot = torch.nn.functional.one_hot(paths, 3).double()  # (81, T, L)
    # H(y) = Σ_t w[t, y_t] / q(t, y_t): the gradient is Cov(1[y_s = k], H)
    q = torch.einsum("n,ntl->tl", p, onehot)
    h = (onehot * (w[0] / q)).sum(dim=(1, 2))
    expected = torch.einsum("n,ntl->tl", p, onehot * (h - (p * h).sum())[:, None, None])
    assert_close(grad[0], expected)


def test_underflowing_step_falls_back_to_exact_recursion():
    """Label 1 is reached only from itself, 800 nats under label 0: its batched sum
    underflows to 0, and the logsumexp recursion gives the exact, finite value."""
    em = torch.tensor([[[0.0, -800.0], [0.0, 0.0], [0.0, 0.0]]], dtype=torch.float64)
    em.requires_grad_()
    mask = torch.ones(1, 3, dtype=torch.bool)
    transitions = torch.tensor([[0.0, FORBIDDEN], [0.0, 0.0]], dtype=torch.float64)
    start, end = torch.zeros(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    log_q, log_z = crf.log_marginals(em, mask, transitions, start, end)
    ref_q, ref_z = _reference(em, mask, transitions, start, end)
    assert bool(torch.isfinite(log_q).all()) and float(log_q[0, 1, 1].detach()) < -700
    assert_close(log_q, ref_q)
    assert_close(log_z, ref_z)
    (got,) = torch.autograd.grad(log_q.sum(), em)
    (want,) = torch.autograd.grad(ref_q.sum(), em)
    assert_close(got, want)
