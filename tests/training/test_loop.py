"""The resumable loop trains exactly as spaCy's, and its data stream replays exactly."""
import random
from pathlib import Path
from typing import Dict, List

import pytest
import spacy
from spacy.training import Example
from spacy.training.initialize import init_nlp
from spacy.training.loop import train
from spacy.util import load_config, registry
from thinc.api import compounding

from spacy_kdseq.corpora import convert_corpus
from spacy_kdseq.training.checkpoint import Checkpointing
from spacy_kdseq.training.loop import train_resumable
from spacy_kdseq.training.stream import TrainStream, skip

REPO = Path(__file__).resolve().parents[2]


def _weights(model: Path) -> Dict[str, bytes]:
    """Every file of a saved pipeline but its config (which names the log file) and meta
    (whose per-type scores come in set order)."""
    return {
        str(path.relative_to(model)): path.read_bytes() for path in sorted(model.rglob("*"))
        if path.is_file() and path.name not in ("config.cfg", "meta.json")
    }


def test_the_loop_trains_as_spacys(shared_data: Path, tmp_path: Path) -> None:
    """Without a checkpoint to resume from, the same steps as `spacy train`, to the bit."""
    corpus = {}
    for split, suffix in (("train", "train"), ("dev", "testa")):
        corpus[split] = tmp_path / f"{split}.spacy"
        convert_corpus(shared_data / "conll2002" / f"esp.{suffix}", corpus[split], "es", limit=40)
    overrides = {
        "paths.train": str(corpus["train"]), "paths.dev": str(corpus["dev"]),
        "components.tok2vec.model.encode.width": 32, "components.tok2vec.model.encode.depth": 1,
        "training.max_steps": 12, "training.eval_frequency": 4,
        "training.batcher.size.start": 60, "training.batcher.size.compound": 1.1,
    }
    outputs = {}
    for name in ("spacy", "resumable"):
        out = tmp_path / name
        out.mkdir()
        config = load_config(REPO / "configs" / "teacher-ner.cfg", interpolate=False,
                             overrides={**overrides, "paths.log": str(out / "log.jsonl")})
        nlp = init_nlp(config)
        if name == "spacy":
            train(nlp, out)
        else:
            done = train_resumable(nlp, out, Checkpointing(tmp_path / "ck", "test", every_steps=5))
            assert done.resumed_from == [] and (tmp_path / "ck" / "LATEST").read_text() == "step-000000009"
        outputs[name] = out
    logs = [(out / "log.jsonl").read_text().splitlines() for out in outputs.values()]
    assert len(logs[0]) == 4 and logs[0] == logs[1]
    for model in ("model-best", "model-last"):
        assert _weights(outputs["spacy"] / model) == _weights(outputs["resumable"] / model)


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
