"""Per-language scores of a pipeline on gold DocBins, independent of the CLI.

Predictions are made on Docs built from the reference words (gold tokenisation),
so every model is scored on the same tokens, and scored with spaCy's ``Scorer``.
The result is a plain dict, written as JSON by ``spacy kdseq evaluate`` and read
by ``spacy kdseq report``::

    {
      "version": 1,
      "model": str,                      # as given on the command line
      "task": "ner" | "pos",
      "languages": {                     # sorted by language code
        lang: {
          "data": [str, ...],            # the DATA files the docs came from
          "n_docs": int, "n_words": int,
          "words_per_second": float,     # pipeline time only
          # task "ner":
          "ents_p": float, "ents_r": float, "ents_f": float,
          "ents_per_type": {label: {"p": float, "r": float, "f": float}},
          # task "pos": whichever of these the pipeline sets and the data holds
          "pos_acc": float, "tag_acc": float,
        }
      },
      "average": {"n_languages": int, <each score key above>: float},  # macro
      "total": {"n_docs": int, "n_words": int, "words_per_second": float},
    }

Scores are fractions in [0, 1]. A score is null where it is undefined (no gold
and no predicted entities); macro averages skip nulls.
"""
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from spacy import util
from spacy.language import Language
from spacy.scorer import Scorer
from spacy.tokens import Doc
from spacy.training import Example
from spacy.training.corpus import walk_corpus
from tqdm import tqdm

from .corpora.docbin import read_docbin
from .errors import Errors, KDSeqError
from .lang import get_doc_lang, set_doc_lang

METRICS_VERSION = 1
TASKS = ("ner", "pos")
TASK_FACTORIES = {
    "ner": ("crf_ner", "ner"),
    "pos": ("crf_tagger", "tagger", "morphologizer"),
}
SCORE_KEYS = ("ents_p", "ents_r", "ents_f", "pos_acc", "tag_acc")
_LANG_ARG = re.compile(r"^([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?)=(.+)$")


def load_pipeline(model: str) -> Language:
    """The pipeline `model` (a folder or an installed package), or E234 saying what it is not."""
    try:
        return util.load_model(model)
    except OSError as err:  # spaCy's E050 (no such package or folder), E053 (no config.cfg)
        raise KDSeqError(Errors.E234.format(model=model, err=err)) from None


def parse_data_arg(arg: str) -> Tuple[Optional[str], Path]:
    """Split ``"es=test.spacy"`` into ("es", Path); a plain path gives (None, Path)."""
    match = _LANG_ARG.match(arg)
    if match is None:
        return None, Path(arg)
    return match.group(1), Path(match.group(2))


def load_gold(
    data: Iterable[Tuple[Optional[str], Path]], nlp: Language
) -> Tuple[Dict[str, List[Doc]], Dict[str, List[str]]]:
    """Gold docs grouped by language (forced, else ``get_doc_lang``), and their files.

    A directory stands for the .spacy files under it, as in `spacy evaluate`.
    """
    docs: Dict[str, List[Doc]] = defaultdict(list)
    files: Dict[str, List[str]] = defaultdict(list)
    for forced, arg in data:
        for path in _spacy_files(Path(arg)):
            n_before = sum(len(d) for d in docs.values())
            for i, doc in enumerate(read_docbin(path).get_docs(nlp.vocab)):
                lang = forced or get_doc_lang(doc)
                if lang is None:
                    raise KDSeqError(Errors.E213.format(path=path, index=i))
                docs[lang].append(doc)
                if str(path) not in files[lang]:
                    files[lang].append(str(path))
            if sum(len(d) for d in docs.values()) == n_before:
                raise KDSeqError(Errors.E217.format(path=path))
    return dict(docs), dict(files)


def _spacy_files(path: Path) -> List[Path]:
    if path.is_dir():
        found = sorted(Path(p) for p in walk_corpus(path, ".spacy"))
        if not found:
            raise KDSeqError(Errors.E222.format(path=path))
        return found
    if not path.is_file():
        raise KDSeqError(Errors.E201.format(path=path))
    return [path]


def detect_task(nlp: Language) -> str:
    """"ner" or "pos", from the factories of the pipeline's components."""
    factories = {nlp.get_pipe_meta(name).factory for name in nlp.pipe_names}
    found = [task for task, names in TASK_FACTORIES.items() if factories & set(names)]
    if len(found) != 1:
        raise KDSeqError(
            Errors.E214.format(components=sorted(factories), found=found or "no tagger or NER")
        )
    return found[0]


