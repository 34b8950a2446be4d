r"""The LIF family: NIR's ``LIF``, ``CubaLIF``, ``IF``, ``LI``, ``CubaLI``, ``I`` and ``Threshold``.

Continuous time (the NIR definitions; time in s, ``v`` in the graph's unit):

.. math::

    \tau_{syn} \dot I = -I + w_{in} S \qquad
    \tau_{mem} \dot v = (v_{leak} - v) + r I \qquad
    v > v_{threshold} \Rightarrow v \leftarrow v_{reset}

(``LIF``: no synaptic filter; ``IF``/``I``: no leak, :math:`\dot v = r I`;
``LI``/``CubaLI``/``I``: no spikes; ``Threshold``: a stateless comparison.)
:meth:`LIFFamily.equations` writes them as equation text
(:class:`~neuroport.models.equations.Equations`), from which the Brian2
lowering is generated.

One step (:meth:`neuroport.models.base.SpikingModel.step`, states shifted so
that the reset value is 0)::

    u = wrap24(K(u, du, 1) + (a_in << 6) + u_bias)      float: u * (1 - du) + a_in + u_bias
    v = sat24(K(v, dv, 0) + u + bias)                    float: v * (1 - dv) + u + bias
    s = v > vth;  v[s] = 0

(fixed point, Lava's LIF, i.e. no ``u_bias``: ``a_in``, ``a_in << 6`` and both sums
also wrap at 32 bits, as Lava's int32 arrays do: ``wrap24(wrap32(...))`` and
``sat24(wrap32(...))``, see :mod:`neuroport.models.arithmetic`.)

In fixed point this is Lava's ``PyLifModelBitAcc`` bit for bit (the Lava
backends run Lava's own ``LIF`` for these populations, an independent
implementation the equivalence tests compare against). A population with
``refractory > 0``, ``reset="subtract"`` or a bias on ``u`` runs the
:class:`~neuroport.models.adaptive_lif.AdaptiveLIF` step with adaptation off
(:meth:`LIFFamily.runner`), which reduces to the lines above plus the
refractory hold and the subtractive reset.

Parameters (per neuron, shape ``(size,)``)

=============== ========================== ============================== ============================
discrete float  meaning                    fixed (Loihi 2)                bits
=============== ========================== ============================== ============================
``du``          u decay per step, [0, 1]   ``du``, hardware adds 1        12 unsigned
``dv``          v decay per step, [0, 1]   ``dv``                         12 unsigned
``v_threshold`` threshold - v_reset        ``vth``, compared ``vth << 6`` 17 unsigned mantissa
``bias``        added to v per step        ``bias_mant << bias_exp``      13 signed, exp 0..7
``u_bias``      added to u per step        ``u_bias_mant << u_bias_exp``  13 signed, exp 0..7
``refractory``  steps held after a spike   ``refractory``                 12 unsigned
=============== ========================== ============================== ============================
"""

from __future__ import annotations

import math

import numpy as np

from neuroport import fixed_format as ff
from neuroport.discretize import decay_fraction, node_param
from neuroport.errors import ParameterError
from neuroport.models import base
from neuroport.models import equations as eq
from neuroport.models.arithmetic import k_decay, k_wrap
from neuroport.models.jit import njit
from neuroport.quantize_report import PopulationBound

SPIKING = ("lif", "cubalif", "if", "threshold")


# -- continuous-time equations, one function per NIR node type (LIFFamily.equations) -------
def _leaky(pn) -> eq.Equations:
    spiking = pn.model == "lif"
    params = {"tau_s": eq.tau(pn, "tau"), "v_leak": eq.param(pn, "v_leak"), "r": eq.param(pn, "r")}
    eqs = eq.LEAKY_V.format(inp="Jin") + eq.PARAMS_LEAKY + eq.INPUT_VARS
    return eq.finish(pn, eqs, params, spiking)


