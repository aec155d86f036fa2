"""How far a knowledge cache's teachers are from the gold tags of the docs they teach on.

Posterior distillation trains the student towards each teacher's CRF node posteriors
over the training docs, tempered at T (`distillation.temperature`). A teacher that
reproduces the gold tags of its own training data, as a fine-tuned transformer tends
to, teaches there little beyond those tags: what is left is how its posterior ranks the
wrong tags, which a higher T weighs more. Per cache entry this prints the teacher's
accuracy against gold on (the first `--docs` of) its docs, and the mean probability the
tempered target puts on the teacher's own best tag at each temperature.

    python scripts/teacher_fit.py kd-cache/pos-teachers-e5 --temperatures "1 2 4"

Each entry's teacher is loaded (the manifest names it) for its gold-tag reading, so the
teachers must still be where they were when the cache was built.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence

import numpy
import spacy
import torch
import typer
from spacy.tokens import Doc, DocBin
from spacy.training import Example

from spacy_kdseq import crf
from spacy_kdseq.distill.cache import Knowledge, KnowledgeCache, doc_key
from spacy_kdseq.hashing import hash_file


@dataclass
class Fit:
    """One cache entry: its language, how many docs and tokens were read, the share of
    tokens (with gold) whose posterior-best tag is the gold one, and the mean tempered
    target probability of the posterior-best tag per temperature."""

    lang: str
    docs: int
    tokens: int
    accuracy: float
    target: Dict[float, float]


def entry_fit(
    knowledge: Knowledge, component: str, teacher: Path, corpus: Path,
    temperatures: Sequence[float], max_docs: int,
) -> Fit:
    """The fit of one teacher's cached potentials to the gold tags of `corpus`."""
    nlp = spacy.load(teacher)
    pipe = nlp.get_pipe(component)
    column = {tag: i for i, tag in enumerate(knowledge.labels)}
    to_cache = numpy.asarray([column[tag] for tag in pipe.tag_names] + [-1])  # -1: no gold
    row = {int(key): i for i, key in enumerate(knowledge.keys)}
    transitions, start, end = (torch.from_numpy(a) for a in
                               (knowledge.transitions, knowledge.start, knowledge.end))
    # The docs the entry holds: a corpus file with several languages' docs has an entry
    # per language (its sha256 was checked, so no other doc is missing).
    keyed = ((doc, doc_key([t.text for t in doc]))
             for doc in DocBin().from_disk(corpus).get_docs(nlp.vocab) if len(doc))
    docs = [(doc, row[key]) for doc, key in keyed if key in row][:max_docs]
    right = counted = tokens = 0
    target = {t: 0.0 for t in temperatures}
    for doc, i in docs:
        words = [t.text for t in doc]
        emissions = torch.from_numpy(
            knowledge.emissions[knowledge.offsets[i]:knowledge.offsets[i + 1]].astype(numpy.float32)
        )[None]
        mask = torch.ones(emissions.shape[:2], dtype=torch.bool)
        log_q = crf.log_marginals(emissions, mask, transitions, start, end)[0][0]
        best = log_q.argmax(-1)
        (gold,) = pipe.gold_tag_ids([Example(Doc(nlp.vocab, words=words), doc)])
        gold = torch.from_numpy(to_cache[gold])
        known = gold >= 0
        right += int((best[known] == gold[known]).sum())
        counted += int(known.sum())
        tokens += len(doc)
        for t in temperatures:
            target[t] += float(torch.softmax(log_q / t, -1).gather(1, best[:, None]).sum())
    return Fit(knowledge.lang, len(docs), tokens, 100 * right / max(1, counted),
               {t: total / max(1, tokens) for t, total in target.items()})


def cache_fit(cache_dir: Path, temperatures: Sequence[float], max_docs: int) -> List[Fit]:
    """`entry_fit` of every entry of the cache, in the order of their file names."""
    cache = KnowledgeCache(cache_dir)
    if not cache.entries:
        raise typer.BadParameter(f"{cache_dir} holds no knowledge-cache entries (no manifest.json)")
    fits = []
    for name, entry in sorted(cache.entries.items()):
        teacher, corpus = Path(entry["teacher"]), Path(entry["corpus"])
        if not teacher.is_dir():
            raise typer.BadParameter(f"{name} was built by the teacher {teacher}, which is gone: "
                                     "its gold-tag reading is needed; run this where it is")
        if not corpus.is_file() or hash_file(corpus) != entry["corpus_sha256"]:
            raise typer.BadParameter(f"{name} was built from {corpus}, which is gone or has "
                                     "changed since: its docs are not the cached ones")
        fits.append(entry_fit(cache.load(name), entry["component"], teacher, corpus,
                              temperatures, max_docs))
    return fits


def markdown(fits: Sequence[Fit], temperatures: Sequence[float]) -> str:
    """The fits as a Markdown table, one row per entry, a target column per temperature."""
    head = "| lang | docs | tokens | teacher's tag = gold | " + " | ".join(
        f"target on it, T={t:g}" for t in temperatures) + " |"
    rule = "|---|---:|---:|---:|" + "---:|" * len(temperatures)
    rows = [
        f"| {f.lang} | {f.docs:,} | {f.tokens:,} | {f.accuracy:.2f} | "
        + " | ".join(f"{f.target[t]:.3f}" for t in temperatures) + " |"
        for f in fits
    ]
    return "\n".join([head, rule, *rows])


def main(
    cache_dir: Path = typer.Argument(..., help="A knowledge cache (`distillation.cache_dir`)"),
    temperatures: str = typer.Option("1 2 4", help="Space-separated temperatures"),
    docs: int = typer.Option(1000, help="Read at most this many docs per entry"),
) -> None:
    ts = [float(t) for t in temperatures.split()]
    torch.set_num_threads(1)
    typer.echo(markdown(cache_fit(cache_dir, ts, docs), ts))


if __name__ == "__main__":
    typer.run(main)
