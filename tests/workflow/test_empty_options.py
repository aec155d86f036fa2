"""An empty list option (`--vars.methods ""`) is an error, not a step that runs nothing and exits 0."""
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("args,option", [
    (["distill", "ner", "--langs", "es nl", "--methods", ""], "methods"),
    (["distill", "ner", "--langs", "es nl", "--methods", "none", "--seeds", " "], "seeds"),
    (["teachers", "pos", "--langs", " "], "langs"),
])
def test_an_empty_option_fails_naming_it(tmp_path, args, option):
    result = subprocess.run(
        [sys.executable, "scripts/workflow.py", *args, "--root", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True,
    )
    output = " ".join(result.stdout.split())
    assert result.returncode == 1, output
    assert f"[E408] --{option} is empty" in output and "with `spacy project run`, --vars." in output
    assert not any(tmp_path.iterdir())