def _cuba(pn) -> eq.Equations:
    spiking = pn.model == "cubalif"
    params = {"tau_s": eq.tau(pn, "tau_mem"), "v_leak": eq.param(pn, "v_leak"), "r": eq.param(pn, "r")}
    eqs = eq.LEAKY_V.format(inp="I") + eq.PARAMS_LEAKY + "I : 1 (linked)\n"
    spec = eq.finish(pn, eqs, params, spiking)
    spec.syn = eq.syn_current(pn)
    spec.input_group = "syn"
    spec.probes = {"v": ("main", "v"), "I": ("syn", "I")}
    return spec


def _integrate(pn) -> eq.Equations:
    spiking = pn.model == "if"
    eqs = "dv/dt = r * Jin / second : 1\nr : 1 (constant)\n" + eq.INPUT_VARS
    spec = eq.finish(pn, eqs, {"r": eq.param(pn, "r")}, spiking)
    spec.method = "euler"  # the right-hand side is constant over a step: Euler is exact here
    return spec


def _threshold(pn) -> eq.Equations:
    spec = eq.Equations("v : 1\n" + eq.INPUT_VARS + eq.SPIKE_VARS, {}, "v > v_threshold",
                        np.zeros(pn.size), np.zeros(pn.size), eq.param(pn, "threshold"))
    spec.no_ode = "v = Jin"
    return spec


_EQUATIONS = {"lif": _leaky, "li": _leaky, "cubalif": _cuba, "cubali": _cuba, "if": _integrate,
              "integrator": _integrate, "threshold": _threshold}


