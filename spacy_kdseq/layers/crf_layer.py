"""``spacy-kdseq.LinearChainCRF.v1``: the Thinc layer owning the CRF's parameters."""
import functools
from typing import List, Optional, Sequence, Tuple

import numpy
from thinc.api import Model, registry
from thinc.types import Floats2d

from ..crf import allowed_transitions
from .types import CRFScores

InT = List[Floats2d]
OutT = CRFScores

# Score of a forbidden move in training. Finite, so that log-space gradients never
# meet -inf − (-inf); decoding swaps it for -inf (see `hard_constraints`).
NEG = -1e4


@registry.layers("spacy-kdseq.LinearChainCRF.v1")
def LinearChainCRF(nO: Optional[int] = None) -> Model[InT, OutT]:
    """Pair per-token emission scores with learned transition, start and end scores.

    Constraints are set once the labels are known, with `set_constraints`.
    """
    return Model(
        "linear_chain_crf",
        forward,
        init=init,
        dims={"nO": nO},
        params={"transitions": None, "start": None, "end": None},
        attrs={"labels": None, "scheme": None},
    )


def set_constraints(model: Model, labels: Optional[Sequence[str]], scheme: Optional[str]) -> None:
    """Forbid the moves that are invalid for `scheme` over `labels` (None: no constraints)."""
    if labels is not None and scheme is not None:
        allowed_transitions(labels, scheme)  # validates the labels against the scheme
        model.attrs["labels"] = list(labels)
    else:
        model.attrs["labels"] = None
    model.attrs["scheme"] = scheme if labels is not None else None


def hard_constraints(model: Model) -> Optional[Tuple[Floats2d, Floats2d, Floats2d]]:
    """Boolean (transitions, start, end) masks of allowed moves as xp arrays, or None."""
    labels, scheme = model.attrs["labels"], model.attrs["scheme"]
    if labels is None or scheme is None:
        return None
    xp = model.ops.xp
    return tuple(xp.asarray(m) for m in _allowed_masks(tuple(labels), scheme))  # type: ignore


@functools.lru_cache(maxsize=64)
def _allowed_masks(labels: Tuple[str, ...], scheme: str) -> Tuple[numpy.ndarray, ...]:
    """The masks of `allowed_transitions`, read-only, built once per label set and scheme:
    building them loops over every label pair in Python, ~2 ms for 17 tags, and the
    layer needs them on every forward pass."""
    masks = tuple(mask.numpy() for mask in allowed_transitions(list(labels), scheme))
    for mask in masks:
        mask.setflags(write=False)
    return masks


def init(model: Model[InT, OutT], X: Optional[InT] = None, Y: Optional[OutT] = None) -> None:
    if model.has_dim("nO") is not True:
        if X:
            model.set_dim("nO", X[0].shape[1])
        elif Y is not None:
            model.set_dim("nO", Y.transitions.shape[0])
    n = model.get_dim("nO")
    model.set_param("transitions", model.ops.alloc2f(n, n))
    model.set_param("start", model.ops.alloc1f(n))
    model.set_param("end", model.ops.alloc1f(n))


def forward(model: Model[InT, OutT], X: InT, is_train: bool) -> Tuple[OutT, callable]:
    xp = model.ops.xp
    transitions = model.get_param("transitions")
    start = model.get_param("start")
    end = model.get_param("end")
    masks = hard_constraints(model)
    if masks is not None:
        allowed_trans, allowed_start, allowed_end = masks
        transitions = xp.where(allowed_trans, transitions, NEG).astype(transitions.dtype)
        start = xp.where(allowed_start, start, NEG).astype(start.dtype)
        end = xp.where(allowed_end, end, NEG).astype(end.dtype)

    def backprop(dY: OutT) -> InT:
        d_trans, d_start, d_end = dY.transitions, dY.start, dY.end
        if masks is not None:
            # Forbidden entries are constants in the forward pass: no gradient.
            d_trans = d_trans * allowed_trans
            d_start = d_start * allowed_start
            d_end = d_end * allowed_end
        model.inc_grad("transitions", d_trans)
        model.inc_grad("start", d_start)
        model.inc_grad("end", d_end)
        return dY.emissions

    return CRFScores(X, transitions, start, end), backprop
