"""`spacy train` the teacher configs on real corpus slices, then load them in a fresh process.

Each test converts a slice of a real corpus with spaCy's converters, trains for a few steps
through the CLI and checks that `spacy.load` + `nlp.pipe` work in a new Python process
without `--code` (the factories come from the package's entry points).
"""
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
from spacy.tokens import DocBin
from spacy.training.converters import conll_ner_to_docs, conllu_to_docs
from thinc.api import Config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def _run(args: List[str], cwd: Path) -> str:
    proc = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=ENV, capture_output=True, text=True
    )
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _slice(src: Path, dst: Path, n_sents: int) -> Path:
    """The first `n_sents` blank-line separated sentences of `src`."""
    blocks = src.read_text(encoding="utf8").split("\n\n")[:n_sents]
    dst.write_text("\n\n".join(blocks) + "\n", encoding="utf8")
    return dst


def _convert(src: Path, converter: str) -> Path:
    """What `spacy convert -c <converter> -n 1` writes, without a subprocess."""
    convert = {"ner": conll_ner_to_docs, "conllu": conllu_to_docs}[converter]
    docs = convert(src.read_text(encoding="utf8"), n_sents=1, no_print=True)
    output = src.with_suffix(".spacy")
    DocBin(docs=docs).to_disk(output)
    return output


def _train(config: Path, tmp: Path, train: Path, dev: Path, *overrides: str) -> Path:
    output = tmp / "model"
    _run(
        [
            "-m", "spacy", "train", str(config), "--output", str(output),
            "--paths.train", str(train), "--paths.dev", str(dev),
            "--training.max_steps", "40", "--training.eval_frequency", "20", *overrides,
        ],
        tmp,
    )
    return output / "model-last"


LOAD_AND_RUN = """
import json, sys, spacy
nlp = spacy.load(sys.argv[1])
texts = ["", "Madrid", "El Real Madrid juega en Madrid contra el Barcelona .", "word " * 300]
docs = list(nlp.pipe(texts, batch_size=2))
print(json.dumps({
    "factories": [nlp.get_pipe_meta(name).factory for name in nlp.pipe_names],
    "lengths": [len(doc) for doc in docs],
    "ents": [[e.label_ for e in doc.ents] for doc in docs],
    "pos": [[t.pos_ for t in doc] for doc in docs],
}))
"""


def _load_and_run(model: Path, tmp: Path) -> dict:
    return json.loads(_run(["-c", LOAD_AND_RUN, str(model)], tmp).splitlines()[-1])


@pytest.fixture(scope="module")
def conll_es(shared_data, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("conll_es")
    corpus = shared_data / "conll2002"
    train_iob = _slice(corpus / "esp.train", tmp / "train.iob", 300)
    train = _convert(train_iob, "ner")
    dev = _convert(_slice(corpus / "esp.testa", tmp / "dev.iob", 60), "ner")
    words = [line.split()[0] for line in train_iob.read_text(encoding="utf8").splitlines() if line]
    return train, dev, words


def test_train_ner_teacher_with_init_labels(conll_es, tmp_path):
    train, dev, _ = conll_es
    config = CONFIGS / "teacher-ner.cfg"
    labels_dir = tmp_path / "labels"
    overrides = ["--paths.train", str(train), "--paths.dev", str(dev)]
    _run(["-m", "spacy", "init", "labels", str(config), str(labels_dir), *overrides], tmp_path)
    assert json.loads((labels_dir / "ner.json").read_text()) == ["LOC", "MISC", "ORG", "PER"]
    # Train from the stored labels, the way `spacy init labels` is meant to be used.
    cfg = Config().from_disk(config, interpolate=False)
    cfg["initialize"]["components"]["ner"] = {
        "labels": {"@readers": "spacy.read_labels.v1", "path": str(labels_dir / "ner.json")}
    }
    cfg.to_disk(tmp_path / "config.cfg")
    model = _train(tmp_path / "config.cfg", tmp_path, train, dev, "--nlp.lang", "es")
    result = _load_and_run(model, tmp_path)
    assert result["factories"] == ["tok2vec", "crf_ner"]
    assert result["lengths"][:2] == [0, 1] and result["lengths"][3] == 300
    assert {label for ents in result["ents"] for label in ents} <= {"LOC", "MISC", "ORG", "PER"}
    meta = json.loads((model / "meta.json").read_text())
    assert meta["lang"] == "es" and "ents_f" in meta["performance"]


def test_train_pos_teacher(shared_data, tmp_path):
    treebank = shared_data / "ud" / "UD_English-LinES"
    train_slice = _slice(treebank / "en_lines-ud-train.conllu", tmp_path / "train.conllu", 200)
    dev_slice = _slice(treebank / "en_lines-ud-dev.conllu", tmp_path / "dev.conllu", 50)
    train, dev = _convert(train_slice, "conllu"), _convert(dev_slice, "conllu")
    model = _train(CONFIGS / "teacher-pos.cfg", tmp_path, train, dev, "--nlp.lang", "en")
    result = _load_and_run(model, tmp_path)
    assert result["factories"] == ["tok2vec", "crf_tagger"]
    assert all(pos for doc in result["pos"] for pos in doc)
    meta = json.loads((model / "meta.json").read_text())
    assert meta["performance"]["pos_acc"] > 0.3


@pytest.mark.slow  # ~45 s alone, ~2 min on a busy 2-core machine
def test_train_transformer_ner_teacher(conll_es, tiny_bert, tmp_path):
    train, dev, words = conll_es
    bert = tiny_bert(words, tmp_path / "tiny-bert")
    model = _train(
        CONFIGS / "teacher-ner-trf.cfg", tmp_path, train, dev, "--paths.encoder", str(bert),
        "--training.max_steps", "10", "--training.eval_frequency", "5",
    )
    result = _load_and_run(model, tmp_path)
    assert result["factories"] == ["transformer", "crf_ner"]
    assert result["lengths"][3] == 300
