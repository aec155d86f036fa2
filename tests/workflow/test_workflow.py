"""Workflow units on real slices: atomic runs, records, accumulation, failures, settings."""
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from spacy.util import load_config
from thinc.api import Config

from spacy_kdseq import run_record
from spacy_kdseq.corpora import convert_corpus
from spacy_kdseq.workflow.backends import UnitsFailed, run_serial
from spacy_kdseq.workflow.layout import knowledge_cache, teacher_model
from spacy_kdseq.workflow.plan import pending, student_units, teacher_units
from spacy_kdseq.workflow import provenance
from spacy_kdseq.workflow import units as units_module
from spacy_kdseq.workflow.annotation import annotate_teachers
from spacy_kdseq.workflow.units import run_unit

REPO = Path(__file__).resolve().parents[2]
TINY = {
    "components.tok2vec.model.encode.width": 32,
    "components.tok2vec.model.encode.depth": 1,
    "training.max_steps": 12,
    "training.eval_frequency": 6,
    "training.batcher.size.start": 400,
    "training.batcher.size.stop": 400,
}
LANGS = ["es", "nl"]


def _label(unit) -> str:
    return unit.label


@pytest.fixture(scope="module")
def root(shared_data: Path, tmp_path_factory) -> Path:
    """A workflow root with 60/30/30-sentence es+nl NER corpora and trained tiny teachers."""
    root = tmp_path_factory.mktemp("workflow")
    files = {"es": "esp", "nl": "ned"}
    for lang, prefix in files.items():
        for split, suffix, limit in (("train", "train", 60), ("dev", "testa", 30), ("test", "testb", 30)):
            out = root / "corpus" / "ner" / split / f"{lang}.spacy"
            out.parent.mkdir(parents=True, exist_ok=True)
            convert_corpus(shared_data / "conll2002" / f"{prefix}.{suffix}", out, lang, limit=limit)
    cwd = os.getcwd()
    os.chdir(REPO)  # units name the repository's configs by relative path, as project.yml does
    try:
        run_serial(teacher_units("ner", root, LANGS, [], overrides=TINY), run_unit, _label)
        annotate_teachers("ner", root, {lang: str(teacher_model(root, "ner", lang)) for lang in LANGS})
        yield root
    finally:
        os.chdir(cwd)


def _students(root: Path, methods, seeds, **overrides):
    return student_units("ner", root, LANGS, [], methods, seeds, overrides={**TINY, **overrides})


def _partials(root: Path):
    return [p for p in root.rglob("*") if ".partial-" in p.name or ".old-" in p.name]


def test_teacher_records_hold_the_run(root: Path) -> None:
    record = json.loads((root / "results" / "ner" / "teachers" / "es.json").read_text())
    assert record["kind"] == "teacher" and record["name"] == "es" and record["train_langs"] == ["es"]
    assert [step for step, _ in record["curve"]] == [0, 6, 12]
    training = record["training"]
    assert training["steps"] == 12 and training["stopped_by"] == "max_steps"
    assert max(score for _, score in record["curve"]) == training["best_dev"]
    assert training["wall_seconds"] > 0 and training["cpu_seconds"] > 0 and record["commit"]
    assert list(record["test"]["languages"]) == ["es"]
    assert record["overrides"]["training.max_steps"] == 12
    assert (root / "training" / "ner" / "teachers" / "es" / "train-log.jsonl").exists()
    machine = record["machine"]
    assert machine["cores"] >= 1 and machine["cpu"] and machine["torch_threads"] >= 1
    assert machine["gpu"] is None  # a CPU run (--gpu-id -1)
    assert machine["versions"]["spacy"] and machine["versions"]["torch"]
    assert pending(teacher_units("ner", root, LANGS, [], overrides=TINY), need_model=True) == []


def test_a_second_method_keeps_the_first(root: Path) -> None:
    run_serial(_students(root, ["none"], [0]), run_unit, _label)
    first = root / "results" / "ner" / "students" / "none" / "seed-0.json"
    model = root / "training" / "ner" / "students" / "none" / "seed-0" / "model-best"
    before = (first.read_bytes(), model.stat().st_mtime_ns)
    run_serial(_students(root, ["structure"], [0]), run_unit, _label)
    assert (first.read_bytes(), model.stat().st_mtime_ns) == before
    second = json.loads((root / "results" / "ner" / "students" / "structure" / "seed-0.json").read_text())
    assert second["kind"] == "student" and second["name"] == "structure"
    assert sorted(second["test"]["languages"]) == LANGS
    assert pending(_students(root, ["none", "structure"], [0])) == []
    assert not _partials(root)


