"""The compiled loops behind ``_compiled`` (numba, nopython mode; imported only there).

Arrays are numpy views of CPU tensors: emissions (T, L) of one sequence or (B, T, L),
transitions (L, L) as [from, to], start/end (L,). Node s of a sequence of length n is
step s - 1 for s = 1..n; node 0 is a virtual start before step 0.

The backward pass takes maxima only: a running max compiles to branch-free (and
vectorised) code, while tracking the argmax branches on every comparison, which
mispredicts on real scores and cost ~5× the whole pass. Argmaxes are found afterwards
along the paths alone, as the first label whose score equals the max (the same sums in
the same order, so the test is exact). `nnan`/`nsz` let LLVM vectorise the maxima: the
inputs are checked free of NaN, and only finite scores and -inf are ever summed.
Helpers are inlined by hand in the hot loops: a call that passes arrays costs more
than a scan over L labels.
"""
import numba
import numpy as np

jit = numba.njit(cache=True, nogil=True, fastmath={"nnan", "nsz"})


# No fastmath here: with `nnan` the NaN tests below would compile away.
@numba.njit(cache=True, nogil=True)
def checked_lengths(em, mask, trans, start, end, lengths):  # pragma: no cover - compiled
    """Fill lengths (B,) from mask (B, T); return False where ``_checks.check_values``
    would raise: a mask row that is not a prefix, an emission under the mask that is not
    finite, or a NaN or +inf in trans, start or end (-inf writes a hard constraint)."""
    B, T, L = em.shape
    if not params_allowed(trans, start, end):
        return False
    for b in range(B):
        n = 0
        while n < T and mask[b, n]:
            n += 1
        for t in range(n, T):
            if mask[b, t]:
                return False
        lengths[b] = n
        for t in range(n):
            for j in range(L):
                if not np.isfinite(em[b, t, j]):
                    return False
    return True


# No fastmath, as above.
@numba.njit(cache=True, nogil=True)
def params_allowed(trans, start, end):  # pragma: no cover - compiled
    """Whether trans, start and end are free of NaN and +inf (-inf is a hard constraint)."""
    for params in (trans.ravel(), start, end):
        for x in params:
            if np.isnan(x) or x == np.inf:
                return False
    return True


@numba.njit(cache=True, nogil=True, inline="always")
def value(s, i, j, em, trans, start, beta):  # pragma: no cover - compiled
    """Best score from node s (label i there) to the end through label j at step s."""
    if s == 0:
        return start[j] + (em[0, j] + beta[1, j])
    return trans[i, j] + (em[s, j] + beta[s + 1, j])


@jit
def max_backward(em, n, trans, start, end, beta, ahead):  # pragma: no cover - compiled
    """beta[s, i]: best score from node s, label i, to the end; beta[0, 0] is the best
    path's score. `ahead` (L,) is scratch."""
    L = em.shape[1]
    for i in range(L):
        beta[n, i] = end[i]
    for s in range(n - 1, -1, -1):
        # value(s, i, j) is (trans or start)[j] + ahead[j], summed in that order
        for j in range(L):
            ahead[j] = em[s, j] + beta[s + 1, j]
        for i in range(L if s > 0 else 1):
            row = trans[i] if s > 0 else start
            best = row[0] + ahead[0]
            for j in range(1, L):
                best = max(best, row[j] + ahead[j])
            beta[s, i] = best


@jit
def best_next(s, i, em, trans, start, beta):  # pragma: no cover - compiled
    """The label that node (s, i)'s best continuation takes at step s (lowest on ties)."""
    for j in range(em.shape[1]):
        if value(s, i, j, em, trans, start, beta) == beta[s, i]:
            return j
    return 0  # all -inf: every label is "best"


@jit
def follow(path, first, label, n, em, trans, start, beta):  # pragma: no cover - compiled
    """path[first] = label, then the best continuation up to step n - 1."""
    path[first] = label
    for t in range(first + 1, n):
        path[t] = best_next(t, path[t - 1], em, trans, start, beta)


