"""Every name this package registers through entry points resolves and runs."""
from importlib.metadata import distribution, entry_points

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
TRANSFORMER = "spacy-kdseq.TransformerModel.v1"
# Arguments each registered function needs; a new name without an entry fails the test.
ARGS = {
    "spacy-kdseq.LinearChainCRF.v1": {"nO": 3},
    "spacy-kdseq.CRFTagger.v1": {"tok2vec": HASH_EMBED, "nO": 3},
    # plus `name`: a tiny BERT, written by the test
    TRANSFORMER: {
        "get_spans": {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 4, "stride": 3},
    },
}


def _inputs(name):
    if name in ("spacy-kdseq.CRFTagger.v1", TRANSFORMER):
        nlp = spacy.blank("en")
        return [nlp.make_doc("a b c"), nlp.make_doc("d")]
    return [numpy.zeros((3, 3), "f"), numpy.zeros((1, 3), "f")]


def test_names_found():
    assert {n for _, n in NAMES} >= set(ARGS)


@pytest.mark.parametrize("group,name", NAMES, ids=[n for _, n in NAMES])
def test_registered_name_resolves_and_runs(group, name, request, tmp_path):
    assert name in ARGS, f"add the arguments of {name} to ARGS"
    config = {"x": {REGISTRY[group]: name, **ARGS[name]}}
    if name == TRANSFORMER:
        bert = request.getfixturevalue("tiny_bert")(["a", "b", "c", "d"], tmp_path / "bert")
        config["x"]["name"] = str(bert)
    model = spacy.registry.resolve(config)["x"]
    assert isinstance(model, Model)
    X = _inputs(name)
    model.initialize(X=X)
    Y, _ = model.begin_update(X)
    if name == TRANSFORMER:  # subword vectors of width 32, aligned to each doc's tokens
        assert [len(d.align.lengths) for d in Y.doc_data] == [3, 1]
        assert all(d.tensors[0].shape[-1] == 32 for d in Y.doc_data)
        return
    assert [e.shape for e in Y.emissions] == [(3, 3), (1, 3)]
    assert Y.transitions.shape == (3, 3)


# Entry point group -> how spaCy finds the name: its registry (None: not a registry).
OWN = sorted((ep.group, ep.name, ep.value) for ep in distribution("spacy-kdseq").entry_points)
REGISTRIES = {
    "thinc_layers": "layers", "spacy_architectures": "architectures",
    "spacy_factories": None, "spacy_scorers": "scorers", "spacy_callbacks": "callbacks",
    "spacy_misc": "misc", "spacy_kd_losses": "kd_losses", "spacy_readers": "readers",
    "spacy_cli": None,
}


@pytest.mark.parametrize("group,name,value", OWN, ids=[f"{g}:{n}" for g, n, _ in OWN])
def test_every_entry_point_loads_and_is_found_by_spacy(group, name, value):
    assert group in REGISTRIES, f"add the entry point group {group} to REGISTRIES"
    target = next(ep for ep in entry_points(group=group) if ep.name == name).load()
    assert target is not None
    if group == "spacy_factories":
        assert spacy.language.Language.has_factory(name)
    elif REGISTRIES[group] is not None:
        import spacy_kdseq.registries  # noqa: F401  (creates the kd_losses registry)

        assert getattr(spacy.registry, REGISTRIES[group]).get(name) is target
