"""Shared by the benchmark scripts: each rewrites only its own section of docs/benchmarks.md."""
from pathlib import Path


def write_section(text: str, path: Path, heading: str) -> None:
    """Replace the section starting at `heading` with `text` (which starts with it), or
    append `text` if the section is absent; every other section is kept."""
    content = path.read_text(encoding="utf8") if path.exists() else "# Benchmarks\n"
    start = content.find(heading + "\n")
    if start < 0:
        content = content.rstrip("\n") + "\n\n" + text
    else:
        end = content.find("\n## ", start + len(heading))
        rest = content[end + 1:] if end >= 0 else ""
        content = content[:start] + text + ("\n" + rest if rest else "")
    path.write_text(content, encoding="utf8")
