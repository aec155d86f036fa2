"""Every name this package registers through entry points resolves and runs."""
from importlib.metadata import entry_points

import numpy
import pytest
import spacy
from thinc.api import Model

GROUPS = ("thinc_layers", "spacy_architectures")
NAMES = sorted(
    (group, ep.name)
    for group in GROUPS
    for ep in entry_points(group=group)
    if ep.name.startswith("spacy-kdseq.")
)
REGISTRY = {"thinc_layers": "@layers", "spacy_architectures": "@architectures"}
HASH_EMBED = {
    "@architectures": "spacy.HashEmbedCNN.v2", "width": 16, "depth": 1, "embed_size": 100,
    "window_size": 1, "maxout_pieces": 2, "subword_features": False, "pretrained_vectors": None,
}
# Arguments each registered function needs; a new name without an entry fails the test.
ARGS = {
    "spacy-kdseq.LinearChainCRF.v1": {"nO": 3},
    "spacy-kdseq.CRFTagger.v1": {"tok2vec": HASH_EMBED, "nO": 3},
}


def _inputs(name):
    if name == "spacy-kdseq.CRFTagger.v1":
        nlp = spacy.blank("en")
        return [nlp.make_doc("a b c"), nlp.make_doc("d")]
    return [numpy.zeros((3, 3), "f"), numpy.zeros((1, 3), "f")]


def test_names_found():
    assert {n for _, n in NAMES} >= set(ARGS)


@pytest.mark.parametrize("group,name", NAMES, ids=[n for _, n in NAMES])
def test_registered_name_resolves_and_runs(group, name):
    assert name in ARGS, f"add the arguments of {name} to ARGS"
    config = {"x": {REGISTRY[group]: name, **ARGS[name]}}
    model = spacy.registry.resolve(config)["x"]
    assert isinstance(model, Model)
    X = _inputs(name)
    model.initialize(X=X)
    Y, _ = model.begin_update(X)
    assert [e.shape for e in Y.emissions] == [(3, 3), (1, 3)]
    assert Y.transitions.shape == (3, 3)
