"""``spacy kdseq convert``: a CoNLL or CoNLL-U file to a ``.spacy`` DocBin."""
from pathlib import Path
from typing import Optional

from spacy.cli._util import Arg, Opt
from wasabi import msg

from ..corpora import FORMATS, convert_corpus
from ..errors import KDSeqError
from ._app import app


@app.command("convert")
def convert_cli(
    # fmt: off
    input_path: Path = Arg(..., help="CoNLL column file or CoNLL-U treebank", dir_okay=False),
    output_path: Path = Arg(..., help="Output .spacy file", dir_okay=False),
    lang: str = Opt(..., "--lang", "-l", help="Language code recorded on every doc, e.g. es"),
    file_type: str = Opt("auto", "--format", "-f", help=f"Input format: {', '.join(FORMATS)}"),
    tag_column: str = Opt("upos", "--tag-column", "-t", help="CoNLL-U column to keep: upos (token.pos_) or xpos (token.tag_)"),
    dev_fraction: float = Opt(0.0, "--dev-fraction", "-d", help="Fraction of sentences carved out as dev (needs --dev-output)"),
    dev_output: Optional[Path] = Opt(None, "--dev-output", "-D", help="Output .spacy file for the carved dev split", dir_okay=False),
    seed: int = Opt(0, "--seed", "-s", help="Seed of the dev carving"),
    limit: Optional[int] = Opt(None, "--limit", "-n", help="Convert only the first N sentences"),
    encoding: str = Opt("utf-8", "--encoding", "-e", help="Input encoding, e.g. latin-1 for old CoNLL releases"),
    # fmt: on
):
    """
    Convert a corpus to spaCy's binary format, one doc per sentence on the gold
    tokens, with the language recorded on every doc. CoNLL column files give
    doc.ents (IOB1, IOB2 or BIOES; the first middle column becomes token.tag_),
    CoNLL-U files give token.pos_ (UPOS) or token.tag_ (XPOS).
    """
    try:
        stats, written = convert_corpus(
            input_path, output_path, lang, fmt=file_type, tag_column=tag_column,
            encoding=encoding, limit=limit, dev_fraction=dev_fraction,
            dev_output=dev_output, seed=seed,
        )
    except KDSeqError as err:
        msg.fail(str(err), exits=1)
    for path, n_docs in written.items():
        msg.good(f"Wrote {n_docs} docs to {path}")
    msg.info(f"{input_path} ({lang}): {stats.summary()}")
