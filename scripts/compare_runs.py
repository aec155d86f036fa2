"""Check that two workflow roots (e.g. the smoke run with `serial` and with `ray`) hold the same outputs.

Same files at the same relative paths (a knowledge-cache entry is named by a hash of
its teacher's files, so its key is compared as `<lang>-KEY.npz`), the same run records,
and in every report the same table rows with the same number of runs. Scores are
reported, not required to match: they are what each run learnt, not where its outputs
went (on one CPU with one thread per unit they do match). Used by CI.
"""
import json
import re
from pathlib import Path
from typing import List, Set

import typer

MAX_SHOWN = 30
CACHE_ENTRY = re.compile(r"^(kd-cache/.+/[a-z]+)-[0-9a-f]{20}\.npz$")


def layout(root: Path) -> Set[str]:
    """Every file under `root`, relative, with knowledge-cache keys masked."""
    paths = set()
    for path in root.rglob("*"):
        if path.is_file():
            rel = path.relative_to(root).as_posix()
            paths.add(CACHE_ENTRY.sub(r"\1-KEY.npz", rel))
    return paths


def report_rows(report: Path) -> List[str]:
    """The first two cells (row label, runs) of every table row of a report."""
    rows = []
    for line in report.read_text(encoding="utf8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) > 1 and not set(cells[0]) <= set("-: "):
            rows.append(f"{cells[0]} | {cells[1]}")
    return rows


def same_scores(first: Path, second: Path, paths: List[str]) -> int:
    """How many of the run records `paths` hold the same learning curve and test scores."""
    same = 0
    for rel in paths:
        a, b = (json.loads((root / rel).read_text(encoding="utf8")) for root in (first, second))
        scores = [{lang: {k: v for k, v in s.items() if k != "words_per_second"}
                   for lang, s in record["test"]["languages"].items()} for record in (a, b)]
        same += a["curve"] == b["curve"] and scores[0] == scores[1]
    return same


def main(first: Path, second: Path) -> None:
    errors = []
    a, b = layout(first), layout(second)
    errors += [f"only in {first}: {path}" for path in sorted(a - b)]
    errors += [f"only in {second}: {path}" for path in sorted(b - a)]
    reports = sorted(path for path in a & b if path.endswith("report.md"))
    if not reports:
        errors.append(f"no report.md in both {first} and {second}")
    for rel in reports:
        rows_a, rows_b = report_rows(first / rel), report_rows(second / rel)
        if rows_a != rows_b:
            errors.append(f"{rel}: rows differ:\n  {rows_a}\n  {rows_b}")
    for error in errors[:MAX_SHOWN]:
        print(f"FAIL {error}")
    if len(errors) > MAX_SHOWN:
        print(f"… and {len(errors) - MAX_SHOWN} more differences")
    if errors:
        raise typer.Exit(1)
    records = sorted(p for p in a & b if p.startswith("results/") and p.endswith(".json"))
    print(f"same outputs: {len(a)} files, {len(reports)} reports with the same rows; "
          f"{same_scores(first, second, records)} of {len(records)} run records with the same "
          "learning curve and test scores")


if __name__ == "__main__":
    typer.run(main)
