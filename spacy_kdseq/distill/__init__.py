"""Structure-level knowledge distillation: losses, the teacher-knowledge cache, the trainer.

Pure torch: `losses` (one function per `[distillation] method`) and `teacher`. spaCy glue:
`settings`, `cache`, `teachers`, `store`, `objective`, `train`, `v4`.
"""
from .losses import LOSSES
from .settings import DistillSettings, parse_settings

__all__ = ["LOSSES", "DistillSettings", "parse_settings"]
