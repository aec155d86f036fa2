"""Structure-level knowledge distillation: losses, the teacher-knowledge cache, the trainer.

Pure torch: `losses` (one function per `[distillation] method`) and `teacher`. No torch:
`methods` (the list of methods) and `settings`. spaCy glue: `registry` (the configurable
losses), `cache`, `teachers`, `store`, `objective`, `train`, `v4`, `guard`. Nothing is
imported here eagerly, so that reading `methods` or `settings` never pulls in torch.
"""
from importlib import import_module
from typing import Any

_EXPORTS = {
    "METHODS": "methods",
    "DistillSettings": "settings",
    "parse_settings": "settings",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