def _predict(
    nlp: Language, refs: Sequence[Doc], lang: str, batch_size: int, progress: bool
) -> Tuple[List[Example], float]:
    """Examples whose predicted docs the pipeline annotated, and the seconds it took."""
    preds = []
    for ref in refs:
        words = [t.text for t in ref]
        pred = Doc(nlp.vocab, words=words, spaces=[bool(t.whitespace_) for t in ref])
        set_doc_lang(pred, lang)
        preds.append(pred)
    start = time.perf_counter()
    annotated = nlp.pipe(preds, batch_size=batch_size)
    preds = list(tqdm(annotated, total=len(preds), desc=lang, disable=not progress, leave=False))
    seconds = time.perf_counter() - start
    return [Example(pred, ref) for pred, ref in zip(preds, refs)], seconds


def _score(examples: List[Example], task: str, lang: str) -> Dict[str, Any]:
    refs = [eg.reference for eg in examples]
    if task == "ner":
        if not any(doc.has_annotation("ENT_IOB") for doc in refs):
            raise KDSeqError(Errors.E218.format(lang=lang, what="entity", task=task))
        return Scorer.score_spans(examples, "ents")
    gold_attrs = [a for a in ("POS", "TAG") if any(doc.has_annotation(a) for doc in refs)]
    if not gold_attrs:
        raise KDSeqError(Errors.E218.format(lang=lang, what="POS or tag", task=task))
    scores: Dict[str, Any] = {}
    for attr in gold_attrs:
        if any(eg.predicted.has_annotation(attr) for eg in examples):
            scores.update(Scorer.score_token_attr(examples, attr.lower()))
    if not scores:
        raise KDSeqError(Errors.E216.format(attrs="/".join(gold_attrs), lang=lang))
    return scores


def _macro(languages: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
    average: Dict[str, Any] = {"n_languages": len(languages)}
    for key in SCORE_KEYS:
        values = [s[key] for s in languages.values() if s.get(key) is not None]
        if values:
            average[key] = sum(values) / len(values)
    return average


def evaluate_pipeline(
    nlp: Language,
    gold: Dict[str, List[Doc]],
    *,
    task: Optional[str] = None,
    model: str = "",
    files: Optional[Dict[str, List[str]]] = None,
    batch_size: int = 128,
    progress: bool = True,
) -> Dict[str, Any]:
    """Score `nlp` on each language's gold docs; returns the metrics dict above."""
    task = task or detect_task(nlp)
    if task not in TASKS:
        raise KDSeqError(Errors.E215.format(task=task))
    languages: Dict[str, Dict[str, Any]] = {}
    total_words = total_seconds = 0.0
    for lang in sorted(gold):
        examples, seconds = _predict(nlp, gold[lang], lang, batch_size, progress)
        n_words = sum(len(eg.reference) for eg in examples)
        languages[lang] = {
            "data": list((files or {}).get(lang, [])),
            "n_docs": len(examples),
            "n_words": n_words,
            "words_per_second": n_words / seconds if seconds > 0 else None,
            **_score(examples, task, lang),
        }
        total_words += n_words
        total_seconds += seconds
    return {
        "version": METRICS_VERSION,
        "model": model,
        "task": task,
        "languages": languages,
        "average": _macro(languages),
        "total": {
            "n_docs": sum(s["n_docs"] for s in languages.values()),
            "n_words": int(total_words),
            "words_per_second": total_words / total_seconds if total_seconds > 0 else None,
        },
    }


def _pct(value: Optional[float]) -> str:
    return "–" if value is None else f"{100 * value:.2f}"


def metrics_to_markdown(metrics: Dict[str, Any]) -> str:
    """A Markdown table: one row per language, then the macro average (scores in %)."""
    keys = [k for k in SCORE_KEYS if k in metrics["average"]]
    names = {
        "ents_p": "P", "ents_r": "R", "ents_f": "F1", "pos_acc": "UPOS acc", "tag_acc": "tag acc"
    }
    header = ["lang", "docs", "words", *(names[k] for k in keys), "words/s"]
    rows = [header, ["---"] * len(header)]
    for lang, scores in metrics["languages"].items():
        wps = scores["words_per_second"]
        rows.append([
            lang, str(scores["n_docs"]), str(scores["n_words"]),
            *(_pct(scores.get(k)) for k in keys), "–" if wps is None else f"{wps:.0f}",
        ])
    total = metrics["total"]
    wps = total["words_per_second"]
    rows.append([
        "**macro avg**", str(total["n_docs"]), str(total["n_words"]),
        *(_pct(metrics["average"][k]) for k in keys), "–" if wps is None else f"{wps:.0f}",
    ])
    title = f"{metrics['model']} ({metrics['task']})\n\n" if metrics["model"] else ""
    return title + "\n".join("| " + " | ".join(row) + " |" for row in rows) + "\n"
