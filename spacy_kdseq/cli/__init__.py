"""``spacy kdseq …`` commands; importing a module registers its command on ``app``."""
from ._app import app
from . import convert
from . import evaluate
from . import annotate
from . import distill
from . import report
from . import encoder

__all__ = ["app"]