def test_other_settings_never_reuse_a_record(root: Path) -> None:
    run_serial(_students(root, ["none"], [0]), run_unit, _label)
    with pytest.raises(ValueError, match=r"E405.*training.max_steps: 12 → 13"):
        pending(_students(root, ["none"], [0], **{"training.max_steps": 13}))


def test_a_failed_unit_keeps_the_others_and_a_rerun_does_only_it(root: Path) -> None:
    good, bad = _students(root, ["none"], [1, 2])
    broken = dataclasses.replace(bad, overrides={**bad.overrides, "training.optimizer.learn_rate": "fast"})
    with pytest.raises(UnitsFailed, match="seed 2"):
        run_serial([good, broken], run_unit, _label)
    assert good.record.exists() and not bad.record.exists() and not bad.output.exists()
    assert not _partials(root)
    assert pending([good, bad]) == [bad]
    run_serial(pending([good, bad]), run_unit, _label)
    assert bad.record.exists()


def test_a_unit_killed_late_leaves_the_old_output(root: Path, monkeypatch) -> None:
    (unit,) = _students(root, ["none"], [0])
    if not unit.record.exists():
        run_unit(unit)
    record, model = unit.record.read_bytes(), (unit.output / "model-best" / "meta.json").read_bytes()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(units_module, "_evaluate", killed)
    with pytest.raises(KeyboardInterrupt):
        run_unit(unit)
    assert unit.record.read_bytes() == record
    assert (unit.output / "model-best" / "meta.json").read_bytes() == model
    assert not _partials(root)


def test_an_override_equal_to_the_config_is_the_same_run(root: Path) -> None:
    run_serial(_students(root, ["none"], [0]), run_unit, _label)
    # configs/student-ner.cfg says dropout = 0.1 and patience = 1600
    same = _students(root, ["none"], [0], **{"training.dropout": 0.1, "training.patience": 1600})
    assert pending(same) == []


def test_a_baseline_is_the_same_run_whoever_the_teachers(root: Path) -> None:
    """Method `none` reads no teacher: naming other teachers neither refuses its record nor
    splits its report row."""
    run_serial(_students(root, ["none"], [0]), run_unit, _label)
    (elsewhere,) = student_units("ner", root, LANGS, [], ["none"], [0], overrides=TINY, teacher_variant="w32")
    assert elsewhere.overrides["distillation.cache_dir"].endswith("ner-teachers-w32")
    assert pending([elsewhere]) == []
    (seed_3,) = student_units("ner", root, LANGS, [], ["none"], [3], overrides=TINY, teacher_variant="w32")
    run_serial([seed_3], run_unit, _label)
    records = [json.loads((root / "results" / "ner" / "students" / "none" / f"seed-{seed}.json").read_text())
               for seed in (0, 3)]
    assert [record["teacher_variant"] for record in records] == ["default", "w32"]
    assert run_record.row_conflicts(records) == []
    # A KD student is another matter: its teachers are what it learnt.
    (taught,) = student_units("ner", root, LANGS, [], ["posterior"], [0], overrides=TINY, teacher_variant="w32")
    run_serial(_students(root, ["posterior"], [0]), run_unit, _label)
    with pytest.raises(ValueError, match=r"E405.*teachers: 'default' → 'w32'"):
        pending([taught])


