"""The configurable distillation losses: spaCy's ``kd_losses`` registry.

Each registered function is a factory: it takes the loss's own settings and returns a
``KDLoss`` (student, teacher) -> (B,) losses. Every built-in method of `METHODS` maps to
one of them, fed from the top-level `[distillation]` knobs (`temperature`, `topk_k`,
`topwk_k`); a `[distillation.loss]` table names any registered loss instead, e.g. one
of the user's own (``@spacy.registry.kd_losses("my.Loss.v1")`` in a `--code` file, or
a ``spacy_kd_losses`` entry point of another package).
"""
from functools import partial
from typing import Any, Dict, Tuple

import catalogue
from thinc.api import ConfigValidationError

from ..errors import Errors, KDSeqError
from ..registries import registry
from . import losses
from .losses import KDLoss
from .settings import DistillSettings

# method -> (registered loss, {argument of the loss: the [distillation] key it comes from})
BUILTIN: Dict[str, Tuple[str, Dict[str, str]]] = {
    "none": ("spacy-kdseq.NoKD.v1", {}),
    "emission": ("spacy-kdseq.EmissionKD.v1", {"temperature": "temperature"}),
    "topk": ("spacy-kdseq.TopKKD.v1", {"k": "topk_k"}),
    "topwk": ("spacy-kdseq.TopWKKD.v1", {"k": "topwk_k"}),
    "posterior": ("spacy-kdseq.PosteriorKD.v1", {"temperature": "temperature"}),
    "posterior+topwk": (
        "spacy-kdseq.PosteriorTopWKKD.v1", {"k": "topwk_k", "temperature": "temperature"}
    ),
    "structure": ("spacy-kdseq.StructureKD.v1", {}),
}


@registry.kd_losses("spacy-kdseq.NoKD.v1")
def make_no_kd() -> KDLoss:
    """L_KD = 0: the multilingual baseline."""
    return losses.none_loss


@registry.kd_losses("spacy-kdseq.EmissionKD.v1")
def make_emission_kd(temperature: float = 1.0) -> KDLoss:
    """Token-level CE on the emission scores, at temperature T."""
    return partial(losses.emission_loss, temperature=temperature)


@registry.kd_losses("spacy-kdseq.TopKKD.v1")
def make_topk_kd(k: int = 1) -> KDLoss:
    """Mean NLL of the teacher's k best paths."""
    return partial(losses.topk_loss, k=k)


@registry.kd_losses("spacy-kdseq.TopWKKD.v1")
def make_topwk_kd(k: int = 10) -> KDLoss:
    """NLL of the teacher's k best paths, weighted by their renormalised probability."""
    return partial(losses.topwk_loss, k=k)


@registry.kd_losses("spacy-kdseq.PosteriorKD.v1")
def make_posterior_kd(temperature: float = 1.0) -> KDLoss:
    """Token-level CE between the teacher's and the student's posteriors, at temperature T."""
    return partial(losses.posterior_loss, temperature=temperature)


@registry.kd_losses("spacy-kdseq.PosteriorTopWKKD.v1")
def make_posterior_topwk_kd(k: int = 10, temperature: float = 1.0) -> KDLoss:
    """PosteriorKD + TopWKKD, summed as in the reference code."""
    return partial(losses.posterior_topwk_loss, k=k, temperature=temperature)


@registry.kd_losses("spacy-kdseq.StructureKD.v1")
def make_structure_kd() -> KDLoss:
    """Exact cross-entropy between the teacher's and the student's sequence distributions."""
    return losses.structure_loss


def loss_config(settings: DistillSettings) -> Dict[str, Any]:
    """The registry config of the loss: `[distillation.loss]`, else the method's built-in."""
    if settings.loss is not None:
        return dict(settings.loss)
    return _builtin_config(settings.method, settings)


def build_loss(settings: DistillSettings) -> KDLoss:
    """Resolve the loss of `settings`; a coded error if it is unknown or badly configured."""
    try:
        return registry.resolve({"loss": loss_config(settings)})["loss"]
    except (catalogue.RegistryError, ConfigValidationError) as err:
        raise KDSeqError(Errors.E323.format(err=" ".join(str(err).split()))) from None


def builtin_loss(
    method: str, *, temperature: float = 1.0, topk_k: int = 1, topwk_k: int = 10
) -> KDLoss:
    """The built-in loss of `method` with these knobs, as `[distillation]` would give it."""
    settings = DistillSettings(
        method=method, temperature=temperature, topk_k=topk_k, topwk_k=topwk_k
    )
    return build_loss(settings)


def _builtin_config(method: str, settings: DistillSettings) -> Dict[str, Any]:
    if method not in BUILTIN:
        raise KDSeqError(Errors.E305.format(method=method, methods=list(BUILTIN)))
    name, args = BUILTIN[method]
    return {"@kd_losses": name, **{arg: getattr(settings, key) for arg, key in args.items()}}
