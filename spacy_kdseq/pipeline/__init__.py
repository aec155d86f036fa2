"""spaCy components: ``crf_ner`` and ``crf_tagger`` (registered via entry points)."""
from .crf_ner import CRFEntityRecognizer, make_crf_ner
from .crf_pipe import CRFPipe
from .crf_tagger import CRFTagger, make_crf_tagger

__all__ = ["CRFEntityRecognizer", "CRFPipe", "CRFTagger", "make_crf_ner", "make_crf_tagger"]