def test_teacher_variants_teach_their_own_students(root: Path) -> None:
    default_teacher = root / "results" / "ner" / "teachers" / "es.json"
    before = default_teacher.read_bytes()
    wider = {**TINY, "components.tok2vec.model.encode.width": 48}
    run_serial(teacher_units("ner", root, LANGS, [], overrides=wider, variant="w48"), run_unit, _label)
    assert default_teacher.read_bytes() == before
    record = json.loads((root / "results" / "ner" / "teachers-w48" / "es.json").read_text())
    assert record["variant"] == "w48" and "teacher_variant" not in record
    assert record["overrides"]["components.tok2vec.model.encode.width"] == 48
    teachers = {lang: str(teacher_model(root, "ner", lang, "w48")) for lang in LANGS}
    assert all(Path(path).parent.parent.name == "teachers-w48" for path in teachers.values())
    cache = root / "kd-cache" / "ner"
    entries = sorted(cache.iterdir())
    annotate_teachers("ner", root, teachers, teacher_variant="w48")
    assert sorted(cache.iterdir()) == entries, "the default teachers' knowledge is kept"
    assert len(list((root / "kd-cache" / "ner-teachers-w48").glob("*.npz"))) == 2

    (unit,) = student_units("ner", root, LANGS, [], ["posterior"], [0], overrides=TINY,
                            variant="t48", teacher_variant="w48")
    assert unit.teachers == teachers and unit.label.endswith("(t48) (teachers w48)")
    run_serial([unit], run_unit, _label)
    student = json.loads(unit.record.read_text())
    assert student["teacher_variant"] == "w48" and student["variant"] == "t48"
    assert student["teacher_encoders"] == {"es": "cnn", "nl": "cnn"} and sorted(student["inputs"]["teachers"]) == LANGS
    saved = load_config(unit.output / "model-best" / "config.cfg", interpolate=False)
    assert saved["paths"]["teachers"] == teachers and "ner-teachers-w48" in saved.to_str()
    assert saved["distillation"]["teachers"] == {lang: f"${{paths.teachers.{lang}}}" for lang in LANGS}
    # The record names the teachers that taught, not the config's default ones…
    assert {k: v for k, v in student["settings"].items() if k.startswith("paths.teachers.")} == {
        f"paths.teachers.{lang}": path for lang, path in teachers.items()}
    assert pending([unit]) == []
    # …and one that named the default teachers (as before they were named) is still the
    # unit's own: teachers are known by their content and variant, not by their folders.
    stale_names = {**student, "settings": {**student["settings"], **{
        f"paths.teachers.{lang}": f"training/ner/teachers/{lang}/model-best" for lang in LANGS}}}
    unit.record.write_text(json.dumps(stale_names))
    assert pending([unit]) == []
    # The same student record must not pass for one taught by the default teachers…
    (default_taught,) = student_units("ner", root, LANGS, [], ["posterior"], [0], overrides=TINY, variant="t48")
    with pytest.raises(ValueError, match=r"E405.*teachers: 'w48' → 'default'"):
        pending([default_taught])
    # …and a (version-1) record from before teacher variants existed counts as the default teachers'.
    for key in ("teacher_variant", "settings", "inputs", "encoder", "teacher_encoders"):
        del student[key]
    student["version"] = 1
    student["overrides"]["distillation.cache_dir"] = default_taught.overrides["distillation.cache_dir"]
    unit.record.write_text(json.dumps(student))
    with pytest.warns(UserWarning, match="W401"):
        assert pending([default_taught]) == []
    with pytest.raises(ValueError, match=r"E405.*teachers: 'default' → 'w48'"):
        pending([unit])


@pytest.mark.parametrize("step", [["annotate", "ner"], ["distill", "ner", "--methods", "none posterior"]])
def test_steps_name_the_teachers_to_train_first(tmp_path: Path, step) -> None:
    corpus = tmp_path / "corpus" / "ner"
    (corpus / "train").mkdir(parents=True)
    (corpus / "dev").mkdir()
    (corpus / "test").mkdir()
    for lang in LANGS:
        (corpus / "test" / f"{lang}.spacy").touch()
    command = [sys.executable, "scripts/workflow.py", *step, "--root", str(tmp_path), "--langs", "es nl",
               "--teacher-variant", "w192"]
    out = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 1
    text = " ".join((out.stdout + out.stderr).split())
    assert f"No teacher model at {tmp_path}/training/ner/teachers-w192/es/model-best" in text
    assert "teachers ner --root" in text and "--variant w192" in text


def test_the_e5_teachers_to_train_first_are_named_as_the_user_gives_them(tmp_path: Path) -> None:
    """e5 teachers live under `<variant>-e5`, but the commands that train them take the
    variant untagged (they tag it again): the hint must not say `--variant w192-e5`."""
    command = [sys.executable, "scripts/workflow.py", "annotate", "ner", "--root", str(tmp_path),
               "--langs", "es nl", "--teacher-variant", "w192", "--encoder", "e5"]
    out = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 1
    text = " ".join((out.stdout + out.stderr).split())
    assert f"No teacher model at {tmp_path}/training/ner/teachers-w192-e5/es/model-best" in text
    assert "--vars.teacher_variant w192 --vars.encoder e5" in text
    assert "--variant w192 --encoder e5 --langs" in text


