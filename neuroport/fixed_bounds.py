"""Worst-case states from the integers that will run (checked by :func:`neuroport.quantize` after rounding).

The scale a population gets (:meth:`neuroport.models.lif.LIFFamily.choose_scale`)
is chosen from float weights; rounding each weight to its 8-bit mantissa can
push the summed input over the 24-bit range (a mantissa of 163.84 becomes
164). So once every weight has its integer, the worst case is computed again
from what Lava's ``Dense`` will hold (:func:`neuroport.fixed_format.dense_weights`:
clipped, truncated, shifted by ``weight_exp``, floored), every input spiking
every step (plastic projections: every synapse at its bound ``w_lo`` / ``w_hi``;
depressing ones: the full payload ``2**bits``)::

    a_pos, a_neg  = largest positive / negative summed Dense output per neuron and port (a_in units)
    u_worst       = max(a_pos, a_neg) << 6 * 4096 / (du + 1)      (+ |u_bias| per step; integer units)
    dense_worst   = largest |output| of one projection in one step

``u`` can wrap when ``u_worst > 2**23 - 1``. Lava's 32-bit words
(``HardwareSpec.word_bits``, :mod:`neuroport.models.arithmetic`) can wrap:

* every Dense / DelayDense / Sparse sends its per-step output through an int32
  channel: it wraps when one projection's output reaches ``2**31``
  (``dense_worst``; :func:`projection_can_wrap`). For every model; numpy-fixed
  emulates it (per projection for AdaptiveLIF / CondLIF, whose ports add in
  int64; for Lava's LIF the int32 port sum makes it one wrap of the total);
* Lava's LIF (:attr:`~neuroport.models.lif.LIFFamily.int32_datapath`) also
  computes ``a << 6`` and its ``u`` / ``v`` sums in int32: it wraps when
  ``a << 6`` reaches ``2**31`` (``shifted_worst``). neuroport's own
  processes (ALIF, CondLIF) run in int64: there ``a << 6`` only wraps ``u``
  (ALIF, the ``u`` check) or saturates a conductance (CondLIF).

Conductance-based populations (CondLIF) have no ``u``; only the Dense check applies.
"""

from __future__ import annotations

import math

import numpy as np

from neuroport.fixed_format import dense_weights


class IntegerBound:
    """The integer worst case of one population (every input spiking every step).

    Attributes
    ----------
    name : str
    u_worst : float
        Largest ``|u|`` (integer units; 0 for populations without ``u``).
    shifted_worst : float
        Largest ``|a_in << act_shift|`` in one step.
    dense_worst : float
        Largest ``|output|`` of one incoming projection in one step.
    dense_name : str
        The projection with that output.
    int32_datapath : bool
        The population runs on Lava's LIF (``a << 6`` and the sums in int32), not on one of
        neuroport's int64 processes.
    """

    def __init__(self, name, u_worst, shifted_worst, dense_worst, dense_name, int32_datapath=True):
        self.name, self.u_worst = name, float(u_worst)
        self.shifted_worst, self.dense_worst, self.dense_name = float(shifted_worst), float(dense_worst), dense_name
        self.int32_datapath = bool(int32_datapath)

    def u_can_wrap(self, hw) -> bool:
        return self.u_worst > hw.state_max - 1

    def dense_can_wrap(self, hw) -> bool:
        """One projection's per-step output can leave int32 (Lava's Dense ``a_out`` channel wraps it)."""
        return self.dense_worst >= 2.0 ** (hw.word_bits - 1)

    def shift_can_wrap(self, hw) -> bool:
        """``a << 6`` can leave int32 in Lava's LIF (only populations with its int32 datapath)."""
        return self.int32_datapath and self.shifted_worst >= 2.0 ** (hw.word_bits - 1)

    def word_can_wrap(self, hw) -> bool:
        return self.dense_can_wrap(hw) or self.shift_can_wrap(hw)

    def message(self, hw) -> str:
        """What can overflow, with the numbers (empty if nothing)."""
        parts = []
        bits = hw.word_bits
        if self.u_can_wrap(hw):
            parts.append(f"u can reach {self.u_worst:.6g} > 2**{hw.state_bits - 1} - 1 = {hw.state_max - 1} "
                         f"(the {hw.state_bits}-bit u wraps)")
        if self.dense_can_wrap(hw):
            parts.append(f"projection {self.dense_name!r} can send {self.dense_worst:.6g} >= 2**{bits - 1} in one "
                         f"step (Lava's Dense sends its output through an int{bits} channel: its {bits}-bit datapath wraps it; "
                         f"numpy-fixed wraps it the same way)")
        if self.shift_can_wrap(hw):
            parts.append(f"a_in << {hw.act_shift} can reach {self.shifted_worst:.6g} >= 2**{bits - 1} "
                         f"(Lava's LIF computes it in int{bits}: its {bits}-bit datapath wraps)")
        if not parts:
            return ""
        return (f"population {self.name!r}: with every input spiking every step, using the integer weights that "
                f"will run, " + " and ".join(parts))

    def to_dict(self) -> dict:
        return {"u_worst_int": self.u_worst, "shifted_worst_int": self.shifted_worst,
                "dense_worst_int": self.dense_worst, "dense_worst_projection": self.dense_name}


