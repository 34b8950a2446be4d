"""Lava's learning engine (``LearningDense`` with a ``Loihi2FLearningRule``, fixed point), emulated
bit for bit for the ``numpy-fixed`` engine: 7-bit traces with stochastic rounding from Lava's own
seeded generators, the rule's products with their shifts, 9-bit weights. The rules themselves are
mapped by :mod:`neuroport.models.fixed_plasticity` (see its docstring for the algorithm).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neuroport.errors import ParameterError, UnsupportedNodeError
from neuroport.fixed_format import truncate_weights
from neuroport.hardware import sign_mode_name

W_ACC_U = 15        #: unsigned accumulator width (Lava W_ACCUMULATOR_U)
W_S_MANT = 4        #: coefficient mantissa width (Lava W_S_MANT)
W_FRAC = 7          #: fractional bits of the weight accumulator (16 - 9)
WIDTHS = {"x0": 1, "y0": 1, "x1": 7, "x2": 7, "y1": 7, "y2": 7, "y3": 7, "w": 9}
TAU_RANGE = (0, 255)        #: LearningDense x1_tau/y1_tau Var precision=8
IMPULSE_RANGE = (0, 127)    #: 7-bit traces
ACC_LO, ACC_HI = -(2 ** W_ACC_U) - 1, 2 ** W_ACC_U - 1   # Lava's (asymmetric) accumulator clip
WEIGHT_SEED = 2             #: Lava's ConnVarRandom() default seed


class _Stream:
    """Draws of one Lava generator, ahead in blocks (identical sequence to one draw per call)."""

    def __init__(self, seed: int, kind: str, block: int = 4096):
        self.rng = np.random.default_rng(seed=seed)
        self.kind, self.block = kind, block
        self.buf = self._draw()
        self.base = 0  # index of buf[0]

    def _draw(self):
        if self.kind == "float":
            return self.rng.random(self.block)
        return self.rng.integers(0, 128, size=self.block, dtype=int)

    def at(self, i: int):
        while i >= self.base + self.buf.size:
            self.base += self.buf.size
            self.buf = self._draw()
        return self.buf[i - self.base]


class LearningRandom:
    """Lava's ``TraceRandom`` x/y pairs (seeds ``rng_seed + 0..3``) and ``ConnVarRandom`` (seed 2)."""

    def __init__(self, rng_seed: int):
        s = int(rng_seed)
        self.x_decay, self.x_imp = _Stream(s, "float"), _Stream(s + 1, "int")
        self.y_decay, self.y_imp = _Stream(s + 2, "float"), _Stream(s + 3, "int")
        self.weight = _Stream(WEIGHT_SEED, "float")

    def step(self, k: int):
        """``(r_x, q_x, r_y, q_y, r_w)`` for the learning phase of step ``k`` (1-based)."""
        i = 2 * k
        return (self.x_decay.at(i), self.x_imp.at(i), self.y_decay.at(i), self.y_imp.at(i), self.weight.at(k))


# ---------------------------------------------------------------- engine
@dataclass
class FixedPlasticState:
    """Run-time state of one fixed plastic projection.

    ``weights`` (int64, ``(post, pre)``) are the current mantissas;
    ``x1`` (pre,), ``y1`` (post,) the 7-bit traces; ``k`` the learning steps done.
    """

    weights: np.ndarray
    mask: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    spec: dict
    weight_exp: int
    mode: str
    random: LearningRandom
    k: int = 0
    full: bool = True  # next learning step passes every synapse (first step: Lava clips all)

    @property
    def weight_scale(self) -> float:
        return float(self.spec["weight_scale"])


def _decompose(impulse):
    i = math.floor(float(impulse))
    return i, int(np.rint((float(impulse) - i) * 256))


def prepare(proj, hw) -> FixedPlasticState:
    """State of a fixed plastic projection (initial weights truncated as Lava's LearningDense does)."""
    spec = proj.extra["plasticity"]
    if "products" not in spec:
        raise ParameterError(f"projection {proj.name!r}: plasticity without integer parameters "
                             "(quantize the float Program with neuroport.quantize)")
    if int(spec.get("t_epoch", 1)) != 1:
        raise UnsupportedNodeError(f"projection {proj.name!r}: t_epoch = {spec['t_epoch']}; numpy-fixed "
                                   "emulates t_epoch = 1 only")
    if proj.nnz and np.any(np.asarray(proj.delays) != 1):
        raise UnsupportedNodeError(f"projection {proj.name!r}: a plastic projection needs delay 1 (Lava's "
                                   f"LearningDense has no synaptic delays), got {np.unique(proj.delays).tolist()}")
    for p in spec["products"]:
        if p["dependency"] not in ("x0", "y0") or any(v not in ("x0", "y0", "x1", "y1", "w")
                                                      for v, _ in p["factors"]):
            raise UnsupportedNodeError(f"projection {proj.name!r}: product {p} uses a dependency or factor "
                                       "numpy-fixed does not emulate (x0, y0, x1, y1, w only)")
    mode = sign_mode_name(proj.extra.get("sign_mode", "MIXED"), f"projection {proj.name!r}")
    nwb = int(proj.extra.get("num_weight_bits", hw.weight_bits))
    w = np.asarray(spec["weight"]).astype(np.int64).astype(np.int32).astype(np.int64)
    mask = np.asarray(spec["connectivity"], dtype=bool)
    # LearningDense: truncate_weights only (no clip) before the first step
    w = np.where(mask, truncate_weights(w, mode, nwb, hw), 0)
    n_post, n_pre = w.shape
    return FixedPlasticState(np.ascontiguousarray(w, dtype=np.int64), mask, np.zeros(n_pre, np.int64),
                             np.zeros(n_post, np.int64), spec, int(proj.extra.get("weight_exp", 0)), mode,
                             LearningRandom(spec.get("rng_seed", 0)))


