"""spacy-kdseq: structure-level knowledge distillation for multilingual sequence labelling."""
from . import crf

__version__ = "0.1.0"

__all__ = ["crf", "__version__"]
