"""Viterbi and exact k-best decoding (max and k-max semirings), batched."""
from typing import List, Optional, Tuple

import torch
from torch import Tensor

from . import _compiled
from ._checks import check_inputs, check_packed, check_packed_values, check_values
from ._dp import full_length


@torch.no_grad()
def viterbi(
    emissions: Tensor,
    mask: Tensor,
    transitions: Tensor,
    start: Optional[Tensor] = None,
    end: Optional[Tensor] = None,
    compiled: Optional[bool] = None,
) -> Tuple[Tensor, Tensor]:
    """Best path per sequence: (scores (B,), tags (B, T) long, -1 at padding).

    An empty sequence scores 0. `compiled`: None runs the compiled kernel (numba, the
    `fast` extra) on CPU inputs when numba is installed and the torch kernel otherwise;
    False always the torch kernel; True the compiled one or an error. Both are exact.
    """
    start, end = check_inputs("viterbi", emissions, mask, transitions, start, end, values=False)
    if _compiled.use("viterbi", compiled, emissions):
        return _compiled.viterbi(emissions, mask, transitions, start, end)
    check_values("viterbi", emissions, mask, transitions, start, end)
    # At padded steps a sequence carries its score and keeps its label, so one batched
    # backtrace serves every length.
    B, T, L = emissions.shape
    if T == 0:
        return emissions.new_zeros(B), torch.full((B, 0), -1, dtype=torch.long,
                                                  device=emissions.device)
    # Scores are kept label-major, (L, B), and candidates laid out (L_from, L_to, B), so
    # every tensor stays contiguous and the max over L_from runs along long rows. The
    # forward pass keeps only the best scores: a max without its argmax is many times
    # cheaper on CPU, and the backtrace recovers the argmax along the best paths alone.
    trans = transitions.unsqueeze(2)
    # T tensors (L, B)
    em = emissions.permute(1, 2, 0).contiguous().unbind(0)
    lengths = mask.sum(1)
    n_full = int(lengths.min()) if B else 0
    score = start.unsqueeze(1) + em[0]
    scores = [score]
    for t in range(1, T):
        # shape: (L_from, 1, B) + (L_from, L_to, 1) -> (L_to, B)
        nxt = (score.unsqueeze(1) + trans).amax(dim=0) + em[t]
        score = nxt if t < n_full else torch.where(mask[:, t], nxt, score)
        scores.append(score)
    best_score, cur = (score + end.unsqueeze(1)).max(dim=0)
    tags = _backtrace(scores, transitions, lengths, cur, n_full).masked_fill(~mask, -1)
    best_score = torch.where(mask[:, 0], best_score, torch.zeros_like(best_score))
    return best_score, tags


@torch.no_grad()
def viterbi_packed(
    emissions: Tensor,
    lengths: Tensor,
    transitions: Tensor,
    start: Optional[Tensor] = None,
    end: Optional[Tensor] = None,
    compiled: Optional[bool] = None,
) -> Tuple[Tensor, Tensor]:
    """``viterbi`` on sequences laid end to end: emissions (N, L), lengths (B,) long
    summing to N; returns (scores (B,), tags (N,) long), tags in the same layout.

    Inference's input comes as one (T, L) array per doc: this decodes them without
    padding them into (B, T, L) first. The compiled kernel reads the packed scores
    directly; the torch kernel (`compiled` False, or no numba, or not CPU) pads them and
    runs `viterbi`. Both give `viterbi`'s paths.
    """
    start, end = check_packed("viterbi_packed", emissions, lengths, transitions, start, end)
    if _compiled.use("viterbi_packed", compiled, emissions.unsqueeze(0)):
        return _compiled.viterbi_packed(emissions, lengths, transitions, start, end)
    check_packed_values("viterbi_packed", emissions, transitions, start, end)
    B, L = lengths.shape[0], emissions.shape[1]
    T = int(lengths.max()) if B else 0
    mask = torch.arange(T, device=emissions.device)[None, :] < lengths[:, None]
    padded = emissions.new_zeros(B, T, L)
    padded[mask] = emissions
    scores, tags = viterbi(padded, mask, transitions, start, end, compiled=False)
    return scores, tags[mask]


