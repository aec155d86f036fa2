"""Every CRF function against brute-force enumeration on small random instances."""
import functools
import math

import pytest
import torch
from torch.testing import assert_close

from spacy_kdseq import crf

from .oracle import Brute, Instance, brute_force, padded_tags, path_scores, random_instance

TOL = {"rtol": 1e-6, "atol": 1e-6}
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
# Decoding and log Z run the torch kernels (False) or the compiled CPU ones (True, the
# `fast` extra, installed with `dev`); both must be exact.
KERNELS = pytest.mark.parametrize("compiled", [False, True], ids=["torch", "compiled"])

# (seed, B, T, L, start/end scores, scheme): T <= 6, L <= 4 (5 with a scheme).
CASES = [
    (0, 2, 0, 3, True, None),
    (1, 1, 1, 1, True, None),
    (2, 4, 1, 4, False, None),
    (3, 5, 2, 3, True, None),
    (4, 6, 3, 2, False, None),
    (5, 4, 4, 4, True, None),
    (6, 3, 5, 3, True, None),
    (7, 2, 6, 4, False, None),
    (8, 6, 6, 2, True, None),
    (9, 4, 4, 3, True, None),
    (10, 4, 1, 0, True, "BIO"),
    (11, 4, 4, 0, True, "BIO"),
    (12, 3, 5, 0, False, "BILUO"),
    (13, 4, 4, 0, True, "IOBES"),
    (14, 3, 2, 0, False, "IOBES"),
]
IDS = [f"B{b}-T{t}-L{l}-{'se' if se else 'nose'}-{sch or 'free'}" for _, b, t, l, se, sch in CASES]


@functools.lru_cache(maxsize=None)
def _case(index: int, device: str = "cpu") -> "tuple[Instance, Brute]":
    seed, B, T, L, start_end, scheme = CASES[index]
    inst = random_instance(seed, B, T, L, start_end=start_end, scheme=scheme, device=device)
    return inst, brute_force(random_instance(seed, B, T, L, start_end=start_end, scheme=scheme))


@pytest.fixture(params=range(len(CASES)), ids=IDS)
def index(request) -> int:
    return request.param


@pytest.fixture
def case(index):
    return _case(index)


@pytest.mark.parametrize("device", DEVICES)
@KERNELS
def test_log_partition(index, device, compiled):
    if device != "cpu" and compiled:
        pytest.skip("the compiled kernels are for CPU inputs")
    inst, brute = _case(index, device)
    log_z = crf.log_partition(*inst.args, **inst.kwargs, compiled=compiled)
    assert log_z.device == inst.emissions.device
    assert_close(log_z.cpu(), brute.log_z, **TOL)


def test_marginals(case):
    inst, brute = case
    assert_close(crf.marginals(*inst.args, **inst.kwargs), brute.marginals, **TOL)


def test_edge_marginals(case):
    inst, brute = case
    assert_close(crf.edge_marginals(*inst.args, **inst.kwargs), brute.edge_marginals, **TOL)


def test_edge_marginals_sum_to_node_marginals(case):
    inst, _ = case
    node = crf.marginals(*inst.args, **inst.kwargs)
    edge = crf.edge_marginals(*inst.args, **inst.kwargs)
    pair = inst.mask[:, 1:, None]
    zero = torch.zeros_like(node[:, 1:])
    assert_close(edge.sum(3), torch.where(pair, node[:, :-1], zero), **TOL)
    assert_close(edge.sum(2), torch.where(pair, node[:, 1:], zero), **TOL)


