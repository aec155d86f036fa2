"""``spacy-kdseq.TransformerModel.v1``: spacy-transformers' encoder with its word
embeddings frozen, and ``spacy-kdseq.RequireTransformers.v1``, which names the missing
extra before spaCy fails to find the ``transformer`` factory.

spacy-transformers is imported only when a model is built, so that this module (loaded
through the entry points) costs nothing without the extra.
"""
from importlib.util import find_spec
from typing import Callable, Dict, List, Optional, Type

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model

from ..errors import Errors, KDSeqError


def require_transformers() -> None:
    """Raise a coded error naming the extra if spacy-transformers is not installed."""
    if find_spec("spacy_transformers") is None:
        raise KDSeqError(Errors.E110)


@registry.architectures("spacy-kdseq.TransformerModel.v1")
def build_transformer_model_v1(
    name: str,
    get_spans: Callable,
    tokenizer_config: Optional[Dict] = None,
    transformer_config: Optional[Dict] = None,
    mixed_precision: bool = False,
    grad_scaler_config: Optional[Dict] = None,
    freeze_embeddings: bool = True,
    learn_rate_scale: float = 1.0,
) -> Model[List[Doc], "FullTransformerBatch"]:  # noqa: F821 (spacy-transformers' type)
    """``spacy-transformers.TransformerModel.v3`` (same arguments, same output, same
    serialisation) with two training settings.

    freeze_embeddings: keep the word-embedding matrix (for multilingual-e5-small 96M of
        its 118M parameters) out of training: the optimizer skips it, a step is much
        faster on CPU, and the rows of words no training language uses stay where
        pretraining put them, aligned across languages.
    learn_rate_scale: the encoder's updates use this fraction of the optimizer's
        learning rate, so the rate in [training.optimizer] can suit the layers on top.
    """
    require_transformers()
    if not learn_rate_scale > 0:
        raise KDSeqError(Errors.E112.format(value=learn_rate_scale))
    from .frozen_transformer import build_encoder_model

    return build_encoder_model(
        name, get_spans, tokenizer_config, transformer_config, mixed_precision,
        grad_scaler_config, freeze_embeddings, learn_rate_scale,
    )


@registry.callbacks("spacy-kdseq.RequireTransformers.v1")
def make_require_transformers() -> Callable[[Type[Language]], Type[Language]]:
    """An `[nlp.before_creation]` callback for transformer configs and pipelines: spaCy
    runs it before it looks up any factory, so a missing extra gives E110 (with the
    `pip install` to run) instead of "Can't find factory for 'transformer'"."""

    def before_creation(lang_cls: Type[Language]) -> Type[Language]:
        require_transformers()
        return lang_cls

    return before_creation
