"""The compiled kernels (numba) against the torch ones on larger instances, where brute
force cannot go, and the `compiled` switch's errors."""
import sys

import pytest
import torch
from torch.testing import assert_close

from spacy_kdseq import crf
from spacy_kdseq.errors import KDSeqError

from .oracle import random_instance

pytest.importorskip("numba")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("seed,B,T,L,scheme", [
    (0, 16, 30, 9, None), (1, 8, 60, 17, None), (2, 16, 25, 0, "BIO"), (3, 5, 40, 0, "BILUO"),
])
def test_compiled_matches_torch(seed, B, T, L, scheme, dtype):
    """Same paths and scores (up to summation order) for Viterbi and k-best, with -inf
    constraints, random lengths (some 0) and scores scaled up to make near-ties rarer
    than in unit-variance data but ranks deep (k = 25)."""
    inst = random_instance(seed, B, T, L, scheme=scheme, dtype=dtype, scale=3.0)
    tol = {"rtol": 1e-5, "atol": 1e-3} if dtype == torch.float32 else {"rtol": 1e-9, "atol": 1e-9}
    v_torch = crf.viterbi(*inst.args, **inst.kwargs, compiled=False)
    v_fast = crf.viterbi(*inst.args, **inst.kwargs, compiled=True)
    assert torch.equal(v_fast[1], v_torch[1])
    assert_close(v_fast[0], v_torch[0], **tol)
    k_torch = crf.kbest(*inst.args, 25, **inst.kwargs, compiled=False)
    k_fast = crf.kbest(*inst.args, 25, **inst.kwargs, compiled=True)
    assert k_fast[0].dtype == dtype and k_fast[1].dtype == torch.long
    assert torch.equal(k_fast[0].isinf(), k_torch[0].isinf())
    finite = k_torch[0].isfinite()
    assert_close(k_fast[0][finite], k_torch[0][finite], **tol)
    assert torch.equal(k_fast[1], k_torch[1])
    # Sorted, and each score is its path's score.
    assert bool((k_fast[0][:, :-1] >= k_fast[0][:, 1:]).all())
    rows = finite.nonzero()
    paths = k_fast[1][rows[:, 0], rows[:, 1]].clamp(min=0)
    rescored = crf.path_score(inst.emissions[rows[:, 0]], inst.mask[rows[:, 0]],
                              inst.transitions, paths, **inst.kwargs)
    assert_close(k_fast[0][finite], rescored, **tol)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("seed,B,T,L,scheme", [(4, 12, 50, 17, None), (5, 9, 30, 0, "BILUO")])
