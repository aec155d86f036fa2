"""Compile a character map into SentencePiece's ``precompiled_charsmap`` format.

The ``tokenizers`` normaliser ``Precompiled`` (the one XLM-R's tokenizer.json uses) reads a
blob ``[u32 trie bytes][darts-clone double-array trie][NUL-terminated replacements]``; the
trie maps the UTF-8 bytes of a key to the offset of its replacement. A darts-clone unit is a
u32: bits 0-7 the label, bit 8 "has a leaf", bits 10-31 the offset to the children's base
(bit 9 set: offset << 8), and a leaf unit is ``value | 1 << 31``. Lookup goes
``pos ^= offset(unit); pos ^= byte`` per key byte and finds the value at the final base.
"""
import struct
from typing import Dict, List

_LEAF = 1 << 31
_HAS_LEAF = 1 << 8
_MAX_OFFSET = 1 << 21


class _Node:
    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.children: Dict[int, "_Node"] = {}
        self.value = -1


def compile_charsmap(mapping: Dict[str, str]) -> bytes:
    """The ``precompiled_charsmap`` blob replacing each key string by its value."""
    replacements = bytearray()
    offsets: Dict[str, int] = {}
    root = _Node()
    for key in sorted(mapping):
        value = mapping[key]
        if value not in offsets:
            offsets[value] = len(replacements)
            replacements += value.encode("utf8") + b"\0"
        node = root
        for byte in key.encode("utf8"):
            node = node.children.setdefault(byte, _Node())
        node.value = offsets[value]
    units = _build_double_array(root)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(replacements)


def _build_double_array(root: _Node) -> List[int]:
    """Place every node breadth-first at the first base where all its slots are free."""
    units: List[int] = []
    used = bytearray()
    _grow(units, used, 0)
    used[0] = 1
    queue = [(root, 0)]
    first_free = 1
    for node, pos in queue:
        labels = sorted(node.children)
        # Slot 0 (the base itself) holds the node's value; it is taken even without one,
        # so that no two nodes share a base (a lookup would stray into the other's children).
        slots = [0] + labels
        while first_free < len(used) and used[first_free]:
            first_free += 1
        base = first_free
        while not _fits(units, used, base, slots):
            base += 1
        offset = pos ^ base
        assert 0 < offset < _MAX_OFFSET, "charsmap too large for short offsets"
        units[pos] |= offset << 10 | (_HAS_LEAF if node.value >= 0 else 0)
        for slot in slots:
            used[base ^ slot] = 1
        if node.value >= 0:
            units[base] = _LEAF | node.value
        for label in labels:
            units[base ^ label] = label
            queue.append((node.children[label], base ^ label))
    # a lookup may read any slot of a used 256-unit block, so whole blocks are kept
    last = max(i for i, u in enumerate(used) if u)
    return units[: (last | 0xFF) + 1]


def _fits(units: List[int], used: bytearray, base: int, slots: List[int]) -> bool:
    _grow(units, used, base)
    return base > 0 and not any(used[base ^ s] for s in slots)


def _grow(units: List[int], used: bytearray, base: int) -> None:
    """Make room for the 256-unit block holding ``base``."""
    missing = (base | 0xFF) + 1 - len(used)
    if missing > 0:
        used.extend(bytearray(missing))
        units.extend([0] * missing)
