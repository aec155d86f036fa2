"""`allowed_transitions` against hand-written tables."""
import pytest
import torch

from spacy_kdseq import crf

# Rows: from, columns: to. 1 = allowed.
TABLES = {
    "BIO": (
        ["O", "B-X", "I-X", "B-Y", "I-Y"],
        [[1, 1, 0, 1, 0],
         [1, 1, 1, 1, 0],
         [1, 1, 1, 1, 0],
         [1, 1, 0, 1, 1],
         [1, 1, 0, 1, 1]],
        [1, 1, 0, 1, 0],
        [1, 1, 1, 1, 1],
    ),
    "BILUO": (
        ["O", "B-X", "I-X", "L-X", "U-X", "B-Y", "L-Y"],
        [[1, 1, 0, 0, 1, 1, 0],
         [0, 0, 1, 1, 0, 0, 0],
         [0, 0, 1, 1, 0, 0, 0],
         [1, 1, 0, 0, 1, 1, 0],
         [1, 1, 0, 0, 1, 1, 0],
         [0, 0, 0, 0, 0, 0, 1],
         [1, 1, 0, 0, 1, 1, 0]],
        [1, 1, 0, 0, 1, 1, 0],
        [1, 0, 0, 1, 1, 0, 1],
    ),
    "IOBES": (
        ["O", "B-X", "I-X", "E-X", "S-X", "S-Y", "I-Y"],
        [[1, 1, 0, 0, 1, 1, 0],
         [0, 0, 1, 1, 0, 0, 0],
         [0, 0, 1, 1, 0, 0, 0],
         [1, 1, 0, 0, 1, 1, 0],
         [1, 1, 0, 0, 1, 1, 0],
         [1, 1, 0, 0, 1, 1, 0],
         [0, 0, 0, 0, 0, 0, 1]],
        [1, 1, 0, 0, 1, 1, 0],
        [1, 0, 0, 1, 1, 1, 0],
    ),
}


@pytest.mark.parametrize("scheme", list(TABLES))
def test_tables(scheme):
    labels, trans, start, end = TABLES[scheme]
    allowed = crf.allowed_transitions(labels, scheme)
    assert isinstance(allowed, crf.Constraints)
    assert allowed.transitions.dtype == torch.bool
    assert allowed.transitions.int().tolist() == trans
    assert allowed.start.int().tolist() == start
    assert allowed.end.int().tolist() == end


@pytest.mark.parametrize("scheme", list(TABLES))
def test_decoding_with_constraints_gives_valid_sequences(scheme):
    """Viterbi under -inf constraints never picks a forbidden move, whatever the emissions."""
    labels, *_ = TABLES[scheme]
    allowed = crf.allowed_transitions(labels, scheme)
    L = len(labels)
    emissions = torch.randn(16, 7, L, generator=torch.Generator().manual_seed(0)) * 5
    mask = torch.arange(7)[None, :] < torch.randint(1, 8, (16,))[:, None]
    neg = float("-inf")
    _, tags = crf.viterbi(
        emissions, mask, torch.zeros(L, L).masked_fill(~allowed.transitions, neg),
        torch.zeros(L).masked_fill(~allowed.start, neg), torch.zeros(L).masked_fill(~allowed.end, neg),
    )
    for row in tags:
        path = row[row >= 0].tolist()
        assert allowed.start[path[0]] and allowed.end[path[-1]]
        assert all(allowed.transitions[a, b] for a, b in zip(path, path[1:]))


def test_unknown_scheme():
    with pytest.raises(ValueError, match=r"\[E007\] allowed_transitions: unknown scheme 'BIOES'"):
        crf.allowed_transitions(["O"], "BIOES")


@pytest.mark.parametrize("scheme,label", [("BIO", "L-X"), ("BILUO", "E-X"), ("IOBES", "X"),
                                          ("BIO", "B-"), ("BIO", "B_X")])
def test_bad_label(scheme, label):
    with pytest.raises(ValueError, match=rf"\[E008\] .*label '{label}' is not valid for scheme "
                                         rf"'{scheme}'"):
        crf.allowed_transitions(["O", label], scheme)
