"""``spacy-kdseq.CRFTagger.v1``: tok2vec → Linear(n_labels) → LinearChainCRF."""
from typing import List, Optional

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model, chain, with_array, zero_init
from thinc.layers import Linear
from thinc.types import Floats2d

from .crf_layer import LinearChainCRF
from .types import CRFScores


@registry.architectures("spacy-kdseq.CRFTagger.v1")
def build_crf_tagger_v1(
    tok2vec: Model[List[Doc], List[Floats2d]], nO: Optional[int] = None
) -> Model[List[Doc], CRFScores]:
    """Score every label of every token, then pair the scores with CRF transitions.

    tok2vec: any spaCy tok2vec (HashEmbedCNN, a Tok2VecListener, a TransformerListener).
    nO: the number of labels; left unset, the component sets it at initialization.
    """
    # Zero-initialised like spaCy's tagger output layer: all labels start equal.
    output_layer = Linear(nO=nO, init_W=zero_init)
    crf = LinearChainCRF(nO=nO)
    model = chain(tok2vec, with_array(output_layer), crf)
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("output_layer", output_layer)
    model.set_ref("crf", crf)
    return model


def set_n_labels(model: Model, n_labels: int) -> None:
    """Set the number of labels on the output layer and the CRF before initialization."""
    for name in ("output_layer", "crf"):
        layer = model.get_ref(name)
        if layer.has_dim("nO") is not True:
            layer.set_dim("nO", n_labels)
