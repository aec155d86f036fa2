"""Teachers, routing, the knowledge cache and bad input, on real CoNLL-2002 slices."""
import gc
import shutil
import subprocess
import sys
import warnings
import weakref
from pathlib import Path

import numpy
import pytest
import spacy
import torch
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.training import Example

from spacy_kdseq.distill.settings import parse_settings
from spacy_kdseq.distill.store import KnowledgeStore
from spacy_kdseq.distill.teachers import Teacher, TeacherPipeline, read_teacher, union_labels
from spacy_kdseq.distill.train import load_distill_config, prepare

from .conftest import CONFIGS


def _config(kd_data, cache, **extra):
    overrides = {
        "paths.train": str(kd_data["corpus"]),
        "paths.dev": str(kd_data["corpus"] / "es.spacy"),
        "paths.teachers.es": str(kd_data["teachers"]["es"]),
        "paths.teachers.nl": str(kd_data["teachers"]["nl"]),
        "distillation.cache_dir": str(cache),
        **extra,
    }
    return load_distill_config(CONFIGS / "student-ner.cfg", overrides)


def _npz(cache):
    return sorted(cache.glob("*.npz"))


def test_each_doc_gets_its_own_teacher(kd_data, tmp_path):
    prepared = prepare(_config(kd_data, tmp_path / "cache"))
    tags = sorted({t for teacher in prepared.teachers.values() for t in teacher.tag_names})
    store = KnowledgeStore(prepared.knowledge, tags, "ner")
    for lang in ("es", "nl"):
        nlp = spacy.load(kd_data["teachers"][lang])
        pipe = nlp.get_pipe("ner")
        assert prepared.teachers[lang].tag_names == pipe.tag_names  # read without loading
        docs = DocBin().from_disk(kd_data["corpus"] / f"{lang}.spacy").get_docs(nlp.vocab)
        doc = next(docs)
        mask = torch.ones(1, len(doc), dtype=torch.bool)
        crf = store.teacher_crf([Example(doc.copy(), doc)], mask, torch.float32)
        assert store.langs[int(crf.teacher[0])] == lang
        # the teacher's own emissions, recomputed: tok2vec first, then the CRF model
        words = [t.text for t in doc]
        fresh = nlp.get_pipe("tok2vec")(spacy.tokens.Doc(nlp.vocab, words=words))
        expected = pipe.model.predict([fresh]).emissions[0]
        cols = [tags.index(t) for t in pipe.tag_names]
        got = crf.emissions[0][:, cols].numpy()
        numpy.testing.assert_allclose(got, expected, atol=0.02, rtol=0.01)  # float16 cache


def test_cache_is_reused_and_rebuilt_when_stale(kd_data, tmp_path):
    cache = tmp_path / "cache"
    prepare(_config(kd_data, cache))
    first = {p.name: p.stat().st_mtime_ns for p in _npz(cache)}
    assert len(first) == 2
    prepare(_config(kd_data, cache))
    assert {p.name: p.stat().st_mtime_ns for p in _npz(cache)} == first
    # a changed teacher: same path, different files
    teacher = tmp_path / "teacher-es"
    shutil.copytree(kd_data["teachers"]["es"], teacher)
    config = _config(kd_data, cache, **{"paths.teachers.es": str(teacher)})
    prepare(config)
    (teacher / "meta.json").write_text((teacher / "meta.json").read_text().replace("{", '{"note": 1,', 1))
    before = set(p.name for p in _npz(cache))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prepare(config)
    assert any("W302" in str(w.message) and "teacher model changed" in str(w.message) for w in caught)
    assert len(set(p.name for p in _npz(cache)) - before) == 1
    # a changed corpus file
    corpus = tmp_path / "corpus"
    shutil.copytree(kd_data["corpus"], corpus)
    config = _config(kd_data, cache, **{"paths.train": str(corpus)})
    docs = list(DocBin().from_disk(corpus / "nl.spacy").get_docs(spacy.blank("xx").vocab))
    DocBin(docs=docs[:100], store_user_data=True).to_disk(corpus / "nl.spacy")
    prepare(config)
    DocBin(docs=docs[:50], store_user_data=True).to_disk(corpus / "nl.spacy")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prepared = prepare(config)
    assert any("W302" in str(w.message) and "corpus file changed" in str(w.message) for w in caught)
    assert sum(len(k.keys) for k in prepared.knowledge["nl"]) == 50


