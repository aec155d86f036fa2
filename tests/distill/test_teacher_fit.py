"""scripts/teacher_fit.py: a cache's teachers against the gold tags, on real CoNLL-2002 slices."""
import json
from pathlib import Path

import numpy
import pytest
import spacy
import typer
from spacy.tokens import Doc, DocBin
from spacy.training import Example

from _scripts import load_script
from spacy_kdseq.distill.cache import Knowledge, KnowledgeCache, doc_key
from spacy_kdseq.distill.train import prepare

from .test_prepare import _config


@pytest.fixture(scope="module")
def teacher_fit():
    return load_script("teacher_fit")


def _made_up_entry(cache_dir: Path, kd_data, emissions_of) -> None:
    """An es entry whose emissions are `emissions_of(gold ids, L)` per doc and whose
    transitions, start and end scores are all 0, on the es slice without its repeated
    sentences (CoNLL-2002 repeats some with other entities: one teacher output cannot
    match both)."""
    teacher = kd_data["teachers"]["es"]
    nlp = spacy.load(teacher)
    pipe = nlp.get_pipe("ner")
    tags = list(pipe.tag_names)
    first = {}
    for doc in DocBin().from_disk(kd_data["corpus"] / "es.spacy").get_docs(nlp.vocab):
        first.setdefault(doc_key([t.text for t in doc]), doc)
    docs = list(first.values())
    corpus = cache_dir.parent / "es-once.spacy"
    DocBin(docs=docs, store_user_data=True).to_disk(corpus)
    golds = pipe.gold_tag_ids([Example(Doc(nlp.vocab, words=[t.text for t in d]), d) for d in docs])
    L = len(tags)
    knowledge = Knowledge(
        lang="es", labels=tags, keys=numpy.asarray([doc_key([t.text for t in d]) for d in docs]),
        offsets=numpy.concatenate([[0], numpy.cumsum([len(d) for d in docs])]).astype(numpy.int64),
        emissions=numpy.concatenate([emissions_of(gold, L) for gold in golds]).astype(numpy.float16),
        transitions=numpy.zeros((L, L), numpy.float32), start=numpy.zeros(L, numpy.float32),
        end=numpy.zeros(L, numpy.float32),
    )
    KnowledgeCache(cache_dir).get_or_build(
        teacher_path=teacher, corpus_path=corpus, labels=tags, component="ner", lang="es",
        build=lambda: knowledge,
    )


def test_a_teacher_that_is_the_gold_tags_fits_them(teacher_fit, kd_data, tmp_path) -> None:
    def gold_peaks(gold, L):
        scores = numpy.zeros((len(gold), L))
        scores[numpy.arange(len(gold)), gold] = 30.0
        return scores

    _made_up_entry(tmp_path / "cache", kd_data, gold_peaks)
    (fit,) = teacher_fit.cache_fit(tmp_path / "cache", [1.0, 4.0], 1000)
    assert fit.lang == "es" and fit.accuracy == 100.0
    assert fit.target[1.0] > 0.999 and 0.5 < fit.target[4.0] < fit.target[1.0]


def test_a_teacher_without_preferences_gives_uniform_targets(teacher_fit, kd_data, tmp_path) -> None:
    _made_up_entry(tmp_path / "cache", kd_data, lambda gold, L: numpy.zeros((len(gold), L)))
    (fit,) = teacher_fit.cache_fit(tmp_path / "cache", [1.0, 4.0], 20)
    L = len(spacy.load(kd_data["teachers"]["es"]).get_pipe("ner").tag_names)
    assert fit.docs == 20 and fit.target == pytest.approx({1.0: 1 / L, 4.0: 1 / L}, rel=1e-4)


def test_trained_teachers_fit_and_the_table_shows_them(teacher_fit, kd_data, tmp_path) -> None:
    prepare(_config(kd_data, tmp_path / "cache"))
    fits = teacher_fit.cache_fit(tmp_path / "cache", [1.0, 2.0, 4.0], 1000)
    assert [f.lang for f in fits] == ["es", "nl"]
    for fit in fits:
        assert fit.docs > 100 and fit.tokens > fit.docs and 0.0 <= fit.accuracy <= 100.0
        assert fit.target[1.0] >= fit.target[2.0] >= fit.target[4.0] > 0.0
    table = teacher_fit.markdown(fits, [1.0, 2.0, 4.0]).splitlines()
    assert table[0].endswith("| target on it, T=1 | target on it, T=2 | target on it, T=4 |")
    assert [row.split(" | ")[0] for row in table[2:]] == ["| es", "| nl"]


def test_a_gone_teacher_is_named(teacher_fit, kd_data, tmp_path) -> None:
    prepare(_config(kd_data, tmp_path / "cache"))
    manifest = tmp_path / "cache" / "manifest.json"
    data = json.loads(manifest.read_text())
    for entry in data["entries"].values():
        entry["teacher"] = str(tmp_path / "moved")
    manifest.write_text(json.dumps(data))
    with pytest.raises(typer.BadParameter, match=r"teacher .*moved, which is gone"):
        teacher_fit.cache_fit(tmp_path / "cache", [1.0], 10)
