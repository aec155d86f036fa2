"""Distil two real (tiny) teachers into one student and check it reproduces them."""
import spacy
from spacy.tokens import DocBin

from spacy_kdseq.distill.train import distill

from .conftest import CONFIGS, TINY

STEPS = 150
# Measured: 0.973 token agreement (structure, λ = 1, 150 steps, width-64 student, the
# 30-step teachers of conftest); 0.90 leaves room for other seeds and platforms.
MIN_AGREEMENT = 0.90


def test_student_reproduces_its_teachers(kd_data, tmp_path):
    overrides = {
        **TINY,
        "components.tok2vec.model.encode.width": 64,
        "paths.train": str(kd_data["corpus"]),
        "paths.dev": str(kd_data["corpus"] / "es.spacy"),
        "paths.teachers.es": str(kd_data["teachers"]["es"]),
        "paths.teachers.nl": str(kd_data["teachers"]["nl"]),
        "distillation.cache_dir": str(tmp_path / "cache"),
        "distillation.method": "structure",
        "distillation.kd_weight": 1.0,
        "distillation.kd_weight_decay": 0.0,
        "training.max_steps": STEPS,
        "training.eval_frequency": STEPS,
    }
    nlp, _ = distill(CONFIGS / "student-ner.cfg", tmp_path / "out", overrides=overrides)
    # the hook is taken off the trained pipeline once training ends
    assert nlp.get_pipe("ner").distillation_loss is None
    student = spacy.load(tmp_path / "out" / "model-last")
    agree = total = 0
    for lang in ("es", "nl"):
        teacher = spacy.load(kd_data["teachers"][lang])
        docs = list(DocBin().from_disk(kd_data["corpus"] / f"{lang}.spacy").get_docs(teacher.vocab))
        words = [[t.text for t in doc] for doc in docs]
        t_docs = teacher.pipe(spacy.tokens.Doc(teacher.vocab, words=w) for w in words)
        s_docs = student.pipe(spacy.tokens.Doc(student.vocab, words=w) for w in words)
        for t_doc, s_doc in zip(t_docs, s_docs):
            t_tags = [(t.ent_iob_, t.ent_type_) for t in t_doc]
            s_tags = [(t.ent_iob_, t.ent_type_) for t in s_doc]
            agree += sum(a == b for a, b in zip(t_tags, s_tags))
            total += len(t_tags)
    assert agree / total >= MIN_AGREEMENT
