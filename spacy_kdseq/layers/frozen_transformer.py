"""spacy-transformers' ``TransformerModel`` with a frozen word-embedding matrix and its
own learning-rate scale.

This module imports spacy-transformers at the top: reach it only through
``spacy_kdseq.layers.transformer``, which checks that the extra is installed first.
"""
from typing import Callable, Dict, Optional, Tuple

from spacy_transformers.layers import TransformerModel
from thinc.api import Optimizer
from thinc.types import FloatsXd

from ..errors import Errors, KDSeqError


class EncoderModel(TransformerModel):
    """A ``TransformerModel`` (same inputs, outputs, listeners and serialisation) whose
    word-embedding matrix can stay out of training and whose updates can use a fraction
    of the optimizer's learning rate.

    The freeze is a property of the model, not of the weights: it is applied whenever
    Hugging Face weights are put in place (``initialize``, ``from_bytes``/``from_disk``),
    so a pipeline loaded from disk and trained further keeps it. Both settings come from
    the config only: they are plain attributes, not ``attrs``, which thinc would restore
    from the saved bytes over the config's values.
    """

    def __init__(
        self,
        name: str,
        get_spans: Callable,
        tokenizer_config: Dict,
        transformer_config: Dict,
        mixed_precision: bool,
        grad_scaler_config: Dict,
        *,
        freeze_embeddings: bool,
        learn_rate_scale: float,
    ) -> None:
        super().__init__(
            name, get_spans, tokenizer_config, transformer_config, mixed_precision,
            grad_scaler_config,
        )
        self.freeze_embeddings = freeze_embeddings
        self.learn_rate_scale = learn_rate_scale

    def initialize(self, X=None, Y=None) -> "EncoderModel":
        super().initialize(X, Y)
        self.apply_freeze()
        return self

    def from_bytes(self, bytes_data: bytes) -> "EncoderModel":
        # `from_disk` reads the file and calls this, and so does the `transformer`
        # component's `from_disk`.
        super().from_bytes(bytes_data)
        self.apply_freeze()
        return self

    def finish_update(self, optimizer: Optimizer) -> None:
        scale = self.learn_rate_scale
        super().finish_update(optimizer if scale == 1.0 else _ScaledOptimizer(optimizer, scale))

    def apply_freeze(self) -> None:
        """Turn off gradients for the word embeddings, once the Hugging Face model is
        loaded, if `freeze_embeddings` is set."""
        if not self.freeze_embeddings or self.transformer is None:
            return
        try:
            embeddings = self.transformer.get_input_embeddings()
        except NotImplementedError:
            embeddings = None
        if embeddings is None:
            raise KDSeqError(Errors.E111.format(
                name=self.attrs["name"], cls=type(self.transformer).__name__
            ))
        # Without a gradient the matrix gets no `.grad`, so thinc's PyTorchShim skips it
        # in `finish_update`: no optimizer state, no weight decay, no 96M-row update.
        embeddings.weight.requires_grad_(False)


class _ScaledOptimizer:
    """Calls the optimizer with every learning rate multiplied by `scale`.

    ``PyTorchShim.finish_update`` only calls the optimizer, so this is all it needs;
    the optimizer's schedules and state stay the wrapped one's.
    """

    def __init__(self, optimizer: Optimizer, scale: float) -> None:
        self._optimizer = optimizer
        self._scale = scale

    def __call__(
        self, key: Tuple[int, str], weights: FloatsXd, gradient: FloatsXd, *,
        lr_scale: float = 1.0,
    ) -> Tuple[FloatsXd, FloatsXd]:
        return self._optimizer(key, weights, gradient, lr_scale=lr_scale * self._scale)


def build_encoder_model(
    name: str,
    get_spans: Callable,
    tokenizer_config: Optional[Dict],
    transformer_config: Optional[Dict],
    mixed_precision: bool,
    grad_scaler_config: Optional[Dict],
    freeze_embeddings: bool,
    learn_rate_scale: float,
) -> EncoderModel:
    """An ``EncoderModel``; each config dict is copied, as spacy-transformers writes into
    the ones it is given."""
    return EncoderModel(
        name, get_spans, dict(tokenizer_config or {}), dict(transformer_config or {}),
        mixed_precision, dict(grad_scaler_config or {}),
        freeze_embeddings=freeze_embeddings, learn_rate_scale=learn_rate_scale,
    )
