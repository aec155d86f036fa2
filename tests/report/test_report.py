"""The report from run records: mean ± std over seeds, rows, zero-shot, verdicts, figures."""
import json
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

from spacy_kdseq.report import load_report_data, render_markdown, verdicts
from spacy_kdseq.report.plot import plot_curves, plot_report, plot_speed
from spacy_kdseq.report.tables import best_on_dev
from spacy_kdseq.run_record import make_record, tagged_variant
from spacy_kdseq.workflow.records import machine_info, write_json_atomic

PNG = b"\x89PNG\r\n\x1a\n"


def _record(root: Path, rel: str, kind: str, name: str, scores: Dict[str, float], *,
            seed: int = 0, dev: float = 0.5, variant: str = "default", langs=("en", "ta"),
            teacher_variant=None, overrides=None) -> None:
    test = {"languages": {lang: {"pos_acc": v, "n_docs": 1, "n_words": 1} for lang, v in scores.items()}}
    training = {"max_steps": 100, "patience": 20, "eval_frequency": 10, "steps": 60, "best_step": 40,
                "best_dev": dev, "stopped_by": "patience", "wall_seconds": 120.0}
    overrides = overrides or {"training.patience": 20}
    record = make_record(task="pos", kind=kind, name=name, variant=variant, seed=seed,
                         train_langs=list(langs), overrides=overrides,
                         training=training, curve=[(0, 0.1), (40, dev), (60, dev - 0.01)], test=test,
                         teacher_variant=teacher_variant, code=("abc", False), machine=machine_info(),
                         settings={**overrides, "distillation.method": name} if kind == "student" else overrides)
    write_json_atomic(root / f"{rel}.json", record)


@pytest.fixture
def results(tmp_path: Path) -> Path:
    _record(tmp_path, "teachers/en", "teacher", "en", {"en": 0.95, "de": 0.30}, langs=["en"])
    _record(tmp_path, "teachers/ta", "teacher", "ta", {"ta": 0.80, "de": 0.40}, langs=["ta"])
    _record(tmp_path, "spacy/en", "spacy", "en", {"en": 0.94, "de": 0.20}, langs=["en"])
    _record(tmp_path, "spacy/ta", "spacy", "ta", {"ta": 0.78, "de": 0.25}, langs=["ta"])
    _record(tmp_path, "spacy/xx", "spacy", "xx", {"en": 0.93, "ta": 0.75, "de": 0.33})
    for seed, (en, ta) in enumerate([(0.90, 0.70), (0.92, 0.72)]):
        _record(tmp_path, f"students/none/seed-{seed}", "student", "none",
                {"en": en, "ta": ta, "de": 0.35}, seed=seed, dev=0.80)
    for seed, (en, ta) in enumerate([(0.95, 0.80), (0.96, 0.81)]):
        _record(tmp_path, f"students/structure/seed-{seed}", "student", "structure",
                {"en": en, "ta": ta, "de": 0.45}, seed=seed, dev=0.85)
    # A method better on test but worse on dev must never be picked as the best.
    _record(tmp_path, "students/topk/seed-0", "student", "topk", {"en": 0.99, "ta": 0.99, "de": 0.9}, dev=0.70)
    _record(tmp_path, "students-w64/structure/seed-0", "student", "structure",
            {"en": 0.90, "ta": 0.70, "de": 0.30}, dev=0.75, variant="w64")
    return tmp_path


def test_rows_in_paper_order_with_mean_and_std(results: Path) -> None:
    data = load_report_data(results, ["en", "ta"])
    assert [r.label for r in data.rows] == [
        "Teachers", "spaCy morphologizer, per language", "spaCy morphologizer, one xx model",
        "Baseline", "Top-K", "Structure",
    ]
    assert data.zero_shot == ["de"] and list(data.variants) == ["w64"]
    text = render_markdown(data)
    assert "| Teachers (2 models) | 1 | 95.00 | 80.00 | 87.50 |" in text
    # 2 seeds: en 90/92 → 91 ± 1.41; run averages 80 and 82 → 81 ± 1.41
    assert "| Baseline | 2 | 91.00 ± 1.41 | 71.00 ± 1.41 | 81.00 ± 1.41 |" in text
    assert "| spaCy morphologizer, one xx model | 1 | 93.00 | 75.00 | 84.00 |" in text


