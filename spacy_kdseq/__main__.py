"""``python -m spacy_kdseq …``: the same commands as ``spacy kdseq …``."""
from .cli import app

if __name__ == "__main__":
    app(prog_name="python -m spacy_kdseq")