@pytest.mark.parametrize("step", [["teachers", "ner"], ["spacy", "ner"], ["distill", "ner", "--methods", "none"]])
def test_training_steps_name_the_convert_step_first(tmp_path: Path, step) -> None:
    """Without the converted corpus a step fails at once, naming the step that makes it,
    instead of every unit failing inside spaCy's corpus reader."""
    command = [sys.executable, "scripts/workflow.py", *step, "--root", str(tmp_path), "--langs", "es nl"]
    out = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 1
    text = " ".join((out.stdout + out.stderr).split())
    assert "[E407]" in text and f"{tmp_path}/corpus/ner/test/es.spacy" in text
    assert "spacy project run ner-convert" in text
    assert not (tmp_path / "training").exists()


@pytest.mark.parametrize("task,langs", [("ner", "es"), ("pos", "ta")])
def test_convert_without_the_raw_corpora_writes_nothing(tmp_path: Path, task: str, langs: str) -> None:
    """An empty corpus folder would satisfy the next step's dependency in project.yml."""
    command = [sys.executable, str(REPO / "scripts" / "workflow.py"), "convert", task, "--root", "out",
               "--langs", langs]
    out = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)  # no assets/ here
    assert out.returncode == 1
    text = " ".join((out.stdout + out.stderr).split())
    assert "corpus file(s) missing from assets/" in text and "spacy project run data" in text
    assert "Traceback" not in text
    assert not (tmp_path / "out").exists()


def test_records_hold_what_made_the_run(root: Path) -> None:
    """A record carries the run's whole config, the content hash of every corpus file and
    teacher it read (a baseline reads none), the languages it read and the encoders."""
    (unit,) = _students(root, ["none"], [0])
    if not unit.record.exists():
        run_unit(unit)
    record = json.loads(unit.record.read_text())
    assert record["version"] == 2 and record["encoder"] == "cnn"
    assert record["teacher_encoders"] == {} and record["inputs"]["teachers"] == {}
    assert record["settings"]["training.max_steps"] == 12
    assert record["settings"]["components.ner.factory"] == "crf_ner"
    corpus = record["inputs"]["corpus"]
    assert sorted(Path(path).relative_to(root).as_posix() for path in corpus) == [
        f"corpus/ner/{split}/{lang}.spacy" for split in ("dev", "test", "train") for lang in LANGS
    ]
    assert record["train_langs"] == LANGS


def test_a_retrained_teacher_is_the_recorded_model_byte_for_byte(
    shared_data: Path, tmp_path: Path, capsys
) -> None:
    """A teacher trained again (its model gone, as on a fresh machine) is the same model
    file for file, so the students that recorded its sha256 stay valid: the saved configs
    keep no path of the attempt's temporary folder. A retrain that differs says so (W442)."""
    for split, suffix, limit in (("train", "train", 60), ("dev", "testa", 30), ("test", "testb", 30)):
        out = tmp_path / "corpus" / "ner" / split / "es.spacy"
        out.parent.mkdir(parents=True, exist_ok=True)
        convert_corpus(shared_data / "conll2002" / f"esp.{suffix}", out, "es", limit=limit)
    units = teacher_units("ner", tmp_path, ["es"], [], overrides=TINY)
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        run_serial(units, run_unit, _label)
        (unit,) = units
        model = unit.output / "model-best"
        first = json.loads(unit.record.read_text())["model_sha256"]
        assert first == provenance.model_hash(model)
        for saved in (unit.output / "model-last", model):
            assert Config().from_disk(saved / "config.cfg", interpolate=False)["paths"]["log"] is None
        shutil.rmtree(unit.output)
        capsys.readouterr()
        run_serial(pending(units, need_model=True), run_unit, _label)
        assert "the same model-best as its record's, byte for byte" in capsys.readouterr().out
        assert json.loads(unit.record.read_text())["model_sha256"] == first
        _edit_record(unit.record, model_sha256="0" * 64)  # as if the recorded model were another
        shutil.rmtree(unit.output)
        run_serial(pending(units, need_model=True), run_unit, _label)
        out = " ".join(capsys.readouterr().out.split())
        assert "[W442] ner teacher es was trained again and its model-best differs" in out
        assert "(sha256 000000000000… →" in out and "(E431)" in out
    finally:
        os.chdir(cwd)