def test_compiled_nll_and_gradients_match_torch(seed, B, T, L, scheme, dtype):
    """The NLL and every parameter's gradient, weighted per sequence, with -inf moves."""
    inst = random_instance(seed, B, T, L, scheme=scheme, dtype=dtype, scale=5.0)
    L = inst.emissions.shape[2]
    tags = crf.viterbi(*inst.args, **inst.kwargs, compiled=False)[1].clamp(min=0)
    weights = torch.rand(B, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    results = []
    for compiled in (False, True):
        leaves = [x.clone().requires_grad_() for x in (
            inst.emissions, inst.transitions, inst.kwargs["start"], inst.kwargs["end"])]
        loss = crf.nll(leaves[0], inst.mask, leaves[1], tags, leaves[2], leaves[3],
                       compiled=compiled)
        (loss * weights).sum().backward()
        results.append([loss.detach()] + [leaf.grad for leaf in leaves])
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == torch.float32 else {"rtol": 1e-9, "atol": 1e-9}
    for fast, slow in zip(*results):
        assert fast.dtype == dtype
        assert_close(fast, slow, **tol)


def _bad_instance(seed):
    """A small instance with one or two of: NaN / ±inf in the emissions (under or past the
    mask) or in a parameter, a hole in the mask."""
    gen = torch.Generator().manual_seed(seed)

    def draw(n):
        return int(torch.randint(0, n, (1,), generator=gen))

    B, T, L = 4, 6, 5
    inst = random_instance(seed, B, T, L)
    em, mask = inst.emissions.clone(), inst.mask.clone()
    params = [inst.transitions.clone(), inst.kwargs["start"].clone(), inst.kwargs["end"].clone()]
    for _ in range(1 + draw(2)):
        value = [float("nan"), float("inf"), float("-inf")][draw(3)]
        where = draw(3)
        if where == 0:
            em[draw(B), draw(T), draw(L)] = value
        elif where == 1:
            param = params[draw(3)].view(-1)
            param[draw(param.numel())] = value
        else:
            mask[draw(B), draw(T)] = True
    return em, mask, params


def test_compiled_value_checks_agree_with_torch():
    """The compiled decoders check values inside the kernel and run the torch checks only
    to name what failed: on random bad values both kernels raise the same error, or
    neither does (-inf, padding and a mask that stays a prefix are fine)."""
    outcomes = set()
    for seed in range(60):
        em, mask, (trans, start, end) = _bad_instance(seed)
        for func, extra in ((crf.viterbi, ()), (crf.kbest, (3,))):
            errors = []
            for compiled in (False, True):
                try:
                    func(em, mask, trans, *extra, start=start, end=end, compiled=compiled)
                    errors.append(None)
                except KDSeqError as err:
                    errors.append(str(err))
            assert errors[1] == errors[0]
            outcomes.add(errors[0].split("]")[0] if errors[0] else None)
    # Every kind of failure was drawn, and inputs that pass.
    assert outcomes == {None, "[E003", "[E005"}


def test_compiled_true_needs_float_cpu_labels():
    inst = random_instance(0, 2, 3, 3)
    empty = torch.zeros(2, 3, 0, dtype=torch.float64)
    with pytest.raises(KDSeqError, match=r"\[E013\] viterbi: compiled=True needs float32"):
        crf.viterbi(empty, inst.mask, torch.zeros(0, 0, dtype=torch.float64), compiled=True)
    half = [x.half() for x in (inst.emissions, inst.transitions)]
    with pytest.raises(KDSeqError, match="got torch.float16 on cpu"):
        crf.kbest(half[0], inst.mask, half[1], 2, compiled=True)
    # compiled=None falls back to the torch kernels there.
    scores, _ = crf.kbest(half[0], inst.mask, half[1], 2)
    assert scores.dtype == torch.float16


def test_compiled_true_without_numba(monkeypatch):
    """Without numba, compiled=True names the extra to install; None uses torch."""
    monkeypatch.setitem(sys.modules, "numba", None)
    inst = random_instance(1, 3, 4, 3)
    with pytest.raises(KDSeqError, match=r"pip install spacy-kdseq\[fast\]"):
        crf.kbest(*inst.args, 2, **inst.kwargs, compiled=True)
    with pytest.raises(KDSeqError, match=r"\[E013\] log_partition: compiled=True needs numba"):
        crf.log_partition(*inst.args, **inst.kwargs, compiled=True)
    scores, tags = crf.viterbi(*inst.args, **inst.kwargs)
    assert torch.equal(tags, crf.viterbi(*inst.args, **inst.kwargs, compiled=False)[1])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_compiled_true_on_cuda_is_an_error():
    inst = random_instance(2, 2, 3, 3, device="cuda")
    with pytest.raises(KDSeqError, match="CPU inputs"):
        crf.viterbi(*inst.args, **inst.kwargs, compiled=True)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("seed,B,T,L,scheme", [(6, 40, 50, 17, None), (7, 30, 20, 0, "BILUO")])
def test_compiled_packed_viterbi_matches_padded(seed, B, T, L, scheme, dtype):
    """Packed decoding gives padded Viterbi's paths and scores, empty sequences included."""
    gen = torch.Generator().manual_seed(seed)
    lengths = [T, 0] + torch.randint(0, T + 1, (B - 2,), generator=gen).tolist()
    inst = random_instance(seed, B, T, L, scheme=scheme, dtype=dtype, scale=3.0, lengths=lengths)
    scores, tags = crf.viterbi(*inst.args, **inst.kwargs, compiled=False)
    lengths = inst.mask.sum(1)
    packed = crf.viterbi_packed(inst.emissions[inst.mask], lengths, inst.transitions,
                                **inst.kwargs, compiled=True)
    assert torch.equal(packed[1], tags[inst.mask])
    tol = {"rtol": 1e-5, "atol": 1e-3} if dtype == torch.float32 else {"rtol": 1e-9, "atol": 1e-9}
    assert_close(packed[0], scores, **tol)
