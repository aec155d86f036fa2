"""multilingual-e5-small + crf_ner: training speed against a plain Hugging Face fine-tune,
and inference speed of the e5 teacher against the CNN students.

Training (words/second of gold-tokenised CoNLL-2002 esp.train, batches made once as the
configs' `spacy.batch_by_padded.v1` makes them and fed to every contender in the same order):
- `e5 + crf_ner`: configs/teacher-ner-trf.cfg as shipped (frozen word embeddings) on the
  converted encoder, `nlp.update` with the config's optimizer settings at a constant rate;
- `e5 + crf_ner, unfrozen`: the same with `freeze_embeddings = false`, the cost of the
  setting's absence;
- `plain fine-tune`: `transformers.AutoModelForTokenClassification` on the same directory
  (softmax head over the BIO tags, each word's first subword labelled, the same rows of the
  word-embedding matrix frozen), `torch.optim.AdamW`, the same batches.
Inference (words/second of `nlp.pipe` over pre-tokenised esp.testb docs): the e5 teacher
pipeline against configs/student-ner.cfg at its default width and at widths 64 and 32,
initialised, untrained (speed does not depend on the weights).

One process, one torch thread; contenders alternate after every update and every
`nlp.pipe` call over `--chunk` docs, the first one rotating every round; ratios are
medians of the per-round ratios. Writes the "multilingual-e5-small" section of
docs/benchmarks.md.

    python benchmarks/e5_speed.py --encoder assets/encoders/e5-small [--rounds 3] [--steps 3]
"""
import argparse
import os
import platform
import random
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import spacy
import thinc
import torch
import transformers
from spacy.tokens import Doc
from spacy.training import Example
from spacy.training.converters import conll_ner_to_docs
from spacy.training.batchers import minibatch_by_padded_size
from spacy.util import load_config, load_model_from_config
from thinc.api import Adam

from _heap import release_free_memory  # benchmarks/ is the script directory
from _markdown import write_section

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## multilingual-e5-small"
OURS, UNFROZEN, PLAIN = "e5 + crf_ner", "e5 + crf_ner, unfrozen", "plain fine-tune"
TRAIN_BAR = 0.8  # OURS's training words/s at least this times PLAIN's
STUDENT_WIDTHS = {"CNN student, width 192 (default)": None, "CNN student, width 64": 64,
                  "CNN student, width 32": 32}
TEACHER = "e5 teacher (crf_ner)"
# The configs' rates: the CRF head's, and the encoder's (learn_rate_scale 1/60); the plain
# fine-tune uses the encoder's for everything, as usual. Constant: the speed is the same.
HEAD_RATE, ENCODER_RATE = 3e-3, 5e-5


def read_docs(path: Path) -> List[Doc]:
    """Gold docs, one sentence each, as `spacy convert -n 1` makes them."""
    return list(conll_ner_to_docs(path.read_text(encoding="utf8"), n_sents=1, no_print=True))


def fresh(nlp: spacy.Language, docs: List[Doc]) -> List[Doc]:
    """Pre-tokenised copies: the corpus tokens, nothing predicted yet."""
    return [Doc(nlp.vocab, words=[t.text for t in d]) for d in docs]


class Pipeline:
    """A spaCy pipeline from one of our configs, initialised on the training docs."""

    def __init__(self, config_name: str, overrides: Dict[str, object], train: List[Doc]) -> None:
        config = load_config(ROOT / "configs" / config_name, overrides=overrides, interpolate=False)
        self.nlp = load_model_from_config(config, auto_fill=True, validate=True)
        self.examples = [Example(d, g) for d, g in zip(fresh(self.nlp, train), train)]
        self.nlp.initialize(lambda: self.examples[:200])
        # The configs' warmup starts at rate 0: a constant rate times real updates.
        self.optimizer = Adam(HEAD_RATE, L2=0.01, L2_is_weight_decay=True, grad_clip=1.0)

    def step(self, batch: List[int]) -> int:
        self.nlp.update([self.examples[i] for i in batch], drop=0.1, sgd=self.optimizer)
        return sum(len(self.examples[i].reference) for i in batch)

    def pipe(self, docs: List[Doc]) -> int:
        for _ in self.nlp.pipe(fresh(self.nlp, docs)):
            pass
        return sum(len(d) for d in docs)