def _edit_record(path: Path, **changes) -> None:
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def test_a_new_seed_must_match_its_rows_records(root: Path) -> None:
    """The other seeds of a row are compared too, not only the same seed's record: a
    60-step seed 1 never joins a 12-step seed 0 in one mean."""
    run_serial(_students(root, ["none"], [0]), run_unit, _label)
    with pytest.raises(ValueError, match=r"E432.*seed 7.*seed-0.json.*training.max_steps: 12 → 13"):
        pending(_students(root, ["none"], [7], **{"training.max_steps": 13}))
    wider = {**TINY, "components.tok2vec.model.encode.width": 40}
    with pytest.raises(ValueError, match=r"E432.*teacher fr.*teachers/es.json.*encode.width: 32 → 40"):
        pending(teacher_units("ner", root, ["fr"], [], overrides=wider))


def test_records_do_not_outlive_their_corpus_or_teachers(root: Path, tmp_path: Path,
                                                          shared_data: Path) -> None:
    """Re-converting a corpus with another limit, or retraining a teacher, makes the runs
    that read the old ones redo-able only on purpose (E431 names the command)."""
    import shutil

    copy = tmp_path / "root"
    shutil.copytree(root, copy, symlinks=True)
    for path in (copy / "results").rglob("*.json"):  # records name their root's paths
        path.write_text(path.read_text().replace(str(root), str(copy)))
    run_serial(_students(copy, ["posterior"], [0]), run_unit, _label)
    assert pending(teacher_units("ner", copy, LANGS, [], overrides=TINY), need_model=True) == []
    meta = teacher_model(copy, "ner", "nl") / "meta.json"
    meta.write_text(meta.read_text().replace('"lang":', '"description":"retrained","lang":', 1))
    with pytest.raises(ValueError, match=r"E431.*teacher nl changed since.*rm -rf"):
        pending(_students(copy, ["posterior"], [0]))
    es_train = copy / "corpus" / "ner" / "train" / "es.spacy"
    convert_corpus(shared_data / "conll2002" / "esp.train", es_train, "es", limit=50)
    with pytest.raises(ValueError, match=r"E431.*corpus file .*train/es.spacy changed since"):
        pending(teacher_units("ner", copy, LANGS, [], overrides=TINY), need_model=True)


def test_annotating_some_languages_warns_of_no_other_languages_docs(root: Path) -> None:
    """A lane that annotates es (another lane does nl) neither reads nor warns about the
    nl docs as untaught (W303); its entries are the ones the full annotation made."""
    cache = knowledge_cache(root, "ner", "default")
    before = {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        annotate_teachers("ner", root, {"es": str(teacher_model(root, "ner", "es"))})
    assert not [w for w in caught if "W303" in str(w.message)], [str(w.message) for w in caught]
    assert before and {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()} == before


def test_a_student_trains_on_the_selected_languages_only(root: Path) -> None:
    """A student for some of the corpus folder's languages reads only their docs, records
    the languages it read, and never joins the row of a student of all of them."""
    (unit,) = student_units("ner", root, ["es"], [], ["none"], [0], overrides=TINY, variant="es")
    assert unit.overrides["corpora.train.languages"] == ["es"]
    assert unit.overrides["corpora.dev.languages"] == ["es"]
    run_serial([unit], run_unit, _label)
    record = json.loads(unit.record.read_text())
    assert record["train_langs"] == ["es"] and list(record["test"]["languages"]) == ["es"]
    assert record["settings"]["corpora.train.languages"] == ["es"]
    (both,) = student_units("ner", root, LANGS, [], ["none"], [3], overrides=TINY, variant="es")
    with pytest.raises(ValueError, match=r"E432.*training languages: \['es'\] → \['es', 'nl'\]"):
        pending([both])
    # A KD student of es only has no untaught nl docs to warn about (W303): it never reads them.
    (taught,) = student_units("ner", root, ["es"], [], ["posterior"], [0], overrides=TINY, variant="es")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_unit(taught)
    assert not [w for w in caught if "W303" in str(w.message)]
    assert json.loads(taught.record.read_text())["inputs"]["teachers"].keys() == {"es"}


def test_a_baseline_unit_reads_no_teacher(tmp_path: Path) -> None:
    """Method `none` learns from no teacher, so its unit names none: its record must not
    list whichever teacher models are on disk while it trains."""
    none, posterior = student_units("ner", tmp_path, LANGS, [], ["none", "posterior"], [0], overrides=TINY)
    assert none.teachers == {} and sorted(posterior.teachers) == sorted(LANGS)
