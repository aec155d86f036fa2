"""Validation of the CRF functions' arguments.

Every public function in ``spacy_kdseq.crf`` starts with one call of :func:`check_inputs`
(:func:`check_packed` for sequences laid end to end). The decoders, which may run a
compiled kernel, have it skip the value checks and run :func:`check_values` themselves on
the torch path: the compiled kernels check the values in their own pass. The checks are
O(B·T·L), cheap next to the O(B·T·L²) dynamic programs, so they always run; non-finite
emissions are looked for only at unmasked positions, since padding may hold anything.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

from ..errors import Errors, KDSeqError


def check_inputs(
    func: str,
    emissions: Tensor,
    mask: Tensor,
    transitions: Tensor,
    start: Optional[Tensor],
    end: Optional[Tensor],
    *,
    k: Optional[int] = None,
    tags: Optional[Tensor] = None,
    values: bool = True,
) -> Tuple[Tensor, Tensor]:
    """Validate the arguments of the CRF function `func`; return `start`, `end` (zeros if
    None). In this order: types, shapes, dtypes and devices; `k` (k-best) if given; the
    values (`check_values`) unless `values` is False; the gold `tags` if given."""
    _check_emissions(func, emissions, 3, "(B, T, L)",
                     "Add a batch dimension with `.unsqueeze(0)`.")
    B, T, _ = emissions.shape
    if not torch.is_tensor(mask) or mask.dtype != torch.bool:
        dtype = mask.dtype if torch.is_tensor(mask) else type(mask).__name__
        raise KDSeqError(Errors.E010.format(func=func, dtype=dtype))
    if tuple(mask.shape) != (B, T):
        raise KDSeqError(
            Errors.E002.format(
                func=func, arg="mask", found=tuple(mask.shape), expected=(B, T),
                hint="The mask must be (B, T) like the first two dims of 'emissions'.",
            )
        )
    if mask.device != emissions.device:
        raise KDSeqError(
            Errors.E009.format(func=func, arg="mask", found=mask.device, expected=emissions.device)
        )
    start, end = _check_params(func, emissions, transitions, start, end)
    if k is not None:
        _check_k(func, k)
    if values:
        check_values(func, emissions, mask, transitions, start, end)
    if tags is not None:
        _check_tags(func, tags, mask, emissions.shape[2])
    return start, end


def check_values(
    func: str, emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> None:
    """Raise for a mask that is not a prefix, non-finite emissions under the mask, or
    NaN / +inf in the parameters (-inf writes a hard constraint)."""
    T = emissions.shape[1]
    if T > 1 and bool((mask[:, 1:] > mask[:, :-1]).any()):
        holes = mask[:, 1:] & ~mask[:, :-1]
        row = int(holes.any(dim=1).nonzero()[0, 0])
        raise KDSeqError(
            Errors.E003.format(func=func, row=row, row_mask=mask[row].int().tolist())
        )
    # One sum tells whether every score is finite; only if not, look where (padding may
    # hold anything).
    if not bool(torch.isfinite(emissions.sum())):
        _check_finite_emissions(func, emissions, mask)
    check_param_values(func, transitions, start, end)


def check_param_values(func: str, transitions: Tensor, start: Tensor, end: Tensor) -> None:
    """Raise for NaN or +inf in the parameters (-inf writes a hard constraint)."""
    # -inf is how hard constraints are written; NaN and +inf never make sense. Their sum
    # is finite or -inf unless one of them is NaN or +inf (or finite ones overflow).
    total = torch.cat([transitions.reshape(-1), start, end]).sum()
    if not bool(torch.isfinite(total) | (total == float("-inf"))):
        for name, param in (("transitions", transitions), ("start", start), ("end", end)):
            bad_param = torch.isnan(param) | (param == float("inf"))
            if bool(bad_param.any()):
                index = tuple(bad_param.nonzero()[0].tolist())
                what = "NaN" if bool(torch.isnan(param[index])) else "+inf"
                raise KDSeqError(
                    Errors.E005.format(func=func, arg=name, what=what, index=index)
                )


def check_packed(
    func: str,
    emissions: Tensor,
    lengths: Tensor,
    transitions: Tensor,
    start: Optional[Tensor],
    end: Optional[Tensor],
) -> Tuple[Tensor, Tensor]:
    """Validate sequences laid end to end, emissions (N, L) and lengths (B,), except for
    their values; return `start`, `end` (zeros if None)."""
    _check_emissions(func, emissions, 2, "(N, L)",
                     "Lay the sequences' (T, L) scores end to end with `torch.cat`.")
    integer = torch.is_tensor(lengths) and not lengths.is_floating_point() and not (
        lengths.dtype == torch.bool or lengths.is_complex())
    if not integer or lengths.dim() != 1:
        found = (f"dtype {lengths.dtype}, shape {tuple(lengths.shape)}"
                 if torch.is_tensor(lengths) else type(lengths).__name__)
        raise KDSeqError(Errors.E014.format(func=func, n_rows=emissions.shape[0], found=found))
    if lengths.device != emissions.device:
        raise KDSeqError(Errors.E009.format(
            func=func, arg="lengths", found=lengths.device, expected=emissions.device))
    if bool((lengths < 0).any()) or int(lengths.sum()) != emissions.shape[0]:
        raise KDSeqError(Errors.E014.format(
            func=func, n_rows=emissions.shape[0], found=f"lengths {lengths.tolist()}"))
    return _check_params(func, emissions, transitions, start, end)


def check_packed_values(
    func: str, emissions: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> None:
    """Raise for non-finite emissions (packed: there is no padding) or NaN / +inf in the
    parameters."""
    if not bool(torch.isfinite(emissions.sum())):
        bad = ~torch.isfinite(emissions)
        if bool(bad.any()):
            index = tuple(bad.nonzero()[0].tolist())
            what = "NaN" if bool(torch.isnan(emissions[index])) else "infinite"
            raise KDSeqError(
                Errors.E005.format(func=func, arg="emissions", what=what, index=index))
    check_param_values(func, transitions, start, end)


def _check_finite_emissions(func: str, emissions: Tensor, mask: Tensor) -> None:
    bad = ~torch.isfinite(emissions) & mask.unsqueeze(-1)
    if bool(bad.any()):
        index = tuple(bad.nonzero()[0].tolist())
        what = "NaN" if bool(torch.isnan(emissions[index])) else "infinite"
        raise KDSeqError(Errors.E005.format(func=func, arg="emissions", what=what, index=index))


def _check_emissions(func: str, emissions: Tensor, ndim: int, expected: str, hint: str) -> None:
    """A floating-point tensor of `ndim` dims (`expected` names them, for the message)."""
    if not torch.is_tensor(emissions) or not emissions.is_floating_point():
        dtype = emissions.dtype if torch.is_tensor(emissions) else type(emissions).__name__
        raise KDSeqError(Errors.E001.format(func=func, arg="emissions", dtype=dtype))
    if emissions.dim() != ndim:
        raise KDSeqError(
            Errors.E002.format(
                func=func, arg="emissions", found=tuple(emissions.shape), expected=expected,
                hint=hint,
            )
        )


def _check_params(
    func: str, emissions: Tensor, transitions: Tensor, start: Optional[Tensor],
    end: Optional[Tensor],
) -> Tuple[Tensor, Tensor]:
    """Check the parameters against the emissions' labels (their last dim); return
    `start`, `end` (zeros if None)."""
    L = emissions.shape[-1]
    _check_param(func, "transitions", transitions, (L, L), emissions)
    if start is None:
        start = emissions.new_zeros(L)
    else:
        _check_param(func, "start", start, (L,), emissions)
    if end is None:
        end = emissions.new_zeros(L)
    else:
        _check_param(func, "end", end, (L,), emissions)
    return start, end


def _check_param(
    func: str, name: str, param: Tensor, shape: Tuple[int, ...], emissions: Tensor
) -> None:
    if not torch.is_tensor(param) or not param.is_floating_point():
        dtype = param.dtype if torch.is_tensor(param) else type(param).__name__
        raise KDSeqError(Errors.E001.format(func=func, arg=name, dtype=dtype))
    if tuple(param.shape) != shape:
        raise KDSeqError(
            Errors.E002.format(
                func=func, arg=name, found=tuple(param.shape), expected=shape,
                hint="L is the last dimension of 'emissions' (the number of labels).",
            )
        )
    if param.device != emissions.device:
        raise KDSeqError(
            Errors.E009.format(func=func, arg=name, found=param.device, expected=emissions.device)
        )
    if param.dtype != emissions.dtype:
        raise KDSeqError(
            Errors.E011.format(func=func, arg=name, found=param.dtype, expected=emissions.dtype)
        )


def _check_tags(func: str, tags: Tensor, mask: Tensor, n_labels: int) -> None:
    """Check gold `tags` (B, T): integer, same shape as `mask`, in range where unmasked."""
    if not torch.is_tensor(tags) or tags.is_floating_point() or tags.dtype == torch.bool:
        dtype = tags.dtype if torch.is_tensor(tags) else type(tags).__name__
        raise KDSeqError(Errors.E012.format(func=func, dtype=dtype))
    if tags.shape != mask.shape:
        raise KDSeqError(
            Errors.E002.format(
                func=func, arg="tags", found=tuple(tags.shape), expected=tuple(mask.shape),
                hint="'tags' must be (B, T) like 'mask'; pad with -1.",
            )
        )
    if tags.device != mask.device:
        raise KDSeqError(
            Errors.E009.format(func=func, arg="tags", found=tags.device, expected=mask.device)
        )
    bad = ((tags < 0) | (tags >= n_labels)) & mask
    if bool(bad.any()):
        index = tuple(bad.nonzero()[0].tolist())
        raise KDSeqError(
            Errors.E006.format(func=func, n_labels=n_labels, index=index, value=int(tags[index]))
        )


def _check_k(func: str, k: int) -> None:
    """`k` must be a positive Python integer."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise KDSeqError(Errors.E004.format(func=func, k=k))
