"""`crf.log_marginals` and `crf.posteriors` against brute-force enumeration."""
import pytest
import torch
from torch.testing import assert_close

from spacy_kdseq import crf

from .test_exact import CASES, IDS, TOL, _case


@pytest.mark.parametrize("index", range(len(CASES)), ids=IDS)
def test_log_marginals_and_log_z(index):
    inst, brute = _case(index)
    log_q, log_z = crf.log_marginals(*inst.args, **inst.kwargs)
    assert_close(log_z, brute.log_z, **TOL)
    mask = inst.mask.unsqueeze(-1)
    assert_close(torch.where(mask, log_q.exp(), torch.zeros_like(log_q)), brute.marginals, **TOL)
    assert bool((log_q[~inst.mask] == 0).all())


@pytest.mark.parametrize("index", range(len(CASES)), ids=IDS)
def test_posteriors(index):
    inst, brute = _case(index)
    node, edge = crf.posteriors(*inst.args, **inst.kwargs)
    assert_close(node, brute.marginals, **TOL)
    assert_close(edge, brute.edge_marginals, **TOL)


def test_log_marginals_stay_finite_behind_forbidden_moves():
    """Labels whose posterior underflows to 0 keep a finite log-posterior (no NaN in a CE)."""
    em = torch.zeros(1, 3, 2, requires_grad=True)
    transitions = torch.tensor([[0.0, -1e4], [0.0, 0.0]])
    log_q, _ = crf.log_marginals(em, torch.ones(1, 3, dtype=torch.bool), transitions,
                                 torch.tensor([0.0, -1e4]), None)
    assert bool(torch.isfinite(log_q).all()) and float(log_q[0, 0, 1].detach()) < -1e3
    (torch.zeros_like(log_q) * log_q).sum().backward()
    assert bool(torch.isfinite(em.grad).all())