@jit
def viterbi_batch(em, lengths, trans, start, end, scores, tags):  # pragma: no cover
    """Fill scores (B,) and tags (B, T) (pre-filled with 0 and -1) with the best paths."""
    B, T, L = em.shape
    beta = np.empty((T + 1, L), dtype=em.dtype)
    ahead = np.empty(L, dtype=em.dtype)
    for b in range(B):
        n = lengths[b]
        if n == 0:
            continue
        emb = em[b]
        max_backward(emb, n, trans, start, end, beta, ahead)
        scores[b] = beta[0, 0]
        follow(tags[b], 0, best_next(0, 0, emb, trans, start, beta), n, emb, trans, start,
               beta)


# No fastmath here, for the same reason as in ``checked_lengths``.
@numba.njit(cache=True, nogil=True)
def finite_packed(em, trans, start, end):  # pragma: no cover - compiled
    """Whether every emission of em (N, L) is finite and no parameter is NaN or +inf:
    ``checked_lengths`` for sequences laid end to end, which have no padding."""
    if not params_allowed(trans, start, end):
        return False
    for x in em.ravel():
        if not np.isfinite(x):
            return False
    return True


@jit
def viterbi_packed(em, lengths, trans, start, end, scores, tags):  # pragma: no cover
    """``viterbi_batch`` on sequences laid end to end: em (N, L), lengths (B,) summing to
    N; fill scores (B,) and tags (N,)."""
    L = em.shape[1]
    longest = 0
    for n in lengths:
        longest = max(longest, n)
    beta = np.empty((longest + 1, L), dtype=em.dtype)
    ahead = np.empty(L, dtype=em.dtype)
    offset = 0
    for b in range(lengths.shape[0]):
        n = lengths[b]
        if n == 0:
            continue
        emb = em[offset:offset + n]
        max_backward(emb, n, trans, start, end, beta, ahead)
        scores[b] = beta[0, 0]
        follow(tags[offset:offset + n], 0, best_next(0, 0, emb, trans, start, beta), n, emb,
               trans, start, beta)
        offset += n


@jit
def next_label(s, i, label, em, trans, start, beta):  # pragma: no cover - compiled
    """The label after `label` in node (s, i)'s order of continuations (score descending,
    then label ascending), and its score; label -1 if there is none."""
    bound = value(s, i, label, em, trans, start, beta)
    best = -np.inf
    arg = -1
    for j in range(em.shape[1]):
        score = value(s, i, j, em, trans, start, beta)
        if (score < bound or (score == bound and j > label)) and (arg < 0 or score > best):
            best = score
            arg = j
    return arg, best


@jit
def second_score(s, i, first, em, trans, start, beta):  # pragma: no cover - compiled
    """The best score from node (s, i) through any label but `first` at step s."""
    best = -np.inf
    for j in range(first):
        best = max(best, value(s, i, j, em, trans, start, beta))
    for j in range(first + 1, em.shape[1]):
        best = max(best, value(s, i, j, em, trans, start, beta))
    return best


@jit
def label_scoring(s, i, score, skip, em, trans, start, beta):  # pragma: no cover - compiled
    """The lowest label but `skip` through which node (s, i) reaches the end with `score`."""
    for j in range(em.shape[1]):
        if j != skip and value(s, i, j, em, trans, start, beta) == score:
            return j
    return -1


@numba.njit(cache=True, nogil=True, inline="always")
def offer(prio, data, size, cap, score, parent, pos, label, rank):  # pragma: no cover
    """Insert into prio/data[:size], sorted best first and cut at `cap` entries; return the
    new size. Only `cap` more paths will be taken, so a set ranked lower can never be."""
    if size == cap and (cap == 0 or score <= prio[size - 1]):
        return size
    at = min(size, cap - 1)
    while at > 0 and prio[at - 1] < score:
        prio[at] = prio[at - 1]
        data[at] = data[at - 1]
        at -= 1
    prio[at] = score
    data[at, 0], data[at, 1], data[at, 2], data[at, 3] = parent, pos, label, rank
    return min(size + 1, cap)


