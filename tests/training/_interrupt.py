"""Stop a training run right after it writes its first checkpoint, as a kill would."""
from contextlib import contextmanager
from typing import Iterator

import pytest

from spacy_kdseq.training import checkpoint


@contextmanager
def stopped_after_first_checkpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run the body with `checkpoint.write` raising KeyboardInterrupt once it has written;
    the body must be interrupted."""
    write = checkpoint.write

    def write_then_stop(*args, **kwargs):
        write(*args, **kwargs)
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(checkpoint, "write", write_then_stop)
        with pytest.raises(KeyboardInterrupt):
            yield
