"""What importing the package costs: nothing heavy until a command needs it."""
import subprocess
import sys

import pytest


def _loaded(statement: str, modules) -> list:
    code = f"import sys; {statement}; print(' '.join(m for m in {list(modules)!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()


@pytest.mark.parametrize("statement", [
    "import spacy_kdseq",
    "from spacy_kdseq.distill.methods import METHODS",
    "from spacy_kdseq.distill.settings import parse_settings",
    "import spacy_kdseq.errors",
])
def test_light_modules_import_neither_torch_nor_spacy(statement):
    assert _loaded(statement, ["torch", "spacy", "matplotlib"]) == []


def test_cli_leaves_distillation_and_transformers_to_the_commands():
    heavy = ["spacy_kdseq.distill.losses", "spacy_kdseq.distill.train", "spacy_kdseq.evaluation",
             "spacy_transformers", "transformers", "matplotlib"]
    assert _loaded("import spacy_kdseq.cli", heavy) == []


def test_a_run_imports_everything_it_will_run_when_it_starts():
    """Hours later, at its final evaluation, nothing is imported from a changed checkout:
    the compiled CRF kernels (imported on first use elsewhere) included."""
    pytest.importorskip("numba")
    needed = ["spacy_kdseq.distill.train", "spacy_kdseq.evaluation", "spacy_kdseq.crf._numba"]
    assert _loaded("import spacy_kdseq.workflow.units", needed) == needed
    assert _loaded("import spacy_kdseq.crf", ["spacy_kdseq.crf._numba", "numba"]) == []
