"""The random states a training run draws from, captured and put back exactly.

These are the generators `thinc.api.fix_random_seed` seeds: Python's `random` (spaCy's
shuffles), NumPy's global generator (thinc's dropout masks on CPU), torch's CPU and CUDA
generators (dropout inside PyTorch layers) and CuPy's (thinc's dropout masks on GPU).
CuPy does not expose its generator's state, so it is reseeded instead, from the seed and
the step, at every checkpoint: an uninterrupted run does the same at the same step, so
the two still draw the same numbers.
"""
import random
from typing import Any, Dict, List, Optional, Tuple

import numpy
from thinc.api import CupyOps, get_current_ops
from thinc.util import has_torch

PythonState = Tuple[int, Tuple[int, ...], Optional[float]]
Arrays = Dict[str, numpy.ndarray]


def python_state_to_array(state: PythonState) -> Tuple[numpy.ndarray, Optional[float]]:
    """`random.getstate()` as a uint32 array (the Mersenne Twister words and position)
    plus the cached Gaussian draw."""
    version, words, gauss_next = state
    assert version == 3, f"unknown Python random state version {version}"
    return numpy.asarray(words, dtype=numpy.uint32), gauss_next


def python_state_from_array(words: numpy.ndarray, gauss_next: Optional[float]) -> PythonState:
    """The inverse of `python_state_to_array`."""
    return 3, tuple(int(word) for word in words), gauss_next


def capture() -> Tuple[Arrays, Dict[str, Any]]:
    """Every random state as (arrays, JSON-able values)."""
    words, gauss_next = python_state_to_array(random.getstate())
    kind, keys, pos, has_gauss, cached_gaussian = numpy.random.get_state()
    arrays: Arrays = {"python": words, "numpy": numpy.asarray(keys)}
    values: Dict[str, Any] = {
        "python_gauss_next": gauss_next, "numpy_kind": kind, "numpy_pos": int(pos),
        "numpy_has_gauss": int(has_gauss), "numpy_cached_gaussian": float(cached_gaussian),
        "torch_cuda_devices": 0,
    }
    if has_torch:
        import torch

        arrays["torch"] = torch.get_rng_state().numpy()
        # Reading the CUDA states would start CUDA in a CPU run: only when it is in use.
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            cuda: List[Any] = torch.cuda.get_rng_state_all()
            for index, state in enumerate(cuda):
                arrays[f"torch_cuda_{index}"] = state.numpy()
            values["torch_cuda_devices"] = len(cuda)
    return arrays, values


def restore(arrays: Arrays, values: Dict[str, Any]) -> None:
    """Put back the states `capture` returned."""
    random.setstate(python_state_from_array(arrays["python"], values["python_gauss_next"]))
    numpy.random.set_state((
        values["numpy_kind"], arrays["numpy"], values["numpy_pos"], values["numpy_has_gauss"],
        values["numpy_cached_gaussian"],
    ))
    if has_torch and "torch" in arrays:
        import torch

        torch.set_rng_state(torch.from_numpy(arrays["torch"].copy()))
        devices = values["torch_cuda_devices"]
        if devices and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(
                [torch.from_numpy(arrays[f"torch_cuda_{i}"].copy()) for i in range(devices)]
            )


def reseed_cupy(seed: Optional[int], step: int) -> None:
    """Reseed CuPy's generator from the training seed and the step (GPU runs only)."""
    if isinstance(get_current_ops(), CupyOps):
        import cupy

        entropy = [seed or 0, step]
        cupy.random.seed(int(numpy.random.SeedSequence(entropy).generate_state(1)[0]))
