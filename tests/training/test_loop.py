"""The resumable loop trains exactly as spaCy's, and its data stream replays exactly."""
import random
from pathlib import Path
from typing import Any, Dict, List

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import DocBin
from spacy.training import Example
from spacy.training.initialize import init_nlp
from spacy.training.loop import train
from spacy.util import load_config, registry
from spacy.vocab import Vocab
from thinc.api import compounding

from spacy_kdseq.corpora import convert_corpus
from spacy_kdseq.training.checkpoint import Checkpointing
from spacy_kdseq.training.loop import Resumption, train_resumable
from spacy_kdseq.training.stream import TrainStream, skip

from ._interrupt import stopped_after_first_checkpoint

REPO = Path(__file__).resolve().parents[2]


def _weights(model: Path) -> Dict[str, bytes]:
    """Every file of a saved pipeline but its config (which names the log file) and meta
    (whose per-type scores come in set order)."""
    return {
        str(path.relative_to(model)): path.read_bytes() for path in sorted(model.rglob("*"))
        if path.is_file() and path.name not in ("config.cfg", "meta.json")
    }


def _corpus(shared_data: Path, tmp_path: Path) -> Dict[str, str]:
    paths = {}
    for split, suffix in (("train", "train"), ("dev", "testa")):
        path = tmp_path / f"{split}.spacy"
        convert_corpus(shared_data / "conll2002" / f"esp.{suffix}", path, "es", limit=40)
        paths[f"paths.{split}"] = str(path)
    return paths


def _init(config: str, overrides: Dict[str, Any], out: Path) -> Language:
    out.mkdir()
    return init_nlp(load_config(REPO / "configs" / config, interpolate=False,
                                overrides={**overrides, "paths.log": str(out / "log.jsonl")}))


def _resumable(config: str, overrides: Dict[str, Any], out: Path, ck: Path) -> Resumption:
    """A fresh pipeline trained into `out` by the resumable loop, checkpoints every 5 steps."""
    return train_resumable(_init(config, overrides, out), out, Checkpointing(ck, "test", every_steps=5))


def _compare(first: Path, second: Path) -> None:
    """The same dev curve and losses in the log, and the same weights, to the bit."""
    log = (first / "log.jsonl").read_text().splitlines()
    assert len(log) == 4 and (second / "log.jsonl").read_text().splitlines() == log
    for model in ("model-best", "model-last"):
        assert _weights(second / model) == _weights(first / model)


def test_the_loop_trains_as_spacys(shared_data: Path, tmp_path: Path) -> None:
    """Without a checkpoint to resume from, the same steps as `spacy train`, to the bit."""
    overrides = {
        **_corpus(shared_data, tmp_path),
        "components.tok2vec.model.encode.width": 32, "components.tok2vec.model.encode.depth": 1,
        "training.max_steps": 12, "training.eval_frequency": 4,
        "training.batcher.size.start": 60, "training.batcher.size.compound": 1.1,
    }
    train(_init("teacher-ner.cfg", overrides, tmp_path / "spacy"), tmp_path / "spacy")
    done = _resumable("teacher-ner.cfg", overrides, tmp_path / "resumable", tmp_path / "ck")
    assert done.resumed_from == [] and (tmp_path / "ck" / "LATEST").read_text() == "step-000000009"
    _compare(tmp_path / "spacy", tmp_path / "resumable")


def test_a_transformer_run_resumes_to_the_bit(shared_data: Path, tmp_path: Path, tiny_bert,
                                              monkeypatch) -> None:
    """PyTorch parameters (Adam moments keyed by shim), torch's dropout generator, a frozen
    embedding matrix and a warmup schedule: resumed, the same run as uninterrupted."""
    overrides = _corpus(shared_data, tmp_path)
    docs = DocBin().from_disk(overrides["paths.train"]).get_docs(Vocab())
    words = [token.text for doc in docs for token in doc]
    overrides.update({
        "paths.encoder": str(tiny_bert(words, tmp_path / "tiny-bert")),
        "training.max_steps": 12, "training.eval_frequency": 4, "training.batcher.size": 150,
        "training.optimizer.learn_rate.warmup_steps": 3,
        "training.optimizer.learn_rate.total_steps": 12,
        "training.optimizer.learn_rate.initial_rate": 1e-3,
    })
    config = "teacher-ner-trf.cfg"
    _resumable(config, overrides, tmp_path / "whole", tmp_path / "ck-whole")
    with stopped_after_first_checkpoint(monkeypatch):
        _resumable(config, overrides, tmp_path / "killed", tmp_path / "ck")
    done = _resumable(config, overrides, tmp_path / "resumed", tmp_path / "ck")
    assert done.resumed_from == [4]
    _compare(tmp_path / "whole", tmp_path / "resumed")


def _examples(n: int) -> List[Example]:
    nlp = spacy.blank("xx")
    rng = random.Random(1)
    return [
        Example.from_dict(nlp.make_doc(" ".join(f"w{i}" for _ in range(rng.randint(1, 9)))), {})
        for i in range(n)
    ]


def _stream(examples: List[Example]) -> TrainStream:
    # A fresh batcher each time: its compounding size schedule advances across epochs.
    batcher = registry.batchers.get("spacy.batch_by_words.v1")(
        size=compounding(4.0, 30.0, 1.1), tolerance=0.2, discard_oversize=False
    )
    return TrainStream(spacy.blank("xx"), lambda nlp: examples, batcher, max_epochs=0)


@pytest.mark.parametrize("at", [3, 25])
def test_the_stream_replays_to_any_step(at: int) -> None:
    """Replayed with its epochs' start states, the stream goes on as it went, even where
    something else drew from Python's `random` between batches (a callback, say)."""
    examples = _examples(20)
    random.seed(0)
    stream = _stream(examples)
    batches = stream.batches()
    drawn, saved = [], None
    for step in range(40):
        epoch, batch = next(batches)
        drawn.append((epoch, [eg.reference.text for eg in batch]))
        random.random()
        if step + 1 == at:
            saved = (list(stream.epoch_starts), random.getstate())
    assert drawn[-1][0] >= 3, "the test should span several epochs"

    def replay(epoch_starts) -> list:
        random.seed(0)
        again = _stream(examples)
        batches = again.batches(epoch_starts)
        assert skip(batches, at) == at
        random.setstate(saved[1])
        rest = []
        for _ in range(40 - at):
            epoch, batch = next(batches)
            rest.append((epoch, [eg.reference.text for eg in batch]))
            random.random()
        return rest

    assert replay(saved[0]) == drawn[at:]
    if drawn[at - 1][0] > 0:  # past the first epoch, the start states are what replays it
        assert replay(()) != drawn[at:]


def test_skip_says_where_a_stream_ends() -> None:
    stream = TrainStream(spacy.blank("xx"), lambda nlp: _examples(5), lambda egs: [[eg] for eg in egs],
                         max_epochs=2)
    assert skip(stream.batches(), 12) == 10
