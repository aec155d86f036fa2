"""scripts/check_smoke.py --e5: what it requires of the smoke-e5 outputs."""
import json
from pathlib import Path

import pytest
import spacy

from _scripts import load_script

ENCODER = Path("assets/encoders/e5-small")
LANGS = ["es", "nl"]


@pytest.fixture(scope="module")
def check_smoke():
    return load_script("check_smoke")


def _record(path: Path, variant: str, encoder: str, teacher_encoders=None) -> None:
    record = {"variant": variant, "encoder": encoder, "training": {"steps": 6}, "curve": [[3, 0.1]],
              "test": {"languages": {lang: {"ents_f": 0.1} for lang in LANGS}}}
    if teacher_encoders is not None:
        record["teacher_encoders"] = teacher_encoders
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record), encoding="utf8")


def _e5_records(root: Path) -> Path:
    results = root / "results" / "ner"
    taught = {lang: str(ENCODER) for lang in LANGS}
    for lang in LANGS:
        _record(results / "teachers-e5" / f"{lang}.json", "e5", str(ENCODER))
    _record(results / "students-e5" / "posterior" / "seed-0.json", "e5", str(ENCODER), taught)
    _record(results / "students-te5" / "posterior" / "seed-0.json", "te5", "cnn", taught)
    return results


def test_e5_records_as_the_workflow_writes_them_pass(check_smoke, tmp_path):
    _e5_records(tmp_path)
    assert check_smoke.check_e5_records(tmp_path, LANGS, ["posterior"], ENCODER) == []


def test_e5_records_wrong_encoder_missing_run_and_bad_score_fail(check_smoke, tmp_path):
    results = _e5_records(tmp_path)
    # a CNN student recorded as taught by CNN teachers
    _record(results / "students-te5" / "posterior" / "seed-0.json", "te5", "cnn",
            {lang: "cnn" for lang in LANGS})
    (results / "teachers-e5" / "nl.json").unlink()
    record = json.loads((results / "teachers-e5" / "es.json").read_text(encoding="utf8"))
    record["test"]["languages"]["es"]["ents_f"] = 1.5
    (results / "teachers-e5" / "es.json").write_text(json.dumps(record), encoding="utf8")
    errors = check_smoke.check_e5_records(tmp_path, LANGS, ["posterior"], ENCODER)
    assert len(errors) == 3
    assert any("students-te5" in e and "teacher_encoders" in e for e in errors)
    assert any(e.startswith("missing:") and e.endswith("nl.json") for e in errors)
    assert any("outside [0, 1]" in e for e in errors)


def test_e5_report_needs_both_variant_tables_naming_encoders(check_smoke, tmp_path):
    report = tmp_path / "report.md"
    e5 = "## Variant `e5`\n\nEncoder: e5-small; teachers' encoder: e5-small. Chosen…\n"
    te5 = "## Variant `te5`\n\nEncoder: cnn; teachers' encoder: e5-small. Chosen…\n"
    report.write_text(e5 + "\n" + te5, encoding="utf8")
    assert check_smoke.check_e5_report(report, ENCODER) == []
    report.write_text(e5 + "\n" + te5.replace("e5-small", "cnn"), encoding="utf8")
    errors = check_smoke.check_e5_report(report, ENCODER)
    assert len(errors) == 1 and "'te5'" in errors[0]


def test_unreachable_renames_an_absolute_encoder_and_restores_it(check_smoke, tmp_path):
    encoder = tmp_path / "e5-small"
    encoder.mkdir()
    (encoder / "config.json").write_text("{}", encoding="utf8")
    with check_smoke.unreachable(str(encoder)) as cwd:
        assert not encoder.exists() and cwd.is_dir() and not any(cwd.iterdir())
    assert (encoder / "config.json").exists()
    with pytest.raises(RuntimeError):
        with check_smoke.unreachable(str(encoder)):
            raise RuntimeError("a failed load")
    assert (encoder / "config.json").exists()


def test_unreachable_leaves_a_relative_encoder_in_place(check_smoke):
    with check_smoke.unreachable(str(ENCODER)) as cwd:
        assert not (cwd / ENCODER).exists()


def test_offline_load_in_a_fresh_process(check_smoke, tmp_path):
    nlp = spacy.blank("xx")
    nlp.add_pipe("ner").add_label("PER")
    nlp.initialize()
    nlp.to_disk(tmp_path / "model")
    assert check_smoke.check_e5_loads(tmp_path / "model") == []
    assert check_smoke.check_e5_loads(tmp_path / "absent") == [f"missing: {tmp_path / 'absent'}"]
