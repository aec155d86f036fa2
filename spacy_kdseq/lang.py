"""The one documented place where a Doc's corpus language is recorded and read.

spaCy's ``doc.lang_`` is the language of the *pipeline's* vocab (``xx`` for the
multilingual student), not of the text, so the corpus language is kept as the doc
category ``"kdseq_lang:<code>"`` (score 1.0) in ``doc.cats``. A ``DocBin`` stores cats
for every doc in its one msgpack table, so reading the language back is free; user data
would cost ~1 ms per doc on every read (srsly looks its msgpack hooks up through the
entry points on every call). DocBins written before this change recorded the language
in ``doc.user_data``; it is still read from there (slowly) when no category holds it —
re-run ``spacy kdseq convert`` to drop that cost.
"""
import re
from importlib.util import find_spec
from typing import Optional

from spacy.tokens import Doc
from spacy.util import registry

from .errors import Errors, KDSeqError

CAT_PREFIX = "kdseq_lang:"
# Where the language was recorded before it moved to `doc.cats`; read, never written.
LANG_KEY = "kdseq_lang"


def set_doc_lang(doc: Doc, lang: str) -> None:
    """Record the corpus language code (e.g. "es") on a Doc, replacing any earlier one."""
    for key in [key for key in doc.cats if key.startswith(CAT_PREFIX)]:
        del doc.cats[key]
    doc.cats[CAT_PREFIX + lang] = 1.0


def get_doc_lang(doc: Doc, default: Optional[str] = None) -> Optional[str]:
    """Return the corpus language recorded on a Doc, or `default` if none."""
    for key in doc.cats:
        if key.startswith(CAT_PREFIX):
            return key[len(CAT_PREFIX):]
    return doc.user_data.get(LANG_KEY, default)


_CODE = re.compile(r"^[a-z]{2,3}$")


def check_lang(lang: str) -> None:
    """Raise unless `lang` is a language code spaCy knows: the code picks a doc's
    teacher, so a mistyped one (e.g. "esp") would silently leave its docs untaught."""
    known = bool(_CODE.match(lang)) and (
        find_spec(f"spacy.lang.{lang}") is not None or lang in registry.languages
    )
    if not known:
        raise KDSeqError(Errors.E221.format(lang=lang))
