"""`benchmarks/e5_speed.py` runs end to end on a tiny BERT and writes only its own section."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORDS = "El Real Madrid juega en Madrid contra el Barcelona . de la que y a los".split()


def test_tiny_run_keeps_other_sections(shared_data, tiny_bert, tmp_path):
    bert = tiny_bert(WORDS, tmp_path / "tiny-bert")
    out = tmp_path / "benchmarks.md"
    out.write_text("# Benchmarks\n\n## multilingual-e5-small\n\nold table\n\n## Other\n\nkeep me\n")
    cmd = [
        sys.executable, str(ROOT / "benchmarks" / "e5_speed.py"), "--encoder", str(bert),
        "--data", str(shared_data), "--rounds", "1", "--steps", "1", "--warmup-steps", "1",
        "--train-docs", "300", "--infer-docs", "20", "--chunk", "10", "--batch-size", "300",
        "--output", str(out),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert text.count("## multilingual-e5-small") == 1 and "old table" not in text
    assert "## Other\n\nkeep me" in text
    for row in ("| e5 + crf_ner |", "| e5 + crf_ner, unfrozen |", "| plain fine-tune | ",
                "| e5 teacher (crf_ner) |", "| CNN student, width 32 |"):
        assert row in text
    assert "e5 + crf_ner training" in text and "(bar ≥ 0.8×)" in text
