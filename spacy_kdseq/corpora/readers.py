"""Corpus readers that keep each doc's language: `spacy-kdseq.Corpus.v1` and
`spacy-kdseq.LanguageBalancedCorpus.v1`.

`spacy-kdseq.Corpus.v1` is spaCy's `spacy.Corpus.v1` (same settings) except that with
`gold_preproc = true` the new Doc spaCy makes for each sentence of a doc that has
sentence boundaries (every one-token doc has one) keeps the doc's language. spaCy's
`Span.as_doc` copies no categories, where the language is recorded (`lang.py`), so with
spaCy's reader such docs reach training without one: 3,743 one-token CoNLL-2002
sentences (15 % of the NER training docs) and 63 UD ones, which distillation then
trained on the gold loss alone and the per-language dev scorers counted as language
"none". The distillation objective now refuses a doc without a language.

`spacy-kdseq.LanguageBalancedCorpus.v1` evens out the languages. In a union of
treebanks the largest languages dominate every epoch (English and French are 69 % of the
UD training tokens here), so a multilingual model fits them best and the small
languages least. This reader repeats the docs of smaller languages so that each
language's share of an epoch is proportional to n^alpha, n being its number of docs:
alpha = 1 keeps the corpus as it is, alpha = 0 gives every language as many docs as the
largest has, and in between (0.5 is common) flattens the mix. No doc is dropped; the
largest language keeps its docs once, the others are repeated (a whole number of times,
then a seeded random part of them once more). Knowledge distillation finds a repeated
doc's teacher knowledge like any other (it is keyed by the doc's words).

It takes spaCy's `spacy.Corpus.v1` settings, so a config switches to it with overrides:

    --corpora.train.@readers spacy-kdseq.LanguageBalancedCorpus.v1 --corpora.train.alpha 0.5

spaCy reads a training corpus once when `max_epochs` is 0 or more and shuffles it every
epoch, so the repeated multiset is drawn once per run.
"""
import math
import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Union

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Corpus, Example
from spacy.training.corpus import walk_corpus
from spacy.vocab import Vocab
from wasabi import msg

from ..errors import Errors, KDSeqError
from .docbin import check_corpus_path, check_docbins
from ..lang import get_doc_lang, set_doc_lang

Augmenter = Callable[[Language, Example], Iterable[Example]]


class LanguageCorpus(Corpus):
    """spaCy's `Corpus`, whose per-sentence docs (`gold_preproc`) keep their doc's language,
    reading only the docs of `languages` (None: every doc)."""

    def __init__(self, path: Optional[Union[str, Path]], *,
                 languages: Optional[List[str]] = None, **settings: Any) -> None:
        super().__init__(path, **settings)
        if languages is not None and (
            isinstance(languages, str) or not all(isinstance(lang, str) for lang in languages)
        ):
            raise KDSeqError(Errors.E434.format(value=languages))
        self.languages = None if languages is None else sorted(set(languages))

    def read_docbin(self, vocab: Vocab, locs: Iterable[Union[str, Path]]) -> Iterator[Doc]:
        if self.languages is None:
            yield from super().read_docbin(vocab, locs)
            return
        # `limit` counts the docs read before this filter, as spaCy's reader counts them.
        found = set()
        for doc in super().read_docbin(vocab, locs):
            lang = get_doc_lang(doc)
            found.add(lang)
            if lang in self.languages:
                yield doc
        missing = [lang for lang in self.languages if lang not in found]
        if missing:
            raise KDSeqError(Errors.E433.format(
                missing=missing, path=self.path, found=sorted(str(lang) for lang in found),
            ))

    def __call__(self, nlp: Language) -> Iterator[Example]:
        if self.path is None:
            raise KDSeqError(Errors.E231)
        check_corpus_path(self.path)
        try:
            yield from super().__call__(nlp)
        except KDSeqError:
            raise
        except (OSError, ValueError):
            # spaCy's errors for a file that is missing or not a DocBin (E1014) name no
            # file: name it, and say what it holds.
            check_docbins(walk_corpus(self.path, ".spacy"))
            raise

    def make_examples_gold_preproc(
        self, nlp: Language, reference_docs: Iterable[Doc]
    ) -> Iterator[Example]:
        for reference in reference_docs:
            lang = get_doc_lang(reference)
            for example in super().make_examples_gold_preproc(nlp, [reference]):
                if lang is not None and get_doc_lang(example.reference) is None:
                    set_doc_lang(example.reference, lang)
                yield example


def create_corpus(
    path: Optional[Union[str, Path]],
    *,
    gold_preproc: bool = False,
    max_length: int = 0,
    limit: int = 0,
    augmenter: Optional[Augmenter] = None,
) -> Callable[[Language], Iterator[Example]]:
    """`spacy-kdseq.Corpus.v1` (entry point `spacy_readers`)."""
    return LanguageCorpus(path, gold_preproc=gold_preproc, max_length=max_length, limit=limit,
                          augmenter=augmenter)


