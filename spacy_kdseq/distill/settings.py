"""The `[distillation]` config block: defaults, validation, and the λ schedule.

Imports no torch: the CLI and the workflow read it to validate a block up front.
"""
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional

from ..errors import Errors, KDSeqError
from .methods import METHODS

MISSING_TEACHER = ("gold_only", "error")
DEFAULTS: Dict[str, Any] = {
    "method": "posterior",
    # The reference code's defaults: Top-K takes the best path, Top-WK the 10 best.
    "topk_k": 1,
    "topwk_k": 10,
    "temperature": 1.0,
    "kd_weight": 1.0,
    "kd_weight_decay": 0.0,
    "kd_weight_min": 0.0,
    "component": "ner",
    "teacher_component": None,
    "cache_dir": "kd-cache",
    "missing_teacher": "gold_only",
    "batch_size": 256,
    "loss": None,
}


@dataclass(frozen=True)
class DistillSettings:
    """A validated `[distillation]` block; see docs/distillation.md for every key."""

    teachers: Dict[str, str] = field(default_factory=dict)
    method: str = DEFAULTS["method"]
    topk_k: int = DEFAULTS["topk_k"]
    topwk_k: int = DEFAULTS["topwk_k"]
    temperature: float = DEFAULTS["temperature"]
    kd_weight: float = DEFAULTS["kd_weight"]
    kd_weight_decay: float = DEFAULTS["kd_weight_decay"]
    kd_weight_min: float = DEFAULTS["kd_weight_min"]
    component: str = DEFAULTS["component"]
    teacher_component: Optional[str] = DEFAULTS["teacher_component"]
    cache_dir: str = DEFAULTS["cache_dir"]
    missing_teacher: str = DEFAULTS["missing_teacher"]
    batch_size: int = DEFAULTS["batch_size"]
    # A `[distillation.loss]` table (`@kd_losses` = a registered loss and its arguments)
    # that replaces the method's built-in loss; None: the method's own.
    loss: Optional[Dict[str, Any]] = None

    @property
    def teacher_pipe_name(self) -> str:
        """The teachers' component name (the student's unless set)."""
        return self.teacher_component or self.component

    def kd_weight_at(self, epoch: int) -> float:
        """λ at `epoch` (0-based): kd_weight − epoch·kd_weight_decay, at least kd_weight_min."""
        if self.method == "none":
            return 0.0
        return max(self.kd_weight_min, self.kd_weight - epoch * self.kd_weight_decay)


def parse_settings(block: Optional[Mapping[str, Any]]) -> DistillSettings:
    """Validate a `[distillation]` block (a dict from the config) before any work starts."""
    block = dict(block or {})
    teachers = dict(block.pop("teachers", None) or {})
    if "k" in block:
        raise KDSeqError(Errors.E320.format(value=block["k"]))
    unknown = sorted(set(block) - set(DEFAULTS))
    if unknown:
        raise KDSeqError(Errors.E319.format(key=unknown[0], keys=sorted(DEFAULTS)))
    values = {**DEFAULTS, **block}
    method, loss = values["method"], values["loss"]
    if loss is not None and (not isinstance(loss, Mapping) or "@kd_losses" not in loss):
        raise KDSeqError(Errors.E321.format(value=loss))
    if method not in METHODS and (loss is None or not isinstance(method, str) or not method):
        raise KDSeqError(Errors.E305.format(method=method, methods=list(METHODS)))
    if method == "none" and loss is not None:
        raise KDSeqError(Errors.E322)
    if method != "none" and not teachers:
        raise KDSeqError(Errors.E311)
    for key in ("topk_k", "topwk_k"):
        k = values[key]
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise KDSeqError(Errors.E306.format(key=key, k=k))
    temperature = values["temperature"]
    if not _is_number(temperature) or not temperature > 0:
        raise KDSeqError(Errors.E307.format(temperature=temperature))
    for key in ("kd_weight", "kd_weight_min"):
        value = values[key]
        if not _is_number(value) or not 0 <= value <= 1:
            raise KDSeqError(Errors.E308.format(key=key, value=value))
    decay = values["kd_weight_decay"]
    if not _is_number(decay) or not decay >= 0:
        raise KDSeqError(
            Errors.E317.format(key="kd_weight_decay", what="a number >= 0", value=decay)
        )
    if values["missing_teacher"] not in MISSING_TEACHER:
        raise KDSeqError(Errors.E310.format(value=values["missing_teacher"]))
    batch_size = values["batch_size"]
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise KDSeqError(
            Errors.E317.format(key="batch_size", what="an integer >= 1", value=batch_size)
        )
    for key in ("component", "cache_dir"):
        if not isinstance(values[key], str) or not values[key]:
            raise KDSeqError(
                Errors.E317.format(key=key, what="a non-empty string", value=values[key])
            )
    for lang, path in teachers.items():
        if not isinstance(path, str) or not path:
            # Most often an override meant to drop a teacher: E416 says how to.
            raise KDSeqError(Errors.E416.format(lang=lang, value=path))
    return DistillSettings(
        teachers=teachers,
        method=method,
        topk_k=values["topk_k"],
        topwk_k=values["topwk_k"],
        temperature=float(temperature),
        kd_weight=float(values["kd_weight"]),
        kd_weight_decay=float(decay),
        kd_weight_min=float(values["kd_weight_min"]),
        component=values["component"],
        teacher_component=values["teacher_component"],
        cache_dir=values["cache_dir"],
        missing_teacher=values["missing_teacher"],
        batch_size=batch_size,
        loss=None if loss is None else dict(loss),
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
