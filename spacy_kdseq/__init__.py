"""spacy-kdseq: structure-level knowledge distillation for multilingual sequence labelling.

Nothing is imported eagerly (``spacy_kdseq.crf`` pulls in torch): spaCy's CLI imports
``spacy_kdseq.cli`` for every ``spacy`` command, and ``spacy_kdseq.distill.methods`` is
read without torch or spaCy.
"""
from importlib import import_module
from typing import Any

__version__ = "0.1.0"

__all__ = ["crf", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "crf":
        return import_module(".crf", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
