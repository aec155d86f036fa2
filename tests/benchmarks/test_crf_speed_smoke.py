"""`benchmarks/crf_speed.py --quick` runs and writes only its own section."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_keeps_other_sections(tmp_path):
    out = tmp_path / "benchmarks.md"
    # An old "CRF kernels" section is replaced, the other sections survive.
    out.write_text("# Benchmarks\n\n## CRF kernels\n\nold table\n\n## Other\n\nkeep me\n")
    cmd = [sys.executable, str(ROOT / "benchmarks" / "crf_speed.py"), "--quick", "--output", str(out)]
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, timeout=60)
    text = out.read_text()
    assert text.count("## CRF kernels") == 1 and "old table" not in text
    assert "## Other\n\nkeep me" in text
    assert "| 2 | 6 | 3 |" in text and "Targets:" in text
