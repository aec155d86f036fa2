"""A pipeline's trained arrays under names that survive a new process, and its weights
saved and put back in place.

Thinc keys optimizer state by `(model.id, name)` for thinc parameters and `(shim.id,
name)` for the parameters of a PyTorch module, and ids are handed out at run time. Here
every array is named by where it sits instead: ``<component>/<node index in
model.walk()>/<param>``, plus ``/shim<j>/<torch name>`` inside a PyTorch shim.

Weights are put back into the pipeline's own arrays rather than with `nlp.from_disk`:
spacy-transformers' `from_disk` rebuilds the Hugging Face model from a JSON copy of its
config written at limited precision (`layer_norm_eps` 1e-12 comes back as 0.0), so a
resumed run would no longer be the same model.
"""
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy
from spacy.language import Language
from thinc.api import Model
from thinc.backends import get_array_ops
from thinc.types import ArrayXd

Arrays = Dict[str, numpy.ndarray]


@dataclass
class Parameter:
    """One array of the pipeline: its stable name, its optimizer key in this process
    (None for a PyTorch buffer, which no optimizer sees), how to read and write it, and
    whether it is frozen (a PyTorch parameter that needs no gradient keeps the value
    initialisation gave it)."""

    name: str
    key: Optional[Tuple[int, str]]
    value: Callable[[], ArrayXd]
    set_value: Callable[[ArrayXd], None]
    grad: Callable[[], Optional[ArrayXd]]
    set_grad: Callable[[ArrayXd], None]
    frozen: bool = False


def parameters(nlp: Language) -> List[Parameter]:
    """Every array of every component's model, each once, in a stable order."""
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
                    found.extend(_torch_arrays(shim, f"{prefix}/shim{j}"))
    return found


def capture_weights(nlp: Language) -> Tuple[Arrays, List[str]]:
    """The values of every array training may change (all but the frozen ones), and
    their names."""
    arrays: Arrays = {}
    names = []
    for param in parameters(nlp):
        if not param.frozen:
            arrays[str(len(names))] = to_numpy(param.value())
            names.append(param.name)
    return arrays, names


def restore_weights(nlp: Language, arrays: Arrays, names: List[str]) -> None:
    """Put `capture_weights`' values back into `nlp`'s own arrays (same config, same
    initialisation: what was not saved never changed)."""
    by_name = {param.name: param for param in parameters(nlp)}
    for i, name in enumerate(names):
        param = by_name.get(name)
        saved = arrays[str(i)]
        if param is None or tuple(param.value().shape) != saved.shape:
            raise ValueError(f"array {name} {list(saved.shape)} is not in the pipeline")
        param.set_value(get_array_ops(param.value()).asarray(saved))


def to_numpy(array: ArrayXd) -> numpy.ndarray:
    """A NumPy copy of a NumPy or CuPy array."""
    return numpy.array(get_array_ops(array).to_numpy(array), copy=True)


def _thinc_parameter(node: Model, name: str, stable: str) -> Parameter:
    return Parameter(
        stable, (node.id, name), lambda: node.get_param(name),
        lambda value: node.set_param(name, value),
        lambda: node.get_grad(name) if node.has_grad(name) else None,
        lambda grad: node.set_grad(name, grad),
    )


def _torch_arrays(shim: Any, prefix: str) -> List[Parameter]:
    # Thinc keeps a shim's PyTorch module in `_model` (spacy-transformers reads it there
    # too); a shim of another framework has no such module.
    module = getattr(shim, "_model", None)
    if module is None or not hasattr(module, "named_parameters"):
        return []
    import torch
    from thinc.api import torch2xp, xp2torch

    def setter(tensor: "torch.Tensor") -> Callable[[ArrayXd], None]:
        def set_value(value: ArrayXd) -> None:
            with torch.no_grad():
                tensor.copy_(xp2torch(value, device=tensor.device))

        return set_value

    def make(name: str, tensor: "torch.Tensor", buffer: bool) -> Parameter:
        def set_grad(grad: ArrayXd) -> None:
            tensor.grad = xp2torch(grad, device=tensor.device)

        return Parameter(
            f"{prefix}/{name}", None if buffer else (shim.id, name),
            lambda: torch2xp(tensor.data), setter(tensor),
            lambda: None if tensor.grad is None else torch2xp(tensor.grad), set_grad,
            frozen=not buffer and not tensor.requires_grad,
        )

    # Buffers too: no optimizer sees them, but training may change them (running stats).
    arrays = [make(name, tensor, False) for name, tensor in module.named_parameters()]
    arrays += [make(name, tensor, True) for name, tensor in module.named_buffers()]
    return arrays
