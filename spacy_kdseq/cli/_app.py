"""The shared ``kdseq`` typer sub-app, hooked into spaCy's CLI as ``spacy kdseq``."""
import typer
from spacy.cli._util import app as spacy_app

app = typer.Typer(
    name="kdseq",
    help="spacy-kdseq: CRF sequence labelling and multilingual distillation",
    no_args_is_help=True,
)
spacy_app.add_typer(app)
