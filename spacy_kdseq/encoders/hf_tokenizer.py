"""The file's SentencePiece vocabulary as a Hugging Face fast tokenizer (XLM-R's recipe)."""
import json
from pathlib import Path
from typing import Any, Dict, List

from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram

from .charsmap import compile_charsmap
from .e5_format import MASK, E5Vocab

METASPACE = "\u2581"


def build_tokenizer(vocab: E5Vocab, normalization: Dict[int, str]) -> Tokenizer:
    """Unigram over the pieces and scores, normalised and pre-tokenised as XLM-R's tokenizer.json."""
    unigram = Unigram(list(zip(vocab.pieces, vocab.scores)), unk_id=vocab.unk, byte_fallback=False)
    tokenizer = Tokenizer(unigram)
    charsmap = compile_charsmap({chr(cp): out for cp, out in normalization.items()})
    # Precompiled, then what transformers' SentencePiece converter adds: drop trailing
    # whitespace, collapse runs of spaces.
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Precompiled(charsmap),
        normalizers.Strip(left=False, right=True),
        normalizers.Replace(Regex(" {2,}"), METASPACE),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always")
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    tokenizer.add_special_tokens([_added_token(content) for content in _special_tokens(vocab)])
    return tokenizer


def write_tokenizer(
    vocab: E5Vocab, normalization: Dict[int, str], output_dir: Path, max_length: int
) -> List[Path]:
    """tokenizer.json, tokenizer_config.json and special_tokens_map.json in ``output_dir``."""
    tokenizer = build_tokenizer(vocab, normalization)
    special = _special_map(vocab)
    # spacy-transformers opens `tokenizer.vocab_file` when the class has one; an
    # XLMRobertaTokenizerFast made from tokenizer.json alone has it None, the generic class has none.
    config: Dict[str, Any] = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_length,
        "clean_up_tokenization_spaces": True,
        "added_tokens_decoder": {
            str(tokenizer.token_to_id(content)): _added_token_dict(content)
            for content in _special_tokens(vocab)
        },
        **special,
    }
    paths = [output_dir / "tokenizer.json", output_dir / "tokenizer_config.json",
             output_dir / "special_tokens_map.json"]
    tokenizer.save(str(paths[0]), pretty=False)
    for path, content in zip(paths[1:], (config, special)):
        path.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n", encoding="utf8")
    return paths


def _special_tokens(vocab: E5Vocab) -> List[str]:
    ids = sorted({vocab.bos, vocab.pad, vocab.eos, vocab.unk, vocab.mask})
    return [vocab.pieces[i] for i in ids]


def _special_map(vocab: E5Vocab) -> Dict[str, str]:
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    return {"bos_token": bos, "cls_token": bos, "eos_token": eos, "sep_token": eos,
            "pad_token": vocab.pieces[vocab.pad], "unk_token": vocab.pieces[vocab.unk],
            "mask_token": vocab.pieces[vocab.mask]}


def _added_token(content: str) -> AddedToken:
    # XLM-R's <mask> swallows the space before it, so "a <mask>" predicts "▁word"
    return AddedToken(content, lstrip=content == MASK, rstrip=False, single_word=False,
                      normalized=False, special=True)


def _added_token_dict(content: str) -> Dict[str, Any]:
    return {"content": content, "lstrip": content == MASK, "normalized": False, "rstrip": False,
            "single_word": False, "special": True}
