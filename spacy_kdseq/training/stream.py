"""The training batches of spaCy's loop (`spacy.training.loop.create_train_batches`),
replayable to any step.

The same epochs, shuffles and batches as spaCy's, plus the Python random state at the
start of every epoch. Replaying those states reproduces the stream exactly, including
what no checkpoint could capture from outside: the in-place shuffles that carry over from
epoch to epoch, and a batcher's size schedule (`compounding.v1`), a generator that
advances across epochs.
"""
import hashlib
import json
import random
from typing import Callable, Iterable, Iterator, List, Optional, Sequence, Tuple

from spacy.errors import Errors as SpacyErrors
from spacy.language import Language
from spacy.training import Example

from . import rng

Batch = List[Example]


class TrainStream:
    """`(epoch, batch)` pairs as spaCy's loop draws them, with each epoch's start state."""

    def __init__(
        self, nlp: Language, corpus: Callable[[Language], Iterable[Example]],
        batcher: Callable[[Iterable[Example]], Iterable[Batch]], max_epochs: int,
    ) -> None:
        self.nlp = nlp
        self.corpus = corpus
        self.batcher = batcher
        self.max_epochs = max_epochs
        # spaCy reads the corpus once, at the first batch; nothing draws random numbers in
        # between, so reading it here changes nothing.
        self.examples: Optional[List[Example]] = None
        if max_epochs >= 0:
            self.examples = list(corpus(nlp))
            if not self.examples:
                raise ValueError(SpacyErrors.E986)
        self.epoch_starts: List[rng.PythonState] = []

    def digest(self) -> Optional[str]:
        """sha256 of the training examples in reading order (None for a streamed corpus,
        max_epochs = -1, which is never read ahead)."""
        if self.examples is None:
            return None
        h = hashlib.sha256()
        for eg in self.examples:
            # Not `Doc.to_bytes`: it lists the doc's strings in set order, which changes
            # from process to process.
            h.update(json.dumps(eg.reference.to_json(), sort_keys=True).encode("utf8"))
        return h.hexdigest()

    def batches(self, epoch_starts: Sequence[rng.PythonState] = ()) -> Iterator[Tuple[int, Batch]]:
        """The stream from its first batch; `epoch_starts` replays a run's first epochs."""
        self.epoch_starts = list(epoch_starts)
        # spaCy shuffles its list in place, epoch after epoch; a copy keeps reading order.
        examples = None if self.examples is None else list(self.examples)
        epoch = 0
        while self.max_epochs < 1 or epoch != self.max_epochs:
            if epoch < len(self.epoch_starts):
                random.setstate(self.epoch_starts[epoch])
            else:
                self.epoch_starts.append(random.getstate())
            if self.max_epochs >= 0:
                random.shuffle(examples)  # type: ignore[arg-type]
            else:
                examples = self.corpus(self.nlp)  # type: ignore[assignment]
            for batch in self.batcher(examples):  # type: ignore[arg-type]
                yield epoch, batch
            epoch += 1


def skip(batches: Iterator[Tuple[int, Batch]], n: int) -> int:
    """Draw `n` batches from `batches` unused; returns how many there were (< n: it ended)."""
    for done in range(n):
        if next(batches, None) is None:
            return done
    return n
