"""Agreement with two peer implementations: torch-struct and pytorch-crf."""
import pytest
import torch
from torch import Tensor
from torch.testing import assert_close

from spacy_kdseq import crf

from .oracle import Instance, random_instance

torch_struct = pytest.importorskip("torch_struct")
torchcrf = pytest.importorskip("torchcrf")

pytestmark = pytest.mark.filterwarnings("ignore:.*arg_constraints:UserWarning")

TOL = {"rtol": 1e-6, "atol": 1e-6}
# torch-struct needs lengths >= 2 and one row of full length; pytorch-crf needs lengths >= 1.
LENGTHS = [[5, 2, 4, 3], [2, 2], [6, 6, 3]]


def _instance(lengths, seed: int = 0) -> Instance:
    return random_instance(seed, len(lengths), max(lengths), 3, lengths=lengths)


def struct_potentials(inst: Instance) -> Tensor:
    """torch-struct's log_potentials (B, T-1, L_to, L_from) for our convention."""
    em, mask, trans = inst.args
    lengths = mask.sum(1)
    pot = trans.t()[None, None] + em[:, 1:, :, None]
    first = inst.start + em[:, 0]
    pot[:, 0] += first[:, None, :]
    last = torch.nn.functional.one_hot(lengths - 2, em.shape[1] - 1).to(em.dtype)
    return pot + last[:, :, None, None] * inst.end[None, None, :, None]


def struct_tags(parts: Tensor, mask: Tensor) -> Tensor:
    """Tags (..., T) from torch-struct edge indicators (..., T-1, L_to, L_from); -1 at padding."""
    first = parts[..., :1, :, :].sum(-2).argmax(-1)
    rest = parts.sum(-1).argmax(-1)
    tags = torch.cat([first, rest], dim=-1)
    return tags.masked_fill(~mask, -1)


@pytest.fixture(params=range(len(LENGTHS)))
def pair(request):
    inst = _instance(LENGTHS[request.param], seed=request.param)
    return inst, torch_struct.LinearChainCRF(struct_potentials(inst), lengths=inst.mask.sum(1))


def test_struct_partition(pair):
    inst, dist = pair
    assert_close(crf.log_partition(*inst.args, **inst.kwargs), dist.partition, **TOL)


def test_struct_marginals(pair):
    inst, dist = pair
    ours = crf.edge_marginals(*inst.args, **inst.kwargs)
    assert_close(ours, dist.marginals.transpose(-1, -2), **TOL)
    node = crf.marginals(*inst.args, **inst.kwargs)
    assert_close(node[:, 1:], torch.where(inst.mask[:, 1:, None], dist.marginals.sum(-1), 0.0),
                 **TOL)


def test_struct_argmax(pair):
    inst, dist = pair
    scores, tags = crf.viterbi(*inst.args, **inst.kwargs)
    assert_close(scores, dist.max, **TOL)
    assert torch.equal(tags, struct_tags(dist.argmax, inst.mask))


@pytest.mark.parametrize("k", [1, 4])
def test_struct_topk(pair, k):
    inst, dist = pair
    scores, tags = crf.kbest(*inst.args, k, **inst.kwargs)
    assert_close(scores, dist.kmax(k).t(), **TOL)
    theirs = struct_tags(dist.topk(k), inst.mask[None]).transpose(0, 1)
    assert torch.equal(tags, theirs)


def _pytorch_crf(inst: Instance) -> "torchcrf.CRF":
    L = inst.transitions.shape[0]
    peer = torchcrf.CRF(L, batch_first=True).double()
    with torch.no_grad():
        peer.transitions.copy_(inst.transitions)
        peer.start_transitions.copy_(inst.start)
        peer.end_transitions.copy_(inst.end)
    return peer


@pytest.mark.parametrize("lengths", LENGTHS + [[1, 1, 1]])
def test_pytorch_crf_nll(lengths):
    inst = _instance(lengths)
    gen = torch.Generator().manual_seed(1)
    tags = torch.randint(0, 3, inst.mask.shape, generator=gen)
    peer = _pytorch_crf(inst)
    llh = peer(inst.emissions, tags, inst.mask, reduction="none")
    assert_close(crf.nll(*inst.args, tags, **inst.kwargs), -llh, **TOL)


@pytest.mark.parametrize("lengths", LENGTHS + [[1, 1, 1]])
def test_pytorch_crf_decode(lengths):
    inst = _instance(lengths)
    paths = _pytorch_crf(inst).decode(inst.emissions, inst.mask)
    _, tags = crf.viterbi(*inst.args, **inst.kwargs)
    assert [row[row >= 0].tolist() for row in tags] == paths
