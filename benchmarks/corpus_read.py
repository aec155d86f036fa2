"""Reading a converted corpus: the language as a doc category vs in per-doc user data.

Converts CoNLL-2002 esp.train with `spacy kdseq convert`'s code (language in `doc.cats`),
writes the same docs the way it did before (language in `doc.user_data`, DocBin with
`store_user_data=True`), and times `DocBin.get_docs` over each file in interleaved
rounds, as spaCy's corpus reader does on every epoch. Writes the "Corpus reading"
section of docs/benchmarks.md.

    python benchmarks/corpus_read.py [--rounds 5] [--data ../shared/data]
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional

import spacy
from spacy.tokens import DocBin

from spacy_kdseq.corpora import convert_corpus
from spacy_kdseq.lang import LANG_KEY, get_doc_lang

from _markdown import write_section  # benchmarks/ is the script directory

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Corpus reading"


def read_seconds(path: Path) -> float:
    """Seconds to read every doc of a DocBin and its language, as a corpus reader would."""
    vocab = spacy.blank("xx").vocab
    start = time.perf_counter()
    langs = {get_doc_lang(doc) for doc in DocBin().from_disk(path).get_docs(vocab)}
    seconds = time.perf_counter() - start
    assert langs == {"es"}, langs
    return seconds


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        new, old = Path(tmp) / "cats.spacy", Path(tmp) / "user_data.spacy"
        convert_corpus(args.data / "conll2002" / "esp.train", new, "es")
        vocab = spacy.blank("xx").vocab
        docs = list(DocBin().from_disk(new).get_docs(vocab))
        for doc in docs:
            doc.cats.clear()
            doc.user_data[LANG_KEY] = "es"
        DocBin(docs=docs, store_user_data=True).to_disk(old)
        times = {"cats": [], "user_data": []}
        for _ in range(args.rounds):
            times["cats"].append(read_seconds(new))
            times["user_data"].append(read_seconds(old))
    n = len(docs)
    cats, user = (statistics.median(times[k]) for k in ("cats", "user_data"))
    command = "python " + " ".join(["benchmarks/corpus_read.py", *(argv or sys.argv[1:])])
    text = "\n".join([
        SECTION, "",
        f"`{command}`: `DocBin.get_docs` over CoNLL-2002 esp.train ({n:,} docs), language "
        f"read back with `get_doc_lang`; median of {args.rounds} interleaved rounds.", "",
        "| language stored in | s per pass | ms per doc |",
        "|---|---|---|",
        f"| `doc.cats` (`spacy kdseq convert` now) | {cats:.2f} | {1e3 * cats / n:.3f} |",
        f"| `doc.user_data` (before; still read) | {user:.2f} | {1e3 * user / n:.3f} |",
        "",
        f"{user / cats:.1f}× faster: with user data, srsly looks its msgpack hooks up through "
        "the installed entry points on every per-doc `msgpack_loads`; cats are stored in "
        "the DocBin's one msgpack table. Re-run `spacy kdseq convert` on older corpora to "
        "drop the cost.", "",
    ])
    print(text)
    write_section(text, args.output, SECTION)


if __name__ == "__main__":
    main()
