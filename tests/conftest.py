"""Fixtures shared by all test packages."""
import os
from pathlib import Path
from typing import List

import pytest

# KDSEQ_SHARED_DATA points elsewhere, e.g. on CI machines with another layout.
SHARED_DATA = Path(
    os.environ.get("KDSEQ_SHARED_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real corpora in ../shared/data; tests using them skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real corpora not found at {SHARED_DATA} (see shared/data/README.md)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_bert():
    """Builds a 2-layer, 32-wide random BERT whose WordPiece vocabulary is `words`, saved
    as a Hugging Face directory at `path` (tests using it skip without the extra)."""
    pytest.importorskip("spacy_transformers")
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    def build(words: List[str], path: Path) -> Path:
        specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        vocab = specials + sorted(set(words) - set(specials))
        path.mkdir(parents=True)
        (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf8")
        tokenizer = BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=False)
        tokenizer.save_pretrained(path)
        config = BertConfig(
            vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
            intermediate_size=64, max_position_embeddings=512,
        )
        torch.manual_seed(0)
        BertModel(config).save_pretrained(path)
        return path

    return build
