"""The exp-space recursions against the log-space ones on long, large-scored sequences.

Brute force stops at T = 6; here log Z, the posteriors and the gradients of the scaled
recursion (`_scaled`) must match the float64 log-space dynamic program (`_dp`, itself
checked against brute force) where rescaling matters: T = 80, L = 17, scores up to
±100s. In float32 the scaled posteriors are more accurate than the log-space ones
(which lose |log Z|·eps in exp(α + β − log Z)), so float32 is held to float64's answer.
"""
import pytest
import torch
from torch.testing import assert_close

from spacy_kdseq import crf
from spacy_kdseq.crf import _dp

from .oracle import random_instance

LENGTHS = [80, 1, 0, 79, 40, 2, 65, 80]


@pytest.mark.parametrize("compiled", [False, True], ids=["torch", "compiled"])
@pytest.mark.parametrize("scale", [1.0, 30.0, 100.0])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_scaled_matches_log_space(scale, dtype, compiled):
    ref = random_instance(3, 8, 80, 17, scale=scale, lengths=LENGTHS)
    em, mask, trans = ref.args
    start, end = ref.kwargs["start"], ref.kwargs["end"]
    alphas, want_z = _dp.forward_alphas(em, mask, trans, start, end)
    betas = _dp.backward_betas(em, mask, trans, end)
    want_node = _dp.node_posteriors(alphas, betas, want_z, mask)
    want_edge = _dp.edge_posteriors(em, mask, trans, alphas, betas, want_z)

    em, trans, start, end = (x.to(dtype) for x in (em, trans, start, end))
    if dtype == torch.float64:
        z_tol = tol = {"rtol": 1e-9, "atol": 1e-9}
    else:
        z_tol, tol = {"rtol": 1e-5, "atol": 1e-4}, {"rtol": 0.0, "atol": 1e-5}
    leaf = em.clone().requires_grad_()
    log_z = crf.log_partition(leaf, mask, trans, start, end, compiled=compiled)
    assert log_z.dtype == dtype
    assert_close(log_z.double(), want_z, **z_tol)
    log_z.sum().backward()
    assert_close(leaf.grad.double(), want_node, **tol)
    assert_close(crf.marginals(em, mask, trans, start, end).double(), want_node, **tol)
    assert_close(crf.edge_marginals(em, mask, trans, start, end).double(), want_edge, **tol)
