"""Wall time of the smoke workflow's fan-out steps with the `serial` and the `ray` backend.

Converts the smoke corpora once, then for each backend in turn (back to back, same
machine) deletes the smoke run's models, records and knowledge cache and times every
fan-out step (teachers, annotate, distill, spacy; NER then POS) as `spacy project run`
runs it. Overwrites ./smoke. Run from the project root:

    python benchmarks/workflow_backends.py --local-data ../shared/data

`--max-steps N` trains every teacher, student and stock-spaCy model of the smoke
workflow N steps instead of project.yml's `smoke_max_steps` (80), to see how the
backends compare as units grow longer than the steps' fixed costs.
"""
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import typer

FAN_OUT = ("teachers", "annotate", "distill", "spacy")


def _project_run(step: str, local_data: Path, backend: str, extra: List[str]) -> float:
    Path("project.lock").unlink(missing_ok=True)  # run the step even if its outputs exist
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "spacy", "project", "run", step, ".",
         "--vars.local_data", str(local_data), "--vars.backend", backend, *extra],
        check=True, stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main(
    local_data: Path = typer.Option(..., help="Folder laid out like ../shared/data"),
    backends: str = typer.Option("serial ray", help="Backends to time, in this order"),
    max_steps: int = typer.Option(0, help="Training steps per unit (0: project.yml's smoke_max_steps)"),
) -> None:
    tasks = ("ner", "pos")
    steps = [f"smoke-{task}-{name}" for task in tasks for name in FAN_OUT]
    shutil.rmtree("smoke", ignore_errors=True)
    # Dev evaluation twice per run, as the smoke workflow's 80 steps / 40 do.
    extra = ["--vars.smoke_max_steps", str(max_steps), "--vars.smoke_eval_frequency",
             str(max(1, max_steps // 2))] if max_steps else []
    for step in ["data", *(f"smoke-{task}-convert" for task in tasks)]:
        _project_run(step, local_data, "serial", [])
    times: Dict[str, List[float]] = {}
    for backend in backends.split():
        for name in ("training", "results", "kd-cache"):
            shutil.rmtree(Path("smoke") / name, ignore_errors=True)
        times[backend] = [_project_run(step, local_data, backend, extra) for step in steps]
    names = list(times)
    print(f"| step | {' | '.join(f'{b} s' for b in names)} |")
    print(f"|---|{'---:|' * len(names)}")
    for i, step in enumerate(steps):
        print(f"| {step} | {' | '.join(f'{times[b][i]:.1f}' for b in names)} |")
    print(f"| total | {' | '.join(f'{sum(times[b]):.1f}' for b in names)} |")
    if len(names) == 2:
        print(f"{names[1]} / {names[0]}: {sum(times[names[1]]) / sum(times[names[0]]):.2f}×")


if __name__ == "__main__":
    typer.run(main)