def test_zero_shot_uses_the_best_single_model(results: Path) -> None:
    text = render_markdown(load_report_data(results, ["en", "ta"]))
    zero = text[text.index("## Zero-shot"):text.index("## Verdicts")]
    assert "| Teachers (2 models) | 1 | 40.00 | 40.00 |" in zero
    assert "| spaCy morphologizer, per language (2 models) | 1 | 25.00 | 25.00 |" in zero
    assert "| Structure | 2 | 45.00 ± 0.00 | 45.00 ± 0.00 |" in zero


def test_verdicts_pick_the_best_method_on_dev(results: Path) -> None:
    lines = verdicts(load_report_data(results, ["en", "ta"]))
    text = "\n".join(lines)
    assert "best KD method on dev is Structure" in text and "Top-K" not in text
    assert "a gain of +7.00" in text and "spread: **yes**" in text
    # the gap to the teachers, reported (the paper's students stay 1.6–2.0 below theirs)
    assert "spread: **yes**. Against its teachers' Avg 87.50: +0.50." in text
    assert "vs N stock-spaCy models: Avg 88.00 ± 0.71 vs 86.00: at least as good: **yes**" in text
    assert "Zero-shot: Structure Avg 45.00 ± 0.00 vs the best single teacher's 40.00: +5.00" in text
    # no w64 baseline: no claim about the baseline, only the zero-shot one against the teachers
    assert not any(line.startswith("- **w64**") for line in lines)
    assert "- Zero-shot: **w64**: Structure Avg 30.00 vs the best single teacher's 40.00: -10.00" in text


def test_a_teacher_variant_shares_the_default_baseline(results: Path) -> None:
    for lang, score in (("en", 0.97), ("ta", 0.85)):
        _record(results, f"teachers-t192/{lang}", "teacher", lang, {lang: score}, langs=[lang], variant="t192")
    for seed, en in enumerate([0.97, 0.98]):
        _record(results, f"students-t192/posterior/seed-{seed}", "student", "posterior",
                {"en": en, "ta": 0.82}, seed=seed, dev=0.86, variant="t192", teacher_variant="t192",
                overrides={"training.patience": 20, "distillation.cache_dir": "kd-cache/pos-teachers-t192"})
    # Smaller students taught by them compare with the smaller baseline; settings that no
    # baseline has leave a variant without a comparison.
    small = {"training.patience": 20, "width": 64}
    _record(results, "students-w64/none/seed-0", "student", "none", {"en": 0.8, "ta": 0.6},
            variant="w64", overrides=small)
    _record(results, "students-w64t/posterior/seed-0", "student", "posterior", {"en": 0.9, "ta": 0.7},
            variant="w64t", teacher_variant="t192", overrides=small)
    _record(results, "students-w32t/posterior/seed-0", "student", "posterior", {"en": 0.9, "ta": 0.7},
            variant="w32t", teacher_variant="t192", overrides={"training.patience": 20, "width": 32})
    data = load_report_data(results, ["en", "ta"])
    assert data.baseline("t192") is data.baseline()
    assert data.baseline("w64t") is data.baseline("w64") and data.baseline("w64").variant == "w64"
    assert data.baseline("w32t") is None
    text = "\n".join(verdicts(data))
    assert ("**t192**: best KD method on dev is Posterior (2 seeds): Avg 89.75 ± 0.35 vs the "
            "baseline's (the default one: these students differ from its students only in their "
            "teachers) 81.00 ± 1.41 (2 seeds)") in text
    # measured against the teachers that taught them, not the default ones
    assert "spread: **yes**. Against its teachers' Avg 91.00: -1.25. On dev" in text
    # the usual teachers' best KD student, Structure, has dev 85.00 against their 86.00
    assert ("On dev (mean best dev score) it scores 86.00 ± 0.00 against 85.00 ± 0.00 for the default "
            "students' best, Structure: dev picks these teachers' students.") in text
    assert "**w64t**: best KD method on dev is Posterior (1 seed): Avg 80.00 vs the baseline's (the `w64` one" in text
    assert "**w32t**" not in text
    text = render_markdown(data)
    table = text.split("## Variant `t192`")[1].split("\n## ")[0]
    # the paper's shape in one table: teachers, the baseline they share (named), KD
    assert [line.split(" | ")[:2] for line in table.splitlines()[6:9]] == [
        ["| Teachers", "2"], ["| Baseline (default)", "2"], ["| Posterior", "2"]]
    assert "| Baseline (default) | 2 | 91.00 ± 1.41 | 71.00 ± 1.41 | 81.00 ± 1.41 |" in table
    # each row's training cost: the mean wall time of its runs (120 s each here)
    assert table.splitlines()[4].endswith("| minutes / run |")
    assert all(line.endswith("| 2.0 |") for line in table.splitlines()[6:9])
    assert "| Baseline (`w64`) | 1 |" in text.split("## Variant `w64t`")[1].split("\n## ")[0]
    assert "Baseline" not in text.split("## Variant `w32t`")[1].split("\n## ")[0]


