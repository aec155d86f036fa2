"""``spacy-kdseq.LinearChainCRF.v1``: forward, backward, constraints, serialisation."""
import numpy
import pytest
from numpy.testing import assert_allclose
from thinc.api import registry

from spacy_kdseq.crf import allowed_transitions
from spacy_kdseq.layers import NEG, CRFScores, LinearChainCRF, hard_constraints, set_constraints

LABELS = ["O", "B-X", "I-X", "B-Y", "I-Y"]
L = len(LABELS)


def _layer(scheme="BIO"):
    model = registry.resolve({"m": {"@layers": "spacy-kdseq.LinearChainCRF.v1"}})["m"]
    X = [numpy.random.randn(n, L).astype("f") for n in (3, 1, 5)]
    model.initialize(X=X)
    rng = numpy.random.default_rng(0)
    for name, shape in (("transitions", (L, L)), ("start", (L,)), ("end", (L,))):
        model.set_param(name, rng.normal(size=shape).astype("f"))
    set_constraints(model, LABELS if scheme else None, scheme)
    return model, X


def test_init_infers_nO():
    model, _ = _layer()
    assert model.get_dim("nO") == L
    assert model.get_param("transitions").shape == (L, L)


@pytest.mark.parametrize("scheme", ["BIO", None])
def test_forward_masks_forbidden_moves(scheme):
    model, X = _layer(scheme)
    Y, _ = model(X, is_train=False)
    assert isinstance(Y, CRFScores) and Y.emissions is X
    allowed = allowed_transitions(LABELS, "BIO") if scheme else None
    for name in ("transitions", "start", "end"):
        param = model.get_param(name)
        want = param if allowed is None else numpy.where(getattr(allowed, name).numpy(), param, NEG)
        assert_allclose(getattr(Y, name), want)
        assert getattr(Y, name).dtype == param.dtype


@pytest.mark.parametrize("scheme", ["BIO", None])
def test_backward_reaches_params_except_forbidden(scheme):
    model, X = _layer(scheme)
    Y, backprop = model(X, is_train=True)
    dY = CRFScores([x * 2 for x in X], numpy.ones((L, L), "f"), numpy.ones(L, "f"),
                   numpy.ones(L, "f"))
    dX = backprop(dY)
    assert all(numpy.array_equal(d, x * 2) for d, x in zip(dX, X))
    masks = hard_constraints(model)
    for i, name in enumerate(("transitions", "start", "end")):
        want = numpy.ones_like(model.get_param(name)) if masks is None else masks[i].astype("f")
        assert_allclose(model.get_grad(name), want)
    # A second batch accumulates.
    backprop(dY)
    assert model.get_grad("transitions").max() == 2.0


def test_bytes_round_trip_keeps_constraints():
    model, X = _layer("BIO")
    data = model.to_bytes()
    fresh = LinearChainCRF(nO=L)
    fresh.initialize()
    fresh.from_bytes(data)
    assert fresh.attrs["labels"] == LABELS and fresh.attrs["scheme"] == "BIO"
    assert_allclose(fresh.get_param("transitions"), model.get_param("transitions"))
    Y1, _ = model(X, is_train=False)
    Y2, _ = fresh(X, is_train=False)
    assert_allclose(Y1.transitions, Y2.transitions)
    assert_allclose(Y1.end, Y2.end)


def test_set_constraints_rejects_bad_labels():
    model, _ = _layer(None)
    with pytest.raises(ValueError, match=r"\[E008\]"):
        set_constraints(model, ["O", "U-X"], "BIO")
    set_constraints(model, None, "BIO")
    assert hard_constraints(model) is None
