"""Gold tags from token arrays equal spaCy's alignment-based derivation, on real data."""
import itertools

import numpy
import pytest
import spacy
from spacy.attrs import ENT_IOB, ENT_TYPE, POS
from spacy.parts_of_speech import IDS
from spacy.tokens import Doc
from spacy.training import Example

from spacy_kdseq.corpora import read_corpus
from spacy_kdseq.pipeline.gold import ner_tag_ids, token_tag_ids

N_DOCS = 1500


def _slow(pipe, examples):
    return [pipe._gold_ids_from_names(eg, i) for i, eg in enumerate(examples)]


def _assert_same(fast, slow):
    assert len(fast) == len(slow)
    for i, (a, b) in enumerate(zip(fast, slow)):
        assert a.dtype == b.dtype and a.tolist() == b.tolist(), f"doc {i}"


def _gold_words(nlp, docs):
    return [Example(Doc(nlp.vocab, words=[t.text for t in d]), d) for d in docs]


def _with_missing_and_retokenized(nlp, docs):
    """Gold-word examples, plus partial annotation and another tokenisation."""
    examples = _gold_words(nlp, docs)
    for doc in docs[:20]:
        partial = Doc(doc.vocab, words=[t.text for t in doc])
        array = doc.to_array([ENT_IOB, ENT_TYPE])
        # Every third "O" token unannotated (an unannotated B would leave a stray I).
        missing = (array[:, 0] == 2) & (numpy.arange(len(doc)) % 3 == 0)
        array[missing] = 0
        partial.from_array([ENT_IOB, ENT_TYPE], array)
        examples.append(Example(Doc(nlp.vocab, words=[t.text for t in doc]), partial))
        # Tokens glued together: the slow path (spaCy's alignment) must take these.
        examples.append(Example(nlp.make_doc(doc.text.replace(" ", "")), doc))
    examples.append(Example(Doc(nlp.vocab, words=[]), Doc(nlp.vocab, words=[])))
    examples.append(Example(Doc(nlp.vocab, words=["a", "b"]), Doc(nlp.vocab, words=["a", "b"])))
    return examples


@pytest.mark.parametrize("scheme", ["BILUO", "BIO"])
@pytest.mark.parametrize("corpus,lang", [("esp.train", "es"), ("ned.train", "nl")])
def test_ner_array_tags_equal_alignment_tags(shared_data, corpus, lang, scheme):
    nlp = spacy.blank("xx")
    docs = list(itertools.islice(read_corpus(shared_data / "conll2002" / corpus, lang,
                                             nlp.vocab), N_DOCS))
    ner = nlp.add_pipe("crf_ner", config={"scheme": scheme})
    for label in ("LOC", "MISC", "ORG", "PER"):
        ner.add_label(label)
    examples = _with_missing_and_retokenized(nlp, docs)
    fast = ner._gold_tag_ids_from_arrays(examples)
    assert sum(ids is not None for ids in fast) >= N_DOCS  # the fast path did the work
    _assert_same(ner.gold_tag_ids(examples), _slow(ner, examples))


@pytest.mark.parametrize("attr", ["pos", "tag"])
def test_tagger_array_tags_equal_alignment_tags(shared_data, attr):
    nlp = spacy.blank("xx")
    path = shared_data / "ud" / "UD_English-LinES" / "en_lines-ud-train.conllu"
    docs = list(itertools.islice(read_corpus(path, "en", nlp.vocab), N_DOCS))
    if attr == "tag":
        for doc in docs:
            for token in doc:
                token.tag_ = token.pos_
    tagger = nlp.add_pipe("crf_tagger", config={"attr": attr})
    for label in sorted({t.pos_ for d in docs for t in d}):
        tagger.add_label(label)
    examples = _gold_words(nlp, docs)
    examples.append(Example.from_dict(nlp.make_doc("He runs"), {"pos": ["PRON", ""],
                                                                "tags": ["PRON", ""]}))
    examples.append(Example(nlp.make_doc(docs[0].text.replace(" ", "")), docs[0]))
    fast = tagger._gold_tag_ids_from_arrays(examples)
    assert sum(ids is not None for ids in fast) >= N_DOCS
    _assert_same(tagger.gold_tag_ids(examples), _slow(tagger, examples))
    assert tagger.gold_tags(examples[-2:-1])[0][1] is None
    assert fast[-1] is None  # another tokenisation: left to spaCy's alignment


def test_a_changed_reference_gets_new_tags():
    nlp = spacy.blank("xx")
    ner = nlp.add_pipe("crf_ner")
    for label in ("LOC", "PER"):
        ner.add_label(label)
    words = ["Ana", "vive", "en", "Buenos", "Aires"]
    ref = Doc(nlp.vocab, words=words, ents=["B-PER", "O", "O", "B-LOC", "I-LOC"])
    example = Example(Doc(nlp.vocab, words=words), ref)
    names = ner.tag_names
    before = [names[i] for i in ner.gold_tag_ids([example])[0]]
    assert before == ["U-PER", "O", "O", "B-LOC", "L-LOC"]
    ref.set_ents([ref.char_span(0, 3, "LOC")], default="outside")
    after = [names[i] for i in ner.gold_tag_ids([example])[0]]
    assert after == ["U-LOC", "O", "O", "O", "O"]


def test_invalid_or_unknown_gold_is_left_to_the_slow_path():
    vocab = spacy.blank("xx").vocab
    words = ["en", "Madrid", "hoy"]
    ref = Doc(vocab, words=words)
    array = numpy.array([[2, 0], [1, vocab.strings.add("LOC")], [2, 0]], dtype="uint64")
    ref.from_array([ENT_IOB, ENT_TYPE], array)  # an I without a B
    unknown = Doc(vocab, words=words, ents=["O", "B-ORG", "O"])
    known = Doc(vocab, words=words, ents=["O", "B-LOC", "O"])
    examples = [Example(Doc(vocab, words=words), d) for d in (ref, unknown, known)]
    ids = ner_tag_ids(examples, {vocab.strings["LOC"]: 0}, "BILUO")
    assert ids[0] is None and ids[1] is None and ids[2].tolist() == [0, 4, 0]
    tags = Doc(vocab, words=["a", "b"], pos=["NOUN", "X"])
    assert token_tag_ids([Example(Doc(vocab, words=["a", "b"]), tags)], POS,
                         {IDS["NOUN"]: 0}) == [None]


def test_unannotated_space_tokens_are_outside():
    nlp = spacy.blank("xx")
    ner = nlp.add_pipe("crf_ner")
    ner.add_label("PER")
    words = ["Ana", "\n", "vive", "\n"]
    examples = [
        Example(Doc(nlp.vocab, words=words), Doc(nlp.vocab, words=words, ents=ents))
        for ents in (["B-PER", None, None, None], [None] * 4)
    ]
    names = ner.tag_names
    fast = ner._gold_tag_ids_from_arrays(examples)
    assert [names[i] if i >= 0 else None for i in fast[0]] == ["U-PER", "O", None, "O"]
    assert fast[1].tolist() == [-1] * 4  # no entity annotation at all: all missing
    _assert_same(fast, _slow(ner, examples))
