"""Constrained decoding: valid span sequences always, and bucketing keeps input order."""
import numpy
import pytest
import spacy
import torch
from spacy.tokens import Doc

from spacy_kdseq import crf
from spacy_kdseq.layers import CRFScores
from spacy_kdseq.pipeline.decode import length_buckets, viterbi_tags

LABELS = {
    "BIO": ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
    "BILUO": ["O", "B-PER", "I-PER", "L-PER", "U-PER", "B-LOC", "I-LOC", "L-LOC", "U-LOC"],
}


def _valid(tags, allowed):
    trans, start, end = (m.numpy() for m in allowed)
    if not tags:
        return True
    steps = all(trans[a, b] for a, b in zip(tags, tags[1:]))
    return bool(start[tags[0]] and end[tags[-1]] and steps)


@pytest.mark.parametrize("scheme", ["BIO", "BILUO"])
def test_constrained_viterbi_is_always_valid(scheme):
    labels = LABELS[scheme]
    allowed = crf.allowed_transitions(labels, scheme)
    masks = tuple(m.numpy() for m in allowed)
    rng = numpy.random.default_rng(0)
    L = len(labels)
    for _ in range(200):
        lengths = rng.integers(0, 12, size=rng.integers(1, 6)).tolist()
        # Large random scores so that the unconstrained optimum is usually invalid.
        emissions = [rng.normal(0, 5, (n, L)).astype("float32") for n in lengths]
        scores = CRFScores(
            emissions,
            rng.normal(0, 5, (L, L)).astype("float32"),
            rng.normal(0, 5, L).astype("float32"),
            rng.normal(0, 5, L).astype("float32"),
        )
        for em, tags in zip(emissions, viterbi_tags(scores, masks)):
            assert len(tags) == len(em)
            assert _valid(tags.tolist(), allowed)


def test_bucketed_viterbi_matches_one_batch():
    rng = numpy.random.default_rng(1)
    L = 4
    lengths = [0, 3, 50, 1, 7, 7, 120, 2]
    emissions = [rng.normal(size=(n, L)).astype("float32") for n in lengths]
    trans = rng.normal(size=(L, L)).astype("float32")
    start, end = rng.normal(size=L).astype("float32"), rng.normal(size=L).astype("float32")
    guesses = viterbi_tags(CRFScores(emissions, trans, start, end))
    for em, tags in zip(emissions, guesses):
        if len(em) == 0:
            assert len(tags) == 0
            continue
        _, expected = crf.viterbi(
            torch.from_numpy(em)[None], torch.ones(1, len(em), dtype=torch.bool),
            torch.from_numpy(trans), torch.from_numpy(start), torch.from_numpy(end),
        )
        assert tags.tolist() == expected[0].tolist()


def test_length_buckets_bound_padding():
    lengths = [5000, 0] + [10] * 50 + [20] * 20
    buckets = length_buckets(lengths)
    assert sorted(i for b in buckets for i in b) == [i for i, n in enumerate(lengths) if n]
    assert [0] in buckets
    for bucket in buckets:
        real = sum(lengths[i] for i in bucket)
        assert len(bucket) * max(lengths[i] for i in bucket) <= 2 * real


@pytest.mark.parametrize("scheme", ["BIO", "BILUO"])
def test_untrained_ner_outputs_valid_spans(scheme):
    """Random weights and random text: set_annotations never sees an invalid sequence."""
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("crf_ner", config={"scheme": scheme})
    for label in ("PER", "LOC", "ORG"):
        ner.add_label(label)
    nlp.initialize()
    crf_layer = ner.model.get_ref("crf")
    rng = numpy.random.default_rng(2)
    for name in ("transitions", "start", "end"):
        param = crf_layer.get_param(name)
        crf_layer.set_param(name, rng.normal(0, 10, param.shape).astype(param.dtype))
    output = ner.model.get_ref("output_layer")
    output.set_param("W", rng.normal(0, 3, output.get_param("W").shape).astype("float32"))
    allowed = crf.allowed_transitions(ner.tag_names, scheme)
    words = ["w%d" % i for i in range(40)]
    docs = [Doc(nlp.vocab, words=[str(w) for w in rng.choice(words, n)]) for n in range(1, 30)]
    tag_ids = ner.predict(docs)
    assert all(_valid(t.tolist(), allowed) for t in tag_ids)
    ner.set_annotations(docs, tag_ids)
    assert any(doc.ents for doc in docs)


def test_packed_and_bucketed_decoding_agree(monkeypatch):
    """On CPU with numba the docs are decoded packed, otherwise padded in buckets: the
    same tags either way, constraints and empty docs included."""
    pytest.importorskip("numba")
    labels = LABELS["BILUO"]
    allowed = tuple(m.numpy() for m in crf.allowed_transitions(labels, "BILUO"))
    rng = numpy.random.default_rng(2)
    L = len(labels)
    lengths = [5, 0, 1, 33, 2, 0, 17, 8]
    scores = CRFScores(
        [rng.normal(0, 5, (n, L)).astype("float32") for n in lengths],
        rng.normal(0, 5, (L, L)).astype("float32"),
        rng.normal(0, 5, L).astype("float32"),
        rng.normal(0, 5, L).astype("float32"),
    )
    packed = viterbi_tags(scores, allowed)
    monkeypatch.setattr(crf, "compiled_available", lambda: False)
    bucketed = viterbi_tags(scores, allowed)
    assert [t.tolist() for t in packed] == [t.tolist() for t in bucketed]
    assert [len(t) for t in packed] == lengths
    assert viterbi_tags(CRFScores([], scores.transitions, scores.start, scores.end)) == []
