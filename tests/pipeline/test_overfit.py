"""Overfit tiny pipelines, then check predictions survive every serialisation path."""
import sys

import pytest
import spacy
from spacy.util import fix_random_seed, make_tempdir

from ._data import TRAIN, ner_examples, pos_examples


def _train(nlp, examples, n_iter=50):
    optimizer = nlp.initialize(lambda: examples)
    losses = {}
    for _ in range(n_iter):
        losses = {}
        nlp.update(examples, sgd=optimizer, losses=losses)
    return losses


def _ents(nlp):
    docs = nlp.pipe(text for text, _, _ in TRAIN)
    return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs]


def _tags(nlp, attr):
    docs = nlp.pipe(text for text, _, _ in TRAIN)
    return [[getattr(token, f"{attr}_") for token in doc] for doc in docs]


def _check_roundtrips(nlp, predictions):
    with make_tempdir() as tmp:
        nlp.to_disk(tmp)
        assert predictions(spacy.load(tmp)) == predictions(nlp)
    restored = spacy.blank("en").from_config(nlp.config).from_bytes(nlp.to_bytes())
    assert predictions(restored) == predictions(nlp)


@pytest.mark.parametrize("scheme", ["BIO", "BILUO"])
@pytest.mark.parametrize("normalization", ["sentence", "token"])
def test_crf_ner_overfit_and_roundtrip(scheme, normalization):
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("crf_ner", config={"scheme": scheme, "loss_normalization": normalization})
    losses = _train(nlp, ner_examples(nlp))
    assert losses["crf_ner"] < 0.01
    gold = [[(s, e, label) for s, e, label in ents] for _, ents, _ in TRAIN]
    assert _ents(nlp) == gold
    tags_per_type = {"BIO": 2, "BILUO": 4}[scheme]
    assert ner.tag_names[0] == "O" and len(ner.tag_names) == 1 + 3 * tags_per_type
    _check_roundtrips(nlp, _ents)
    scores = nlp.evaluate(ner_examples(nlp))
    assert scores["ents_f"] == 1.0 and set(scores["ents_per_type"]) == {"PER", "LOC", "ORG"}


@pytest.mark.parametrize("attr", ["pos", "tag"])
def test_crf_tagger_overfit_and_roundtrip(attr):
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("crf_tagger", config={"attr": attr})
    losses = _train(nlp, pos_examples(nlp, attr))
    assert losses["crf_tagger"] < 0.01
    assert _tags(nlp, attr) == [tags for _, _, tags in TRAIN]
    assert tagger.tag_names == sorted({t for _, _, tags in TRAIN for t in tags})
    _check_roundtrips(nlp, lambda n: _tags(n, attr))
    scores = nlp.evaluate(pos_examples(nlp, attr))
    assert scores[f"{attr}_acc"] == 1.0


def test_tok2vec_listener():
    nlp = spacy.blank("en")
    nlp.add_pipe("tok2vec")
    listener = {
        "@architectures": "spacy.Tok2VecListener.v1", "width": 96, "upstream": "*",
    }
    nlp.add_pipe(
        "crf_ner",
        config={"model": {"@architectures": "spacy-kdseq.CRFTagger.v1", "tok2vec": listener}},
    )
    losses = _train(nlp, ner_examples(nlp), n_iter=60)
    assert losses["crf_ner"] < 0.05
    assert _ents(nlp) == [list(ents) for _, ents, _ in TRAIN]
    _check_roundtrips(nlp, _ents)


@pytest.mark.parametrize("factory", ["crf_ner", "crf_tagger"])
def test_training_without_numba_matches_the_compiled_kernels(factory, monkeypatch):
    """Without the `fast` extra the torch-op kernels train and decode the component; with
    it the compiled ones give the same losses step by step and the same predictions."""
    pytest.importorskip("numba")

    def train(n_iter):
        fix_random_seed(0)
        nlp = spacy.blank("en")
        nlp.add_pipe(factory)
        examples = ner_examples(nlp) if factory == "crf_ner" else pos_examples(nlp, "pos")
        optimizer = nlp.initialize(lambda: examples)
        losses = []
        for _ in range(n_iter):
            step = {}
            nlp.update(examples, sgd=optimizer, losses=step)
            losses.append(step[factory])
        return nlp, losses

    predict = _ents if factory == "crf_ner" else (lambda nlp: _tags(nlp, "pos"))
    fast, fast_losses = train(40)
    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` now fails
    slow, slow_losses = train(40)
    assert slow_losses == pytest.approx(fast_losses, rel=1e-4, abs=1e-6)
    assert slow_losses[-1] < 0.01 * slow_losses[0]
    assert predict(slow) == predict(fast)
    monkeypatch.undo()
    assert predict(slow) == predict(fast)
