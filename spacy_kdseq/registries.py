"""The registries this package adds to spaCy's.

``kd_losses``: distillation losses (see ``spacy_kdseq.distill.registry``). Created in
this small module, which `spacy kdseq distill` imports before a ``--code`` file, so that
the file can register a loss with ``@spacy.registry.kd_losses("my.Loss.v1")``. Other
packages register through the ``spacy_kd_losses`` entry point group.
"""
import catalogue
from spacy.util import registry

if not hasattr(registry, "kd_losses"):
    registry.kd_losses = catalogue.create("spacy", "kd_losses", entry_points=True)

__all__ = ["registry"]
