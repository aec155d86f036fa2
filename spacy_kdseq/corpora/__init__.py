"""Corpus readers: CoNLL column files and CoNLL-U treebanks to spaCy Docs."""
from ..tagsets import tags_to_spans
from .conll import iter_conll_sentences, read_conll
from .conllu import iter_conllu_sentences, read_conllu
from .convert import FORMATS, convert_corpus, count_sentences, detect_format, read_corpus
from .split import dev_indices
from .stats import CorpusStats
from .tags import spans_to_iob2, to_iob2

__all__ = [
    "CorpusStats",
    "FORMATS",
    "convert_corpus",
    "count_sentences",
    "detect_format",
    "dev_indices",
    "iter_conll_sentences",
    "iter_conllu_sentences",
    "read_conll",
    "read_conllu",
    "read_corpus",
    "spans_to_iob2",
    "tags_to_spans",
    "to_iob2",
]
