"""`train_resumable`: spaCy's `train` and `train_while_improving` (spacy/training/loop.py,
spaCy 3.8) with checkpoints.

Step for step the loop is spaCy's: the same callbacks, updates, evaluations, logger,
model-best / model-last and stopping rules, so a run trains as `spacy train` (and
`spacy kdseq distill`, which trains with spaCy's loop) would. Added: after a step, when a
checkpoint is due, everything the rest of the run depends on is saved (`checkpoint.py`),
and a run that finds its own checkpoint continues from it: weights, optimizer state and
schedules, the position in the data stream, the results and losses so far, model-best,
the evaluations (replayed to the logger, so its log file holds the whole curve) and every
random state. A resumed run takes the same steps with the same numbers as a run that was
never interrupted.
"""
import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from timeit import default_timer as timer
from typing import IO, Any, Dict, Iterator, List, Optional, Tuple

import numpy
from spacy.language import Language
from spacy.schemas import ConfigSchemaTraining
from spacy.training.loop import (
    DIR_MODEL_BEST, DIR_MODEL_LAST, clean_output_dir, create_before_to_disk_callback,
    create_evaluation_callback, subdivide_batch, update_meta,
)
from spacy.util import registry, resolve_dot_names
from thinc.api import Optimizer, constant, fix_random_seed, set_gpu_allocator
from wasabi import Printer

from ..errors import Errors, KDSeqError
from . import checkpoint, optimizer_state, params, rng
from .checkpoint import Checkpointing, Saved
from .stream import Batch, TrainStream, skip


@dataclass
class Resumption:
    """What earlier attempts of a run contributed: the steps it resumed from (spaCy's
    step numbering, as in the dev curve: the last step a checkpoint held; empty if it
    never resumed), their training seconds up to those checkpoints (wall clock, and the
    CPU seconds of all threads: None when a checkpoint older than that count was resumed),
    the notes of its first attempt (`Checkpointing.notes`), and the facts of each attempt
    whose work the run kept (`Checkpointing.attempt`, in order, this one last)."""

    resumed_from: List[int]
    seconds_before: float
    cpu_seconds_before: Optional[float]
    notes: Dict[str, Any]
    attempts: List[Dict[str, Any]]


@dataclass
class LoopState:
    """What the loop carries from step to step (spaCy keeps it in local variables)."""

    step: int = 0  # updates done, i.e. the index of the next step
    results: List[Tuple[float, int]] = field(default_factory=list)  # (dev score, step)
    losses: Dict[str, Any] = field(default_factory=dict)  # since the last evaluation
    words: int = 0
    seconds: float = 0.0  # training seconds so far, earlier attempts included
    # CPU seconds of the process's threads so far: unlike `seconds`, time the process was
    # stopped or waiting for a core is not in it. None: an earlier attempt did not count.
    cpu_seconds: Optional[float] = 0.0
    evaluations: List[Dict[str, Any]] = field(default_factory=list)  # what was logged
    resumed_from: List[int] = field(default_factory=list)

    def to_json(self) -> Dict[str, Any]:
        return {
            "step": self.step, "results": [list(r) for r in self.results],
            "losses": _encode_losses(self.losses), "words": self.words, "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds, "evaluations": self.evaluations,
            "resumed_from": self.resumed_from,
        }

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "LoopState":
        return cls(
            step=data["step"], results=[(score, step) for score, step in data["results"]],
            losses=_decode_losses(data["losses"]), words=data["words"], seconds=data["seconds"],
            # None: a checkpoint written before CPU time was counted
            cpu_seconds=data.get("cpu_seconds"), evaluations=data["evaluations"],
            resumed_from=list(data["resumed_from"]),
        )


