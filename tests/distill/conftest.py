"""Session fixtures: slices of CoNLL-2002 es+nl and UD Tamil, tiny teachers trained here."""
from pathlib import Path

import pytest
import torch
from spacy.cli.train import train as spacy_train

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CONFIGS = Path(__file__).resolve().parents[2] / "configs"
N_SENTS = 150
TINY = {
    "components.tok2vec.model.encode.width": 48,
    "components.tok2vec.model.encode.depth": 2,
    "training.eval_frequency": 1000,
    "training.batcher.size.start": 600,
    "training.batcher.size.stop": 600,
}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Run torch single-threaded: on a shared 2-core machine OpenMP's spinning threads
    make each small CRF step up to 100× slower (measured 16 ms vs 0.15 ms per logsumexp)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _train(config: str, train: Path, output: Path, steps: int) -> Path:
    overrides = {**TINY, "paths.train": str(train), "paths.dev": str(train),
                 "training.max_steps": steps}
    spacy_train(CONFIGS / config, output, overrides=overrides)
    # model-best is chosen at step 0 when eval_frequency > max_steps; use the trained one
    return output / "model-last"


@pytest.fixture(scope="session")
def kd_data(tmp_path_factory):
    """Corpus dir with es+nl train slices, NER teachers per language, a POS teacher."""
    if not (DATA / "conll2002" / "esp.train").exists():
        pytest.skip(f"real corpora not found in {DATA}")
    from spacy_kdseq.corpora import convert_corpus

    root = tmp_path_factory.mktemp("kd")
    corpus = root / "corpus"
    corpus.mkdir()
    teachers = {}
    for lang, name in (("es", "esp.train"), ("nl", "ned.train")):
        convert_corpus(DATA / "conll2002" / name, corpus / f"{lang}.spacy", lang, limit=N_SENTS)
        teachers[lang] = _train("teacher-ner.cfg", corpus / f"{lang}.spacy", root / f"teacher-{lang}", 30)
    ta = root / "ta.spacy"
    convert_corpus(DATA / "ud" / "UD_Tamil-TTB" / "ta_ttb-ud-train.conllu", ta, "ta", limit=30)
    pos_teacher = _train("teacher-pos.cfg", ta, root / "teacher-ta", 2)
    return {"root": root, "corpus": corpus, "teachers": teachers, "pos_teacher": pos_teacher}
