"""The CRF loss: partial gold is exact marginalisation; the distillation hook replaces it."""
import itertools

import pytest
import spacy
import torch
from spacy.tokens import Doc
from spacy.training import Example

from spacy_kdseq import crf
from spacy_kdseq.layers import TorchCRF
from spacy_kdseq.pipeline.loss import partial_nll

from ._data import ner_examples, pos_examples


def _random_crf(lengths, L, seed=0):
    gen = torch.Generator().manual_seed(seed)
    T = max(lengths)
    em = torch.randn(len(lengths), T, L, generator=gen, dtype=torch.float64)
    mask = torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]
    trans = torch.randn(L, L, generator=gen, dtype=torch.float64)
    start = torch.randn(L, generator=gen, dtype=torch.float64)
    end = torch.randn(L, generator=gen, dtype=torch.float64)
    return TorchCRF(em, mask, trans, start, end)


def _brute_log_z(scores, b, n, allowed):
    """log of the summed exp-scores of the paths that agree with `allowed` per position."""
    em, tr, st, en = scores.emissions[b], scores.transitions, scores.start, scores.end
    total = []
    for path in itertools.product(range(em.shape[1]), repeat=n):
        if all(p in allowed[i] for i, p in enumerate(path)):
            s = st[path[0]] + en[path[-1]] + sum(em[i, p] for i, p in enumerate(path))
            total.append(s + sum(tr[a, c] for a, c in zip(path, path[1:])))
    return torch.logsumexp(torch.stack(total), 0)


@pytest.mark.parametrize("normalization", ["sentence", "token"])
def test_partial_gold_matches_brute_force(normalization):
    L, lengths = 3, [4, 2, 3]
    scores = _random_crf(lengths, L)
    gold = [[0, None, 2, None], [None, None], [1, 1, 0]]
    expected = []
    for b, n in enumerate(lengths):
        every = [range(L)] * n
        restricted = [range(L) if t is None else [t] for t in gold[b]]
        expected.append(_brute_log_z(scores, b, n, every) - _brute_log_z(scores, b, n, restricted))
    expected = torch.stack(expected).sum()
    expected = expected / (sum(lengths) if normalization == "token" else len(lengths))
    loss = partial_nll(scores, gold, normalization)
    torch.testing.assert_close(loss, expected, rtol=1e-6, atol=1e-6)


def test_full_gold_is_the_nll_and_missing_gold_is_free():
    scores = _random_crf([3, 5], 4, seed=1)
    gold = [[0, 1, 2], [3, 2, 1, 0, 0]]
    tags = torch.tensor([[0, 1, 2, -1, -1], gold[1]])
    expected = crf.nll(
        scores.emissions, scores.mask, scores.transitions, tags, scores.start, scores.end
    )
    torch.testing.assert_close(partial_nll(scores, gold, "sentence"), expected.mean())
    # Marginalising a token over every tag can only lower the loss.
    nearly = [[0, 1, 2], [3, 2, 1, 0, None]]
    assert float(partial_nll(scores, nearly, "sentence")) <= float(expected.mean()) + 1e-9
    none = [[None] * 3, [None] * 5]
    assert abs(float(partial_nll(scores, none, "sentence"))) < 1e-9


def test_ner_gold_tags_with_missing_annotation():
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("crf_ner")
    nlp.initialize(lambda: ner_examples(nlp))
    words = ["John", "met", "Mary", "in", "Paris"]
    reference = Doc(nlp.vocab, words=words, ents=["B-PER", "O", None, None, "B-LOC"])
    example = Example(nlp.make_doc(" ".join(words)), reference)
    names = ner.tag_names
    assert ner.gold_tags([example]) == [
        [names.index("U-PER"), names.index("O"), None, None, names.index("U-LOC")]
    ]
    # Training on partial gold works and learns only from the annotated tokens.
    losses = nlp.update([example], sgd=None)
    assert losses["crf_ner"] > 0


def test_bio_gold_tags():
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("crf_ner", config={"scheme": "BIO"})
    examples = ner_examples(nlp)
    nlp.initialize(lambda: examples)
    tags = [ner.tag_names[i] for i in ner.gold_tags(examples[:1])[0]]
    assert tags == ["B-PER", "O", "O", "B-LOC", "I-LOC", "I-LOC", "O"]


def test_tagger_gold_tags_with_missing_annotation():
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("crf_tagger")
    nlp.initialize(lambda: pos_examples(nlp))
    doc = nlp.make_doc("John lives here")
    example = Example.from_dict(doc, {"pos": ["PROPN", "", "ADV"]})
    names = tagger.tag_names
    assert "ADV" not in names
    with pytest.raises(ValueError, match="E106"):
        tagger.gold_tags([example])
    example = Example.from_dict(doc, {"pos": ["PROPN", "", "VERB"]})
    assert tagger.gold_tags([example]) == [[names.index("PROPN"), None, names.index("VERB")]]


def test_distillation_hook_replaces_get_loss():
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("crf_tagger")
    examples = pos_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    calls = []

    def hook(pipe, batch, scores):
        calls.append((pipe, len(batch), len(scores.emissions)))
        loss, d_scores = pipe.get_loss(batch, scores)
        return 2 * loss, d_scores

    before = tagger.get_loss(examples, tagger.model.predict([eg.predicted for eg in examples]))[0]
    tagger.distillation_loss = hook
    losses = nlp.update(examples, sgd=optimizer)
    assert calls == [(tagger, len(examples), len(examples))]
    assert losses["crf_tagger"] == pytest.approx(2 * before, rel=1e-4)
    assert "distillation_loss" not in tagger.cfg
