"""Units of work of the project workflow: one training run, start to finished record.

A `TrainUnit` trains one pipeline (a teacher, a student or a stock-spaCy model) with
the same code path as `spacy train` / `spacy kdseq distill`, evaluates model-best on
the test files, and writes its run record (`records.py`). It is atomic: training
happens in a temporary directory beside the output, renamed into place when done,
and the record is written last with a rename, so a unit killed at any point leaves
nothing that a rerun would trust, and never touches another unit's output.

It is also resumable: while it trains, the unit writes a checkpoint beside its output
(`<output>.checkpoint/`, see `spacy_kdseq.training`) every `checkpoint_seconds`, and a
rerun of a killed unit continues from it, to the same model and record as a run never
interrupted (its record lists the steps it resumed from). The checkpoint goes once the
record is written. One unit is trained by one process at a time: a rerun takes over
what a killed attempt left behind.
"""
import json
import shlex
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

# Everything a unit runs is imported when the unit module is: a run lasts hours, and
# code changed on disk meanwhile must not be half-imported at its end (evaluation).
import spacy
import torch
from spacy.training.initialize import init_nlp
from spacy.util import load_config
from thinc.api import Config
from wasabi import msg

from ..crf import preload_compiled
from ..device import setup_device
from ..distill.train import init_student, unhook_student
from ..errors import Warnings
from ..evaluation import evaluate_pipeline, load_gold
from ..fileio import replace_dir
from ..run_record import make_record
from ..training import checkpoint
from ..training.checkpoint import Checkpointing
from ..training.loop import Resumption, train_resumable
from . import provenance
from .layout import checkpoint_path
from .records import git_state, machine_info, read_curve, summarise_training, write_json_atomic

# The compiled CRF kernels would otherwise be imported at the first dev evaluation.
preload_compiled()

LOG_NAME = "train-log.jsonl"
# Set on a student whose corpus folder holds more languages than the unit trains on.
LANGUAGES_KEY = "corpora.train.languages"
# Where a student's teachers lie: a unit knows its teachers by content (`inputs`) and
# variant, so neither a record nor a checkpoint is another run's for naming other folders.
TEACHER_PATH_KEYS = ("paths.teachers.", "distillation.teachers.")


