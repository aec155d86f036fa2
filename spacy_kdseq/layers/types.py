"""Types passed between the CRF Thinc layer, the components and the losses."""
from dataclasses import dataclass
from typing import List

from thinc.types import Floats1d, Floats2d


@dataclass
class CRFScores:
    """The CRF potentials for a batch of docs, the output of ``LinearChainCRF.v1``.

    emissions: one (n_tokens, L) array per doc.
    transitions: (L, L), transitions[i, j] scores i→j; forbidden moves hold ``NEG``.
    start, end: (L,) scores of the first and last label; forbidden ones hold ``NEG``.
    The same type carries the gradients on the way back.
    """

    emissions: List[Floats2d]
    transitions: Floats2d
    start: Floats1d
    end: Floats1d
