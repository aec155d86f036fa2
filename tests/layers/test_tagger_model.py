"""``spacy-kdseq.CRFTagger.v1`` with HashEmbedCNN: a tiny overfit through the torch bridge."""
import spacy
import torch
from thinc.api import Adam

from spacy_kdseq import crf
from spacy_kdseq.layers import gradients_to_scores, scores_to_torch, set_n_labels

LABELS = ["DET", "NOUN", "VERB", "ADJ"]
DATA = [
    ("the cat sat", ["DET", "NOUN", "VERB"]),
    ("a big dog barked loudly", ["DET", "ADJ", "NOUN", "VERB", "ADJ"]),
    ("dogs bark", ["NOUN", "VERB"]),
]
CONFIG = {
    "@architectures": "spacy-kdseq.CRFTagger.v1",
    "tok2vec": {
        "@architectures": "spacy.HashEmbedCNN.v2",
        "width": 32, "depth": 1, "embed_size": 500, "window_size": 1, "maxout_pieces": 2,
        "subword_features": True, "pretrained_vectors": None,
    },
}


def test_overfit_with_nll():
    torch.manual_seed(0)
    nlp = spacy.blank("en")
    docs = [nlp.make_doc(text) for text, _ in DATA]
    gold = [[LABELS.index(t) for t in tags] for _, tags in DATA]
    model = spacy.registry.resolve({"model": CONFIG})["model"]
    set_n_labels(model, len(LABELS))
    model.initialize(X=docs)
    T = max(len(g) for g in gold)
    tags = torch.tensor([g + [-1] * (T - len(g)) for g in gold])
    optimizer = Adam(0.01)
    for _ in range(80):
        scores, backprop = model.begin_update(docs)
        potentials = scores_to_torch(scores, requires_grad=True)
        loss = crf.nll(*potentials[:3], tags, *potentials[3:]).sum()
        loss.backward()
        backprop(gradients_to_scores(potentials))
        model.finish_update(optimizer)
    assert float(loss.detach()) < 0.05 * len(docs)
    potentials = scores_to_torch(model.predict(docs))
    _, best = crf.viterbi(*potentials)
    assert best.tolist() == tags.tolist()
