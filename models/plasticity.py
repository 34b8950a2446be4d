"""Plasticity rules: pair-based STDP and the Diehl & Cook (2015) rule, float step.

A plastic projection keeps its weights ``W`` (shape ``(post, pre)``) in graph
units; the Program's weights are ``gain[:, None] * W`` (``gain`` from
:func:`neuroport.compile`). Per step ``t``, after every population updated:

1. traces decay, then add this step's spikes (impulse 1, all-to-all):
   ``x_pre = x_pre * (1 - pre_decay) + s_pre`` with ``s_pre`` the spikes the
   pre population *emitted* at ``t`` (as Lava's learning engine, which sees a
   spike in the step it is sent, one step before the post neuron receives
   it), and ``y_post = y_post * (1 - post_decay) + s_post``;
2. both weight changes are computed from the weights at the start of the
   learning phase and added together:

   * pair rule: rows of spiking post neurons get ``+a_plus * x_pre``
     (soft bounds: times ``w_max - W``); columns of spiking pre neurons get
     ``-a_minus * y_post`` (soft bounds: times ``W - w_min``);
   * Diehl & Cook: rows of spiking post neurons get
     ``eta * (x_pre - x_tar) * max(w_max - W, 0) ** mu``; columns of spiking
     pre neurons get ``-a_minus * y_post``;
3. weights are clipped to ``[w_min, w_max]``; absent synapses stay absent.

A spike is delivered (at ``t + d``) with the weights it left with, i.e.
before step ``t``'s learning, as Lava's ``LearningDense`` computes its
output before its learning phase. With ``timing="hardware"`` (d = 1) a pre
spike that makes the post neuron fire counts as "post one step after pre"
(potentiation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neuroport.errors import UnsupportedNodeError


@dataclass
class PlasticState:
    """Run-time state of one plastic projection (float).

    Attributes
    ----------
    weights : numpy.ndarray, shape (post, pre)
        Graph-unit weights (0 where no synapse).
    mask : numpy.ndarray of bool, shape (post, pre)
    gain : numpy.ndarray, shape (post,)
    x_pre : numpy.ndarray, shape (pre,)
    y_post : numpy.ndarray, shape (post,)
    params : dict
        The discretised rule parameters (see ``neuroport.compile``).
    delay : int
        Steps between a pre spike and its arrival.
    """

    weights: np.ndarray
    mask: np.ndarray
    gain: np.ndarray
    x_pre: np.ndarray
    y_post: np.ndarray
    params: dict
    delay: int


def prepare(proj) -> PlasticState:
    """Float learning state of a plastic projection of a discrete Program."""
    params = dict(proj.extra["plasticity"])
    delays = np.unique(proj.delays)
    if delays.size > 1:
        raise UnsupportedNodeError(f"{proj.name}: a plastic projection needs one delay for all synapses, "
                                   f"got {delays.tolist()}")
    gain = np.asarray(params["gain"], dtype=np.float64)
    weights = np.array(params["weight"], dtype=np.float64)
    mask = np.array(params["connectivity"], dtype=bool)
    return PlasticState(weights, mask, gain, np.zeros(proj.weights.shape[1]), np.zeros(proj.weights.shape[0]),
                        params, int(delays[0]) if delays.size else 1)


def power(c: np.ndarray, mu: float) -> np.ndarray:
    """``c ** mu`` elementwise (``c`` any shape, ``mu`` a scalar), with the same bits on every CPU: numpy's
    exact fast paths for ``mu`` in 1, 2, 0.5, 0, -1, and otherwise the C library's scalar ``pow`` per
    element, which is what the compiled kernel (:func:`_power`) calls. numpy's ``array ** mu`` runs SVML's
    vectorised pow on AVX-512 machines, whose last bit differs from the C library's (found on an AMD EPYC
    with AVX-512: Diehl & Cook with ``mu = 0.7`` learned different weights on the two engines).

    >>> import numpy as np
    >>> float(power(np.array([4.0]), 0.5)[0]), float(power(np.array([2.0]), 3.0)[0])
    (2.0, 8.0)
    """
    if mu in (1.0, 2.0, 0.5, 0.0, -1.0):
        return c ** mu
    return np.vectorize(math.pow, otypes=[np.float64])(c, float(mu))


def contribution(state: PlasticState, active: np.ndarray, values) -> np.ndarray:
    """Input ``a_in`` (Program units, shape ``(post,)``) from pre channels ``active`` with ``values``."""
    cols = state.weights[:, active]
    summed = cols.sum(axis=1) if values is None else cols @ values
    return state.gain * summed


def learn(state: PlasticState, s_pre: np.ndarray, s_post: np.ndarray) -> None:
    """One learning step (see the module docstring); ``s_pre``/``s_post`` are boolean."""
    p = state.params
    state.x_pre *= 1.0 - p["pre_decay"]
    state.x_pre[s_pre] += 1.0
    state.y_post *= 1.0 - p["post_decay"]
    state.y_post[s_post] += 1.0
    rows, cols = np.flatnonzero(s_post), np.flatnonzero(s_pre)
    if rows.size == 0 and cols.size == 0:
        return
    W = state.weights
    w_rows = W[rows].copy()
    w_cols = W[:, cols].copy()
    if p["rule"] == "pair":
        d_rows = p["a_plus"] * np.broadcast_to(state.x_pre, w_rows.shape)
        d_cols = -p["a_minus"] * np.broadcast_to(state.y_post[:, None], w_cols.shape)
        if p["bounds"] == "soft":
            d_rows = d_rows * (p["w_max"] - w_rows)
            d_cols = d_cols * (w_cols - p["w_min"])
    else:  # diehl_cook
        d_rows = p["eta"] * (state.x_pre - p["x_tar"]) * power(np.maximum(p["w_max"] - w_rows, 0.0), p["mu"])
        d_cols = -p["a_minus"] * np.broadcast_to(state.y_post[:, None], w_cols.shape)
    W[rows] += d_rows * state.mask[rows]
    if cols.size and p["a_minus"] != 0:
        W[:, cols] += d_cols * state.mask[:, cols]
    lo, hi = p["w_min"], p["w_max"]
    W[rows] = np.where(state.mask[rows], np.clip(W[rows], lo, hi), 0.0)
    W[:, cols] = np.where(state.mask[:, cols], np.clip(W[:, cols], lo, hi), 0.0)


# -- kernel: the compiled engine's learning step and plastic delivery (same arithmetic, same order) --------
from neuroport.models.jit import njit  # noqa: E402

RULE_PAIR, RULE_DIEHL_COOK = 0, 1


def kernel_params(p: dict) -> tuple:
    """``p`` (``PlasticState.params``) as :func:`learn_kernel`'s scalars: ``(rule, soft, pre_keep, post_keep,
    a_plus, a_minus, eta, x_tar, mu, w_min, w_max)``, the decays as ``1 - decay`` computed as :func:`learn` does."""
    dc = p["rule"] != "pair"
    return (RULE_DIEHL_COOK if dc else RULE_PAIR, (not dc) and p["bounds"] == "soft", 1.0 - p["pre_decay"],
            1.0 - p["post_decay"], float(p.get("a_plus", 0.0)), float(p["a_minus"]), float(p.get("eta", 0.0)),
            float(p.get("x_tar", 0.0)), float(p.get("mu", 1.0)), float(p["w_min"]), float(p["w_max"]))


@njit
def _power(c, mu):
    """``c ** mu`` as :func:`power` computes it (numpy's fast paths for 1, 2, 0.5, 0, -1, else the C
    library's ``pow``)."""
    if mu == 1.0:
        return c
    if mu == 2.0:
        return c * c
    if mu == 0.5:
        return np.sqrt(c)
    if mu == 0.0:
        return 1.0
    if mu == -1.0:
        return 1.0 / c
    return c ** mu


@njit
def learn_kernel(W, mask, x_pre, y_post, s_pre, s_post, rule, soft, pre_keep, post_keep, a_plus, a_minus, eta,
                 x_tar, mu, w_min, w_max, rows, cols, w_cols):
    """:func:`learn` in one pass over the touched rows and columns: the same floating-point operations
    on each weight in the same order (each weight's row change and column change both from its value at
    the start of the step, added in that order, then clipped), so the weights are identical to the
    last bit. ``W``, ``mask``: shape ``(post, pre)``; ``x_pre`` ``(pre,)``, ``y_post`` ``(post,)``;
    ``s_pre``/``s_post`` bool spikes; ``rows``/``cols`` (int64, ``(post,)``/``(pre,)``) and ``w_cols``
    (``(post * pre,)``) work space."""
    n_post, n_pre = W.shape
    n_c = 0
    for j in range(n_pre):
        x_pre[j] = x_pre[j] * pre_keep
        if s_pre[j]:
            x_pre[j] += 1.0
            cols[n_c] = j
            n_c += 1
    n_r = 0
    for i in range(n_post):
        y_post[i] = y_post[i] * post_keep
        if s_post[i]:
            y_post[i] += 1.0
            rows[n_r] = i
            n_r += 1
    if n_r == 0 and n_c == 0:
        return
    for q in range(n_c):  # the columns' values at the start (the soft pair rule's factor)
        for i in range(n_post):
            w_cols[q * n_post + i] = W[i, cols[q]]
    for q in range(n_r):
        i = rows[q]
        for j in range(n_pre):
            w = W[i, j]
            if rule == RULE_PAIR:
                d = a_plus * x_pre[j]
                if soft:
                    d = d * (w_max - w)
            else:
                c = w_max - w
                c = c if c > 0.0 else 0.0
                d = eta * (x_pre[j] - x_tar) * _power(c, mu)
            W[i, j] = w + d * mask[i, j]
    if n_c and a_minus != 0:
        for q in range(n_c):
            j = cols[q]
            for i in range(n_post):
                d = -a_minus * y_post[i]
                if rule == RULE_PAIR and soft:
                    d = d * (w_cols[q * n_post + i] - w_min)
                W[i, j] = W[i, j] + d * mask[i, j]
    for q in range(n_r):
        i = rows[q]
        for j in range(n_pre):
            w = W[i, j]
            W[i, j] = (w_min if w < w_min else (w_max if w > w_max else w)) if mask[i, j] else 0.0
    for q in range(n_c):
        j = cols[q]
        for i in range(n_post):
            w = W[i, j]
            W[i, j] = (w_min if w < w_min else (w_max if w > w_max else w)) if mask[i, j] else 0.0


@njit
def _pairwise_block(a, lo, n):
    """numpy's pairwise summation of ``a[lo:lo + n]`` for ``n <= 128`` (8 partial sums; below 8, in order)."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit
def pairwise_sum(a, lo, n):
    """``a[lo:lo + n].sum()`` in numpy's order: its pairwise summation (:func:`_pairwise_block` up to 128
    terms; above, the sum of the two halves, the first ``n // 2`` rounded down to a multiple of 8),
    evaluated here with an explicit stack (no recursion)."""
    if n <= 128:
        return _pairwise_block(a, lo, n)
    # post-order walk of numpy's split tree: frames (lo, n, left sum, phase)
    s_lo = np.empty(64, dtype=np.int64)
    s_n = np.empty(64, dtype=np.int64)
    s_left = np.empty(64)
    s_phase = np.zeros(64, dtype=np.int64)
    top = 0
    s_lo[0], s_n[0], s_phase[0] = lo, n, 0
    result = 0.0
    while top >= 0:
        m = s_n[top]
        if m <= 128:
            result = _pairwise_block(a, s_lo[top], m)
            top -= 1
            # hand the value to the parent
            while top >= 0:
                if s_phase[top] == 1:  # the left half is done: keep it, do the right half
                    s_left[top] = result
                    s_phase[top] = 2
                    m2 = s_n[top] // 2
                    m2 -= m2 % 8
                    s_lo[top + 1], s_n[top + 1], s_phase[top + 1] = s_lo[top] + m2, s_n[top] - m2, 0
                    top += 1
                    break
                result = s_left[top] + result  # both halves done
                top -= 1
            continue
        if s_phase[top] == 0:
            s_phase[top] = 1
            m2 = m // 2
            m2 -= m2 % 8
            s_lo[top + 1], s_n[top + 1], s_phase[top + 1] = s_lo[top], m2, 0
            top += 1
    return result


@njit
def contribution_kernel(W, gain, active, out, buf):
    """:func:`contribution` for spikes (``values`` None): ``out[i] = gain[i] * W[i, active].sum()`` summed
    in the order numpy sums ``W[:, active].sum(axis=1)``, so identical to the last bit: numpy's fancy
    index makes that copy Fortran-ordered, and its reduction adds the columns one after the other from
    0.0; with one post neuron the copy is also C-ordered and it sums the row pairwise
    (:func:`pairwise_sum`). ``tests/test_compiled.py`` checks both against numpy. ``out`` (``(post,)``)
    is overwritten; ``buf`` (``(pre,)``) is work space."""
    k = active.shape[0]
    n_post = W.shape[0]
    if n_post == 1:
        for q in range(k):
            buf[q] = W[0, active[q]]
        out[0] = gain[0] * (0.0 + pairwise_sum(buf, 0, k))
        return
    for i in range(n_post):
        acc = 0.0
        for q in range(k):
            acc += W[i, active[q]]
        out[i] = gain[i] * acc
