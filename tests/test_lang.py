"""The corpus language survives a DocBin round trip without per-doc user data."""
import spacy
import srsly
from spacy.tokens import Doc, DocBin

from spacy_kdseq.lang import LANG_KEY, get_doc_lang, set_doc_lang


def _docs(vocab, n):
    return [Doc(vocab, words=["hola", str(i)]) for i in range(n)]


def test_language_round_trips_through_a_docbin_without_user_data():
    vocab = spacy.blank("xx").vocab
    docs = _docs(vocab, 3)
    for doc, lang in zip(docs, ["es", "nl", "es"]):
        set_doc_lang(doc, lang)
    data = DocBin(docs=docs).to_bytes()
    read = list(DocBin().from_bytes(data).get_docs(vocab))
    assert [get_doc_lang(doc) for doc in read] == ["es", "nl", "es"]
    assert all(not doc.user_data for doc in read)


def test_reading_the_language_needs_no_msgpack_call_per_doc(monkeypatch):
    vocab = spacy.blank("xx").vocab
    docs = _docs(vocab, 50)
    for doc in docs:
        set_doc_lang(doc, "es")
    doc_bin = DocBin().from_bytes(DocBin(docs=docs).to_bytes())
    calls = []
    loads = srsly.msgpack_loads
    monkeypatch.setattr(srsly, "msgpack_loads", lambda *a, **k: calls.append(1) or loads(*a, **k))
    langs = [get_doc_lang(doc) for doc in doc_bin.get_docs(vocab)]
    assert langs == ["es"] * 50 and calls == []


def test_docbins_written_with_user_data_still_give_the_language():
    vocab = spacy.blank("xx").vocab
    docs = _docs(vocab, 2)
    docs[0].user_data[LANG_KEY] = "he"
    data = DocBin(docs=docs, store_user_data=True).to_bytes()
    read = list(DocBin().from_bytes(data).get_docs(vocab))
    assert get_doc_lang(read[0]) == "he"
    assert get_doc_lang(read[1]) is None and get_doc_lang(read[1], "xx") == "xx"


def test_set_doc_lang_replaces_the_language():
    doc = Doc(spacy.blank("xx").vocab, words=["a"])
    doc.cats["POSITIVE"] = 1.0
    set_doc_lang(doc, "es")
    set_doc_lang(doc, "nl")
    assert get_doc_lang(doc) == "nl"
    assert doc.cats == {"POSITIVE": 1.0, "kdseq_lang:nl": 1.0}
