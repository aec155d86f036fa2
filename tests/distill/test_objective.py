"""The λ-mixed objective hook and the epoch callback, on a tiny crf_ner pipeline."""
import numpy
import pytest
import spacy
from spacy.tokens import Doc
from spacy.training import Example

from spacy_kdseq.distill.cache import Knowledge, doc_key
from spacy_kdseq.distill.losses import structure_loss
from spacy_kdseq.distill.objective import DistillationObjective, make_kd_weight_schedule
from spacy_kdseq.distill.settings import parse_settings
from spacy_kdseq.distill.store import KnowledgeStore
from spacy_kdseq.errors import KDSeqError
from spacy_kdseq.layers import scores_to_torch
from spacy_kdseq.lang import set_doc_lang

WORDS = {"es": ["Ana", "vive", "en", "Madrid"], "nl": ["Jan", "woont", "in", "Amsterdam", "."]}
ENTS = {"es": ["B-PER", "O", "O", "B-LOC"], "nl": ["B-PER", "O", "O", "B-LOC", "O"]}


@pytest.fixture
def setup():
    spacy.util.fix_random_seed(0)
    nlp = spacy.blank("xx")
    pipe = nlp.add_pipe("crf_ner", name="ner")
    examples = []
    for lang in ("es", "nl"):
        ref = Doc(nlp.vocab, words=WORDS[lang], ents=ENTS[lang])
        set_doc_lang(ref, lang)
        examples.append(Example(Doc(nlp.vocab, words=WORDS[lang]), ref))
    nlp.initialize(lambda: examples)
    L = len(pipe.tag_names)
    rng = numpy.random.default_rng(0)
    knowledge = Knowledge(
        lang="es", labels=list(pipe.tag_names),
        keys=numpy.asarray([doc_key(WORDS["es"])], dtype=numpy.int64),
        offsets=numpy.asarray([0, 4], dtype=numpy.int64),
        emissions=rng.normal(size=(4, L)).astype(numpy.float16),
        transitions=numpy.zeros((L, L), numpy.float32),
        start=numpy.zeros(L, numpy.float32), end=numpy.zeros(L, numpy.float32),
    )
    store = KnowledgeStore({"es": [knowledge]}, pipe.tag_names, "ner")
    return nlp, pipe, examples, store


def _settings(**kw):
    return parse_settings({"teachers": {"es": "x"}, "method": "structure", **kw})


def test_lambda_zero_is_the_nll(setup):
    nlp, pipe, examples, store = setup
    scores = pipe.model.predict([eg.predicted for eg in examples])
    hook = DistillationObjective(store, _settings(kd_weight=0.0))
    loss, grads = hook(pipe, examples, scores)
    want, want_grads = pipe.get_loss(examples, scores)
    assert loss == pytest.approx(want, rel=1e-5)
    for a, b in zip(grads.emissions, want_grads.emissions):
        numpy.testing.assert_allclose(a, b, atol=1e-6)
    numpy.testing.assert_allclose(grads.transitions, want_grads.transitions, atol=1e-6)


def test_lambda_one_routes_docs_without_teacher_to_gold(setup):
    nlp, pipe, examples, store = setup
    scores = pipe.model.predict([eg.predicted for eg in examples])
    hook = DistillationObjective(store, _settings(kd_weight=1.0))
    loss, _ = hook(pipe, examples, scores)
    es_scores = type(scores)([scores.emissions[0]], scores.transitions, scores.start, scores.end)
    student = scores_to_torch(es_scores)
    teacher = store.teacher_crf(examples[:1], student.mask, student.emissions.dtype)
    kd = float(structure_loss(student, teacher).sum())
    nl_scores = type(scores)([scores.emissions[1]], scores.transitions, scores.start, scores.end)
    nll_nl, _ = pipe.get_loss(examples[1:], nl_scores)
    assert loss == pytest.approx((kd + nll_nl) / 2, rel=1e-4)


def test_a_doc_without_a_language_is_an_error_not_gold_only(setup):
    """Every corpus doc records its language; one that arrives without (a reader lost it)
    must not be trained on the gold loss alone without a word."""
    nlp, pipe, examples, store = setup
    ref = Doc(nlp.vocab, words=["pagina"], ents=["O"])
    examples = examples + [Example(Doc(nlp.vocab, words=["pagina"]), ref)]
    scores = pipe.model.predict([eg.predicted for eg in examples])
    hook = DistillationObjective(store, _settings(kd_weight=0.5))
    with pytest.raises(KDSeqError, match=r"\[E329\] Training example 2 of a batch \('pagina'\)"):
        hook(pipe, examples, scores)


def test_callback_anneals_lambda_per_epoch(setup):
    nlp, pipe, examples, store = setup
    pipe.distillation_loss = DistillationObjective(store, _settings(kd_weight_decay=0.25))
    seen = []
    callback = make_kd_weight_schedule("ner", inner=lambda nlp, info: seen.append(info["epoch"]))
    for epoch in range(3):
        callback(nlp, {"step": epoch, "epoch": epoch})
        assert pipe.distillation_loss.kd_weight == pytest.approx(1.0 - 0.25 * epoch)
    assert seen == [0, 1, 2]
    optimizer = nlp.resume_training()
    losses = nlp.update(examples, sgd=optimizer)
    assert numpy.isfinite(losses["ner"])