class PlainFineTune:
    """`AutoModelForTokenClassification` trained the usual way, on the same batches."""

    def __init__(self, encoder: Path, train: List[Doc]) -> None:
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(encoder))
        labels = sorted({f"{t.ent_iob_}-{t.ent_type_}" if t.ent_type_ else "O" for d in train for t in d})
        self.label_ids = {label: i for i, label in enumerate(labels)}
        self.model = transformers.AutoModelForTokenClassification.from_pretrained(
            str(encoder), num_labels=len(labels)
        )
        self.model.get_input_embeddings().weight.requires_grad_(False)
        self.model.train()
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=ENCODER_RATE, weight_decay=0.01)
        self.words = [[t.text for t in d] for d in train]
        self.tags = [[self.label_ids[f"{t.ent_iob_}-{t.ent_type_}" if t.ent_type_ else "O"] for t in d]
                     for d in train]

    def step(self, batch: List[int]) -> int:
        encoding = self.tokenizer(
            [self.words[i] for i in batch], is_split_into_words=True, truncation=True,
            max_length=512, padding=True, return_tensors="pt",
        )
        labels = torch.full(encoding["input_ids"].shape, -100, dtype=torch.long)
        for row, i in enumerate(batch):
            previous = None
            for position, word in enumerate(encoding.word_ids(row)):
                if word is not None and word != previous:
                    labels[row, position] = self.tags[i][word]
                previous = word
        loss = self.model(**encoding, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return sum(len(self.words[i]) for i in batch)


def timed(call: Callable[[], int]) -> Tuple[float, int]:
    release_free_memory()  # untimed: no contender pays for returning another's memory
    start = time.perf_counter()
    words = call()
    return time.perf_counter() - start, words


def rotate(names: List[str], first: int) -> List[str]:
    first %= len(names)
    return names[first:] + names[:first]


def train_round(trainers: Dict[str, object], batches: List[List[int]], first: int) -> Dict[str, float]:
    """Words/second of each trainer over `batches`, one update each in turn."""
    totals = {name: [0.0, 0] for name in trainers}
    for batch in batches:
        for name in rotate(list(trainers), first):
            seconds, words = timed(lambda: trainers[name].step(batch))  # type: ignore[attr-defined]
            totals[name][0] += seconds
            totals[name][1] += words
    return {name: words / seconds for name, (seconds, words) in totals.items()}


def infer_round(pipelines: Dict[str, Pipeline], docs: List[Doc], chunk: int, first: int) -> Dict[str, float]:
    totals = {name: [0.0, 0] for name in pipelines}
    for start in range(0, len(docs), chunk):
        part = docs[start:start + chunk]
        for name in rotate(list(pipelines), first):
            seconds, words = timed(lambda: pipelines[name].pipe(part))
            totals[name][0] += seconds
            totals[name][1] += words
    return {name: words / seconds for name, (seconds, words) in totals.items()}


def machine() -> str:
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, "
        f"torch {torch.__version__} ({torch.get_num_threads()} thread), transformers "
        f"{transformers.__version__}, spaCy {spacy.__version__}, thinc {thinc.__version__}, "
        f"Python {platform.python_version()}"
    )