@dataclass(frozen=True)
class TrainUnit:
    """One training run and where its model and its record go."""

    task: str
    kind: str  # "teacher" | "student" | "spacy"
    name: str  # the language (teacher, spaCy model) or the method (student)
    config: Path
    output: Path  # model-best / model-last / train-log.jsonl end up here
    record: Path  # results/<task>/…json
    train: Path
    dev: Path
    train_langs: Tuple[str, ...]
    test_files: Tuple[Path, ...]
    seed: int = 0
    variant: str = "default"
    overrides: Dict[str, Any] = field(default_factory=dict)
    teachers: Optional[Dict[str, str]] = None  # students only: {lang: teacher model-best}
    teacher_variant: str = "default"  # students only: whose teachers `teachers` are
    gpu_id: int = -1
    checkpoint_seconds: float = 900.0  # wall time between checkpoints while training
    checkpoint_steps: int = 0  # > 0: a checkpoint every that many steps instead

    @property
    def train_languages(self) -> Optional[List[str]]:
        """The languages the training reader is told to keep (None: every doc it finds)."""
        selected = self.overrides.get(LANGUAGES_KEY)
        return None if selected is None else list(selected)

    @property
    def label(self) -> str:
        """How messages name the unit, e.g. ``student posterior seed 1 (w64)``."""
        text = f"{self.task} {self.kind} {self.name}"
        if self.kind == "student":
            text += f" seed {self.seed}"
        if self.variant != "default":
            text += f" ({self.variant})"
        if self.kind == "student" and self.teacher_variant != "default":
            text += f" (teachers {self.teacher_variant})"
        return text

    def inputs(self) -> Dict[str, Dict[str, str]]:
        """The content hashes of every corpus file and teacher the run reads."""
        return {
            "corpus": provenance.corpus_hashes([self.train, self.dev, *self.test_files]),
            "teachers": provenance.teacher_hashes(self.teachers or {}),
        }

    def encoder(self) -> str:
        """The encoder the run trains: "cnn" or the transformer's name or directory."""
        return provenance.config_encoder(self.config, self.all_overrides())

    def settings(self) -> Dict[str, Any]:
        """The run's whole config as it will train (uninterpolated), by `section.key`."""
        return provenance.flatten(self.run_config(self.all_overrides()))

    def run_config(self, overrides: Dict[str, Any]) -> Config:
        """The unit's config with `overrides`, uninterpolated, as it trains: a student's
        teachers are exactly this run's, whatever the config lists by default."""
        config = load_config(self.config, overrides=overrides, interpolate=False)
        if self.kind != "student":
            return config
        teachers = dict(self.teachers or {})
        if isinstance(config.get("paths", {}).get("teachers"), dict):
            # Named once, under paths: the saved config then says which teachers taught
            # the student, and `--paths.teachers.<lang>` still reaches the distillation.
            config["paths"]["teachers"] = teachers
            teachers = {lang: f"${{paths.teachers.{lang}}}" for lang in teachers}
        config["distillation"]["teachers"] = teachers
        return config

    def all_overrides(self) -> Dict[str, Any]:
        """Every config override of the run except the temporary log path."""
        return {
            "paths.train": str(self.train), "paths.dev": str(self.dev),
            "system.seed": self.seed, **self.overrides,
        }

    def command(self) -> str:
        """The equivalent command line, printed for every unit."""
        args = " ".join(f"--{key} {_quote(value)}" for key, value in self.all_overrides().items())
        if self.kind == "student":
            return (f"python -m spacy kdseq distill {self.config} --output {self.output} "
                    f"--gpu-id {self.gpu_id} {args}")
        return f"python -m spacy train {self.config} --output {self.output} --gpu-id {self.gpu_id} {args}"


def run_unit(unit: TrainUnit) -> Dict[str, Any]:
    """Train (or go on training from the unit's checkpoint), evaluate and record one unit
    atomically; returns the record."""
    code = git_state()  # the code this run starts from, whatever changes while it trains
    # What the run reads, hashed before it reads it.
    inputs = unit.inputs()
    settings = unit.settings()
    train_langs = provenance.languages_read(unit.train, unit.train_languages)
    machine = machine_info(torch.get_num_threads(), unit.gpu_id)
    checkpointing = Checkpointing(
        checkpoint_path(unit.output), unit.label, every_seconds=unit.checkpoint_seconds,
        every_steps=unit.checkpoint_steps, identity={"inputs": inputs}, notes={"code": list(code)},
        attempt={"machine": machine},
        unrelated=tuple(f"config.{key}" for key in TEACHER_PATH_KEYS),
    )
    _remove_partials(unit.output)
    tmp = unit.output.parent / f".{unit.output.name}.partial-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        overrides = {**unit.all_overrides(), "paths.log": str(tmp / LOG_NAME)}
        start, cpu_start = time.perf_counter(), time.process_time()
        resumption = _train(unit, tmp, overrides, checkpointing)
        # The training time the earlier attempts kept (up to their last checkpoint).
        wall = time.perf_counter() - start + resumption.seconds_before
        cpu = (None if resumption.cpu_seconds_before is None
               else time.process_time() - cpu_start + resumption.cpu_seconds_before)
        curve = read_curve(tmp / LOG_NAME)
        training = summarise_training(
            curve, _training_section(tmp), wall, cpu, unit.output / LOG_NAME
        )
        _forget_log_path(tmp)
        test = _evaluate(unit, tmp / "model-best")
        replace_dir(tmp, unit.output)
        model = provenance.model_hash(unit.output / "model-best")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    # A resumed run is recorded with the code it started from.
    started = tuple(resumption.notes.get("code", code))
    if started[0] != code[0]:
        msg.warn(Warnings.W441.format(owner=unit.label, now=code[0], then=started[0]))
    _compare_with_recorded_model(unit, model)
    record = make_record(
        task=unit.task, kind=unit.kind, name=unit.name, variant=unit.variant, seed=unit.seed,
        train_langs=train_langs, overrides=unit.all_overrides(), training=training,
        curve=curve, test=test, code=started, machine=machine,
        earlier_machines=[a["machine"] for a in resumption.attempts[:-1] if "machine" in a],
        teacher_variant=unit.teacher_variant if unit.kind == "student" else None,
        settings=settings, inputs=inputs,
        encoder=unit.encoder(),
        teacher_encoders=provenance.teacher_encoders(unit.teachers or {}),
        resumed_from=resumption.resumed_from, model_sha256=model,
    )
    write_json_atomic(unit.record, record)
    checkpoint.remove(checkpointing.path)
    return record


