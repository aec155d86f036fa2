"""Bad input gets a ValueError that names the argument and what was found."""
import re

import pytest
import torch

from spacy_kdseq import crf

B, T, L = 2, 3, 4


def _good():
    em = torch.randn(B, T, L)
    mask = torch.tensor([[True, True, True], [True, False, False]])
    return {"emissions": em, "mask": mask, "transitions": torch.randn(L, L),
            "start": torch.randn(L), "end": torch.randn(L)}


def _call(name, args):
    args = dict(args)
    if name in ("path_score", "nll"):
        args.setdefault("tags", torch.zeros(B, T, dtype=torch.long))
    if name == "kbest":
        args.setdefault("k", 2)
    return getattr(crf, name)(**args)


FUNCS = ["log_partition", "path_score", "nll", "viterbi", "kbest", "marginals",
         "edge_marginals", "log_marginals", "posteriors"]

NAN_EM = torch.randn(B, T, L)
NAN_EM[1, 0, 2] = float("nan")
INF_EM = torch.randn(B, T, L)
INF_EM[0, 2, 1] = float("inf")
NAN_TRANS = torch.randn(L, L)
NAN_TRANS[1, 3] = float("nan")

# (argument overrides, regex the message must match)
BAD = {
    "emissions-ints": ({"emissions": torch.zeros(B, T, L, dtype=torch.long)},
                       r"\[E001\] {f}: 'emissions' must be a floating-point tensor, found dtype "
                       r"torch.int64"),
    "emissions-2d": ({"emissions": torch.randn(T, L)},
                     r"\[E002\] {f}: 'emissions' has shape \(3, 4\), expected \(B, T, L\)"),
    "mask-shape": ({"mask": torch.ones(B, T + 1, dtype=torch.bool)},
                   r"\[E002\] {f}: 'mask' has shape \(2, 4\), expected \(2, 3\)"),
    "mask-not-bool": ({"mask": torch.ones(B, T, dtype=torch.uint8)},
                      r"\[E010\] {f}: 'mask' must be a bool tensor, found dtype torch.uint8"),
    "mask-left-padded": ({"mask": torch.tensor([[True, True, True], [False, True, True]])},
                         r"\[E003\] {f}: 'mask' must be right-padded .* row 1 is not: "
                         r"\[0, 1, 1\]"),
    "mask-device": ({"mask": torch.ones(B, T, dtype=torch.bool, device="meta")},
                    r"\[E009\] {f}: all arguments must be on one device; 'mask' is on meta, "
                    r"'emissions' is on cpu"),
    "transitions-device": ({"transitions": torch.randn(L, L, device="meta")},
                           r"\[E009\] {f}: .*'transitions' is on meta"),
    "transitions-shape": ({"transitions": torch.randn(L, L + 1)},
                          r"\[E002\] {f}: 'transitions' has shape \(4, 5\), expected \(4, 4\)"),
    "start-shape": ({"start": torch.randn(L + 1)},
                    r"\[E002\] {f}: 'start' has shape \(5,\), expected \(4,\)"),
    "end-shape": ({"end": torch.randn(1, L)},
                  r"\[E002\] {f}: 'end' has shape \(1, 4\), expected \(4,\)"),
    "transitions-dtype": ({"transitions": torch.randn(L, L, dtype=torch.float64)},
                          r"\[E011\] {f}: 'transitions' must have the same dtype as 'emissions' "
                          r"\(torch.float32\), found torch.float64"),
    "start-ints": ({"start": torch.zeros(L, dtype=torch.long)},
                   r"\[E001\] {f}: 'start' must be a floating-point tensor"),
    "emissions-nan": ({"emissions": NAN_EM},
                      r"\[E005\] {f}: 'emissions' contains NaN values \(first at index "
                      r"\(1, 0, 2\)\)"),
    "emissions-inf": ({"emissions": INF_EM},
                      r"\[E005\] {f}: 'emissions' contains infinite values \(first at index "
                      r"\(0, 2, 1\)\)"),
    "transitions-nan": ({"transitions": NAN_TRANS},
                        r"\[E005\] {f}: 'transitions' contains NaN values \(first at index "
                        r"\(1, 3\)\)"),
    "end-plus-inf": ({"end": torch.tensor([0.0, float("inf"), 0.0, 0.0])},
                     r"\[E005\] {f}: 'end' contains \+inf values"),
}


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_arguments(func, case):
    overrides, pattern = BAD[case]
    with pytest.raises(ValueError, match=pattern.format(f=func)):
        _call(func, {**_good(), **overrides})


VALUES = ["mask-left-padded", "emissions-nan", "emissions-inf", "transitions-nan", "end-plus-inf"]


@pytest.mark.parametrize("func", ["viterbi", "kbest"])
@pytest.mark.parametrize("case", VALUES)
def test_bad_values_torch_decoders(func, case):
    """With numba installed the decoders check values in compiled code (above); the torch
    kernels raise the same errors."""
    overrides, pattern = BAD[case]
    with pytest.raises(ValueError, match=pattern.format(f=func)):
        _call(func, {**_good(), **overrides, "compiled": False})


