"""A parsed ``E5S1`` file as a Hugging Face BertModel directory (config, weights, tokenizer)."""
import json
from pathlib import Path
from typing import Dict, List

import numpy
from safetensors.numpy import save_file

from .e5_format import E5File
from .hf_tokenizer import write_tokenizer

# e5.c name suffix -> BertModel name inside encoder.layer.{i}
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def write_hf_model(source: E5File, output_dir: Path) -> List[Path]:
    """config.json, model.safetensors and the tokenizer files; returns the paths written."""
    config_path = output_dir / "config.json"
    config_path.write_text(json.dumps(bert_config(source), indent=2, sort_keys=True) + "\n", encoding="utf8")
    weights_path = output_dir / "model.safetensors"
    save_file(bert_state_dict(source), str(weights_path), metadata={"format": "pt"})
    tokenizer_paths = write_tokenizer(
        source.vocab, source.normalization, output_dir, source.header.positions)
    return [config_path, weights_path, *tokenizer_paths]


def bert_config(source: E5File) -> Dict[str, object]:
    """BertModel's config.json for the file's dimensions."""
    h, vocab = source.header, source.vocab
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab_rows,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",  # e5.c: exact erf GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.positions,
        "type_vocab_size": h.type_vocab,
        "layer_norm_eps": h.layer_norm_eps,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "pad_token_id": vocab.pad,
        "bos_token_id": vocab.bos,
        "eos_token_id": vocab.eos,
        "torch_dtype": "float32",
    }


def bert_state_dict(source: E5File) -> Dict[str, numpy.ndarray]:
    """Every tensor under its BertModel name, float32 (the 4-bit ones dequantised)."""
    h = source.header
    state = {
        "embeddings.word_embeddings.weight": source.float32("emb.word", (h.vocab_rows, h.hidden)),
        "embeddings.position_embeddings.weight": source.float32("emb.pos", (h.positions, h.hidden)),
        "embeddings.token_type_embeddings.weight": source.float32("emb.type", (h.type_vocab, h.hidden)),
        "embeddings.LayerNorm.weight": source.float32("emb.ln.w", (h.hidden,)),
        "embeddings.LayerNorm.bias": source.float32("emb.ln.b", (h.hidden,)),
    }
    shapes = {"fi": (h.ffn, h.hidden), "fo": (h.hidden, h.ffn)}
    for layer in range(h.layers):
        for short, name in _LAYER_NAMES.items():
            prefix = f"encoder.layer.{layer}.{name}"
            weight_shape = (h.hidden,) if short.endswith("ln") else shapes.get(short, (h.hidden, h.hidden))
            bias_shape = (h.ffn,) if short == "fi" else (h.hidden,)
            state[f"{prefix}.weight"] = source.float32(f"l{layer}.{short}.w", weight_shape)
            state[f"{prefix}.bias"] = source.float32(f"l{layer}.{short}.b", bias_shape)
    # The file has no pooler (mean pooling does not use one). An identity pooler keeps
    # BertModel from warning about, and randomly initialising, weights nobody reads.
    state["pooler.dense.weight"] = numpy.eye(h.hidden, dtype=numpy.float32)
    state["pooler.dense.bias"] = numpy.zeros(h.hidden, dtype=numpy.float32)
    return state
