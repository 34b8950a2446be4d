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
        d_rows = p["eta"] * (state.x_pre - p["x_tar"]) * np.maximum(p["w_max"] - w_rows, 0.0) ** p["mu"]
        d_cols = -p["a_minus"] * np.broadcast_to(state.y_post[:, None], w_cols.shape)
    W[rows] += d_rows * state.mask[rows]
    if cols.size and p["a_minus"] != 0:
        W[:, cols] += d_cols * state.mask[:, cols]
    lo, hi = p["w_min"], p["w_max"]
    W[rows] = np.where(state.mask[rows], np.clip(W[rows], lo, hi), 0.0)
    W[:, cols] = np.where(state.mask[:, cols], np.clip(W[:, cols], lo, hi), 0.0)