def _train(
    unit: TrainUnit, output: Path, overrides: Dict[str, Any], checkpointing: Checkpointing
) -> Resumption:
    """`spacy train` (or `spacy kdseq distill` for a student) into `output`, in spaCy's
    training loop made resumable."""
    setup_device(unit.gpu_id)
    if unit.kind == "student":
        path = output / "config.cfg"
        unit.run_config(overrides).to_disk(path)
        nlp, prepared = init_student(path, use_gpu=unit.gpu_id)
        try:
            return train_resumable(nlp, output, checkpointing, use_gpu=unit.gpu_id)
        finally:
            unhook_student(nlp, prepared)
    nlp = init_nlp(unit.run_config(overrides), use_gpu=unit.gpu_id)
    return train_resumable(nlp, output, checkpointing, use_gpu=unit.gpu_id)


def _compare_with_recorded_model(unit: TrainUnit, model: str) -> None:
    """A unit rerun over its own record (its model was gone, e.g. on a fresh machine):
    say whether it made the recorded model again, byte for byte. Students name their
    teachers by sha256, so a teacher that differs makes their records stale (E431)."""
    if not unit.record.exists():
        return
    before = json.loads(unit.record.read_text(encoding="utf8")).get("model_sha256")
    if before is None:
        return
    if before == model:
        msg.good(f"{unit.label}: the same model-best as its record's, byte for byte (sha256 {model[:12]})")
    else:
        msg.warn(Warnings.W442.format(owner=unit.label, record=unit.record, then=before[:12], now=model[:12]))


def _forget_log_path(output: Path) -> None:
    """Set `paths.log` to null in the configs the run saved. It named this attempt's
    temporary folder, gone once the unit is done, and a random name in a model's config
    would make a teacher retrained byte for byte hash differently from the recorded one
    (students keep their teachers' sha256)."""
    for folder in (output, output / "model-best", output / "model-last"):
        path = folder / "config.cfg"
        if path.exists():
            config = load_config(path, interpolate=False)
            config["paths"]["log"] = None
            config.to_disk(path)


def _training_section(output: Path) -> Dict[str, Any]:
    return load_config(output / "model-best" / "config.cfg", interpolate=False)["training"]


def _evaluate(unit: TrainUnit, model: Path) -> Dict[str, Any]:
    nlp = spacy.load(model)
    gold, files = load_gold([(None, path) for path in unit.test_files], nlp)
    final = unit.output / "model-best"
    return evaluate_pipeline(nlp, gold, task=unit.task, model=str(final), files=files, progress=False)


def _remove_partials(output: Path) -> None:
    """Delete what killed attempts of this unit left half-written (a rerun owns the unit)."""
    for partial in output.parent.glob(f".{output.name}.partial-*"):
        shutil.rmtree(partial, ignore_errors=True)


def _quote(value: Any) -> str:
    return shlex.quote(str(value))
