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

``u`` can wrap when ``u_worst > 2**23 - 1``; the 32-bit datapath of Lava
(``HardwareSpec.word_bits``, :mod:`neuroport.models.arithmetic`) can wrap when
``dense_worst`` or ``a << 6`` reach ``2**31``. Conductance-based populations
(CondLIF) have no ``u``; only their 32-bit check applies.
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
    """

    def __init__(self, name, u_worst, shifted_worst, dense_worst, dense_name):
        self.name, self.u_worst = name, float(u_worst)
        self.shifted_worst, self.dense_worst, self.dense_name = float(shifted_worst), float(dense_worst), dense_name

    def u_can_wrap(self, hw) -> bool:
        return self.u_worst > hw.state_max - 1

    def word_can_wrap(self, hw) -> bool:
        half = 2.0 ** (hw.word_bits - 1)
        return self.dense_worst >= half or self.shifted_worst >= half

    def message(self, hw) -> str:
        """What can overflow, with the numbers (empty if nothing)."""
        parts = []
        if self.u_can_wrap(hw):
            parts.append(f"u can reach {self.u_worst:.6g} > 2**{hw.state_bits - 1} - 1 = {hw.state_max - 1} "
                         f"(the {hw.state_bits}-bit u wraps)")
        if self.word_can_wrap(hw):
            parts.append(f"one step's input can reach {max(self.dense_worst, self.shifted_worst):.6g} >= 2**"
                         f"{hw.word_bits - 1} (projection {self.dense_name!r}; Lava's {hw.word_bits}-bit "
                         f"datapath wraps)")
        if not parts:
            return ""
        return (f"population {self.name!r}: with every input spiking every step, using the integer weights that "
                f"will run, " + " and ".join(parts))

    def to_dict(self) -> dict:
        return {"u_worst_int": self.u_worst, "shifted_worst_int": self.shifted_worst,
                "dense_worst_int": self.dense_worst, "dense_worst_projection": self.dense_name}


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
    return IntegerBound(pop.name, u_worst, shifted, dense_worst, dense_name)


def refit_scale(scale: float, bound: IntegerBound, hw) -> float:
    """A scale at which ``bound.u_worst`` fits ``2**23 - 1``, with margin for the re-rounded weights."""
    if bound.u_worst <= 0 or not math.isfinite(bound.u_worst):
        return scale
    return scale * (hw.state_max - 1) / bound.u_worst * (1.0 - 2.0 ** -9)