def train_resumable(
    nlp: Language, output_path: Optional[Path], checkpointing: Checkpointing, *,
    use_gpu: int = -1, stdout: IO = sys.stdout, stderr: IO = sys.stderr,
) -> Resumption:
    """Train an initialised pipeline like `spacy.training.loop.train`, checkpointing to
    `checkpointing.path` and resuming from the checkpoint found there. The checkpoint is
    kept when training ends: the caller removes it (`checkpoint.remove`) once everything
    it makes of the run is safe."""
    msg = Printer(no_print=True)
    config = nlp.config.interpolate()
    seed = config["training"]["seed"]
    if seed is not None:
        fix_random_seed(seed)
    allocator = config["training"]["gpu_allocator"]
    if use_gpu >= 0 and allocator:
        set_gpu_allocator(allocator)
    T = registry.resolve(config["training"], schema=ConfigSchemaTraining)  # type: ignore[arg-type]
    train_corpus, dev_corpus = resolve_dot_names(config, [T["train_corpus"], T["dev_corpus"]])
    optimizer = T["optimizer"]
    before_to_disk = create_before_to_disk_callback(T["before_to_disk"])
    before_update = T["before_update"]
    frozen_components = T["frozen_components"]
    annotating_components = T["annotating_components"]
    evaluate = create_evaluation_callback(nlp, dev_corpus, T["score_weights"])
    dropouts = constant(T["dropout"]) if isinstance(T["dropout"], float) else T["dropout"]
    stream = TrainStream(nlp, train_corpus, T["batcher"], T["max_epochs"])
    identity = checkpoint.run_identity(nlp.config, stream.digest(), checkpointing.identity)
    saved = checkpoint.load(checkpointing, identity)

    def save_checkpoint(is_best: bool) -> None:
        # spaCy's model-last / model-best, as its loop saves them.
        assert output_path is not None
        with nlp.use_params(optimizer.averages):
            before_to_disk(nlp).to_disk(output_path / DIR_MODEL_LAST)
        if is_best:
            if (output_path / DIR_MODEL_BEST).exists():
                shutil.rmtree(output_path / DIR_MODEL_BEST)
            shutil.copytree(output_path / DIR_MODEL_LAST, output_path / DIR_MODEL_BEST)

    clean_output_dir(output_path)
    state = LoopState()
    notes = dict(checkpointing.notes)
    attempts = [dict(checkpointing.attempt)]
    batches = stream.batches()
    if saved is not None:
        state, batches = _resume(saved, nlp, optimizer, stream, dropouts, checkpointing, output_path)
        notes = saved.values["notes"]
        # Checkpoints written before attempts were kept have none: only this one is known.
        attempts = list(saved.values.get("attempts", [])) + attempts
        stdout.write(msg.info(
            f"Resuming from checkpoint {saved.dir} after step {state.resumed_from[-1]}"
        ) + "\n")
    stdout.write(msg.info(f"Pipeline: {nlp.pipe_names}") + "\n")
    if frozen_components:
        stdout.write(msg.info(f"Frozen components: {frozen_components}") + "\n")
    if annotating_components:
        stdout.write(msg.info(f"Set annotations on update for: {annotating_components}") + "\n")
    stdout.write(msg.info(f"Initial learn rate: {optimizer.learn_rate}") + "\n")
    with nlp.select_pipes(disable=frozen_components):
        log_step, finalize_logger = T["logger"](nlp, stdout, stderr)
    for index, logged in enumerate(state.evaluations):  # the curve so far, to the logger
        log_step({**logged, "checkpoints": state.results[: index + 1]})
    if saved is not None:
        rng.restore(_part(saved.arrays, "random."), saved.values["random"])
        rng.reseed_cupy(seed, state.step)
    seconds_before, cpu_seconds_before = state.seconds, state.cpu_seconds
    start_time = timer() - state.seconds
    cpu_start = time.process_time()
    last_checkpoint = timer()
    try:
        for epoch, batch in batches:
            step = state.step
            # --- spaCy's train_while_improving, one iteration -------------------
            if before_update:
                before_update(nlp, {"step": step, "epoch": epoch})
            dropout = next(dropouts)  # type: ignore[call-overload]
            for subbatch in subdivide_batch(batch, T["accumulate_gradient"]):
                nlp.update(
                    subbatch, drop=dropout, losses=state.losses, sgd=False,  # type: ignore[arg-type]
                    exclude=frozen_components, annotates=annotating_components,
                )
            for name, proc in nlp.pipeline:
                if (
                    name not in frozen_components
                    and hasattr(proc, "is_trainable") and proc.is_trainable
                    and proc.model not in (True, False, None)  # type: ignore[attr-defined]
                ):
                    proc.finish_update(optimizer)  # type: ignore[attr-defined]
            optimizer.step_schedules()
            if not (step % T["eval_frequency"]):
                if optimizer.averages:
                    with nlp.use_params(optimizer.averages):
                        score, other_scores = evaluate()
                else:
                    score, other_scores = evaluate()
                state.results.append((score, step))
                is_best_checkpoint: Optional[bool] = score == max(state.results)[0]
            else:
                score, other_scores = (None, None)
                is_best_checkpoint = None
            state.words += sum(len(eg) for eg in batch)
            info = {
                "epoch": epoch, "step": step, "score": score, "other_scores": other_scores,
                "losses": state.losses, "checkpoints": state.results,
                "seconds": int(timer() - start_time), "words": state.words,
            }
            # --- spaCy's train, one iteration of its loop over the above ----------
            if is_best_checkpoint is not None:
                with nlp.select_pipes(disable=frozen_components):
                    update_meta(T, nlp, info)
                if output_path is not None:
                    save_checkpoint(is_best_checkpoint)
                    info["output_path"] = str(output_path / DIR_MODEL_LAST)
                logged = {key: value for key, value in info.items() if key != "checkpoints"}
                state.evaluations.append(_jsonable(logged))
            log_step(info if is_best_checkpoint is not None else None)
            # --- train_while_improving, after its yield ---------------------------
            if is_best_checkpoint is not None:
                state.losses = {}
            state.step = step + 1
            best_step = -max((r_score, -r_step) for r_score, r_step in state.results)[1]
            if T["patience"] and (step - best_step) >= T["patience"]:
                break
            if T["max_steps"] and step >= T["max_steps"]:
                break
            # --- added: the checkpoint ------------------------------------------
            if _due(checkpointing, state.step, timer() - last_checkpoint):
                state.seconds = timer() - start_time
                if cpu_seconds_before is not None:
                    state.cpu_seconds = cpu_seconds_before + time.process_time() - cpu_start
                _write(checkpointing, nlp, optimizer, stream, state, identity, notes, attempts,
                       output_path, seed)
                last_checkpoint = timer()
    except Exception as e:
        if output_path is not None:
            stdout.write(msg.warn(
                f"Aborting and saving the final best model. Encountered exception: {repr(e)}"
            ) + "\n")
        raise e
    finally:
        finalize_logger()
        if output_path is not None:
            save_checkpoint(False)
    if optimizer.averages:
        nlp.use_params(optimizer.averages)
    if output_path is not None:
        saved_to = output_path / DIR_MODEL_LAST
        stdout.write(msg.good("Saved pipeline to output directory", saved_to) + "\n")
    return Resumption(state.resumed_from, seconds_before, cpu_seconds_before, notes, attempts)


