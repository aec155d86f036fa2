"""A thinc optimizer's state (Adam moments, averages, update counts, the gradients it
zeroed), saved under the parameters' stable names (`params.py`). The optimizer's
schedules (learning rate, ...) are generators: they are restored by stepping a fresh
optimizer as often as the run did.
"""
from typing import Any, Dict, Tuple

from spacy.language import Language
from thinc.api import Optimizer
from thinc.backends import get_array_ops

from ..errors import Errors, KDSeqError
from .params import Arrays, parameters, to_numpy

SLOTS = ("mom1", "mom2", "averages")


def capture(nlp: Language, optimizer: Optimizer) -> Tuple[Arrays, Dict[str, Any]]:
    """The optimizer's state and the parameters' gradients as (arrays, JSON-able values)."""
    params = [param for param in parameters(nlp) if param.key is not None]
    known = {param.key for param in params}
    held = {key for slot in SLOTS for key in (getattr(optimizer, slot) or {})}
    held |= {key for key, count in optimizer.nr_update.items() if count}
    unknown = sorted(held - known, key=str)
    if unknown:
        raise KDSeqError(Errors.E442.format(key=unknown[0]))
    arrays: Arrays = {}
    entries = []
    for i, param in enumerate(params):
        entry: Dict[str, Any] = {
            "name": param.name, "shape": list(param.value().shape),
            "nr_update": int(optimizer.nr_update.get(param.key, 0)),
            "last_seen": int(optimizer.last_seen.get(param.key, 0)), "grad": None,
        }
        for slot in SLOTS:
            table = getattr(optimizer, slot)
            if table is not None and param.key in table:
                arrays[f"{slot}_{i}"] = to_numpy(table[param.key])
        grad = param.grad()
        if grad is not None:
            # After an update thinc leaves zeroed gradients behind, and keeps updating
            # (by momentum) every parameter that has one: a zero gradient is not no gradient.
            grad = to_numpy(grad)
            stored = bool(grad.any())
            entry["grad"] = "stored" if stored else "zero"
            if stored:
                arrays[f"grad_{i}"] = grad
        entries.append(entry)
    return arrays, {"params": entries}


def restore(
    nlp: Language, optimizer: Optimizer, arrays: Arrays, values: Dict[str, Any], steps: int
) -> None:
    """Put `capture`'s state into a fresh `optimizer` for `nlp` (weights already loaded),
    and step its schedules `steps` times, as the run did."""
    by_name = {param.name: param for param in parameters(nlp) if param.key is not None}
    for i, entry in enumerate(values["params"]):
        param = by_name.get(entry["name"])
        if param is None or list(param.value().shape) != entry["shape"]:
            raise ValueError(f"parameter {entry['name']} {entry['shape']} is not in the pipeline")
        ops = get_array_ops(param.value())
        if entry["nr_update"]:
            optimizer.nr_update[param.key] = entry["nr_update"]
        if entry["last_seen"]:
            optimizer.last_seen[param.key] = entry["last_seen"]
        for slot in SLOTS:
            table = getattr(optimizer, slot)
            if f"{slot}_{i}" in arrays and table is not None:
                table[param.key] = ops.asarray(arrays[f"{slot}_{i}"])
        if entry["grad"] == "zero":
            param.set_grad(ops.alloc(param.value().shape, dtype=param.value().dtype))
        elif entry["grad"] == "stored":
            param.set_grad(ops.asarray(arrays[f"grad_{i}"]))
    for _ in range(steps):
        optimizer.step_schedules()