def create_corpus_v2(
    path: Optional[Union[str, Path]],
    *,
    languages: Optional[List[str]] = None,
    gold_preproc: bool = False,
    max_length: int = 0,
    limit: int = 0,
    augmenter: Optional[Augmenter] = None,
) -> Callable[[Language], Iterator[Example]]:
    """`spacy-kdseq.Corpus.v2`: v1 reading only the docs of `languages` (null: all), so a
    model trains on some of the languages of a corpus folder; a listed language with no
    docs is an error."""
    return LanguageCorpus(path, languages=languages, gold_preproc=gold_preproc,
                          max_length=max_length, limit=limit, augmenter=augmenter)


def create_language_balanced_corpus(
    path: Optional[Union[str, Path]],
    *,
    alpha: float = 0.5,
    seed: int = 0,
    gold_preproc: bool = False,
    max_length: int = 0,
    limit: int = 0,
    augmenter: Optional[Augmenter] = None,
) -> Callable[[Language], Iterator[Example]]:
    """`spacy-kdseq.LanguageBalancedCorpus.v1` (entry point `spacy_readers`)."""
    return LanguageBalancedCorpus(
        path, alpha=alpha, seed=seed, gold_preproc=gold_preproc, max_length=max_length,
        limit=limit, augmenter=augmenter,
    )


def create_language_balanced_corpus_v2(
    path: Optional[Union[str, Path]],
    *,
    languages: Optional[List[str]] = None,
    alpha: float = 0.5,
    seed: int = 0,
    gold_preproc: bool = False,
    max_length: int = 0,
    limit: int = 0,
    augmenter: Optional[Augmenter] = None,
) -> Callable[[Language], Iterator[Example]]:
    """`spacy-kdseq.LanguageBalancedCorpus.v2`: v1 over the docs of `languages` only."""
    return LanguageBalancedCorpus(
        path, languages=languages, alpha=alpha, seed=seed, gold_preproc=gold_preproc,
        max_length=max_length, limit=limit, augmenter=augmenter,
    )


class LanguageBalancedCorpus:
    """`LanguageCorpus` over `path`, with each language's docs repeated to a share ∝ n^alpha."""

    def __init__(
        self, path: Optional[Union[str, Path]], *, alpha: float = 0.5, seed: int = 0,
        gold_preproc: bool = False, max_length: int = 0, limit: int = 0,
        augmenter: Optional[Augmenter] = None, languages: Optional[List[str]] = None,
    ) -> None:
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
            raise KDSeqError(Errors.E223.format(alpha=alpha))
        self.path = path
        self.alpha = float(alpha)
        self.seed = seed
        self.corpus = LanguageCorpus(path, languages=languages, gold_preproc=gold_preproc,
                                     max_length=max_length, limit=limit, augmenter=augmenter)
        # spaCy calls a corpus several times while it initializes (labels, the teachers'
        # knowledge, training): say what the mix is once, not every time.
        self._reported = False

    def __call__(self, nlp: Language) -> Iterator[Example]:
        by_lang: Dict[str, List[Example]] = defaultdict(list)
        for index, example in enumerate(self.corpus(nlp)):
            lang = get_doc_lang(example.reference)
            if lang is None:
                raise KDSeqError(Errors.E224.format(path=self.path, index=index))
            by_lang[lang].append(example)
        counts = repeat_counts({lang: len(examples) for lang, examples in by_lang.items()},
                               self.alpha, self.seed)
        if not self._reported:
            shares = Counter({lang: sum(n) for lang, n in counts.items()})
            msg.info(f"Language-balanced training corpus (alpha {self.alpha:g}): "
                     + ", ".join(f"{lang} {len(by_lang[lang])} -> {shares[lang]}"
                                 for lang in sorted(by_lang)))
            self._reported = True
        for lang in sorted(by_lang):
            for example, times in zip(by_lang[lang], counts[lang]):
                for _ in range(times):
                    yield example


def repeat_counts(sizes: Dict[str, int], alpha: float, seed: int = 0) -> Dict[str, List[int]]:
    """How many times each doc of each language is used: language l gets about
    max(n) · (n_l / max(n))^alpha docs, every doc at least once."""
    largest = max(sizes.values(), default=0)
    rng = random.Random(seed)
    counts: Dict[str, List[int]] = {}
    for lang in sorted(sizes):
        n = sizes[lang]
        if n == 0:
            counts[lang] = []
            continue
        target = largest * (n / largest) ** alpha
        whole = max(1, math.floor(target / n))
        extra = min(n, max(0, round(target - whole * n)))
        # A seeded choice of which docs get one use more, so a run is reproducible.
        chosen = set(rng.sample(range(n), extra))
        counts[lang] = [whole + (i in chosen) for i in range(n)]
    return counts