class LIFFamily(base.SpikingModel):
    """The LIF family's discretisation and its step (current-based drive)."""

    keys = ("lif", "cubalif", "if", "li", "cubali", "integrator", "threshold")
    state_names = ("u", "v")
    #: Fixed point: this model is Lava's ``LIF`` (``PyLifModelBitAcc``), whose int32 arrays wrap
    #: ``a_in``, ``a_in << 6`` and the ``u`` and ``v`` sums at 32 bits (``models/arithmetic.py``);
    #: subclasses run on neuroport's int64 processes and set it False.
    int32_datapath = True

    # -- continuous -> discrete ------------------------------------------------------------
    def discretize(self, pn, opts):
        """``(params, input_gain, u_gain, v_offset, emits, extra)`` of one population (see
        ``docs/semantics.md``): ``input_gain`` multiplies the rows of incoming weights, ``u_gain``
        the constant bias of incoming paths."""
        name, node, n, model = pn.name, pn.node, pn.size, pn.model
        dt, scheme = opts["dt"], opts["scheme"]
        zeros, ones = np.zeros(n), np.ones(n)
        p = {"du": ones.copy(), "dv": ones.copy(), "bias": zeros.copy(), "u_bias": zeros.copy(),
             "v_threshold": np.full(n, np.inf), "refractory": np.zeros(n, dtype=np.int64)}
        v_offset = zeros.copy()
        emits = "spikes" if model in SPIKING else "state"
        if model in ("lif", "li", "cubalif", "cubali"):
            tau_field = "tau" if model in ("lif", "li") else "tau_mem"
            p["dv"] = decay_fraction(name, tau_field, node_param(name, node, tau_field, n), dt, scheme)
            r = node_param(name, node, "r", n)
            v_leak = node_param(name, node, "v_leak", n)
            gain = p["dv"] * r
            if model in ("cubalif", "cubali"):
                p["du"] = decay_fraction(name, "tau_syn", node_param(name, node, "tau_syn", n), dt, scheme)
                gain = gain * p["du"] * node_param(name, node, "w_in", n, default=1.0)
            if model in ("lif", "cubalif"):
                v_offset = node_param(name, node, "v_reset", n, default=0.0)
                p["v_threshold"] = node_param(name, node, "v_threshold", n) - v_offset
            p["bias"] = p["dv"] * (v_leak - v_offset)
        elif model in ("if", "integrator"):
            p["dv"] = zeros.copy()
            gain = dt * node_param(name, node, "r", n)
            if model == "if":
                v_offset = node_param(name, node, "v_reset", n, default=0.0)
                p["v_threshold"] = node_param(name, node, "v_threshold", n) - v_offset
        else:  # threshold
            gain = ones.copy()
            p["v_threshold"] = node_param(name, node, "threshold", n)
        extra = {}
        convention = opts.get("input", "euler")
        if convention != "euler" and model != "threshold":
            gain, extra = self.jump_gain(pn, p, gain, convention, dt)
        return p, gain, gain, v_offset, emits, extra

    @staticmethod
    def jump_gain(pn, p, gain, convention, dt):
        """Input gain and extra of input convention ``jump`` / ``jump_delayed`` (:mod:`neuroport.semantics`):
        the weighted input enters the state without the Euler factor ``dt / tau``."""
        name, node, n, model = pn.name, pn.node, pn.size, pn.model
        r = node_param(name, node, "r", n)
        if model in ("cubalif", "cubali"):
            gain = p["dv"] * r * node_param(name, node, "w_in", n, default=1.0)
        else:
            if convention == "jump_delayed":
                raise ParameterError(f"{name}: input convention 'jump_delayed' applies to CubaLIF / CubaLI only "
                                     f"(a synaptic current that jumps after the membrane update), not {model}")
            gain = r.copy()
        return gain, {"input": convention, **({"input_delay": 1} if convention == "jump_delayed" else {})}

    def equations(self, pn, reset="zero") -> eq.Equations:
        """The continuous-time :class:`~neuroport.models.equations.Equations` of one population
        (by ``pn.model``; ``reset`` is applied by :meth:`~neuroport.models.equations.Equations.reset_code`)."""
        return _EQUATIONS[pn.model](pn)

    def emits_spikes(self, key: str) -> bool:
        return key in SPIKING or key not in LIFFamily.keys  # subclasses' own models spike

    # -- which step runs a population ------------------------------------------------------
    @staticmethod
    def general(pop) -> bool:
        """Needs the AdaptiveLIF step: refractory or subtractive reset (spiking), or a bias on ``u``."""
        p = pop.params
        spiking = pop.emits == "spikes"
        u_bias = p.get("u_bias_mant", p.get("u_bias", 0))
        return (spiking and (bool(np.any(np.asarray(p.get("refractory", 0)) > 0))
                             or pop.subtract or bool(pop.conventions))) or bool(np.any(np.asarray(u_bias) != 0)) \
            or bool(pop.extra.get("bias_onset"))

    def runner(self, pop):
        from neuroport.models.adaptive_lif import ADAPTIVE_LIF

        return ADAPTIVE_LIF if self.general(pop) else self

    # -- the step ----------------------------------------------------------------------------
    def constants(self, pop, ar) -> dict:
        c = self.spiking_constants(pop, ar, resets=True, count_high=pop.emits != "spikes")
        p = pop.params
        u_bias = ar.bias(p, "u_bias") if (ar.fixed or "u_bias" in p) else 0.0
        n = pop.size
        c.update({"u_keep": ar.keep(p, "du", "du_offset"), "u_inh_keep": np.zeros(n), "w_keep": np.zeros(n),
                  "u_bias": u_bias, "has_u_bias": np.full(n, bool(np.any(u_bias))),
                  "two_port": np.full(n, False), "has_w": np.full(n, False)})
        return c

    def init_state(self, pop, ar) -> dict:
        return {"u": np.zeros(pop.size, dtype=ar.dtype), "v": np.zeros(pop.size, dtype=ar.dtype)}

    def drive(self, ar, b, a_exc, a_inh):
        """``u`` (and, for AdaptiveLIF, ``u_inh`` and ``w``); returns ``u - u_inh - w``."""
        s, c = b.state, b.c
        u = s["u"]
        x = ar.decay(u, c["u_keep"])
        if ar.fixed and self.int32_datapath:  # Lava's LIF: int32 arrays (models/arithmetic.py)
            x, exact, b.wide = ar.lif_current(x, a_exc)
            ar.wrap(x, u, b._counters, "u_wraps", exact=exact)
            return u
        x += ar.synaptic(a_exc)
        if b.any["has_u_bias"]:
            x += c["u_bias"]
        ar.wrap(x, u, b._counters, "u_wraps")
        drive = u
        if b.any["two_port"]:
            y = ar.decay(s["u_inh"], c["u_inh_keep"])
            y += ar.synaptic(a_inh)
            ar.wrap(y, s["u_inh"], b._counters, "u_wraps")
            drive = u - s["u_inh"]
        if b.any["has_w"]:
            w = s["w"]
            w[...] = ar.decay(w, c["w_keep"])
            drive = drive - w
        return drive

    # -- fixed point (called by neuroport.quantize) -----------------------------------------
    #: incoming weights scale like ``v`` (CondLIF's are conductances in their own format)
    conductance_weights = False
    #: write ``u_bias_mant/exp`` even when every u bias is 0
    always_u_bias = False

    def state_limits(self, pop) -> tuple:
        """Float parameters stored as signed 24-bit ``v``-unit integers (each bounds the scale)."""
        return ()

    def choose_scale(self, pop, projs, hw, *, headroom_bits: int, nwb: int, min_threshold_bits: int) -> float:
        """Integer ``v`` units per float unit (see :mod:`neuroport.quantize`'s scaling rule)."""
        limits = ff.bias_limits(pop, hw)
        s_thr = ff.threshold_scale(pop, hw)
        pos, neg = ff.max_inputs(projs)
        du = max(float(np.min(np.r_[pop.param("du", 1.0), pop.param("du_inh", 1.0)])), 1.0 / hw.decay_unity)
        u_bound = max(pos, neg) / du     # |u| when every input spikes every step
        if s_thr is not None:
            limits.append(s_thr / 2 ** headroom_bits)
            # soft limits: keep u from wrapping and v from saturating below (worst case), unless
            # that leaves vth fewer than min_threshold_bits
            dv = float(pop.param("dv", 1.0).min())
            v_neg = (neg / du + max(0.0, -float(pop.param("bias", 0.0).min()))) / dv if dv > 0 else math.inf
            worst = max(u_bound, v_neg)
            if worst > 0:
                limits.append(max((hw.state_max - 1) / worst, s_thr / 2 ** (hw.vth_bits - min_threshold_bits)))
        lim = ff.state_limit(hw, *self.state_limits(pop)) if self.state_limits(pop) else None
        if lim is not None:
            limits.append(lim)
        limits += self.weight_limits(projs, hw, nwb)
        bias = ff.absmax(pop.param("bias", 0.0))
        if s_thr is None:
            # non-spiking: room for the steady state of the worst-case input (or
            # 1024 steps of it for integrators, whose state is unbounded)
            a = max(pos, neg) + bias
            dv = float(pop.param("dv", 1.0).min())
            bound = a / du / dv if dv > 0 else a / du * 1024
            if bound > 0:
                limits.append((hw.state_max - 1) / bound / 2 ** headroom_bits)
        if not limits:
            return float((hw.state_max - 1) / 2 ** headroom_bits)
        return float(min(limits))

    @staticmethod
    def weight_limits(projs, hw, nwb: int) -> list:
        """The largest scales at which the incoming weights fit their 8-bit mantissas at the top exponent."""
        limits = []
        top = 2.0 ** hw.weight_exp_range[1] * 2 ** hw.act_shift
        for proj in projs:
            data = np.asarray(proj.weights.data, dtype=float)
            _, lo_eff, hi_eff, _ = ff.weight_format(data, hw, nwb)
            if data.size and data.max() > 0:
                limits.append(hi_eff * top / float(data.max()))
            if data.size and data.min() < 0:
                limits.append(lo_eff * top / float(data.min()))
        return limits

    def quantize_membrane(self, pop, s, hw, report) -> dict:
        """``dv``, ``vth``, the biases and ``refractory`` in their integer formats."""
        out = {"dv": ff.decay(pop, "dv", hw, report, offset=hw.dv_offset), "vth": ff.vth(pop, s, hw, report)}
        out["bias_mant"], out["bias_exp"] = ff.mant_exp(pop, "bias", pop.param("bias"), s, hw, report)
        ub = pop.param("u_bias", 0.0).astype(float)
        if self.always_u_bias or np.any(ub != 0):
            out["u_bias_mant"], out["u_bias_exp"] = ff.mant_exp(pop, "u_bias", ub, s, hw, report)
        out["refractory"] = ff.refractory(pop, hw, report)
        return out

    def quantize_params(self, pop, s, hw, report, projs):
        """``(integer params, per-row scale of the incoming weights)`` at scale ``s``."""
        out = {"du": ff.decay(pop, "du", hw, report, offset=hw.du_offset)}
        out.update(self.quantize_membrane(pop, s, hw, report))
        return out, np.full(pop.size, float(s))

    def bounds(self, pop, projs, s, hw, fixed_params) -> PopulationBound:
        """Worst-case ``|u|`` and ``|v|`` (every input spiking every step) against 24 bits."""
        pos, neg = ff.max_inputs(projs)
        du = max(float(np.min(np.r_[pop.param("du", 1.0), pop.param("du_inh", 1.0)])), 1.0 / hw.decay_unity)
        dv = float(pop.param("dv", 1.0).min())
        u_bound = max(pos, neg) / du
        bias = pop.param("bias", 0.0)
        vth = pop.param("v_threshold", np.inf)
        neg_v = (neg / du + max(0.0, -float(bias.min()))) / dv if dv > 0 else math.inf
        if pop.emits == "spikes" and np.all(np.isfinite(vth)):
            pos_v = float(vth.max()) + pos / du + max(0.0, float(bias.max()))
        else:
            pos_v = (pos / du + max(0.0, float(bias.max()))) / dv if dv > 0 else math.inf
        return PopulationBound(pop.name, s, u_bound * s, max(pos_v, neg_v) * s, hw.state_bits,
                               single_step=max(pos, neg) * s)

    # -- kernel (compiled step, models/jit.py): the drive above on one neuron, then base.k_spike -------
    kernel_floats = ("u_keep",)
    kernel_ints = ("u_bias",)
    kernel_flags = ("has_u_bias",)
    kernel_saturated = ()

    @property
    def kernel(self):
        """The compiled step (subclasses with their own drive define their own, or have none)."""
        return _lif_kernel if type(self) is LIFFamily else None


