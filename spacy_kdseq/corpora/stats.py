"""Counts of what a conversion read, wrote and skipped by design."""
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class CorpusStats:
    """Running totals, filled in by the readers as they stream a file."""

    sentences: int = 0
    tokens: int = 0
    entities: int = 0
    tags: int = 0
    skipped: Counter = field(default_factory=Counter)

    def add_sentence(self, n_tokens: int) -> None:
        """Count one sentence of `n_tokens` tokens read."""
        self.sentences += 1
        self.tokens += n_tokens

    def summary(self) -> str:
        """One line for the CLI, e.g. '8323 sentences, 264715 tokens, …'."""
        parts = [f"{self.sentences} sentences", f"{self.tokens} tokens"]
        if self.entities:
            parts.append(f"{self.entities} entities")
        if self.tags:
            parts.append(f"{self.tags} tags")
        skipped = ", ".join(f"{n} {what}" for what, n in sorted(self.skipped.items()))
        return ", ".join(parts) + (f"; skipped by design: {skipped}" if skipped else "")