def projection_can_wrap(proj, hw) -> bool:
    """Whether fixed projection ``proj``'s output in one step (:func:`projection_extremes`, every
    input spiking) can leave the signed ``hw.word_bits`` range that Lava's Dense ``a_out`` holds."""
    if proj.weights.nnz == 0:
        return False
    half = 2.0 ** (hw.word_bits - 1)
    pos, neg = projection_extremes(proj, hw)
    return bool(np.max(pos, initial=0.0) >= half or np.min(neg, initial=0.0) < -half)


def projection_extremes(proj, hw) -> tuple:
    """``(pos, neg)`` per post neuron: the largest positive and negative output of ``proj`` (a fixed
    projection) in one step, in ``a_in`` units (``neg`` <= 0)."""
    w = proj.weights
    n_post = w.shape[0]
    rows = np.repeat(np.arange(n_post), np.diff(w.indptr))
    spec = proj.extra.get("plasticity")
    if spec is not None and "w_lo" in spec:
        count = np.bincount(rows, minlength=n_post).astype(float)
        pos_sum, neg_sum = count * max(float(spec["w_hi"]), 0.0), count * min(float(spec["w_lo"]), 0.0)
    else:
        data = dense_weights(w.data, proj.extra.get("sign_mode"), proj.extra.get("num_weight_bits", hw.weight_bits),
                             hw, f"projection {proj.name!r}").astype(float)
        pos_sum = np.bincount(rows, weights=np.maximum(data, 0), minlength=n_post)
        neg_sum = np.bincount(rows, weights=np.minimum(data, 0), minlength=n_post)
    dep = proj.extra.get("depression")
    if dep is not None and "bits" in dep:
        pos_sum, neg_sum = pos_sum * 2.0 ** int(dep["bits"]), neg_sum * 2.0 ** int(dep["bits"])
    exp = int(proj.extra.get("weight_exp", 0))
    pos, neg = pos_sum * 2.0 ** exp, neg_sum * 2.0 ** exp
    if exp < 0:  # Lava floors each (delay, post) sum
        n_delays = np.unique(proj.delays).size if proj.delays.size else 1
        pos, neg = np.floor(pos), np.floor(neg) - (n_delays - 1) * (neg < 0)
    return pos, neg


def integer_bound(pop, projs, hw) -> IntegerBound:
    """The :class:`IntegerBound` of fixed population ``pop`` fed by fixed projections ``projs``."""
    from neuroport.models import neurons

    int32_datapath = bool(getattr(neurons.runner(pop), "int32_datapath", False))
    n = pop.size
    per_port = {}
    dense_worst, dense_name = 0.0, ""
    for proj in projs:
        if proj.weights.nnz == 0:
            continue
        pos, neg = projection_extremes(proj, hw)
        worst = float(max(np.max(pos, initial=0.0), -np.min(neg, initial=0.0)))
        if worst > dense_worst:
            dense_worst, dense_name = worst, proj.name
        acc = per_port.setdefault(proj.port, [np.zeros(n), np.zeros(n)])
        acc[0] += pos
        acc[1] += neg
    p = pop.params
    unity = hw.decay_unity
    u_worst = shifted = 0.0
    for port, (pos, neg) in per_port.items():
        a = np.maximum(pos, -neg) * 2.0 ** hw.act_shift
        shifted = max(shifted, float(np.max(a, initial=0.0)))
        if "du" not in p:  # no current state (conductance-based): only the 32-bit check
            continue
        key = "du_inh" if port == "inh" and "du_inh" in p else "du"
        d = np.broadcast_to(np.asarray(p[key], dtype=float), (n,)) + hw.du_offset
        if port != "inh" and "u_bias_mant" in p:
            a = a + np.abs(np.left_shift(np.asarray(p["u_bias_mant"], dtype=np.int64),
                                         np.asarray(p.get("u_bias_exp", 0), dtype=np.int64)))
        u_worst = max(u_worst, float(np.max(a * unity / np.maximum(d, 1.0), initial=0.0)))
    return IntegerBound(pop.name, u_worst, shifted, dense_worst, dense_name, int32_datapath)


def refit_scale(scale: float, bound: IntegerBound, hw) -> float:
    """A scale at which ``bound.u_worst`` fits ``2**23 - 1``, with margin for the re-rounded weights."""
    if bound.u_worst <= 0 or not math.isfinite(bound.u_worst):
        return scale
    return scale * (hw.state_max - 1) / bound.u_worst * (1.0 - 2.0 ** -9)
