"""scripts/results_doc.py: docs/results.md's generated blocks come from the reports."""
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "scripts" / "results_doc.py"

REPORT = """# NER results

Intro.

| | runs | es | Avg |
|---|---:|---:|---:|
| Baseline | 3 | 77.77 ± 0.48 | 77.77 ± 0.48 |

## Verdicts

- Not enough runs yet.

## Training cost

| | runs |
|---|---:|
| Baseline | 3 |

## Variant `w64-te5`

Encoder: cnn.

| | runs | es | Avg |
|---|---:|---:|---:|
| Posterior | 3 | 78.00 ± 0.10 | 78.00 ± 0.10 |
"""

DOC = """# Results

Hand-written text.

<!-- report ner main -->
old table
<!-- /report ner main -->

Between.

<!-- report ner verdicts -->
<!-- /report ner verdicts -->

<!-- report ner variant-w64-te5 -->
<!-- /report ner variant-w64-te5 -->

<!-- report pos main -->
kept: no POS report
<!-- /report pos main -->
"""


def _run(doc: Path, results: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(doc), "--results", str(results)],
                          capture_output=True, text=True)


def test_blocks_are_replaced_and_the_prose_kept(tmp_path: Path) -> None:
    (tmp_path / "results" / "ner").mkdir(parents=True)
    (tmp_path / "results" / "ner" / "report.md").write_text(REPORT)
    doc = tmp_path / "results.md"
    doc.write_text(DOC)
    result = _run(doc, tmp_path / "results")
    assert result.returncode == 0, result.stderr
    text = doc.read_text()
    assert "old table" not in text and "| Baseline | 3 | 77.77 ± 0.48 | 77.77 ± 0.48 |" in text
    assert "<!-- report ner verdicts -->\n- Not enough runs yet.\n<!-- /report ner verdicts -->" in text
    # a variant's section, by its name
    assert ("<!-- report ner variant-w64-te5 -->\nEncoder: cnn.\n\n| | runs | es | Avg |\n|---|---:|---:|---:|\n"
            "| Posterior | 3 | 78.00 ± 0.10 | 78.00 ± 0.10 |\n<!-- /report ner variant-w64-te5 -->") in text
    assert "Hand-written text." in text and "Between." in text
    assert "kept: no POS report" in text and "pos-report step" in result.stdout
    assert _run(doc, tmp_path / "results").returncode == 0 and doc.read_text() == text  # idempotent


def test_a_block_the_report_lacks_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "results" / "ner").mkdir(parents=True)
    (tmp_path / "results" / "ner" / "report.md").write_text(REPORT)
    doc = tmp_path / "results.md"
    doc.write_text("<!-- report ner zero-shot -->\n<!-- /report ner zero-shot -->\n")
    result = _run(doc, tmp_path / "results")
    assert result.returncode != 0 and "no 'zero-shot' section" in result.stderr
