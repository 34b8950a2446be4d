r"""``neuroport.QIF``: the quadratic integrate-and-fire neuron with a current-based synapse.

The normal form of a neuron at a saddle-node bifurcation (type-I excitability,
Ermentrout & Kopell 1986; Latham et al. 2000). Continuous time (s; ``v`` in
the graph's unit, ``a`` in 1 / that unit):

.. math::

    \tau_{syn} \dot I = -I + w_{in} S \qquad
    \tau_{mem} \dot v = a (v - v_{rest}) (v - v_{crit}) + r I \qquad
    v > v_{threshold} \Rightarrow v \leftarrow v_{reset}

Without input ``v_rest`` is stable and ``v_crit`` (> ``v_rest``) the firing
threshold of the dynamics; a constant drive fires the neuron once
``r I > a (v_crit - v_rest)^2 / 4`` (the rheobase). ``v_threshold`` is the
numerical spike peak, well above ``v_crit``.

One step (forward Euler only: the quadratic has no ``exact`` update;
states shifted by ``v_reset``; then :meth:`neuroport.models.base.SpikingModel.step`)::

    u = wrap24(K(u, du, 1) + (a_in << 6))                  float: u * (1 - du) + a_in
    p = (v - e_rest) * (v - e_crit)                         (previous v; exact in int64, |p| < 2**50)
    v = sat24(v + u + ((p * q_mant + 2**(q_shift-1)) >> q_shift))     float: v + u + q * p
    s = v > vth;  v[s] = 0

with ``q = dt / tau_mem * a`` per step, and in fixed point ``q_mant / 2**q_shift ~= q / s``
(``s`` the population's scale: integer ``v`` units per unit).

Parameters (per neuron)

=============== ================================== ================================ ====================
discrete float  meaning                            fixed                            bits
=============== ================================== ================================ ====================
``du``          u decay per step                   ``du`` (+1 by hardware)          12 unsigned
``v_threshold`` spike peak - v_reset               ``vth`` (<< 6)                   17 unsigned
``e_rest``      v_rest - v_reset                   ``e_rest``                       24 signed
``e_crit``      v_crit - v_reset                   ``e_crit``                       24 signed
``q``           dt / tau_mem * a, per step         ``q_mant / 2**q_shift`` of q/s   12-bit mantissa, shift
``v_init``      initial v - v_reset                ``v_init``                       24 signed
=============== ================================== ================================ ====================

The Lava backends do not run it (no Lava process); ``numpy``, ``numpy-fixed``
and ``brian2`` do.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from neuroport import fixed_format as ff
from neuroport.discretize import decay_fraction, node_field
from neuroport.errors import ParameterError
from neuroport.models import base
from neuroport.models import equations as eq
from neuroport.models.lif import LIFFamily
from neuroport.models.specs import Spec
from neuroport.nodes import ExtensionNode, extension, per_neuron
from neuroport.quantize_report import ParamEntry, PopulationBound
from neuroport.structure import register_population

#: Largest magnitude of the fixed-point coefficient's mantissa (12 bits signed).
Q_MANT_MAX = 2047


# ----------------------------------------------------------------- the NIR extension node
@extension
@dataclass(eq=False)
class QIFNode(ExtensionNode):
    """The graph node (written as ``neuroport.QIFNode`` in ``.nir`` files).

    Attributes (arrays of shape ``(n,)``): ``tau_mem``, ``tau_syn`` (s); ``a`` (1 / voltage unit);
    ``v_rest``, ``v_crit``, ``v_threshold``, ``v_reset``, ``v_init`` (voltage unit; ``v_init``
    NaN: start at ``v_rest``); ``r``, ``w_in`` (gains).
    """

    tau_mem: np.ndarray
    tau_syn: np.ndarray
    a: np.ndarray
    v_rest: np.ndarray
    v_crit: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray
    r: np.ndarray = 1.0
    w_in: np.ndarray = 1.0
    v_init: np.ndarray = np.nan

    def __post_init__(self):
        per_neuron(self, [f.name for f in fields(self) if f.init and f.name != "metadata"])


register_population(QIFNode, "qif")


# ----------------------------------------------------------------- the builder spec
@dataclass
class QIF(Spec):
    r"""Quadratic integrate-and-fire neuron for :meth:`neuroport.Network.population`.

    Parameters
    ----------
    tau_mem, tau_syn : float or array, s
    a : float or array, 1 / voltage unit
        Curvature of the quadratic term (> 0).
    v_rest, v_crit : float or array, voltage unit
        Stable and unstable fixed points without input (``v_rest < v_crit``).
    v_threshold, v_reset : float or array, voltage unit
        Spike peak and reset value.
    r, w_in : float or array
        Input gains, as for :class:`neuroport.CubaLIF`.
    v_init : float or array, voltage unit
        Initial membrane potential (default: ``v_rest``).

    Examples
    --------
    >>> import numpy as np, neuroport
    >>> from neuroport.models.qif import QIF
    >>> net = neuroport.Network()
    >>> x = net.input(1)
    >>> q = net.population(1, QIF(), name="q")
    >>> _ = net.connect(x, q, weight=4.0)
    >>> result = neuroport.run(net, backend="numpy", steps=200, inputs=np.ones((200, 1)), dt=1e-3)
    >>> result.spikes["q"].count > 0
    True
    """

    tau_mem: float = 0.01
    tau_syn: float = 0.005
    a: float = 0.04
    v_rest: float = -65.0
    v_crit: float = -50.0
    v_threshold: float = 0.0
    v_reset: float = -70.0
    r: float = 1.0
    w_in: float = 1.0
    v_init: float = np.nan

    def to_nir(self, n: int):
        return QIFNode(**self.arrays(n))


# ----------------------------------------------------------------- the model
class QIFModel(LIFFamily):
    """Discretisation, step and fixed-point mapping of ``neuroport.QIFNode`` (model key ``qif``)."""

    int32_datapath = False  # its own int64 step (no Lava process runs it), not Lava's LIF

    keys = ("qif",)
    title = "quadratic integrate-and-fire (neuroport.QIF)"

    def runner(self, pop):
        return self

    def discretize(self, pn, opts):
        if opts["scheme"] != "euler":
            raise ParameterError(f"{pn.name}: the QIF neuron has no closed-form update; compile with "
                                 f"scheme='euler' (got {opts['scheme']!r})")
        dt, n = opts["dt"], pn.size
        f = {k: node_field(pn, k) for k in ("a", "v_rest", "v_crit", "v_threshold", "v_reset", "r", "w_in")}
        if np.any(~np.isfinite(np.concatenate(list(f.values())))):
            raise ParameterError(f"{pn.name}: QIF parameters must be finite")
        if np.any(f["a"] <= 0) or np.any(f["v_crit"] <= f["v_rest"]):
            raise ParameterError(f"{pn.name}: QIF needs a > 0 and v_crit > v_rest")
        if np.any(f["v_threshold"] <= f["v_crit"]) or np.any(f["v_reset"] >= f["v_threshold"]):
            raise ParameterError(f"{pn.name}: QIF needs v_threshold above v_crit and v_reset below v_threshold")
        dv = decay_fraction(pn.name, "tau_mem", node_field(pn, "tau_mem"), dt, "euler")
        du = decay_fraction(pn.name, "tau_syn", node_field(pn, "tau_syn"), dt, "euler")
        off = f["v_reset"]
        v0 = node_field(pn, "v_init")
        params = {"du": du, "dv": np.zeros(n), "bias": np.zeros(n), "u_bias": np.zeros(n),
                  "refractory": np.zeros(n, dtype=np.int64), "v_threshold": f["v_threshold"] - off,
                  "e_rest": f["v_rest"] - off, "e_crit": f["v_crit"] - off, "q": dv * f["a"],
                  "v_init": np.where(np.isnan(v0), f["v_rest"], v0) - off}
        gain = dv * f["r"] * f["w_in"] * du
        return params, gain, gain, off, "spikes", {"bias_target": "u_bias"}

    def equations(self, pn, reset="zero") -> eq.Equations:
        """The continuous-time equations: the CubaLIF synaptic current, then the quadratic membrane."""
        params = {"tau_s": eq.tau(pn, "tau_mem"), **{k: eq.param(pn, k) for k in ("a", "v_rest", "v_crit", "r")}}
        eqs = ("dv/dt = (a * (v - v_rest) * (v - v_crit) + r * I) / tau_s : 1\n"
               "tau_s : second (constant)\na : 1 (constant)\nv_rest : 1 (constant)\nv_crit : 1 (constant)\n"
               "r : 1 (constant)\nI : 1 (linked)\n")
        spec = eq.finish(pn, eqs, params, True)
        v0 = node_field(pn, "v_init")
        spec.v_init = np.where(np.isnan(v0), node_field(pn, "v_rest"), v0)
        spec.syn = eq.syn_current(pn)
        spec.input_group = "syn"
        spec.probes = {"v": ("main", "v"), "I": ("syn", "I")}
        spec.method = "euler"  # the discrete model is forward Euler (no exact update exists)
        return spec

    def constants(self, pop, ar) -> dict:
        c = super().constants(pop, ar)
        p = pop.params
        c.update({"e_rest": ar.value(p, "e_rest"), "e_crit": ar.value(p, "e_crit")})
        if ar.fixed:
            shift = np.asarray(p["q_shift"], dtype=np.int64)
            c.update({"q": np.asarray(p["q_mant"], dtype=np.int64), "q_shift": shift,
                      "q_round": np.where(shift > 0, np.left_shift(1, np.maximum(shift - 1, 0)), 0)})
        else:
            c.update({"q": np.asarray(p["q"], dtype=np.float64), "q_shift": 0, "q_round": 0})
        return c

    def init_state(self, pop, ar) -> dict:
        return {"u": np.zeros(pop.size, dtype=ar.dtype), "v": np.array(pop.param("v_init", 0), dtype=ar.dtype)}

    def drive(self, ar, b, a_exc, a_inh):
        """``u`` as the LIF family, plus the quadratic term of the previous step's ``v``."""
        u = super().drive(ar, b, a_exc, a_inh)
        c, v = b.c, b.state["v"]
        p = (v - c["e_rest"]) * (v - c["e_crit"])
        return u + ar.product_drive(p, c["q"], c["q_shift"], c["q_round"])

    # -- fixed point ------------------------------------------------------------------------
    #: bits kept above the spike peak: ``v`` overshoots the peak by at most the step's quadratic term
    PEAK_HEADROOM_BITS = 1

    def choose_scale(self, pop, projs, hw, *, headroom_bits: int, nwb: int, min_threshold_bits: int) -> float:
        """As the LIF family, but the peak ``v_threshold`` is the largest state, not a threshold that
        inputs overshoot: only :data:`PEAK_HEADROOM_BITS` above it (the default ``headroom_bits``
        would leave the dynamics between ``v_rest`` and ``v_crit`` a few bits)."""
        limits = [ff.threshold_scale(pop, hw) / 2 ** min(headroom_bits, self.PEAK_HEADROOM_BITS)]
        pos, neg = ff.max_inputs(projs)
        du = max(float(pop.param("du", 1.0).min()), 1.0 / hw.decay_unity)
        if max(pos, neg) > 0:  # u must not wrap when every input spikes every step
            limits.append((hw.state_max - 1) / (max(pos, neg) / du))
        lim = ff.state_limit(hw, *self.state_limits(pop))
        if lim is not None:
            limits.append(lim / 2 ** self.PEAK_HEADROOM_BITS)
        return float(min(limits + self.weight_limits(projs, hw, nwb)))

    def state_limits(self, pop) -> tuple:
        return tuple(pop.param(k) for k in ("e_rest", "e_crit", "v_init", "v_threshold"))

    def quantize_params(self, pop, s, hw, report, projs):
        out = {"du": ff.decay(pop, "du", hw, report, offset=hw.du_offset)}
        out.update(self.quantize_membrane(pop, s, hw, report))
        for fld in ("e_rest", "e_crit", "v_init"):
            out[fld] = ff.signed24(pop, fld, pop.param(fld), s, hw, report, loss_on_underflow=False,
                                   note="v units (minus v_reset)")
        out["q_mant"], out["q_shift"] = self._coefficient(pop, s, report)
        return out, np.full(pop.size, float(s))

    @staticmethod
    def _coefficient(pop, s, report):
        """``q / s ~= q_mant / 2**q_shift`` with ``|q_mant| <= 2047`` (the most bits, shift <= 62)."""
        x = pop.param("q").astype(float) / s
        mag = np.maximum(np.abs(x), 1e-300)
        shift = np.clip(np.floor(np.log2(Q_MANT_MAX / mag)), 0, 62).astype(np.int64)
        raw = np.rint(x * 2.0 ** shift).astype(np.int64)
        mant = np.clip(raw, -Q_MANT_MAX, Q_MANT_MAX)
        report.add(ParamEntry.build(pop.name, "q", pop.param("q"), mant / 2.0 ** shift * s, mant, float(s),
                                    (-Q_MANT_MAX, Q_MANT_MAX), clipped=raw != mant,
                                    underflow=(x != 0) & (mant == 0),
                                    note=f"q / s = q_mant / 2**q_shift, shift in [{shift.min()}, {shift.max()}]"))
        return mant.astype(np.int64), shift

    def bounds(self, pop, projs, s, hw, fixed_params) -> PopulationBound:
        """``|u|`` as the LIF family; ``v`` stays between the most negative input's pull and the peak."""
        pos, neg = ff.max_inputs(projs)
        du = max(float(pop.param("du", 1.0).min()), 1.0 / hw.decay_unity)
        v_max = max(ff.absmax(pop.param(k)) for k in ("e_rest", "e_crit", "v_init", "v_threshold")) + pos / du
        return PopulationBound(pop.name, s, max(pos, neg) / du * s, v_max * s, hw.state_bits,
                               single_step=max(pos, neg) * s)


QIF_MODEL = base.register(QIFModel())