def _resume(
    saved: Saved, nlp: Language, optimizer: Optimizer, stream: TrainStream, dropouts: Any,
    checkpointing: Checkpointing, output_path: Optional[Path],
) -> Tuple[LoopState, Iterator[Tuple[int, Batch]]]:
    """Weights, optimizer, schedules, data stream and model-best as the checkpoint left
    them (the random states are put back last, just before training goes on)."""
    try:
        state = LoopState.from_json(saved.values["loop"])
        params.restore_weights(nlp, _part(saved.arrays, "weights."), saved.values["weights"])
        nlp.meta.update(saved.values["meta"])  # the performance of the last evaluation
        optimizer_state.restore(
            nlp, optimizer, _part(saved.arrays, "optimizer."), saved.values["optimizer"], state.step
        )
        gauss = saved.values["epoch_gauss"]
        words = saved.arrays["epochs"]
        epoch_starts = [rng.python_state_from_array(w, g) for w, g in zip(words, gauss)]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise checkpoint.damaged(checkpointing, repr(err)) from None
    for _ in range(state.step):
        next(dropouts)
    batches = stream.batches(epoch_starts)
    available = skip(batches, state.step)
    if available < state.step:
        raise KDSeqError(Errors.E443.format(
            path=checkpointing.path, step=state.step - 1, available=available,
            max_epochs=stream.max_epochs, owner=checkpointing.owner,
        ))
    if saved.model_best is not None and output_path is not None:
        shutil.copytree(saved.model_best, output_path / DIR_MODEL_BEST)
    state.resumed_from.append(state.step - 1)
    return state, batches


def _write(
    checkpointing: Checkpointing, nlp: Language, optimizer: Optimizer, stream: TrainStream,
    state: LoopState, identity: Dict[str, Any], notes: Dict[str, Any],
    attempts: List[Dict[str, Any]], output_path: Optional[Path], seed: Optional[int],
) -> None:
    # CuPy's state cannot be saved; a resumed run reseeds it at this step too.
    rng.reseed_cupy(seed, state.step)
    weights, names = params.capture_weights(nlp)
    opt_arrays, opt_values = optimizer_state.capture(nlp, optimizer)
    rng_arrays, rng_values = rng.capture()
    starts = [rng.python_state_to_array(s) for s in stream.epoch_starts]
    arrays = {
        **{f"weights.{k}": v for k, v in weights.items()},
        **{f"optimizer.{k}": v for k, v in opt_arrays.items()},
        **{f"random.{k}": v for k, v in rng_arrays.items()},
        "epochs": numpy.stack([words for words, _ in starts]),
    }
    values = {
        "identity": identity, "notes": notes, "attempts": attempts, "loop": state.to_json(),
        "weights": names,
        "meta": _jsonable(nlp.meta), "optimizer": opt_values, "random": rng_values,
        "epoch_gauss": [gauss for _, gauss in starts],
    }
    best = output_path / DIR_MODEL_BEST if output_path is not None else None
    checkpoint.write(checkpointing, state.step - 1, values, arrays, best)


def _due(checkpointing: Checkpointing, steps_done: int, seconds_since: float) -> bool:
    if checkpointing.every_steps > 0:
        return steps_done % checkpointing.every_steps == 0
    return seconds_since >= checkpointing.every_seconds


def _part(arrays: Dict[str, numpy.ndarray], prefix: str) -> Dict[str, numpy.ndarray]:
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}


def _encode_losses(losses: Dict[str, Any]) -> Dict[str, List[Any]]:
    """Losses with their type: a component may sum NumPy float32s, a Python float read
    back would add up differently."""
    return {
        name: [float(value), "float" if type(value) is float else str(numpy.asarray(value).dtype)]
        for name, value in losses.items()
    }


def _decode_losses(data: Dict[str, List[Any]]) -> Dict[str, Any]:
    return {name: value if kind == "float" else numpy.dtype(kind).type(value)
            for name, (value, kind) in data.items()}


def _jsonable(value: Any) -> Any:
    """`value` with NumPy scalars as Python numbers, so that it survives JSON exactly."""
    return json.loads(json.dumps(value, default=_plain))


def _plain(value: Any) -> Any:
    # Scores are numbers (NumPy's among them); anything else is logged as its text.
    return value.item() if isinstance(value, numpy.generic) else str(value)