@KERNELS
def test_path_score_and_nll(case, compiled):
    inst, brute = case
    B, T, L = inst.emissions.shape
    gen = torch.Generator().manual_seed(B * 100 + T)
    # Score real paths (all of them valid under any constraints: the best ones).
    tags = padded_tags([ranked[len(ranked) // 2][1] for ranked in brute.ranked], T)
    expected = torch.tensor([dict((p, s) for s, p in path_scores(inst, b))[
        tuple(tags[b, : inst.lengths[b]].tolist())] for b in range(B)], dtype=torch.float64)
    # Padding may hold anything, even out-of-range labels.
    tags = torch.where(inst.mask, tags, torch.randint(-5, L + 5, (B, T), generator=gen))
    assert_close(crf.path_score(*inst.args, tags, **inst.kwargs), expected, **TOL)
    assert_close(crf.nll(*inst.args, tags, **inst.kwargs, compiled=compiled),
                 brute.log_z - expected, **TOL)


@KERNELS
def test_viterbi(case, compiled):
    inst, brute = case
    scores, tags = crf.viterbi(*inst.args, **inst.kwargs, compiled=compiled)
    assert tags.dtype == torch.long
    expected = torch.tensor([r[0][0] for r in brute.ranked], dtype=torch.float64)
    assert_close(scores, expected, **TOL)
    assert torch.equal(tags, padded_tags([r[0][1] for r in brute.ranked], inst.mask.shape[1]))


@KERNELS
@pytest.mark.parametrize("k", [1, 2, 5, 40])
def test_kbest(case, k, compiled):
    """Exact and sorted for any k, including k beyond the number of paths."""
    inst, brute = case
    B, T, _ = inst.emissions.shape
    scores, tags = crf.kbest(*inst.args, k, **inst.kwargs, compiled=compiled)
    assert scores.shape == (B, k) and tags.shape == (B, k, T)
    for b, ranked in enumerate(brute.ranked):
        top = ranked[:k]
        surplus = k - len(top)
        want = torch.tensor([s for s, _ in top] + [float("-inf")] * surplus, dtype=torch.float64)
        assert_close(scores[b], want, **TOL)
        want_tags = torch.cat([padded_tags([p for _, p in top], T),
                               torch.full((surplus, T), -1, dtype=torch.long)])
        assert torch.equal(tags[b], want_tags)


@KERNELS
def test_kbest_first_is_viterbi(case, compiled):
    inst, _ = case
    k_scores, k_tags = crf.kbest(*inst.args, 3, **inst.kwargs, compiled=compiled)
    v_scores, v_tags = crf.viterbi(*inst.args, **inst.kwargs, compiled=compiled)
    assert_close(k_scores[:, 0], v_scores, **TOL)
    assert torch.equal(k_tags[:, 0], v_tags)


@KERNELS
def test_marginals_are_the_gradient_of_log_z(case, compiled):
    """The custom backward of log Z gives the posteriors, -inf (forbidden) scores included."""
    inst, brute = case
    L = inst.emissions.shape[2]
    zeros = torch.zeros(L, dtype=torch.float64)
    leaves = [x.clone().requires_grad_() for x in (
        inst.emissions, inst.transitions,
        zeros if inst.start is None else inst.start, zeros if inst.end is None else inst.end,
    )]
    emissions, transitions, start, end = leaves
    crf.log_partition(emissions, inst.mask, transitions, start, end,
                      compiled=compiled).sum().backward()
    # An all-empty batch (T = 0) touches no parameter: no gradient at all.
    d_em, d_trans, d_start, d_end = (
        torch.zeros_like(x) if x.grad is None else x.grad for x in leaves
    )
    node = crf.marginals(*inst.args, **inst.kwargs)
    assert_close(d_em, node, **TOL)
    assert_close(d_em, brute.marginals, **TOL)
    assert_close(d_trans, brute.edge_marginals.sum((0, 1)), **TOL)
    assert_close(d_start, node[:, 0].sum(0) if node.shape[1] else zeros, **TOL)
    last = (inst.mask.sum(1) - 1).clamp(min=0)
    assert_close(d_end, node[torch.arange(len(last)), last].sum(0) if node.shape[1] else zeros,
                 **TOL)


@KERNELS
@pytest.mark.parametrize("start_end", [True, False])
@pytest.mark.parametrize("lengths", [[4, 2, 1, 0], [1, 1, 1], [3, 3]])
def test_gradcheck_log_partition(start_end, lengths, compiled):
    inst = random_instance(21, len(lengths), max(lengths), 3, start_end=start_end,
                           lengths=lengths)
    em, mask, tr = inst.args
    params = [em, tr] + ([inst.start, inst.end] if start_end else [])
    params = [p.detach().clone().requires_grad_() for p in params]

    def f(*ps):
        extra = ps[2:] if start_end else (None, None)
        return crf.log_partition(ps[0], mask, ps[1], *extra, compiled=compiled)

    assert torch.autograd.gradcheck(f, params, eps=1e-6, atol=1e-5)


def test_gradcheck_marginals():
    inst = random_instance(22, 3, 4, 3, lengths=[4, 2, 1])
    em = inst.emissions.detach().clone().requires_grad_()
    tr = inst.transitions.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(
        lambda e, t: crf.marginals(e, inst.mask, t, inst.start, inst.end), (em, tr), atol=1e-5
    )


@KERNELS
@pytest.mark.parametrize("L", [1, 2, 4])
@pytest.mark.parametrize("lengths", [[0, 1, 3, 5], [6]])
def test_all_zero_scores_closed_form(L, lengths, compiled):
    """log Z = n log L, uniform marginals, and every path (of L^n) scores 0."""
    B, T = len(lengths), max(lengths)
    inst = random_instance(0, B, T, L, lengths=lengths)
    em = torch.zeros(B, T, L, dtype=torch.float64)
    tr = torch.zeros(L, L, dtype=torch.float64)
    n = torch.tensor(lengths, dtype=torch.float64)
    assert_close(crf.log_partition(em, inst.mask, tr), n * math.log(L), **TOL)
    uniform = inst.mask[..., None].double().expand(B, T, L) / L
    assert_close(crf.marginals(em, inst.mask, tr), uniform, **TOL)
    k = 7
    scores, tags = crf.kbest(em, inst.mask, tr, k, compiled=compiled)
    # Ties everywhere: still k distinct paths wherever there are k.
    for b, n in enumerate(lengths):
        found = {tuple(path[:n].tolist()) for path in tags[b] if path[0] >= 0 or n == 0}
        assert len(found) == min(k, L**n)
    n_paths = torch.tensor([L**m for m in lengths])
    want = torch.where(torch.arange(k)[None, :] < n_paths[:, None], 0.0, float("-inf"))
    assert_close(scores, want.double(), **TOL)


@KERNELS
@pytest.mark.parametrize("index", [5, 7, 11, 13], ids=[IDS[i] for i in (5, 7, 11, 13)])
def test_float32(index, compiled):
    inst64, brute = _case(index)
    inst = random_instance(*CASES[index][:4], start_end=CASES[index][4], scheme=CASES[index][5],
                           dtype=torch.float32)
    tol = {"rtol": 1e-4, "atol": 1e-4}
    log_z = crf.log_partition(*inst.args, **inst.kwargs, compiled=compiled)
    assert log_z.dtype == torch.float32
    assert_close(log_z.double(), brute.log_z, **tol)
    assert_close(crf.marginals(*inst.args, **inst.kwargs).double(), brute.marginals, **tol)
    assert_close(crf.edge_marginals(*inst.args, **inst.kwargs).double(), brute.edge_marginals,
                 **tol)
    scores, tags = crf.viterbi(*inst.args, **inst.kwargs, compiled=compiled)
    assert torch.equal(tags, crf.viterbi(*inst64.args, **inst64.kwargs, compiled=compiled)[1])
    k_scores, _ = crf.kbest(*inst.args, 3, **inst.kwargs, compiled=compiled)
    assert k_scores.dtype == torch.float32
    assert_close(k_scores[:, 0], scores)


@KERNELS
def test_viterbi_packed(case, compiled):
    """The same best paths, with the sequences laid end to end instead of padded."""
    inst, brute = case
    lengths = inst.mask.sum(1)
    scores, tags = crf.viterbi_packed(inst.emissions[inst.mask], lengths, inst.transitions,
                                      **inst.kwargs, compiled=compiled)
    expected = torch.tensor([r[0][0] for r in brute.ranked], dtype=torch.float64)
    assert_close(scores, expected, **TOL)
    best = [r[0][1] for r in brute.ranked]
    assert tags.dtype == torch.long
    assert tags.tolist() == [label for path in best for label in path]