def report(train: Dict[str, List[float]], infer: Dict[str, List[float]], batch_size: int,
           n_batches: int, chunk: int, command: str, loaded: str) -> str:
    def ratios(rows: Dict[str, List[float]], name: str, base: str) -> float:
        return statistics.median(a / b for a, b in zip(rows[name], rows[base]))

    train_ratio = ratios(train, OURS, PLAIN)
    lines = [
        SECTION, "",
        f"`{command}` — {machine()}; {loaded}.", "",
        "Training: CoNLL-2002 esp.train, gold-tokenised, the same batches for every contender "
        f"(at most {batch_size} padded words, sorted by length within 256 docs, as the "
        f"configs make them; {n_batches} timed updates each per round, alternating after "
        "every update); weight decay 0.01, gradient clipping 1.0, dropout "
        "0.1, constant rates. `e5 + crf_ner` is configs/teacher-ner-trf.cfg as shipped (word "
        "embeddings frozen; thinc's Adam, the CRF head at 3e-3, the encoder at 5e-5); the "
        "plain fine-tune is `AutoModelForTokenClassification` (softmax over the BIO tags on "
        "each word's first subword; torch's AdamW at 5e-5) with the same rows frozen. "
        "Inference: `nlp.pipe` over pre-tokenised esp.testb docs, alternating every "
        f"{chunk} docs; the students are configs/student-ner.cfg at the given tok2vec width, "
        "untrained. Every timed call starts from a trimmed heap (benchmarks/_heap.py). "
        "Medians over rounds; ratios are medians of the per-round ratios.", "",
        "| training | words/s | ratio to the plain fine-tune |", "|---|---|---|",
    ]
    for name in (OURS, UNFROZEN, PLAIN):
        lines.append(f"| {name} | {statistics.median(train[name]):,.0f} | "
                     f"{ratios(train, name, PLAIN):.2f}× |")
    lines += ["", "| inference | words/s | ratio to the e5 teacher |", "|---|---|---|"]
    for name in (TEACHER, *STUDENT_WIDTHS):
        lines.append(f"| {name} | {statistics.median(infer[name]):,.0f} | "
                     f"{ratios(infer, name, TEACHER):.1f}× |")
    lines += [
        "", "Bars:",
        f"- e5 + crf_ner training {train_ratio:.2f}× the plain fine-tune (bar ≥ {TRAIN_BAR}×): "
        f"{'met' if train_ratio >= TRAIN_BAR else 'MISSED'}",
        f"- frozen word embeddings: a step {ratios(train, OURS, UNFROZEN):.2f}× as fast as "
        "unfrozen (no bar)",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", type=Path, default=ROOT / "assets" / "encoders" / "e5-small",
                        help="the converted encoder (`spacy kdseq encoder e5-small DIR`)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=3, help="timed updates per round and contender")
    parser.add_argument("--batch-size", type=int, default=1500,
                        help="padded words per batch, as the configs' batcher `size`")
    parser.add_argument("--warmup-steps", type=int, default=2, help="untimed updates first")
    parser.add_argument("--infer-docs", type=int, default=300, help="esp.testb docs per round")
    parser.add_argument("--train-docs", type=int, default=0, help="esp.train docs read (0: all)")
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--loaded", default="machine shared with other jobs",
                        help="what else ran on the machine, for the report")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    train_docs = read_docs(args.data / "conll2002" / "esp.train")[: args.train_docs or None]
    test_docs = read_docs(args.data / "conll2002" / "esp.testb")[: args.infer_docs]
    shuffled = list(train_docs)
    random.Random(0).shuffle(shuffled)
    index = {id(doc): i for i, doc in enumerate(train_docs)}
    batches = [[index[id(doc)] for doc in batch] for batch in minibatch_by_padded_size(
        shuffled, size=args.batch_size, buffer=256, discard_oversize=False,
    )]
    encoder = {"paths.encoder": str(args.encoder)}
    trainers = {
        OURS: Pipeline("teacher-ner-trf.cfg", encoder, train_docs),
        UNFROZEN: Pipeline("teacher-ner-trf.cfg", {**encoder, "components.transformer.model.freeze_embeddings": False}, train_docs),
        PLAIN: PlainFineTune(args.encoder, train_docs),
    }
    warmup, timed_batches = batches[: args.warmup_steps], batches[args.warmup_steps:]
    train_round(trainers, warmup, 0)
    train: Dict[str, List[float]] = {name: [] for name in trainers}
    for r in range(args.rounds):
        part = timed_batches[r * args.steps:(r + 1) * args.steps]
        for name, wps in train_round(trainers, part, r).items():
            train[name].append(wps)
        print(f"train round {r + 1}/{args.rounds}: " + ", ".join(
            f"{n} {v[-1]:,.0f} w/s" for n, v in train.items()), file=sys.stderr, flush=True)
    pipelines: Dict[str, Pipeline] = {TEACHER: trainers[OURS]}  # type: ignore[dict-item]
    del trainers
    for name, width in STUDENT_WIDTHS.items():
        overrides = {"components.tok2vec.model.encode.width": width} if width else {}
        pipelines[name] = Pipeline("student-ner.cfg", overrides, train_docs[:2000])
    infer_round(pipelines, test_docs[: args.chunk], args.chunk, 0)
    infer: Dict[str, List[float]] = {name: [] for name in pipelines}
    for r in range(args.rounds):
        for name, wps in infer_round(pipelines, test_docs, args.chunk, r).items():
            infer[name].append(wps)
        print(f"infer round {r + 1}/{args.rounds}: " + ", ".join(
            f"{n} {v[-1]:,.0f} w/s" for n, v in infer.items()), file=sys.stderr, flush=True)
    command = "python " + shlex.join(["benchmarks/e5_speed.py", *(argv or sys.argv[1:])])
    text = report(train, infer, args.batch_size, args.steps, args.chunk, command, args.loaded)
    print(text)
    write_section(text, args.output, SECTION)


if __name__ == "__main__":
    main()
