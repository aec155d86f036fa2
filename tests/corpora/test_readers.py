"""`spacy-kdseq.LanguageBalancedCorpus.v1`: each language's share ∝ n^alpha, no doc lost."""
from collections import Counter
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc, DocBin
from spacy.util import load_config_from_str, registry

from spacy_kdseq.corpora.readers import repeat_counts
from spacy_kdseq.errors import KDSeqError
from spacy_kdseq.lang import get_doc_lang, set_doc_lang


def _corpus(tmp_path: Path, sizes: dict, lang_less: int = 0) -> Path:
    nlp = spacy.blank("xx")
    bin_ = DocBin(store_user_data=True)
    for lang, n in sizes.items():
        for i in range(n):
            doc = Doc(nlp.vocab, words=[lang, "doc", str(i)])
            set_doc_lang(doc, lang)
            bin_.add(doc)
    for i in range(lang_less):
        bin_.add(Doc(nlp.vocab, words=["no", "language", str(i)]))
    path = tmp_path / "train.spacy"
    bin_.to_disk(path)
    return path


def _read(path: Path, **settings) -> list:
    reader = registry.readers.get("spacy-kdseq.LanguageBalancedCorpus.v1")(path, **settings)
    return list(reader(spacy.blank("xx")))


@pytest.mark.parametrize("alpha,expected", [(1.0, {"en": 40, "ta": 4}), (0.0, {"en": 40, "ta": 40}),
                                            (0.5, {"en": 40, "ta": 13})])
def test_shares_follow_n_to_the_alpha(tmp_path, alpha, expected):
    examples = _read(_corpus(tmp_path, {"en": 40, "ta": 4}), alpha=alpha)
    assert Counter(get_doc_lang(eg.reference) for eg in examples) == expected
    # Every doc is used at least once, and a doc's uses differ by at most one.
    uses = Counter(eg.reference.text for eg in examples)
    assert len(uses) == 44
    ta_uses = [n for text, n in uses.items() if text.startswith("ta")]
    assert max(ta_uses) - min(ta_uses) <= 1


def test_repeat_counts_are_seeded_and_exact():
    counts = repeat_counts({"a": 100, "b": 7, "c": 30}, 0.5, seed=3)
    assert counts == repeat_counts({"a": 100, "b": 7, "c": 30}, 0.5, seed=3)
    assert {lang: sum(n) for lang, n in counts.items()} == {"a": 100, "b": 26, "c": 55}
    assert all(min(n) >= 1 for n in counts.values())


def test_a_config_switches_to_it_with_overrides(tmp_path):
    """The keys of `spacy.Corpus.v1` stay valid; `@readers` and `alpha` are overridden."""
    path = _corpus(tmp_path, {"es": 6, "nl": 2})
    config = load_config_from_str("""
[corpora]
[corpora.train]
@readers = "spacy.Corpus.v1"
path = null
max_length = 0
gold_preproc = true
limit = 0
augmenter = null
""", overrides={"corpora.train.path": str(path),
                "corpora.train.@readers": "spacy-kdseq.LanguageBalancedCorpus.v1",
                "corpora.train.alpha": 0.0})
    reader = registry.resolve(config)["corpora"]["train"]
    langs = Counter(get_doc_lang(eg.reference) for eg in reader(spacy.blank("xx")))
    assert langs == {"es": 6, "nl": 6}


def test_bad_alpha_and_docs_without_a_language_are_errors(tmp_path):
    with pytest.raises(KDSeqError, match=r"\[E223\].*found 2"):
        _read(_corpus(tmp_path, {"en": 2}), alpha=2)
    with pytest.raises(KDSeqError, match=r"\[E224\] .*doc 3 of .*train.spacy records no language"):
        _read(_corpus(tmp_path, {"en": 3}, lang_less=1), alpha=0.5)


def test_per_sentence_docs_keep_their_language(tmp_path):
    """With gold_preproc, spaCy makes a new Doc per sentence of a doc with sentence
    boundaries (any one-token doc) and drops its categories, where the language is."""
    path = _corpus(tmp_path, {"nl": 3})
    one_token = Doc(spacy.blank("xx").vocab, words=["pagina"])
    set_doc_lang(one_token, "nl")
    bin_ = DocBin().from_disk(path)
    bin_.add(one_token)
    bin_.to_disk(path)
    nlp = spacy.blank("xx")
    spacy_reader = registry.readers.get("spacy.Corpus.v1")(path, gold_preproc=True)
    assert [get_doc_lang(eg.reference) for eg in spacy_reader(nlp)][-1] is None
    ours = registry.readers.get("spacy-kdseq.Corpus.v1")(path, gold_preproc=True)
    examples = list(ours(nlp))
    assert [get_doc_lang(eg.reference) for eg in examples] == ["nl"] * 4
    assert [eg.reference.text for eg in examples] == [eg.reference.text for eg in spacy_reader(nlp)]


def test_every_config_of_ours_reads_with_the_language_keeping_reader():
    root = Path(__file__).resolve().parents[2] / "configs"
    for path in sorted(root.glob("*.cfg")):
        if path.name.startswith("spacy-"):  # stock spaCy, on purpose
            continue
        text = path.read_text()
        assert '"spacy.Corpus.v1"' not in text, path.name
        assert '"spacy-kdseq.Corpus.v1"' in text or '"spacy-kdseq.Corpus.v2"' in text, path.name


def test_the_mix_is_reported_once_and_every_call_gives_the_same_docs(tmp_path, capsys):
    """spaCy calls a training corpus several times while it initializes: the same
    multiset every time (seeded), and one line saying what the mix is."""
    reader = registry.readers.get("spacy-kdseq.LanguageBalancedCorpus.v1")(
        _corpus(tmp_path, {"en": 40, "ta": 4}), alpha=0.5)
    nlp = spacy.blank("xx")
    first, second = ([eg.reference.text for eg in reader(nlp)] for _ in range(2))
    assert first == second
    assert capsys.readouterr().out.count("Language-balanced training corpus") == 1


@pytest.mark.parametrize("name", ["spacy-kdseq.Corpus.v2", "spacy-kdseq.LanguageBalancedCorpus.v2"])
def test_v2_readers_keep_only_the_listed_languages(tmp_path, name):
    path = _corpus(tmp_path, {"en": 5, "ta": 3, "he": 2})
    reader = registry.readers.get(name)
    everything = list(reader(path, languages=None)(spacy.blank("xx")))
    assert {get_doc_lang(eg.reference) for eg in everything} == {"en", "ta", "he"}
    kept = list(reader(path, languages=["ta", "he"])(spacy.blank("xx")))
    assert Counter(get_doc_lang(eg.reference) for eg in kept).keys() == {"ta", "he"}
    with pytest.raises(KDSeqError, match=r"E433.*\['de'\].*\['en', 'he', 'ta'\]"):
        list(reader(path, languages=["ta", "de"])(spacy.blank("xx")))
    with pytest.raises(KDSeqError, match="E434"):
        reader(path, languages="ta")