@jit
def kbest_batch(em, lengths, trans, start, end, k, scores, tags):  # pragma: no cover
    """Fill scores (B, k) and tags (B, k, T) (pre-filled with -inf and -1) with the k best
    paths of every sequence (see ``_compiled``).

    A candidate is a set of paths: `parent`'s labels before step `pos`, then the
    `rank`-th continuation there (`label`; -1: the second, found when popped), then any
    labels. Its best path continues best from there; its priority is that path's score,
    which is its parent's score minus what leaving the parent's label at `pos` costs, so
    no path is ever re-scored and priorities never increase down the tree.
    """
    B, T, L = em.shape
    beta = np.empty((T + 1, L), dtype=em.dtype)
    ahead = np.empty(L, dtype=em.dtype)
    succ = np.empty((T + 1, L), dtype=np.int64)
    # Second-best scores of the nodes on output paths (when `known`): paths share tails.
    other = np.empty((T + 1, L), dtype=em.dtype)
    known = np.zeros((T + 1, L), dtype=np.bool_)
    # The candidate sets, best first: at most as many as paths are still to be taken.
    prio = np.empty(k, dtype=em.dtype)
    data = np.zeros((k, 4), dtype=np.int64)
    for b in range(B):
        n = lengths[b]
        if n == 0:
            scores[b, 0] = 0.0
            continue
        emb = em[b]
        max_backward(emb, n, trans, start, end, beta, ahead)
        if beta[0, 0] == -np.inf:
            continue
        for s in range(n + 1):
            for i in range(L):
                succ[s, i] = -1
                known[s, i] = False
        size = offer(prio, data, 0, k, beta[0, 0], -1, 0,
                     best_next(0, 0, emb, trans, start, beta), 0)
        for out in range(k):
            if size == 0:
                break
            score = prio[0]
            scores[b, out] = score
            parent, pos, label, rank = data[0, 0], data[0, 1], data[0, 2], data[0, 3]
            size -= 1
            for at in range(size):
                prio[at] = prio[at + 1]
                data[at] = data[at + 1]
            cap = k - out - 1
            path = tags[b, out]
            for t in range(pos):
                path[t] = tags[b, parent, t]
            node = path[pos - 1] if pos > 0 else 0
            if label < 0:
                first = best_next(pos, node, emb, trans, start, beta)
                label = label_scoring(pos, node, second_score(
                    pos, node, first, emb, trans, start, beta), first, emb, trans, start, beta)
            path[pos] = label
            for t in range(pos + 1, n):
                # best_next(t, path[t - 1]), inline and remembered
                i = path[t - 1]
                if succ[t, i] < 0:
                    j = 0
                    while j < L - 1 and trans[i, j] + (emb[t, j] + beta[t + 1, j]) != beta[t, i]:
                        j += 1
                    succ[t, i] = j
                path[t] = succ[t, i]
            if out == k - 1:
                break
            # The rest of the popped set splits into: the same prefix with the next label
            # at `pos`, and, for every later step, this path's prefix with any label but
            # this path's there (whose best is the second-best continuation).
            nxt, nxt_score = next_label(pos, node, label, emb, trans, start, beta)
            if nxt >= 0 and nxt_score > -np.inf:
                loss = value(pos, node, label, emb, trans, start, beta) - nxt_score
                size = offer(prio, data, size, cap, score - loss, parent, pos, nxt, rank + 1)
            for t in range(pos + 1, n):
                i = path[t - 1]
                if not known[t, i]:
                    # second_score(t, i, path[t]), inline: a call costs more than the work
                    best = -np.inf
                    for j in range(L):
                        step = trans[i, j] + (emb[t, j] + beta[t + 1, j])
                        best = max(best, step if j != path[t] else -np.inf)
                    other[t, i] = best
                    known[t, i] = True
                if other[t, i] > -np.inf:
                    size = offer(prio, data, size, cap, score - (beta[t, i] - other[t, i]), out,
                                 t, -1, 1)


# log Z and its gradient: the scaled exp-space recursions of ``_scaled``, sequence by
# sequence, in float64. Plain IEEE arithmetic: log(0) = -inf must stay -inf.
exact = numba.njit(cache=True, nogil=True)
TINY = np.finfo(np.float64).tiny