# constant / flag rows of the kernel (after base.CF_SHARED, base.CI_SHARED, base.FLAGS_SHARED)
_CF_U = len(base.CF_SHARED)
_CI_U_BIAS = len(base.CI_SHARED)
_F_U_BIAS = len(base.FLAGS_SHARED)


@njit(inline=True)
def k_current(u, u_keep, u_bias, fl, a, m, act, fixed):
    """``(wrap24(K(u, du) + (a << 6) + u_bias), 1 if it wrapped else 0)`` of one neuron (row 0 of ``S``)."""
    x = k_decay(u, u_keep, fixed) + a * act
    if fl[_F_U_BIAS]:
        x = x + u_bias
    return k_wrap(x, m, fixed)


@njit
def _lif_kernel(S, Cf, Ci, fl, inc, a_exc, a_inh, fired, cnt, lim, m, act, fixed):
    """:meth:`LIFFamily.drive` and the shared step (rows of ``S``: u, v)."""
    for i in range(S.shape[1]):
        u, hit = k_current(S[0, i], Cf[_CF_U, i], Ci[_CI_U_BIAS, i], fl, a_exc[i], m, act, fixed)
        S[0, i] = u
        if hit:
            cnt[base.C_U_WRAPS, i] += 1
        v, _, _, spk, f, sat = base.k_spike(S[1, i], 0, 0, u, base.k_consts(Cf, Ci, i), fl, lim, fixed)
        S[1, i] = v
        fired[i] = spk
        if sat:
            cnt[base.C_V_SAT, i] += 1
        if f:
            base.k_increments(S, Ci, inc, i, cnt, lim, fixed)


LIF_FAMILY = base.register(LIFFamily())
