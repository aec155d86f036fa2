"""``TorchCRF``: one batch's CRF potentials as padded torch tensors."""
from typing import NamedTuple

from torch import Tensor


class TorchCRF(NamedTuple):
    """Padded potentials of a batch, the argument layout of every ``crf`` function."""

    emissions: Tensor  # (B, T, L)
    mask: Tensor  # (B, T) bool, right-padded
    transitions: Tensor  # (L, L)
    start: Tensor  # (L,)
    end: Tensor  # (L,)
