"""Thinc layers and architectures built on the CRF."""
from .crf_layer import NEG, LinearChainCRF, hard_constraints, set_constraints
from .tagger_model import build_crf_tagger_v1, set_n_labels
from .torch_bridge import TorchCRF, gradients_to_scores, scores_to_torch
from .types import CRFScores

__all__ = [
    "CRFScores",
    "LinearChainCRF",
    "NEG",
    "TorchCRF",
    "build_crf_tagger_v1",
    "gradients_to_scores",
    "hard_constraints",
    "scores_to_torch",
    "set_constraints",
    "set_n_labels",
]