def _backtrace(
    scores: List[Tensor], transitions: Tensor, lengths: Tensor, last: Tensor, n_full: int
) -> Tensor:
    """(B, T) labels of the best paths from the forward scores (T of (L, B)) and the
    best last labels (B,); at padded steps a sequence keeps its last real label."""
    # shape: (T, B, L); an argmax along the last dim is much faster than across rows
    by_seq = torch.stack(scores).transpose(1, 2).contiguous().unbind(0)
    trans_t = transitions.t().contiguous()
    cur = last
    path = [cur]
    for t in range(len(scores) - 1, 0, -1):
        # shape: (B, L_from) score of each way into the label chosen at t
        prev = (by_seq[t - 1] + trans_t[cur]).argmax(dim=1)
        cur = prev if t < n_full else torch.where(lengths > t, prev, cur)
        path.append(cur)
    path.reverse()
    return torch.stack(path, dim=1)


@torch.no_grad()
def kbest(
    emissions: Tensor,
    mask: Tensor,
    transitions: Tensor,
    k: int,
    start: Optional[Tensor] = None,
    end: Optional[Tensor] = None,
    compiled: Optional[bool] = None,
) -> Tuple[Tensor, Tensor]:
    """Exact k best paths: (scores (B, k) sorted descending, tags (B, k, T) long).

    Slots beyond the number of distinct paths (or paths of score −inf) hold score −inf
    and tags −1; padding tags are −1. An empty sequence has one path, of score 0.
    `compiled` as in `viterbi`.
    """
    start, end = check_inputs("kbest", emissions, mask, transitions, start, end, k=k,
                              values=False)
    if _compiled.use("kbest", compiled, emissions):
        return _compiled.kbest(emissions, mask, transitions, k, start, end)
    check_values("kbest", emissions, mask, transitions, start, end)
    # Each (label, rank) cell keeps the k best distinct prefixes ending in that label, so
    # the k best of the L·k candidates at the end are exactly the k best paths.
    B, T, L = emissions.shape
    device = emissions.device
    neg_inf = float("-inf")
    tags = torch.full((B, k, T), -1, dtype=torch.long, device=device)
    if T == 0:
        scores = emissions.new_full((B, k), neg_inf)
        scores[:, 0] = 0.0
        return scores, tags
    # shape: (1, L_to, L_from, 1)
    trans_t = transitions.t().contiguous()[None, :, :, None]
    # identity pointer for padded steps: cell (j, r) points at flat cell j*k + r
    identity = torch.arange(L * k, device=device).view(1, L, k).expand(B, L, k)
    score = emissions.new_full((B, L, k), neg_inf)
    score[:, :, 0] = start + emissions[:, 0]
    n_full = full_length(mask)
    history = []
    for t in range(1, T):
        # shape: (B, L_to, L_from * k) every way to extend every kept prefix
        cand = (score.unsqueeze(1) + trans_t).reshape(B, L, L * k)
        best, prev = cand.topk(k, dim=2)
        if t < n_full:
            score = best + emissions[:, t, :, None]
            history.append(prev)
            continue
        step = mask[:, t, None, None]
        score = torch.where(step, best + emissions[:, t, :, None], score)
        history.append(torch.where(step, prev, identity))
    final = (score + end[None, :, None]).reshape(B, L * k)
    scores, cur = final.topk(k, dim=1)
    tags[:, :, T - 1] = cur // k
    for t in range(T - 1, 0, -1):
        cur = history[t - 1].reshape(B, L * k).gather(1, cur)
        tags[:, :, t - 1] = cur // k
    lengths = mask.sum(1)
    empty = lengths == 0
    if bool(empty.any()):
        empty_scores = torch.full_like(scores[0], neg_inf)
        empty_scores[0] = 0.0
        scores = torch.where(empty[:, None], empty_scores, scores)
    dead = scores == neg_inf
    tags.masked_fill_(dead.unsqueeze(2) | ~mask.unsqueeze(1), -1)
    return scores, tags