def deliver(st: FixedPlasticState, idx: np.ndarray) -> np.ndarray:
    """``a_in`` contribution (int64, (post,)) of the pre neurons ``idx`` that spiked."""
    acc = st.weights[:, idx].sum(axis=1) if idx.size != 1 else st.weights[:, int(idx[0])].copy()
    e = st.weight_exp
    return acc << e if e > 0 else acc >> -e


def _trace(values, tau, r, spiked, q, impulse):
    if tau == 0:
        out = np.zeros_like(values)
    else:
        dec = np.exp(-1 / np.array([[tau]], dtype=np.int64))[0, 0] * values
        out = np.floor(dec).astype(np.int64) + (r < dec % 1)
    if spiked.any():
        i_int, i_frac = _decompose(impulse)
        out[spiked] = np.clip(out[spiked] + i_int + int(q < i_frac), 0, 127)
    return out


def learn(st: FixedPlasticState, s_pre: np.ndarray, s_post: np.ndarray) -> None:
    """One step of Lava's learning phase (``t_epoch = 1``); ``s_pre``: pre spikes *sent* this step."""
    spec = st.spec
    st.k += 1
    r_x, q_x, r_y, q_y, r_w = st.random.step(st.k)
    st.x1 = _trace(st.x1, int(spec["x1_tau"]), r_x, s_pre, q_x, spec["x1_impulse"])
    st.y1 = _trace(st.y1, int(spec["y1_tau"]), r_y, s_post, q_y, spec["y1_impulse"])
    rows, cols = np.flatnonzero(s_post), np.flatnonzero(s_pre)
    if st.full:
        st.full = False
        _update(st, np.arange(st.weights.shape[0]), slice(None), s_pre, s_post, r_w)
        return
    if rows.size:
        _update(st, rows, slice(None), s_pre, s_post, r_w)
    if cols.size:
        others = np.flatnonzero(~s_post) if rows.size else slice(None)
        _update(st, others, cols, s_pre, s_post, r_w)


def _update(st, rows, cols, s_pre, s_post, r_w) -> None:
    """Learning rule on the block ``weights[rows][:, cols]``."""
    W = st.weights
    block = W[rows][:, cols] if not isinstance(rows, slice) else W[:, cols]
    if block.size == 0:
        return
    y0 = s_post[rows].astype(np.int64)[:, None]
    x0 = s_pre[cols].astype(np.int64)[None, :]
    x1 = st.x1[cols][None, :]
    y1 = st.y1[rows][:, None]
    vals = {"x0": x0, "y0": y0, "x1": x1, "y1": y1, "w": block}
    acc = block << W_FRAC
    for p in st.spec["products"]:
        cur = vals[p["dependency"]] * int(p["mantissa"])
        for var, const in p["factors"]:
            width = WIDTHS[var]
            cur = cur * np.clip(vals[var] + int(const), -(2 ** width), 2 ** width - 1)
        cur = np.broadcast_to(cur, block.shape)
        cur = np.clip((cur >> int(p["shift"])) << (int(p["exponent"]) + 7), ACC_LO, ACC_HI)
        acc = np.clip(acc + cur, ACC_LO, ACC_HI)
    if st.mode == "EXCITATORY":
        acc = np.maximum(acc, 0)
    elif st.mode == "INHIBITORY":
        acc = np.minimum(acc, 0)
    new = (acc >> W_FRAC) + (r_w < (acc & (2 ** W_FRAC - 1)) / 2.0 ** W_FRAC)
    if st.mode == "EXCITATORY":
        new = np.clip(new, 0, 255)
    elif st.mode == "INHIBITORY":
        new = np.clip(new, -255, 0)
    else:
        new = np.clip(new, -256, 255)
    mask = st.mask[rows][:, cols] if not isinstance(rows, slice) else st.mask[:, cols]
    new = np.where(mask, new, 0)
    if isinstance(rows, slice):
        W[:, cols] = new
    elif isinstance(cols, slice):
        W[rows] = new
    else:
        W[np.ix_(rows, cols)] = new


def weights_graph_units(st: FixedPlasticState) -> np.ndarray:
    """Current weights in graph units: ``mantissa / weight_scale`` (dense ``(post, pre)``)."""
    return st.weights / st.weight_scale


# ---------------------------------------------------------------- weights and scale
