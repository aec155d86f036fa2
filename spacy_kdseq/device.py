"""The device a run uses, set up once the way `spacy train` sets it up."""
from spacy.cli._util import setup_gpu

from .errors import Errors, KDSeqError


def setup_device(gpu_id: int) -> None:
    """Use GPU `gpu_id` (-1: the CPU) as `spacy train --gpu-id` does, before any work starts.

    spaCy's `setup_gpu`; where the GPU cannot be used (no CuPy, no device), its message
    as a coded error that says how to go on.
    """
    try:
        setup_gpu(gpu_id)
    except ValueError as err:
        raise KDSeqError(Errors.E228.format(gpu_id=gpu_id, err=err)) from None
