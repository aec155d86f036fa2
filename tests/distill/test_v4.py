"""spaCy v4's `distill` / `get_teacher_student_loss` on the CRF components."""
import spacy
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import Adam

WORDS = [["Ana", "vive", "en", "Madrid", "."], ["Jan", "woont", "in", "Amsterdam"]]
ENTS = [["B-PER", "O", "O", "B-LOC", "O"], ["B-PER", "O", "O", "B-LOC"]]


def _pipeline(seed: int):
    spacy.util.fix_random_seed(seed)
    nlp = spacy.blank("xx")
    nlp.add_pipe("crf_ner", name="ner")
    examples = [Example(Doc(nlp.vocab, words=w), Doc(nlp.vocab, words=w, ents=e)) for w, e in zip(WORDS, ENTS)]
    nlp.initialize(lambda: examples)
    return nlp, examples


def test_distill_moves_the_student_towards_the_teacher():
    teacher, examples = _pipeline(0)
    optimizer = teacher.resume_training()
    for _ in range(30):
        teacher.update(examples, sgd=optimizer)
    student, _ = _pipeline(1)
    s_pipe, t_pipe = student.get_pipe("ner"), teacher.get_pipe("ner")
    docs = [Example(Doc(student.vocab, words=w), Doc(student.vocab, words=w)) for w in WORDS]
    first = s_pipe.get_teacher_student_loss(t_pipe.model.predict([eg.predicted for eg in docs]),
                                            s_pipe.model.predict([eg.predicted for eg in docs]))[0]
    sgd = Adam(0.01)
    losses = {}
    for _ in range(40):
        losses = s_pipe.distill(t_pipe, docs, sgd=sgd, losses={})
    assert losses["ner"] < first
    predicted = [[t.ent_iob_ + t.ent_type_ for t in d] for d in student.pipe([Doc(student.vocab, words=w) for w in WORDS])]
    expected = [[t.ent_iob_ + t.ent_type_ for t in d] for d in teacher.pipe([Doc(teacher.vocab, words=w) for w in WORDS])]
    assert predicted == expected


def test_loss_is_stationary_when_student_equals_teacher():
    nlp, examples = _pipeline(0)
    pipe = nlp.get_pipe("ner")
    scores = pipe.model.predict([eg.predicted for eg in examples])
    _, grads = pipe.get_teacher_student_loss(scores, scores)
    assert all(abs(g).max() < 1e-5 for g in grads.emissions)
    assert abs(grads.transitions).max() < 1e-5
