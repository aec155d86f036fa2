"""A batched linear-chain CRF in pure PyTorch.

All functions take emissions (B, T, L), a right-padded bool mask (B, T), transitions
(L, L) with transitions[i, j] scoring i→j, and optional start/end scores (L,). They run
on the inputs' device, in float32 or float64, with no Python loop over the batch.
"""
from ._compiled import available as compiled_available
from ._compiled import preload as preload_compiled
from .constraints import Constraints, allowed_transitions
from .decode import kbest, viterbi, viterbi_packed
from .partition import edge_marginals, log_partition, marginals, nll, path_score
from .posteriors import log_marginals, posteriors
from .potentials import TorchCRF

__all__ = [
    "Constraints",
    "TorchCRF",
    "allowed_transitions",
    "compiled_available",
    "edge_marginals",
    "kbest",
    "log_marginals",
    "log_partition",
    "marginals",
    "nll",
    "path_score",
    "posteriors",
    "preload_compiled",
    "viterbi",
    "viterbi_packed",
]
