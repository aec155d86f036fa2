import json
import subprocess
import sys
from pathlib import Path

import pytest

from spacy_kdseq.report import ROWS, load_report_data, plot_report, render_markdown


def _write(path: Path, task: str, model: str, scores: dict, metric: str) -> None:
    data = {
        "model": model,
        "task": task,
        "languages": {lang: {metric: value, "n_docs": 1, "n_words": 1} for lang, value in scores.items()},
    }
    path.write_text(json.dumps(data), encoding="utf8")


@pytest.fixture
def pos_metrics(tmp_path: Path) -> Path:
    _write(tmp_path / "teacher-en.json", "pos", "t-en", {"en": 0.95, "de": 0.30}, "pos_acc")
    _write(tmp_path / "teacher-ta.json", "pos", "t-ta", {"ta": 0.80, "de": 0.40}, "pos_acc")
    for i, (_, method) in enumerate(ROWS[1:]):
        _write(tmp_path / f"student-{method}.json", "pos", method,
               {"en": 0.90 + i / 100, "ta": 0.70 + i / 100, "de": 0.35}, "pos_acc")
    (tmp_path / "timings.json").write_text(json.dumps({"none": 10.0, "structure": 12.0}))
    return tmp_path


def test_tables_have_every_row_language_and_average(pos_metrics: Path) -> None:
    data = load_report_data(pos_metrics, ["en", "ta"])
    assert data.rows == [label for label, _ in ROWS]
    assert data.zero_shot == ["de"]
    assert data.zero_scores["Teachers"]["de"] == pytest.approx(0.40)
    text = render_markdown(data)
    assert "| Teachers | 95.00 | 80.00 | 87.50 |" in text
    assert "| Baseline | 90.00 | 70.00 | 80.00 |" in text
    assert "| Structure | 96.00 | 76.00 | 86.00 |" in text
    assert "## Zero-shot" in text and "| Pos.+Top-WK | 35.00 | 35.00 |" in text
    assert "| Structure | 12.0 | 1.20 |" in text


def test_plot_writes_png(pos_metrics: Path, tmp_path: Path) -> None:
    out = tmp_path / "plot" / "report.png"
    plot_report(load_report_data(pos_metrics), out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_language_is_an_error(pos_metrics: Path) -> None:
    with pytest.raises(ValueError, match="E402.*'fr'"):
        load_report_data(pos_metrics, ["en", "fr"])


def test_empty_or_corrupt_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="E401"):
        load_report_data(tmp_path)
    (tmp_path / "student-none.json").write_text("{not json")
    with pytest.raises(ValueError, match="E403"):
        load_report_data(tmp_path)


def test_report_cli(pos_metrics: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "spacy_kdseq", "report", str(pos_metrics), "--languages", "en ta"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (pos_metrics / "report.md").exists() and (pos_metrics / "report.png").exists()