class _Loads:
    """Records every `spacy.load` and which earlier pipelines were still alive then."""

    def __init__(self, monkeypatch):
        self.paths, self.alive_at_load, self._refs = [], [], []
        real = spacy.load

        def load(path, *args, **kwargs):
            gc.collect()
            self.alive_at_load.append([str(p) for p, ref in self._refs if ref() is not None])
            nlp = real(path, *args, **kwargs)
            self.paths.append(str(path))
            self._refs.append((path, weakref.ref(nlp)))
            return nlp

        monkeypatch.setattr(spacy, "load", load)

    def alive(self):
        gc.collect()
        return [str(p) for p, ref in self._refs if ref() is not None]


def test_teachers_are_loaded_one_at_a_time_and_not_kept(kd_data, tmp_path, monkeypatch):
    loads = _Loads(monkeypatch)
    prepared = prepare(_config(kd_data, tmp_path / "cache"))
    assert loads.paths == [str(kd_data["teachers"][lang]) for lang in ("es", "nl")]
    assert loads.alive_at_load == [[], []]  # es was freed before nl was loaded
    assert loads.alive() == []
    held = [v for t in prepared.teachers.values() for v in vars(t).values()]
    assert not any(isinstance(v, Language) for v in held)


def test_a_teacher_pipeline_is_loaded_once_and_freed_when_its_block_ends(kd_data, monkeypatch):
    teacher = read_teacher("es", str(kd_data["teachers"]["es"]), "ner", student_name="ner",
                           student_factory="crf_ner", student_scheme="BILUO")
    loads = _Loads(monkeypatch)
    with TeacherPipeline(teacher) as pipeline:
        assert loads.paths == []  # nothing loaded until asked
        nlp = pipeline.get()
        assert pipeline.get() is nlp and loads.paths == [str(teacher.path)]
        assert nlp.get_pipe("ner").tag_names == teacher.tag_names
        del nlp
    assert loads.alive() == []  # freed although `pipeline` is still referenced