@exact
def _finite_max(row):  # pragma: no cover - compiled
    """max(row), or 0 if it is not finite (every score -inf), as ``_scaled._shift``."""
    top = row[0]
    for x in row[1:]:
        top = max(top, x)
    return top if np.isfinite(top) else 0.0


@exact
def log_z_forward(em, lengths, trans_exp, trans_max, start, end_exp, end_max,
                  alphas, em_exp, log_z):  # pragma: no cover - compiled
    """log_z (B,), and per step the forward vectors alphas (B, T, L), each summing to 1,
    and exp(emission - its max) em_exp (B, T, L) for the backward pass."""
    B, T, L = em.shape
    acc = np.empty(L)
    for b in range(B):
        n = lengths[b]
        if n == 0:
            log_z[b] = 0.0
            continue
        for j in range(L):
            acc[j] = start[j] + em[b, 0, j]
        shift = _finite_max(acc)
        total = 0.0
        for j in range(L):
            alphas[b, 0, j] = np.exp(acc[j] - shift)
            total += alphas[b, 0, j]
        z = np.log(total) + shift
        total = max(total, TINY)
        for j in range(L):
            alphas[b, 0, j] /= total
        for t in range(1, n):
            shift = _finite_max(em[b, t])
            for j in range(L):
                em_exp[b, t, j] = np.exp(em[b, t, j] - shift)
                acc[j] = 0.0
            for i in range(L):
                a = alphas[b, t - 1, i]
                for j in range(L):
                    acc[j] += a * trans_exp[i, j]
            total = 0.0
            for j in range(L):
                acc[j] *= em_exp[b, t, j]
                total += acc[j]
            z += np.log(total) + shift + trans_max
            total = max(total, TINY)
            for j in range(L):
                alphas[b, t, j] = acc[j] / total
        total = 0.0
        for j in range(L):
            total += alphas[b, n - 1, j] * end_exp[j]
        log_z[b] = z + np.log(total) + end_max


@exact
def log_z_backward(lengths, alphas, em_exp, trans_exp, end_exp, grad,
                   d_em, pair, d_start, d_end):  # pragma: no cover - compiled
    """The gradient of sum(grad · log Z): d_em (B, T, L) = grad · posteriors; pair (L, L)
    = the summed pairwise posteriors divided by trans_exp's entries (the caller multiplies
    them back); d_start, d_end (L,) the first and last steps' posteriors. Outputs are
    zero-filled by the caller."""
    B, T, L = alphas.shape
    beta = np.empty(L)
    nxt = np.empty(L)
    right = np.empty(L)
    end_total = max(end_exp.sum(), TINY)
    for b in range(B):
        n = lengths[b]
        if n == 0:
            continue
        g = grad[b]
        for j in range(L):
            beta[j] = end_exp[j] / end_total
        for t in range(n - 1, -1, -1):
            # beta is the backward vector at t: posteriors at t, then the pair (t-1, t)
            total = 0.0
            for j in range(L):
                total += alphas[b, t, j] * beta[j]
            total = max(total, TINY)
            for j in range(L):
                d_em[b, t, j] = g * alphas[b, t, j] * beta[j] / total
            if t == n - 1:
                for j in range(L):
                    d_end[j] += d_em[b, t, j]
            if t == 0:
                for j in range(L):
                    d_start[j] += d_em[b, 0, j]
                break
            for j in range(L):
                right[j] = em_exp[b, t, j] * beta[j]
            norm = 0.0
            for i in range(L):
                s = 0.0
                for j in range(L):
                    s += trans_exp[i, j] * right[j]
                nxt[i] = s
                norm += alphas[b, t - 1, i] * s
            weight = g / max(norm, TINY)
            for i in range(L):
                left = alphas[b, t - 1, i] * weight
                for j in range(L):
                    pair[i, j] += left * right[j]
            total = 0.0
            for i in range(L):
                total += nxt[i]
            total = max(total, TINY)
            for i in range(L):
                beta[i] = nxt[i] / total
