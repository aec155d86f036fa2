"""The `kd_losses` registry: one built-in loss per method of `METHODS`, and user losses."""
import pytest
import torch

from spacy_kdseq.distill.methods import METHODS
from spacy_kdseq.distill.registry import BUILTIN, build_loss, loss_config
from spacy_kdseq.distill.settings import parse_settings
from spacy_kdseq.errors import KDSeqError
from spacy_kdseq.registries import registry

from ._crfs import random_student, random_teacher

TEACHERS = {"teachers": {"es": "x"}}


def test_every_method_has_a_registered_loss_in_the_papers_order():
    assert list(BUILTIN) == list(METHODS)
    for name, _ in BUILTIN.values():
        assert registry.kd_losses.get(name)


def test_top_level_knobs_feed_the_losses():
    settings = parse_settings({**TEACHERS, "method": "topk", "topk_k": 3, "topwk_k": 7})
    assert loss_config(settings) == {"@kd_losses": "spacy-kdseq.TopKKD.v1", "k": 3}
    settings = parse_settings({**TEACHERS, "method": "posterior+topwk", "temperature": 2.0})
    assert loss_config(settings) == {
        "@kd_losses": "spacy-kdseq.PosteriorTopWKKD.v1", "k": 10, "temperature": 2.0
    }


def test_defaults_are_the_reference_codes_k():
    settings = parse_settings(dict(TEACHERS))
    assert (settings.topk_k, settings.topwk_k) == (1, 10)


def test_old_k_key_is_refused_with_the_new_names():
    with pytest.raises(KDSeqError, match=r"E320.*topk_k.*topwk_k"):
        parse_settings({**TEACHERS, "k": 10})


def test_a_user_loss_by_config():
    @registry.kd_losses("test.HalfStructure.v1")
    def make_half(weight: float = 0.5):
        from spacy_kdseq.distill.losses import structure_loss

        return lambda student, teacher: weight * structure_loss(student, teacher)

    settings = parse_settings({
        **TEACHERS, "method": "half-structure",
        "loss": {"@kd_losses": "test.HalfStructure.v1", "weight": 0.25},
    })
    student = random_student([3, 2], 3, seed=0)
    teacher = random_teacher(student.mask, 3, n_teachers=1, seed=1)
    structure = build_loss(parse_settings({**TEACHERS, "method": "structure"}))
    torch.testing.assert_close(build_loss(settings)(student, teacher),
                               0.25 * structure(student, teacher))


@pytest.mark.parametrize("block,code", [
    ({"method": "mine"}, "E305"),
    ({"method": "mine", "loss": {"weight": 1}}, "E321"),
    ({"method": "none", "loss": {"@kd_losses": "spacy-kdseq.NoKD.v1"}}, "E322"),
])
def test_bad_loss_settings(block, code):
    with pytest.raises(KDSeqError, match=code):
        parse_settings({**TEACHERS, **block})


@pytest.mark.parametrize("loss,pattern", [
    ({"@kd_losses": "nope.v1"}, r"E323.*nope\.v1"),
    ({"@kd_losses": "spacy-kdseq.TopKKD.v1", "kk": 3}, r"E323.*kk"),
])
def test_unknown_or_misconfigured_loss(loss, pattern):
    settings = parse_settings({**TEACHERS, "method": "mine", "loss": loss})
    with pytest.raises(KDSeqError, match=pattern):
        build_loss(settings)
