"""A thinc optimizer's state, saved under parameter names that survive a new process.

Thinc keys the optimizer's state (Adam moments, averages, update counts) by
`(model.id, name)` for thinc parameters and `(shim.id, name)` for the parameters of a
PyTorch module, and ids are handed out at run time. Here every parameter is named by
where it sits instead: ``<component>/<node index in model.walk()>/<param>``, plus
``/shim<j>/<torch name>`` inside a PyTorch shim. The optimizer's schedules (learning
rate, ...) are generators: they are restored by stepping a fresh optimizer as often as
the run did.
"""
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy
from spacy.language import Language
from thinc.api import Model, Optimizer
from thinc.backends import get_array_ops
from thinc.types import FloatsXd

from ..errors import Errors, KDSeqError

Arrays = Dict[str, numpy.ndarray]
SLOTS = ("mom1", "mom2", "averages")


@dataclass
class Parameter:
    """One trainable array, by its stable name and its optimizer key in this process."""

    name: str
    key: Tuple[int, str]
    value: Callable[[], FloatsXd]
    grad: Callable[[], Optional[FloatsXd]]
    set_grad: Callable[[FloatsXd], None]


def parameters(nlp: Language) -> List[Parameter]:
    """Every parameter of every component's model, each once, in a stable order."""
    found: List[Parameter] = []
    seen_nodes, seen_shims = set(), set()
    for component, proc in nlp.components:
        model = getattr(proc, "model", None)
        if not isinstance(model, Model):
            continue
        for index, node in enumerate(model.walk()):
            if node.id in seen_nodes:  # shared with a component listed before
                continue
            seen_nodes.add(node.id)
            prefix = f"{component}/{index}"
            for name in node.param_names:
                if node.has_param(name):
                    found.append(_thinc_parameter(node, name, f"{prefix}/{name}"))
            for j, shim in enumerate(node.shims):
                if shim.id not in seen_shims:
                    seen_shims.add(shim.id)
                    found.extend(_torch_parameters(shim, f"{prefix}/shim{j}"))
    return found


def _thinc_parameter(node: Model, name: str, stable: str) -> Parameter:
    return Parameter(
        stable, (node.id, name), lambda: node.get_param(name),
        lambda: node.get_grad(name) if node.has_grad(name) else None,
        lambda grad: node.set_grad(name, grad),
    )


def _torch_parameters(shim: Any, prefix: str) -> List[Parameter]:
    # Thinc keeps a shim's PyTorch module in `_model` (spacy-transformers reads it there
    # too); a shim of another framework has no such module.
    module = getattr(shim, "_model", None)
    if module is None or not hasattr(module, "named_parameters"):
        return []
    from thinc.api import torch2xp, xp2torch

    def make(name: str, tensor: Any) -> Parameter:
        def set_grad(grad: FloatsXd) -> None:
            tensor.grad = xp2torch(grad, device=tensor.device)

        return Parameter(
            f"{prefix}/{name}", (shim.id, name), lambda: torch2xp(tensor.data),
            lambda: None if tensor.grad is None else torch2xp(tensor.grad), set_grad,
        )

    return [make(name, tensor) for name, tensor in module.named_parameters()]


def capture(nlp: Language, optimizer: Optimizer) -> Tuple[Arrays, Dict[str, Any]]:
    """The optimizer's state and the parameters' gradients as (arrays, JSON-able values)."""
    params = parameters(nlp)
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
                arrays[f"{slot}_{i}"] = _to_numpy(table[param.key])
        grad = param.grad()
        if grad is not None:
            # After an update thinc leaves zeroed gradients behind, and keeps updating
            # (by momentum) every parameter that has one: a zero gradient is not no gradient.
            grad = _to_numpy(grad)
            entry["grad"] = "stored" if grad.any() else "zero"
            if grad.any():
                arrays[f"grad_{i}"] = grad
        entries.append(entry)
    return arrays, {"params": entries}


def restore(
    nlp: Language, optimizer: Optimizer, arrays: Arrays, values: Dict[str, Any], steps: int
) -> None:
    """Put `capture`'s state into a fresh `optimizer` for `nlp` (weights already loaded),
    and step its schedules `steps` times, as the run did."""
    by_name = {param.name: param for param in parameters(nlp)}
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


def _to_numpy(array: FloatsXd) -> numpy.ndarray:
    return numpy.array(get_array_ops(array).to_numpy(array), copy=True)
