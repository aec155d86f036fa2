"""The one documented place where a Doc's corpus language is recorded and read.

spaCy's ``doc.lang_`` is the language of the *pipeline's* vocab (``xx`` for the
multilingual student), not of the text, so the corpus language is kept in
``doc.user_data``, which survives a ``DocBin(store_user_data=True)`` round trip.
"""
import re
from importlib.util import find_spec
from typing import Optional

from spacy.tokens import Doc
from spacy.util import registry

from .errors import Errors, KDSeqError

LANG_KEY = "kdseq_lang"


def set_doc_lang(doc: Doc, lang: str) -> None:
    """Record the corpus language code (e.g. "es") on a Doc."""
    doc.user_data[LANG_KEY] = lang


def get_doc_lang(doc: Doc, default: Optional[str] = None) -> Optional[str]:
    """Return the corpus language recorded on a Doc, or `default` if none."""
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
