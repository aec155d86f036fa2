"""The distillation methods: the one list of `[distillation] method` names, in the
paper's row order, with the label the paper's tables give each. Imports nothing heavy,
so the report and the CLI can read it without torch."""
from typing import Dict

METHODS: Dict[str, str] = {
    "none": "Baseline",
    "emission": "Emission",
    "topk": "Top-K",
    "topwk": "Top-WK",
    "posterior": "Posterior",
    "posterior+topwk": "Pos.+Top-WK",
    "structure": "Structure",
}