def test_non_finite_padding_is_ignored():
    args = _good()
    args["emissions"][1, 1:] = float("nan")
    for func in FUNCS:
        out = _call(func, args)
        scores = out[0] if isinstance(out, tuple) else out
        assert not torch.isnan(scores).any()
    for func in ("viterbi", "kbest"):
        assert not torch.isnan(_call(func, {**args, "compiled": False})[0]).any()


def test_minus_inf_transitions_are_allowed():
    args = _good()
    args["transitions"][0, 1] = float("-inf")
    args["start"][2] = float("-inf")
    assert torch.isfinite(crf.log_partition(**args)).all()
    for compiled in (None, False):
        assert torch.isfinite(crf.viterbi(**args, compiled=compiled)[0]).all()


BAD_TAGS = {
    "float": (torch.zeros(B, T), r"\[E012\] {f}: 'tags' must be an integer tensor, found "
                                 r"dtype torch.float32"),
    "bool": (torch.zeros(B, T, dtype=torch.bool), r"\[E012\] {f}: .*found dtype torch.bool"),
    "list": ([[0, 0, 0], [0, 0, 0]], r"\[E012\] {f}: .*found dtype list"),
    "device": (torch.zeros(B, T, dtype=torch.long, device="meta"),
               r"\[E009\] {f}: all arguments must be on one device; 'tags' is on meta"),
    "shape": (torch.zeros(B, T + 1, dtype=torch.long),
              r"\[E002\] {f}: 'tags' has shape \(2, 4\), expected \(2, 3\)"),
    "too-big": (torch.tensor([[0, 1, L], [0, -1, -1]]),
                r"\[E006\] {f}: 'tags' contains values outside \[0, 4\) at unmasked positions "
                r"\(first at index \(0, 2\), value 4\)"),
    "negative": (torch.tensor([[0, 1, 2], [-1, 0, 0]]),
                 r"\[E006\] {f}: .*index \(1, 0\), value -1"),
}


@pytest.mark.parametrize("func", ["path_score", "nll"])
@pytest.mark.parametrize("case", list(BAD_TAGS), ids=list(BAD_TAGS))
def test_bad_tags(func, case):
    tags, pattern = BAD_TAGS[case]
    with pytest.raises(ValueError, match=pattern.format(f=func)):
        _call(func, {**_good(), "tags": tags})


@pytest.mark.parametrize("k", [0, -3, 2.0, True, "3"])
def test_bad_k(k):
    with pytest.raises(ValueError, match=re.escape(f"[E004] kbest: 'k' must be an integer >= 1, "
                                                   f"found {k!r}")):
        crf.kbest(**_good(), k=k)


def _packed():
    good = _good()
    return {"emissions": good["emissions"][good["mask"]], "lengths": torch.tensor([3, 1]),
            "transitions": good["transitions"], "start": good["start"], "end": good["end"]}


# The second sequence's one token is the packed emissions' row 3.
NAN_PACKED = torch.randn(4, L)
NAN_PACKED[3, 2] = float("nan")
BAD_PACKED = {
    "padded-emissions": ({"emissions": torch.randn(B, T, L)},
                         r"\[E002\] viterbi_packed: 'emissions' has shape \(2, 3, 4\), "
                         r"expected \(N, L\)\. Lay the sequences"),
    "lengths-sum": ({"lengths": torch.tensor([3, 2])},
                    r"\[E014\] viterbi_packed: 'lengths' must be .* sum to the 4 rows of "
                    r"'emissions' .*found lengths \[3, 2\]"),
    "lengths-negative": ({"lengths": torch.tensor([5, -1])}, r"\[E014\] .*found lengths \[5, -1\]"),
    "lengths-float": ({"lengths": torch.tensor([3.0, 1.0])},
                      r"\[E014\] .*found dtype torch.float32, shape \(2,\)"),
    "lengths-list": ({"lengths": [3, 1]}, r"\[E014\] .*found list"),
    "lengths-2d": ({"lengths": torch.tensor([[3, 1]])}, r"\[E014\] .*shape \(1, 2\)"),
    "end-shape": ({"end": torch.randn(L + 1)},
                  r"\[E002\] viterbi_packed: 'end' has shape \(5,\), expected \(4,\)"),
    "emissions-nan": ({"emissions": NAN_PACKED},
                      r"\[E005\] viterbi_packed: 'emissions' contains NaN values \(first at "
                      r"index \(3, 2\)\)"),
    "transitions-inf": ({"transitions": torch.full((L, L), float("inf"))},
                        r"\[E005\] viterbi_packed: 'transitions' contains \+inf values"),
}


@pytest.mark.parametrize("compiled", [None, False])
@pytest.mark.parametrize("case", list(BAD_PACKED), ids=list(BAD_PACKED))
def test_bad_packed_arguments(case, compiled):
    """Packed decoding checks what padded decoding checks, plus the lengths, with the
    index of a bad emission in the packed layout; both kernels raise the same."""
    overrides, pattern = BAD_PACKED[case]
    args = {**_packed(), **overrides}
    with pytest.raises(ValueError, match=pattern):
        crf.viterbi_packed(**args, compiled=compiled)