def test_a_complete_cache_loads_no_teacher(kd_data, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = prepare(_config(kd_data, cache))

    def refuse(*args, **kwargs):
        raise AssertionError("spacy.load called with a complete cache")

    monkeypatch.setattr(spacy, "load", refuse)
    again = prepare(_config(kd_data, cache))
    assert again.labels == first.labels and sorted(again.teachers) == ["es", "nl"]
    for lang in ("es", "nl"):
        numpy.testing.assert_array_equal(again.knowledge[lang][0].emissions,
                                         first.knowledge[lang][0].emissions)


def test_a_cache_miss_loads_only_the_teachers_it_needs(kd_data, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    prepare(_config(kd_data, cache))
    (victim,) = [p for p in _npz(cache) if p.name.startswith("nl-")]
    victim.unlink()
    loads = _Loads(monkeypatch)
    with pytest.warns(UserWarning, match="W305"):
        prepare(_config(kd_data, cache))
    assert loads.paths == [str(kd_data["teachers"]["nl"])]
    assert loads.alive() == []


def test_corrupt_cache_is_refused(kd_data, tmp_path):
    cache = tmp_path / "cache"
    prepare(_config(kd_data, cache))
    victim = _npz(cache)[0]
    victim.write_bytes(victim.read_bytes()[:-100])
    with pytest.raises(ValueError, match="E309"):
        prepare(_config(kd_data, cache))
    (cache / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match="E309"):
        prepare(_config(kd_data, cache))
    prepare(_config(kd_data, tmp_path / "fresh"), force=True)


def test_a_directory_that_is_no_pipeline(kd_data, tmp_path):
    with pytest.raises(ValueError, match=r"E301.*'es'.*config\.cfg"):
        prepare(_config(kd_data, tmp_path / "cache", **{"paths.teachers.es": str(tmp_path)}))
    teacher = tmp_path / "teacher-es"
    shutil.copytree(kd_data["teachers"]["es"], teacher)
    (teacher / "ner" / "cfg").unlink()
    with pytest.raises(ValueError, match=r"E301.*teacher-es.*ner/cfg"):
        prepare(_config(kd_data, tmp_path / "cache", **{"paths.teachers.es": str(teacher)}))


@pytest.mark.parametrize("override,code", [
    ({"paths.teachers.es": "/nonexistent/teacher"}, "E301"),
    ({"distillation.teacher_component": "tagger"}, "E302"),
    ({"distillation.method": "posterior-ish"}, "E305"),
    ({"distillation.topk_k": 0}, "E306"),
    ({"distillation.topwk_k": 2.5}, "E306"),
    ({"distillation.k": 10}, "E320"),
    ({"distillation.temperature": 0.0}, "E307"),
    ({"distillation.kd_weight": 1.5}, "E308"),
    ({"distillation.kd_weight_min": -0.1}, "E308"),
    ({"distillation.missing_teacher": "skip"}, "E310"),
    ({"distillation.component": "tagger"}, "E312"),
])
def test_bad_settings_fail_before_training(kd_data, tmp_path, override, code):
    with pytest.raises(ValueError, match=code):
        prepare(_config(kd_data, tmp_path / "cache", **override))


def test_teacher_of_another_task_is_refused(kd_data, tmp_path):
    config = _config(kd_data, tmp_path / "cache", **{"paths.teachers.nl": str(kd_data["pos_teacher"])})
    with pytest.raises(ValueError, match="E302"):
        prepare(config)
    config = _config(kd_data, tmp_path / "cache", **{
        "paths.teachers.nl": str(kd_data["pos_teacher"]), "distillation.teacher_component": "tagger",
        "paths.teachers.es": str(kd_data["pos_teacher"])})
    # E303 names the student's component, not the teachers'
    with pytest.raises(ValueError, match="E303.*'crf_tagger' component but the student's 'ner'"):
        prepare(config)


def _saved(nlp, path):
    nlp.to_disk(path)
    return str(path)


def _tiny_teacher(factory, config=None):
    nlp = spacy.blank("es")
    nlp.add_pipe(factory, name="ner", config=config or {})
    words = ["Ana", "vive", "en", "Lima"]
    ref = Doc(nlp.vocab, words=words, ents=["B-PER", "O", "O", "B-LOC"])
    nlp.initialize(lambda: [Example(Doc(nlp.vocab, words=words), ref)])
    return nlp


def test_a_spacy_ner_teacher_is_told_teachers_must_be_crfs(kd_data, tmp_path):
    teacher = _saved(_tiny_teacher("ner"), tmp_path / "spacy-ner")
    with pytest.raises(ValueError, match=r"E326.*ner \(ner\)") as err:
        prepare(_config(kd_data, tmp_path / "cache", **{"paths.teachers.es": teacher}))
    assert "teacher_component" not in str(err.value)


def test_teacher_and_student_schemes_must_agree(kd_data, tmp_path):
    """A BIO teacher's 'B-X O' paths are forbidden moves for a BILUO student."""
    teacher = _saved(_tiny_teacher("crf_ner", {"scheme": "BIO"}), tmp_path / "bio")
    with pytest.raises(ValueError, match=r"E324.*'es'.*BIO scheme.*'ner' in BILUO.*scheme BIO"):
        prepare(_config(kd_data, tmp_path / "cache", **{"paths.teachers.es": teacher}))
    # the reverse: BILUO teachers, BIO student
    with pytest.raises(ValueError, match=r"E324.*BILUO scheme.*'ner' in BIO"):
        prepare(_config(kd_data, tmp_path / "cache", **{"components.ner.scheme": "BIO"}))


def test_untaught_docs_and_idle_teachers_are_counted(kd_data, tmp_path):
    config = _config(kd_data, tmp_path / "cache")
    del config["distillation"]["teachers"]["nl"]
    config["distillation"]["teachers"]["de"] = str(kd_data["teachers"]["es"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prepare(config)
    messages = [str(w.message) for w in caught]
    assert any("W303" in m and "150 'nl'" in m for m in messages), messages
    assert any("W304" in m and "['de']" in m and "'es': 150" in m for m in messages), messages


def test_a_run_that_no_teacher_can_teach_is_refused(kd_data, tmp_path):
    """Teachers keyed by codes the corpus does not use (e.g. 'esp' for 'es') would leave
    every doc on gold alone: the baseline, trained under a KD method's name."""
    config = _config(kd_data, tmp_path / "cache")
    teachers = config["distillation"]["teachers"]
    config["distillation"]["teachers"] = {"esp": teachers["es"], "ned": teachers["nl"]}
    with pytest.raises(ValueError, match=r"E330.*'posterior'.*'es': 150.*'esp', 'ned'"):
        prepare(config)
    assert not (tmp_path / "cache").exists()


def test_cache_dir_that_is_a_file(kd_data, tmp_path):
    (tmp_path / "cache").write_text("not a directory")
    with pytest.raises(ValueError, match="E327"):
        prepare(_config(kd_data, tmp_path / "cache"))


def test_a_missing_entry_file_is_rebuilt_alone(kd_data, tmp_path):
    """A run killed while rebuilding leaves a manifest entry without its file."""
    cache = tmp_path / "cache"
    prepare(_config(kd_data, cache))
    victim, kept = _npz(cache)
    before = kept.stat().st_mtime_ns
    victim.unlink()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prepare(_config(kd_data, cache))
    assert any("W305" in str(w.message) for w in caught)
    assert victim.exists() and kept.stat().st_mtime_ns == before


def test_language_without_teacher(kd_data, tmp_path):
    config = _config(kd_data, tmp_path / "cache", **{"distillation.missing_teacher": "error"})
    del config["distillation"]["teachers"]["nl"]
    with pytest.raises(ValueError, match="E304.*'nl'"):
        prepare(config)
    config["distillation"]["missing_teacher"] = "gold_only"
    with pytest.warns(UserWarning, match="W303"):
        prepared = prepare(config)
    assert sorted(prepared.knowledge) == ["es"]


def test_union_of_label_sets_warns_once():
    def T(lang, labels):
        return Teacher(lang, Path(lang), "ner", "crf_ner", labels, "BILUO")

    messages = []
    union = union_labels([T("es", ("LOC", "PER")), T("nl", ("LOC", "MISC"))], messages.append)
    assert union == ["LOC", "MISC", "PER"]
    assert len(messages) == 1 and "W301" in messages[0]
    messages.clear()
    union_labels([T("es", ("LOC",)), T("nl", ("LOC",))], messages.append)
    assert messages == []


def test_kd_weight_schedule():
    s = parse_settings({"teachers": {"es": "x"}, "kd_weight": 1.0, "kd_weight_decay": 0.25, "kd_weight_min": 0.1})
    assert [s.kd_weight_at(e) for e in range(5)] == [1.0, 0.75, 0.5, 0.25, 0.1]
    assert parse_settings({"method": "none"}).kd_weight_at(0) == 0.0
    constant = parse_settings({"teachers": {"es": "x"}, "kd_weight": 0.5})
    assert constant.kd_weight_at(0) == constant.kd_weight_at(100) == 0.5


def test_transformer_config_without_the_extra(monkeypatch, tmp_path):
    import spacy_kdseq.distill.train as train

    monkeypatch.setattr(train, "find_spec", lambda name: None)
    config = load_distill_config(CONFIGS / "student-ner-trf.cfg")
    with pytest.raises(ValueError, match=r"E328.*spacy-kdseq\[transformers\]"):
        prepare(config)


@pytest.mark.parametrize("scheme", [None, "BILUO"])
def test_a_fresh_process_reads_the_teachers(kd_data, tmp_path, scheme):
    """`read_setup` in a new interpreter, where no CRF factory has been imported yet
    (spaCy registers entry-point factories on first lookup): no E967, with or without
    the student's scheme in the config."""
    config = _config(kd_data, tmp_path / "cache")
    if scheme is None:
        del config["components"]["ner"]["scheme"]
    path = tmp_path / "student.cfg"
    config.to_disk(path)
    code = (
        "import sys; from spacy.util import load_config; "
        "from spacy_kdseq.distill.train import read_setup; "
        "settings, teachers = read_setup(load_config(sys.argv[1], interpolate=True)); "
        "print(sorted(teachers), teachers['es'].scheme)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["['es',", "'nl']", "BILUO"]
