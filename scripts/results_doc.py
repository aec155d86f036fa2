"""Copy the tables of `results/<task>/report.md` into docs/results.md.

docs/results.md marks each generated block with a pair of comments::

    <!-- report ner main -->
    ...replaced...
    <!-- /report ner main -->

and this script replaces what lies between them with the matching section of the task's
report (`main`, `zero-shot`, `verdicts`, `cost`, `runs`, or `variant-<name>` for the
section of variant `<name>`, e.g. `variant-e5`), so the page's numbers are always the
report's, rebuilt from the run records. The prose around the blocks is written by hand.
"""
import re
import sys
from pathlib import Path
from typing import Dict

import typer

HEADINGS = {"zero-shot": "## Zero-shot", "verdicts": "## Verdicts", "cost": "## Training cost",
            "runs": "## Runs"}
VARIANT = re.compile(r"## Variant `([\w-]+)`\n")
BLOCK = re.compile(r"(<!-- report (\w+) ([\w-]+) -->\n)(.*?)(<!-- /report \2 \3 -->)", re.S)


def sections(report: str) -> Dict[str, str]:
    """The report's sections by name; `main` is the table before the first heading."""
    parts = re.split(r"^(?=## )", report, flags=re.M)
    main = parts[0]
    out = {"main": main[main.index("| |"):].strip()}
    for part in parts[1:]:
        for name, heading in HEADINGS.items():
            if part.startswith(heading + "\n"):
                out[name] = part[len(heading):].strip()
        variant = VARIANT.match(part)
        if variant:
            out[f"variant-{variant.group(1)}"] = part[variant.end():].strip()
    return out


def main(doc: Path = typer.Argument(Path("docs/results.md")),
         results: Path = typer.Option(Path("results"), help="Folder with <task>/report.md")) -> None:
    text = doc.read_text(encoding="utf8")
    reports: Dict[str, Dict[str, str]] = {}

    def replace(match: "re.Match[str]") -> str:
        task, name = match.group(2), match.group(3)
        report = results / task / "report.md"
        if not report.exists():
            print(f"{report} does not exist (run the {task}-report step): block '{name}' kept")
            return match.group(0)
        if task not in reports:
            reports[task] = sections(report.read_text(encoding="utf8"))
        if name not in reports[task]:
            sys.exit(f"{results / task / 'report.md'} has no '{name}' section for {doc}")
        return f"{match.group(1)}{reports[task][name]}\n{match.group(5)}"

    new, count = BLOCK.subn(replace, text)
    doc.write_text(new, encoding="utf8")
    print(f"{doc}: {count} blocks from {', '.join(sorted(reports)) or 'no report'}")


if __name__ == "__main__":
    typer.run(main)