def test_a_teacher_variant_inside_the_dev_spread_is_a_tie(results: Path) -> None:
    # Structure's two default seeds both have dev 0.85; these students lead by 0.5 with a
    # std of 1.41 over their own two seeds: a tie, so dev keeps the usual teachers.
    for seed, dev in enumerate([0.845, 0.865]):
        _record(results, f"students-t192/posterior/seed-{seed}", "student", "posterior",
                {"en": 0.97, "ta": 0.82}, seed=seed, dev=dev, variant="t192", teacher_variant="t192",
                overrides={"training.patience": 20, "distillation.cache_dir": "kd-cache/pos-teachers-t192"})
    text = "\n".join(verdicts(load_report_data(results, ["en", "ta"])))
    assert ("it scores 85.50 ± 1.41 against 85.00 ± 0.00 for the default students' best, Structure: "
            "a tie (+0.50, within the larger std 1.41): dev does not pick these teachers' students.") in text


def test_dev_chooses_on_the_seeds_the_methods_share(tmp_path: Path) -> None:
    # Posterior+Top-WK leads on seed 0, where the choice is made; its later seeds score
    # lower on dev, and their mean (0.86) falls below Posterior's one seed (0.87): the
    # seeds run because it was chosen must not undo the choice.
    for seed in range(3):
        _record(tmp_path, f"students/none/seed-{seed}", "student", "none", {"en": 0.5, "ta": 0.5},
                seed=seed, dev=0.80)
    _record(tmp_path, "students/posterior/seed-0", "student", "posterior", {"en": 0.9, "ta": 0.9}, dev=0.87)
    for seed, dev in enumerate([0.88, 0.85, 0.85]):
        _record(tmp_path, f"students/posterior+topwk/seed-{seed}", "student", "posterior+topwk",
                {"en": 0.8, "ta": 0.8}, seed=seed, dev=dev)
    data = load_report_data(tmp_path, ["en", "ta"])
    assert best_on_dev(data.students()).name == "posterior+topwk"
    assert "best KD method on dev is Pos.+Top-WK (3 seeds)" in "\n".join(verdicts(data))
    # with no seed in common, each method's mean over its own seeds
    (tmp_path / "students/posterior+topwk/seed-0.json").unlink()
    assert best_on_dev(load_report_data(tmp_path, ["en", "ta"]).students()).name == "posterior"


def test_one_seed_never_meets_the_spread_bar(tmp_path: Path) -> None:
    _record(tmp_path, "students/none/seed-0", "student", "none", {"en": 0.5, "ta": 0.5}, dev=0.5)
    _record(tmp_path, "students/posterior/seed-0", "student", "posterior", {"en": 0.9, "ta": 0.9}, dev=0.9)
    text = "\n".join(verdicts(load_report_data(tmp_path, ["en", "ta"])))
    assert "spread: **no** (needs ≥ 2 seeds each)" in text


def test_figures(results: Path, tmp_path: Path) -> None:
    data = load_report_data(results, ["en", "ta"])
    plot_report(data, tmp_path / "out" / "report.png")
    plot_curves(data, tmp_path / "out" / "curves.png")
    plot_speed(data, tmp_path / "out" / "speed.png")
    for name in ("report.png", "curves.png", "speed.png"):
        assert (tmp_path / "out" / name).read_bytes()[:8] == PNG


def test_empty_corrupt_or_mixed_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="E401"):
        load_report_data(tmp_path)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="E403"):
        load_report_data(tmp_path)
    (tmp_path / "bad.json").unlink()
    _record(tmp_path, "a", "student", "none", {"en": 0.5})
    record = json.loads((tmp_path / "a.json").read_text())
    record["task"] = "ner"
    (tmp_path / "b.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match="E404"):
        load_report_data(tmp_path)


def test_report_cli(results: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "spacy_kdseq", "report", str(results), "--languages", "en ta"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("report.md", "report.png", "curves.png", "speed.png"):
        assert (results / name).exists()


def test_runs_table_says_where_each_run_trained(results: Path) -> None:
    old = json.loads((results / "teachers/en.json").read_text())
    del old["machine"]  # records made before machines were recorded
    (results / "teachers/en.json").write_text(json.dumps(old))
    structure = json.loads((results / "students/structure/seed-0.json").read_text())
    structure["machine"] = {"cpu": "Test CPU", "cores": 16, "torch_threads": 1, "versions": {}}
    structure["training"]["cpu_seconds"] = 90.0
    (results / "students/structure/seed-0.json").write_text(json.dumps(structure))
    text = render_markdown(load_report_data(results, ["en", "ta"]))
    runs = text[text.index("| run | variant"):].splitlines()
    assert any(line.startswith("| teacher en |") and line.endswith("| 2.0 | – | abc | not recorded |")
               for line in runs), "a record without CPU seconds"
    assert any(line.startswith("| student structure | default | cnn | 0 |")
               and line.endswith("| 2.0 | 1.5 | abc | 16 cores, Test CPU, 1 thread |") for line in runs)
    cost = text[text.index("## Training cost"):text.index("## Runs")]
    keys = dict(part.split(": ", 1) for part in cost[cost.index("Machines: ") + 10:].split(". ")[0].split("; "))
    assert set(keys.values()) >= {"16 cores, Test CPU, 1 thread"}
    # Structure's seed 0 ran elsewhere: its ratio uses its seed 1, on the baseline's machine.
    structure = next(line for line in cost.splitlines() if line.startswith("| Structure |"))
    here = sorted(k for k, v in keys.items() if v != "not recorded")
    assert len(here) == 2 and structure.startswith(f"| Structure | 2 | {', '.join(here)} |")
    assert structure.endswith("| 1.00 |")  # the same wall time and steps as the baseline's


def test_runs_table_names_the_gpu_a_run_trained_on(results: Path) -> None:
    record = json.loads((results / "students/structure/seed-0.json").read_text())
    record["machine"] = {"cpu": "Test CPU", "cores": 16, "torch_threads": 4, "gpu": "Test GPU",
                         "versions": {}}
    (results / "students/structure/seed-0.json").write_text(json.dumps(record))
    text = render_markdown(load_report_data(results, ["en", "ta"]))
    runs = text[text.index("| run | variant"):].splitlines()
    assert any(line.startswith("| student structure | default | cnn | 0 |")
               and line.endswith("| 16 cores, Test CPU, 4 threads, GPU Test GPU |") for line in runs)
    # Resumed on the GPU after 40 steps on one CPU thread: both machines are named.
    record["training"]["resumed_from"] = [40]
    record["earlier_machines"] = [{"cpu": "Test CPU", "cores": 16, "torch_threads": 1, "versions": {}}]
    (results / "students/structure/seed-0.json").write_text(json.dumps(record))
    runs = render_markdown(load_report_data(results, ["en", "ta"])).splitlines()
    assert any(line.endswith("| 16 cores, Test CPU, 4 threads, GPU Test GPU; up to step 40: "
                             "16 cores, Test CPU, 1 thread |") for line in runs)
    # Its 2 minutes on the GPU are not averaged with seed 1's 2 minutes on the CPU.
    record["training"]["wall_seconds"] = 6.0
    (results / "students/structure/seed-0.json").write_text(json.dumps(record))
    text = render_markdown(load_report_data(results, ["en", "ta"]))
    cost = text[text.index("## Training cost"):text.index("## Runs")]
    assert "| 2.0 (GPU 0.1) |" in next(line for line in cost.splitlines() if line.startswith("| Structure |"))


def test_words_per_second_leaves_gpu_runs_out(results: Path) -> None:
    for seed, speed in enumerate([1000.0, 3000.0]):
        path = results / f"students/structure/seed-{seed}.json"
        record = json.loads(path.read_text())
        record["test"]["total"] = {"words_per_second": speed}
        path.write_text(json.dumps(record))
    row = next(r for r in load_report_data(results, ["en", "ta"]).rows if r.label == "Structure")
    assert row.words_per_second() == 2000.0
    record["machine"] = {"cpu": "Test CPU", "cores": 16, "torch_threads": 4, "gpu": "Test GPU",
                         "versions": {}}
    path.write_text(json.dumps(record))  # seed 1, 3000 words/s, now on a GPU
    row = next(r for r in load_report_data(results, ["en", "ta"]).rows if r.label == "Structure")
    assert len(row.records) == 2 and row.words_per_second() == 1000.0


def test_no_speed_ratio_across_machines(results: Path) -> None:
    for seed in (0, 1):
        path = results / f"students/structure/seed-{seed}.json"
        record = json.loads(path.read_text())
        record["machine"] = {"cpu": "Other CPU", "cores": 16, "torch_threads": 1, "versions": {}}
        path.write_text(json.dumps(record))
    cost = render_markdown(load_report_data(results, ["en", "ta"]))
    cost = cost[cost.index("## Training cost"):cost.index("## Runs")]
    structure = next(line for line in cost.splitlines() if line.startswith("| Structure |"))
    assert structure.endswith("| – |")


def _edit(path: Path, **changes) -> None:
    record = json.loads(path.read_text())
    for key, value in changes.items():
        if "." in key:
            section, sub = key.split(".", 1)
            record[section][sub] = value
        else:
            record[key] = value
    path.write_text(json.dumps(record))


@pytest.mark.parametrize("what,changes", [
    ("settings", {"settings": {"training.patience": 20, "training.max_steps": 60,
                               "distillation.method": "structure"}}),
    ("corpus file", {"inputs": {"corpus": {"corpus/pos/train/en.spacy": "f" * 64}, "teachers": {}}}),
    ("training languages", {"train_langs": ["en"]}),
    ("encoder", {"encoder": "assets/encoders/e5-small"}),
    ("teachers", {"teacher_variant": "t192"}),
    ("teacher corpus", None),
])
def test_a_row_refuses_records_made_differently(results: Path, what: str, changes) -> None:
    """Two seeds of one row that differ in settings, corpus, languages, encoder or teachers
    never pool into one mean: the report names the row and the difference."""
    seed0, seed1 = results / "students/structure/seed-0.json", results / "students/structure/seed-1.json"
    if changes is None:  # the same corpus path, read with other contents by another teacher
        what = "corpus file"
        _edit(results / "teachers/en.json", inputs={"corpus": {"test/de.spacy": "a" * 64}, "teachers": {}})
        _edit(results / "teachers/ta.json", inputs={"corpus": {"test/de.spacy": "b" * 64}, "teachers": {}})
    else:
        _edit(seed0, inputs={"corpus": {"corpus/pos/train/en.spacy": "e" * 64}, "teachers": {}})
        _edit(seed1, **changes)
    load_report_data(results / "students/none", ["en", "ta"])  # other rows are untouched
    with pytest.raises(ValueError, match=r"E430.*" + what):
        load_report_data(results, ["en", "ta"])


def test_baseline_seeds_pool_whatever_teacher_models_were_on_disk(results: Path) -> None:
    """A baseline reads no teacher: teacher models that merely existed while one seed trained
    (recorded so before the workflow stopped naming them) never split its row."""
    _edit(results / "students/none/seed-0.json", teacher_encoders={"en": "assets/encoders/e5-small"},
          inputs={"corpus": {}, "teachers": {"en": "a" * 64}})
    _edit(results / "students/none/seed-1.json", teacher_encoders={},
          inputs={"corpus": {}, "teachers": {"en": "b" * 64}})
    data = load_report_data(results, ["en", "ta"])
    assert data.baseline().average(["en", "ta"], "pos_acc").n == 2
    # a KD student's teachers still must agree
    _edit(results / "students/structure/seed-1.json", teacher_encoders={"en": "assets/encoders/e5-small"})
    with pytest.raises(ValueError, match=r"E430.*teacher encoders"):
        load_report_data(results, ["en", "ta"])


def test_a_row_of_records_made_the_same_way_pools(results: Path) -> None:
    for seed in (0, 1):
        _edit(results / f"students/structure/seed-{seed}.json",
              inputs={"corpus": {"corpus/pos/train/en.spacy": "e" * 64}, "teachers": {"en": "t" * 64}})
    data = load_report_data(results, ["en", "ta"])
    assert next(r for r in data.rows if r.name == "structure").average(["en", "ta"], "pos_acc").n == 2


def test_the_report_names_the_encoders_of_students_and_teachers(results: Path) -> None:
    for seed in (0, 1):
        _record(results, f"students-te5/posterior/seed-{seed}", "student", "posterior",
                {"en": 0.97, "ta": 0.85, "de": 0.5}, seed=seed, variant="te5", teacher_variant="e5")
        _edit(results / f"students-te5/posterior/seed-{seed}.json",
              teacher_encoders={"en": "assets/encoders/e5-small", "ta": "assets/encoders/e5-small"})
    _record(results, "students-e5/posterior/seed-0", "student", "posterior",
            {"en": 0.98, "ta": 0.86, "de": 0.6}, variant="e5", teacher_variant="e5")
    _edit(results / "students-e5/posterior/seed-0.json", encoder="assets/encoders/e5-small",
          teacher_encoders={"en": "assets/encoders/e5-small", "ta": "assets/encoders/e5-small"})
    text = render_markdown(load_report_data(results, ["en", "ta"]))
    assert "Encoder: cnn.\n" in text  # the main table: CNN students of CNN teachers
    te5 = text[text.index("## Variant `te5`"):]
    assert te5.split("\n")[2].startswith("Encoder: cnn; teachers' encoder: e5-small.")
    e5 = text[text.index("## Variant `e5`"):]
    assert e5.split("\n")[2].startswith("Encoder: e5-small; teachers' encoder: e5-small.")
    assert any(line.startswith("| student posterior | e5 | e5-small | 0 |") for line in text.splitlines())


def test_a_variant_section_has_the_paper_shaped_tables(results: Path) -> None:
    """Per language and zero-shot, as for the main rows: a variant's teachers against its
    students (the e5 experiment's table), the zero-shot teacher cell the best per language."""
    _record(results, "teachers-e5/en", "teacher", "en", {"en": 0.97, "de": 0.80}, variant="e5", langs=["en"])
    _record(results, "teachers-e5/ta", "teacher", "ta", {"ta": 0.86, "de": 0.70}, variant="e5", langs=["ta"])
    _record(results, "students-e5/none/seed-0", "student", "none", {"en": 0.96, "ta": 0.84, "de": 0.85},
            variant="e5")
    text = render_markdown(load_report_data(results, ["en", "ta"]))
    e5 = text[text.index("## Variant `e5`"):].split("\n## ")[0]
    per_language = e5[e5.index("Per language:"):e5.index("Zero-shot:")].splitlines()
    assert "| Teachers (2 models) | 1 | 97.00 | 86.00 | 91.50 |" in per_language
    assert "| Baseline | 1 | 96.00 | 84.00 | 90.00 |" in per_language
    zero = e5[e5.index("Zero-shot:"):].splitlines()
    assert "| Teachers (2 models) | 1 | 80.00 | 80.00 |" in zero and "| Baseline | 1 | 85.00 | 85.00 |" in zero
    # every variant gets them, from its own rows
    w64 = text[text.index("## Variant `w64`"):].split("\n## ")[0]
    assert "Per language:" in w64 and "| Structure | 1 | 90.00 | 70.00 | 80.00 |" in w64
    assert "| Structure | 1 | 30.00 | 30.00 |" in w64


def test_the_zero_shot_verdict_of_a_variant_compares_with_its_own_teachers(results: Path) -> None:
    """The e5 students against the e5 teachers, not the CNN ones; with the baseline beside."""
    _record(results, "teachers-e5/en", "teacher", "en", {"en": 0.97, "de": 0.80}, variant="e5", langs=["en"])
    _record(results, "teachers-e5/ta", "teacher", "ta", {"ta": 0.86, "de": 0.70}, variant="e5", langs=["ta"])
    for seed, de in enumerate([0.83, 0.85]):
        _record(results, f"students-e5/none/seed-{seed}", "student", "none", {"en": 0.96, "ta": 0.84, "de": de},
                seed=seed, variant="e5")
        _record(results, f"students-e5/posterior/seed-{seed}", "student", "posterior",
                {"en": 0.96, "ta": 0.84, "de": de + 0.02}, seed=seed, dev=0.9, variant="e5", teacher_variant="e5")
    text = "\n".join(verdicts(load_report_data(results, ["en", "ta"])))
    assert ("- Zero-shot: **e5**: Posterior Avg 86.00 ± 1.41 vs the best single teacher's 80.00: +6.00; "
            "at least +2.00: **yes**. The baseline's Avg: 84.00 ± 1.41.") in text
    for seed in (0, 1):  # on the e5 encoder, the student must also reach 85 on average
        _edit(results / f"students-e5/posterior/seed-{seed}.json", encoder="assets/encoders/e5-small")
    text = "\n".join(verdicts(load_report_data(results, ["en", "ta"])))
    assert ("at least +2.00: **yes**. Avg at least 85.00 (a pretrained encoder's bar): **yes**. "
            "The baseline's Avg") in text
    for seed in (0, 1):  # +3.00 over the teachers, but 83 on average
        path = results / f"students-e5/posterior/seed-{seed}.json"
        test = json.loads(path.read_text())["test"]
        test["languages"]["de"]["pos_acc"] = 0.83
        _edit(path, test=test)
    text = "\n".join(verdicts(load_report_data(results, ["en", "ta"])))
    assert ("Posterior Avg 83.00 ± 0.00 vs the best single teacher's 80.00: +3.00; at least +2.00: **yes**. "
            "Avg at least 85.00 (a pretrained encoder's bar): **no**.") in text
    # the default students still compare with the default (CNN) teachers
    assert "- Zero-shot: Structure Avg 45.00 ± 0.00 vs the best single teacher's 40.00: +5.00" in text


def test_the_speed_table_gives_every_row_its_encoder_score_and_words_per_second(results: Path) -> None:
    for seed, speed in ((0, 1000.0), (1, 3000.0)):
        _edit(results / f"students/none/seed-{seed}.json",
              test={**json.loads((results / f"students/none/seed-{seed}.json").read_text())["test"],
                    "total": {"n_docs": 1, "n_words": 1, "words_per_second": speed}})
    text = render_markdown(load_report_data(results, ["en", "ta"]))
    table = text[text.index("## Size and speed"):].splitlines()
    assert "| Baseline | default | cnn | 2 | 81.00 ± 1.41 | 2,000 |" in table
    assert "| Structure | w64 | cnn | 1 | 80.00 | – |" in table


def test_cnn_students_of_e5_teachers_share_the_recorded_cnn_baseline(results: Path) -> None:
    """The CNN baseline learns from no teacher, so the version-1 baseline records made
    before e5 teachers existed are the baseline of the CNN students those teachers teach."""
    for seed in (0, 1):
        path = results / f"students/none/seed-{seed}.json"
        record = json.loads(path.read_text())
        for key in ("settings", "inputs", "encoder", "teacher_encoders"):
            del record[key]
        record["version"] = 1
        path.write_text(json.dumps(record))
        _record(results, f"students-te5/posterior/seed-{seed}", "student", "posterior",
                {"en": 0.97, "ta": 0.85, "de": 0.5}, seed=seed, variant="te5", teacher_variant="e5")
    data = load_report_data(results, ["en", "ta"])
    assert data.baseline("te5") is data.baseline() and data.baseline().variant == "default"
    # A setting the baseline overrode and the student left at the config's own value is
    # the same setting; another value, or one a version-1 record cannot tell, is not.
    for seed in (0, 1):
        _edit(results / f"students-te5/posterior/seed-{seed}.json", overrides={})
    assert load_report_data(results, ["en", "ta"]).baseline("te5").variant == "default"
    for changes in ({"settings.training.patience": 30},
                    {"overrides": {"training.patience": 20, "training.dropout": 0.1}}):
        for seed in (0, 1):
            _edit(results / f"students-te5/posterior/seed-{seed}.json", **changes)
        assert load_report_data(results, ["en", "ta"]).baseline("te5") is None


def test_e5_variant_names_are_the_ones_the_report_reads() -> None:
    """The workflow names e5 runs with `tagged_variant`; the report and the size benchmark
    find the CNN students of e5 teachers at each width by the same names."""
    assert tagged_variant("default", "e5") == "e5" and tagged_variant("default", "te5") == "te5"
    assert tagged_variant("w64", "te5") == "w64-te5"
